import NIOCore

/// Writes RESP values into a `ByteBuffer` for one protocol version.
///
/// In RESP2 the RESP3-only types degrade as Redis degrades them for a RESP2 client: a map becomes a
/// flat array of keys and values, a set or a push an array, a null `$-1`, a double a bulk string of
/// its decimal text, a boolean the integer 1 or 0, a big number a bulk string, a verbatim string a
/// bulk string without its format, a blob error a simple error, and attributes are left out.
/// In RESP3 every null (`$-1`, `*-1`, `_`) is written `_`, as Redis writes it.
///
/// Besides ``encode(_:into:)``, the `write…` methods write the common replies directly, without
/// building a ``RESPValue``; integers are formatted without allocating.
///
/// Simple strings and errors cannot hold a line break: `\r` and `\n` in them are written as
/// spaces, as Redis does for error replies.
///
/// Thread-safety: a value type with no state but its version.
public struct RESPEncoder: Hashable, Sendable {
    /// The protocol version written.
    public var version: RESPVersion

    /// Creates an encoder.
    ///
    /// - Parameter version: the protocol version to write (RESP2 when omitted).
    public init(version: RESPVersion = .resp2) {
        self.version = version
    }

    /// Writes `value`.
    ///
    /// - Complexity: O(size of the value); bulk payloads are copied once into `buffer`.
    public func encode(_ value: RESPValue, into buffer: inout ByteBuffer) {
        switch value {
        case .simpleString(let text): self.writeSimpleString(text, into: &buffer)
        case .error(let message): self.writeError(message, into: &buffer)
        case .integer(let number): self.writeInteger(number, into: &buffer)
        case .bulkString(let bytes): self.writeBulkString(bytes, into: &buffer)
        case .nullBulkString, .null: self.writeNull(into: &buffer)
        case .nullArray: self.writeNullArray(into: &buffer)
        case .array(let values):
            self.writeArrayHeader(count: values.count, into: &buffer)
            for element in values { self.encode(element, into: &buffer) }
        case .double(let number): self.writeDouble(number, into: &buffer)
        case .boolean(let flag): self.writeBoolean(flag, into: &buffer)
        case .bigNumber(let digits):
            if self.version == .resp3 {
                Self.writeLine(kind: ASCII.Kind.bigNumber, digits, into: &buffer)
            } else {
                self.writeBulkString(digits, into: &buffer)
            }
        case .verbatimString(let format, let text):
            if self.version == .resp3 {
                var formatBytes = Array(format.utf8)
                if formatBytes.count != 3 { formatBytes = Array("txt".utf8) }
                Self.writeHeader(kind: ASCII.Kind.verbatimString, Int64(text.readableBytes + 4), into: &buffer)
                buffer.writeBytes(formatBytes)
                buffer.writeInteger(ASCII.colon)
                buffer.writeImmutableBuffer(text)
                buffer.writeStaticString("\r\n")
            } else {
                self.writeBulkString(text, into: &buffer)
            }
        case .map(let pairs):
            self.writeMapHeader(count: pairs.count, into: &buffer)
            for pair in pairs {
                self.encode(pair.key, into: &buffer)
                self.encode(pair.value, into: &buffer)
            }
        case .set(let values):
            self.writeSetHeader(count: values.count, into: &buffer)
            for element in values { self.encode(element, into: &buffer) }
        case .attribute(let pairs, let annotated):
            if self.version == .resp3 {
                Self.writeHeader(kind: ASCII.Kind.attribute, Int64(pairs.count), into: &buffer)
                for pair in pairs {
                    self.encode(pair.key, into: &buffer)
                    self.encode(pair.value, into: &buffer)
                }
            }
            self.encode(annotated, into: &buffer)
        case .push(let values):
            Self.writeHeader(
                kind: self.version == .resp3 ? ASCII.Kind.push : ASCII.Kind.array,
                Int64(values.count),
                into: &buffer
            )
            for element in values { self.encode(element, into: &buffer) }
        case .blobError(let bytes):
            if self.version == .resp3 {
                Self.writeHeader(kind: ASCII.Kind.blobError, Int64(bytes.readableBytes), into: &buffer)
                buffer.writeImmutableBuffer(bytes)
                buffer.writeStaticString("\r\n")
            } else {
                self.writeError(String(buffer: bytes), into: &buffer)
            }
        }
    }
}

