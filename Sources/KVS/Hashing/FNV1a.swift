/// 32-bit FNV-1a, the shard hash (offset basis 2166136261, prime 16777619).
///
/// The same function as the Go package's, so a key lands on the same shard index in
/// both for the same shard count.
@usableFromInline
package enum FNV1a {
    @inlinable package static var offsetBasis: UInt32 { 2_166_136_261 }
    @inlinable package static var prime: UInt32 { 16_777_619 }

    /// Hashes `bytes`.
    ///
    /// Eight bytes per loop turn, then the last 0 to 7 with no loop, which is cheaper than
    /// a byte loop (docs/design/key-hashing.md). Always inlined: see `String.hashes`.
    ///
    /// - Complexity: O(n) in the number of bytes.
    @inlinable @inline(__always)
    package static func hash(_ bytes: UnsafeRawBufferPointer) -> UInt32 {
        guard let base = bytes.baseAddress else { return offsetBasis }
        var h = offsetBasis
        var offset = 0
        var remaining = bytes.count
        @inline(__always) func step(_ at: Int) {
            h = (h ^ UInt32(base.load(fromByteOffset: offset &+ at, as: UInt8.self))) &* prime
        }
        while remaining >= 8 {
            step(0)
            step(1)
            step(2)
            step(3)
            step(4)
            step(5)
            step(6)
            step(7)
            offset &+= 8
            remaining &-= 8
        }
        // The last 0 to 7 bytes, straight-line from a jump table (each case falls through
        // to the next byte).
        let end = base + bytes.count
        @inline(__always) func stepFromEnd(_ back: Int) {
            h = (h ^ UInt32(end.load(fromByteOffset: -back, as: UInt8.self))) &* prime
        }
        switch remaining {
        case 7:
            stepFromEnd(7)
            fallthrough
        case 6:
            stepFromEnd(6)
            fallthrough
        case 5:
            stepFromEnd(5)
            fallthrough
        case 4:
            stepFromEnd(4)
            fallthrough
        case 3:
            stepFromEnd(3)
            fallthrough
        case 2:
            stepFromEnd(2)
            fallthrough
        case 1: stepFromEnd(1)
        default: break
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
