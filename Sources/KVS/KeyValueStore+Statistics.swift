extension KeyValueStore {
    /// The cache counters of every shard, summed: hits, misses, loads, evictions and
    /// expirations since the store was created (see ``CacheStatistics`` for what counts).
    /// Subtract two readings for an interval.
    ///
    /// The shards are read one after another, each under its lock, so the sum is not one
    /// point in time of a store being used; each counter only grows.
    ///
    /// - Complexity: O(shards); locks one shard at a time.
    /// - Thread safety: safe at any time, also on a closed store.
    public var statistics: CacheStatistics {
        var total = CacheStatistics()
        for shard in engine.shards { total.add(shard.withLock { $0.statistics }) }
        return total
    }
}