// MARK: - Fast paths for common replies

extension RESPEncoder {
    /// Writes `+OK\r\n`.
    ///
    /// - Complexity: O(1).
    public func writeOK(into buffer: inout ByteBuffer) {
        Self.writeShort("+OK\r\n", into: &buffer)
    }

    /// Writes a simple string (`+text`); `\r` and `\n` in `text` are written as spaces.
    ///
    /// - Complexity: O(`text.utf8.count`).
    public func writeSimpleString(_ text: String, into buffer: inout ByteBuffer) {
        Self.writeLine(kind: ASCII.Kind.simpleString, text, into: &buffer)
    }

    /// Writes an error (`-CODE message`, for example `ERR unknown command`); `\r` and `\n` in
    /// `message` are written as spaces.
    ///
    /// - Complexity: O(`message.utf8.count`).
    public func writeError(_ message: String, into buffer: inout ByteBuffer) {
        Self.writeLine(kind: ASCII.Kind.error, message, into: &buffer)
    }

    /// Writes an error (`-` and `bytes`, code first), for a text that quotes a peer's bytes
    /// as they are; CR and LF become spaces, so the reply stays one line.
    ///
    /// - Complexity: O(`bytes.count`).
    public func writeError(bytes: [UInt8], into buffer: inout ByteBuffer) {
        buffer.writeInteger(ASCII.Kind.error)
        buffer.writeBytes(bytes.lazy.map { $0 == ASCII.cr || $0 == ASCII.lf ? ASCII.space : $0 })
        buffer.writeStaticString("\r\n")
    }

    /// Writes an integer (`:n`), formatted without allocating.
    ///
    /// - Complexity: O(1).
    public func writeInteger(_ value: Int64, into buffer: inout ByteBuffer) {
        Self.writeHeader(kind: ASCII.Kind.integer, value, into: &buffer)
    }

    /// Writes a bulk string (`$n` and the bytes).
    ///
    /// - Complexity: O(`bytes.readableBytes`): one copy into `buffer`.
    public func writeBulkString(_ bytes: ByteBuffer, into buffer: inout ByteBuffer) {
        buffer.reserveCapacity(minimumWritableBytes: bytes.readableBytes + Self.maxHeaderLength + 2)
        Self.writeHeader(kind: ASCII.Kind.bulkString, Int64(bytes.readableBytes), into: &buffer)
        buffer.writeImmutableBuffer(bytes)
        buffer.writeStaticString("\r\n")
    }

    /// Writes a bulk string (`$n` and the bytes).
    ///
    /// - Complexity: O(`bytes.count`): one copy into `buffer`.
    public func writeBulkString(_ bytes: [UInt8], into buffer: inout ByteBuffer) {
        buffer.reserveCapacity(minimumWritableBytes: bytes.count + Self.maxHeaderLength + 2)
        Self.writeHeader(kind: ASCII.Kind.bulkString, Int64(bytes.count), into: &buffer)
        buffer.writeBytes(bytes)
        buffer.writeStaticString("\r\n")
    }

