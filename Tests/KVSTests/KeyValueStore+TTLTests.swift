import KVS
import KVSTestSupport
import Testing

@Suite("KeyValueStore: time-to-live")
struct TTLTests {
    @Test func expiredKeysAreInvisibleAtOnce() throws {
        let clock = ManualClock()
        let store = try makeStore(Int.self, clock: clock, sweepInterval: .seconds(3600))
        defer { store.shutdown() }
        try store.set("t", 1, ttl: .seconds(10))
        try store.set("keep", 2)
        clock.advance(by: .seconds(9))
        #expect(try store.get("t") == 1)
        clock.advance(by: .seconds(1))
        #expect(!store.exists("t"))
        #expect(try store.keys() == ["keep"])
        #expect(try store.batchGet(["t"]).errors["t"]?.code == .notFound)
        expectKVSError(.notFound, key: "t") { try store.get("t") }
        #expect(store.count == 1, "get removed the expired entry (passive expiry)")
    }

    @Test func countIncludesExpiredKeysUntilTheSweep() throws {
        let clock = ManualClock()
        let store = try makeStore(Int.self, clock: clock, sweepInterval: .seconds(3600))
        defer { store.shutdown() }
        for i in 0..<100 { try store.set("k\(i)", i, ttl: .milliseconds(101 + i)) }  // 50 expire by 150 ms
        clock.advance(by: .milliseconds(150))
        #expect(store.count == 100)
        #expect(try store.keys().count == 50)
        #expect(store.engine.sweepExpired() == 50)
        #expect(store.count == 50)
        clock.advance(by: .seconds(1))
        #expect(store.engine.sweepExpired() == 50)
        #expect(store.count == 0)
        store.engine.checkInvariants()
    }

    @Test(.dedicatedThread) func backgroundExpiryRemovesKeysWithoutBeingAsked() throws {
        // Real time: the sweeper ticks every 10 ms; keys of 20 ms must be gone well within
        // the 10 s bound, which only a stopped sweeper would exceed.
        let store = try KeyValueStore<Int>(shardCount: 16)
        defer { store.shutdown() }
        for i in 0..<1000 { try store.set("k\(i)", i, ttl: .milliseconds(20)) }
        try store.set("forever", 0)
        #expect(store.engine.isSweeperRunning)
        #expect(eventually { store.count == 1 }, "the sweeper removed the expired keys (count fell without any read)")
        #expect(try store.get("forever") == 0)
    }

    @Test func zeroTTLMeansNoExpiryAndNegativeIsRejected() throws {
        let clock = ManualClock()
        let store = try makeStore(String.self, clock: clock)
        defer { store.shutdown() }
        try store.set("z", "v", ttl: .zero)
        clock.advance(by: .seconds(1_000_000))
        #expect(try store.get("z") == "v")
        #expect(try store.timeToLive("z") == nil)
        try store.set("n", "old", ttl: .seconds(5))
        expectKVSError(.invalidTTL, key: "n") { try store.set("n", "new", ttl: .seconds(-1)) }
        #expect(try store.get("n") == "old", "a rejected write leaves the old value")
        #expect(try store.timeToLive("n") == .seconds(5), "and its TTL")
        expectKVSError(.invalidTTL) { try store.batchSet(["n": "x"], ttl: .nanoseconds(-1)) }
        #expect(try store.get("n") == "old")
    }

    @Test func tinyTTLStillExpires() throws {
        let clock = ManualClock()
        let store = try makeStore(Int.self, clock: clock)
        defer { store.shutdown() }
        try store.set("a", 1, ttl: .nanoseconds(1) / 1000)  // below a nanosecond: rounded up, not "never"
        clock.advance(by: .nanoseconds(1))
        #expect(!store.exists("a"))
    }

    @Test func plainSetClearsTheTTL() throws {
        let clock = ManualClock()
        let store = try makeStore(Int.self, clock: clock, sweepInterval: .seconds(3600))
        defer { store.shutdown() }
        try store.set("k", 1, ttl: .seconds(1))
        try store.set("k", 2)
        clock.advance(by: .seconds(2))
        #expect(try store.get("k") == 2)
        #expect(store.engine.sweepExpired() == 0, "the stale index item is dropped, not the key")
        #expect(store.exists("k"))
        _ = try store.batchSet(["b": 1], ttl: .seconds(1))
        _ = try store.batchSet(["b": 2])
        clock.advance(by: .seconds(2))
        #expect(try store.get("b") == 2)
        store.engine.checkInvariants()
    }

    @Test func ttlCanBeReadChangedAndCleared() throws {
        let clock = ManualClock()
        let store = try makeStore(Int.self, clock: clock)
        defer { store.shutdown() }
        try store.set("k", 1, ttl: .seconds(10))
        clock.advance(by: .seconds(4))
        #expect(try store.timeToLive("k") == .seconds(6))
        try store.expire("k", after: .seconds(100))
        clock.advance(by: .seconds(50))
        #expect(try store.get("k") == 1)
        try store.expire("k", after: .zero)
        clock.advance(by: .seconds(500))
        #expect(try store.get("k") == 1)
        expectKVSError(.notFound) { try store.expire("missing", after: .seconds(1)) }
        expectKVSError(.invalidTTL) { try store.expire("k", after: .seconds(-1)) }
        expectKVSError(.notFound) { try store.timeToLive("missing") }
        store.engine.checkInvariants()
    }

    @Test(.dedicatedThread) func expiryIndexStaysBoundedUnderRepeatedRefreshes() throws {
        // A key refreshed with a long TTL over and over must not grow the index without
        // bound (lazy deletion is compacted once stale items outnumber live ones).
        let clock = ManualClock()
        let store = try makeStore(Int.self, shards: 1, clock: clock)
        defer { store.shutdown() }
        for i in 0..<100_000 {
            try store.set("session", i, ttl: .seconds(3600))
            if i % 2 == 0 { clock.advance(by: .milliseconds(1)) }  // new deadlines, and repeated ones
        }
        let items = store.engine.shards[0].withLock { $0.expiry.itemCount }
        #expect(items <= 2 * 1 + 64 + 1)
        store.engine.checkInvariants()
    }

    @Test(.dedicatedThread) func sweepingTouchesOnlyDueShards() throws {
        // Active expiry's cost grows with the keys that expire, not with the store:
        // a million keys without TTL cost the sweep nothing.
        let clock = ManualClock()
        let store = try makeStore(Int.self, shards: 64, clock: clock, sweepInterval: .seconds(3600))
        defer { store.shutdown() }
        _ = try store.batchSet(Dictionary(uniqueKeysWithValues: (0..<200_000).map { ("k\($0)", $0) }))
        try store.set("t", 0, ttl: .seconds(1))
        let due = store.engine.shards.filter { $0.nextDeadline.load(ordering: .relaxed) != .max }
        #expect(due.count == 1, "only the TTL key's shard has a deadline to watch")
        clock.advance(by: .seconds(2))
        #expect(store.engine.sweepExpired() == 1)
        #expect(store.count == 200_000)
    }
}
