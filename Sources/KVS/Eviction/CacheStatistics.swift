/// What a store's cache counters say at one moment: hits and misses of reads, loads and
/// their time, evictions and expirations, since the store was created. Read it with
/// ``KeyValueStore/statistics``; take the difference of two readings for an interval.
///
/// ```swift
/// let before = store.statistics
/// serveTraffic()
/// let window = store.statistics - before
/// print(window.hitRate, window.averageLoadTime)
/// ```
///
/// Counted by: ``KeyValueStore/get(_:)``, ``KeyValueStore/withValue(_:_:)`` and the lookups of
/// `value(forKey:ttl:orLoad:)` and `value(forKey:orLoadWithTTL:)` (hits and misses); those two
/// (loads); the eviction of a bounded store (evictions); a read that finds an entry expired and
/// the background sweep (expirations). Other operations (batches, `exists`, transactions,
/// `update`) are not counted.
///
/// - Thread safety: a value type; `Sendable`.
public struct CacheStatistics: Sendable, Hashable, CustomStringConvertible {
    /// Reads that found a live value.
    public var hits: Int
    /// Reads that found no value or an expired one (each caller of a load counts one).
    public var misses: Int
    /// Loads whose loader returned a value.
    public var loadSuccesses: Int
    /// Loads whose loader threw (the error is not cached).
    public var loadFailures: Int
    /// The time spent in loaders, successful or not.
    public var totalLoadTime: Duration
    /// Entries removed to keep a bounded store within its bound.
    public var evictions: Int
    /// The summed weight of the evicted entries (their count when entries are not weighed).
    public var evictedWeight: Int
    /// Entries removed because their time-to-live ran out, by a read or the background sweep.
    public var expirations: Int

    /// Statistics with every counter at zero.
    ///
    /// - Complexity: O(1).
    public init() {
        self.init(
            hits: 0,
            misses: 0,
            loadSuccesses: 0,
            loadFailures: 0,
            totalLoadTime: .zero,
            evictions: 0,
            evictedWeight: 0,
            expirations: 0
        )
    }

    /// Statistics with the given counters.
    ///
    /// - Complexity: O(1).
    public init(
        hits: Int,
        misses: Int,
        loadSuccesses: Int,
        loadFailures: Int,
        totalLoadTime: Duration,
        evictions: Int,
        evictedWeight: Int,
        expirations: Int
    ) {
        self.hits = hits
        self.misses = misses
        self.loadSuccesses = loadSuccesses
        self.loadFailures = loadFailures
        self.totalLoadTime = totalLoadTime
        self.evictions = evictions
        self.evictedWeight = evictedWeight
        self.expirations = expirations
    }

    /// Hits plus misses.
    public var requests: Int { hits &+ misses }

    /// Hits over requests, from 0 to 1; 1 when there was no request.
    public var hitRate: Double { requests == 0 ? 1 : Double(hits) / Double(requests) }

    /// Load successes plus failures.
    public var loads: Int { loadSuccesses &+ loadFailures }

    /// The mean time of a load; `.zero` when there was none.
    public var averageLoadTime: Duration { loads == 0 ? .zero : totalLoadTime / loads }

    /// The counts of the interval between two readings: `later - earlier`, counter by counter.
    ///
    /// - Complexity: O(1).
    public static func - (later: CacheStatistics, earlier: CacheStatistics) -> CacheStatistics {
        CacheStatistics(
            hits: later.hits &- earlier.hits,
            misses: later.misses &- earlier.misses,
            loadSuccesses: later.loadSuccesses &- earlier.loadSuccesses,
            loadFailures: later.loadFailures &- earlier.loadFailures,
            totalLoadTime: later.totalLoadTime - earlier.totalLoadTime,
            evictions: later.evictions &- earlier.evictions,
            evictedWeight: later.evictedWeight &- earlier.evictedWeight,
            expirations: later.expirations &- earlier.expirations
        )
    }

    /// `"hits 90, misses 10 (90.0% hit rate), loads 10 (0 failed, 1.2 ms on average), evictions 0 (weight 0), expirations 3"`.
    public var description: String {
        let rate = (hitRate * 1000).rounded() / 10
        return "hits \(hits), misses \(misses) (\(rate)% hit rate), loads \(loads) (\(loadFailures) failed, "
            + "\(averageLoadTime) on average), evictions \(evictions) (weight \(evictedWeight)), "
            + "expirations \(expirations)"
    }

    /// Adds one shard's counters.
    mutating func add(_ shard: ShardStatistics) {
        hits &+= shard.hits
        misses &+= shard.misses
        loadSuccesses &+= shard.loadSuccesses
        loadFailures &+= shard.loadFailures
        totalLoadTime += .nanoseconds(shard.loadNanoseconds)
        evictions &+= shard.evictions
        evictedWeight &+= shard.evictedWeight
        expirations &+= shard.expirations
    }
}
