import Foundation
import KVS
import Testing

@Suite("ValueBytes: a compact, immutable byte string")
struct ValueBytesTests {
    @Test(arguments: [0, 1, 7, 64, 65, 4096])
    func holdsACopyOfItsBytes(count: Int) {
        var source = (0..<count).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }
        let value = ValueBytes(source)
        if count > 0 { source[0] ^= 0xFF }  // the value must not see later changes
        let expected = (0..<count).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ 7) }
        #expect(value.count == count)
        #expect(value.array == expected)
        #expect(Array(value) == expected, "iterating as a collection gives the bytes in order")
        #expect(value.withUnsafeBytes { Array($0) } == expected)
        #expect(value.withContiguousStorageIfAvailable { Array($0) } == expected)
        #expect(expected.withUnsafeBytes { ValueBytes($0) } == value)
    }

    @Test func equalityComparesBytes() {
        #expect(ValueBytes([1, 2, 3]) == ValueBytes([1, 2, 3]))
        #expect(ValueBytes([1, 2, 3]) != ValueBytes([1, 2, 4]))
        #expect(ValueBytes([1, 2]) != ValueBytes([1, 2, 0]))
        #expect(ValueBytes([]) == ValueBytes([]))
        let shared = ValueBytes([9])
        let copy = shared
        #expect(copy == shared)
    }

    @Test func isWrittenInPlaceByItsInitializer() {
        let value = ValueBytes(count: 5) { buffer in
            for i in buffer.indices { buffer[i] = UInt8(i * 2) }
        }
        #expect(Array(value) == [0, 2, 4, 6, 8])
        var lengthSeen = -1
        let empty = ValueBytes(count: 0) { lengthSeen = $0.count }
        #expect(empty.isEmpty && lengthSeen == 0)
    }

    struct Refused: Error {}

    @Test func rethrowsWhatItsInitializerThrows() {
        #expect(throws: Refused.self) {
            _ = try ValueBytes(count: 8) { _ in throw Refused() }
        }
    }

    @Test func copiesAnySequenceOfBytes() {
        // A lazy map is not contiguous: the bytes are gathered first.
        let gathered = ValueBytes((1...4).lazy.map { UInt8($0) })
        #expect(Array(gathered) == [1, 2, 3, 4])
        #expect(ValueBytes(Data([7, 8])) == [7, 8])
        let literal: ValueBytes = [0xFF, 0x00]
        #expect(Array(literal) == [0xFF, 0x00])
    }

    @Test func equalValuesHashEqually() {
        let values: Set<ValueBytes> = [ValueBytes([1, 2]), ValueBytes([1, 2]), ValueBytes([2, 1]), ValueBytes([])]
        #expect(values.count == 3)
        #expect(values.contains([2, 1]))
        #expect(!values.contains([2]))
    }

    @Test func encodesAsAnArrayOfBytesInsideOtherCodableTypes() throws {
        struct Record: Codable, Equatable {
            var name: String
            var payload: ValueBytes
        }
        let record = Record(name: "r", payload: [1, 200])
        let json = try JSONEncoder().encode(record)
        #expect(String(decoding: json, as: UTF8.self).contains("[1,200]"))
        #expect(try JSONDecoder().decode(Record.self, from: json) == record)
    }

    @Test func describesItsLengthAndNotItsContents() {
        let secret = ValueBytes(Array("hunter2".utf8))
        #expect(secret.description == "7 bytes")
        #expect(!"\(secret)".contains("hunter2"))
        #expect(ValueBytes([0x01, 0xAB]).debugDescription == "ValueBytes(2 bytes: 01 ab)")
        #expect(ValueBytes([UInt8](repeating: 0, count: 40)).debugDescription.hasSuffix(" …)"))
    }
}
