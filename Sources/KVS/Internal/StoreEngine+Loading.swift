import Synchronization

/// The engine's part of get-or-load (``KeyValueStore``'s `value(forKey:ttl:orLoad:)`): a lookup
/// that reports a miss as `nil`, the store of a loaded value, and the load counters.
extension StoreEngine {
    /// The live value of `key`, or `nil` when it is absent or expired (an expired entry is
    /// removed, as by ``get(_:)``). Counts a hit or a miss when `counting`.
    ///
    /// - Throws: `.storeClosed`, `.invalidShardIndex`.
    /// - Complexity: O(1) on average.
    @inlinable
    package func valueIfPresent(_ key: Key, counting: Bool) throws(KVSError) -> Value? {
        try checkOpen()
        let (index, hash) = try locate(key)
        return withLockedShard(at: index) { _, state in
            let value = liveValue(key, hash: hash, in: &state)?.pointee
            if counting { state.statistics.recordRead(hit: value != nil) }
            return value
        }
    }

    /// Stores the value a load of `key` returned, with a deadline `ttlNanos` from now (`0`:
    /// none), unless the key holds a live value (written while the load ran: that write is
    /// newer, so it stays); counts a successful load that took `nanoseconds`.
    ///
    /// - Returns: whether it stored the value.
    /// - Throws: `.storeClosed` (nothing stored or counted), `.invalidShardIndex`.
    /// - Complexity: O(1) on average; O(log t) more with a deadline.
    package func storeLoaded(_ key: Key, _ value: Value, ttlNanos: Int64, nanoseconds: Int64) throws(KVSError) -> Bool {
        try checkOpen()
        let (index, hash) = try locate(key)
        // As in `set`: a bounded shard evicts as it stores, so the count drops by the
        // evictions, and the replaced (expired) entry and the evicted ones go to the
        // removal listeners after the unlock.
        let listening = removalListeners.isActive
        let (stored, replaced, evicted) = withLockedShard(at: index) { shard, state in
            state.statistics.recordLoad(succeeded: true, nanoseconds: nanoseconds)
            let now = clock.now()
            if let old = state.table.entry(forKey: key, hash: hash), !old.isExpired(at: now) {
                return (false, Entry<Value>?.none, EvictedEntries<Key, Value>?.none)
            }
            let expiresAt = now.deadline(afterTTL: ttlNanos)
            let replaced = state.store(key, Entry(value: value, expiresAt: expiresAt), hash: hash)
            let evicted = state.takeEvictions()
            if listening { queueSetRemovals(key, replaced: replaced, evicted: evicted, in: &state) }
            let added = (replaced == nil ? 1 : 0) - (evicted?.count ?? 0)
            if added != 0 { counter.add(added, ordering: .relaxed) }
            shard.bumpVersion()
            if expiresAt != 0 { noteDeadline(expiresAt, in: shard) }
            return (true, replaced, evicted)
        }
        _ = consume replaced
        _ = consume evicted
        if listening && stored { deliverRemovals(ofShard: index) }
        return stored
    }

    /// Counts a load of `key` whose loader threw after `nanoseconds`; nothing is stored.
    package func recordLoadFailure(_ key: Key, nanoseconds: Int64) {
        guard let index = shardIndex(of: key) else { return }
        shards[index].withLock { state in state.statistics.recordLoad(succeeded: false, nanoseconds: nanoseconds) }
    }
}
