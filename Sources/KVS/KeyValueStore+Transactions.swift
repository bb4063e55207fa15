// swift-format-ignore-file: AmbiguousTrailingClosureOverload
// The two `transaction(_:)` overloads differ in the closure's error type; the typed-throws
// tests show that no call is ambiguous (docs/design/typed-throws.md).

extension KeyValueStore {
    /// Runs `body` as one serializable transaction over any keys, on any shards, and
    /// returns its result: either all of its writes take effect or none do, and it is
    /// isolated from every concurrent operation as if they had run one at a time.
    ///
    /// ```swift
    /// try store.transaction { (tx) throws(KVSError) in
    ///     let balance = try tx.get("alice")
    ///     try tx.set("alice", balance - 10)
    ///     try tx.set("bob", try tx.get("bob") + 10)
    /// }
    /// ```
    ///
    /// **Typed throws.** This overload takes a body that throws only ``KVSError`` and
    /// throws only ``KVSError``, so `catch where error.code == .storeClosed` compiles.
    /// Swift picks it for a body that does not throw and for one declared
    /// `(tx) throws(KVSError) in`; Swift 6.3 infers `throws(any Error)` for any other
    /// closure that contains `try` or `throw`, and so picks the overload whose body throws
    /// `any Error`, which also carries the body's own errors.
    ///
    /// **Isolation.** Serializable, with read-your-own-writes. Reads see the store at
    /// the transaction's point in time (TTLs included); no read ever mixes states from
    /// before and after another commit. `keys()`, `count` and snapshots see all of a
    /// committed transaction or none of it.
    ///
    /// **How.** Optimistic: reads record the versions of their shards, writes are
    /// buffered; the commit locks the touched shards in ascending order, checks that
    /// nothing read has changed, and applies the writes (a read-only transaction commits
    /// with no lock: checking the versions suffices). On a conflict the body runs
    /// again; after 8 conflicting attempts it runs holding the locks of the shards it
    /// touches, which cannot conflict, so every transaction completes (no livelock, and
    /// no deadlock since locks are always taken in one order). Shards the transaction
    /// does not touch are never locked by it.
    ///
    /// **The body may run more than once**, and a run may be abandoned part-way (a read
    /// then throws ``KVSError/Code/transactionConflict``: let it propagate). Keep the body
    /// free of side effects other than through `tx`: only the writes of the run that
    /// commits take effect, and the value it returns is the one returned. Don't let `tx`
    /// escape the body.
    ///
    /// - Returns: what the committed run of `body` returned.
    /// - Throws: what `body` throws, unchanged, with nothing written (a rollback);
    ///   ``KVSError/Code/storeClosed`` if the store is or gets shut down before the commit.
    /// - Complexity: k shard-lock round trips for k keys read, plus one acquisition of
    ///   each touched shard's lock at commit; more on conflicts.
    /// - Thread safety: safe to run from any number of threads at once.
    @inlinable
    public func transaction<R>(_ body: (inout Transaction<Value>) throws(KVSError) -> R) throws(KVSError) -> R {
        do {
            return try engine.runTypedTransaction { (state) throws(KVSError) in try Self.run(body, on: &state) }
        } catch {
            throw error.flattened
        }
    }

    /// ``transaction(_:)`` for a body that throws errors of its own: the same transaction,
    /// with a body and a result that throw `any Error`.
    ///
    /// ```swift
    /// try store.transaction { tx in
    ///     let from = try tx.get("alice"), to = try tx.get("bob")
    ///     guard from >= 10 else { throw InsufficientFunds() }
    ///     try tx.set("alice", from - 10)
    ///     try tx.set("bob", to + 10)
    /// }
    /// ```
    ///
    /// Swift picks this overload for every closure that contains `try` or `throw` unless it
    /// is declared `(tx) throws(KVSError) in`. Match the store's errors with
    /// `catch let error as KVSError where error.code == ...`, followed by a catch-all
    /// (see ``KVSError`` for the forms that compile).
    ///
    /// - Returns: what the committed run of `body` returned.
    /// - Throws: what `body` throws, unchanged, with nothing written (a rollback);
    ///   ``KVSError/Code/storeClosed`` if the store is or gets shut down before the commit.
    /// - Complexity: as ``transaction(_:)``.
    /// - Thread safety: safe to run from any number of threads at once.
    @inlinable
    public func transaction<R>(_ body: (inout Transaction<Value>) throws -> R) throws -> R {
        try engine.runTransaction { state in try Self.run(body, on: &state) }
    }

