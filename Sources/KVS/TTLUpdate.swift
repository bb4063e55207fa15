/// What a write that computes a new value does with the key's time-to-live: keep it, set a
/// new one, or remove it. Taken by `update(_:ttl:_:)` and `compareAndSwap(_:expected:new:ttl:)`
/// (on `KeyValueStore`, through ``AsyncStore`` and on the network stores) and by
/// `Transaction`'s `set(_:_:ttl:)`.
///
/// ```swift
/// // A sliding session: every touch writes the session and gives it 30 more minutes.
/// try store.update("session:42", ttl: .expire(after: .seconds(1800))) { touched($0) }
/// // A plain update keeps the TTL, as `.keep` does.
/// try store.update("session:42", ttl: .keep) { touched($0) }
/// // Renew a lease only while we hold it.
/// _ = try store.compareAndSwap("lease", expected: me, new: me, ttl: .expire(after: .seconds(30)))
/// ```
///
/// - Thread safety: a value type; `Sendable`.
public enum TTLUpdate: Sendable, Hashable {
    /// Keeps the deadline the key has, if any: the new value expires when the old one would
    /// have (Redis's `KEEPTTL`). A key created by the write gets no TTL.
    case keep
    /// Sets the key to expire `ttl` after the write; `.zero` means no expiry, as for
    /// ``KeyValueStore/set(_:_:ttl:)``. A negative `ttl` makes the write throw
    /// ``KVSError/Code/invalidTTL``.
    case expire(after: Duration)
    /// Removes the key's time-to-live: the new value never expires (Redis's `PERSIST`).
    case persist
}

extension TTLUpdate {
    /// The time-to-live in nanoseconds for `.expire(after:)` (0 for `.persist`), or `nil` for
    /// `.keep`.
    ///
    /// - Throws: ``KVSError/Code/invalidTTL`` for a negative duration.
    @inlinable
    func ttlNanoseconds(for key: String) throws(KVSError) -> Int64? {
        switch self {
        case .keep: nil
        case .expire(let ttl): try ttl.ttlNanoseconds(for: key)
        case .persist: 0
        }
    }
}
