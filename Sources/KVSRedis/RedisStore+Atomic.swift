import KVS

// Atomic operations, mirroring KeyValueStore+Transactions.swift: setIfAbsent with SET NX, and
// update, compareAndSwap and multi-key transactions with WATCH/MULTI/EXEC on a dedicated
// connection (Atomic/RedisAtomic.swift runs them; a cluster store calls the same code on the
// pool of the node that owns the keys' slot).
extension RedisStore {
    /// Stores `value` under `key` only if the key is absent or expired (`SET key value NX`, with
    /// `PX ms` for a TTL): one command, atomic on the server.
    ///
    /// - Parameters:
    ///   - key: the key to create.
    ///   - value: the value to store.
    ///   - ttl: the new key's time-to-live, rounded up to whole milliseconds; `.zero` for none.
    /// - Returns: whether it stored the value (`false`: the key held a live value, which is left
    ///   as it was, TTL included).
    /// - Throws: `.invalidTTL` for a negative `ttl` or one too large for 64-bit milliseconds,
    ///   `.invalidArgument` for a value that cannot be encoded (nothing is sent for either);
    ///   `.storeClosed`, `.connectionFailed`, `.timeout`, `.protocolError`, `.serverError`.
    /// - Complexity: one round trip, pipelined with the store's other requests.
    /// - Thread safety: safe from any number of tasks at once.
    public func setIfAbsent(_ key: String, _ value: Value, ttl: Duration = .zero) async throws(KVSError) -> Bool {
        let milliseconds: Int64? = ttl == .zero ? nil : try Self.milliseconds(ttl, key: key)
        let bytes = try encode(value, key: key)
        return try await RedisAtomic.setIfAbsent(key, bytes, milliseconds: milliseconds, on: pool)
    }

    /// Atomically replaces the value of `key` with what `transform` returns.
    ///
    /// `transform` gets the current value (`nil` when absent or expired) and returns the new one
    /// (`nil` deletes the key; `nil` for an absent key writes nothing). The key keeps its
    /// time-to-live, as with Redis's `INCR` (a new key has none). On the server: `WATCH key` and
    /// `MGET key`, `transform`, then `MULTI`, `SET ... KEEPTTL` or `DEL`, `EXEC`, on a connection of the store's own.
    ///
    /// **Unlike the embedded store's `update`, `transform` may run more than once**: when another
    /// client changes the key between the read and `EXEC`, the server refuses the write and the
    /// whole step is repeated on the new value, up to 64 attempts (see
    /// ``update(_:maxAttempts:_:)-68fsz``). Keep `transform` free of side effects; only the run whose
    /// result was written counts.
    ///
    /// - Parameters:
    ///   - key: the key to update.
    ///   - transform: computes the new value from the current one; it may run several times.
    /// - Returns: the new value (`nil` if the key is now absent).
    /// - Throws: what `transform` throws, unchanged (nothing written); `.transactionConflict`
    ///   after 64 conflicting attempts (nothing written); `.protocolError` when the stored bytes
    ///   do not decode as `Value`; `.invalidArgument` when the new value cannot be encoded;
    ///   `.storeClosed`, `.connectionFailed`, `.timeout`, `.serverError`.
    /// - Complexity: two round trips (`WATCH`+`MGET`, then `MULTI`…`EXEC`, or `UNWATCH` when
    ///   nothing is written), two more per conflict.
    /// - Thread safety: safe from any number of tasks at once; concurrent updates of one key
    ///   never lose a write. At most ``RedisConfiguration/connectionsPerNode`` atomic operations
    ///   of one store run at once; the others wait (at most the request timeout) for a connection.
    @discardableResult
    public func update(
        _ key: String,
        _ transform: (Value?) throws(KVSError) -> Value?
    ) async throws(KVSError) -> Value? {
        try await update(key, maxAttempts: Self.defaultMaxAttempts, transform)
    }

    /// ``update(_:_:)-13yvd`` for a `transform` that throws errors of its own: the same operation, with
    /// a `transform` and a result that throw `any Error`. Swift picks it for a closure that
    /// contains `try` or `throw` unless the closure is declared `(value) throws(KVSError) in`.
    ///
    /// - Returns: the new value (`nil` if the key is now absent).
    /// - Throws: what `transform` throws, unchanged (nothing written); otherwise as ``update(_:_:)-13yvd``.
    /// - Complexity: as ``update(_:_:)-13yvd``.
    /// - Thread safety: as ``update(_:_:)-13yvd``.
    @discardableResult
    public func update(_ key: String, _ transform: (Value?) throws -> Value?) async throws -> Value? {
        try await update(key, maxAttempts: Self.defaultMaxAttempts, transform)
    }