    /// ``KeyValueStore/transaction(_:)-7nfcr`` without the locking fallback: makes at most `maxAttempts`
    /// optimistic attempts, then gives up. For callers that would rather fail than wait
    /// behind a hot spot. Typed as ``KeyValueStore/transaction(_:)-7nfcr``.
    ///
    /// - Throws: ``KVSError/Code/transactionConflict`` when every attempt conflicted
    ///   (nothing written); otherwise as ``KeyValueStore/transaction(_:)-7nfcr``.
    /// - Complexity: at most `maxAttempts` runs of `body`.
    /// - Thread safety: safe to run from any number of threads at once.
    @inlinable
    public func transaction<R>(
        maxAttempts: Int,
        _ body: (inout Transaction<Value>) throws(KVSError) -> R
    ) throws(KVSError) -> R {
        do {
            return try engine.runTypedTransaction(maxAttempts: max(1, maxAttempts)) { (state) throws(KVSError) in
                try Self.run(body, on: &state)
            }
        } catch {
            throw error.flattened
        }
    }

    /// ``transaction(maxAttempts:_:)`` for a body that throws errors of its own, as the
    /// `transaction(_:)` whose body throws `any Error`.
    ///
    /// - Throws: ``KVSError/Code/transactionConflict`` when every attempt conflicted
    ///   (nothing written); otherwise as ``KeyValueStore/transaction(_:)-7nfcr``.
    /// - Complexity: at most `maxAttempts` runs of `body`.
    /// - Thread safety: safe to run from any number of threads at once.
    @inlinable
    public func transaction<R>(maxAttempts: Int, _ body: (inout Transaction<Value>) throws -> R) throws -> R {
        try engine.runTransaction(maxAttempts: max(1, maxAttempts)) { state in try Self.run(body, on: &state) }
    }

    /// Runs the public body on the engine's state without copying it (a copy would make
    /// every buffered write copy the transaction's tables).
    @inlinable
    static func run<R, E: Error>(
        _ body: (inout Transaction<Value>) throws(E) -> R,
        on state: inout TransactionState<String, Value>
    ) throws(E) -> R {
        var tx = Transaction(state: TransactionState(engine: state.engine, holding: nil, now: 0))
        swap(&tx.state, &state)
        defer { swap(&tx.state, &state) }
        return try body(&tx)
    }

    /// Atomically replaces the value of `key` with what `transform` returns, keeping the
    /// key's time-to-live, as Redis's `INCR` does.
    ///
    /// `transform` gets the current value (`nil` when absent or expired) and returns the
    /// new one (`nil` deletes the key). It runs exactly once, under the key's shard lock:
    /// keep it short and don't touch the store from it. The new value expires when the old
    /// one would have; a key that `update` creates has no TTL. To set or remove the TTL in
    /// the same step, use `update(_:ttl:_:)`.
    ///
    /// ```swift
    /// _ = try store.setIfAbsent("hits:203.0.113.7", "0", ttl: .seconds(60))  // opens a window
    /// try store.update("hits:203.0.113.7") { String((Int($0 ?? "0") ?? 0) + 1) }  // keeps it
    /// ```
    ///
    /// **Typed throws.** This overload takes a `transform` that throws only ``KVSError``
    /// (or nothing) and throws only ``KVSError``. Swift picks it for a closure that does
    /// not throw and for one declared `(value) throws(KVSError) in`; a closure that
    /// contains `try` or `throw` otherwise gets the overload whose `transform` throws
    /// `any Error`.
    ///
    /// - Returns: the new value (`nil` if the key is now absent).
    /// - Throws: what `transform` throws, unchanged (the value is left as it was);
    ///   ``KVSError/Code/storeClosed``, ``KVSError/Code/invalidShardIndex``.
    /// - Complexity: O(1) plus `transform`.
    /// - Thread safety: locks the key's shard while `transform` runs.
    @discardableResult
    @inlinable
    public func update(_ key: String, _ transform: (Value?) throws(KVSError) -> Value?) throws(KVSError) -> Value? {
        do {
            return try engine.withEntryThrowing(key) { (entry, _) throws(KVSError) -> Value? in
                try Self.apply(transform, to: &entry)
            }
        } catch {
            throw error.flattened
        }
    }

    /// ``update(_:_:)`` for a `transform` that throws errors of its own: the same
    /// operation, with a `transform` and a result that throw `any Error`. Keeps the key's
    /// time-to-live likewise.
    ///
    /// - Returns: the new value (`nil` if the key is now absent).
    /// - Throws: what `transform` throws, unchanged (the value is left as it was);
    ///   ``KVSError/Code/storeClosed``, ``KVSError/Code/invalidShardIndex``.
    /// - Complexity: O(1) plus `transform`.
    /// - Thread safety: locks the key's shard while `transform` runs.
    @discardableResult
    @inlinable
    public func update(_ key: String, _ transform: (Value?) throws -> Value?) throws -> Value? {
        do {
            return try engine.withEntryThrowing(key) { (entry, _) throws(any Error) -> Value? in
                try Self.apply(transform, to: &entry)
            }
        } catch {
            switch error {
            case .store(let error): throw error
            case .body(let error): throw error
            }
        }
    }

