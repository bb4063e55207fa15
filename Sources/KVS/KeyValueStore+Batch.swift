extension KeyValueStore {
    /// Reads several keys, locking each shard they touch once rather than once per key.
    ///
    /// Every distinct key of `keys` ends in exactly one of the result's `values` or
    /// `errors`; a key given twice appears once. One key's failure does not affect the
    /// others (partial success).
    ///
    /// A batch is not atomic across shards: each shard's keys are read at one instant,
    /// but two shards may be read at different instants, so a concurrent writer's
    /// changes can be visible on one shard and not on another. Use a transaction when
    /// the keys must be read together.
    ///
    /// - Returns: the values found and, for the other keys, why: ``KVSError/Code/notFound``
    ///   for a key absent or expired, ``KVSError/Code/invalidShardIndex`` for a key whose
    ///   custom hash is out of range.
    /// - Throws: ``KVSError/Code/storeClosed`` (the whole call).
    /// - Complexity: O(n log n) for n keys; one lock per shard touched.
    /// - Thread safety: locks the touched shards one at a time.
    @inlinable
    public func batchGet(_ keys: [String]) throws(KVSError) -> BatchGetResult<Value> {
        let (values, errors) = try engine.batchGet(keys)
        return BatchGetResult(values: values, errors: errors)
    }

    /// Stores several items, locking each shard they touch once rather than once per key.
    /// Each replaces any previous value and clears its time-to-live.
    ///
    /// `successful + errors.count == items.count`. Not atomic across shards: a reader
    /// may see some shards' items before others'.
    ///
    /// - Returns: how many items were stored, and why the others were not
    ///   (``KVSError/Code/invalidShardIndex`` for a key whose custom hash is out of range).
    /// - Throws: ``KVSError/Code/storeClosed`` (the whole call).
    /// - Complexity: O(n log n) for n items; one lock per shard touched.
    @inlinable
    public func batchSet(_ items: [String: Value]) throws(KVSError) -> BatchSetResult {
        let (successful, errors) = try engine.batchSet(items.map { ($0.key, $0.value) })
        return BatchSetResult(successful: successful, errors: errors)
    }

    /// Stores several items that all expire after `ttl`, locking each shard once.
    ///
    /// - Parameters:
    ///   - items: the keys and the values to store under them.
    ///   - ttl: `.zero` means no expiry.
    /// - Throws: ``KVSError/Code/invalidTTL`` for a negative `ttl` (nothing is stored),
    ///   ``KVSError/Code/storeClosed``.
    /// - Complexity: O(n log n); one lock per shard touched.
    @inlinable
    public func batchSet(_ items: [String: Value], ttl: Duration) throws(KVSError) -> BatchSetResult {
        let expiresAt = try deadline(for: ttl, key: nil)
        let (successful, errors) = try engine.batchSet(items.map { ($0.key, $0.value) }, expiresAt: expiresAt)
        return BatchSetResult(successful: successful, errors: errors)
    }

    /// Removes several keys, locking each shard they touch once rather than once per key.
    ///
    /// A key given twice is handled once: `deleted + errors.count` equals the number of
    /// distinct keys given. Not atomic across shards.
    ///
    /// - Returns: how many keys were removed, and why the others were not
    ///   (``KVSError/Code/notFound`` for a key absent or expired,
    ///   ``KVSError/Code/invalidShardIndex``).
    /// - Throws: ``KVSError/Code/storeClosed`` (the whole call).
    /// - Complexity: O(n log n) for n keys; one lock per shard touched.
    @inlinable
    public func batchDelete(_ keys: [String]) throws(KVSError) -> BatchDeleteResult {
        let (deleted, errors) = try engine.batchDelete(keys)
        return BatchDeleteResult(deleted: deleted, errors: errors)
    }
}
