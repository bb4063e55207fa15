import Foundation  // precomposedStringWithCanonicalMapping

/// The stable 64-bit hash of a key that the ring and the modulo baseline both use.
///
/// Two steps:
/// 1. **Canonical bytes.** Swift compares strings by canonical equivalence, so
///    `"caf\u{E9}"` (precomposed é) and `"cafe\u{301}"` (e + combining accent) are the
///    *same* key to `==` and to the store. A shard function must send them to the same
///    shard, or a `set` with one spelling and a `get` with the other would look in two
///    different shards. So a key with any non-ASCII byte is hashed in Unicode
///    Normalization Form C (`precomposedStringWithCanonicalMapping`); an ASCII key is
///    already in NFC and is hashed as it is, with no copy.
/// 2. **FNV-1a 64, then a finalizer.** FNV-1a alone changes mostly the low bits for
///    keys that differ only at their end (`shard-1#1`, `shard-1#2`, …), which would
///    bunch virtual nodes together on the ring; the SplitMix64 finalizer spreads every
///    input bit over all 64 output bits.
package enum KeyHash {
    /// The key's position in the 64-bit hash space.
    ///
    /// - Complexity: O(k) for a key of k UTF-8 bytes (plus normalization for non-ASCII keys).
    package static func of(_ key: String) -> UInt64 {
        let utf8 = key.utf8
        let isASCII = utf8.allSatisfy { $0 < 0x80 }
        let bytesHash = isASCII ? FNV1a64.hash(utf8) : FNV1a64.hash(key.precomposedStringWithCanonicalMapping.utf8)
        return mix(bytesHash)
    }

    /// The SplitMix64 finalizer (Steele, Lea and Flood, 2014): a bijection on 64-bit
    /// values in which each input bit flips about half of the output bits.
    package static func mix(_ value: UInt64) -> UInt64 {
        var z = value
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }
}
