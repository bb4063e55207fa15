/// 64-bit FNV-1a: a simple hash whose value is the same on every machine, in every
/// process and in every version of Swift.
///
/// Swift's own `Hasher` is seeded at random each time a program starts, so it cannot
/// place keys on shards that must stay put from one run to the next; FNV-1a can.
///
/// Parameters are the published ones: offset basis `0xcbf29ce484222325`, prime
/// `0x100000001b3`.
package enum FNV1a64 {
    /// The hash of no bytes, and the starting state of every hash.
    package static let offsetBasis: UInt64 = 0xcbf2_9ce4_8422_2325
    /// The multiplier applied after each byte.
    package static let prime: UInt64 = 0x0000_0100_0000_01b3

    /// Hashes a sequence of bytes.
    ///
    /// - Complexity: O(n) in the number of bytes.
    package static func hash<Bytes: Sequence<UInt8>>(_ bytes: Bytes) -> UInt64 {
        var hash = offsetBasis
        for byte in bytes {
            hash = (hash ^ UInt64(byte)) &* prime
        }
        return hash
    }
}
