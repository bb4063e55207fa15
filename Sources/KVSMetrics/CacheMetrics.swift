import KVS
import Metrics

/// The metrics of one ``CacheMetricsReporter``, created once so that a report only records.
///
/// Every figure has its own label rather than a shared label told apart by a dimension
/// (`requests_total{result="hit"}`): backends without dimensions, such as StatsD's, would
/// merge those into one series. Counters end in `_total`, as Prometheus names them.
struct CacheMetrics: Sendable {
    let hits: Counter
    let misses: Counter
    let loadSuccesses: Counter
    let loadFailures: Counter
    let loadNanoseconds: Counter
    let evictions: Counter
    let evictedWeight: Counter
    let expirations: Counter
    let entries: Gauge
    let hitRatio: Gauge
    /// `weight` and `maximum_weight`, for a bounded store only.
    let weight: (current: Gauge, maximum: Gauge, maximumWeight: Int)?

    init(labelPrefix: String, dimensions: [(String, String)], maximumWeight: Int?, factory: any MetricsFactory) {
        func label(_ name: String) -> String { labelPrefix.isEmpty ? name : labelPrefix + "_" + name }
        func counter(_ name: String) -> Counter {
            Counter(label: label(name), dimensions: dimensions, factory: factory)
        }
        func gauge(_ name: String) -> Gauge { Gauge(label: label(name), dimensions: dimensions, factory: factory) }
        hits = counter("hits_total")
        misses = counter("misses_total")
        loadSuccesses = counter("load_successes_total")
        loadFailures = counter("load_failures_total")
        loadNanoseconds = counter("load_duration_nanoseconds_total")
        evictions = counter("evictions_total")
        evictedWeight = counter("evicted_weight_total")
        expirations = counter("expirations_total")
        entries = gauge("entries")
        hitRatio = gauge("hit_ratio")
        weight = maximumWeight.map { (gauge("weight"), gauge("maximum_weight"), $0) }
    }

    /// Adds a window's counts to the counters and records the gauges. A figure that shrank,
    /// which the store's counters never do short of wrapping around `Int.max`, adds nothing:
    /// a counter that goes down breaks a backend's rates.
    func record(window: CacheStatistics, count: Int, totalWeight: Int?) {
        func add(_ counter: Counter, _ amount: Int) {
            if amount > 0 { counter.increment(by: amount) }
        }
        add(hits, window.hits)
        add(misses, window.misses)
        add(loadSuccesses, window.loadSuccesses)
        add(loadFailures, window.loadFailures)
        add(loadNanoseconds, nanoseconds(window.totalLoadTime))
        add(evictions, window.evictions)
        add(evictedWeight, window.evictedWeight)
        add(expirations, window.expirations)
        entries.record(count)
        if window.requests > 0 { hitRatio.record(window.hitRate) }
        if let weight, let totalWeight {
            weight.current.record(totalWeight)
            weight.maximum.record(weight.maximumWeight)
        }
    }
}

/// A duration in whole nanoseconds, truncated; the store measures load time in nanoseconds,
/// so nothing is lost. Saturates at `Int.max` (292 years).
func nanoseconds(_ duration: Duration) -> Int {
    let (seconds, attoseconds) = duration.components
    let (whole, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
    if overflow { return seconds < 0 ? .min : .max }
    let (total, overflowAgain) = whole.addingReportingOverflow(attoseconds / 1_000_000_000)
    return overflowAgain ? .max : Int(total)
}
