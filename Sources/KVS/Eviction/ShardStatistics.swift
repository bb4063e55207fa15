/// One shard's cache counters, kept in the shard's state and written only under the shard's
/// lock, by the operation that holds it anyway: counting a hit adds to a line the lock holder
/// owns already, and no counter is shared between shards. ``KeyValueStore/statistics`` sums
/// them.
///
/// Counters wrap around on overflow (`&+=`) rather than trap.
@usableFromInline
package struct ShardStatistics: Sendable {
    /// Reads that found a live value.
    @usableFromInline package var hits = 0
    /// Reads that found no value, or an expired one.
    @usableFromInline package var misses = 0
    /// Loads whose loader returned a value.
    package var loadSuccesses = 0
    /// Loads whose loader threw.
    package var loadFailures = 0
    /// Nanoseconds spent in loaders, successful or not.
    package var loadNanoseconds: Int64 = 0
    /// Entries removed to keep the shard within its bound.
    @usableFromInline package var evictions = 0
    /// The summed weight of the evicted entries.
    @usableFromInline package var evictedWeight = 0
    /// Entries removed because their time-to-live ran out.
    @usableFromInline package var expirations = 0

    package init() {}

    /// Counts a read: a hit if it found a live value, else a miss.
    @inlinable @inline(__always)
    package mutating func recordRead(hit: Bool) {
        if hit { hits &+= 1 } else { misses &+= 1 }
    }

    /// Counts an entry removed by the eviction policy, of `weight` (1 when entries are
    /// counted rather than weighed). Call under the shard's lock, once per evicted entry.
    @inlinable
    package mutating func recordEviction(weight: Int) {
        evictions &+= 1
        evictedWeight &+= weight
    }

    /// Counts `count` entries removed by passive or active expiry.
    @inlinable @inline(__always)
    package mutating func recordExpirations(_ count: Int) {
        expirations &+= count
    }

    /// Counts a finished load that took `nanoseconds`.
    package mutating func recordLoad(succeeded: Bool, nanoseconds: Int64) {
        if succeeded { loadSuccesses &+= 1 } else { loadFailures &+= 1 }
        loadNanoseconds &+= nanoseconds
    }
}