    /// Writes a bulk string (`$n` and the bytes).
    ///
    /// - Complexity: O(`bytes.count`): one copy into `buffer`.
    public func writeBulkString(_ bytes: UnsafeRawBufferPointer, into buffer: inout ByteBuffer) {
        // Header, bytes and CRLF in one write into the storage: each separate ByteBuffer write
        // checks capacity, uniqueness and exclusive access again, which costs more than
        // the copy for a short value.
        buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: bytes.count + Self.maxHeaderLength + 2) { out in
            var length = Self.writeHeader(kind: ASCII.Kind.bulkString, Int64(bytes.count), into: out)
            UnsafeMutableRawBufferPointer(rebasing: out[length..<(length + bytes.count)]).copyMemory(from: bytes)
            length += bytes.count
            out[length] = ASCII.cr
            out[length + 1] = ASCII.lf
            return length + 2
        }
    }

    /// Writes a bulk string (`$n` and the UTF-8 bytes of `text`).
    ///
    /// - Complexity: O(`text.utf8.count`): one copy into `buffer`.
    public func writeBulkString(_ text: String, into buffer: inout ByteBuffer) {
        let count = text.utf8.count
        buffer.reserveCapacity(minimumWritableBytes: count + Self.maxHeaderLength + 2)
        Self.writeHeader(kind: ASCII.Kind.bulkString, Int64(count), into: &buffer)
        buffer.writeString(text)
        buffer.writeStaticString("\r\n")
    }

    /// Writes the null reply: `$-1` in RESP2 (a missing key), `_` in RESP3.
    ///
    /// - Complexity: O(1).
    public func writeNull(into buffer: inout ByteBuffer) {
        Self.writeShort(self.version == .resp3 ? "_\r\n" : "$-1\r\n", into: &buffer)
    }

    /// Writes the null array reply: `*-1` in RESP2 (for example an aborted `EXEC`), `_` in RESP3.
    ///
    /// - Complexity: O(1).
    public func writeNullArray(into buffer: inout ByteBuffer) {
        buffer.writeStaticString(self.version == .resp3 ? "_\r\n" : "*-1\r\n")
    }

    /// Writes an array header (`*count`); the caller then writes `count` values.
    ///
    /// - Complexity: O(1).
    public func writeArrayHeader(count: Int, into buffer: inout ByteBuffer) {
        Self.writeHeader(kind: ASCII.Kind.array, Int64(count), into: &buffer)
    }

    /// Writes a map header: `%count` in RESP3, `*(2 × count)` in RESP2; the caller then writes
    /// `count` keys each followed by its value.
    ///
    /// - Complexity: O(1).
    public func writeMapHeader(count: Int, into buffer: inout ByteBuffer) {
        if self.version == .resp3 {
            Self.writeHeader(kind: ASCII.Kind.map, Int64(count), into: &buffer)
        } else {
            Self.writeHeader(kind: ASCII.Kind.array, Int64(count) * 2, into: &buffer)
        }
    }

    /// Writes a set header: `~count` in RESP3, `*count` in RESP2; the caller then writes `count` values.
    ///
    /// - Complexity: O(1).
    public func writeSetHeader(count: Int, into buffer: inout ByteBuffer) {
        Self.writeHeader(kind: self.version == .resp3 ? ASCII.Kind.set : ASCII.Kind.array, Int64(count), into: &buffer)
    }

    /// Writes a double: `,text` in RESP3, a bulk string of the same text in RESP2. The text is
    /// Redis's: `inf`, `-inf`, `nan`, an integral value as an integer (`3`, `-0`), otherwise the
    /// shortest decimal that reads back as the same double (`1.5`, `1e+20`).
    ///
    /// - Complexity: O(1); allocates a short string for non-integral values.
    public func writeDouble(_ value: Double, into buffer: inout ByteBuffer) {
        let text = Self.format(value)
        if self.version == .resp3 {
            Self.writeLine(kind: ASCII.Kind.double, text, into: &buffer)
        } else {
            self.writeBulkString(text, into: &buffer)
        }
    }

    /// Writes a boolean: `#t` / `#f` in RESP3, `:1` / `:0` in RESP2.
    ///
    /// - Complexity: O(1).
    public func writeBoolean(_ value: Bool, into buffer: inout ByteBuffer) {
        switch (self.version, value) {
        case (.resp3, true): buffer.writeStaticString("#t\r\n")
        case (.resp3, false): buffer.writeStaticString("#f\r\n")
        case (.resp2, true): buffer.writeStaticString(":1\r\n")
        case (.resp2, false): buffer.writeStaticString(":0\r\n")
        }
    }
}

