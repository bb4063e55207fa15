// The three container types of the binary `Decoder`. The keyed container keeps its state
// in its `BinaryDecoder` (its methods are non-mutating); the unkeyed container keeps its own
// cursor, as each unkeyed container reads its elements from the first.

/// Reads (key, value) pairs of a keyed container of the binary format, by key.
struct BinaryKeyedDecodingContainer<Key: CodingKey>: KeyedDecodingContainerProtocol {
    let decoder: BinaryDecoder

    var codingPath: [any CodingKey] { decoder.codingPath }

    /// The keys in encoding order that `Key` can represent. Cost: O(pairs) the first time.
    var allKeys: [Key] {
        do throws(BinaryFormatError) {
            return try decoder.keyStrings().compactMap { Key(stringValue: $0) }
        } catch {
            decoder.session.recordError(decoder.decodingError(error))
            return []
        }
    }

    func contains(_ key: Key) -> Bool {
        do throws(BinaryFormatError) {
            return try decoder.findPair(key) != nil
        } catch {
            decoder.session.recordError(decoder.decodingError(error, key: key))
            return false
        }
    }

    /// The pair for `key`, or nil if there is none.
    @inline(__always)
    private func find(_ key: some CodingKey) throws -> (index: Int, value: Int)? {
        do throws(BinaryFormatError) {
            return try decoder.findPair(key)
        } catch {
            throw decoder.decodingError(error, key: key)
        }
    }

    /// The pair for `key`; throws `keyNotFound` if there is none.
    @inline(__always)
    private func locate(_ key: some CodingKey) throws -> (index: Int, value: Int) {
        guard let found = try find(key) else {
            throw DecodingError.keyNotFound(
                key,
                DecodingError.Context(
                    codingPath: codingPath,
                    debugDescription: "no value for key \"\(key.stringValue)\""
                )
            )
        }
        return found
    }

    /// Reads pair `index`'s value at `value` with `body`.
    @inline(__always)
    private func read<T>(
        _ key: Key,
        _ found: (index: Int, value: Int),
        _ body: (BinaryValueReader, inout Int) throws(BinaryFormatError) -> T
    ) throws -> T {
        var position = found.value
        let result: T
        do throws(BinaryFormatError) {
            result = try body(decoder.reader, &position)
        } catch {
            throw decoder.decodingError(error, key: key)
        }
        decoder.finishPair(found.index, end: position)
        return result
    }

    @inline(__always)
    private func read<T>(_ key: Key, _ body: (BinaryValueReader, inout Int) throws(BinaryFormatError) -> T) throws -> T
    {
        try read(key, try locate(key), body)
    }

    /// Like `read`, but nil for a missing key or a nil value.
    @inline(__always)
    private func readIfPresent<T>(
        _ key: Key,
        _ body: (BinaryValueReader, inout Int) throws(BinaryFormatError) -> T
    ) throws -> T? {
        guard let found = try find(key) else { return nil }
        if try isNil(key, found) { return nil }
        return try read(key, found, body)
    }

    /// Whether pair `found` holds nil; if so, the pair is consumed.
    @inline(__always)
    private func isNil(_ key: Key, _ found: (index: Int, value: Int)) throws -> Bool {
        let tag: UInt8
        do throws(BinaryFormatError) {
            tag = try decoder.reader.byte(at: found.value)
        } catch {
            throw decoder.decodingError(error, key: key)
        }
        guard tag == BinaryTag.null else { return false }
        decoder.finishPair(found.index, end: found.value + 1)
        return true
    }

    func decodeNil(forKey key: Key) throws -> Bool {
        try isNil(key, try locate(key))
    }

    func decode(_ type: Bool.Type, forKey key: Key) throws -> Bool {
        try read(key) { reader, position throws(BinaryFormatError) in try reader.readBool(at: &position) }
    }

    func decodeIfPresent(_ type: Bool.Type, forKey key: Key) throws -> Bool? {
        try readIfPresent(key) { reader, position throws(BinaryFormatError) in try reader.readBool(at: &position) }
    }

    func decode(_ type: String.Type, forKey key: Key) throws -> String {
        try read(key) { reader, position throws(BinaryFormatError) in try reader.readString(at: &position) }
    }

    func decodeIfPresent(_ type: String.Type, forKey key: Key) throws -> String? {
        try readIfPresent(key) { reader, position throws(BinaryFormatError) in try reader.readString(at: &position) }
    }

