import Synchronization

/// The hash that places a key in its shard's table: a seeded multiply-mix over 8-byte
/// words (the construction of wyhash, which Go's and Zig's runtimes use for their maps;
/// the tail is read differently, see ``hashCheckingASCII(_:)``).
///
/// Separate from the shard hash on purpose. FNV-1a (the shard hash) is fixed and
/// public, so anyone can make many keys with the same FNV value; the table hash mixes in
/// a secret drawn once per process, so a peer of `kvs-server` cannot aim keys at one
/// probe sequence. It is cheaper than Swift's `Hasher` (SipHash-1-3 over the string's
/// scalars): see docs/design/shard-table.md and docs/design/key-hashing.md.
@usableFromInline
package enum TableHash {
    /// The per-process secret (from the system's random source, once): two odd words.
    ///
    /// Read with two plain loads. A `static let` secret would go through `swift_once` on
    /// every hash; these two atomics are initialized statically (to 0, "not drawn yet"), so only
    /// the first hash of the process takes the slow path.
    @inlinable
    package static var secret: (UInt64, UInt64) {
        let k0 = secretWords.word0.load(ordering: .acquiring)
        if k0 != 0 { return (k0, secretWords.word1.load(ordering: .relaxed)) }
        return drawSecret()
    }

    /// The secret's two words, 0 until drawn (a drawn word is odd, so never 0). One value
    /// rather than two statics: one global address to fetch from another module, not two.
    @usableFromInline
    package struct SecretWords: ~Copyable, Sendable {
        @usableFromInline let word0 = Atomic<UInt64>(0)
        @usableFromInline let word1 = Atomic<UInt64>(0)
        init() {}
    }

    @usableFromInline package static let secretWords = SecretWords()

    /// Draws the secret, unless another thread got there first: then returns that one.
    /// `word1` is set before `word0` publishes both (release), so a reader that sees a
    /// nonzero `word0` (acquire) sees the `word1` that goes with it; every caller agrees.
    @inline(never) @usableFromInline
    package static func drawSecret() -> (UInt64, UInt64) {
        var generator = SystemRandomNumberGenerator()
        var k0 = generator.next() | 1
        var k1 = generator.next() | 1
        let second = secretWords.word1.compareExchange(expected: 0, desired: k1, ordering: .acquiringAndReleasing)
        if !second.exchanged { k1 = second.original }
        let first = secretWords.word0.compareExchange(expected: 0, desired: k0, ordering: .acquiringAndReleasing)
        if !first.exchanged { k0 = first.original }
        return (k0, k1)
    }

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

    /// The hash of `bytes`, and whether they are all ASCII (every byte is read by
    /// the word loads, so the check costs one OR per word).
    ///
    /// Always inlined, so that `String.hashes` has no call in it (see there).
    ///
    /// - Complexity: O(n), about one multiplication per 8 bytes.
    @inlinable @inline(__always)
    package static func hashCheckingASCII(_ bytes: UnsafeRawBufferPointer) -> (hash: UInt64, isASCII: Bool) {
        let (k0, k1) = secret
        let count = bytes.count
        var h = k0 ^ (UInt64(truncatingIfNeeded: count) &* 0x9E37_79B9_7F4A_7C15)
        guard let base = bytes.baseAddress, count > 0 else { return (mix(h ^ k1, 0xE703_7ED1_A0B4_28DB), true) }
        var seen: UInt64 = 0
        // Whole words from the start, then the last 1 to 8 bytes from within the word
        // they start: no load straddles an 8-byte boundary of the key. A small `String`
        // is hashed from a copy on the stack, written as two 8-byte stores, and a load
        // across the two cannot be forwarded from them: it waits until both stores reach
        // the cache, which is after every older instruction has retired, the previous
        // operation's cache misses included. wyhash's overlapping tail word (bytes 4-11
        // of a 12-byte key) would do that, and no two lookups could overlap
        // (docs/design/key-hashing.md).
        var offset = 0
        // `&+`/`&-`: no overflow checks (offset < count).
        while count &- offset > 8 {
            let word = UInt64(littleEndian: base.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
            seen |= word
            h = mix(h ^ word, k1)
            offset &+= 8
        }
        let rest = count &- offset  // 1 ... 8
        let tail: UInt64
        if rest == 8 {
            tail = UInt64(littleEndian: base.loadUnaligned(fromByteOffset: offset, as: UInt64.self))
        } else if rest >= 4 {
            // Two halves that overlap when rest < 8; the length, mixed in above, tells
            // the overlaps apart.
            let low = UInt64(UInt32(littleEndian: base.loadUnaligned(fromByteOffset: offset, as: UInt32.self)))
            let high = UInt64(
                UInt32(littleEndian: base.loadUnaligned(fromByteOffset: offset &+ rest &- 4, as: UInt32.self))
            )
            tail = low | high << 32
        } else {
            let first = UInt64(base.load(fromByteOffset: offset, as: UInt8.self))
            let middle = UInt64(base.load(fromByteOffset: offset &+ rest / 2, as: UInt8.self))
            let last = UInt64(base.load(fromByteOffset: count &- 1, as: UInt8.self))
            tail = first << 16 | middle << 8 | last
        }
        seen |= tail
        h = mix(h ^ tail, k1 ^ 0xA076_1D64_78BD_642F)
        return (mix(h ^ k1, 0xE703_7ED1_A0B4_28DB), seen & 0x8080_8080_8080_8080 == 0)
    }
}
