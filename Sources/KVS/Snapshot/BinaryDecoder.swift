// The `Decoder` of the binary value format (docs/value-encoding.md).
//
// Decoding works in place on the borrowed input: a decoder is an offset into it. Values are
// read in the order they are asked for; a keyed container first tries the pair at its cursor
// (the common case: fields are decoded in the order they were encoded) and falls back to an
// index of all its pairs, built once on first need, so missing and reordered keys work.
// Where a value ends is worked out only when needed, and without rescanning what was already
// read, so decoding is linear in the input in the usual cases.
//
// Nested decoders hold their parent (for the coding path); parents never hold their nested
// decoders, so there are no reference cycles.

import Foundation

/// State shared by every decoder of one top-level decode.
final class BinaryDecodingSession {
    let reader: BinaryValueReader
    /// End offsets of large containers already skipped, by start offset, so that no container
    /// is scanned more than once however many enclosing containers need to skip it.
    private var skipMemo: [Int: Int] = [:]
    /// An error found where the `Decoder` API cannot throw (`allKeys`, `contains`); the
    /// top-level decode throws it at the end.
    var deferredError: (any Error)?

    init(reader: BinaryValueReader) {
        self.reader = reader
    }

    func recordError(_ error: any Error) {
        if deferredError == nil { deferredError = error }
    }

    /// Returns the offset just past the value at `offset`, which is enclosed by `depth`
    /// containers, checking its structure (tags, lengths, nesting depth) but not decoding it.
    /// Strings are not checked for valid UTF-8 here; they are when they are decoded.
    func skipValue(at offset: Int, depth: Int) throws(BinaryFormatError) -> Int {
        let reader = self.reader
        let tag = try reader.byte(at: offset)
        var position = offset + 1
        switch tag {
        case BinaryTag.null, BinaryTag.falseValue, BinaryTag.trueValue:
            return position
        case BinaryTag.unsigned, BinaryTag.signed:
            try reader.skipVarint(at: &position)
            return position
        case BinaryTag.float32:
            guard reader.count - position >= 4 else { throw .truncated(at: offset) }
            return position + 4
        case BinaryTag.float64:
            guard reader.count - position >= 8 else { throw .truncated(at: offset) }
            return position + 8
        case BinaryTag.string, BinaryTag.bytes:
            let length = try reader.count(at: &position, itemSize: 1)
            return position + length
        case BinaryTag.array, BinaryTag.map:
            if let end = skipMemo[offset] { return end }
            guard depth < BinaryLimits.maxDepth else { throw .tooDeep(at: offset) }
            if tag == BinaryTag.array {
                let count = try reader.count(at: &position, itemSize: 1)
                for _ in 0..<count {
                    position = try skipValue(at: position, depth: depth + 1)
                }
            } else {
                let count = try reader.count(at: &position, itemSize: 2)
                for _ in 0..<count {
                    _ = try reader.key(at: &position)
                    position = try skipValue(at: position, depth: depth + 1)
                }
            }
            if position - offset > 32 { skipMemo[offset] = position }
            return position
        default:
            throw BinaryFormatError("unknown tag 0x\(String(tag, radix: 16))", at: offset)
        }
    }
}

extension BinaryFormatError {
    static func tooDeep(at offset: Int) -> BinaryFormatError {
        BinaryFormatError("containers are nested more than \(BinaryLimits.maxDepth) deep", at: offset)
    }
}

/// Decodes one value: the top-level value, or a value nested in a container.
final class BinaryDecoder: Decoder {
    /// Where this value's end is known to be, if anywhere yet.
    enum End {
        case unknown
        case at(Int)
        /// Where the value at the given offset ends (it is this value's last element).
        case afterElement(at: Int)
    }

    /// One pair of a keyed container, located.
    struct Pair {
        let keyStart: Int
        let keyCount: Int
        let valueStart: Int
    }

    /// The state of this value's keyed container, once opened.
    struct MapState {
        var isOpen = false
        var count = 0
        var pairsStart = 0
        /// Offset of pair `cursorIndex`, the next one in order; valid when `pendingValue` is -1.
        var cursor = 0
        var cursorIndex = 0
        /// Offset of the value of pair `cursorIndex - 1` when it was handed out as a nested
        /// container, so its end (the cursor) is not known yet; -1 otherwise.
        var pendingValue = -1
        /// Every pair, once needed out of order.
        var index: [Pair] = []
        var hasIndex = false
        /// Offset just past the container, once known; -1 before.
        var end = -1
    }

    let session: BinaryDecodingSession
    let reader: BinaryValueReader
    let parent: BinaryDecoder?
    /// The key of this value in its parent's container; nil for the top-level value.
    let key: (any CodingKey)?
    /// How many containers enclose this value (0 for the top-level value).
    let depth: Int
    /// Offset of this value's tag.
    let start: Int
    // The mutable state is exempt from dynamic exclusivity checks, which otherwise cost more
    // than the reads themselves. No access to it can overlap another: it is touched only by
    // this module's non-reentrant methods, on the one thread running the decode.
    @exclusivity(unchecked) var end = End.unknown
    @exclusivity(unchecked) var map = MapState()

