import KVS
import MetricsTestKit

/// A loader's error.
struct LoadFailure: Error {}

/// An unbounded store with `shards` shards whose expiry reads `clock` and whose background
/// sweep never runs, so that a test expires keys by moving `clock` and reading them.
func makeStore(clock: ManualClock, shards: Int = 4) throws -> KeyValueStore<Int> {
    KeyValueStore(engine: try StoreEngine(shardCount: shards, clock: .manual(clock), sweepInterval: .seconds(3600)))
}

/// A duration in whole nanoseconds (the store's load times are whole nanoseconds).
func wholeNanoseconds(_ duration: Duration) -> Int64 {
    duration.components.seconds * 1_000_000_000 + duration.components.attoseconds / 1_000_000_000
}

extension TestMetrics {
    /// The sum of what the counter `label` with `dimensions` was incremented by.
    func total(_ label: String, _ dimensions: [(String, String)] = []) throws -> Int64 {
        try expectCounter(label, dimensions).totalValue
    }

    /// The last value the gauge `label` with `dimensions` recorded; `nil` if none.
    func last(_ label: String, _ dimensions: [(String, String)] = []) throws -> Double? {
        try expectGauge(label, dimensions).lastValue
    }
}