    /// Atomically replaces the value of `key` with what `transform` returns and sets its
    /// time-to-live as `ttl` says, in the same `MULTI`/`EXEC`: ``update(_:_:)-13yvd`` with a
    /// choice of TTL.
    ///
    /// ```swift
    /// // A sliding session: each touch writes the session and gives it 30 more minutes.
    /// try await store.update("session:42", ttl: .expire(after: .seconds(1800))) { touched($0) }
    /// ```
    ///
    /// On the server: `WATCH key` and `MGET key`, `transform`, then `MULTI`, `SET key value`
    /// with `KEEPTTL` (`.keep`), `PX ms` (`.expire(after:)`) or neither (`.persist`), or `DEL`,
    /// then `EXEC`; repeated, as for ``update(_:_:)-13yvd``, when another client changed the
    /// key in between, so `transform` may run more than once.
    ///
    /// - Parameters:
    ///   - key: the key to update.
    ///   - ttl: `.keep` keeps the key's deadline (none for a new key), `.expire(after:)` sets
    ///     one counted from the write, rounded up to whole milliseconds (`.zero`: none),
    ///     `.persist` removes it. Not applied when `transform` returns `nil` (the key is deleted).
    ///   - transform: computes the new value from the current one; it may run several times.
    /// - Returns: the new value (`nil` if the key is now absent).
    /// - Throws: `.invalidTTL` for a negative TTL or one too large for 64-bit milliseconds
    ///   (nothing sent); otherwise as ``update(_:_:)-13yvd``.
    /// - Complexity: as ``update(_:_:)-13yvd``.
    /// - Thread safety: as ``update(_:_:)-13yvd``.
    @discardableResult
    public func update(
        _ key: String,
        ttl: TTLUpdate,
        _ transform: (Value?) throws(KVSError) -> Value?
    ) async throws(KVSError) -> Value? {
        let expiry = try RedisTransaction<Value>.Expiry(ttl, key: key)
        do {
            return try await RedisAtomic.update(
                key,
                expiry: expiry,
                maxAttempts: Self.defaultMaxAttempts,
                on: pool,
                transform
            )
        } catch {
            throw error.flattened
        }
    }

    /// `update(_:ttl:_:)` for a `transform` that throws errors of its own: the same operation,
    /// with a `transform` and a result that throw `any Error`. Swift picks it for a closure
    /// that contains `try` or `throw` unless the closure is declared `(value) throws(KVSError) in`.
    ///
    /// - Parameters:
    ///   - key: the key to update.
    ///   - ttl: what happens to the key's time-to-live, as for the typed overload.
    ///   - transform: the new value from the current one; may throw errors of its own.
    /// - Returns: the new value (`nil` if the key is now absent).
    /// - Throws: what `transform` throws, unchanged (nothing written); otherwise as the typed
    ///   `update(_:ttl:_:)`.
    /// - Complexity: as ``update(_:_:)-13yvd``.
    /// - Thread safety: as ``update(_:_:)-13yvd``.
    @discardableResult
    public func update(_ key: String, ttl: TTLUpdate, _ transform: (Value?) throws -> Value?) async throws -> Value? {
        let expiry = try RedisTransaction<Value>.Expiry(ttl, key: key)
        do {
            return try await RedisAtomic.update(
                key,
                expiry: expiry,
                maxAttempts: Self.defaultMaxAttempts,
                on: pool,
                transform
            )
        } catch {
            throw error.unwrapped
        }
    }

    /// ``update(_:_:)-13yvd`` with a bound of your choosing on the attempts.
    ///
    /// - Parameters:
    ///   - key: the key to read, transform and write.
    ///   - maxAttempts: how many times to try before giving up (at least 1).
    ///   - transform: as for ``update(_:_:)-13yvd``.
    /// - Returns: the new value (`nil` if the key is now absent).
    /// - Throws: `.transactionConflict` when every attempt conflicted (nothing written);
    ///   otherwise as ``update(_:_:)-13yvd``.
    /// - Complexity: at most `maxAttempts` times two round trips.
    /// - Thread safety: as ``update(_:_:)-13yvd``.
    @discardableResult
    public func update(
        _ key: String,
        maxAttempts: Int,
        _ transform: (Value?) throws(KVSError) -> Value?
    ) async throws(KVSError) -> Value? {
        do {
            return try await RedisAtomic.update(key, maxAttempts: maxAttempts, on: pool, transform)
        } catch {
            throw error.flattened
        }
    }

