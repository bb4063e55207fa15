/// CRC-64/Jones, the checksum Redis puts at the end of its DUMP payloads and RDB files
/// (Redis's crc64.c): reflected polynomial 0xad93d23594c935a9, initial value 0, no final
/// XOR. The check value of `"123456789"` is 0xe9c6d914c4b8d9ca.
///
/// Thread-safety: a value type; the shared table is immutable.
struct CRC64: Sendable {
    /// The checksum of everything passed to ``update(_:)`` so far.
    private(set) var value: UInt64 = 0

    /// Adds `bytes` to the checksum.
    ///
    /// - Complexity: O(`bytes.count`), one table lookup per byte.
    mutating func update(_ bytes: UnsafeRawBufferPointer) {
        let table = CRC64.table
        var crc = value
        for byte in bytes {
            crc = table[Int(UInt8(truncatingIfNeeded: crc) ^ byte)] ^ (crc >> 8)
        }
        value = crc
    }

    /// The checksum of `bytes`.
    static func checksum(_ bytes: UnsafeRawBufferPointer) -> UInt64 {
        var crc = CRC64()
        crc.update(bytes)
        return crc.value
    }

    /// The CRC of each byte value, for the bit-reversed polynomial.
    private static let table: [UInt64] = (0..<256).map { n in
        var c = UInt64(n)
        for _ in 0..<8 { c = c & 1 != 0 ? (c >> 1) ^ 0x95AC_9329_AC4B_C9B5 : c >> 1 }
        return c
    }
}
