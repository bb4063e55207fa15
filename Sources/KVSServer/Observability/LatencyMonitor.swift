import KVS
import Synchronization

/// The latency monitor (Redis's `latency.c`): per event (`command`, `fast-command`), the
/// latency spikes of at least `latency-monitor-threshold` milliseconds, one sample per
/// second (the worst), the last 160 seconds with a spike kept.
///
/// Thread-safety: thread-safe. The threshold is an atomic read once per read burst;
/// samples are added under a lock, only for spikes.
package final class LatencyMonitor: Sendable {
    /// One second's worst latency of an event.
    package struct Sample: Sendable, Equatable {
        /// Unix time in seconds.
        package var time: Int
        /// The worst latency in that second.
        package var milliseconds: Int
    }

    /// An event's samples and its all-time maximum.
    package struct Event: Sendable, Equatable {
        /// Oldest first, at most ``LatencyMonitor/historyLength``.
        package var samples: [Sample] = []
        /// The worst latency since the event was last reset, in milliseconds.
        package var max = 0
    }

    /// Samples kept per event (`LATENCY_TS_LEN`).
    static let historyLength = 160

    private let events = Locked<[String: Event]>([:])
    private let threshold = Atomic<Int>(0)

    /// Creates it empty, with the defaults.
    package init() {}

    /// `latency-monitor-threshold` in milliseconds; 0 (the default) turns the monitor off.
    package var thresholdMilliseconds: Int {
        get { threshold.load(ordering: .relaxed) }
        set { threshold.store(max(0, newValue), ordering: .relaxed) }
    }

    /// The threshold in nanoseconds, `Int.max` when the monitor is off.
    var thresholdNanoseconds: Int {
        let t = thresholdMilliseconds
        guard t > 0 else { return .max }
        let (n, overflow) = t.multipliedReportingOverflow(by: 1_000_000)
        return overflow ? .max : n
    }

    /// Records a spike of `milliseconds` for `event` now.
    func add(event: String, milliseconds: Int, now: Int = WallClock.microseconds() / 1_000_000) {
        events.withLock { events in
            var e = events[event] ?? Event()
            e.max = Swift.max(e.max, milliseconds)
            if let last = e.samples.last, last.time == now {
                e.samples[e.samples.count - 1].milliseconds = Swift.max(last.milliseconds, milliseconds)
            } else {
                e.samples.append(Sample(time: now, milliseconds: milliseconds))
                if e.samples.count > Self.historyLength { e.samples.removeFirst(e.samples.count - Self.historyLength) }
            }
            events[event] = e
        }
    }

    /// Every event with samples, by name.
    package var all: [String: Event] { events.withLock { $0 } }

    /// Forgets `names` (every event when nil); returns how many events were forgotten.
    @discardableResult
    package func reset(_ names: [String]?) -> Int {
        events.withLock { events in
            guard let names else {
                let n = events.count
                events.removeAll()
                return n
            }
            var n = 0
            for name in Set(names) where events.removeValue(forKey: name) != nil { n += 1 }
            return n
        }
    }
}
