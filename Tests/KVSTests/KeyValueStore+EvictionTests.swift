import Foundation
import KVS
import Testing

@Suite("KeyValueStore bounded by count, weight or bytes")
struct KeyValueStoreEvictionTests {
    static let policies: [CachePolicy] = [.leastRecentlyUsed, .sieve, .s3FIFO, .windowTinyLFU]

    @Test func aBoundBelowOneIsRefused() {
        for bound in [0, -1, Int.min] {
            #expect(throws: KVSError(.invalidArgument, message: "a cache's bound must be at least 1, not \(bound)")) {
                try KeyValueStore<String>(maximumCount: bound)
            }
            #expect(throws: KVSError.self) { try KeyValueStore<String>(maximumWeight: bound) { _, _ in 1 } }
            #expect(throws: KVSError.self) { try KeyValueStore<String>(maximumBytes: bound) }
        }
        #expect(throws: KVSError.self) { try KeyValueStore<String>(maximumCount: 10, shardCount: 0) }
    }

    @Test func aSmallBoundGetsFewerShards() throws {
        #expect(KeyValueStore<String>.boundedShardCount(bound: 1, minimumShare: 64) == 1)
        #expect(KeyValueStore<String>.boundedShardCount(bound: 1_000, minimumShare: 64) == 8)
        let large = KeyValueStore<String>.boundedShardCount(bound: 10_000_000, minimumShare: 64)
        #expect(large == KeyValueStore<String>.defaultShardCount)
        let store = try KeyValueStore<String>(maximumCount: 1_000)
        #expect(store.shardCount == 8)
        #expect(store.maximumWeight == 1_000)
        #expect(try KeyValueStore<String>(maximumCount: 1_000, shardCount: 3).shardCount == 3)
        #expect(KeyValueStore<String>().maximumWeight == nil)
        #expect(KeyValueStore<String>().totalWeight == nil)
    }

    @Test(arguments: policies)
    func everyPolicyKeepsTheCountBound(policy: CachePolicy) throws {
        let store = try KeyValueStore<Int>(maximumCount: 500, policy: policy, shardCount: 4)
        defer { store.shutdown() }
        for i in 0..<5_000 {
            try store.set("k\(i % 1_700)", i)
            if i % 3 == 0 { _ = try? store.get("k\((i * 7) % 1_700)") }
            if i % 11 == 0 { try? store.delete("k\((i * 13) % 1_700)") }
            #expect(store.count <= 500)
        }
        #expect(store.totalWeight == store.count)
        store.engine.checkInvariants()
        let keys = try store.keys()
        #expect(keys.count == store.count)
        for key in keys { #expect(store.exists(key)) }
    }

    @Test(arguments: policies)
    func everyPolicyKeepsTheWeightBound(policy: CachePolicy) throws {
        let store = try KeyValueStore<[UInt8]>(maximumWeight: 10_000, policy: policy, shardCount: 2) { key, value in
            key.utf8.count + value.count
        }
        defer { store.shutdown() }
        var random = SystemRandomNumberGenerator()
        for i in 0..<3_000 {
            let size = Int.random(in: 0..<400, using: &random)
            try store.set("w\(i % 900)", [UInt8](repeating: 1, count: size))
            let weight = try #require(store.totalWeight)
            #expect(weight <= 10_000)
        }
        store.engine.checkInvariants()
    }

    @Test func aByteBoundCountsKeysValuesAndOverhead() throws {
        let store = try KeyValueStore<String>(maximumBytes: 100_000, shardCount: 1)
        defer { store.shutdown() }
        let value = String(repeating: "v", count: 1_000)  // 1,032 heap bytes
        for i in 0..<1_000 { try store.set("key-\(i)", value) }
        let perEntry = KeyValueStore<String>.entryOverheadBytes + MemoryLayout<String>.size + 1_032
        #expect(store.count == 100_000 / perEntry)
        #expect(try #require(store.totalWeight) <= 100_000)
    }

    @Test func statisticsCountEvictionsAndTheirWeight() throws {
        let counted = try KeyValueStore<Int>(maximumCount: 100, shardCount: 1)
        defer { counted.shutdown() }
        for i in 0..<1_000 { try counted.set("k\(i)", i) }
        #expect(counted.statistics.evictions == 900)
        #expect(counted.statistics.evictedWeight == 900)
        let weighed = try KeyValueStore<[UInt8]>(maximumWeight: 100, shardCount: 1) { _, value in value.count }
        defer { weighed.shutdown() }
        for i in 0..<10 { try weighed.set("w\(i)", [UInt8](repeating: 0, count: 30)) }
        #expect(weighed.statistics.evictions == 7, "three of 30 fit in 100")
        #expect(weighed.statistics.evictedWeight == 210)
    }

    @Test func frequentKeysSurviveAScanUnderWindowTinyLFU() throws {
        // A scan of one-time keys, much larger than the cache, between reads of a hot set:
        // LRU loses the hot set to the scan; a frequency-aware admission keeps it.
        func survivors(_ policy: CachePolicy) throws -> Int {
            let store = try KeyValueStore<Int>(maximumCount: 1_000, policy: policy, shardCount: 1)
            defer { store.shutdown() }
            for round in 0..<20 {
                for hot in 0..<200 where (try? store.get("hot\(hot)")) == nil { try store.set("hot\(hot)", hot) }
                for cold in 0..<2_000 { try store.set("cold\(round)-\(cold)", cold) }
            }
            return (0..<200).filter { store.exists("hot\($0)") }.count
        }
        #expect(try survivors(.windowTinyLFU) >= 180)
        #expect(try survivors(.leastRecentlyUsed) == 0)
    }

    @Test func aLoadedSnapshotIsCutToTheBound() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("bounded-\(UUID()).kvs").path
        defer { try? FileManager.default.removeItem(atPath: path) }
        let full = KeyValueStore<String>()
        for i in 0..<2_000 { try full.set("s\(i)", "v\(i)") }
        try full.saveSnapshot(to: path)
        let cache = try KeyValueStore<String>(maximumCount: 300, shardCount: 4)
        try cache.loadSnapshot(from: path)
        #expect(cache.count == 300)
        for key in try cache.keys() { #expect(try cache.get(key) == "v" + key.dropFirst()) }
        cache.engine.checkInvariants()
    }

    @Test(arguments: policies)
    func loadsKeepTheBoundAndTheirEvictionsAreHeard(policy: CachePolicy) async throws {
        let store = try KeyValueStore<Int>(maximumCount: 100, policy: policy, shardCount: 2)
        defer { store.shutdown() }
        let heard = Locked([String]())
        store.addRemovalListener { removal in
            if removal.cause == .evicted { heard.withLock { $0.append(removal.key) } }
        }
        // Not async, so that it calls the synchronous get-or-load.
        func loadSynchronously(_ i: Int) throws { _ = try store.value(forKey: "l\(i)") { i } }
        for i in 0..<500 {
            if i % 2 == 0 {
                try loadSynchronously(i)
            } else {
                _ = try await store.value(forKey: "l\(i)") { @Sendable () async throws -> Int in i }
            }
            #expect(store.count <= 100)
        }
        store.engine.checkInvariants()
        let keys = try store.keys()
        #expect(keys.count == store.count)
        let evictions = store.statistics.evictions
        #expect(evictions == 500 - store.count)
        // Each load returned after delivering its evictions: no other writer was delivering.
        let evicted = heard.withLock { $0 }
        #expect(evicted.count == evictions)
        #expect(Set(evicted).isDisjoint(with: keys))
    }

    @Test func concurrentWorkloadNeverExceedsTheBound() async throws {
        let store = try KeyValueStore<Int>(maximumCount: 256, shardCount: 8)
        defer { store.shutdown() }
        let violations = await withTaskGroup(of: Int.self) { group in
            for worker in 0..<4 {
                group.addTask {
                    var seen = 0
                    for i in 0..<4_000 {
                        let key = "c\((i &* 31 &+ worker &* 7) % 1_000)"
                        switch i % 5 {
                        case 0: try? store.delete(key)
                        case 1: _ = try? store.get(key)
                        case 2: _ = try? store.update(key) { ($0 ?? 0) + 1 }
                        case 3: _ = try? store.batchSet([key: i, "\(key)b": i])
                        default: try? store.set(key, i)
                        }
                        if store.count > 256 { seen += 1 }
                    }
                    return seen
                }
            }
            return await group.reduce(0, +)
        }
        #expect(violations == 0)
        store.engine.checkInvariants()
    }
}
