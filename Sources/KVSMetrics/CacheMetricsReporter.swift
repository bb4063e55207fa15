import KVS
import Metrics

/// Reports a store's `CacheStatistics` through swift-metrics: counters for the counts
/// that only grow, gauges for the store's present size and the hit ratio.
///
/// ```swift
/// let sessions = try KeyValueStore<Session>(maximumCount: 100_000)
/// let reporter = CacheMetricsReporter(store: sessions, dimensions: [("cache", "sessions")])
/// let group = ServiceGroup(services: [server, reporter], logger: logger)
/// try await group.run()  // reports every 10 seconds until shutdown
/// ```
///
/// Each ``report()`` reads `KeyValueStore.statistics` and increments every counter by
/// what its figure grew since the previous report, so a counter of the backend holds the
/// store's figure since the store was created (the first report adds everything counted so
/// far). As a `Service`, ``run()`` reports at once, then every `interval`, and once more
/// when it stops. The labels are the prefix (`kvs_cache` unless given), an underscore and:
///
/// | Label                             | Metric  | Value                                         |
/// | --------------------------------- | ------- | --------------------------------------------- |
/// | `hits_total`                      | Counter | reads that found a live value                 |
/// | `misses_total`                    | Counter | reads that found none or an expired one       |
/// | `load_successes_total`            | Counter | loads whose loader returned a value           |
/// | `load_failures_total`             | Counter | loads whose loader threw                      |
/// | `load_duration_nanoseconds_total` | Counter | the time spent in loaders, in nanoseconds     |
/// | `evictions_total`                 | Counter | entries evicted to keep within the bound      |
/// | `evicted_weight_total`            | Counter | the summed weight of the evicted entries      |
/// | `expirations_total`               | Counter | entries removed because their TTL ran out     |
/// | `entries`                         | Gauge   | `KeyValueStore.count`                         |
/// | `weight`                          | Gauge   | `KeyValueStore.totalWeight` (bounded store)   |
/// | `maximum_weight`                  | Gauge   | `KeyValueStore.maximumWeight` (bounded store) |
/// | `hit_ratio`                       | Gauge   | hits over reads since the previous report     |
///
/// The load time is a counter of nanoseconds rather than a `Timer`: the store keeps the sum of
/// its load times, not each one, and a timer fed one figure per report would give the backend
/// a false distribution. An integer counter carries the sum exactly on every backend, where a
/// floating-point counter of seconds is rounded to whole seconds by backends that lack one.
/// The mean load time over a window is its increase over that of the two load counters.
/// `weight` and `maximum_weight` exist only for a bounded store. `hit_ratio` is left as it
/// was after a report whose window had no read.
///
/// Create one reporter per store and label set: two reporters of one store with the same
/// labels would count its figures twice in a backend that shares metrics by label, as
/// Prometheus's does. Prometheus also wants every metric of a name to carry the same
/// dimension names, so give each store's reporter the same keys (`cache`, say).
///
/// - Thread safety: `Sendable`; ``report()`` may be called from any thread or task, also
///   while ``run()`` reports.
public final class CacheMetricsReporter<Value: Sendable>: Sendable {
    /// The store whose statistics are reported.
    public let store: KeyValueStore<Value>
    /// The time between two reports of ``run()``.
    public let interval: Duration
    /// The clock that times ``run()``.
    let clock: any Clock<Duration>
    /// The metrics, made once by the factory.
    let metrics: CacheMetrics
    /// The statistics of the previous report; held by a report throughout, so that
    /// concurrent reports add disjoint windows and set the gauges in order. KVS's pthread
    /// lock rather than `Synchronization.Mutex`, which ThreadSanitizer cannot see on Linux.
    let previous = Locked(CacheStatistics())

    /// The label prefix of ``init(store:labelPrefix:dimensions:interval:clock:factory:)``
    /// when none is given.
    public static var defaultLabelPrefix: String { "kvs_cache" }

    /// Creates a reporter of `store`'s statistics and the metrics it reports to, with
    /// `factory`. Nothing is reported until ``report()`` or ``run()``.
    ///
    /// - Parameters:
    ///   - store: the store to report; the reporter keeps a reference to it.
    ///   - labelPrefix: the start of every label, joined to the metric's name by an
    ///     underscore; with an empty prefix the labels are the names alone.
    ///   - dimensions: the dimensions of every metric, such as `[("cache", "sessions")]`.
    ///   - interval: the time between two reports of ``run()``; more than zero.
    ///   - clock: the clock that times ``run()``.
    ///   - factory: the backend to create the metrics with; unless given,
    ///     `MetricsSystem.factory` (the one bootstrapped), read when the reporter is created.
    /// - Precondition: `interval` is more than zero.
    /// - Complexity: O(shards): reads the store's bound once; creates 10 to 12 metrics.
    /// - Thread safety: the new reporter may be shared at once.
    public init(
        store: KeyValueStore<Value>,
        labelPrefix: String = defaultLabelPrefix,
        dimensions: [(String, String)] = [],
        interval: Duration = .seconds(10),
        clock: any Clock<Duration> = ContinuousClock(),
        factory: any MetricsFactory = MetricsSystem.factory
    ) {
        precondition(interval > .zero, "a report interval must be more than zero, not \(interval)")
        self.store = store
        self.interval = interval
        self.clock = clock
        self.metrics = CacheMetrics(
            labelPrefix: labelPrefix,
            dimensions: dimensions,
            maximumWeight: store.maximumWeight,
            factory: factory
        )
    }

    /// Reads the store's statistics and reports them: increments each counter by the growth
    /// of its figure since the previous report, and records the gauges.
    ///
    /// - Returns: the statistics of the window reported, from the previous report (or the
    ///   store's creation) to this one.
    /// - Complexity: O(shards): reads `KeyValueStore.statistics` and, for a bounded
    ///   store, `KeyValueStore.totalWeight`, each locking one shard at a time; then a
    ///   call to the backend per metric.
    /// - Thread safety: safe from any thread or task, also on a closed store. Concurrent
    ///   reports take turns, so every count is reported once.
    @discardableResult
    public func report() -> CacheStatistics {
        previous.withLock { previous in
            let current = store.statistics
            let window = current - previous
            previous = current
            let totalWeight = metrics.weight == nil ? nil : store.totalWeight
            metrics.record(window: window, count: store.count, totalWeight: totalWeight)
            return window
        }
    }
}