    /// ``update(_:maxAttempts:_:)-68fsz`` for a `transform` that throws errors of its own, with a
    /// result that throws `any Error`.
    ///
    /// - Parameters:
    ///   - key: the key to read, transform and write.
    ///   - maxAttempts: how many times to try before giving up (at least 1).
    ///   - transform: the new value from the current one; may throw errors of its own.
    /// - Returns: the new value (`nil` if the key is now absent).
    /// - Throws: what `transform` throws, unchanged (nothing written); otherwise as
    ///   ``update(_:maxAttempts:_:)-68fsz``.
    /// - Complexity: at most `maxAttempts` times two round trips.
    /// - Thread safety: as ``update(_:_:)-13yvd``.
    @discardableResult
    public func update(_ key: String, maxAttempts: Int, _ transform: (Value?) throws -> Value?) async throws -> Value? {
        do {
            return try await RedisAtomic.update(key, maxAttempts: maxAttempts, on: pool, transform)
        } catch {
            throw error.unwrapped
        }
    }

    /// Runs `body` as one atomic transaction over `keys`, declared up front, and returns its
    /// result: either all of its writes take effect or none do.
    ///
    /// ```swift
    /// try await store.transaction(on: ["{acct}:alice", "{acct}:bob"]) { tx in
    ///     let from = try tx.get("{acct}:alice"), to = try tx.get("{acct}:bob")
    ///     guard from >= 10 else { throw InsufficientFunds() }
    ///     try tx.set("{acct}:alice", from - 10)
    ///     try tx.set("{acct}:bob", to + 10)
    /// }
    /// ```
    ///
    /// **How.** Optimistic, on a connection of the store's own: `WATCH` the keys and `MGET` them,
    /// run `body` on what was read, then send its buffered writes between `MULTI` and `EXEC`.
    /// If another client changed a watched key (wrote, deleted, or it expired) since the `WATCH`,
    /// the server refuses the `EXEC` and the attempt is repeated, after a short random pause,
    /// up to `maxAttempts` times. A body that writes nothing, or throws, ends with `UNWATCH`.
    ///
    /// **Why the keys are declared.** The server can only watch keys named before the body runs.
    /// Reading or writing any other key in `body` throws `.invalidArgument`.
    ///
    /// **Isolation.** Serializable for the declared keys: the reads are one `MGET`, and the
    /// writes apply only if none of the keys changed since; with read-your-own-writes inside
    /// the body. Unlike the embedded store, there is no locking fallback, so under heavy
    /// contention a transaction can fail with `.transactionConflict`.
    ///
    /// **TTLs.** ``RedisTransaction/set(_:_:)`` clears a key's TTL, like `SET`;
    /// ``RedisTransaction/set(_:_:ttl:)`` sets a new one counted from the commit.
    ///
    /// **Clusters.** On a server in cluster mode all the keys must map to one hash slot: give
    /// them a common `{hash tag}`. Otherwise the server refuses the `WATCH` and this throws
    /// `.crossSlot`; nothing is written.
    ///
    /// **The body may run more than once**, once per attempt. Keep it free of side effects other
    /// than through `tx`; only the writes of the run that commits take effect, and the value it
    /// returns is the one returned. Don't let `tx` escape the body.
    ///
    /// - Parameters:
    ///   - keys: every key the body reads or writes (duplicates are ignored). With no keys the
    ///     body runs once and contacts no server.
    ///   - maxAttempts: how many times to try before giving up (at least 1; 64 by default).
    ///   - body: reads and buffers writes through `tx`; may run several times.
    /// - Returns: what the committed run of `body` returned.
    /// - Throws: what `body` throws, unchanged, with nothing written (a rollback);
    ///   `.transactionConflict` after `maxAttempts` conflicting attempts (nothing written);
    ///   `.crossSlot` for keys of several cluster slots; `.storeClosed`, `.connectionFailed`,
    ///   `.timeout`, `.protocolError`. `.serverError` for an error reply; when it comes from a
    ///   write inside `EXEC` (say, out of memory), Redis has applied the transaction's other
    ///   writes, since it has no rollback, and the message says so. A `.connectionFailed` or
    ///   `.timeout` after `EXEC` was sent leaves unknown whether the writes were applied.
    /// - Complexity: two round trips per attempt (`WATCH`+`MGET`, then `MULTI`…`EXEC`, or
    ///   `UNWATCH`); O(total size of the keys' values).
    /// - Thread safety: safe from any number of tasks at once. At most
    ///   ``RedisConfiguration/connectionsPerNode`` atomic operations of one store run at once;
    ///   the others wait (at most the request timeout) for a connection.
    public func transaction<R>(
        on keys: [String],
        maxAttempts: Int = 64,
        _ body: (inout RedisTransaction<Value>) throws(KVSError) -> R
    ) async throws(KVSError) -> R {
        try await RedisAtomic.transaction(on: keys, maxAttempts: maxAttempts, on: pool, body).get()
    }