    /// `update`'s step under the shard lock: stores what `transform` returns for the entry's
    /// value (`nil` removes the entry) and returns it. The deadline is the entry's own when
    /// `ttlNanos` is `nil` (none for a new entry), else `ttlNanos` from `now` (`0`: none).
    @inlinable
    static func apply<E: Error>(
        _ transform: (Value?) throws(E) -> Value?,
        to entry: inout Entry<Value>?,
        ttlNanos: Int64? = nil,
        now: Int64 = 0
    ) throws(E) -> Value? {
        guard let new = try transform(entry?.value) else {
            entry = nil
            return nil
        }
        let expiresAt = ttlNanos.map { now.deadline(afterTTL: $0) } ?? entry?.expiresAt ?? 0
        entry = Entry(value: new, expiresAt: expiresAt)
        return new
    }

    /// Atomically replaces the value of `key` with what `transform` returns and sets its
    /// time-to-live as `ttl` says, in one step: `update(_:_:)` with a choice of TTL.
    ///
    /// ```swift
    /// // A sliding session: each touch gives the key 30 more minutes.
    /// try store.update("session:42", ttl: .expire(after: .seconds(1800))) { touched($0) }
    /// ```
    ///
    /// Typed as `update(_:_:)`: this overload takes a `transform` that throws only
    /// ``KVSError`` (or nothing); a closure that contains `try` or `throw` otherwise gets the
    /// overload whose `transform` throws `any Error`.
    ///
    /// - Parameters:
    ///   - key: the key to update.
    ///   - ttl: `.keep` keeps the key's deadline (none for a new key), `.expire(after:)` sets
    ///     one counted from now, `.persist` removes it. Not applied when `transform` returns
    ///     `nil` (the key is deleted).
    ///   - transform: the new value from the current one (`nil` when absent or expired);
    ///     `nil` deletes the key. Runs exactly once, under the key's shard lock.
    /// - Returns: the new value (`nil` if the key is now absent).
    /// - Throws: ``KVSError/Code/invalidTTL`` for a negative TTL (before `transform` runs;
    ///   nothing changes); what `transform` throws, unchanged (the value is left as it was);
    ///   ``KVSError/Code/storeClosed``, ``KVSError/Code/invalidShardIndex``.
    /// - Complexity: O(1) plus `transform`; O(log t) more with a deadline, t the shard's keys
    ///   that carry a TTL.
    /// - Thread safety: locks the key's shard while `transform` runs.
    @discardableResult
    @inlinable
    public func update(
        _ key: String,
        ttl: TTLUpdate,
        _ transform: (Value?) throws(KVSError) -> Value?
    ) throws(KVSError) -> Value? {
        let ttlNanos = try ttl.ttlNanoseconds(for: key)
        do {
            return try engine.withEntryThrowing(key) { (entry, now) throws(KVSError) -> Value? in
                try Self.apply(transform, to: &entry, ttlNanos: ttlNanos, now: now)
            }
        } catch {
            throw error.flattened
        }
    }

    /// `update(_:ttl:_:)` for a `transform` that throws errors of its own: the same
    /// operation, with a `transform` and a result that throw `any Error`.
    ///
    /// - Parameters:
    ///   - key: the key to update.
    ///   - ttl: what happens to the key's time-to-live, as for the typed overload.
    ///   - transform: the new value from the current one; `nil` deletes the key.
    /// - Returns: the new value (`nil` if the key is now absent).
    /// - Throws: ``KVSError/Code/invalidTTL`` for a negative TTL; what `transform` throws,
    ///   unchanged (the value is left as it was); ``KVSError/Code/storeClosed``,
    ///   ``KVSError/Code/invalidShardIndex``.
    /// - Complexity: O(1) plus `transform`; O(log t) more with a deadline.
    /// - Thread safety: locks the key's shard while `transform` runs.
    @discardableResult
    @inlinable
    public func update(_ key: String, ttl: TTLUpdate, _ transform: (Value?) throws -> Value?) throws -> Value? {
        let ttlNanos = try ttl.ttlNanoseconds(for: key)
        do {
            return try engine.withEntryThrowing(key) { (entry, now) throws(any Error) -> Value? in
                try Self.apply(transform, to: &entry, ttlNanos: ttlNanos, now: now)
            }
        } catch {
            throw error.unwrapped
        }
    }

