/// A key-value store reached through `async` calls: the embedded ``KeyValueStore``, a store on
/// one RESP server (`RedisStore` in `KVSRedis`) or on a Redis Cluster.
///
/// Write code once against `some AsyncStore<Value>` and choose the back end at start-up:
///
/// ```swift
/// func warmUp(_ store: some AsyncStore<String>) async throws(KVSError) {
///     try await store.set("greeting", "hello", ttl: .seconds(60))
///     let found = try await store.batchGet(["greeting", "missing"])   // errors["missing"]: .notFound
/// }
/// ```
///
/// Every implementation throws the same ``KVSError`` codes for the same conditions
/// (`.notFound`, `.invalidTTL`, `.storeClosed`, ...); network implementations add
/// `.connectionFailed`, `.timeout`, `.protocolError` and `.serverError`, whose messages name the
/// node and whose ``KVSError/key`` names the key.
///
/// - Thread safety: implementations are `Sendable` and may be used from any number of tasks at once.
public protocol AsyncStore<Value>: Sendable {
    /// The type of the stored values.
    associatedtype Value: Sendable

    /// Returns the value stored under `key`.
    ///
    /// - Parameter key: the key to read.
    /// - Returns: the value; a missing or expired key throws instead.
    /// - Throws: `.notFound` if the key is absent or expired, `.storeClosed` after the store was
    ///   closed or shut down; network stores also `.connectionFailed`, `.timeout`, `.protocolError`,
    ///   `.serverError`.
    /// - Complexity: O(1) embedded; one round trip on a network store.
    func get(_ key: String) async throws(KVSError) -> Value

    /// Stores `value` under `key` with no expiry, replacing any previous value and its TTL.
    ///
    /// - Throws: `.storeClosed`, `.invalidArgument` if the value cannot be encoded; network stores
    ///   also the network codes of ``get(_:)``.
    /// - Complexity: O(1) embedded; one round trip on a network store.
    func set(_ key: String, _ value: Value) async throws(KVSError)

    /// Stores `value` under `key`, expiring after `ttl` (`.zero` means no expiry).
    ///
    /// - Throws: `.invalidTTL` if `ttl` is negative (the old value is left as it was),
    ///   otherwise as ``set(_:_:)``.
    /// - Complexity: O(log n) embedded (the expiry index); one round trip on a network store.
    func set(_ key: String, _ value: Value, ttl: Duration) async throws(KVSError)

    /// Removes the value stored under `key`.
    ///
    /// - Throws: `.notFound` if the key is absent or expired, otherwise as ``get(_:)``.
    /// - Complexity: O(1) embedded; one round trip on a network store.
    func delete(_ key: String) async throws(KVSError)

    /// Whether a live (unexpired) value is stored under `key`.
    ///
    /// - Returns: `false` for a missing or expired key.
    /// - Throws: nothing on the embedded store (a closed one answers `false`); network stores throw
    ///   `.storeClosed` and the network codes of ``get(_:)``.
    /// - Complexity: O(1) embedded; one round trip on a network store.
    func exists(_ key: String) async throws(KVSError) -> Bool

    /// Every live key, in no particular order, each once.
    ///
    /// A network store walks the keyspace with `SCAN` (never `KEYS`), so on a store being
    /// written meanwhile it returns every key present throughout the walk, and may or may not
    /// return keys added or removed during it.
    ///
    /// - Throws: `.storeClosed`; network stores also the network codes of ``get(_:)``.
    /// - Complexity: O(n) in the number of keys; about n / 1000 round trips on a network store.
    func keys() async throws(KVSError) -> [String]

    /// Reads several keys at once.
    ///
    /// - Returns: the values found, and per missing or expired key a `.notFound` error in
    ///   ``BatchGetResult/errors``.
    /// - Throws: `.storeClosed`, and on a network store the network codes when the whole batch
    ///   failed (per-key failures go in the result).
    /// - Complexity: O(k) for k keys; one round trip on a single-node network store (`MGET`).
    func batchGet(_ keys: [String]) async throws(KVSError) -> BatchGetResult<Value>

    /// Writes several keys at once, with no expiry.
    ///
    /// - Returns: how many were written, and per key that failed its error.
    /// - Throws: as ``batchGet(_:)``.
    /// - Complexity: O(k); one pipelined round trip on a single-node network store.
    func batchSet(_ items: [String: Value]) async throws(KVSError) -> BatchSetResult

    /// Deletes several keys at once.
    ///
    /// - Returns: how many were deleted, and per missing or expired key a `.notFound` error.
    /// - Throws: as ``batchGet(_:)``.
    /// - Complexity: O(k); one pipelined round trip on a single-node network store.
    func batchDelete(_ keys: [String]) async throws(KVSError) -> BatchDeleteResult

