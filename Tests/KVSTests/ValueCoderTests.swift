import Foundation
import KVS
import KVSTestSupport
import Testing

// MARK: - Helpers

private func encodeBytes<V: Codable>(_ value: V) throws(KVSError) -> [UInt8] {
    var buffer: [UInt8] = []
    try ValueCoder<V>().encode(value, into: &buffer)
    return buffer
}

private func decodeResult<V: Codable>(_ bytes: [UInt8], as type: V.Type = V.self) -> Result<V, KVSError> {
    bytes.withUnsafeBytes { raw in
        Result { () throws(KVSError) -> V in try ValueCoder<V>().decode(from: raw) }
    }
}

private func roundTrip<V: Codable & Equatable>(
    _ value: V,
    sourceLocation: SourceLocation = #_sourceLocation
) throws {
    let bytes = try encodeBytes(value)
    let decoded = try decodeResult(bytes, as: V.self).get()
    #expect(decoded == value, sourceLocation: sourceLocation)
}

/// The error decoding `bytes` as `V` throws, recording an issue if it does not throw.
@discardableResult
private func expectCorrupted<V: Codable>(
    _ bytes: [UInt8],
    as type: V.Type,
    sourceLocation: SourceLocation = #_sourceLocation
) -> KVSError? {
    switch decodeResult(bytes, as: V.self) {
    case .success(let value):
        Issue.record("decoded \(value) from bytes that should be rejected", sourceLocation: sourceLocation)
        return nil
    case .failure(let error):
        #expect(error.code == .snapshotCorrupted, "\(error)", sourceLocation: sourceLocation)
        return error
    }
}

/// The bytes of `value` as an unsigned LEB128 varint.
private func leb128(_ value: UInt64) -> [UInt8] {
    var rest = value
    var bytes: [UInt8] = []
    while rest >= 0x80 {
        bytes.append(UInt8(truncatingIfNeeded: rest) | 0x80)
        rest >>= 7
    }
    bytes.append(UInt8(rest))
    return bytes
}

// MARK: - Test types

private struct User: Codable, Equatable {
    var id: Int
    var name: String
    var email: String
    var active: Bool
    var score: Double
}

private struct Address: Codable, Equatable {
    var street: String
    var zip: UInt32
    var tags: [String]
}

private struct Account: Codable, Equatable {
    var owner: User
    var addresses: [Address]
    var nickname: String?
    var parent: Int?
    var limits: [String: Int]
    var byDay: [Int: Double]
    var created: Date
    var homepage: URL
    var avatar: Data
    var raw: [UInt8]
    var id: UUID
    var flags: Set<Int>
    var matrix: [[Int16]]
    var maybe: [Int?]
}

private struct AllIntegers: Codable, Equatable {
    var i: Int, i8: Int8, i16: Int16, i32: Int32, i64: Int64
    var u: UInt, u8: UInt8, u16: UInt16, u32: UInt32, u64: UInt64

    static let minimum = AllIntegers(
        i: .min,
        i8: .min,
        i16: .min,
        i32: .min,
        i64: .min,
        u: .min,
        u8: .min,
        u16: .min,
        u32: .min,
        u64: .min
    )
    static let maximum = AllIntegers(
        i: .max,
        i8: .max,
        i16: .max,
        i32: .max,
        i64: .max,
        u: .max,
        u8: .max,
        u16: .max,
        u32: .max,
        u64: .max
    )
    static let mixed = AllIntegers(
        i: -1,
        i8: -64,
        i16: 300,
        i32: -70_000,
        i64: 1 << 40,
        u: 127,
        u8: 128,
        u16: 16_384,
        u32: 1 << 31,
        u64: 1 << 63
    )
}

private struct Floats: Codable, Equatable {
    var f: Float
    var d: Double
}

private indirect enum Shape: Codable, Equatable {
    case circle(radius: Double)
    case rectangle(width: Int, height: Int)
    case labeled(String, Shape?)
    case empty
}

private indirect enum Tree: Codable, Equatable {
    case leaf(Int)
    case node(Tree, Tree)
}

private enum Color: String, Codable, CodingKeyRepresentable {
    case red, green, blue
}

private class Animal: Codable {
    var name: String
    var legs: Int

