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
        hashCheckingASCII(bytes).hash
    }

    /// The hash of `bytes`, and whether they are all ASCII (every byte is read once by
    /// the word loads, so the check costs one OR per word).
    ///
    /// - Complexity: O(n), about one multiplication per 8 bytes.
    @inlinable
    package static func hashCheckingASCII(_ bytes: UnsafeRawBufferPointer) -> (hash: UInt64, isASCII: Bool) {
        let (k0, k1) = secret
        let count = bytes.count
        var h = k0 ^ (UInt64(truncatingIfNeeded: count) &* 0x9E37_79B9_7F4A_7C15)
        guard let base = bytes.baseAddress, count > 0 else { return (mix(h ^ k1, 0xE703_7ED1_A0B4_28DB), true) }
        var seen: UInt64 = 0
        // The last word is read overlapping the one before (or, below 8 bytes, as two
        // overlapping halves), wyhash's way: no byte loop for the tail. The length is
        // mixed in above, so "ab" and "abab"-style overlaps still differ.
        let tail: UInt64
        if count >= 8 {
            var offset = 0
            while offset + 8 < count {
                let word = UInt64(littleEndian: base.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
                seen |= word
                h = mix(h ^ word, k1)
                offset += 8
            }
            tail = UInt64(littleEndian: base.loadUnaligned(fromByteOffset: count - 8, as: UInt64.self))
        } else if count >= 4 {
            let low = UInt64(UInt32(littleEndian: base.loadUnaligned(as: UInt32.self)))
            let high = UInt64(UInt32(littleEndian: base.loadUnaligned(fromByteOffset: count - 4, as: UInt32.self)))
            tail = low | high << 32
        } else {
            let first = UInt64(base.load(as: UInt8.self))
            let middle = UInt64(base.load(fromByteOffset: count / 2, as: UInt8.self))
            let last = UInt64(base.load(fromByteOffset: count - 1, as: UInt8.self))
            tail = first << 16 | middle << 8 | last
        }
        seen |= tail
        h = mix(h ^ tail, k1 ^ 0xA076_1D64_78BD_642F)
        return (mix(h ^ k1, 0xE703_7ED1_A0B4_28DB), seen & 0x8080_8080_8080_8080 == 0)
    }
}
