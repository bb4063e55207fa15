import KVS
import Testing

/// The access words a store keeps for the server's `maxmemory` (Redis's `robj.lru`): the
/// clock's arithmetic, and the words following their entries through the table's moves.
@Suite("Access clock")
struct AccessClockTests {
    @Test func recencyWordsMeasureIdleTimeAcrossTheWrap() {
        let clock = AccessClock(mode: .recency, unixSeconds: 1_000)
        let word = clock.newEntryWord()
        #expect(word == 1_000)
        clock.tick(unixSeconds: 1_042)
        #expect(clock.idleMilliseconds(word) == 42_000)
        var random: UInt64 = 1
        #expect(clock.touch(word, random: &random) == 1_042)
        // Seconds are kept modulo 2^24; an idle time across one wrap is still right.
        let late = Int64(AccessClock.recencyClockMax) - 5
        clock.tick(unixSeconds: late)
        let before = clock.newEntryWord()
        clock.tick(unixSeconds: late + 10)
        #expect(clock.recencyClock < before)
        #expect(clock.idleMilliseconds(before) == 9_000)  // Redis's formula is one second short here
        // The cron only moves the clock forward.
        clock.advance(toUnixSeconds: 0)
        #expect(clock.unixSeconds == late + 10)
    }

    @Test func frequencyCountersRiseLogarithmicallyAndSaturate() {
        let clock = AccessClock(mode: .frequency, logFactor: 0, decayMinutes: 0, unixSeconds: 600)
        var word = clock.newEntryWord()
        #expect(word & 0xFF == AccessClock.initialFrequency)
        #expect(word >> 8 == 10)  // the minute
        var random: UInt64 = 7
        for _ in 0..<300 { word = clock.touch(word, random: &random) }
        #expect(word & 0xFF == 255)  // a log factor of 0 counts every access, up to 255
        // With Redis's default factor, 1,000 accesses raise a new key's counter to about 18
        // (p = 1 / ((c - 5) * 10 + 1)): far from 1,000, far above 5.
        clock.logFactor = 10
        word = clock.newEntryWord()
        for _ in 0..<1_000 { word = clock.touch(word, random: &random) }
        #expect((12...26).contains(word & 0xFF), "\(word & 0xFF)")
    }

    @Test func frequencyCountersDecayPerPeriod() {
        let clock = AccessClock(mode: .frequency, logFactor: 0, decayMinutes: 2, unixSeconds: 0)
        var random: UInt64 = 3
        var word = clock.newEntryWord()
        for _ in 0..<5 { word = clock.touch(word, random: &random) }
        #expect(clock.decayedFrequency(word) == 10)
        clock.tick(unixSeconds: 5 * 60)  // two whole periods
        #expect(clock.decayedFrequency(word) == 8)
        clock.tick(unixSeconds: 60 * 60)  // 30 periods: down to 0, not below
        #expect(clock.decayedFrequency(word) == 0)
        // A touch decays first, then counts.
        #expect(clock.touch(word, random: &random) & 0xFF == 1)
        clock.decayMinutes = 0
        #expect(clock.decayedFrequency(word) == 10)
    }

    @Test func wordsFollowTheirEntriesThroughGrowthRemovalAndReplacement() throws {
        let clock = AccessClock(mode: .recency, unixSeconds: 100)
        let engine = try StoreEngine<String, Int>(shardCount: 2, accessClock: clock)
        defer { engine.close() }
        for i in 0..<50 { try engine.set("old\(i)", i) }
        clock.tick(unixSeconds: 200)
        // Growth moves every entry; deletions shift others back in their probe runs.
        for i in 0..<2_000 { try engine.set("new\(i)", i) }
        for i in 0..<2_000 where i % 3 == 0 { try engine.delete("new\(i)") }
        for i in 0..<50 { #expect(try engine.accessWord("old\(i)") == 100, "old\(i)") }
        #expect(try engine.accessWord("new1") == 200)
        #expect(try engine.accessWord("new0") == nil)
        // A read touches; reading the word does not.
        clock.tick(unixSeconds: 300)
        #expect(try engine.accessWord("old7") == 100)
        _ = try engine.get("old7")
        #expect(try engine.accessWord("old7") == 300)
        // Replacing a value is an access (Redis's SET looks the key up first).
        try engine.withEntry("old8") { entry, _ in entry = Entry(value: 0, expiresAt: 0) }
        #expect(try engine.accessWord("old8") == 300)
        // A whole new table (FLUSHALL, a loaded snapshot) gets the clock too.
        var table = ShardTable<String, Int>()
        table["loaded"] = Entry(value: 1, expiresAt: 0)
        let tables = (0..<engine.shardCount).map { index in
            engine.shardIndex(of: "loaded") == index ? table : ShardTable<String, Int>()
        }
        _ = engine.replaceAll(with: tables)
        #expect(try engine.accessWord("loaded") == 300)
        #expect(try engine.accessWord("old7") == nil)
    }

    @Test func samplingReturnsLiveWordsAndVolatileOnlyFindsSparseDeadlines() throws {
        let clock = AccessClock(mode: .recency, unixSeconds: 10)
        let engine = try StoreEngine<String, Int>(shardCount: 1, accessClock: clock)
        defer { engine.close() }
        for i in 0..<5_000 { try engine.set("k\(i)", i) }
        try engine.set("ttl", 1, expiresAt: Int64.max / 2)
        var samples: [AccessSample<String>] = []
        engine.sampleAccess(shard: 0, count: 5, volatileOnly: false, into: &samples)
        #expect(samples.count == 5)
        #expect(samples.allSatisfy { $0.word == 10 })
        // One key with a deadline among 5,000: a volatile sample still finds it.
        samples.removeAll()
        engine.sampleAccess(shard: 0, count: 5, volatileOnly: true, into: &samples)
        #expect(samples.map(\.key) == ["ttl"])
        #expect(samples.first?.expiresAt == Int64.max / 2)
    }
}
