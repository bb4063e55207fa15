/// The view of the store inside ``KeyValueStore/transaction(_:)-7nfcr``: reads see the store as
/// of the transaction plus the transaction's own writes; writes take effect together
/// when the transaction commits, or not at all.
///
/// A `Transaction` exists only during the body of `transaction(_:)`; don't let it escape.
/// Its methods throw ``KVSError``; inside a run that will be repeated (see
/// ``KeyValueStore/transaction(_:)-7nfcr``) they may also throw
/// ``KVSError/Code/transactionConflict``, which you should let propagate.
public struct Transaction<Value: Sendable> {
    @usableFromInline var state: TransactionState<String, Value>

    @inlinable
    init(state: TransactionState<String, Value>) {
        self.state = state
    }

    /// The value of `key` as this transaction sees it.
    ///
    /// - Throws: ``KVSError/Code/notFound`` when absent or expired (at the transaction's
    ///   point in time) or deleted by this transaction; ``KVSError/Code/invalidShardIndex``.
    /// - Complexity: O(1) for a key read or written before in this transaction; otherwise
    ///   one shard lock round trip and a validation of the shards read so far.
    @inlinable
    public mutating func get(_ key: String) throws(KVSError) -> Value {
        guard let entry = try state.entry(key) else { throw KVSError.notFound(key) }
        return entry.value
    }

    /// Stores `value` under `key` when the transaction commits; later reads in this
    /// transaction see it. Clears any TTL, as ``KeyValueStore/set(_:_:)`` does; to keep it,
    /// write with `set(_:_:ttl:)` and `.keep`.
    ///
    /// - Throws: ``KVSError/Code/invalidShardIndex``.
    @inlinable
    public mutating func set(_ key: String, _ value: Value) throws(KVSError) {
        try state.set(key, value, ttlNanos: 0)
    }

    /// Stores `value` under `key` with a time-to-live counted from the commit.
    ///
    /// - Parameters:
    ///   - key: the key to write.
    ///   - value: the value to store.
    ///   - ttl: `.zero` for no expiry.
    /// - Throws: ``KVSError/Code/invalidTTL`` for a negative `ttl` (nothing is buffered),
    ///   ``KVSError/Code/invalidShardIndex``.
    @inlinable
    public mutating func set(_ key: String, _ value: Value, ttl: Duration) throws(KVSError) {
        try state.set(key, value, ttlNanos: try ttl.ttlNanoseconds(for: key))
    }

    /// Stores `value` under `key` when the transaction commits, with the time-to-live `ttl`
    /// says: `.keep` keeps the deadline the key has as this transaction sees it (none for an
    /// absent key), so a value moved from one key to another, or rewritten in place, expires
    /// when the old one would have.
    ///
    /// ```swift
    /// try store.transaction { (tx) throws(KVSError) in  // a rename that carries the TTL
    ///     let value = try tx.get("old"), ttl = try tx.timeToLive("old")
    ///     try tx.delete("old")
    ///     try tx.set("new", value, ttl: ttl.map { .expire(after: $0) } ?? .persist)
    /// }
    /// ```
    ///
    /// A TTL from `.expire(after:)` counts from the commit; `.keep` keeps the absolute
    /// deadline. A deadline passed by the commit makes the key expire at once.
    ///
    /// - Parameters:
    ///   - key: the key to write.
    ///   - value: the value to store.
    ///   - ttl: `.keep` (reads `key` first, as ``get(_:)`` does), `.expire(after:)` or
    ///     `.persist`.
    /// - Throws: ``KVSError/Code/invalidTTL`` for a negative TTL (nothing is buffered),
    ///   ``KVSError/Code/invalidShardIndex``.
    /// - Complexity: O(1); with `.keep`, as ``get(_:)``.
    @inlinable
    public mutating func set(_ key: String, _ value: Value, ttl: TTLUpdate) throws(KVSError) {
        guard let ttlNanos = try ttl.ttlNanoseconds(for: key) else {
            let expiresAt = try state.entry(key)?.expiresAt ?? 0
            return try state.set(key, value, expiresAt: expiresAt)
        }
        try state.set(key, value, ttlNanos: ttlNanos)
    }

    /// The time `key` has left to live as this transaction sees it: counted from the
    /// transaction's point in time, its own writes included.
    ///
    /// - Returns: the remaining time, or `nil` if the key does not expire.
    /// - Throws: ``KVSError/Code/notFound`` when absent or expired, or deleted by this
    ///   transaction; ``KVSError/Code/invalidShardIndex``.
    /// - Complexity: as ``get(_:)``.
    @inlinable
    public mutating func timeToLive(_ key: String) throws(KVSError) -> Duration? {
        guard let entry = try state.entry(key) else { throw KVSError.notFound(key) }
        return entry.hasExpiry ? .nanoseconds(entry.expiresAt - state.now) : nil
    }

    /// Removes `key` when the transaction commits.
    ///
    /// - Throws: ``KVSError/Code/notFound`` when the key is absent or expired as this
    ///   transaction sees it, ``KVSError/Code/invalidShardIndex``.
    @inlinable
    public mutating func delete(_ key: String) throws(KVSError) {
        try state.delete(key)
    }

    /// Whether `key` holds a live value as this transaction sees it. Returns `false` when
    /// the attempt has to be re-run (the commit then repeats the body).
    @inlinable
    public mutating func exists(_ key: String) -> Bool {
        ((try? state.entry(key)) ?? nil) != nil
    }
}