    func decode(_ type: Double.Type, forKey key: Key) throws -> Double {
        try read(key) { reader, position throws(BinaryFormatError) in try reader.readDouble(at: &position) }
    }

    func decodeIfPresent(_ type: Double.Type, forKey key: Key) throws -> Double? {
        try readIfPresent(key) { reader, position throws(BinaryFormatError) in try reader.readDouble(at: &position) }
    }

    func decode(_ type: Float.Type, forKey key: Key) throws -> Float {
        try read(key) { reader, position throws(BinaryFormatError) in try reader.readFloat(at: &position) }
    }

    func decodeIfPresent(_ type: Float.Type, forKey key: Key) throws -> Float? {
        try readIfPresent(key) { reader, position throws(BinaryFormatError) in try reader.readFloat(at: &position) }
    }

    func decode(_ type: Int.Type, forKey key: Key) throws -> Int {
        try read(key) { reader, position throws(BinaryFormatError) in try reader.readInteger(Int.self, at: &position) }
    }

    func decodeIfPresent(_ type: Int.Type, forKey key: Key) throws -> Int? {
        try readIfPresent(key) { reader, position throws(BinaryFormatError) in
            try reader.readInteger(Int.self, at: &position)
        }
    }

    func decode(_ type: Int8.Type, forKey key: Key) throws -> Int8 {
        try read(key) { reader, position throws(BinaryFormatError) in try reader.readInteger(Int8.self, at: &position) }
    }

    func decodeIfPresent(_ type: Int8.Type, forKey key: Key) throws -> Int8? {
        try readIfPresent(key) { reader, position throws(BinaryFormatError) in
            try reader.readInteger(Int8.self, at: &position)
        }
    }

    func decode(_ type: Int16.Type, forKey key: Key) throws -> Int16 {
        try read(key) { reader, position throws(BinaryFormatError) in try reader.readInteger(Int16.self, at: &position)
        }
    }

    func decodeIfPresent(_ type: Int16.Type, forKey key: Key) throws -> Int16? {
        try readIfPresent(key) { reader, position throws(BinaryFormatError) in
            try reader.readInteger(Int16.self, at: &position)
        }
    }

    func decode(_ type: Int32.Type, forKey key: Key) throws -> Int32 {
        try read(key) { reader, position throws(BinaryFormatError) in try reader.readInteger(Int32.self, at: &position)
        }
    }

    func decodeIfPresent(_ type: Int32.Type, forKey key: Key) throws -> Int32? {
        try readIfPresent(key) { reader, position throws(BinaryFormatError) in
            try reader.readInteger(Int32.self, at: &position)
        }
    }

    func decode(_ type: Int64.Type, forKey key: Key) throws -> Int64 {
        try read(key) { reader, position throws(BinaryFormatError) in try reader.readInteger(Int64.self, at: &position)
        }
    }

    func decodeIfPresent(_ type: Int64.Type, forKey key: Key) throws -> Int64? {
        try readIfPresent(key) { reader, position throws(BinaryFormatError) in
            try reader.readInteger(Int64.self, at: &position)
        }
    }

    func decode(_ type: UInt.Type, forKey key: Key) throws -> UInt {
        try read(key) { reader, position throws(BinaryFormatError) in try reader.readInteger(UInt.self, at: &position) }
    }

    func decodeIfPresent(_ type: UInt.Type, forKey key: Key) throws -> UInt? {
        try readIfPresent(key) { reader, position throws(BinaryFormatError) in
            try reader.readInteger(UInt.self, at: &position)
        }
    }

    func decode(_ type: UInt8.Type, forKey key: Key) throws -> UInt8 {
        try read(key) { reader, position throws(BinaryFormatError) in try reader.readInteger(UInt8.self, at: &position)
        }
    }

    func decodeIfPresent(_ type: UInt8.Type, forKey key: Key) throws -> UInt8? {
        try readIfPresent(key) { reader, position throws(BinaryFormatError) in
            try reader.readInteger(UInt8.self, at: &position)
        }
    }

    func decode(_ type: UInt16.Type, forKey key: Key) throws -> UInt16 {
        try read(key) { reader, position throws(BinaryFormatError) in try reader.readInteger(UInt16.self, at: &position)
        }
    }

    func decodeIfPresent(_ type: UInt16.Type, forKey key: Key) throws -> UInt16? {
        try readIfPresent(key) { reader, position throws(BinaryFormatError) in
            try reader.readInteger(UInt16.self, at: &position)
        }
    }

