/// CRC-32 (IEEE 802.3, polynomial 0xEDB88320 reflected: the checksum of zlib, PNG and
/// Go's `hash/crc32.ChecksumIEEE`), computed eight bytes at a time ("slicing-by-8").
@usableFromInline
package struct CRC32: Sendable {
    /// The checksum of everything passed to ``update(_:)`` so far.
    @usableFromInline
    package var value: UInt32 { ~state }
    private var state: UInt32 = 0xFFFF_FFFF

    package init() {}

    /// The checksum of `bytes`.
    package static func checksum(_ bytes: UnsafeRawBufferPointer) -> UInt32 {
        var crc = CRC32()
        crc.update(bytes)
        return crc.value
    }

    /// Adds `bytes` to the checksum.
    ///
    /// - Complexity: O(n); about one cycle per byte.
    package mutating func update(_ bytes: UnsafeRawBufferPointer) {
        let t = CRC32Tables.shared
        var crc = state
        var i = 0
        let n = bytes.count
        t.withUnsafeBufferPointer { t in
            while i + 8 <= n {
                let lo = crc ^ bytes.loadUnaligned(fromByteOffset: i, as: UInt32.self).littleEndian
                let hi = bytes.loadUnaligned(fromByteOffset: i + 4, as: UInt32.self).littleEndian
                crc =
                    t[7 * 256 + Int(lo & 0xFF)] ^ t[6 * 256 + Int((lo >> 8) & 0xFF)]
                    ^ t[5 * 256 + Int((lo >> 16) & 0xFF)] ^ t[4 * 256 + Int(lo >> 24)]
                    ^ t[3 * 256 + Int(hi & 0xFF)] ^ t[2 * 256 + Int((hi >> 8) & 0xFF)]
                    ^ t[1 * 256 + Int((hi >> 16) & 0xFF)] ^ t[Int(hi >> 24)]
                i += 8
            }
            while i < n {
                crc = t[Int((crc ^ UInt32(bytes[i])) & 0xFF)] ^ (crc >> 8)
                i += 1
            }
        }
        state = crc
    }
}

private enum CRC32Tables {
    /// Eight 256-entry tables, one after another: table k gives the CRC of a byte
    /// followed by k zero bytes.
    static let shared: [UInt32] = {
        var t = [UInt32](repeating: 0, count: 8 * 256)
        for n in 0..<256 {
            var c = UInt32(n)
            for _ in 0..<8 { c = c & 1 != 0 ? 0xEDB8_8320 ^ (c >> 1) : c >> 1 }
            t[n] = c
        }
        for n in 0..<256 {
            var c = t[n]
            for k in 1..<8 {
                c = t[Int(c & 0xFF)] ^ (c >> 8)
                t[k * 256 + n] = c
            }
        }
        return t
    }()
}
