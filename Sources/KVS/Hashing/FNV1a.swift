/// 32-bit FNV-1a, the seed's shard hash (offset basis 2166136261, prime 16777619).
///
/// The same function as the Go package's, so a key lands on the same shard index in
/// both for the same shard count.
@usableFromInline
package enum FNV1a {
    @inlinable package static var offsetBasis: UInt32 { 2_166_136_261 }
    @inlinable package static var prime: UInt32 { 16_777_619 }

    /// Hashes `bytes`.
    ///
    /// - Complexity: O(n) in the number of bytes.
    @inlinable
    package static func hash(_ bytes: UnsafeRawBufferPointer) -> UInt32 {
        var h = offsetBasis
        for byte in bytes {
            h = (h ^ UInt32(byte)) &* prime
        }
        return h
    }

    /// Hashes `bytes`, and tells whether they were all ASCII (below 0x80) in the same pass.
    @inlinable
    package static func hashCheckingASCII(_ bytes: UnsafeBufferPointer<UInt8>) -> (hash: UInt32, isASCII: Bool) {
        var h = offsetBasis
        var high: UInt8 = 0
        for byte in bytes {
            high |= byte
            h = (h ^ UInt32(byte)) &* prime
        }
        return (h, high < 0x80)
    }
}