    func decode(_ type: UInt32.Type, forKey key: Key) throws -> UInt32 {
        try read(key) { reader, position throws(BinaryFormatError) in try reader.readInteger(UInt32.self, at: &position)
        }
    }

    func decodeIfPresent(_ type: UInt32.Type, forKey key: Key) throws -> UInt32? {
        try readIfPresent(key) { reader, position throws(BinaryFormatError) in
            try reader.readInteger(UInt32.self, at: &position)
        }
    }

    func decode(_ type: UInt64.Type, forKey key: Key) throws -> UInt64 {
        try read(key) { reader, position throws(BinaryFormatError) in try reader.readInteger(UInt64.self, at: &position)
        }
    }

    func decodeIfPresent(_ type: UInt64.Type, forKey key: Key) throws -> UInt64? {
        try readIfPresent(key) { reader, position throws(BinaryFormatError) in
            try reader.readInteger(UInt64.self, at: &position)
        }
    }

    @available(macOS 15.0, *)
    func decode(_ type: Int128.Type, forKey key: Key) throws -> Int128 {
        try read(key) { reader, position throws(BinaryFormatError) in
            try reader.readInteger128(Int128.self, at: &position)
        }
    }

    @available(macOS 15.0, *)
    func decodeIfPresent(_ type: Int128.Type, forKey key: Key) throws -> Int128? {
        try readIfPresent(key) { reader, position throws(BinaryFormatError) in
            try reader.readInteger128(Int128.self, at: &position)
        }
    }

    @available(macOS 15.0, *)
    func decode(_ type: UInt128.Type, forKey key: Key) throws -> UInt128 {
        try read(key) { reader, position throws(BinaryFormatError) in
            try reader.readInteger128(UInt128.self, at: &position)
        }
    }

    @available(macOS 15.0, *)
    func decodeIfPresent(_ type: UInt128.Type, forKey key: Key) throws -> UInt128? {
        try readIfPresent(key) { reader, position throws(BinaryFormatError) in
            try reader.readInteger128(UInt128.self, at: &position)
        }
    }

    func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T {
        try decodeValue(T.self, key, try locate(key))
    }

    func decodeIfPresent<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T? {
        guard let found = try find(key) else { return nil }
        if try isNil(key, found) { return nil }
        return try decodeValue(T.self, key, found)
    }

    /// Decodes pair `found`'s value as `T`: directly for types the format has a tag for,
    /// otherwise through `T.init(from:)` with a nested decoder.
    @inline(__always)
    private func decodeValue<T: Decodable>(_ type: T.Type, _ key: Key, _ found: (index: Int, value: Int)) throws -> T {
        if let primitive = BinaryPrimitive(T.self), decoder.reader.canReadDirectly(primitive, at: found.value) {
            return try read(key, found) { reader, position throws(BinaryFormatError) in
                try reader.readPrimitive(primitive, as: T.self, at: &position)
            }
        }
        let child = decoder.child(key: key, start: found.value)
        let value = try T(from: child)
        let end: Int
        do throws(BinaryFormatError) {
            end = try child.endOffset()
        } catch {
            throw child.decodingError(error)
        }
        decoder.finishPair(found.index, end: end)
        return value
    }

    /// A decoder for pair `found`'s value, consuming the pair.
    private func childDecoder(_ key: any CodingKey, _ found: (index: Int, value: Int)) -> BinaryDecoder {
        decoder.finishPair(found.index, nestedAt: found.value)
        return decoder.child(key: key, start: found.value)
    }

    func nestedContainer<NestedKey: CodingKey>(
        keyedBy type: NestedKey.Type,
        forKey key: Key
    ) throws -> KeyedDecodingContainer<NestedKey> {
        try childDecoder(key, try locate(key)).container(keyedBy: NestedKey.self)
    }

    func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer {
        try childDecoder(key, try locate(key)).unkeyedContainer()
    }

    func superDecoder() throws -> any Decoder {
        childDecoder(BinaryCodingKey.superKey, try locate(BinaryCodingKey.superKey))
    }

    func superDecoder(forKey key: Key) throws -> any Decoder {
        childDecoder(key, try locate(key))
    }
}