    init(name: String, legs: Int) {
        self.name = name
        self.legs = legs
    }
}

/// A subclass that stores its superclass's fields under `super` with `superEncoder()`.
private final class Dog: Animal {
    var breed: String

    init(name: String, breed: String) {
        self.breed = breed
        super.init(name: name, legs: 4)
    }

    private enum CodingKeys: String, CodingKey { case breed }

    required init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        breed = try container.decode(String.self, forKey: .breed)
        try super.init(from: container.superDecoder())
    }

    override func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(breed, forKey: .breed)
        try super.encode(to: container.superEncoder())
    }
}

/// A subclass that shares one keyed container with its superclass.
private final class Cat: Animal {
    var indoor: Bool

    init(name: String, indoor: Bool) {
        self.indoor = indoor
        super.init(name: name, legs: 4)
    }

    private enum CodingKeys: String, CodingKey { case indoor }

    required init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        indoor = try container.decode(Bool.self, forKey: .indoor)
        try super.init(from: decoder)
    }

    override func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(indoor, forKey: .indoor)
        try super.encode(to: encoder)
    }
}

/// Uses nested keyed and unkeyed containers, and a nested super encoder, by hand.
private struct Manual: Codable, Equatable {
    var x: Int
    var y: Int
    var points: [[Double]]
    var note: String

    private enum CodingKeys: String, CodingKey { case position, points, extra }
    private enum PositionKeys: String, CodingKey { case x, y }

    init(x: Int, y: Int, points: [[Double]], note: String) {
        self.x = x
        self.y = y
        self.points = points
        self.note = note
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        var position = container.nestedContainer(keyedBy: PositionKeys.self, forKey: .position)
        try position.encode(x, forKey: .x)
        try position.encode(y, forKey: .y)
        var points = container.nestedUnkeyedContainer(forKey: .points)
        for point in self.points {
            var pair = points.nestedUnkeyedContainer()
            for coordinate in point { try pair.encode(coordinate) }
        }
        var extra = container.superEncoder(forKey: .extra).singleValueContainer()
        try extra.encode(note)
    }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let position = try container.nestedContainer(keyedBy: PositionKeys.self, forKey: .position)
        x = try position.decode(Int.self, forKey: .x)
        y = try position.decode(Int.self, forKey: .y)
        var points = try container.nestedUnkeyedContainer(forKey: .points)
        var all: [[Double]] = []
        while !points.isAtEnd {
            var pair = try points.nestedUnkeyedContainer()
            var point: [Double] = []
            while !pair.isAtEnd { point.append(try pair.decode(Double.self)) }
            all.append(point)
        }
        self.points = all
        note = try container.superDecoder(forKey: .extra).singleValueContainer().decode(String.self)
    }
}

/// Version 1 of a record, and version 2, which reads its keys in another order and has a new
/// optional field.
private struct RecordV1: Codable, Equatable {
    var a: Int
    var b: String
    var c: [Int]
    var d: Bool
}

private struct RecordV2: Codable, Equatable {
    var d: Bool
    var c: [Int]
    var added: String?
    var b: String
    var a: Int
}

/// Exercises `contains`, `allKeys`, `decodeNil` and `decodeIfPresent` directly.
private struct Probe: Codable {
    var keys: [String]
    var hasA: Bool
    var hasMissing: Bool
    var bIsNil: Bool
    var cIsNil: Bool
    var missing: Int?
    var c: Int?
    var a: Int

    private struct Key: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: Key.self)
        keys = container.allKeys.map(\.stringValue)
        hasA = container.contains(Key(stringValue: "a"))
        hasMissing = container.contains(Key(stringValue: "missing"))
        bIsNil = try container.decodeNil(forKey: Key(stringValue: "b"))
        cIsNil = try container.decodeNil(forKey: Key(stringValue: "c"))
        missing = try container.decodeIfPresent(Int.self, forKey: Key(stringValue: "missing"))
        c = try container.decodeIfPresent(Int.self, forKey: Key(stringValue: "c"))
        a = try container.decode(Int.self, forKey: Key(stringValue: "a"))
    }

    func encode(to encoder: any Encoder) throws {}
}

