import KVS
import KVSTestSupport
import Testing

/// The cache counters: hits and misses of reads, expirations (passive and active), the
/// eviction hook, differences, and the sum over shards.
@Suite("CacheStatistics")
struct CacheStatisticsTests {
    @Test func readsCountHitsAndMisses() throws {
        let store = try makeStore(Int.self)
        defer { store.shutdown() }
        #expect(store.statistics == CacheStatistics())
        try store.set("a", 1)
        _ = try store.get("a")
        _ = try store.get("a")
        _ = try? store.get("missing")
        _ = try store.withValue("a") { $0 }
        _ = try? store.withValue("missing") { $0 }
        let statistics = store.statistics
        #expect(statistics.hits == 3)
        #expect(statistics.misses == 2)
        #expect(statistics.requests == 5)
        #expect(statistics.hitRate == 0.6)
        // Writes, exists, batches and transactions are not counted.
        _ = store.exists("a")
        try store.update("a") { $0 }
        _ = try store.batchGet(["a", "b"])
        #expect(store.statistics.requests == 5)
    }

    @Test func expiryIsCountedPassivelyAndActively() throws {
        let clock = ManualClock()
        let store = try makeStore(Int.self, clock: clock, sweepInterval: .seconds(3600))
        defer { store.shutdown() }
        for index in 0..<10 { try store.set("k\(index)", index, ttl: .seconds(1)) }
        try store.set("kept", 0)
        clock.advance(by: .seconds(2))
        _ = try? store.get("k0")  // passive: a read finds it expired
        _ = try? store.withValue("k1") { $0 }
        #expect(store.statistics.expirations == 2)
        #expect(store.statistics.misses == 2)
        #expect(store.engine.sweepExpired() == 8)  // active: the sweep
        #expect(store.statistics.expirations == 10)
    }

    @Test func theEvictionHookIsCounted() throws {
        let store = try makeStore(Int.self, shards: 4)
        defer { store.shutdown() }
        store.engine.shards[0].withLock { $0.statistics.recordEviction(weight: 1) }
        store.engine.shards[3].withLock { state in
            state.statistics.recordEviction(weight: 5)
            state.statistics.recordEviction(weight: 2)
        }
        let statistics = store.statistics
        #expect(statistics.evictions == 3)
        #expect(statistics.evictedWeight == 8)
    }

    @Test func shardCountersAddUpAndWrap() {
        var shard = ShardStatistics()
        shard.recordRead(hit: true)
        shard.recordRead(hit: false)
        shard.recordLoad(succeeded: true, nanoseconds: 1_000)
        shard.recordLoad(succeeded: false, nanoseconds: 3_000)
        shard.recordExpirations(4)
        shard.recordEviction(weight: 7)
        #expect(shard.hits == 1 && shard.misses == 1)
        #expect(shard.loadSuccesses == 1 && shard.loadFailures == 1)
        #expect(shard.loadNanoseconds == 4_000)
        #expect(shard.expirations == 4)
        #expect(shard.evictions == 1 && shard.evictedWeight == 7)
        shard.hits = .max
        shard.recordRead(hit: true)
        #expect(shard.hits == .min, "counters wrap rather than trap")
    }

    @Test func differencesGiveAnInterval() throws {
        let store = try makeStore(String.self)
        defer { store.shutdown() }
        try store.set("a", "1")
        _ = try store.get("a")
        let before = store.statistics
        _ = try store.get("a")
        _ = try? store.get("b")
        _ = try store.value(forKey: "c") { "loaded" }
        _ = try? store.value(forKey: "d") { () throws -> String in throw KVSError(.io, message: "down") }
        let interval = store.statistics - before
        #expect(interval.hits == 1)
        #expect(interval.misses == 3)
        #expect(interval.loadSuccesses == 1)
        #expect(interval.loadFailures == 1)
        #expect(interval.loads == 2)
        #expect(interval.totalLoadTime >= .zero)
        #expect(interval.averageLoadTime == interval.totalLoadTime / 2)
        #expect(before - before == CacheStatistics())
    }

    @Test func descriptionNamesEveryCounter() {
        let statistics = CacheStatistics(
            hits: 9,
            misses: 1,
            loadSuccesses: 1,
            loadFailures: 0,
            totalLoadTime: .milliseconds(2),
            evictions: 3,
            evictedWeight: 4,
            expirations: 5
        )
        #expect(statistics.hitRate == 0.9)
        #expect(statistics.description.contains("hits 9, misses 1 (90.0% hit rate)"))
        #expect(statistics.description.contains("evictions 3 (weight 4), expirations 5"))
        #expect(CacheStatistics().hitRate == 1)
        #expect(CacheStatistics().averageLoadTime == .zero)
    }
}
