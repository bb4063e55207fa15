import KVS
import NIOCore
import RESP

// Atomic operations, as RedisStore+Atomic.swift has them, on the primary of the keys' slot:
// setIfAbsent is one routed `SET NX`; update, compareAndSwap and transactions run the shared
// WATCH/MULTI/EXEC code (Atomic/RedisAtomic.swift) on that node's pool, following MOVED.
extension RedisClusterStore {
    /// Stores `value` under `key` only if the key is absent or expired (`SET key value NX`, with
    /// `PX ms` for a TTL) on the primary of the key's slot: one command, atomic on the server.
    ///
    /// It follows `MOVED` and `ASK` like every single-key command, but it is not resent after a
    /// connection was lost with it perhaps applied (a second run would answer `false` to the
    /// first run's write); then it throws `.connectionFailed` or `.timeout`.
    ///
    /// - Parameters:
    ///   - key: the key to create.
    ///   - value: the value to store.
    ///   - ttl: the new key's time-to-live, rounded up to whole milliseconds; `.zero` for none.
    /// - Returns: whether it stored the value (`false`: the key held a live value, which is left
    ///   as it was, TTL included).
    /// - Throws: `.invalidTTL` for a negative `ttl` or one too large for 64-bit milliseconds,
    ///   `.invalidArgument` for a value that cannot be encoded (nothing is sent for either);
    ///   otherwise the network codes of ``get(_:)``.
    /// - Complexity: one round trip, plus one per redirect or retry.
    /// - Thread safety: safe from any number of tasks at once.
    public func setIfAbsent(_ key: String, _ value: Value, ttl: Duration = .zero) async throws(KVSError) -> Bool {
        let milliseconds: Int64? = ttl == .zero ? nil : try RedisStore<Value>.milliseconds(ttl, key: key)
        let bytes = try encode(value, key: key)
        var command: [RESPValue] = [.bulk("SET"), .bulk(key), .bulkString(bytes), .bulk("NX")]
        if let milliseconds { command += [.bulk("PX"), .bulk(String(milliseconds))] }
        let reply = try await router.send(ClusterCommand(.array(command), key: key, idempotent: false))
        switch reply.value {
        case .simpleString("OK"): return true
        case .nullBulkString, .null: return false
        default: throw unexpected(reply, command: "SET NX", key: key)
        }
    }

    /// Atomically replaces the value of `key` with what `transform` returns, on the primary of
    /// the key's slot.
    ///
    /// `transform` gets the current value (`nil` when absent or expired) and returns the new one
    /// (`nil` deletes the key; `nil` for an absent key writes nothing). The key keeps its
    /// time-to-live, as with Redis's `INCR` (a new key has none). On the node: `WATCH key`, `GET`,
    /// `transform`, then `MULTI`, `SET ... KEEPTTL` or `DEL`, `EXEC`, on a connection of the
    /// store's own (as ``RedisStore/update(_:_:)-13yvd``).
    ///
    /// **`transform` may run more than once**: when another client changes the key between the
    /// read and `EXEC`, the write is refused and the step repeated on the new value, up to 64
    /// attempts (see ``update(_:maxAttempts:_:)-6cbby``). A `MOVED` reply (the slot changed owner)
    /// runs the operation again on the new owner; while the slot is being migrated (`ASK`,
    /// `TRYAGAIN`) or the cluster is down, it is retried until the request timeout.
    ///
    /// - Parameters:
    ///   - key: the key to update.
    ///   - transform: computes the new value from the current one; it may run several times.
    /// - Returns: the new value (`nil` if the key is now absent).
    /// - Throws: what `transform` throws, unchanged (nothing written); `.transactionConflict`
    ///   after 64 conflicting attempts (nothing written); `.protocolError` when the stored bytes
    ///   do not decode as `Value`; `.invalidArgument` when the new value cannot be encoded;
    ///   `.clusterDown`, `.storeClosed`, `.connectionFailed`, `.timeout`, `.serverError`.
    /// - Complexity: two round trips (three when nothing is written), more on conflicts and
    ///   redirects.
    /// - Thread safety: safe from any number of tasks at once; concurrent updates of one key
    ///   never lose a write. At most ``RedisClusterConfiguration/connectionsPerNode`` atomic
    ///   operations run on one node at once; the others wait (at most the request timeout).
    @discardableResult
    public func update(
        _ key: String,
        _ transform: (Value?) throws(KVSError) -> Value?
    ) async throws(KVSError) -> Value? {
        try await update(key, maxAttempts: RedisStore<Value>.defaultMaxAttempts, transform)
    }