/// Writes {"a": 7, "b": nil, "c": 9}.
private struct ProbeSource: Codable {
    private enum CodingKeys: String, CodingKey { case a, b, c }

    init() {}
    init(from decoder: any Decoder) throws {}

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(7, forKey: .a)
        try container.encodeNil(forKey: .b)
        try container.encode(9, forKey: .c)
    }
}

private struct Empty: Codable, Equatable {}

/// Encodes nothing at all and decodes from anything.
private struct Nothing: Codable, Equatable {
    init() {}
    init(from decoder: any Decoder) throws {}
    func encode(to encoder: any Encoder) throws {}
}

private struct Wide: Codable, Equatable {
    var i128: Int128
    var u128: UInt128
}

private final class Node: Codable {
    var next: Node?
    init(next: Node?) { self.next = next }
}

private struct Holder<T: Codable & Equatable>: Codable, Equatable {
    var value: T
}

private struct Failing: Encodable {
    struct Refused: Error {}
    func encode(to encoder: any Encoder) throws {
        var container = encoder.unkeyedContainer()
        try container.encode(1)
        throw Refused()
    }
}

/// Writes to a nested container after writing a sibling value to the parent.
private struct OutOfOrder: Encodable {
    private enum CodingKeys: String, CodingKey { case a, b }
    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        var nested = container.nestedUnkeyedContainer(forKey: .a)
        try container.encode(1, forKey: .b)
        try nested.encode(2)
    }
}

private struct Nest: Codable {
    var inner: [Nest]
}

private func nested(depth: Int) -> Nest {
    var value = Nest(inner: [])
    for _ in 0..<depth { value = Nest(inner: [value]) }
    return value
}

private func depth(of nest: Nest) -> Int {
    var depth = 0
    var current = nest
    while let first = current.inner.first {
        depth += 1
        current = first
    }
    return depth
}

private let sampleAccount = Account(
    owner: User(id: 42, name: "Zoë", email: "zoe@example.com", active: true, score: 98.5),
    addresses: [
        Address(street: "1 Main St", zip: 12345, tags: ["home", "billing"]),
        Address(street: "", zip: 0, tags: []),
    ],
    nickname: "z",
    parent: nil,
    limits: ["daily": 10, "monthly": -300],
    byDay: [1: 1.5, -7: 2.25],
    created: Date(timeIntervalSince1970: 1_700_000_000.25),
    homepage: URL(string: "https://example.com/a?b=c")!,
    avatar: Data([0, 1, 2, 255]),
    raw: [9, 8, 7],
    id: UUID(uuidString: "E621E1F8-C36C-495A-93FC-0C247A3E6E5F")!,
    flags: [1, 5, 9],
    matrix: [[1, -2], [], [32767]],
    maybe: [1, nil, 3]
)

// MARK: - Fast paths

@Suite("ValueCoder fast paths")
struct ValueCoderFastPathTests {
    @Test func stringIsItsUTF8() throws {
        for string in ["", "hello", "Zoë 🐈‍⬛ 日本語", String(repeating: "x", count: 1000)] {
            let bytes = try encodeBytes(string)
            #expect(bytes == Array(string.utf8))
            #expect(try decodeResult(bytes, as: String.self).get() == string)
        }
    }

    @Test func byteArrayIsItsBytes() throws {
        for value in [[], [0], [UInt8](0...255)] as [[UInt8]] {
            let bytes = try encodeBytes(value)
            #expect(bytes == value)
            #expect(try decodeResult(bytes, as: [UInt8].self).get() == value)
        }
    }

    @Test func dataIsItsBytes() throws {
        for value in [Data(), Data([1, 2, 3]), Data(repeating: 0xAB, count: 4096)] {
            let bytes = try encodeBytes(value)
            #expect(bytes == [UInt8](value))
            #expect(try decodeResult(bytes, as: Data.self).get() == value)
        }
    }

    @Test func invalidUTF8StringIsRejected() {
        for bytes: [UInt8] in [[0xFF], [0xC3], [0x61, 0xED, 0xA0, 0x80], [0xF8, 0x88, 0x80, 0x80, 0x80]] {
            let error = expectCorrupted(bytes, as: String.self)
            #expect(error?.message.contains("UTF-8") == true)
        }
    }

