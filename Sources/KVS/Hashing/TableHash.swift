/// The hash that places a key in its shard's table: a seeded multiply-mix over 8-byte
/// words (the construction of wyhash, which Go's and Zig's runtimes use for their maps).
///
/// Separate from the shard hash on purpose. FNV-1a (the seed's shard hash) is fixed and
/// public, so anyone can make many keys with the same FNV value; the table hash mixes in
/// a secret drawn once per process, so a peer of `kvs-server` cannot aim keys at one
/// probe sequence. It replaced Swift's `Hasher` (SipHash-1-3 over the string's scalars)
/// in the tables: see ``ShardTable`` for the figures.
@usableFromInline
package enum TableHash {
    /// The per-process secret (from the system's random source, once).
    @usableFromInline
    package static let secret: (UInt64, UInt64) = {
        var generator = SystemRandomNumberGenerator()
        return (generator.next() | 1, generator.next() | 1)
    }()

    /// The 128-bit product of `a` and `b`, folded to 64 bits.
    @inlinable @inline(__always)
    package static func mix(_ a: UInt64, _ b: UInt64) -> UInt64 {
        let product = a.multipliedFullWidth(by: b)
        return product.high ^ product.low
    }

    /// The hash of `bytes` under the process's secret.
    ///
    /// - Complexity: O(n), about one multiplication per 8 bytes.
    @inlinable
    package static func hash(_ bytes: UnsafeRawBufferPointer) -> UInt64 {
        let (k0, k1) = secret
        let count = bytes.count
        var h = k0 ^ (UInt64(truncatingIfNeeded: count) &* 0x9E37_79B9_7F4A_7C15)
        var offset = 0
        while offset + 8 <= count {
            let word = UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
            h = mix(h ^ word, k1)
            offset += 8
        }
        if offset < count {
            var tail: UInt64 = 0
            var shift: UInt64 = 0
            while offset < count {
                tail |= UInt64(bytes[offset]) << shift
                shift += 8
                offset += 1
            }
            h = mix(h ^ tail, k1 ^ 0xA076_1D64_78BD_642F)
        }
        return mix(h ^ k1, 0xE703_7ED1_A0B4_28DB)
    }
}