    init(session: BinaryDecodingSession, parent: BinaryDecoder?, key: (any CodingKey)?, depth: Int, start: Int) {
        self.session = session
        self.reader = session.reader
        self.parent = parent
        self.key = key
        self.depth = depth
        self.start = start
    }

    /// A decoder for a value nested in this value's container.
    func child(key: any CodingKey, start: Int) -> BinaryDecoder {
        BinaryDecoder(session: session, parent: self, key: key, depth: depth + 1, start: start)
    }

    var codingPath: [any CodingKey] {
        var path: [any CodingKey] = []
        var decoder: BinaryDecoder? = self
        while let current = decoder, let key = current.key {
            path.append(key)
            decoder = current.parent
        }
        return path.reversed()
    }

    var userInfo: [CodingUserInfoKey: Any] { [:] }

    /// The `DecodingError` for a format error in this value, optionally under `key`.
    func decodingError(_ error: BinaryFormatError, key: (any CodingKey)? = nil) -> DecodingError {
        var path = codingPath
        if let key { path.append(key) }
        return error.decodingError(codingPath: path)
    }

    // MARK: Containers

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        if !map.isOpen {
            do throws(BinaryFormatError) {
                try openMap()
            } catch {
                throw decodingError(error)
            }
        }
        return KeyedDecodingContainer(BinaryKeyedDecodingContainer<Key>(decoder: self))
    }

    private func openMap() throws(BinaryFormatError) {
        let tag = try reader.byte(at: start)
        guard tag == BinaryTag.map else {
            throw .mismatch([String: Any].self, found: tag, at: start)
        }
        guard depth < BinaryLimits.maxDepth else { throw .tooDeep(at: start) }
        var position = start + 1
        let count = try reader.count(at: &position, itemSize: 2)
        map.count = count
        map.pairsStart = position
        map.cursor = position
        map.cursorIndex = 0
        if count == 0 { map.end = position }
        map.isOpen = true
    }

    func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
        do throws(BinaryFormatError) {
            let tag = try reader.byte(at: start)
            guard tag == BinaryTag.array || tag == BinaryTag.bytes else {
                throw .mismatch([Any].self, found: tag, at: start)
            }
            // A byte string read as an array holds no values, so it nests nothing.
            guard depth < BinaryLimits.maxDepth || tag == BinaryTag.bytes else { throw .tooDeep(at: start) }
            var position = start + 1
            let count = try reader.count(at: &position, itemSize: 1)
            if count == 0 { end = .at(position) }
            return BinaryUnkeyedDecodingContainer(
                decoder: self,
                count: count,
                isBytes: tag == BinaryTag.bytes,
                cursor: position
            )
        } catch {
            throw decodingError(error)
        }
    }

    func singleValueContainer() throws -> any SingleValueDecodingContainer {
        BinarySingleValueDecodingContainer(decoder: self)
    }

    // MARK: Whole value

    /// Decodes this whole value as `T` (single-value containers, the top level).
    func decodeSingle<T: Decodable>(_ type: T.Type) throws -> T {
        if let primitive = BinaryPrimitive(T.self), reader.canReadDirectly(primitive, at: start) {
            var position = start
            do throws(BinaryFormatError) {
                let value = try reader.readPrimitive(primitive, as: T.self, at: &position)
                end = .at(position)
                return value
            } catch {
                throw decodingError(error)
            }
        }
        // The value decodes itself from this same decoder, as if it were the outer value.
        return try T(from: self)
    }

    /// Offset just past this value. Cheap when the value was read to its end; otherwise scans
    /// only what was not read.
    func endOffset() throws(BinaryFormatError) -> Int {
        if map.isOpen {
            if map.end >= 0 { return map.end }
            try resolvePending()
            var position = map.cursor
            for _ in map.cursorIndex..<map.count {
                _ = try reader.key(at: &position)
                position = try session.skipValue(at: position, depth: depth + 1)
            }
            map.end = position
            return position
        }
        switch end {
        case .at(let offset):
            return offset
        case .afterElement(let last):
            let offset = try session.skipValue(at: last, depth: depth + 1)
            end = .at(offset)
            return offset
        case .unknown:
            let offset = try session.skipValue(at: start, depth: depth)
            end = .at(offset)
            return offset
        }
    }

    // MARK: Keyed access

    /// Moves the cursor past a value handed out as a nested container.
    @inline(__always)
    private func resolvePending() throws(BinaryFormatError) {
        if map.pendingValue >= 0 {
            map.cursor = try session.skipValue(at: map.pendingValue, depth: depth + 1)
            map.pendingValue = -1
        }
    }

    /// Finds `key`'s pair: its index and the offset of its value, or nil if there is none.
    /// Tries the pair at the cursor first, then the index.
    @inline(__always)
    func findPair(_ key: some CodingKey) throws(BinaryFormatError) -> (index: Int, value: Int)? {
        try resolvePending()
        if map.cursorIndex < map.count {
            var position = map.cursor
            let found = try reader.key(at: &position)
            if reader.keyEquals(start: found.start, count: found.count, key) {
                return (map.cursorIndex, position)
            }
        }
        return try findPairInIndex(key)
    }

    private func findPairInIndex(_ key: some CodingKey) throws(BinaryFormatError) -> (index: Int, value: Int)? {
        try buildIndex()
        let reader = self.reader
        var name = key.stringValue
        return name.withUTF8 { utf8 in
            for (number, pair) in map.index.enumerated()
            where reader.bytesEqual(start: pair.keyStart, count: pair.keyCount, utf8) {
                return (number, pair.valueStart)
            }
            return nil
        }
    }

    /// Locates every pair of the keyed container (once).
    func buildIndex() throws(BinaryFormatError) {
        if map.hasIndex { return }
        try resolvePending()
        var pairs: [Pair] = []
        pairs.reserveCapacity(map.count)
        var position = map.pairsStart
        for _ in 0..<map.count {
            let found = try reader.key(at: &position)
            pairs.append(Pair(keyStart: found.start, keyCount: found.count, valueStart: position))
            position = try session.skipValue(at: position, depth: depth + 1)
        }
        map.index = pairs
        map.hasIndex = true
        map.end = position
    }

    /// Records that pair `index` was read and its value ends at `end`.
    @inline(__always)
    func finishPair(_ index: Int, end: Int) {
        map.cursorIndex = index + 1
        map.cursor = end
        map.pendingValue = -1
        if index + 1 == map.count { map.end = end }
    }

    /// Records that pair `index`, whose value is at `value`, was handed out as a nested
    /// container, so where it ends is not known yet.
    @inline(__always)
    func finishPair(_ index: Int, nestedAt value: Int) {
        map.cursorIndex = index + 1
        if map.hasIndex {
            map.cursor = index + 1 < map.count ? map.index[index + 1].keyStart : map.end
            map.pendingValue = -1
        } else {
            map.pendingValue = value
        }
    }

    /// The keys of the keyed container as strings, in encoding order.
    func keyStrings() throws(BinaryFormatError) -> [String] {
        try buildIndex()
        var keys: [String] = []
        keys.reserveCapacity(map.index.count)
        for pair in map.index {
            keys.append(try reader.string(start: pair.keyStart, count: pair.keyCount))
        }
        return keys
    }
}