    @Test(.dedicatedThread) func utf8ValidationMatchesTheStandardLibrary() {
        // Every 1- and 2-byte sequence; every lead of a 3- or 4-byte sequence with every second
        // byte and telling third and fourth bytes, alone and between ASCII runs.
        var inputs: [[UInt8]] = []
        for first in UInt8.min...UInt8.max {
            inputs.append([first])
            for second in UInt8.min...UInt8.max { inputs.append([first, second]) }
        }
        let tails: [UInt8] = [0x41, 0x7F, 0x80, 0xBF, 0xC0]
        let ascii = Array("abcdefgh".utf8)
        for lead in UInt8(0xE0)...UInt8(0xF7) {
            for second in UInt8.min...UInt8.max {
                for third in tails {
                    inputs.append([lead, second, third])
                    inputs.append(ascii + [lead, second, third] + ascii)
                    for fourth in tails {
                        inputs.append([lead, second, third, fourth])
                        inputs.append(ascii + [lead, second, third, fourth] + ascii)
                    }
                }
            }
        }
        let coder = ValueCoder<String>()
        var mismatches = 0
        for bytes in inputs {
            let expected = String(validating: bytes, as: UTF8.self)
            let decoded = bytes.withUnsafeBytes { try? coder.decode(from: $0) }
            if decoded != expected {
                mismatches += 1
                if mismatches <= 5 {
                    Issue.record(
                        "\(bytes): decoded \(String(describing: decoded)), expected \(String(describing: expected))"
                    )
                }
            }
        }
        #expect(mismatches == 0)
    }

    @Test func encodeAppendsToExistingBytes() throws {
        var buffer: [UInt8] = [1, 2, 3]
        try ValueCoder<String>().encode("ab", into: &buffer)
        try ValueCoder<Int>().encode(1, into: &buffer)
        #expect(buffer == [1, 2, 3, 0x61, 0x62, 0x04, 0x02])
    }
}

// MARK: - Round trips

@Suite("ValueCoder round trips")
struct ValueCoderRoundTripTests {
    @Test func topLevelScalars() throws {
        try roundTrip(0)
        try roundTrip(-1)
        try roundTrip(Int.min)
        try roundTrip(UInt64.max)
        try roundTrip(Int8.min)
        try roundTrip(UInt8.max)
        try roundTrip(true)
        try roundTrip(false)
        try roundTrip(3.25 as Float)
        try roundTrip(-0.0 as Double)
        try roundTrip(Double.infinity)
        try roundTrip(Double.leastNonzeroMagnitude)
        try roundTrip(Optional<Int>.none)
        try roundTrip(Optional(5))
        try roundTrip(Date(timeIntervalSinceReferenceDate: 12.5))
    }

    @Test func allIntegerTypesAtTheirLimits() throws {
        try roundTrip(AllIntegers.minimum)
        try roundTrip(AllIntegers.maximum)
        try roundTrip(AllIntegers.mixed)
        try roundTrip([AllIntegers.minimum, AllIntegers.maximum])
    }

    @Test func wideIntegers() throws {
        try roundTrip(Wide(i128: .min, u128: .max))
        try roundTrip(Wide(i128: -1, u128: 0))
        try roundTrip([Int128.max, 0, -5])
        // A small 128-bit value is readable as a 64-bit one.
        let bytes = try encodeBytes(Holder(value: Int128(-3)))
        #expect(try decodeResult(bytes, as: Holder<Int>.self).get() == Holder(value: -3))
    }

    @Test func floatingPointBitsSurvive() throws {
        let values = Floats(f: .nan, d: -.nan)
        let decoded = try decodeResult(try encodeBytes(values), as: Floats.self).get()
        #expect(decoded.f.bitPattern == values.f.bitPattern)
        #expect(decoded.d.bitPattern == values.d.bitPattern)
        try roundTrip(Floats(f: .greatestFiniteMagnitude, d: .pi))
        try roundTrip(Floats(f: -.infinity, d: .leastNormalMagnitude))
    }

    @Test func nestedStructWithFoundationTypes() throws {
        try roundTrip(sampleAccount)
        var other = sampleAccount
        other.nickname = nil
        other.parent = 7
        other.limits = [:]
        other.byDay = [:]
        other.maybe = [nil, nil]
        try roundTrip(other)
    }

