// Bounds-checked reading of the binary value format (docs/value-encoding.md) from a
// borrowed buffer. Every read checks its offset against the buffer's end before touching
// memory, and every length is checked against the bytes that remain before anything is
// allocated, so no input can make a read go out of bounds or trap.

import Foundation

/// A structural problem in the input: truncated, malformed, or a value of the wrong kind.
/// The decoder turns it into a `DecodingError` carrying the coding path.
struct BinaryFormatError: Error {
    /// What was wrong, in words.
    let message: String
    /// The byte offset where the problem was found.
    let offset: Int
    /// For a value of the wrong kind, the type that was asked for.
    let expected: (any Any.Type)?

    init(_ message: String, at offset: Int, expected: (any Any.Type)? = nil) {
        self.message = message
        self.offset = offset
        self.expected = expected
    }

    static func truncated(at offset: Int) -> BinaryFormatError {
        BinaryFormatError("input ends in the middle of a value", at: offset)
    }

    static func mismatch(_ type: any Any.Type, found tag: UInt8, at offset: Int) -> BinaryFormatError {
        BinaryFormatError("expected \(type) but found \(BinaryTag.name(tag))", at: offset, expected: type)
    }

    /// The `DecodingError` this becomes at `codingPath`.
    func decodingError(codingPath: [any CodingKey]) -> DecodingError {
        let context = DecodingError.Context(
            codingPath: codingPath,
            debugDescription: "\(message) (at byte \(offset))"
        )
        if let expected {
            return DecodingError.typeMismatch(expected, context)
        }
        return DecodingError.dataCorrupted(context)
    }
}

/// A read-only view of the input with one bounds-checked reader per kind of value.
///
/// Offsets passed in are never negative and never beyond `count`: they start at 0 and only
/// ever advance by lengths that were checked against the remaining bytes.
struct BinaryValueReader {
    let base: UnsafeRawPointer
    let count: Int

    // MARK: Raw pieces

    /// The byte at `offset`.
    @inline(__always)
    func byte(at offset: Int) throws(BinaryFormatError) -> UInt8 {
        guard offset < count else { throw .truncated(at: offset) }
        return base.load(fromByteOffset: offset, as: UInt8.self)
    }

    /// Reads an unsigned LEB128 varint of at most 64 bits at `offset` and moves past it.
    @inline(__always)
    func varint(at offset: inout Int) throws(BinaryFormatError) -> UInt64 {
        let first = try byte(at: offset)
        if first < 0x80 {
            offset += 1
            return UInt64(first)
        }
        return try longVarint(at: &offset)
    }

    private func longVarint(at offset: inout Int) throws(BinaryFormatError) -> UInt64 {
        var result: UInt64 = 0
        var shift: UInt64 = 0
        var position = offset
        while true {
            let byte = try byte(at: position)
            // The tenth byte holds bit 63 only; anything more does not fit 64 bits.
            if shift == 63 && byte > 1 {
                throw BinaryFormatError("integer does not fit in 64 bits", at: offset)
            }
            position += 1
            result |= UInt64(byte & 0x7F) << shift
            if byte < 0x80 {
                offset = position
                return result
            }
            shift += 7
        }
    }

    /// Reads an unsigned LEB128 varint of at most 128 bits at `offset` and moves past it.
    @available(macOS 15.0, *)
    func varint128(at offset: inout Int) throws(BinaryFormatError) -> UInt128 {
        var result: UInt128 = 0
        var shift: UInt128 = 0
        var position = offset
        while true {
            let byte = try byte(at: position)
            // The nineteenth byte holds bits 126 and 127 only.
            if shift == 126 && byte > 3 {
                throw BinaryFormatError("integer does not fit in 128 bits", at: offset)
            }
            position += 1
            result |= UInt128(byte & 0x7F) << shift
            if byte < 0x80 {
                offset = position
                return result
            }
            shift += 7
        }
    }

    /// Moves past a varint of at most 128 bits without decoding it.
    func skipVarint(at offset: inout Int) throws(BinaryFormatError) {
        var position = offset
        for index in 0..<19 {
            let byte = try byte(at: position)
            position += 1
            if byte < 0x80 {
                if index == 18 && byte > 3 { break }
                offset = position
                return
            }
        }
        throw BinaryFormatError("integer does not fit in 128 bits", at: offset)
    }

    /// Reads a varint count of items each at least `itemSize` bytes long, and checks that
    /// that many items can fit in the bytes after it. So a count read here never exceeds the
    /// input size, and is safe to allocate for.
    @inline(__always)
    func count(at offset: inout Int, itemSize: Int) throws(BinaryFormatError) -> Int {
        let start = offset
        let value = try varint(at: &offset)
        guard value <= UInt64((count - offset) / itemSize) else {
            throw BinaryFormatError(
                "a length of \(value) exceeds the \(count - offset) bytes that remain",
                at: start
            )
        }
        return Int(value)
    }

    /// Reads a map key (varint length and UTF-8, no tag) and moves past it; returns where its
    /// bytes are. The bytes are not validated as UTF-8 here (see ``string(start:count:)``).
    @inline(__always)
    func key(at offset: inout Int) throws(BinaryFormatError) -> (start: Int, count: Int) {
        let length = try count(at: &offset, itemSize: 1)
        let start = offset
        offset += length
        return (start, length)
    }

    /// Whether the `count` bytes at `start` are exactly `utf8`.
    @inline(__always)
    func bytesEqual(start: Int, count: Int, _ utf8: UnsafeBufferPointer<UInt8>) -> Bool {
        guard utf8.count == count else { return false }
        guard count > 0, let other = utf8.baseAddress else { return true }
        if count > 16 { return memcmp(base + start, other, count) == 0 }
        // Keys are short: comparing in place beats a call to memcmp.
        for index in 0..<count where base.load(fromByteOffset: start + index, as: UInt8.self) != other[index] {
            return false
        }
        return true
    }

