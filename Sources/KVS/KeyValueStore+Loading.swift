// Get-or-load with single flight: the first caller that misses a key runs the loader, the
// others that miss it meanwhile wait for that one load (docs/design/loading.md).

extension KeyValueStore {
    /// Returns the value stored under `key`, or loads it with `load`, stores it and returns
    /// it when the key is absent or expired: a read-through cache.
    ///
    /// ```swift
    /// let user = try store.value(forKey: "user:42", ttl: .seconds(300)) {
    ///     try database.user(id: 42)  // runs once, however many threads miss the key at once
    /// }
    /// ```
    ///
    /// **Single flight.** Callers that miss the same key while a load of it runs wait for
    /// that load instead of starting their own, and all get its result: `load` runs once
    /// per miss, not once per caller. A hit takes the key's shard lock only, as ``get(_:)``;
    /// a miss takes the lock of a table of loads in flight too.
    ///
    /// **Errors are not cached.** When `load` throws, every caller waiting for that load
    /// gets the error, nothing is stored, and the next caller loads again.
    ///
    /// **Writes during a load.** The callers of a load get what `load` returned. The store
    /// keeps a value written under `key` by someone else while the load ran (it is newer);
    /// otherwise it stores the loaded value. A `delete` while the load runs does not stop
    /// the loaded value from being stored.
    ///
    /// **Re-entry.** A `load` that asks this store for `key` itself, directly or through the
    /// loaders of other keys on the same thread, would wait for itself: that inner call
    /// throws ``KVSError/Code/recursiveLoad`` instead. A cycle through other threads is not
    /// detected: don't make loaders on different threads wait for each other's keys.
    ///
    /// - Parameters:
    ///   - key: the key to read or load.
    ///   - ttl: the loaded value's time-to-live; `.zero` for none. A value found in the store
    ///     keeps its own.
    ///   - load: computes the value on a miss; runs on the calling thread, with no lock held,
    ///     and may call the store for other keys.
    /// - Returns: the stored value, or the loaded one.
    /// - Throws: what `load` throws, unchanged, to every caller waiting for that load;
    ///   ``KVSError/Code/recursiveLoad``; ``KVSError/Code/invalidTTL`` for a negative `ttl`
    ///   (before anything else); ``KVSError/Code/storeClosed``,
    ///   ``KVSError/Code/invalidShardIndex``.
    /// - Complexity: a hit is O(1), as ``get(_:)``; a miss adds a lookup in a table of loads
    ///   in flight and the load, or the wait for it.
    /// - Thread safety: safe from any number of threads at once; a caller that waits for
    ///   another's load blocks its thread until the load ends.
    @inlinable
    public func value(forKey key: String, ttl: Duration = .zero, orLoad load: () throws -> Value) throws -> Value {
        let ttlNanos = try ttl.ttlNanoseconds(for: key)
        if let value = try engine.valueIfPresent(key, counting: true) { return value }
        return try valueOnMiss(forKey: key, loading: { () throws -> (Value, Int64) in (try load(), ttlNanos) })
    }

    /// `value(forKey:ttl:orLoad:)` for a loader that chooses the loaded
    /// value's time-to-live, for instance from an HTTP response's `max-age`.
    ///
    /// ```swift
    /// let page = try store.value(forKey: url) {
    ///     let response = try fetch(url)
    ///     return (response.body, response.maxAge ?? .zero)
    /// }
    /// ```
    ///
    /// - Parameters:
    ///   - key: the key to read or load.
    ///   - load: computes the value and its time-to-live (`.zero` for none) on a miss.
    /// - Returns: the stored value, or the loaded one.
    /// - Throws: what `load` throws; ``KVSError/Code/invalidTTL`` when `load` returns a
    ///   negative TTL (to every caller of that load; nothing is stored); otherwise as
    ///   `value(forKey:ttl:orLoad:)`.
    /// - Complexity: as `value(forKey:ttl:orLoad:)`.
    /// - Thread safety: as `value(forKey:ttl:orLoad:)`.
    @inlinable
    public func value(
        forKey key: String,
        orLoadWithTTL load: () throws -> (value: Value, ttl: Duration)
    ) throws -> Value {
        if let value = try engine.valueIfPresent(key, counting: true) { return value }
        return try valueOnMiss(forKey: key) { () throws -> (Value, Int64) in
            let (value, ttl) = try load()
            return (value, try ttl.ttlNanoseconds(for: key))
        }
    }