    @Test func collections() throws {
        try roundTrip([Int]())
        try roundTrip([1, 2, 3])
        try roundTrip(["a", "", "ç"])
        try roundTrip([[1], [], [2, 3]])
        try roundTrip([Int?.none, 1, nil])
        try roundTrip([[UInt8]]([[1, 2], [], [255]]))
        try roundTrip([Data([1]), Data()])
        try roundTrip(["x": [1, 2], "y": []])
        try roundTrip([1: "one", -2: "minus two"])
        try roundTrip([Color.red: 1, .blue: 2])
        try roundTrip([UUID(): 1, UUID(): 2])  // non-String/Int keys: unkeyed key, value, key, value
        try roundTrip(Set(["a", "b"]))
        try roundTrip(ContiguousArray<UInt8>([1, 2, 3]))
    }

    @Test func largeContainersPatchTheirCounts() throws {
        try roundTrip(Array(0..<10_000))
        try roundTrip((0..<300).map { Array(repeating: $0, count: $0) })
        try roundTrip(Dictionary(uniqueKeysWithValues: (0..<1_000).map { ("key\($0)", $0) }))
        try roundTrip(Holder(value: [UInt8](repeating: 7, count: 100_000)))
        try roundTrip(String(repeating: "é", count: 100_000))
    }

    @Test func enumsWithAssociatedValues() throws {
        try roundTrip(Shape.circle(radius: 2))
        try roundTrip(Shape.rectangle(width: 3, height: -4))
        try roundTrip(Shape.labeled("nested", .labeled("deeper", nil)))
        try roundTrip(Shape.empty)
        try roundTrip([Shape.empty, .circle(radius: 0)])
        try roundTrip(Tree.node(.leaf(1), .node(.leaf(2), .leaf(3))))
        try roundTrip(Color.green)
    }

    @Test func classesWithInheritance() throws {
        let dog = try decodeResult(try encodeBytes(Dog(name: "Rex", breed: "collie")), as: Dog.self).get()
        #expect(dog.name == "Rex" && dog.breed == "collie" && dog.legs == 4)
        let cat = try decodeResult(try encodeBytes(Cat(name: "Tom", indoor: true)), as: Cat.self).get()
        #expect(cat.name == "Tom" && cat.indoor && cat.legs == 4)
    }

    @Test func manualNestedAndSuperContainers() throws {
        try roundTrip(Manual(x: 1, y: -2, points: [[0.5, 1.5], [], [3]], note: "hi"))
    }

    @Test func emptyValues() throws {
        try roundTrip(Empty())
        try roundTrip(Nothing())
        try roundTrip([Empty(), Empty()])
        try roundTrip(Holder(value: Nothing()))
        #expect(try encodeBytes(Empty()) == [0x0A, 0x00])
        #expect(try encodeBytes(Nothing()) == [0x0A, 0x00])
    }

    @Test func keysOutOfOrderMissingAndAdded() throws {
        let v1 = RecordV1(a: 1, b: "two", c: [3, 4], d: true)
        let v2 = try decodeResult(try encodeBytes(v1), as: RecordV2.self).get()
        #expect(v2 == RecordV2(d: true, c: [3, 4], added: nil, b: "two", a: 1))
        let back = try decodeResult(try encodeBytes(v2), as: RecordV1.self).get()
        #expect(back == v1)
    }

    @Test func containsAllKeysDecodeNilAndDecodeIfPresent() throws {
        let probe = try decodeResult(try encodeBytes(ProbeSource()), as: Probe.self).get()
        #expect(probe.keys == ["a", "b", "c"])
        #expect(probe.hasA && !probe.hasMissing)
        #expect(probe.bIsNil && !probe.cIsNil)
        #expect(probe.missing == nil && probe.c == 9 && probe.a == 7)
    }
}

// MARK: - Format

@Suite("ValueCoder byte format")
struct ValueCoderFormatTests {
    private struct Point: Codable {
        var a: Int
        var b: String
    }