    /// Atomically replaces the value of `key` with what `transform` returns: no other write to
    /// `key` lands between the read that `transform` sees and the write of its result.
    ///
    /// `transform` gets the current value (`nil` when absent or expired) and returns the new
    /// one (`nil` deletes the key). The key keeps its time-to-live, as with Redis's `INCR` or
    /// `SET ... KEEPTTL`; a key the update creates has none (to set or remove the TTL in the
    /// same step, use `update(_:ttl:_:)`). The embedded store runs
    /// `transform` exactly once, under the key's shard lock; a network store reads the key,
    /// runs `transform` and writes only if the key has not changed since (`WATCH`/`MULTI`/
    /// `EXEC`), running `transform` again on the new value otherwise. So write `transform`
    /// to be run any number of times, without side effects.
    ///
    /// - Parameters:
    ///   - key: the key to update.
    ///   - transform: computes the new value from the current one.
    /// - Returns: the new value (`nil` if the key is now absent).
    /// This requirement takes a `transform` that throws only ``KVSError`` (or nothing), so the
    /// call throws only ``KVSError``. Swift picks it for a closure that does not throw and for one
    /// declared `(value) throws(KVSError) in`; Swift 6.3 infers `throws(any Error)` for other
    /// closures that contain `try` or `throw`, which get the overload whose `transform` throws
    /// `any Error` (the other `update(_:_:)` requirement).
    ///
    /// - Throws: what `transform` throws, unchanged (the value is left as it was);
    ///   `.storeClosed`; network stores also `.transactionConflict` when the key kept changing
    ///   (after a bounded number of attempts; nothing written) and the network codes of ``get(_:)``.
    /// - Complexity: O(1) plus `transform` embedded; two round trips on a network store, more on
    ///   conflicts.
    @discardableResult
    func update(_ key: String, _ transform: (Value?) throws(KVSError) -> Value?) async throws(KVSError) -> Value?

    /// ``update(_:_:)`` for a `transform` that throws errors of its own: the same operation, with
    /// a `transform` and a result that throw `any Error`.
    ///
    /// A default implementation runs the typed requirement and carries `transform`'s error
    /// across it; conformers may implement it directly.
    ///
    /// - Parameters:
    ///   - key: the key to update.
    ///   - transform: computes the new value from the current one.
    /// - Returns: the new value (`nil` if the key is now absent).
    /// - Throws: what `transform` throws, unchanged (the value is left as it was); otherwise as
    ///   the typed `update(_:_:)`.
    /// - Complexity: as the typed `update(_:_:)`.
    @discardableResult
    func update(_ key: String, _ transform: (Value?) throws -> Value?) async throws -> Value?

    /// Atomically replaces the value of `key` with what `transform` returns and sets its
    /// time-to-live as `ttl` says, in the same step: `update(_:_:)` with a choice of TTL.
    ///
    /// ```swift
    /// // A sliding session: each touch writes the session and gives it 30 more minutes.
    /// try await store.update("session:42", ttl: .expire(after: .seconds(1800))) { touched($0) }
    /// ```
    ///
    /// `transform` runs as for `update(_:_:)`: exactly once under the key's shard lock
    /// on the embedded store, possibly several times on a network store (`WATCH`, `MGET`,
    /// `transform`, then `MULTI`, `SET key value` with `KEEPTTL`, `PX ms` or neither, or `DEL`,
    /// then `EXEC`). Typed as `update(_:_:)`: this requirement takes a `transform` that
    /// throws only ``KVSError`` (or nothing); a closure that contains `try` or `throw` otherwise
    /// gets the overload whose `transform` throws `any Error`.
    ///
    /// - Parameters:
    ///   - key: the key to update.
    ///   - ttl: `.keep` keeps the key's deadline (none for a new key), `.expire(after:)` sets
    ///     one counted from the write (`.zero`: none; a network store rounds it up to whole
    ///     milliseconds), `.persist` removes it. Not applied when `transform` returns `nil`
    ///     (the key is deleted).
    ///   - transform: computes the new value from the current one (`nil` when absent or
    ///     expired); `nil` deletes the key.
    /// - Returns: the new value (`nil` if the key is now absent).
    /// - Throws: `.invalidTTL` for a negative TTL, or on a network store one too large for
    ///   64-bit milliseconds (before the key is read; nothing changes); otherwise as
    ///   `update(_:_:)`.
    /// - Complexity: as `update(_:_:)`; O(log t) more embedded with a deadline, t the
    ///   shard's keys that carry a TTL.
    @discardableResult
    func update(
        _ key: String,
        ttl: TTLUpdate,
        _ transform: (Value?) throws(KVSError) -> Value?
    ) async throws(KVSError) -> Value?

