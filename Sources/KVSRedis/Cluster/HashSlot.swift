/// Redis Cluster's key → hash slot function: CRC16-XMODEM of the key's UTF-8 bytes, modulo
/// 16384, over the key's `{hash tag}` when it has one.
///
/// The hash tag rule, as the cluster specification and `CLUSTER KEYSLOT` apply it: find the
/// first `{`; then the first `}` after it; if both exist and at least one byte lies between
/// them, only those bytes are hashed; otherwise the whole key is. So `{user1000}.following`
/// and `{user1000}.followers` share a slot, `foo{}{bar}` hashes the whole key, and
/// `foo{{bar}}zap` hashes `{bar`.
///
/// - Thread safety: pure functions over immutable tables.
package enum HashSlot {
    /// The number of hash slots of a Redis Cluster.
    package static let count = 16384

    /// The hash slot of `key`, in `0..<16384`.
    ///
    /// - Complexity: O(key length in UTF-8).
    package static func slot(for key: String) -> Int {
        var key = key
        return key.withUTF8 { slot(forUTF8: $0) }
    }

    /// The hash slot of a key given as UTF-8 bytes.
    ///
    /// - Complexity: O(`bytes.count`).
    package static func slot(forUTF8 bytes: UnsafeBufferPointer<UInt8>) -> Int {
        if let open = bytes.firstIndex(of: UInt8(ascii: "{")),
            let close = bytes[(open + 1)...].firstIndex(of: UInt8(ascii: "}")),
            close > open + 1
        {
            return Int(crc16(UnsafeBufferPointer(rebasing: bytes[(open + 1)..<close])) & 0x3FFF)
        }
        return Int(crc16(bytes) & 0x3FFF)
    }

    /// CRC16-XMODEM (polynomial 0x1021, initial value 0, no reflection, no final XOR): the
    /// checksum Redis Cluster uses; `"123456789"` gives 0x31C3.
    ///
    /// - Complexity: O(`bytes.count`), one table lookup per byte.
    package static func crc16(_ bytes: UnsafeBufferPointer<UInt8>) -> UInt16 {
        var crc: UInt16 = 0
        table.withUnsafeBufferPointer { table in
            for byte in bytes {
                crc = (crc << 8) ^ table[Int(UInt8(truncatingIfNeeded: crc >> 8) ^ byte)]
            }
        }
        return crc
    }

    /// The CRC of each byte value, computed once.
    private static let table: [UInt16] = (0..<256).map { byte in
        var crc = UInt16(byte) << 8
        for _ in 0..<8 {
            crc = crc & 0x8000 != 0 ? (crc << 1) ^ 0x1021 : crc << 1
        }
        return crc
    }
}