    @Test func smallStructHasTheDocumentedBytes() throws {
        // map, 2 pairs; "a" → signed 1 (zigzag 2); "b" → string "hi".
        #expect(
            try encodeBytes(Point(a: 1, b: "hi")) == [
                0x0A, 0x02, 0x01, 0x61, 0x04, 0x02, 0x01, 0x62, 0x07, 0x02, 0x68, 0x69,
            ]
        )
    }

    @Test func scalarsHaveTheDocumentedBytes() throws {
        #expect(try encodeBytes(Optional<Int>.none) == [0x00])
        #expect(try encodeBytes(false) == [0x01])
        #expect(try encodeBytes(true) == [0x02])
        #expect(try encodeBytes(UInt(300)) == [0x03, 0xAC, 0x02])
        #expect(try encodeBytes(-3) == [0x04, 0x05])
        #expect(try encodeBytes(Float(1)) == [0x05, 0x00, 0x00, 0x80, 0x3F])
        #expect(try encodeBytes(Double(1)) == [0x06, 0, 0, 0, 0, 0, 0, 0xF0, 0x3F])
        #expect(
            try encodeBytes(Holder(value: [UInt8]([5, 6]))) == [0x0A, 0x01, 0x05] + Array("value".utf8) + [
                0x08, 0x02, 5, 6,
            ]
        )
        #expect(try encodeBytes([Int8(1), -1]) == [0x09, 0x02, 0x04, 0x02, 0x04, 0x01])
    }

    @Test func countsOf128OrMoreUseLongerVarints() throws {
        let bytes = try encodeBytes([Bool](repeating: true, count: 200))
        #expect(Array(bytes.prefix(3)) == [0x09, 0xC8, 0x01])
        #expect(bytes.count == 3 + 200)
    }

    @Test func byteStringsAndUnsignedArraysInterconvert() throws {
        let asBytes = try encodeBytes(Holder(value: [UInt8]([1, 2, 200])))
        #expect(try decodeResult(asBytes, as: Holder<[Int]>.self).get() == Holder(value: [1, 2, 200]))
        #expect(try decodeResult(asBytes, as: Holder<ContiguousArray<UInt8>>.self).get() == Holder(value: [1, 2, 200]))
        let asArray = try encodeBytes(Holder(value: [UInt16]([1, 2, 200])))
        #expect(try decodeResult(asArray, as: Holder<Data>.self).get() == Holder(value: Data([1, 2, 200])))
        #expect(try decodeResult(asArray, as: Holder<[UInt8]>.self).get() == Holder(value: [1, 2, 200]))
    }
}

// MARK: - Rejection of bad input

@Suite("ValueCoder rejects bad input")
struct ValueCoderRejectionTests {
    @Test func everyTruncationIsRejected() throws {
        let bytes = try encodeBytes(sampleAccount)
        for length in 0..<bytes.count {
            expectCorrupted(Array(bytes.prefix(length)), as: Account.self)
        }
    }

    @Test func trailingBytesAreRejected() throws {
        let bytes = try encodeBytes(sampleAccount)
        let error = expectCorrupted(bytes + [0x00], as: Account.self)
        #expect(error?.message.contains("follow the value") == true)
        expectCorrupted(try encodeBytes(5) + [0x00], as: Int.self)
        // Trailing bytes inside a container's unread part are found too.
        expectCorrupted([0x0A, 0x01, 0x01, 0x78, 0x07, 0x05, 0x61], as: Empty.self)
    }

    @Test func emptyInputIsRejectedForCodableTypes() {
        expectCorrupted([], as: Int.self)
        expectCorrupted([], as: User.self)
        expectCorrupted([], as: [Int].self)
    }

