import KVS
import KVSMetrics
import MetricsTestKit
import Testing

/// What a report adds to each counter and records in each gauge, the labels and dimensions,
/// and that each report adds only the growth since the previous one.
@Suite("CacheMetricsReporter")
struct CacheMetricsReporterTests {
    @Test func aReportGivesTheCountsOfABoundedStore() throws {
        let metrics = TestMetrics()
        // 64 keys fit one shard, so the least recently used key is the one evicted.
        let store = try KeyValueStore<Int>(maximumCount: 64, policy: .leastRecentlyUsed)
        defer { store.shutdown() }
        let dimensions = [("cache", "test")]
        let reporter = CacheMetricsReporter(store: store, dimensions: dimensions, factory: metrics)
        for index in 0..<100 { try store.set("k\(index)", index) }  // evicts k0 to k35
        for _ in 0..<3 { _ = try store.get("k99") }  // 3 hits
        _ = try? store.get("k0")  // a miss
        _ = try store.value(forKey: "loaded") { 7 }  // a miss and a load; evicts k36
        _ = try? store.value(forKey: "failed") { throw LoadFailure() }  // a miss and a failed load

        let window = reporter.report()

        #expect(window == store.statistics)
        #expect(try metrics.total("kvs_cache_hits_total", dimensions) == 3)
        #expect(try metrics.total("kvs_cache_misses_total", dimensions) == 3)
        #expect(try metrics.total("kvs_cache_load_successes_total", dimensions) == 1)
        #expect(try metrics.total("kvs_cache_load_failures_total", dimensions) == 1)
        #expect(try metrics.total("kvs_cache_evictions_total", dimensions) == 37)
        #expect(try metrics.total("kvs_cache_evicted_weight_total", dimensions) == 37)
        #expect(try metrics.total("kvs_cache_expirations_total", dimensions) == 0)
        #expect(
            try metrics.total("kvs_cache_load_duration_nanoseconds_total", dimensions)
                == wholeNanoseconds(store.statistics.totalLoadTime)
        )
        #expect(try metrics.last("kvs_cache_entries", dimensions) == 64)
        #expect(try metrics.last("kvs_cache_weight", dimensions) == 64)
        #expect(try metrics.last("kvs_cache_maximum_weight", dimensions) == 64)
        #expect(try metrics.last("kvs_cache_hit_ratio", dimensions) == 0.5)
        // A counter whose figure did not grow is not incremented at all.
        #expect(try metrics.expectCounter("kvs_cache_expirations_total", dimensions).values.isEmpty)
    }

    @Test func expirationsAreCountedAndAnUnboundedStoreHasNoWeightGauges() throws {
        let metrics = TestMetrics()
        let clock = ManualClock()
        let store = try makeStore(clock: clock)
        defer { store.shutdown() }
        let reporter = CacheMetricsReporter(store: store, factory: metrics)
        try store.set("a", 1, ttl: .seconds(1))
        try store.set("b", 2, ttl: .seconds(1))
        try store.set("kept", 3)
        clock.advance(by: .seconds(2))
        _ = try? store.get("a")  // finds it expired: a miss and an expiration
        reporter.report()
        #expect(try metrics.total("kvs_cache_expirations_total") == 1)
        #expect(try metrics.total("kvs_cache_misses_total") == 1)
        #expect(try metrics.last("kvs_cache_entries") == 2)  // b is expired but not yet removed
        #expect(try metrics.last("kvs_cache_hit_ratio") == 0)
        #expect(throws: (any Error).self) { try metrics.expectGauge("kvs_cache_weight") }
        #expect(throws: (any Error).self) { try metrics.expectGauge("kvs_cache_maximum_weight") }
    }

    @Test func aSecondReportAddsOnlyTheGrowth() throws {
        let metrics = TestMetrics()
        let store = KeyValueStore<Int>()
        defer { store.shutdown() }
        try store.set("a", 1)
        _ = try store.get("a")
        _ = try store.get("a")
        // Counted before the reporter existed: the first report adds them.
        let reporter = CacheMetricsReporter(store: store, factory: metrics)
        #expect(reporter.report().hits == 2)

        for _ in 0..<3 { _ = try store.get("a") }
        _ = try? store.get("missing")
        let window = reporter.report()
        #expect(window.hits == 3)
        #expect(window.misses == 1)
        let hits = try metrics.expectCounter("kvs_cache_hits_total")
        let misses = try metrics.expectCounter("kvs_cache_misses_total")
        #expect(hits.values == [2, 3])
        #expect(hits.totalValue == 5)
        #expect(misses.values == [1])
        #expect(try metrics.expectGauge("kvs_cache_hit_ratio").values == [1, 0.75])

        // A window without reads adds nothing and leaves the hit ratio as it was.
        #expect(reporter.report() == CacheStatistics())
        #expect(hits.values == [2, 3])
        #expect(try metrics.expectGauge("kvs_cache_hit_ratio").values == [1, 0.75])
        #expect(try metrics.expectGauge("kvs_cache_entries").values == [1, 1, 1])
    }

    @Test func labelsTakeThePrefixAndEveryMetricTheDimensions() throws {
        let metrics = TestMetrics()
        let store = KeyValueStore<Int>()
        defer { store.shutdown() }
        try store.set("a", 1)
        _ = try store.get("a")
        let dimensions = [("cache", "sessions"), ("region", "eu")]
        CacheMetricsReporter(store: store, labelPrefix: "app_cache", dimensions: dimensions, factory: metrics)
            .report()
        CacheMetricsReporter(store: store, labelPrefix: "", factory: metrics).report()
        #expect(try metrics.total("app_cache_hits_total", dimensions) == 1)
        #expect(try metrics.total("hits_total") == 1)
        #expect(metrics.counters.count == 16)  // 8 counters per reporter
        #expect(metrics.counters.allSatisfy { $0.label.hasSuffix("_total") })
        #expect(CacheMetricsReporter<Int>.defaultLabelPrefix == "kvs_cache")
    }

    @Test func aClosedStoreIsStillReported() throws {
        let metrics = TestMetrics()
        let store = try KeyValueStore<Int>(maximumCount: 10)
        try store.set("a", 1)
        _ = try store.get("a")
        store.shutdown()
        CacheMetricsReporter(store: store, factory: metrics).report()
        #expect(try metrics.total("kvs_cache_hits_total") == 1)
        #expect(try metrics.last("kvs_cache_maximum_weight") == 10)
    }
}