// MARK: - Byte-level helpers

extension RESPEncoder {
    /// The longest header: a type byte, a sign, 19 digits, `\r\n`.
    static let maxHeaderLength = 23

    /// Writes a short constant reply (`+OK\r\n`, `$-1\r\n`) straight into `buffer`'s storage,
    /// rather than through `writeStaticString`'s generic `setBytes`, which costs more per
    /// reply.
    ///
    /// - Complexity: O(1).
    @inline(__always)
    static func writeShort(_ text: StaticString, into buffer: inout ByteBuffer) {
        let count = text.utf8CodeUnitCount
        buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: count) { out in
            out.copyMemory(from: UnsafeRawBufferPointer(start: text.utf8Start, count: count))
            return count
        }
    }

    /// Writes `kind`, the decimal `number` and `\r\n`, straight into `buffer`'s storage.
    ///
    /// - Complexity: O(1).
    static func writeHeader(kind: UInt8, _ number: Int64, into buffer: inout ByteBuffer) {
        buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: Self.maxHeaderLength) { out in
            Self.writeHeader(kind: kind, number, into: out)
        }
    }

    /// Writes `kind`, the decimal `number` and `\r\n` at the start of `out`, which has room
    /// for ``maxHeaderLength`` bytes.
    ///
    /// - Returns: the number of bytes written.
    @inline(__always)
    static func writeHeader(kind: UInt8, _ number: Int64, into out: UnsafeMutableRawBufferPointer) -> Int {
        out[0] = kind
        let length = 1 + Self.writeDecimal(number, into: out, at: 1)
        out[length] = ASCII.cr
        out[length + 1] = ASCII.lf
        return length + 2
    }

    /// Writes the decimal digits of `value` (with `-` if negative) at `start`.
    ///
    /// - Returns: the number of bytes written (at most 20).
    @inline(__always)
    static func writeDecimal(_ value: Int64, into out: UnsafeMutableRawBufferPointer, at start: Int) -> Int {
        var magnitude = value.magnitude
        var digits = 1
        var rest = magnitude
        while rest >= 10 {
            rest /= 10
            digits += 1
        }
        var index = start
        if value < 0 {
            out[index] = ASCII.minus
            index += 1
        }
        var position = index + digits - 1
        repeat {
            out[position] = ASCII.zero &+ UInt8(truncatingIfNeeded: magnitude % 10)
            magnitude /= 10
            position -= 1
        } while magnitude > 0
        return index + digits - start
    }

    /// Writes `kind`, `text` with `\r` and `\n` replaced by spaces, and `\r\n`.
    static func writeLine(kind: UInt8, _ text: String, into buffer: inout ByteBuffer) {
        buffer.writeInteger(kind)
        if text.utf8.contains(where: { $0 == ASCII.cr || $0 == ASCII.lf }) {
            buffer.writeBytes(text.utf8.lazy.map { $0 == ASCII.cr || $0 == ASCII.lf ? ASCII.space : $0 })
        } else {
            buffer.writeString(text)
        }
        buffer.writeStaticString("\r\n")
    }

    /// A double as Redis formats it (see ``writeDouble(_:into:)``).
    static func format(_ value: Double) -> String {
        if value.isNaN { return "nan" }
        if value.isInfinite { return value < 0 ? "-inf" : "inf" }
        if value == 0 { return value.sign == .minus ? "-0" : "0" }
        // Redis prints integral values within ±LLONG_MAX/2 as integers (`double2ll`).
        if value.rounded(.towardZero) == value && value.magnitude < 4.611_686_018_427_387_904e18 {
            return String(Int64(value))
        }
        return value.description
    }
}