    /// Stores `value` under `key` only if the key is absent or expired.
    ///
    /// - Parameters:
    ///   - key: the key to write.
    ///   - value: the value to store.
    ///   - ttl: the new key's time-to-live; `.zero` for none.
    /// - Returns: whether it stored the value.
    /// - Throws: ``KVSError/Code/invalidTTL`` for a negative `ttl`,
    ///   ``KVSError/Code/storeClosed``, ``KVSError/Code/invalidShardIndex``.
    /// - Complexity: O(1).
    @inlinable
    public func setIfAbsent(_ key: String, _ value: Value, ttl: Duration = .zero) throws(KVSError) -> Bool {
        let ttlNanos = try ttl.ttlNanoseconds(for: key)
        return try engine.withEntryIfAbsent(key) { now in
            Entry(value: value, expiresAt: now.deadline(afterTTL: ttlNanos))
        }
    }
}

extension KeyValueStore where Value: Equatable {
    /// Stores `new` under `key` only if its current value equals `expected`, keeping the key's
    /// time-to-live, as ``update(_:_:)-1eccx`` does.
    ///
    /// The new value expires when the old one would have; a key that the swap creates
    /// (`expected` is `nil`) has no TTL. To set or remove the TTL in the same step, use
    /// ``compareAndSwap(_:expected:new:ttl:)``.
    ///
    /// ```swift
    /// _ = try store.setIfAbsent("lock", "worker-1", ttl: .seconds(30))
    /// // Hand the lock over; it still expires when it would have.
    /// let handedOver = try store.compareAndSwap("lock", expected: "worker-1", new: "worker-2")
    /// ```
    ///
    /// - Parameters:
    ///   - key: the key to compare and write.
    ///   - expected: the value the key must hold; `nil` means it must be absent or expired.
    ///   - new: the value to store; `nil` deletes the key.
    /// - Returns: whether the swap happened (`false`: nothing changed, TTL included).
    /// - Throws: ``KVSError/Code/storeClosed``, ``KVSError/Code/invalidShardIndex``.
    /// - Complexity: O(1) plus one `==`.
    /// - Thread safety: locks the key's shard for the comparison and the write, so no other
    ///   write to `key` lands between them.
    @inlinable
    public func compareAndSwap(_ key: String, expected: Value?, new: Value?) throws(KVSError) -> Bool {
        try engine.withEntryIf(key, matches: { $0?.value == expected }) { current, _ in
            new.map { Entry(value: $0, expiresAt: current?.expiresAt ?? 0) }
        }
    }

    /// Stores `new` under `key` only if its current value equals `expected`, and sets the key's
    /// time-to-live as `ttl` says, in one step: ``compareAndSwap(_:expected:new:)`` with a
    /// choice of TTL.
    ///
    /// ```swift
    /// // Renew a lease only while we still hold it.
    /// let renewed = try store.compareAndSwap(
    ///     "lease", expected: "worker-1", new: "worker-1", ttl: .expire(after: .seconds(30)))
    /// ```
    ///
    /// - Parameters:
    ///   - key: the key to compare and write.
    ///   - expected: the value the key must hold; `nil` means it must be absent or expired.
    ///   - new: the value to store; `nil` deletes the key (then `ttl` does not apply).
    ///   - ttl: `.keep` keeps the key's deadline (none for a new key), `.expire(after:)` sets
    ///     one counted from now (`.zero`: none), `.persist` removes it.
    /// - Returns: whether the swap happened (`false`: nothing changed, TTL included).
    /// - Throws: ``KVSError/Code/invalidTTL`` for a negative TTL (before the key is read;
    ///   nothing changes), ``KVSError/Code/storeClosed``, ``KVSError/Code/invalidShardIndex``.
    /// - Complexity: O(1) plus one `==`; O(log t) more with a deadline, t the shard's keys
    ///   that carry a TTL.
    /// - Thread safety: locks the key's shard for the comparison and the write, so no other
    ///   write to `key` lands between them.
    @inlinable
    public func compareAndSwap(
        _ key: String,
        expected: Value?,
        new: Value?,
        ttl: TTLUpdate
    ) throws(KVSError) -> Bool {
        let ttlNanos = try ttl.ttlNanoseconds(for: key)
        return try engine.withEntryIf(key, matches: { $0?.value == expected }) { current, now in
            let expiresAt = ttlNanos.map { now.deadline(afterTTL: $0) } ?? current?.expiresAt ?? 0
            return new.map { Entry(value: $0, expiresAt: expiresAt) }
        }
    }
}