    /// Returns the value stored under `key`, or loads it with `load`, stores it and returns
    /// it: the `async` form of the synchronous `value(forKey:ttl:orLoad:)`, with the
    /// same single flight, errors, re-entry check and handling of writes during the load.
    ///
    /// ```swift
    /// let user = try await store.value(forKey: "user:42", ttl: .seconds(300)) {
    ///     try await database.user(id: 42)
    /// }
    /// ```
    ///
    /// **Cancellation.** The load runs in a task of its own, which inherits the caller's
    /// priority and task-local values. A caller whose task is cancelled stops waiting at once
    /// and gets `CancellationError`; the load goes on for the other callers, and its value is
    /// stored even if every caller has gone.
    ///
    /// - Parameters:
    ///   - key: the key to read or load.
    ///   - ttl: the loaded value's time-to-live; `.zero` for none.
    ///   - load: computes the value on a miss, in an unstructured task.
    /// - Returns: the stored value, or the loaded one.
    /// - Throws: `CancellationError` when the caller's task is cancelled while it waits;
    ///   otherwise as `value(forKey:ttl:orLoad:)`.
    /// - Complexity: as `value(forKey:ttl:orLoad:)`.
    /// - Thread safety: safe from any number of tasks at once; waiting suspends the task and
    ///   blocks no thread.
    @inlinable
    public func value(
        forKey key: String,
        ttl: Duration = .zero,
        orLoad load: @escaping @Sendable () async throws -> Value
    ) async throws -> Value {
        let ttlNanos = try ttl.ttlNanoseconds(for: key)
        if let value = try engine.valueIfPresent(key, counting: true) { return value }
        return try await valueOnMiss(forKey: key) { @Sendable () async throws -> (Value, Int64) in
            (try await load(), ttlNanos)
        }
    }

    /// The `async` `value(forKey:orLoadWithTTL:)`: a
    /// loader that chooses the loaded value's time-to-live.
    ///
    /// - Parameters:
    ///   - key: the key to read or load.
    ///   - load: computes the value and its time-to-live (`.zero` for none) on a miss, in an
    ///     unstructured task.
    /// - Returns: the stored value, or the loaded one.
    /// - Throws: as the `async` `value(forKey:ttl:orLoad:)`; ``KVSError/Code/invalidTTL`` when
    ///   `load` returns a negative TTL.
    /// - Complexity: as `value(forKey:ttl:orLoad:)`.
    /// - Thread safety: as the `async` `value(forKey:ttl:orLoad:)`.
    @inlinable
    public func value(
        forKey key: String,
        orLoadWithTTL load: @escaping @Sendable () async throws -> (value: Value, ttl: Duration)
    ) async throws -> Value {
        if let value = try engine.valueIfPresent(key, counting: true) { return value }
        return try await valueOnMiss(forKey: key) { @Sendable () async throws -> (Value, Int64) in
            let (value, ttl) = try await load()
            return (value, try ttl.ttlNanoseconds(for: key))
        }
    }

    // MARK: - Single flight

    /// What a caller that missed `key` does: wait for the load in flight, or start one.
    private enum Role {
        case found(Value)
        case wait(LoadFlight<Value>)
        case lead(LoadFlight<Value>)
    }

