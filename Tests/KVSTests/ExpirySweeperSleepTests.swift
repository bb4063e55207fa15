import Foundation
import KVS
import Testing

/// The sweeper thread sleeps until the next shard is due instead of sweeping every
/// interval, and a writer that sets an earlier deadline wakes it.
@Suite("Expiry sweeper: sleeping until the next deadline")
struct ExpirySweeperSleepTests {
    @Test(.dedicatedThread) func anIdleSweeperDoesNotSweepEveryInterval() throws {
        // The only deadline is an hour away: the thread sleeps its longest (100 ms) between
        // sweeps, not the 10 ms interval. Over 500 ms that is at most 5 or 6 sweeps (fewer
        // if the machine is slow, never more), where one per interval made about 50.
        let clock = ManualClock()
        let engine = try StoreEngine<String, Int>(
            shardCount: 16,
            clock: .manual(clock),
            sweepInterval: .milliseconds(10)
        )
        defer { engine.close() }
        try engine.set("far", 1, expiresAt: clock.now() + 3_600_000_000_000)
        #expect(engine.isSweeperRunning)
        let before = engine.backgroundSweepCount
        usleep(500_000)
        let sweeps = engine.backgroundSweepCount - before
        #expect(sweeps <= 6, "\(sweeps) sweeps in 500 ms")
        #expect(try engine.get("far") == 1)
    }

    @Test(.dedicatedThread) func theSweeperWaitsOneIntervalPastAShardsDeadline() throws {
        // By default a shard waits one sweep interval past its earliest deadline, so that
        // one visit takes an interval's worth of keys: with a 10 ms interval, a key 5 ms
        // past due stays through several ticks of the thread, and one 15 ms past due goes.
        // (The clock is manual: only the ticks take real time.)
        let clock = ManualClock()
        let engine = try StoreEngine<String, Int>(
            shardCount: 4,
            clock: .manual(clock),
            sweepInterval: .milliseconds(10)
        )
        defer { engine.close() }
        let start = clock.now()
        try engine.set("k", 1, expiresAt: start + 1_000_000)
        clock.advance(by: .milliseconds(6))
        let ticks = engine.backgroundTickCount
        #expect(eventually { engine.backgroundTickCount >= ticks + 3 }, "the thread ticks while the key waits")
        #expect(engine.count == 1, "5 ms past due, within the 10 ms grace: not swept yet")
        clock.advance(by: .milliseconds(10))
        #expect(eventually { engine.count == 0 }, "15 ms past due: swept")
    }

    @Test(.dedicatedThread) func anEarlierDeadlineWakesASleepingSweeper() throws {
        // The thread may sleep an hour and plans to, for a key an hour away; a key set
        // afterwards with a deadline 1 ms away must still be swept once it is due, so the
        // write must wake the thread.
        let clock = ManualClock()
        let engine = try StoreEngine<String, Int>(
            shardCount: 16,
            clock: .manual(clock),
            sweepInterval: .milliseconds(10),
            maxSweepSleep: .seconds(3600)
        )
        let start = clock.now()
        try engine.set("far", 1, expiresAt: start + 3_600_000_000_000)
        #expect(eventually { sleepsLong(engine, from: start) }, "the thread plans to sleep past half an hour")
        try engine.set("soon", 2, expiresAt: start + 1_000_000)
        clock.advance(by: .seconds(1))
        #expect(eventually { engine.count == 1 }, "the sweeper woke and removed the key due in 1 ms")
        #expect(try engine.get("far") == 1)
        // `Int64.max` is not a plan but the mark the thread leaves while it plans, which a
        // single read can catch (more likely under ThreadSanitizer): wait for a plan.
        #expect(
            eventually {
                let planned = engine.plannedSweepTime
                return planned != .max && planned <= clock.now() + 3_600_000_000_000
            },
            "the thread's next plan is at most its longest sleep away"
        )
        engine.close()
        #expect(!engine.isSweeperRunning, "close wakes a sleeping sweeper, which exits")
    }

    @Test(.dedicatedThread) func aSnapshotLoadWakesASleepingSweeper() throws {
        // Loading a snapshot replaces every shard's deadlines without a write per key: it
        // must wake the thread too.
        let clock = ManualClock()
        let source = try StoreEngine<String, Int>(shardCount: 4, clock: .manual(clock), sweepInterval: .seconds(3600))
        defer { source.close() }
        let start = clock.now()
        try source.set("soon", 1, expiresAt: start + 1_000_000)
        let engine = try StoreEngine<String, Int>(
            shardCount: 4,
            clock: .manual(clock),
            sweepInterval: .milliseconds(10),
            maxSweepSleep: .seconds(3600)
        )
        defer { engine.close() }
        try engine.set("far", 1, expiresAt: start + 3_600_000_000_000)
        #expect(eventually { sleepsLong(engine, from: start) }, "the thread plans to sleep past half an hour")
        let tables = source.shards.map { $0.withLock { $0.table } }
        engine.replaceAll(with: tables)
        clock.advance(by: .seconds(1))
        #expect(eventually { engine.count == 0 }, "the sweeper woke and removed the loaded key due in 1 ms")
    }
}

/// Whether the sweeper thread of `engine` has made a plan of its own (a writer lowers the
/// planned time before the thread ever plans) and that plan is to sweep more than half an
/// hour after `start` (`Int64.max` is not a plan: it is there while the thread plans).
private func sleepsLong(_ engine: StoreEngine<String, Int>, from start: Int64) -> Bool {
    let planned = engine.plannedSweepTime
    return engine.backgroundTickCount >= 1 && planned != .max && planned > start + 1_800_000_000_000
}
