import Synchronization

/// The server's memory figures: the gauge of bytes in use (INFO's `used_memory`), the
/// figure at start-up (`used_memory_startup`) and the highest figure seen
/// (`used_memory_peak`).
///
/// Redis updates its peak on its cron; kvs updates it whenever the gauge is read through
/// ``usedBytes()`` (INFO, MEMORY STATS, and the write commands' `maxmemory` check), so a
/// peak between two readings is missed.
///
/// Thread-safety: thread-safe (an immutable gauge and an atomic peak).
package final class ServerMemory: Sendable {
    /// Where the figures come from (``ServerConfiguration/memoryGauge``).
    package let gauge: MemoryGauge
    /// The gauge when the server's state was made, before any data was loaded.
    package let startupBytes: Int
    private let peak: Atomic<Int>

    /// Reads the gauge once for the start-up figure.
    package init(gauge: MemoryGauge) {
        self.gauge = gauge
        let now = gauge.usedBytes()
        self.startupBytes = now
        self.peak = Atomic(now)
    }

    /// The heap bytes in use now; raises the peak when it is higher.
    ///
    /// - Complexity: the gauge's cost (the counting allocator: a sum of one slot per
    ///   thread; the default: a cached `mallinfo2` figure) and one relaxed load of the peak.
    package func usedBytes() -> Int {
        let used = gauge.usedBytes()
        if used > peak.load(ordering: .relaxed) { peak.max(used, ordering: .relaxed) }
        return used
    }

    /// The highest figure ``usedBytes()`` has answered.
    package var peakBytes: Int { peak.load(ordering: .relaxed) }
}