/// Reads the elements of an unkeyed container of the binary format, in order. Over a byte
/// string, the elements are its bytes, readable as any integer type that can hold them.
struct BinaryUnkeyedDecodingContainer: UnkeyedDecodingContainer {
    let decoder: BinaryDecoder
    let elementCount: Int
    let isBytes: Bool
    /// Offset of element `currentIndex`; valid when `pendingValue` is nil.
    private var cursor: Int
    /// Offset of element `currentIndex - 1` when it was handed out as a nested container, so
    /// its end (the cursor) is not known yet.
    private var pendingValue: Int?
    private(set) var currentIndex = 0

    init(decoder: BinaryDecoder, count: Int, isBytes: Bool, cursor: Int) {
        self.decoder = decoder
        self.elementCount = count
        self.isBytes = isBytes
        self.cursor = cursor
    }

    var codingPath: [any CodingKey] { decoder.codingPath }

    var count: Int? { elementCount }

    var isAtEnd: Bool { currentIndex >= elementCount }

    private var indexKey: BinaryCodingKey { BinaryCodingKey(intValue: currentIndex) }

    /// The offset of the next element; throws `valueNotFound` at the end.
    @inline(__always)
    private mutating func next(_ type: any Any.Type) throws -> Int {
        if let pendingValue {
            self.pendingValue = nil
            do throws(BinaryFormatError) {
                cursor = try decoder.session.skipValue(at: pendingValue, depth: decoder.depth + 1)
            } catch {
                throw decoder.decodingError(error, key: BinaryCodingKey(intValue: currentIndex - 1))
            }
        }
        guard currentIndex < elementCount else {
            throw DecodingError.valueNotFound(
                type,
                DecodingError.Context(
                    codingPath: codingPath + [indexKey],
                    debugDescription: "the unkeyed container has no more elements"
                )
            )
        }
        return cursor
    }

    /// Records that the current element was read and ends at `end`.
    @inline(__always)
    private mutating func finish(end: Int) {
        cursor = end
        currentIndex += 1
        if currentIndex == elementCount { decoder.end = .at(end) }
    }

    /// Records that the current element, at `value`, was handed out as a nested container, so
    /// where it ends is not known yet.
    @inline(__always)
    private mutating func finish(nestedAt value: Int) {
        pendingValue = value
        currentIndex += 1
        if currentIndex == elementCount { decoder.end = .afterElement(at: value) }
    }

    /// Converts a byte of a byte string to `T` when `T` is a standard integer type that can
    /// hold it; nil otherwise.
    private static func integer<T>(fromByte byte: UInt8, as type: T.Type) -> T? {
        // Each `unsafeBitCast` below converts to the type that `BinaryPrimitive(T.self)`
        // proved T to be.
        switch BinaryPrimitive(T.self) {
        case .uint8: unsafeBitCast(byte, to: T.self)
        case .int: unsafeBitCast(Int(byte), to: T.self)
        case .uint: unsafeBitCast(UInt(byte), to: T.self)
        case .int64: unsafeBitCast(Int64(byte), to: T.self)
        case .uint64: unsafeBitCast(UInt64(byte), to: T.self)
        case .int32: unsafeBitCast(Int32(byte), to: T.self)
        case .uint32: unsafeBitCast(UInt32(byte), to: T.self)
        case .int16: unsafeBitCast(Int16(byte), to: T.self)
        case .uint16: unsafeBitCast(UInt16(byte), to: T.self)
        case .int8: Int8(exactly: byte).map { unsafeBitCast($0, to: T.self) }
        default: nil
        }
    }

    private func bytesMismatch(_ type: any Any.Type) -> DecodingError {
        DecodingError.typeMismatch(
            type,
            DecodingError.Context(
                codingPath: codingPath + [indexKey],
                debugDescription: "expected \(type) but found a byte of a byte string"
            )
        )
    }

    /// Reads the current element with `body`.
    @inline(__always)
    private mutating func read<T>(_ body: (BinaryValueReader, inout Int) throws(BinaryFormatError) -> T) throws -> T {
        var position = try next(T.self)
        if isBytes { throw bytesMismatch(T.self) }
        let result: T
        do throws(BinaryFormatError) {
            result = try body(decoder.reader, &position)
        } catch {
            throw decoder.decodingError(error, key: indexKey)
        }
        finish(end: position)
        return result
    }

    /// Reads the current element as an integer of type `T`.
    @inline(__always)
    private mutating func readInteger<T: FixedWidthInteger>(_ type: T.Type) throws -> T {
        if isBytes {
            let position = try next(T.self)
            let byte: UInt8
            do throws(BinaryFormatError) {
                byte = try decoder.reader.byte(at: position)
            } catch {
                throw decoder.decodingError(error, key: indexKey)
            }
            guard let value = T(exactly: byte) else { throw bytesMismatch(T.self) }
            finish(end: position + 1)
            return value
        }
        return try read { reader, position throws(BinaryFormatError) in try reader.readInteger(T.self, at: &position) }
    }