extension BinaryValueReader {
    /// Whether the value at `offset` can be read as `primitive` by ``readPrimitive(_:as:at:)``.
    /// True except for a byte-string type stored as an unkeyed container, which its type's
    /// own `init(from:)` reads instead.
    @inline(__always)
    func canReadDirectly(_ primitive: BinaryPrimitive, at offset: Int) -> Bool {
        guard primitive.isByteString, offset < count else { return true }
        return base.load(fromByteOffset: offset, as: UInt8.self) != BinaryTag.array
    }

    /// Reads the value at `offset` as `T`, which `primitive` says it is.
    @inline(__always)
    func readPrimitive<T>(
        _ primitive: BinaryPrimitive,
        as type: T.Type,
        at offset: inout Int
    ) throws(BinaryFormatError) -> T {
        // Each `unsafeBitCast` below converts from the type that `BinaryPrimitive(T.self)`
        // proved T to be.
        switch primitive {
        case .string:
            return unsafeBitCast(try readString(at: &offset), to: T.self)
        case .int:
            return unsafeBitCast(try readInteger(Int.self, at: &offset), to: T.self)
        case .double:
            return unsafeBitCast(try readDouble(at: &offset), to: T.self)
        case .bool:
            return unsafeBitCast(try readBool(at: &offset), to: T.self)
        case .byteArray:
            return unsafeBitCast([UInt8](try readByteString(T.self, at: &offset)), to: T.self)
        case .data:
            return unsafeBitCast(Data(try readByteString(T.self, at: &offset)), to: T.self)
        case .date:
            // Foundation's own Codable for Date reads this same Double.
            return unsafeBitCast(Date(timeIntervalSinceReferenceDate: try readDouble(at: &offset)), to: T.self)
        case .float:
            return unsafeBitCast(try readFloat(at: &offset), to: T.self)
        case .int64:
            return unsafeBitCast(try readInteger(Int64.self, at: &offset), to: T.self)
        case .int32:
            return unsafeBitCast(try readInteger(Int32.self, at: &offset), to: T.self)
        case .int16:
            return unsafeBitCast(try readInteger(Int16.self, at: &offset), to: T.self)
        case .int8:
            return unsafeBitCast(try readInteger(Int8.self, at: &offset), to: T.self)
        case .uint:
            return unsafeBitCast(try readInteger(UInt.self, at: &offset), to: T.self)
        case .uint64:
            return unsafeBitCast(try readInteger(UInt64.self, at: &offset), to: T.self)
        case .uint32:
            return unsafeBitCast(try readInteger(UInt32.self, at: &offset), to: T.self)
        case .uint16:
            return unsafeBitCast(try readInteger(UInt16.self, at: &offset), to: T.self)
        case .uint8:
            return unsafeBitCast(try readInteger(UInt8.self, at: &offset), to: T.self)
        }
    }
}
