import KVS
import KVSMetrics
import Logging
import MetricsTestKit
import ServiceLifecycle
import ServiceLifecycleTestKit
import Testing

/// The periodic reports of `run()`, on a clock the test moves, and how it stops.
@Suite("CacheMetricsReporter as a Service")
struct CacheMetricsReporterServiceTests {
    @Test func runReportsAtOnceThenEachIntervalAndStopsWhenCancelled() async throws {
        let metrics = TestMetrics()
        let clock = StepClock()
        let store = KeyValueStore<Int>()
        defer { store.shutdown() }
        try store.set("a", 1)
        _ = try store.get("a")
        let reporter = CacheMetricsReporter(store: store, interval: .seconds(10), clock: clock, factory: metrics)
        let hits = try metrics.expectCounter("kvs_cache_hits_total")

        let run = Task { await reporter.run() }
        await clock.waitForSleeps(1)  // it reported once and sleeps
        #expect(hits.values == [1])
        _ = try store.get("a")
        clock.advance(by: .seconds(9))
        #expect(hits.values == [1])  // not yet: the sleeper has not woken
        clock.advance(by: .seconds(1))
        await clock.waitForSleeps(2)  // the tick reported and it sleeps again
        #expect(hits.values == [1, 1])

        _ = try store.get("a")
        _ = try store.get("a")
        run.cancel()
        await run.value  // returns, without an error
        #expect(hits.values == [1, 1, 2])  // the last report on the way out
    }

    @Test func runReturnsOnGracefulShutdown() async throws {
        let metrics = TestMetrics()
        let clock = StepClock()
        let store = KeyValueStore<Int>()
        defer { store.shutdown() }
        try store.set("a", 1)
        let reporter = CacheMetricsReporter(store: store, clock: clock, factory: metrics)
        let hits = try metrics.expectCounter("kvs_cache_hits_total")
        try await testGracefulShutdown { trigger in
            let run = Task { await reporter.run() }  // inherits the shutdown trigger
            await clock.waitForSleeps(1)
            _ = try store.get("a")
            trigger.triggerGracefulShutdown()
            await run.value
        }
        #expect(hits.values == [1])
    }

    @Test func aServiceGroupRunsItUntilShutdown() async throws {
        let metrics = TestMetrics()
        let clock = StepClock()
        let store = KeyValueStore<Int>()
        defer { store.shutdown() }
        let reporter = CacheMetricsReporter(store: store, clock: clock, factory: metrics)
        let group = ServiceGroup(services: [reporter], logger: .init(label: "test"))
        try await withThrowingTaskGroup { tasks in
            tasks.addTask { try await group.run() }
            await clock.waitForSleeps(1)
            try store.set("a", 1)
            _ = try store.get("a")
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
        }
        #expect(try metrics.total("kvs_cache_hits_total") == 1)
    }
}
