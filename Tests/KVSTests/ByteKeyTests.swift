import KVSTestSupport
import Testing

@testable import KVS

@Suite("ByteKey: the server's binary keys, short ones inline")
struct ByteKeyTests {
    /// Keys of every length around the inline limit, with zero bytes at the end (the
    /// padding of an inline key is zero too, so a count mix-up would show here).
    private static let lengths = [0, 1, 7, 8, 15, 16, 21, 22, 23, 24, 40, 300]

    @Test func keysOfEveryLengthRoundTripTheirBytes() {
        var rng = SplitMix64(seed: 7)
        for n in Self.lengths {
            var bytes = (0..<n).map { _ in UInt8.random(in: 0...255, using: &rng) }
            if n > 0 { bytes[n - 1] = 0 }
            let key = ByteKey(bytes)
            #expect(key.bytes == bytes, "length \(n)")
            #expect(key.count == n)
            #expect(key.withUnsafeBytes { Array($0) } == bytes)
            #expect(bytes.withUnsafeBytes { ByteKey($0) } == key, "both initializers agree at length \(n)")
            #expect(bytes.withUnsafeBytes { ByteKey(snapshotBytes: $0) } == key)
            let isInline = if case .inline = key.storage { true } else { false }
            #expect(isInline == (n <= ByteKey.inlineCapacity), "a key is inline exactly when it is short")
        }
    }

    @Test func equalityAndHashesFollowTheBytes() {
        for n in Self.lengths where n > 0 {
            let base = [UInt8](repeating: 0x61, count: n)
            var changedLast = base
            changedLast[n - 1] = 0x62
            let a = ByteKey(base)
            let b = ByteKey(Array(base))
            let c = ByteKey(changedLast)
            #expect(a == b && a.hashValue == b.hashValue)
            #expect(a.shardHash == b.shardHash && a.tableHash == b.tableHash)
            #expect(a != c, "keys differing in their last byte differ (length \(n))")
            #expect(a.shardHash == base.withUnsafeBytes { FNV1a.hash($0) })
            #expect(ByteKey(base + [0]) != a, "a trailing zero byte makes another key")
        }
        #expect(ByteKey([]) == ByteKey([UInt8]()))
        #expect(ByteKey([]) != ByteKey([0]))
    }

    @Test func aShortKeyFitsTheSlotWithoutAnAllocation() {
        #expect(MemoryLayout<ByteKey>.size == 24)
        #expect(ByteKey.inlineCapacity >= "key:000000123456".utf8.count, "redis-benchmark's keys are inline")
    }
}
