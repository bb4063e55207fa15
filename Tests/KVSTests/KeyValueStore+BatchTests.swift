import KVS
import Testing

@Suite("KeyValueStore: batches")
struct BatchTests {
    @Test func batchGetSplitsValuesAndErrors() throws {
        let store = try KeyValueStore<Int>(shardCount: 8)
        defer { store.shutdown() }
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
        defer { store.shutdown() }
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
        defer { store.shutdown() }
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
        defer { store.shutdown() }
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

    /// Both ways of grouping: a counting sort (at least one key per eight shards) and
    /// `sort()` (fewer keys over many shards).
    @Test(arguments: [(shards: 16, keys: 500), (shards: 1024, keys: 20)])
    func batchesTakeEachShardLockOnce(shards shardCount: Int, keys keyCount: Int) throws {
        // Group a batch's keys by shard: each touched shard appears in exactly one group,
        // and a group lists its positions in increasing order (a batch of writes with a key
        // given twice keeps the last value).
        let store = try KeyValueStore<Int>(shardCount: shardCount)
        defer { store.shutdown() }
        let keys = (0..<keyCount).map { "k\($0)" }
        var groups: [Int] = []
        var positions = 0
        store.engine.forEachShardGroup(count: keys.count, key: { keys[$0] }, invalid: { _ in }) {
            shard,
            group,
            tableHashes in
            let index = store.engine.shards.firstIndex { $0 === shard } ?? -1
            groups.append(index)
            positions += group.count
            let inGroup = group.map { Int($0 & 0xFFFF_FFFF) }
            #expect(inGroup == inGroup.sorted(), "positions in input order")
            for position in inGroup {
                #expect(store.engine.shardIndex(of: keys[position]) == index)
                #expect(tableHashes[position] == keys[position].tableHash, "each key's table hash travels with it")
            }
        }
        #expect(positions == keys.count)
        #expect(groups.count == Set(groups).count, "one group, so one lock, per shard")
        #expect(groups.count == Set(keys.compactMap { store.engine.shardIndex(of: $0) }).count)
        #expect(groups == groups.sorted(), "shards in increasing order")
    }

    @Test func sortByShardAgreesWithSort() {
        // The counting sort must give exactly what sorting the packed integers gives, for
        // every size around its threshold (shardCount / 8) and with empty shards between.
        var generator = SystemRandomNumberGenerator()
        for shardCount in [1, 7, 64, 256, 4096] {
            for count in [0, 1, 2, shardCount / 8 - 1, shardCount / 8, shardCount / 8 + 1, 100, 1000] where count >= 0 {
                let input = (0..<count).map {
                    UInt64(Int.random(in: 0..<shardCount, using: &generator)) << 32 | UInt64($0)
                }
                var sorted = input
                StoreEngine<String, Int>.sortByShard(&sorted, shardCount: shardCount)
                #expect(sorted == input.sorted(), "\(count) positions over \(shardCount) shards")
            }
        }
    }

    @Test func duplicateKeysInOneBatchKeepTheLastValue() throws {
        // The engine's batch write takes a list (the server's MSET), where a key can come
        // twice: the later item wins, whichever way the batch was grouped.
        for shardCount in [8, 4096] {
            let store = try KeyValueStore<Int>(shardCount: shardCount)
            defer { store.shutdown() }
            let items: [(key: String, value: Int)] = (0..<40).map { ("k\($0 % 10)", $0) }
            let result = try store.engine.batchSet(items)
            #expect(result.successful == items.count)
            for k in 0..<10 { #expect(try store.get("k\(k)") == 30 + k, "k\(k) with \(shardCount) shards") }
        }
    }
}