    mutating func decodeNil() throws -> Bool {
        let position = try next(Never.self)
        if isBytes { return false }
        let tag: UInt8
        do throws(BinaryFormatError) {
            tag = try decoder.reader.byte(at: position)
        } catch {
            throw decoder.decodingError(error, key: indexKey)
        }
        guard tag == BinaryTag.null else { return false }
        finish(end: position + 1)
        return true
    }

    mutating func decode(_ type: Bool.Type) throws -> Bool {
        try read { reader, position throws(BinaryFormatError) in try reader.readBool(at: &position) }
    }

    mutating func decode(_ type: String.Type) throws -> String {
        try read { reader, position throws(BinaryFormatError) in try reader.readString(at: &position) }
    }

    mutating func decode(_ type: Double.Type) throws -> Double {
        try read { reader, position throws(BinaryFormatError) in try reader.readDouble(at: &position) }
    }

    mutating func decode(_ type: Float.Type) throws -> Float {
        try read { reader, position throws(BinaryFormatError) in try reader.readFloat(at: &position) }
    }

    mutating func decode(_ type: Int.Type) throws -> Int {
        try readInteger(Int.self)
    }

    mutating func decode(_ type: Int8.Type) throws -> Int8 {
        try readInteger(Int8.self)
    }

    mutating func decode(_ type: Int16.Type) throws -> Int16 {
        try readInteger(Int16.self)
    }

    mutating func decode(_ type: Int32.Type) throws -> Int32 {
        try readInteger(Int32.self)
    }

    mutating func decode(_ type: Int64.Type) throws -> Int64 {
        try readInteger(Int64.self)
    }

    mutating func decode(_ type: UInt.Type) throws -> UInt {
        try readInteger(UInt.self)
    }

    mutating func decode(_ type: UInt8.Type) throws -> UInt8 {
        try readInteger(UInt8.self)
    }

    mutating func decode(_ type: UInt16.Type) throws -> UInt16 {
        try readInteger(UInt16.self)
    }

    mutating func decode(_ type: UInt32.Type) throws -> UInt32 {
        try readInteger(UInt32.self)
    }

    mutating func decode(_ type: UInt64.Type) throws -> UInt64 {
        try readInteger(UInt64.self)
    }

    @available(macOS 15.0, *)
    mutating func decode(_ type: Int128.Type) throws -> Int128 {
        if isBytes { return try readInteger(Int128.self) }
        return try read { reader, position throws(BinaryFormatError) in
            try reader.readInteger128(Int128.self, at: &position)
        }
    }

    @available(macOS 15.0, *)
    mutating func decode(_ type: UInt128.Type) throws -> UInt128 {
        if isBytes { return try readInteger(UInt128.self) }
        return try read { reader, position throws(BinaryFormatError) in
            try reader.readInteger128(UInt128.self, at: &position)
        }
    }

    mutating func decode<T: Decodable>(_ type: T.Type) throws -> T {
        let start = try next(T.self)
        if isBytes {
            let byte: UInt8
            do throws(BinaryFormatError) {
                byte = try decoder.reader.byte(at: start)
            } catch {
                throw decoder.decodingError(error, key: indexKey)
            }
            guard let value = Self.integer(fromByte: byte, as: T.self) else { throw bytesMismatch(T.self) }
            finish(end: start + 1)
            return value
        }
        if let primitive = BinaryPrimitive(T.self), decoder.reader.canReadDirectly(primitive, at: start) {
            var position = start
            do throws(BinaryFormatError) {
                let value = try decoder.reader.readPrimitive(primitive, as: T.self, at: &position)
                finish(end: position)
                return value
            } catch {
                throw decoder.decodingError(error, key: indexKey)
            }
        }
        let child = decoder.child(key: indexKey, start: start)
        let value = try T(from: child)
        let end: Int
        do throws(BinaryFormatError) {
            end = try child.endOffset()
        } catch {
            throw child.decodingError(error)
        }
        finish(end: end)
        return value
    }

    /// A decoder for the current element, consuming it.
    private mutating func childDecoder() throws -> BinaryDecoder {
        let start = try next(Any.self)
        if isBytes { throw bytesMismatch(Any.self) }
        let child = decoder.child(key: indexKey, start: start)
        finish(nestedAt: start)
        return child
    }