    /// ``update(_:_:)-1r4rz`` for a `transform` that throws errors of its own: the same operation, with
    /// a `transform` and a result that throw `any Error`. Swift picks it for a closure that
    /// contains `try` or `throw` unless the closure is declared `(value) throws(KVSError) in`.
    ///
    /// - Returns: the new value (`nil` if the key is now absent).
    /// - Throws: what `transform` throws, unchanged (nothing written); otherwise as ``update(_:_:)-1r4rz``.
    /// - Complexity: as ``update(_:_:)-1r4rz``.
    /// - Thread safety: as ``update(_:_:)-1r4rz``.
    @discardableResult
    public func update(_ key: String, _ transform: (Value?) throws -> Value?) async throws -> Value? {
        try await update(key, maxAttempts: RedisStore<Value>.defaultMaxAttempts, transform)
    }

    /// Atomically replaces the value of `key` with what `transform` returns and sets its
    /// time-to-live as `ttl` says, in the same `MULTI`/`EXEC` on the primary of the key's slot:
    /// ``update(_:_:)-1r4rz`` with a choice of TTL.
    ///
    /// On the node: `WATCH key`, `MGET key`, `transform`, then `MULTI`, `SET key value` with
    /// `KEEPTTL` (`.keep`), `PX ms` (`.expire(after:)`) or neither (`.persist`), or `DEL`, then
    /// `EXEC`; repeated, and redirected, as for ``update(_:_:)-1r4rz``, so `transform` may run
    /// more than once.
    ///
    /// - Parameters:
    ///   - key: the key to update.
    ///   - ttl: `.keep` keeps the key's deadline (none for a new key), `.expire(after:)` sets
    ///     one counted from the write, rounded up to whole milliseconds (`.zero`: none),
    ///     `.persist` removes it. Not applied when `transform` returns `nil` (the key is deleted).
    ///   - transform: computes the new value from the current one; it may run several times.
    /// - Returns: the new value (`nil` if the key is now absent).
    /// - Throws: `.invalidTTL` for a negative TTL or one too large for 64-bit milliseconds
    ///   (nothing sent); otherwise as ``update(_:_:)-1r4rz``.
    /// - Complexity: as ``update(_:_:)-1r4rz``.
    /// - Thread safety: as ``update(_:_:)-1r4rz``.
    @discardableResult
    public func update(
        _ key: String,
        ttl: TTLUpdate,
        _ transform: (Value?) throws(KVSError) -> Value?
    ) async throws(KVSError) -> Value? {
        let expiry = try RedisTransaction<Value>.Expiry(ttl, key: key)
        do {
            return try await updateSeparatingErrors(
                key,
                expiry: expiry,
                maxAttempts: RedisStore<Value>.defaultMaxAttempts,
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
    /// - Complexity: as ``update(_:_:)-1r4rz``.
    /// - Thread safety: as ``update(_:_:)-1r4rz``.
    @discardableResult
    public func update(_ key: String, ttl: TTLUpdate, _ transform: (Value?) throws -> Value?) async throws -> Value? {
        let expiry = try RedisTransaction<Value>.Expiry(ttl, key: key)
        do {
            return try await updateSeparatingErrors(
                key,
                expiry: expiry,
                maxAttempts: RedisStore<Value>.defaultMaxAttempts,
                transform
            )
        } catch {
            throw error.unwrapped
        }
    }

    /// ``update(_:_:)-1r4rz`` with a bound of your choosing on the attempts.
    ///
    /// - Parameters:
    ///   - key: the key to read, transform and write.
    ///   - maxAttempts: how many times to try before giving up (at least 1).
    ///   - transform: as for ``update(_:_:)-1r4rz``.
    /// - Returns: the new value (`nil` if the key is now absent).
    /// - Throws: `.transactionConflict` when every attempt conflicted (nothing written);
    ///   otherwise as ``update(_:_:)-1r4rz``.
    /// - Complexity: at most `maxAttempts` times two round trips, plus redirects.
    /// - Thread safety: as ``update(_:_:)-1r4rz``.
    @discardableResult
    public func update(
        _ key: String,
        maxAttempts: Int,
        _ transform: (Value?) throws(KVSError) -> Value?
    ) async throws(KVSError) -> Value? {
        do {
            return try await updateSeparatingErrors(key, maxAttempts: maxAttempts, transform)
        } catch {
            throw error.flattened
        }
    }

    /// ``update(_:maxAttempts:_:)-6cbby`` for a `transform` that throws errors of its own, with a
    /// result that throws `any Error`.
    ///
    /// - Parameters:
    ///   - key: the key to read, transform and write.
    ///   - maxAttempts: how many times to try before giving up (at least 1).
    ///   - transform: the new value from the current one; may throw errors of its own.
    /// - Returns: the new value (`nil` if the key is now absent).
    /// - Throws: what `transform` throws, unchanged (nothing written); otherwise as
    ///   ``update(_:maxAttempts:_:)-6cbby``.
    /// - Complexity: at most `maxAttempts` times two round trips, plus redirects.
    /// - Thread safety: as ``update(_:_:)-1r4rz``.
    @discardableResult
    public func update(_ key: String, maxAttempts: Int, _ transform: (Value?) throws -> Value?) async throws -> Value? {
        do {
            return try await updateSeparatingErrors(key, maxAttempts: maxAttempts, transform)
        } catch {
            throw error.unwrapped
        }
    }

    /// Every `update`: the store's errors as `.store`, `transform`'s as `.body`; the write does
    /// with the key's TTL what `expiry` says (by default keeps it).
    private func updateSeparatingErrors<E: Error>(
        _ key: String,
        expiry: RedisTransaction<Value>.Expiry = .keep,
        maxAttempts: Int,
        _ transform: (Value?) throws(E) -> Value?
    ) async throws(KVSEngineError<E>) -> Value? {
        let outcome: Result<Value?, KVSEngineError<E>>
        do {
            outcome = try await transactionResult(on: [key], maxAttempts: maxAttempts) {
                (transaction: inout RedisTransaction<Value>) throws(KVSEngineError<E>) -> Value? in
                try transaction.apply(transform, to: key, expiry: expiry)
            }
        } catch {
            throw .store(error)
        }
        return try outcome.get()
    }

    /// Runs `body` as one atomic transaction over `keys`, declared up front, on the primary of
    /// their hash slot, and returns its result: either all of its writes take effect or none do.
    ///
    /// ```swift
    /// try await store.transaction(on: ["{acct:7}:alice", "{acct:7}:bob"]) { tx in
    ///     let from = try tx.get("{acct:7}:alice"), to = try tx.get("{acct:7}:bob")
    ///     guard from >= 10 else { throw InsufficientFunds() }
    ///     try tx.set("{acct:7}:alice", from - 10)
    ///     try tx.set("{acct:7}:bob", to + 10)
    /// }
    /// ```
    ///
    /// **One slot.** A cluster runs `WATCH`/`MULTI`/`EXEC` on one node, over keys of one hash
    /// slot. The keys must therefore share a `{hash tag}` (only the part in braces is hashed,
    /// so `{user:42}:balance` and `{user:42}:history` share a slot); keys of several slots throw
    /// `.crossSlot` before anything is sent, rather than pretending to be atomic.
    ///
    /// Otherwise as ``RedisStore/transaction(on:maxAttempts:_:)-8mc46``: optimistic (`WATCH` the keys,
    /// `MGET` them, run `body`, then `MULTI`, the buffered writes, `EXEC`), repeated when another
    /// client changed a watched key, up to `maxAttempts`; only the declared keys may be read or
    /// written; **the body may run more than once**. A `MOVED` reply (always before `EXEC`, so
    /// nothing was written) runs the transaction again on the slot's new owner; while the slot
    /// is being migrated (`ASK`, `TRYAGAIN`) or the cluster is down, it is retried until the
    /// request timeout.
    ///
    /// - Parameters:
    ///   - keys: every key the body reads or writes (duplicates are ignored), all in one hash
    ///     slot. With no keys the body runs once and contacts no node.
    ///   - maxAttempts: how many times to try before giving up (at least 1; 64 by default).
    ///   - body: reads and buffers writes through `tx`; may run several times.
    /// - Returns: what the committed run of `body` returned.
    /// - Throws: what `body` throws, unchanged, with nothing written; `.crossSlot` for keys of
    ///   several slots (nothing sent); `.transactionConflict` after `maxAttempts` conflicting
    ///   attempts; `.clusterDown`, `.storeClosed`, `.connectionFailed`, `.timeout`,
    ///   `.protocolError`, `.serverError`, as ``RedisStore/transaction(on:maxAttempts:_:)-8mc46``.
    /// - Complexity: two round trips per attempt, plus one per redirect; O(total size of the
    ///   keys' values); O(total key length) to check the slots.
    /// - Thread safety: safe from any number of tasks at once. At most
    ///   ``RedisClusterConfiguration/connectionsPerNode`` atomic operations run on one node at
    ///   once; the others wait (at most the request timeout) for a connection.
    public func transaction<R>(
        on keys: [String],
        maxAttempts: Int = 64,
        _ body: (inout RedisTransaction<Value>) throws(KVSError) -> R
    ) async throws(KVSError) -> R {
        try await transactionResult(on: keys, maxAttempts: maxAttempts, body).get()
    }

    /// ``transaction(on:maxAttempts:_:)-9bphi`` for a body that throws errors of its own: the same
    /// transaction, with a body and a result that throw `any Error`. Swift picks it for a closure
    /// that contains `try` or `throw` unless the closure is declared `(tx) throws(KVSError) in`.
    ///
    /// - Parameters:
    ///   - keys: every key the body reads or writes (duplicates are ignored), all in one hash slot.
    ///   - maxAttempts: how many times to try before giving up (at least 1; 64 by default).
    ///   - body: reads and buffers writes through `tx`; may run several times.
    /// - Returns: what the committed run of `body` returned.
    /// - Throws: what `body` throws, unchanged, with nothing written; otherwise as
    ///   ``transaction(on:maxAttempts:_:)-9bphi``.
    /// - Complexity: as ``transaction(on:maxAttempts:_:)-9bphi``.
    /// - Thread safety: as ``transaction(on:maxAttempts:_:)-9bphi``.
    public func transaction<R>(
        on keys: [String],
        maxAttempts: Int = 64,
        _ body: (inout RedisTransaction<Value>) throws -> R
    ) async throws -> R {
        try await transactionResult(on: keys, maxAttempts: maxAttempts, body).get()
    }

    /// Both `transaction(on:maxAttempts:_:)`s: the store's errors thrown, the body's returned.
    private func transactionResult<R, E: Error>(
        on keys: [String],
        maxAttempts: Int,
        _ body: (inout RedisTransaction<Value>) throws(E) -> R
    ) async throws(KVSError) -> Result<R, E> {
        guard let first = keys.first else {
            // No keys: nothing to watch, so no node to ask; the shared code runs the body alone.
            return try await RedisAtomic.transaction(on: [], maxAttempts: maxAttempts, on: noKeyPool(), body)
        }
        let slot = try Self.commonSlot(of: keys)
        return try await router.onPrimary(slot: slot, key: first) { pool async throws(KVSError) -> Result<R, E> in
            try await RedisAtomic.transaction(on: keys, maxAttempts: maxAttempts, on: pool, body)
        }
    }

    /// The hash slot all of `keys` map to.
    ///
    /// - Throws: `.crossSlot` naming two keys of different slots, and how to fix it.
    static func commonSlot(of keys: [String]) throws(KVSError) -> Int {
        guard let first = keys.first else { return 0 }
        let slot = HashSlot.slot(for: first)
        for key in keys.dropFirst() {
            let other = HashSlot.slot(for: key)
            guard other == slot else {
                throw KVSError(
                    .crossSlot,
                    key: key,
                    message: "the keys of one atomic operation must map to one cluster hash slot, but "
                        + "\(first.debugDescription) is in slot \(slot) and \(key.debugDescription) in slot \(other); "
                        + "give them a common {hash tag}: only the part in braces is hashed, so "
                        + "{user:42}:balance and {user:42}:history share a slot. Nothing was sent"
                )
            }
        }
        return slot
    }

    /// A pool for a transaction with no keys, which the shared code runs without touching it.
    private func noKeyPool() throws(KVSError) -> ConnectionPool {
        guard let seed = configuration.seeds.first, let pool = router.pool(for: seed) else {
            throw router.configurationError ?? KVSError.storeClosed()
        }
        return pool
    }
}

extension RedisClusterStore where Value: Equatable {
    /// Stores `new` under `key` only if its current value equals `expected`, atomically, on the
    /// primary of the key's slot (`WATCH`, `MGET`, compare, `MULTI`, `SET ... KEEPTTL` or `DEL`,
    /// `EXEC`), keeping the key's time-to-live as ``update(_:_:)-1r4rz`` does: the new value
    /// expires when the old one would have; a key the swap creates has none. To set or remove
    /// the TTL in the same step, use ``compareAndSwap(_:expected:new:ttl:)``.
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
    ///   `new` cannot be encoded; `.clusterDown`, `.storeClosed`, `.connectionFailed`, `.timeout`,
    ///   `.serverError`.
    /// - Complexity: two round trips, more on conflicts and redirects; one `==`.
    /// - Thread safety: safe from any number of tasks at once.
    public func compareAndSwap(_ key: String, expected: Value?, new: Value?) async throws(KVSError) -> Bool {
        try await compareAndSwap(key, expected: expected, new: new, expiry: .keep)
    }

    /// Stores `new` under `key` only if its current value equals `expected`, and sets the key's
    /// time-to-live as `ttl` says, atomically, on the primary of the key's slot:
    /// ``compareAndSwap(_:expected:new:)`` with a choice of TTL (`SET key value` with `KEEPTTL`,
    /// `PX ms` or neither, inside the `MULTI`).
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
        try await compareAndSwap(
            key,
            expected: expected,
            new: new,
            expiry: try RedisTransaction<Value>.Expiry(ttl, key: key)
        )
    }

    /// Both `compareAndSwap`s, on the pool of the key's slot's primary.
    private func compareAndSwap(
        _ key: String,
        expected: Value?,
        new: Value?,
        expiry: RedisTransaction<Value>.Expiry
    ) async throws(KVSError) -> Bool {
        try await router.onPrimary(slot: HashSlot.slot(for: key), key: key) { pool async throws(KVSError) -> Bool in
            try await RedisAtomic.compareAndSwap(
                key,
                expected: expected,
                new: new,
                expiry: expiry,
                maxAttempts: RedisStore<Value>.defaultMaxAttempts,
                on: pool
            )
        }
    }
}
