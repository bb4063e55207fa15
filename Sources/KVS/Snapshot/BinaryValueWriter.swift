// Appends tagged values in the binary value format (docs/value-encoding.md) to a growable
// byte buffer.

/// A growable byte buffer with one method per kind of encoded value.
///
/// Every `write...` method appends one complete value: its tag byte and its payload.
///
/// The buffer is raw memory the writer owns (it is noncopyable and frees the memory when it
/// goes away) rather than an `[UInt8]`: appending to an array checks uniqueness and capacity
/// on every byte, which costs more than the encoding itself. Every store below is preceded by
/// a ``reserve(_:)`` of at least the bytes it writes.
struct BinaryValueWriter: ~Copyable {
    private var base: UnsafeMutablePointer<UInt8>
    private var capacity: Int
    /// The number of bytes written so far.
    private(set) var count = 0

    init(capacity: Int = 256) {
        self.capacity = max(capacity, 16)
        base = UnsafeMutablePointer<UInt8>.allocate(capacity: self.capacity)
    }

    deinit {
        base.deallocate()
    }

    /// Calls `body` with the bytes written so far.
    func withBytes<R>(_ body: (UnsafeBufferPointer<UInt8>) throws -> R) rethrows -> R {
        try body(UnsafeBufferPointer(start: base, count: count))
    }

    /// Makes room for at least `extra` more bytes.
    @inline(__always)
    private mutating func reserve(_ extra: Int) {
        if capacity - count < extra { grow(extra) }
    }

    private mutating func grow(_ extra: Int) {
        let newCapacity = max(capacity * 2, count + extra)
        let newBase = UnsafeMutablePointer<UInt8>.allocate(capacity: newCapacity)
        newBase.initialize(from: base, count: count)
        base.deallocate()
        base = newBase
        capacity = newCapacity
    }

    @inline(__always)
    mutating func append(_ byte: UInt8) {
        reserve(1)
        base[count] = byte
        count += 1
    }

    @inline(__always)
    mutating func append(_ bytes: UnsafeRawBufferPointer) {
        guard let source = bytes.baseAddress, !bytes.isEmpty else { return }
        reserve(bytes.count)
        UnsafeMutableRawPointer(base + count).copyMemory(from: source, byteCount: bytes.count)
        count += bytes.count
    }

    /// Appends `value` as an unsigned LEB128 varint (1 to 10 bytes).
    @inline(__always)
    mutating func appendVarint(_ value: UInt64) {
        reserve(10)
        var rest = value
        while rest >= 0x80 {
            base[count] = UInt8(truncatingIfNeeded: rest) | 0x80
            count += 1
            rest >>= 7
        }
        base[count] = UInt8(truncatingIfNeeded: rest)
        count += 1
    }

    /// Appends `value` as an unsigned LEB128 varint (1 to 19 bytes).
    @available(macOS 15.0, *)
    mutating func appendVarint(_ value: UInt128) {
        var rest = value
        while rest >= 0x80 {
            append(UInt8(truncatingIfNeeded: rest) | 0x80)
            rest >>= 7
        }
        append(UInt8(truncatingIfNeeded: rest))
    }

    @inline(__always)
    mutating func writeNil() {
        append(BinaryTag.null)
    }

    @inline(__always)
    mutating func writeBool(_ value: Bool) {
        append(value ? BinaryTag.trueValue : BinaryTag.falseValue)
    }

    @inline(__always)
    mutating func writeUnsigned(_ value: UInt64) {
        append(BinaryTag.unsigned)
        appendVarint(value)
    }

    @inline(__always)
    mutating func writeSigned(_ value: Int64) {
        append(BinaryTag.signed)
        appendVarint(BinaryZigZag.encode(value))
    }

    @available(macOS 15.0, *)
    mutating func writeUnsigned(_ value: UInt128) {
        append(BinaryTag.unsigned)
        appendVarint(value)
    }

    @available(macOS 15.0, *)
    mutating func writeSigned(_ value: Int128) {
        append(BinaryTag.signed)
        appendVarint(BinaryZigZag.encode(value))
    }

    @inline(__always)
    mutating func writeFloat(_ value: Float) {
        reserve(5)
        base[count] = BinaryTag.float32
        UnsafeMutableRawPointer(base + count + 1).storeBytes(of: value.bitPattern.littleEndian, as: UInt32.self)
        count += 5
    }

    @inline(__always)
    mutating func writeDouble(_ value: Double) {
        reserve(9)
        base[count] = BinaryTag.float64
        UnsafeMutableRawPointer(base + count + 1).storeBytes(of: value.bitPattern.littleEndian, as: UInt64.self)
        count += 9
    }

    /// Appends a string value: tag, varint byte count, UTF-8.
    @inline(__always)
    mutating func writeString(_ value: String) {
        append(BinaryTag.string)
        appendUTF8(value)
    }

    /// Appends a byte-string value: tag, varint byte count, the bytes.
    @inline(__always)
    mutating func writeBytes(_ value: UnsafeRawBufferPointer) {
        append(BinaryTag.bytes)
        appendVarint(UInt64(value.count))
        append(value)
    }

    /// Appends a map key, which is a length-prefixed UTF-8 string without a tag.
    @inline(__always)
    mutating func writeKey(_ key: String) {
        appendUTF8(key)
    }

    /// Appends varint byte count and UTF-8 bytes of `string` (no tag).
    @inline(__always)
    private mutating func appendUTF8(_ string: String) {
        var string = string
        string.withUTF8 { utf8 in
            appendVarint(UInt64(utf8.count))
            append(UnsafeRawBufferPointer(utf8))
        }
    }

    /// Appends a container's tag and a one-byte placeholder for its count, and returns the
    /// placeholder's offset for ``patchCount(at:to:)``.
    @inline(__always)
    mutating func beginContainer(tag: UInt8) -> Int {
        reserve(2)
        base[count] = tag
        base[count + 1] = 0
        count += 2
        return count - 1
    }

    /// Appends an empty keyed container: the value of an encoder that wrote nothing.
    mutating func writeEmptyMap() {
        _ = beginContainer(tag: BinaryTag.map)
    }

    /// Writes a container's final element count into the placeholder at `offset`.
    ///
    /// Counts below 128 fit the one-byte placeholder. Larger counts need a longer varint, so
    /// the container's contents are moved up to make room: O(contents), once per container of
    /// 128 or more elements. Only the innermost open container is ever patched, so no offset
    /// held by an enclosing container moves.
    mutating func patchCount(at offset: Int, to elementCount: Int) {
        precondition(offset >= 0 && offset < count, "count placeholder out of range")
        if elementCount < 0x80 {
            base[offset] = UInt8(truncatingIfNeeded: elementCount)
            return
        }
        var length = 1
        var rest = UInt64(elementCount)
        while rest >= 0x80 {
            length += 1
            rest >>= 7
        }
        let extra = length - 1
        reserve(extra)
        let contents = offset + 1
        UnsafeMutableRawPointer(base + contents + extra).copyMemory(from: base + contents, byteCount: count - contents)
        count += extra
        rest = UInt64(elementCount)
        var position = offset
        while rest >= 0x80 {
            base[position] = UInt8(truncatingIfNeeded: rest) | 0x80
            position += 1
            rest >>= 7
        }
        base[position] = UInt8(truncatingIfNeeded: rest)
    }
}
