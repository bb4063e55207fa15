import CKVSHeap
import KVS
import Synchronization

/// Answers "how many heap bytes does the process hold now": INFO's `used_memory`, and the
/// figure a `maxmemory` limit is checked against.
///
/// The gauge is a closure, set in ``ServerConfiguration/memoryGauge``. The default,
/// ``mallinfo``, asks glibc's `mallinfo2` for the bytes in allocated chunks, at most once
/// per millisecond. The `kvs-server` executable replaces it with its counting malloc's sum,
/// Redis's own way of counting (docs/design/memory-accounting.md). Tests inject a closure
/// to make memory figures deterministic:
///
/// ```swift
/// var configuration = ServerConfiguration()
/// let used = Atomic<Int>(0)
/// configuration.memoryGauge = MemoryGauge { used.load(ordering: .relaxed) }
/// ```
///
/// Thread-safety: thread-safe; the closure must be callable from any thread.
public struct MemoryGauge: Sendable {
    /// What INFO's `mem_allocator` names: `libc` for glibc's malloc as is, `libc-counted`
    /// for the executable's counting wrapper around it.
    public let allocatorName: String
    private let read: @Sendable () -> Int

    /// A gauge that reads `usedBytes` each time it is asked.
    ///
    /// - Parameters:
    ///   - allocatorName: INFO's `mem_allocator`. Default `libc`.
    ///   - usedBytes: the heap bytes in use now; called on event-loop threads, possibly
    ///     before every write command, so it must be cheap. A negative answer reads as 0.
    public init(allocatorName: String = "libc", _ usedBytes: @escaping @Sendable () -> Int) {
        self.allocatorName = allocatorName
        self.read = usedBytes
    }

    /// The heap bytes in use now, at least 0.
    ///
    /// - Complexity: the closure's cost.
    public func usedBytes() -> Int { max(0, read()) }

    /// glibc's `mallinfo2` (bytes in chunks handed out, mmapped ones included), read at
    /// most once per millisecond: `mallinfo2` walks every arena's free lists under their
    /// locks, far too slow to run per command. 0 where glibc 2.33 or later is not the
    /// allocator. Plus the huge-page blocks the shard tables take apart from malloc.
    ///
    /// - Complexity: O(1) within a millisecond of the last reading; else one `mallinfo2`.
    public static let mallinfo = MemoryGauge(allocatorName: "libc") {
        MallinfoCache.shared.allocatedBytes() + TableMemory.blockBytes.value.load(ordering: .relaxed)
    }
}

/// The process's last `mallinfo2` figure and when it was taken. One per process: the
/// figure is the process's.
///
/// Thread-safety: thread-safe. One thread at a time refreshes it (the one that wins the
/// timestamp's compare-exchange); the others answer the previous figure meanwhile.
final class MallinfoCache: Sendable {
    static let shared = MallinfoCache(maxAgeNanoseconds: 1_000_000) { ckvsHeapAllocatedBytes() }

    private let maxAge: Int
    private let source: @Sendable () -> Int
    private let clock: @Sendable () -> Int
    /// The monotonic time of the last refresh, or of the claim of one in progress.
    private let takenAt = Atomic<Int>(Int.min)
    /// The last figure; -1 before the first.
    private let bytes = Atomic<Int>(-1)
    /// How many times `source` ran (for the tests of the cache).
    let refreshes = Atomic<Int>(0)

    /// - Parameters:
    ///   - maxAgeNanoseconds: how old a figure may be answered.
    ///   - clock: monotonic nanoseconds; injected by tests.
    ///   - source: the slow reading.
    init(
        maxAgeNanoseconds: Int,
        clock: @escaping @Sendable () -> Int = { MonotonicClock.nanoseconds() },
        source: @escaping @Sendable () -> Int
    ) {
        self.maxAge = maxAgeNanoseconds
        self.clock = clock
        self.source = source
    }

    /// The figure, refreshed when it is older than the maximum age. The first call waits
    /// for its reading; later ones at worst answer a figure one refresh old.
    func allocatedBytes() -> Int {
        let now = clock()
        let last = takenAt.load(ordering: .acquiring)
        if last != Int.min, now &- last < maxAge { return cachedOrRead() }
        if takenAt.compareExchange(expected: last, desired: now, ordering: .acquiringAndReleasing).exchanged {
            let figure = source()
            refreshes.add(1, ordering: .relaxed)
            bytes.store(figure, ordering: .relaxed)
            return figure
        }
        return cachedOrRead()  // another thread refreshes it now
    }

    /// The cached figure, or a reading of the source while the first refresh is in flight.
    private func cachedOrRead() -> Int {
        let figure = bytes.load(ordering: .relaxed)
        return figure >= 0 ? figure : source()
    }
}

/// `mallinfo2`'s allocated bytes (0 where unavailable).
private func ckvsHeapAllocatedBytes() -> Int {
    var allocated = 0
    var held = 0
    ckvs_heap_usage(&allocated, &held)
    return allocated
}