    @Test func mismatchedTypesAreRejected() throws {
        expectCorrupted(try encodeBytes(Holder(value: 5)), as: Holder<String>.self)
        expectCorrupted(try encodeBytes(5), as: String?.self)
        expectCorrupted(try encodeBytes("5"), as: Holder<Int>.self)
        expectCorrupted(try encodeBytes(300), as: UInt8.self)
        expectCorrupted(try encodeBytes(-1), as: UInt.self)
        expectCorrupted(try encodeBytes(UInt64.max), as: Int64.self)
        expectCorrupted(try encodeBytes(1.5), as: Float.self)
        expectCorrupted(try encodeBytes(1), as: Double.self)
        expectCorrupted(try encodeBytes(true), as: Int.self)
        expectCorrupted(try encodeBytes([1, 2]), as: User.self)
        expectCorrupted(try encodeBytes(sampleAccount.owner), as: [Int].self)
        expectCorrupted(try encodeBytes(sampleAccount), as: User.self)
        expectCorrupted(try encodeBytes(Shape.circle(radius: 1)), as: Tree.self)
        expectCorrupted(try encodeBytes(Holder(value: [UInt8]([1, 2]))), as: Holder<[String]>.self)
        expectCorrupted(try encodeBytes(Holder(value: [UInt8]([200]))), as: Holder<[Int8]>.self)
        let missing = expectCorrupted(try encodeBytes(RecordV2(d: true, c: [], added: nil, b: "", a: 1)), as: User.self)
        #expect(missing?.message.contains("no value for key") == true)
    }

    @Test func malformedStructureIsRejected() {
        expectCorrupted([0x0B], as: Int.self)  // unknown tag
        expectCorrupted([0x03, 0x80], as: UInt.self)  // varint cut short
        expectCorrupted([0x03] + [UInt8](repeating: 0xFF, count: 9) + [0x02], as: UInt64.self)  // 65 bits
        expectCorrupted([0x03] + [UInt8](repeating: 0xFF, count: 18) + [0x04], as: UInt128.self)  // 129 bits
        expectCorrupted([0x05, 0, 0, 0], as: Float.self)
        expectCorrupted([0x06, 0, 0, 0, 0, 0, 0, 0], as: Double.self)
        expectCorrupted([0x03], as: Bool.self)
        expectCorrupted([0x09, 0x02, 0x04, 0x02], as: [Int].self)  // too few elements
        expectCorrupted([0x0A, 0x01, 0x05, 0x61], as: Empty.self)  // key longer than input
    }

    @Test func invalidUTF8InsideValuesIsRejected() {
        // A string value.
        expectCorrupted([0x07, 0x02, 0xC3, 0x28], as: String?.self)
        // A string inside a struct: {"value": <invalid>}.
        expectCorrupted([0x0A, 0x01, 0x05] + Array("value".utf8) + [0x07, 0x01, 0xFF], as: Holder<String>.self)
        // A key, when listed by allKeys (dictionaries).
        expectCorrupted([0x0A, 0x01, 0x01, 0xFF, 0x04, 0x02], as: [String: Int].self)
    }

    @Test func hugeLengthFieldsAreRejectedWithoutAllocating() {
        let huge = leb128(1 << 62)
        let maxVarint = leb128(.max)
        expectCorrupted([0x07] + huge, as: Holder<String>.self)
        expectCorrupted([0x0A, 0x01, 0x05] + Array("value".utf8) + [0x07] + huge + [0x61], as: Holder<String>.self)
        expectCorrupted([0x09] + maxVarint + [0x00], as: [Int?].self)
        expectCorrupted([0x0A] + huge + [0x00, 0x00], as: [String: Int].self)
        expectCorrupted([0x0A, 0x01] + huge + [0x61], as: [String: Int].self)  // key length
        expectCorrupted([0x0A, 0x01, 0x05] + Array("value".utf8) + [0x08] + maxVarint, as: Holder<Data>.self)
        expectCorrupted([0x0A, 0x01, 0x05] + Array("value".utf8) + [0x08] + huge, as: Holder<[UInt8]>.self)
        // A count that fits in the remaining bytes only if elements were under one byte each.
        expectCorrupted([0x09, 0x05, 0x00, 0x00], as: [Int?].self)
    }

    @Test func deepNestingBombIsRejected() {
        // {"next": {"next": ... 100 000 deep.
        let level: [UInt8] = [0x0A, 0x01, 0x04] + Array("next".utf8)
        var bomb: [UInt8] = []
        bomb.reserveCapacity(level.count * 100_000 + 1)
        for _ in 0..<100_000 { bomb += level }
        bomb.append(0x00)
        let error = expectCorrupted(bomb, as: Node.self)
        #expect(error?.message.contains("nested more than 512") == true)

        // [[[[... 100 000 deep, read as a recursive type, and skipped inside an ignored field.
        var arrays = [UInt8](repeating: 0, count: 200_002)
        for index in stride(from: 0, to: 200_000, by: 2) {
            arrays[index] = 0x09
            arrays[index + 1] = 0x01
        }
        arrays[200_000] = 0x09
        arrays[200_001] = 0x00
        expectCorrupted([0x0A, 0x01, 0x05] + Array("inner".utf8) + arrays, as: Nest.self)
        expectCorrupted([0x0A, 0x01, 0x01, 0x78] + arrays, as: Empty.self)
        expectCorrupted(arrays, as: Nothing.self)
    }