    /// ``transaction(on:maxAttempts:_:)-8mc46`` for a body that throws errors of its own: the same
    /// transaction, with a body and a result that throw `any Error`. Swift picks it for a closure
    /// that contains `try` or `throw` unless the closure is declared `(tx) throws(KVSError) in`.
    ///
    /// - Parameters:
    ///   - keys: every key the body reads or writes (duplicates are ignored).
    ///   - maxAttempts: how many times to try before giving up (at least 1; 64 by default).
    ///   - body: reads and buffers writes through `tx`; may run several times.
    /// - Returns: what the committed run of `body` returned.
    /// - Throws: what `body` throws, unchanged, with nothing written; otherwise as
    ///   ``transaction(on:maxAttempts:_:)-8mc46``.
    /// - Complexity: as ``transaction(on:maxAttempts:_:)-8mc46``.
    /// - Thread safety: as ``transaction(on:maxAttempts:_:)-8mc46``.
    public func transaction<R>(
        on keys: [String],
        maxAttempts: Int = 64,
        _ body: (inout RedisTransaction<Value>) throws -> R
    ) async throws -> R {
        try await RedisAtomic.transaction(on: keys, maxAttempts: maxAttempts, on: pool, body).get()
    }

    /// How many attempts ``update(_:_:)-13yvd``, `update(_:ttl:_:)` and
    /// ``compareAndSwap(_:expected:new:)`` (with or without a TTL) make before
    /// throwing `.transactionConflict`, and ``transaction(on:maxAttempts:_:)-8mc46``'s default.
    static var defaultMaxAttempts: Int { 64 }
}

extension RedisStore where Value: Equatable {
    /// Stores `new` under `key` only if its current value equals `expected`, atomically
    /// (`WATCH`, `MGET`, compare, `MULTI`, `SET ... KEEPTTL` or `DEL`, `EXEC`), keeping the
    /// key's time-to-live as ``update(_:_:)-13yvd`` does: the new value expires when the old one
    /// would have; a key the swap creates has none. To set or remove the TTL in the same step,
    /// use ``compareAndSwap(_:expected:new:ttl:)``.
    ///
    /// - Parameters:
    ///   - key: the key to swap.
    ///   - expected: the value the key must hold; `nil` means it must be absent or expired.
    ///   - new: the value to store; `nil` deletes the key.
    /// - Returns: whether the swap happened (`false`: nothing written). When another client
    ///   changes the key between the read and `EXEC`, the comparison is made again on the new
    ///   value (up to 64 times).
    /// - Throws: `.transactionConflict` after 64 conflicting attempts (nothing written);
    ///   `.protocolError` when the stored bytes do not decode as `Value`; `.invalidArgument` when
    ///   `new` cannot be encoded; `.storeClosed`, `.connectionFailed`, `.timeout`, `.serverError`.
    /// - Complexity: two round trips, more on conflicts; one `==`.
    /// - Thread safety: safe from any number of tasks at once.
    public func compareAndSwap(_ key: String, expected: Value?, new: Value?) async throws(KVSError) -> Bool {
        try await RedisAtomic.compareAndSwap(
            key,
            expected: expected,
            new: new,
            expiry: .keep,
            maxAttempts: Self.defaultMaxAttempts,
            on: pool
        )
    }

    /// Stores `new` under `key` only if its current value equals `expected`, and sets the key's
    /// time-to-live as `ttl` says, atomically: ``compareAndSwap(_:expected:new:)`` with a choice
    /// of TTL (`SET key value` with `KEEPTTL`, `PX ms` or neither, inside the `MULTI`).
    ///
    /// ```swift
    /// // Renew a lease only while we still hold it.
    /// let renewed = try await store.compareAndSwap(
    ///     "lease", expected: "worker-1", new: "worker-1", ttl: .expire(after: .seconds(30)))
    /// ```
    ///
    /// - Parameters:
    ///   - key: the key to swap.
    ///   - expected: the value the key must hold; `nil` means it must be absent or expired.
    ///   - new: the value to store; `nil` deletes the key (then `ttl` does not apply).
    ///   - ttl: `.keep` keeps the key's deadline (none for a new key), `.expire(after:)` sets
    ///     one counted from the write, rounded up to whole milliseconds (`.zero`: none),
    ///     `.persist` removes it.
    /// - Returns: whether the swap happened (`false`: nothing written, TTL included).
    /// - Throws: `.invalidTTL` for a negative TTL or one too large for 64-bit milliseconds
    ///   (nothing sent); otherwise as ``compareAndSwap(_:expected:new:)``.
    /// - Complexity: as ``compareAndSwap(_:expected:new:)``.
    /// - Thread safety: safe from any number of tasks at once.
    public func compareAndSwap(
        _ key: String,
        expected: Value?,
        new: Value?,
        ttl: TTLUpdate
    ) async throws(KVSError) -> Bool {
        try await RedisAtomic.compareAndSwap(
            key,
            expected: expected,
            new: new,
            expiry: try RedisTransaction<Value>.Expiry(ttl, key: key),
            maxAttempts: Self.defaultMaxAttempts,
            on: pool
        )
    }
}
