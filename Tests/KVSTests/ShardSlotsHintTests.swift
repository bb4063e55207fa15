import Testing

@testable import KVS

@Suite("Shard: the slot hint batches prefetch from")
struct ShardSlotsHintTests {
    @Test func everyUnlockPublishesTheCurrentSlots() {
        let shard = Shard<String, Int>()
        shard.prefetchHomeSlot(ofTableHash: 12345)  // no table yet: nothing to prefetch, no crash
        #expect(shard.capacityHint.load(ordering: .relaxed) == 0)
        for i in 0..<1_000 {
            shard.withLock { state in _ = state.store("k\(i)", Entry(value: i, expiresAt: 0)) }
            // The table grows many times on the way: the hint must follow each move.
            let (base, capacity) = shard.withLock { state in
                (UInt(bitPattern: state.table.storage.slots), state.table.capacity)
            }
            #expect(shard.slotsHint.load(ordering: .relaxed) == base)
            #expect(shard.capacityHint.load(ordering: .relaxed) == capacity)
            shard.prefetchHomeSlot(ofTableHash: UInt64(i) &* 0x9E37_79B9_7F4A_7C15)
        }
        shard.lock()
        shard.withLockHeld { state in state.table = [:] }  // a transaction's path: lock(), unlock()
        shard.unlock()
        #expect(shard.capacityHint.load(ordering: .relaxed) == 0)
    }
}
