extension KeyValueStore {
    /// Stores `value` under `key` for `ttl`, after which the key expires: it is invisible
    /// at once and removed in the background within about 50 ms. The Go package's `SetWithTTL`.
    ///
    /// - Parameters:
    ///   - key: the key to write.
    ///   - value: the value to store.
    ///   - ttl: how long the key lives; `.zero` means it never expires (like
    ///     ``set(_:_:)``). A duration below one nanosecond is rounded up to one.
    /// - Throws: ``KVSError/Code/invalidTTL`` for a negative `ttl` (any value already
    ///   stored under `key` is left as it was), ``KVSError/Code/storeClosed``,
    ///   ``KVSError/Code/invalidShardIndex``.
    /// - Complexity: O(log t) with t the shard's keys that carry a TTL.
    /// - Thread safety: locks the key's shard.
    @inlinable
    public func set(_ key: String, _ value: Value, ttl: Duration) throws(KVSError) {
        let expiresAt = try deadline(for: ttl, key: key)
        try engine.set(key, value, expiresAt: expiresAt)
    }

    /// The time `key` has left to live.
    ///
    /// - Returns: the remaining time, or `nil` if the key does not expire.
    /// - Throws: ``KVSError/Code/notFound`` when the key is absent or expired,
    ///   ``KVSError/Code/storeClosed``, ``KVSError/Code/invalidShardIndex``.
    /// - Complexity: O(1) on average.
    public func timeToLive(_ key: String) throws(KVSError) -> Duration? {
        let result: Duration?? = try engine.readEntry(key) { entry, now in
            guard let entry else { return .none }
            return .some(entry.hasExpiry ? .nanoseconds(entry.expiresAt - now) : nil)
        }
        guard let remaining = result else { throw KVSError.notFound(key) }
        return remaining
    }

    /// Sets or clears the time-to-live of an existing key without changing its value.
    ///
    /// - Parameters:
    ///   - key: the key whose time-to-live changes.
    ///   - ttl: the new time-to-live from now; `.zero` removes the expiry.
    /// - Throws: ``KVSError/Code/notFound`` when the key is absent or expired,
    ///   ``KVSError/Code/invalidTTL`` for a negative `ttl`, ``KVSError/Code/storeClosed``,
    ///   ``KVSError/Code/invalidShardIndex``.
    /// - Complexity: O(log t).
    public func expire(_ key: String, after ttl: Duration) throws(KVSError) {
        let ttlNanos = try ttl.ttlNanoseconds(for: key)
        let found = try engine.withEntry(key) { entry, now in
            guard entry != nil else { return false }
            entry?.expiresAt = now.deadline(afterTTL: ttlNanos)
            return true
        }
        if !found { throw KVSError.notFound(key) }
    }

    /// The absolute deadline for `ttl` from now (`0` for no expiry).
    @inlinable
    func deadline(for ttl: Duration, key: String?) throws(KVSError) -> Int64 {
        let ttlNanos = try ttl.ttlNanoseconds(for: key)
        return ttlNanos == 0 ? 0 : engine.clock.now().deadline(afterTTL: ttlNanos)
    }
}

extension Int64 {
    /// `self + other`, clamped to `Int64.max` instead of overflowing.
    /// The deadline `ttlNanos` after this instant, or `0` (no expiry) when `ttlNanos` is 0.
    @inlinable
    package func deadline(afterTTL ttlNanos: Int64) -> Int64 {
        ttlNanos == 0 ? 0 : addingClamped(ttlNanos)
    }

    @inlinable
    package func addingClamped(_ other: Int64) -> Int64 {
        let (sum, overflow) = addingReportingOverflow(other)
        return overflow ? (other > 0 ? .max : .min) : sum
    }
}