    /// Whether the `count` bytes at `start` are the UTF-8 of `key`'s string value.
    @inline(__always)
    func keyEquals(start: Int, count: Int, _ key: some CodingKey) -> Bool {
        var string = key.stringValue
        return string.withUTF8 { bytesEqual(start: start, count: count, $0) }
    }

    /// The `count` bytes at `start` (already bounds-checked) as a String; throws if they are
    /// not valid UTF-8.
    @inline(__always)
    func string(start: Int, count: Int) throws(BinaryFormatError) -> String {
        let raw = UnsafeRawBufferPointer(start: base + start, count: count)
        let string = raw.withMemoryRebound(to: UInt8.self) { utf8 in
            // Once validated, `String(decoding:)` takes the bytes as they are.
            BinaryUTF8Validation.isValid(utf8) ? String(decoding: utf8, as: UTF8.self) : nil
        }
        guard let string else { throw BinaryFormatError("a string is not valid UTF-8", at: start) }
        return string
    }

    // MARK: Tagged values

    /// Reads a `nil` if there is one at `offset`, moving past it; otherwise leaves `offset`.
    @inline(__always)
    func readNil(at offset: inout Int) throws(BinaryFormatError) -> Bool {
        if try byte(at: offset) == BinaryTag.null {
            offset += 1
            return true
        }
        return false
    }

    @inline(__always)
    func readBool(at offset: inout Int) throws(BinaryFormatError) -> Bool {
        let tag = try byte(at: offset)
        switch tag {
        case BinaryTag.falseValue:
            offset += 1
            return false
        case BinaryTag.trueValue:
            offset += 1
            return true
        default:
            throw .mismatch(Bool.self, found: tag, at: offset)
        }
    }

    /// Reads any integer value and converts it to `T`, throwing if it is out of `T`'s range.
    @inline(__always)
    func readInteger<T: FixedWidthInteger>(_ type: T.Type, at offset: inout Int) throws(BinaryFormatError) -> T {
        let start = offset
        let tag = try byte(at: offset)
        var position = offset + 1
        let converted: T?
        switch tag {
        case BinaryTag.signed:
            converted = try T(exactly: BinaryZigZag.decode(varint(at: &position)))
        case BinaryTag.unsigned:
            converted = try T(exactly: varint(at: &position))
        default:
            throw .mismatch(T.self, found: tag, at: start)
        }
        guard let converted else {
            throw BinaryFormatError("integer is out of the range of \(T.self)", at: start, expected: T.self)
        }
        offset = position
        return converted
    }

    /// Reads any integer value as a 128-bit `T`, throwing if it is out of `T`'s range.
    @available(macOS 15.0, *)
    func readInteger128<T: FixedWidthInteger>(_ type: T.Type, at offset: inout Int) throws(BinaryFormatError) -> T {
        let start = offset
        let tag = try byte(at: offset)
        var position = offset + 1
        let converted: T?
        switch tag {
        case BinaryTag.signed:
            converted = try T(exactly: BinaryZigZag.decode(varint128(at: &position)))
        case BinaryTag.unsigned:
            converted = try T(exactly: varint128(at: &position))
        default:
            throw .mismatch(T.self, found: tag, at: start)
        }
        guard let converted else {
            throw BinaryFormatError("integer is out of the range of \(T.self)", at: start, expected: T.self)
        }
        offset = position
        return converted
    }

    /// Reads a `Float`; only a float32 value is accepted (a float64 could lose precision).
    @inline(__always)
    func readFloat(at offset: inout Int) throws(BinaryFormatError) -> Float {
        let tag = try byte(at: offset)
        guard tag == BinaryTag.float32 else { throw .mismatch(Float.self, found: tag, at: offset) }
        guard count - offset >= 5 else { throw .truncated(at: offset) }
        let bits = base.loadUnaligned(fromByteOffset: offset + 1, as: UInt32.self)
        offset += 5
        return Float(bitPattern: UInt32(littleEndian: bits))
    }

    /// Reads a `Double` from a float64 value, or (exactly) from a float32 value.
    @inline(__always)
    func readDouble(at offset: inout Int) throws(BinaryFormatError) -> Double {
        let tag = try byte(at: offset)
        if tag == BinaryTag.float64 {
            guard count - offset >= 9 else { throw .truncated(at: offset) }
            let bits = base.loadUnaligned(fromByteOffset: offset + 1, as: UInt64.self)
            offset += 9
            return Double(bitPattern: UInt64(littleEndian: bits))
        }
        if tag == BinaryTag.float32 {
            return Double(try readFloat(at: &offset))
        }
        throw .mismatch(Double.self, found: tag, at: offset)
    }

    /// Reads a string value, validating its UTF-8.
    @inline(__always)
    func readString(at offset: inout Int) throws(BinaryFormatError) -> String {
        let tag = try byte(at: offset)
        guard tag == BinaryTag.string else { throw .mismatch(String.self, found: tag, at: offset) }
        var position = offset + 1
        let length = try count(at: &position, itemSize: 1)
        let string = try string(start: position, count: length)
        offset = position + length
        return string
    }

    /// Reads a byte-string value and returns where its bytes are.
    func readByteString(_ type: any Any.Type, at offset: inout Int) throws(BinaryFormatError) -> UnsafeRawBufferPointer
    {
        let tag = try byte(at: offset)
        guard tag == BinaryTag.bytes else { throw .mismatch(type, found: tag, at: offset) }
        var position = offset + 1
        let length = try count(at: &position, itemSize: 1)
        offset = position + length
        return UnsafeRawBufferPointer(start: base + position, count: length)
    }
}