    /// After a miss of `key`: joins the load in flight, or registers a new one that the
    /// caller must run (and end with `finish`), or finds the value stored meanwhile.
    private func role(for key: String) throws(KVSError) -> Role {
        if LoadingFrame.current?.contains(store: ObjectIdentifier(self), key: key) == true {
            throw KVSError.recursiveLoad(key)
        }
        guard let shardIndex = engine.shardIndex(of: key) else { throw engine.invalidShardIndexError(key) }
        return try loads.stripe(forShard: shardIndex).withLock { (flights) throws(KVSError) -> Role in
            if let flight = flights[key] { return .wait(flight) }
            // Again under the table's lock: a load that ended since the lookup above stored
            // its value before it left the table, so it is found here, not loaded twice.
            if let value = try engine.valueIfPresent(key, counting: false) { return .found(value) }
            let flight = LoadFlight<Value>()
            flights[key] = flight
            return .lead(flight)
        }
    }

    /// Ends the load of `key` run by this caller: stores the value and counts the load,
    /// takes the flight out of the table, then hands the result to its waiters.
    private func finish(
        _ key: String,
        flight: LoadFlight<Value>,
        outcome: Result<(Value, Int64), any Error>,
        nanoseconds: Int64
    ) -> Result<Value, any Error> {
        let result: Result<Value, any Error>
        switch outcome {
        case .success(let (value, ttlNanos)):
            do {
                _ = try engine.storeLoaded(key, value, ttlNanos: ttlNanos, nanoseconds: nanoseconds)
                result = .success(value)
            } catch {
                result = .failure(error)
            }
        case .failure(let error):
            engine.recordLoadFailure(key, nanoseconds: nanoseconds)
            result = .failure(error)
        }
        if let shardIndex = engine.shardIndex(of: key) {
            loads.stripe(forShard: shardIndex).withLock { flights in
                if flights[key] === flight { flights[key] = nil }
            }
        }
        flight.finish(result)
        return result
    }

    /// The frame of a load of `key` by this store, inside the current one.
    private func frame(loading key: String) -> LoadingFrame {
        LoadingFrame(store: ObjectIdentifier(self), key: key, parent: LoadingFrame.current)
    }

    /// Synchronous single flight after a miss, over a loader that returns the value and its
    /// TTL in nanoseconds. Out of line: the hit path is inlined, the miss path is not.
    @usableFromInline
    func valueOnMiss(forKey key: String, loading load: () throws -> (Value, Int64)) throws -> Value {
        switch try role(for: key) {
        case .found(let value):
            return value
        case .wait(let flight):
            return try flight.wait()
        case .lead(let flight):
            let clock = ContinuousClock()
            let start = clock.now
            let outcome = LoadingFrame.$current.withValue(frame(loading: key)) {
                Result { () throws -> (Value, Int64) in try load() }
            }
            let nanoseconds = (clock.now - start).nanosecondsRoundedUp
            return try finish(key, flight: flight, outcome: outcome, nanoseconds: nanoseconds).get()
        }
    }

    /// Asynchronous single flight after a miss: the leader starts the load in an unstructured
    /// task and then waits like every other caller, so that its cancellation does not end the
    /// load.
    @usableFromInline
    func valueOnMiss(
        forKey key: String,
        loading load: @escaping @Sendable () async throws -> (Value, Int64)
    ) async throws -> Value {
        switch try role(for: key) {
        case .found(let value):
            return value
        case .wait(let flight):
            return try await flight.value()
        case .lead(let flight):
            let frame = frame(loading: key)
            Task {
                let clock = ContinuousClock()
                let start = clock.now
                let outcome: Result<(Value, Int64), any Error>
                do {
                    outcome = .success(try await LoadingFrame.$current.withValue(frame) { try await load() })
                } catch {
                    outcome = .failure(error)
                }
                let nanoseconds = (clock.now - start).nanosecondsRoundedUp
                _ = self.finish(key, flight: flight, outcome: outcome, nanoseconds: nanoseconds)
            }
            return try await flight.value()
        }
    }
}
