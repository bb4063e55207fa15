import KVS
import KVSMetrics
import MetricsTestKit
import Testing

/// Reports from many tasks at once, and from `run()`, while the store is read: every count
/// reaches the counters exactly once. Its name puts it in the ThreadSanitizer run of CI.
@Suite("CacheMetricsReporter concurrency")
struct CacheMetricsReporterConcurrencyTests {
    @Test func concurrentReportsCountEveryReadOnce() async throws {
        let metrics = TestMetrics()
        let clock = StepClock()
        let store = KeyValueStore<Int>()
        defer { store.shutdown() }
        try store.set("a", 1)
        let reporter = CacheMetricsReporter(store: store, interval: .seconds(1), clock: clock, factory: metrics)
        let run = Task { await reporter.run() }
        await withTaskGroup { group in
            for worker in 0..<4 {
                group.addTask {
                    for _ in 0..<2_000 {
                        _ = try? store.get("a")
                        _ = try? store.get("missing\(worker)")
                    }
                }
            }
            for _ in 0..<2 {
                group.addTask {
                    for _ in 0..<200 { reporter.report() }
                }
            }
            group.addTask {
                for _ in 0..<200 {
                    clock.advance(by: .seconds(1))
                    await Task.yield()
                }
            }
        }
        run.cancel()
        await run.value
        #expect(try metrics.total("kvs_cache_hits_total") == 8_000)
        #expect(try metrics.total("kvs_cache_misses_total") == 8_000)
        #expect(try metrics.expectCounter("kvs_cache_hits_total").values.allSatisfy { $0 > 0 })
        #expect(reporter.report() == CacheStatistics())
    }
}