    @Test func nestingUpToTheLimitWorks() throws {
        // Each Nest level is a map (one container) holding an array (another).
        let deepest = nested(depth: 255)
        let decoded = try decodeResult(try encodeBytes(deepest), as: Nest.self).get()
        #expect(depth(of: decoded) == 255)
        let tooDeep = Result { () throws(KVSError) in try encodeBytes(nested(depth: 256)) }
        #expect(throws: KVSError.self) { try tooDeep.get() }
        if case .failure(let error) = tooDeep {
            #expect(error.code == .invalidArgument)
            #expect(error.message.contains("nested more than 512"))
        }
    }

    @Test(.dedicatedThread) func randomCorruptionNeverCrashes() throws {
        var random = SplitMix64(state: 0x5EED)
        let valid = try encodeBytes(sampleAccount)
        var decodedCount = 0
        for round in 0..<20_000 {
            var bytes = valid
            switch round % 4 {
            case 0:  // flip one byte
                bytes[Int.random(in: 0..<bytes.count, using: &random)] = UInt8.random(in: 0...255, using: &random)
            case 1:  // flip several bytes
                for _ in 0..<Int.random(in: 2...8, using: &random) {
                    bytes[Int.random(in: 0..<bytes.count, using: &random)] ^= UInt8.random(in: 1...255, using: &random)
                }
            case 2:  // cut and splice
                let cut = Int.random(in: 0..<bytes.count, using: &random)
                bytes = Array(bytes[cut...]) + Array(bytes[..<cut])
            default:  // pure noise, mostly starting with a container tag
                let count = Int.random(in: 0...64, using: &random)
                bytes = (0..<count).map { _ in UInt8.random(in: 0...12, using: &random) }
            }
            if case .success = decodeResult(bytes, as: Account.self) { decodedCount += 1 }
            _ = decodeResult(bytes, as: [String: [Int?]].self)
            _ = decodeResult(bytes, as: Shape.self)
            _ = decodeResult(bytes, as: Manual.self)
            _ = decodeResult(bytes, as: RecordV2.self)
        }
        // Some single-byte changes (a digit of a number, a letter of a string) still decode.
        #expect(decodedCount > 0)
    }
}

// MARK: - Encoding errors

@Suite("ValueCoder encoding errors")
struct ValueCoderEncodingErrorTests {
    private struct Wrapper: Codable {
        var inner: FailingCodable
    }

    private struct FailingCodable: Codable {
        init() {}
        init(from decoder: any Decoder) throws {}
        func encode(to encoder: any Encoder) throws { try Failing().encode(to: encoder) }
    }

    @Test func throwingEncodableIsInvalidArgumentAndLeavesTheBufferAlone() {
        var buffer: [UInt8] = [1, 2, 3]
        #expect {
            try ValueCoder<Wrapper>().encode(Wrapper(inner: FailingCodable()), into: &buffer)
        } throws: { error in
            (error as? KVSError)?.code == .invalidArgument
        }
        #expect(buffer == [1, 2, 3])
    }

    private struct OutOfOrderCodable: Codable {
        init() {}
        init(from decoder: any Decoder) throws {}
        func encode(to encoder: any Encoder) throws { try OutOfOrder().encode(to: encoder) }
    }

    @Test func writingToAClosedNestedContainerIsInvalidArgument() {
        var buffer: [UInt8] = []
        #expect {
            try ValueCoder<OutOfOrderCodable>().encode(OutOfOrderCodable(), into: &buffer)
        } throws: { error in
            (error as? KVSError)?.code == .invalidArgument
        }
        #expect(buffer.isEmpty)
    }
}