    mutating func nestedContainer<NestedKey: CodingKey>(
        keyedBy type: NestedKey.Type
    ) throws -> KeyedDecodingContainer<NestedKey> {
        try childDecoder().container(keyedBy: NestedKey.self)
    }

    mutating func nestedUnkeyedContainer() throws -> any UnkeyedDecodingContainer {
        try childDecoder().unkeyedContainer()
    }

    mutating func superDecoder() throws -> any Decoder {
        try childDecoder()
    }
}

/// Reads the one value of a single-value container of the binary format.
struct BinarySingleValueDecodingContainer: SingleValueDecodingContainer {
    let decoder: BinaryDecoder

    var codingPath: [any CodingKey] { decoder.codingPath }

    func decodeNil() -> Bool {
        guard (try? decoder.reader.byte(at: decoder.start)) == BinaryTag.null else { return false }
        decoder.end = .at(decoder.start + 1)
        return true
    }

    /// Reads the value with `body`.
    @inline(__always)
    private func read<T>(_ body: (BinaryValueReader, inout Int) throws(BinaryFormatError) -> T) throws -> T {
        var position = decoder.start
        let result: T
        do throws(BinaryFormatError) {
            result = try body(decoder.reader, &position)
        } catch {
            throw decoder.decodingError(error)
        }
        decoder.end = .at(position)
        return result
    }

    func decode(_ type: Bool.Type) throws -> Bool {
        try read { reader, position throws(BinaryFormatError) in try reader.readBool(at: &position) }
    }

    func decode(_ type: String.Type) throws -> String {
        try read { reader, position throws(BinaryFormatError) in try reader.readString(at: &position) }
    }

    func decode(_ type: Double.Type) throws -> Double {
        try read { reader, position throws(BinaryFormatError) in try reader.readDouble(at: &position) }
    }

    func decode(_ type: Float.Type) throws -> Float {
        try read { reader, position throws(BinaryFormatError) in try reader.readFloat(at: &position) }
    }

    func decode(_ type: Int.Type) throws -> Int {
        try read { reader, position throws(BinaryFormatError) in try reader.readInteger(Int.self, at: &position) }
    }

    func decode(_ type: Int8.Type) throws -> Int8 {
        try read { reader, position throws(BinaryFormatError) in try reader.readInteger(Int8.self, at: &position) }
    }

    func decode(_ type: Int16.Type) throws -> Int16 {
        try read { reader, position throws(BinaryFormatError) in try reader.readInteger(Int16.self, at: &position) }
    }

    func decode(_ type: Int32.Type) throws -> Int32 {
        try read { reader, position throws(BinaryFormatError) in try reader.readInteger(Int32.self, at: &position) }
    }

    func decode(_ type: Int64.Type) throws -> Int64 {
        try read { reader, position throws(BinaryFormatError) in try reader.readInteger(Int64.self, at: &position) }
    }

    func decode(_ type: UInt.Type) throws -> UInt {
        try read { reader, position throws(BinaryFormatError) in try reader.readInteger(UInt.self, at: &position) }
    }

    func decode(_ type: UInt8.Type) throws -> UInt8 {
        try read { reader, position throws(BinaryFormatError) in try reader.readInteger(UInt8.self, at: &position) }
    }

    func decode(_ type: UInt16.Type) throws -> UInt16 {
        try read { reader, position throws(BinaryFormatError) in try reader.readInteger(UInt16.self, at: &position) }
    }

    func decode(_ type: UInt32.Type) throws -> UInt32 {
        try read { reader, position throws(BinaryFormatError) in try reader.readInteger(UInt32.self, at: &position) }
    }

    func decode(_ type: UInt64.Type) throws -> UInt64 {
        try read { reader, position throws(BinaryFormatError) in try reader.readInteger(UInt64.self, at: &position) }
    }

    @available(macOS 15.0, *)
    func decode(_ type: Int128.Type) throws -> Int128 {
        try read { reader, position throws(BinaryFormatError) in try reader.readInteger128(Int128.self, at: &position) }
    }

    @available(macOS 15.0, *)
    func decode(_ type: UInt128.Type) throws -> UInt128 {
        try read { reader, position throws(BinaryFormatError) in try reader.readInteger128(UInt128.self, at: &position)
        }
    }

    func decode<T: Decodable>(_ type: T.Type) throws -> T {
        try decoder.decodeSingle(T.self)
    }
}
