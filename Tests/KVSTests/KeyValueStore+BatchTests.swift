import KVS
import Testing

@Suite("KeyValueStore: batches")
struct BatchTests {
    @Test func batchGetSplitsValuesAndErrors() throws {
        let store = try KeyValueStore<Int>(shardCount: 8)
        defer { store.close() }
        for i in 0..<50 { try store.set("k\(i)", i) }
        let keys = (0..<100).map { "k\($0)" } + ["k1", "k1", "k99"]  // duplicates are reported once
        let result = try store.batchGet(keys)
        #expect(result.values.count == 50)
        #expect(result.errors.count == 50)
        #expect(Set(result.values.keys).isDisjoint(with: result.errors.keys))
        #expect(result.values.count + result.errors.count == Set(keys).count)
        for i in 0..<50 { #expect(result.values["k\(i)"] == i) }
        #expect(result.errors.values.allSatisfy { $0.code == .notFound })
        #expect(result.errors["k77"]?.key == "k77")
    }

    @Test func batchSetStoresEveryItem() throws {
        let store = try KeyValueStore<String>(shardCount: 8)
        defer { store.close() }
        try store.set("k3", "old")
        let items = Dictionary(uniqueKeysWithValues: (0..<1000).map { ("k\($0)", "v\($0)") })
        let result = try store.batchSet(items)
        #expect(result.successful == 1000)
        #expect(result.errors.isEmpty)
        #expect(result.successful + result.errors.count == items.count)
        #expect(store.count == 1000)
        #expect(try store.get("k3") == "v3")
        #expect(try store.batchSet([:]).successful == 0)
        store.engine.checkInvariants()
    }

    @Test func batchDeleteHandlesMissingAndDuplicateKeys() throws {
        let store = try KeyValueStore<Int>(shardCount: 8)
        defer { store.close() }
        for i in 0..<10 { try store.set("k\(i)", i) }
        let keys = ["k0", "k1", "k1", "k2", "missing", "missing", "k9"]
        let result = try store.batchDelete(keys)
        #expect(result.deleted == 4)
        #expect(result.errors.keys.sorted() == ["missing"])
        #expect(result.errors["missing"]?.code == .notFound)
        #expect(result.deleted + result.errors.count == Set(keys).count)
        #expect(store.count == 6)
        #expect(!store.exists("k1"))
        store.engine.checkInvariants()
    }

    @Test func batchesSeeExpiry() throws {
        let clock = ManualClock()
        let store = try makeStore(Int.self, clock: clock, sweepInterval: .seconds(3600))
        defer { store.close() }
        _ = try store.batchSet(["a": 1, "b": 2], ttl: .seconds(1))
        try store.set("c", 3)
        clock.advance(by: .seconds(1))
        let got = try store.batchGet(["a", "b", "c"])
        #expect(got.values == ["c": 3])
        #expect(got.errors.count == 2)
        #expect(store.count == 1, "expired entries found by the batch were removed")
        _ = try store.batchSet(["d": 4], ttl: .seconds(1))
        clock.advance(by: .seconds(2))
        let deleted = try store.batchDelete(["c", "d"])
        #expect(deleted.deleted == 1)
        #expect(deleted.errors["d"]?.code == .notFound)
        #expect(store.count == 0)
        store.engine.checkInvariants()
    }

    @Test func batchesTakeEachShardLockOnce() throws {
        // Group a batch's keys by shard: each touched shard appears in exactly one group.
        let store = try KeyValueStore<Int>(shardCount: 16)
        defer { store.close() }
        let keys = (0..<500).map { "k\($0)" }
        var groups: [Int] = []
        var positions = 0
        store.engine.forEachShardGroup(count: keys.count, key: { keys[$0] }, invalid: { _ in }) { shard, group, tableHashes in
            let index = store.engine.shards.firstIndex { $0 === shard } ?? -1
            groups.append(index)
            positions += group.count
            for packed in group {
                let position = Int(packed & 0xFFFF_FFFF)
                #expect(store.engine.shardIndex(of: keys[position]) == index)
                #expect(tableHashes[position] == keys[position].tableHash, "each key's table hash travels with it")
            }
        }
        #expect(positions == keys.count)
        #expect(groups.count == Set(groups).count, "one group, so one lock, per shard")
        #expect(groups.count == 16)
    }
}