    /// `update(_:ttl:_:)` for a `transform` that throws errors of its own: the same
    /// operation, with a `transform` and a result that throw `any Error`.
    ///
    /// A default implementation runs the typed requirement and carries `transform`'s error
    /// across it; conformers may implement it directly.
    ///
    /// - Parameters:
    ///   - key: the key to update.
    ///   - ttl: what happens to the key's time-to-live, as for the typed requirement.
    ///   - transform: computes the new value from the current one.
    /// - Returns: the new value (`nil` if the key is now absent).
    /// - Throws: what `transform` throws, unchanged (the value is left as it was); otherwise as
    ///   the typed `update(_:ttl:_:)`.
    /// - Complexity: as the typed `update(_:ttl:_:)`.
    @discardableResult
    func update(_ key: String, ttl: TTLUpdate, _ transform: (Value?) throws -> Value?) async throws -> Value?

    /// Stores `value` under `key` only if the key is absent or expired, atomically.
    ///
    /// - Parameters:
    ///   - key: the key to create.
    ///   - value: the value to store.
    ///   - ttl: the new key's time-to-live; `.zero` for none.
    /// - Returns: whether it stored the value (`false`: the key held a live value, left as it was).
    /// - Throws: `.invalidTTL` for a negative `ttl` (nothing stored), `.storeClosed`; network
    ///   stores also the network codes of ``get(_:)``.
    /// - Complexity: O(1) embedded; one round trip on a network store (`SET key value NX`).
    func setIfAbsent(_ key: String, _ value: Value, ttl: Duration) async throws(KVSError) -> Bool
}

extension AsyncStore {
    /// The `update(_:_:)` whose `transform` throws `any Error`, on top of the typed one: a
    /// `transform` error is kept aside and replaced by a marker ``KVSError`` while it crosses the
    /// typed call, then thrown in the marker's place.
    ///
    /// - Returns: the new value (`nil` if the key is now absent).
    /// - Throws: what `transform` throws, unchanged; otherwise what the typed `update(_:_:)` throws.
    /// - Complexity: as the typed `update(_:_:)`.
    /// - Thread safety: as the typed `update(_:_:)`.
    @discardableResult
    public func update(_ key: String, _ transform: (Value?) throws -> Value?) async throws -> Value? {
        try await Self.carryingErrors(of: transform, key: key) { (typed) async throws(KVSError) -> Value? in
            try await update(key, typed)
        }
    }

    /// The `update(_:ttl:_:)` whose `transform` throws `any Error`, on top of the typed one, as
    /// the `update(_:_:)` whose `transform` throws `any Error` is: a `transform` error crosses
    /// the typed call as a marker ``KVSError`` and is thrown in the marker's place.
    ///
    /// - Returns: the new value (`nil` if the key is now absent).
    /// - Throws: what `transform` throws, unchanged; otherwise what the typed `update(_:ttl:_:)`
    ///   throws.
    /// - Complexity: as the typed `update(_:ttl:_:)`.
    /// - Thread safety: as the typed `update(_:ttl:_:)`.
    @discardableResult
    public func update(_ key: String, ttl: TTLUpdate, _ transform: (Value?) throws -> Value?) async throws -> Value? {
        try await Self.carryingErrors(of: transform, key: key) { (typed) async throws(KVSError) -> Value? in
            try await update(key, ttl: ttl, typed)
        }
    }

    /// Runs `typedUpdate` with a typed version of `transform`: an error of `transform`'s that is
    /// not a ``KVSError`` crosses the typed call as a marker ``KVSError`` and is thrown in the
    /// marker's place.
    private static func carryingErrors(
        of transform: (Value?) throws -> Value?,
        key: String,
        _ typedUpdate: ((Value?) throws(KVSError) -> Value?) async throws(KVSError) -> Value?
    ) async throws -> Value? {
        var transformError: (any Error)? = nil
        let marker = KVSError(.invalidArgument, key: key, message: "the update's transform threw")
        do {
            // `transform` only runs inside `typedUpdate`, which does not keep it.
            return try await withoutActuallyEscaping(transform) { transform in
                try await typedUpdate { (value) throws(KVSError) -> Value? in
                    do {
                        return try transform(value)
                    } catch let error as KVSError {
                        transformError = nil
                        throw error
                    } catch {
                        transformError = error
                        throw marker
                    }
                }
            }
        } catch {
            if let error = error as? KVSError, error == marker, let transformError { throw transformError }
            throw error
        }
    }
}
