import Synchronization

/// The storage engine under ``KeyValueStore``: shards of hash tables, generic over the
/// key type so that the public `String`-keyed store and the server's binary keys
/// (``ByteKey``) share one implementation, specialised for each by the compiler.
///
/// Concurrency: each shard owns its lock and its data; an operation on one key holds
/// only that key's shard lock, so operations on different shards run in parallel.
/// Whole-store reads (``keys()``, snapshots) and whole-store writes (loading a snapshot)
/// take every shard lock in index order, which is deadlock-free against each other and
/// against single-shard operations, and so see or make a point-in-time state.
/// The key count is an atomic updated under the lock of the shard that changed.
///
/// Inlining: the single-key hot path (`get`, `set`, `delete`, `exists` and what they
/// call) is `@inlinable`, so that a client module such as `kvs-bench` or `kvs-server`
/// gets code specialised for its key and value types instead of generic code that goes
/// through witness tables, which nearly halves a read's throughput
/// (docs/design/single-key-path.md).
@usableFromInline
package final class StoreEngine<Key: StoreKey, Value: Sendable>: Sendable {
    /// The shards, in index order.
    @usableFromInline package let shards: [Shard<Key, Value>]
    /// The same shards, unretained: see ``withShard(at:_:)``.
    @usableFromInline let unretainedShards: [Unmanaged<Shard<Key, Value>>]
    /// A custom shard-index function, or `nil` for FNV-1a modulo the shard count.
    @usableFromInline package let customHash: (@Sendable (Key) -> Int)?
    /// `shardCount - 1` when the count is a power of two and there is no custom hash,
    /// else `nil`.
    @usableFromInline let shardMask: UInt32?
    /// How many entries the shards hold (expired ones not yet removed included).
    @usableFromInline package let counter = Atomic<Int>(0)
    /// The clock that expiry reads.
    @usableFromInline package let clock: StoreClock
    @usableFromInline let closed = Atomic<Bool>(false)
    @usableFromInline let sweeper: ExpirySweeper
    /// How long past its earliest deadline a shard waits for the background sweep (15 ms
    /// by default; one sweep interval when `init` is given none). See
    /// ``sweepExpired(grace:)``.
    @usableFromInline let sweepGrace: Int64
    /// When, on ``clock``, the sweeper thread plans to sweep next; `Int64.max` while it
    /// plans. A writer that makes a shard due before it wakes the thread (see
    /// ``noteDeadline(_:in:)``).
    @usableFromInline let plannedSweep = Atomic<Int64>(.max)
    /// Who hears of entries leaving the store; while there is no one, the write paths only
    /// check that there is no one.
    @usableFromInline package let removalListeners = RemovalListeners<Key, Value>()

    /// The largest shard count accepted.
    package static var maxShardCount: Int { 1 << 20 }

    /// Creates an empty engine.
    ///
    /// - Parameters:
    ///   - sweepInterval: the least time between two background sweeps.
    ///   - sweepGrace: how long past its earliest deadline a shard waits for the sweep;
    ///     `nil` for one `sweepInterval`. The defaults, 40 ms and 15 ms, visit a shard 15
    ///     to 55 ms after its earliest deadline, and the thread wakes 25 times a second: a
    ///     wake-up is dear (a context switch), so fewer of them cost less CPU than a
    ///     tighter schedule (docs/design/expiry.md).
    ///   - maxSweepSleep: the longest the sweeper thread sleeps (see ``ExpirySweeper``).
    /// - Throws: ``KVSError/Code/invalidShardCount`` unless `1 <= shardCount <= 1<<20`.
    package init(
        shardCount: Int,
        hash: (@Sendable (Key) -> Int)? = nil,
        clock: StoreClock = .system,
        sweepInterval: Duration = .milliseconds(40),
        sweepGrace: Duration? = .milliseconds(15),
        maxSweepSleep: Duration? = nil,
        bound: StoreBound<Key, Value>? = nil,
        accessClock: AccessClock? = nil
    ) throws(KVSError) {
        guard shardCount > 0, shardCount <= Self.maxShardCount else {
            throw KVSError(
                .invalidShardCount,
                message: "shard count \(shardCount) is out of range; give a count from 1 to \(Self.maxShardCount)"
            )
        }
        shards = (0..<shardCount).map { _ in Shard() }
        if let bound {
            for (index, shard) in shards.enumerated() {
                shard.data.eviction = ShardEviction(
                    policy: bound.makePolicy(bound.share(ofShard: index, shardCount: shardCount)),
                    weigher: bound.weigher
                )
            }
        }
        if let accessClock {
            precondition(bound == nil, "a bounded store keeps policy nodes where the access words would go")
            for shard in shards { shard.data.table.attachAccessClock(accessClock) }
        }
        unretainedShards = shards.map { Unmanaged.passUnretained($0) }
        customHash = hash
        shardMask = hash == nil && shardCount & (shardCount - 1) == 0 ? UInt32(shardCount - 1) : nil
        self.clock = clock
        sweeper = ExpirySweeper(interval: sweepInterval, maxSleep: maxSweepSleep)
        self.sweepGrace = (sweepGrace ?? sweepInterval).nanosecondsRoundedUp
    }

    deinit {
        sweeper.stop(waitingUpTo: nil)
    }

    /// The number of shards.
    @inlinable
    package var shardCount: Int { shards.count }

    // MARK: - Checks shared by every operation

    /// Whether ``close()`` has been called.
    @inlinable
    package var isClosed: Bool { closed.load(ordering: .relaxed) }

    @inlinable
    package func checkOpen() throws(KVSError) {
        if isClosed { throw KVSError.storeClosed() }
    }

    /// The shard index of `key`, or `nil` if a custom hash returned one out of range.
    @inlinable
    package func shardIndex(of key: Key) -> Int? {
        shardIndex(of: key, shardHash: customHash == nil ? key.shardHash : 0)
    }

    /// The shard index of `key` whose FNV-1a hash is `shardHash` (ignored with a custom
    /// hash), or `nil` if a custom hash returned one out of range.
    @inlinable @inline(__always)
    package func shardIndex(of key: Key, shardHash: UInt32) -> Int? {
        // A power-of-two count (256 in the anchors) takes a mask, the same result as `%`
        // without a division. The mask is set only without a custom hash, so the common
        // case tests one optional.
        if let shardMask { return Int(shardHash & shardMask) }
        if let customHash {
            let index = customHash(key)
            return index >= 0 && index < shards.count ? index : nil
        }
        return Int(shardHash % UInt32(truncatingIfNeeded: shards.count))
    }

    /// Calls `body` with the shard at `index`, borrowed: no retain and no release.
    ///
    /// Retaining and releasing the shard object on every single-key operation would make
    /// every thread write the reference counts of the same shard objects, so the line
    /// holding a shard's count would move between the cores on about every other
    /// operation. `shards` keeps every shard alive as long as the engine, and the engine
    /// is alive during any call of its methods, so the borrowed reference cannot dangle.
    @inlinable @inline(__always)
    package func withShard<R, E: Error>(at index: Int, _ body: (Shard<Key, Value>) throws(E) -> R) throws(E) -> R {
        // `_withUnsafeGuaranteedRef` rethrows untyped errors: carry `E` out in a Result.
        let result: Result<R, E> = unretainedShards[index]._withUnsafeGuaranteedRef { shard in
            do throws(E) { return .success(try body(shard)) } catch { return .failure(error) }
        }
        return try result.get()
    }

    /// ``withShard(at:_:)`` with the shard's lock held: `body` gets the shard and its data.
    @inlinable @inline(__always)
    package func withLockedShard<R, E: Error>(
        at index: Int,
        _ body: (Shard<Key, Value>, inout ShardState<Key, Value>) throws(E) -> R
    ) throws(E) -> R {
        try withShard(at: index) { (shard) throws(E) -> R in
            try shard.withLock { (state) throws(E) -> R in try body(shard, &state) }
        }
    }

    /// The index of the shard that holds `key`, and the key's table hash: every
    /// single-key operation hashes its key once, here, and then borrows the shard with
    /// ``withLockedShard(at:_:)``.
    ///
    /// With a custom hash the key's FNV-1a hash is not needed, and not computed: only the
    /// table hash is.
    ///
    /// - Throws: ``KVSError/Code/invalidShardIndex`` if a custom hash misbehaved.
    @inlinable
    package func locate(_ key: Key) throws(KVSError) -> (shardIndex: Int, tableHash: UInt64) {
        let hashes = customHash == nil ? key.hashes : KeyHashes(shard: 0, table: key.tableHash)
        guard let index = shardIndex(of: key, shardHash: hashes.shard) else { throw invalidShardIndexError(key) }
        return (index, hashes.table)
    }

    @usableFromInline
    package func invalidShardIndexError(_ key: Key) -> KVSError {
        KVSError.invalidShardIndex(key.displayName, index: customHash.map { $0(key) } ?? -1, shardCount: shards.count)
    }

    // MARK: - Single-key operations

    /// The value of `key`. An expired entry is removed on the spot (passive expiry).
    ///
    /// - Throws: `.storeClosed`, `.invalidShardIndex`, `.notFound`.
    /// - Complexity: O(1) on average.
    @inlinable
    package func get(_ key: Key) throws(KVSError) -> Value {
        try checkOpen()
        let (index, hash) = try locate(key)
        let value: Value? = withLockedShard(at: index) { _, state in
            let value = liveValue(key, hash: hash, in: &state)?.pointee  // a copy: it outlives the lock
            state.statistics.recordRead(hit: value != nil)
            return value
        }
        guard let value else {
            if removalListeners.isActive { deliverRemovals(ofShard: index) }  // it may have expired
            throw KVSError.notFound(key.displayName)
        }
        return value
    }

    /// Runs `body` on the value of `key` in place, under the shard's lock, without copying
    /// or retaining it. An expired entry is removed on the spot, as by ``get(_:)``.
    ///
    /// - Throws: `.storeClosed`, `.invalidShardIndex`, `.notFound`.
    /// - Complexity: O(1) on average, plus what `body` costs (with the lock held).
    @inlinable
    package func withValue<R>(_ key: Key, _ body: (borrowing Value) -> R) throws(KVSError) -> R {
        try checkOpen()
        let (index, hash) = try locate(key)
        let result: R? = withLockedShard(at: index) { _, state in
            guard let value = liveValue(key, hash: hash, in: &state) else {
                state.statistics.recordRead(hit: false)
                return nil
            }
            state.statistics.recordRead(hit: true)
            return Self.lend(&value.pointee, to: body)
        }
        guard let result else {
            if removalListeners.isActive { deliverRemovals(ofShard: index) }  // it may have expired
            throw KVSError.notFound(key.displayName)
        }
        return result
    }

    /// Lends the value at `value` to `body` without touching a reference count.
    ///
    /// A value loaded from the slot and passed as `borrowing` is copied (retained and
    /// released: the compiler cannot see that `body` does not write the slot); an
    /// exclusive (`inout`) access lends it as it is. Call under the shard's lock.
    @inlinable @inline(__always)
    static func lend<R>(_ value: inout Value, to body: (borrowing Value) -> R) -> R {
        body(value)
    }

    /// The address of the value of `key` in its shard's table, or `nil` if it is absent or
    /// has expired (an expired entry is removed on the spot: passive expiry, for ``get(_:)``
    /// and ``withValue(_:_:)``). Call under the shard's lock; the address is good until the
    /// lock is released or the table changes.
    ///
    /// A function of its own so that the table's storage is not held across the caller's
    /// use of the address: a local reference to it would live, retained, to the end of
    /// its scope (a call to `body` there is a deinit barrier), and every reader of the
    /// shard would write the storage's reference count, a cache line both cores want.
    @inlinable @inline(__always)
    func liveValue(_ key: Key, hash: UInt64, in state: inout ShardState<Key, Value>) -> UnsafeMutablePointer<Value>? {
        // `state.table.storage` each time, not a local: a local copy of the reference is
        // retained and released around the uses (the removal below could free it).
        guard let slot = state.table.storage.find(key, hash: hash) else {
            if state.eviction != nil { state.recordRead(slot: nil, hash: hash) }
            return nil
        }
        let deadline = state.table.storage.deadline(at: slot)
        if deadline != 0, deadline <= clock.now() {
            let removed = state.remove(key, hash: hash)
            state.statistics.recordExpirations(1)
            counter.subtract(1, ordering: .relaxed)
            if removalListeners.isActive, let removed {
                queueRemoval(key, removed, .expired, now: deadline, in: &state)
            }
            return nil
        }
        if state.eviction != nil { state.recordRead(slot: slot, hash: hash) }
        state.table.storage.touchAccess(at: slot)
        return state.table.storage.valuePointer(at: slot)
    }

    /// Stores `value` under `key` with an absolute deadline (`0` = never expires),
    /// replacing any previous value and deadline.
    ///
    /// - Throws: `.storeClosed`, `.invalidShardIndex`.
    /// - Complexity: O(1) on average; O(log t) more with a deadline.
    @inlinable
    package func set(_ key: Key, _ value: Value, expiresAt: Int64 = 0) throws(KVSError) {
        try checkOpen()
        let (index, hash) = try locate(key)
        // The replaced entry leaves the closure and is released after the unlock: its
        // value's release (for a last reference, the value's `free`, often a cache miss
        // on a cold block) then does not lengthen the critical section.
        let listening = removalListeners.isActive
        let (replaced, evicted) = withLockedShard(at: index) { shard, state in
            let replaced = state.store(key, Entry(value: value, expiresAt: expiresAt), hash: hash)
            let evicted = state.takeEvictions()
            if listening { queueSetRemovals(key, replaced: replaced, evicted: evicted, in: &state) }
            let added = (replaced == nil ? 1 : 0) - (evicted?.count ?? 0)
            if added != 0 {
                counter.add(added, ordering: .relaxed)
            }
            shard.bumpVersion()
            if expiresAt != 0 { noteDeadline(expiresAt, in: shard) }
            return (replaced, evicted)
        }
        _ = consume replaced
        _ = consume evicted
        if listening { deliverRemovals(ofShard: index) }
    }

    /// Removes `key`.
    ///
    /// - Throws: `.storeClosed`, `.invalidShardIndex`, `.notFound` (absent or expired).
    @inlinable
    package func delete(_ key: Key) throws(KVSError) {
        try checkOpen()
        let (index, hash) = try locate(key)
        // The removed entry is released after the unlock, as in `set`.
        let listening = removalListeners.isActive
        let (removed, old) = withLockedShard(at: index) { shard, state -> (Bool, Entry<Value>?) in
            guard let old = state.remove(key, hash: hash) else { return (false, nil) }
            counter.subtract(1, ordering: .relaxed)
            shard.bumpVersion()
            let now = old.hasExpiry ? clock.now() : 0
            if listening { queueRemoval(key, old, .removed, now: now, in: &state) }
            return (!old.isExpired(at: now), old)
        }
        _ = consume old
        if listening { deliverRemovals(ofShard: index) }
        if !removed { throw KVSError.notFound(key.displayName) }
    }

    /// Whether `key` holds a value that has not expired; `false` on a closed store or a
    /// key whose custom hash is out of range.
    @inlinable
    package func exists(_ key: Key) -> Bool {
        guard !isClosed, let (index, hash) = try? locate(key) else { return false }
        return withLockedShard(at: index) { _, state in
            guard let entry = state.table.entry(forKey: key, hash: hash) else { return false }
            return !entry.isExpired(at: entry.hasExpiry ? clock.now() : 0)
        }
    }

    /// Runs `body` on the entry of `key` (`nil` when absent or expired) under the shard's
    /// lock, and stores what it leaves there (`nil` removes the entry). Leaving an entry
    /// counts as a write (it bumps the shard's version) even if it is unchanged: use
    /// ``readEntry(_:_:)`` to only read. The general
    /// read-modify-write primitive: the key count and the expiry index follow the change.
    ///
    /// - Parameter body: gets the entry and the time the operation reads as "now".
    /// - Throws: `.storeClosed`, `.invalidShardIndex`, or what `body` throws (nothing is
    ///   changed then).
    @inlinable
    package func withEntryThrowing<R, E: Error>(
        _ key: Key,
        _ body: (inout Entry<Value>?, _ now: Int64) throws(E) -> R
    ) throws(KVSEngineError<E>) -> R {
        do { try checkOpen() } catch { throw .store(error) }
        // Both hashes once, here: the lookup, the store and the removal below take the
        // table hash (each computed it again from the key before).
        let index: Int
        let hash: UInt64
        do { (index, hash) = try locate(key) } catch { throw .store(error) }
        // The entry that was stored leaves the closure with the result, so that the last
        // release of a replaced or removed value (its `free`) comes after the unlock; see
        // ``set(_:_:expiresAt:)``.
        let listening = removalListeners.isActive
        defer { if listening { deliverRemovals(ofShard: index) } }
        let (result, _, _) = try withLockedShard(at: index) {
            (shard, state) throws(KVSEngineError<E>) -> (R, Entry<Value>?, EvictedEntries<Key, Value>?) in
            let now = clock.now()
            let stored = state.table.entry(forKey: key, hash: hash)
            var entry = stored
            if let e = entry, e.isExpired(at: now) { entry = nil }
            let result: R
            do throws(E) { result = try body(&entry, now) } catch { throw .body(error) }
            var added = 0
            switch (stored, entry) {
            case (nil, nil):
                return (result, stored, nil)
            case (nil, let new?):
                _ = state.store(key, new, hash: hash)
                added = 1  // counted with the evictions below, so the count never passes the bound
            case (let old?, nil):
                _ = state.remove(key, hash: hash)
                counter.subtract(1, ordering: .relaxed)
                if listening { queueRemoval(key, old, .removed, now: now, in: &state) }
                if old.isExpired(at: now) { return (result, stored, nil) }  // it was invisible already
            case (let old?, let new?):
                _ = state.store(key, new, hash: hash)
                if listening { queueRemoval(key, old, .replaced, now: now, in: &state) }
            }
            let evicted = state.takeEvictions()
            if listening, let evicted { queueEvictions(evicted, in: &state) }
            added -= evicted?.count ?? 0
            if added != 0 { counter.add(added, ordering: .relaxed) }
            shard.bumpVersion()
            if let new = entry, new.hasExpiry { noteDeadline(new.expiresAt, in: shard) }
            return (result, stored, evicted)
        }
        return result
    }

    /// Runs `body` on the entry of `key` (`nil` when absent or expired) under the shard's
    /// lock, without changing anything.
    ///
    /// - Throws: `.storeClosed`, `.invalidShardIndex`.
    @inlinable
    package func readEntry<R>(_ key: Key, _ body: (Entry<Value>?, _ now: Int64) -> R) throws(KVSError) -> R {
        try checkOpen()
        let (index, hash) = try locate(key)  // both hashes in one pass over the key
        return withLockedShard(at: index) { _, state in
            let now = clock.now()
            guard let entry = state.table.entry(forKey: key, hash: hash), !entry.isExpired(at: now) else {
                return body(nil, now)
            }
            return body(entry, now)
        }
    }

    /// Runs `body` on the value of `key` where it lies in its shard's table, under the
    /// shard's lock, and removes the entry afterwards if `body` says so. For values that
    /// hold a collection: a copy-on-write value handed out here is referenced once (by the
    /// table), so `body` changes it in place, where ``withEntryThrowing(_:_:)``, which
    /// copies the entry out and back, would copy the whole collection on every write.
    ///
    /// The entry's deadline does not change. Running `body` counts as a write (it bumps
    /// the shard's version); a `body` that throws must leave the value as it was.
    ///
    /// - Returns: what `body` returns, or `nil` without calling it when the key is absent
    ///   or has expired.
    /// - Throws: `.store` (`.storeClosed`, `.invalidShardIndex`) or `.body` with what
    ///   `body` throws.
    /// - Complexity: O(1) on average, plus `body`; O(shard) when a snapshot shares the
    ///   shard's table (the first write after it copies the table, as every write does).
    @inlinable
    package func withValueInPlace<R, E: Error>(
        _ key: Key,
        _ body: (inout Value, _ now: Int64) throws(E) -> (result: R, remove: Bool)
    ) throws(KVSEngineError<E>) -> R? {
        do { try checkOpen() } catch { throw .store(error) }
        let index: Int
        let hash: UInt64
        do { (index, hash) = try locate(key) } catch { throw .store(error) }
        // A removed entry leaves the closure, so that its release comes after the unlock.
        let (result, _) = try withLockedShard(at: index) {
            (shard, state) throws(KVSEngineError<E>) -> (R?, Entry<Value>?) in
            // First: a table shared with a snapshot must not change under it.
            state.table.makeUnique(reserving: 0)
            guard let value = liveValue(key, hash: hash, in: &state) else { return (nil, nil) }
            let outcome: (result: R, remove: Bool)
            do throws(E) { outcome = try body(&value.pointee, clock.now()) } catch { throw .body(error) }
            shard.bumpVersion()
            guard outcome.remove else { return (outcome.result, nil) }
            let removed = state.remove(key, hash: hash)
            counter.subtract(1, ordering: .relaxed)
            if removalListeners.isActive, let removed { queueRemoval(key, removed, .removed, now: 0, in: &state) }
            return (outcome.result, removed)
        }
        if removalListeners.isActive { deliverRemovals(ofShard: index) }
        return result
    }

    /// ``withEntryThrowing(_:_:)`` for a body that does not throw.
    ///
    /// - Throws: `.storeClosed`, `.invalidShardIndex`.
    @inlinable
    package func withEntry<R>(_ key: Key, _ body: (inout Entry<Value>?, _ now: Int64) -> R) throws(KVSError) -> R {
        do {
            return try withEntryThrowing(key) { (entry, now) throws(Never) in body(&entry, now) }
        } catch {
            switch error {
            case .store(let error): throw error
            }
        }
    }

    /// Replaces the entry of `key` with `replacement(current, now)` only if the current entry
    /// (`nil` when absent or expired) satisfies `condition`; a `nil` replacement deletes.
    /// `replacement` gets the current entry so that it can keep its deadline. A failed
    /// condition changes nothing (the shard's version is not bumped).
    ///
    /// - Returns: whether the condition held.
    /// - Throws: `.storeClosed`, `.invalidShardIndex`.
    @inlinable
    package func withEntryIf(
        _ key: Key,
        matches condition: (Entry<Value>?) -> Bool,
        _ replacement: (_ current: Entry<Value>?, _ now: Int64) -> Entry<Value>?
    ) throws(KVSError) -> Bool {
        do {
            return try withEntryThrowing(key) { (entry, now) throws(ConditionFailed) -> Bool in
                guard condition(entry) else { throw ConditionFailed() }
                entry = replacement(entry, now)
                return true
            }
        } catch {
            switch error {
            case .store(let error): throw error
            case .body: return false
            }
        }
    }

    /// Stores `make(now)` under `key` only if it is absent or expired.
    ///
    /// - Returns: whether it stored it.
    @inlinable
    package func withEntryIfAbsent(_ key: Key, _ make: (_ now: Int64) -> Entry<Value>) throws(KVSError) -> Bool {
        try withEntryIf(key, matches: { $0 == nil }) { _, now in make(now) }
    }

    /// Publishes `deadline` as the shard's next one if it is earlier, and makes sure the
    /// sweeper runs and wakes up in time for it. Call under the shard's lock.
    ///
    /// The store and the load of ``plannedSweep`` are sequentially consistent, as are the
    /// sweeper's store of `Int64.max` there and its loads of the shards' deadlines when
    /// it plans (``sweepAndPlan(sweep:notBefore:)``): so either the sweeper sees this
    /// deadline, or this sees the plan made without it and wakes the thread if the plan
    /// is too late. Only a write that lowers its shard's next deadline pays for this.
    @inlinable
    package func noteDeadline(_ deadline: Int64, in shard: Shard<Key, Value>) {
        if deadline < shard.nextDeadline.load(ordering: .relaxed) {
            shard.nextDeadline.store(deadline, ordering: .sequentiallyConsistent)
            let due = deadline < .max - sweepGrace ? deadline + sweepGrace : .max
            var planned = plannedSweep.load(ordering: .sequentiallyConsistent)
            while due < planned {
                let (exchanged, original) = plannedSweep.compareExchange(
                    expected: planned,
                    desired: due,
                    ordering: .sequentiallyConsistent
                )
                if exchanged {
                    sweeper.wakeEarly()  // one wake-up per plan, not one per write
                    break
                }
                planned = original
            }
        }
        startSweeperIfNeeded()
    }

    // MARK: - Whole-store operations

    /// How many entries the store holds, expired ones not yet removed included.
    ///
    /// - Complexity: O(1).
    package var count: Int { counter.load(ordering: .relaxed) }

    /// Every key that has not expired, as of one point in time.
    ///
    /// - Throws: `.storeClosed`.
    /// - Complexity: O(n). Holds every shard lock only to copy the tables (O(shards)).
    package func keys() throws(KVSError) -> [Key] {
        try checkOpen()
        var tables: [ShardTable<Key, Value>]
        let now: Int64
        (tables, now) = pointInTimeTables()
        defer { endReading(&tables) }
        var keys: [Key] = []
        keys.reserveCapacity(count)
        for table in tables {
            for (key, entry) in table where !entry.isExpired(at: now) {
                keys.append(key)
            }
        }
        return keys
    }

    /// How many entries carry a deadline (expired ones not yet removed included), as
    /// Redis's `INFO keyspace` reports `expires`.
    ///
    /// - Complexity: O(shards); locks one shard at a time.
    package var countWithExpiry: Int {
        shards.reduce(0) { total, shard in total + shard.withLock { $0.expiry.liveCount } }
    }

    /// The live keys of one shard, read under its lock: a building block for cursor
    /// scans (Redis `SCAN`), where a cursor names a shard and every key present for the
    /// whole scan is returned once, since each shard is read whole at one instant.
    ///
    /// - Complexity: O(keys in the shard).
    package func keys(inShard index: Int) -> [Key] {
        guard shards.indices.contains(index) else { return [] }
        let now = clock.now()
        return shards[index].withLock { state in
            state.table.compactMap { key, entry in entry.isExpired(at: now) ? nil : key }
        }
    }

    /// A random live key, or `nil` if the store has none.
    ///
    /// - Complexity: O(keys in one shard) on average; O(n) when most shards are empty.
    package func randomKey() -> Key? {
        let start = Int.random(in: 0..<shards.count)
        let now = clock.now()
        for step in 0..<shards.count {
            let shard = shards[(start + step) % shards.count]
            let found: Key? = shard.withLock { state in
                let live = state.table.lazy.filter { !$0.value.isExpired(at: now) }
                let liveCount = live.reduce(0) { count, _ in count + 1 }
                guard liveCount > 0 else { return nil }
                let pick = Int.random(in: 0..<liveCount)
                return live.dropFirst(pick).first { _ in true }?.key
            }
            if let found { return found }
        }
        return nil
    }

    /// Copies of every shard's table, all taken at one instant (under every shard lock),
    /// and that instant. The copies share storage with the live tables until a writer
    /// changes a shard (copy-on-write), so taking them is O(shards). Pass them to
    /// ``endReading(_:)`` once read.
    @usableFromInline
    package func pointInTimeTables() -> (tables: [ShardTable<Key, Value>], now: Int64) {
        var tables: [ShardTable<Key, Value>] = []
        tables.reserveCapacity(shards.count)
        let now = withAllShardsLocked { _, state in
            tables.append(state.table)
        } then: {
            clock.now()
        }
        return (tables, now)
    }

    /// Ends a read of ``pointInTimeTables()``'s copies: takes and releases each shard's
    /// lock once, then drops the copies (`tables` is left empty).
    ///
    /// A writer changes a table's storage in place only when the storage's reference count
    /// says it holds the only reference. ThreadSanitizer does not see the Swift runtime's
    /// reference counting (the runtime is not instrumented), so a writer that found the
    /// storage unique just after a reader dropped its copy looked like a race with the
    /// reader's last reads (reported once by `.ci/run`: `keys()` against `set` in
    /// `ConcurrencyTests`). The runtime orders them (a release decrement, an acquiring
    /// uniqueness check); the lock taken here after the reads and before the drop orders
    /// them in a way ThreadSanitizer sees too: a writer can find the storage unique only in
    /// a critical section that follows this one. O(shards), nothing done under the locks.
    @usableFromInline
    package func endReading(_ tables: inout [ShardTable<Key, Value>]) {
        for shard in shards { shard.withLock { _ in } }
        tables = []
    }

    /// Takes every shard lock in index order, calls `visit` for each shard while they are
    /// all held, then `finish`, then releases them.
    package func withAllShardsLocked<R: Sendable>(
        _ visit: (Int, inout ShardState<Key, Value>) -> Void,
        then finish: () -> R
    ) -> R {
        func lock(from index: Int) -> R {
            if index == shards.count { return finish() }
            return shards[index].withLock { state in
                visit(index, &state)
                return lock(from: index + 1)
            }
        }
        return lock(from: 0)
    }

    /// Replaces the whole contents with `tables` (one per shard, already placed by this
    /// engine's sharding), atomically with respect to every other operation, and returns
    /// the old tables (so a caller may free them elsewhere, as FLUSHALL ASYNC does).
    @usableFromInline
    @discardableResult
    package func replaceAll(with tables: [ShardTable<Key, Value>]) -> [ShardTable<Key, Value>] {
        precondition(tables.count == shards.count, "one table per shard")  // internal callers only
        var old: [ShardTable<Key, Value>] = []
        old.reserveCapacity(shards.count)
        var hasDeadlines = false
        var after = 0
        var evicted: [EvictedEntries<Key, Value>] = []
        let listening = removalListeners.isActive
        let now = clock.now()
        withAllShardsLocked { index, state in
            old.append(state.table)
            if listening {
                for (key, entry) in state.table {
                    state.removals.append(
                        PendingRemoval(
                            key: key,
                            value: entry.value,
                            cause: entry.isExpired(at: now) ? .expired : .cleared
                        )
                    )
                }
            }
            state.replaceAll(with: tables[index])
            if let dropped = state.takeEvictions() {
                if listening { queueEvictions(dropped, in: &state) }
                evicted.append(dropped)
            }
            after += state.table.count
            shards[index].publishDeadline(state)
            shards[index].bumpVersion()
            hasDeadlines = hasDeadlines || state.expiry.liveCount > 0
        } then: {
            let before = old.reduce(0) { $0 + $1.count }
            counter.add(after - before, ordering: .relaxed)
        }
        if hasDeadlines {
            startSweeperIfNeeded()
            sweeper.wakeEarly()  // to plan again with the new deadlines
        }
        if listening { for index in shards.indices { deliverRemovals(ofShard: index) } }
        // `old` is released outside every lock: here, or by the caller it is returned to;
        // `evicted`, here.
        return old
    }

    /// Closes the engine: every later operation throws `.storeClosed`. Stops the sweeper
    /// and waits up to 5 seconds for its thread to exit. Idempotent.
    package func close() {
        closed.store(true, ordering: .sequentiallyConsistent)
        sweeper.stop(waitingUpTo: .seconds(5))
    }

    // MARK: - Active expiry

    /// Starts the background sweeper unless it runs (one atomic load when it does).
    ///
    /// Inlinable on purpose: the tick closure is then compiled where the caller knows the
    /// key and value types, so the sweep runs specialized; unspecialized, every heap move
    /// would go through value witnesses, at about twice the CPU. The first caller that
    /// starts the thread decides, and those that write TTLs through the public API are
    /// inlined into the program.
    @inlinable
    func startSweeperIfNeeded() {
        guard !isClosed, !sweeper.hasStarted else { return }
        sweeper.startIfNeeded { [weak self] sweep, notBefore in
            guard let self, !self.isClosed else { return nil }
            return self.sweepAndPlan(sweep: sweep, notBefore: notBefore)
        }
    }

    /// One call of the sweeper thread: sweeps the due shards (if `sweep`) and returns how
    /// many nanoseconds the thread may sleep, at least `notBefore`: until the earliest
    /// shard deadline plus ``sweepGrace``, as far as the thread's longest sleep allows.
    /// Publishes the plan in ``plannedSweep`` for writers (see ``noteDeadline(_:in:)``).
    @inlinable
    func sweepAndPlan(sweep: Bool, notBefore: Int64) -> Int64 {
        plannedSweep.store(.max, ordering: .sequentiallyConsistent)  // a writer from now on wakes the thread
        let earliest = sweepShards(grace: sweepGrace, removing: sweep).earliestDeadline
        let now = clock.now()
        let due = earliest < .max - sweepGrace ? earliest + sweepGrace : .max
        let sleep = Swift.min(Swift.max(notBefore, due > now ? due &- now : 0), sweeper.maxSleep)
        plannedSweep.store(now &+ sleep, ordering: .sequentiallyConsistent)
        return sleep
    }

    /// Whether the background sweeper thread is running (for tests).
    package var isSweeperRunning: Bool { sweeper.isRunning }

    /// How many sweeps the background thread has made (for tests).
    package var backgroundSweepCount: Int { sweeper.sweepCount }

    /// How many times the background thread has swept or planned (for tests).
    package var backgroundTickCount: Int { sweeper.tickCount }

    /// When, on the store's clock, the background thread plans to sweep next; `Int64.max`
    /// before its first plan and while it makes one (for tests).
    package var plannedSweepTime: Int64 { plannedSweep.load(ordering: .relaxed) }

    /// Removes expired entries from every shard whose earliest deadline passed at least
    /// `grace` nanoseconds ago; every due entry of such a shard goes, not only the old ones.
    /// The background sweeper passes ``sweepGrace`` so that a shard is visited once per
    /// several ticks with several ticks' worth of keys; tests pass 0.
    ///
    /// - Returns: how many entries it removed.
    /// - Complexity: O(shards) atomic loads, plus O(k) for each visited shard with k due
    ///   items; a shard is locked for about 512 removals at a time.
    @inlinable @discardableResult
    package func sweepExpired(grace: Int64 = 0) -> Int {
        sweepShards(grace: grace, removing: true).removed
    }

    /// ``sweepExpired(grace:)`` (only if `removing`) that also returns the earliest of the
    /// shards' next deadlines after the sweep (`Int64.max` if none has one). The deadlines
    /// are loaded sequentially consistent, for ``sweepAndPlan(sweep:notBefore:)``; on x86
    /// that is a plain load.
    @inlinable
    func sweepShards(grace: Int64, removing: Bool) -> (removed: Int, earliestDeadline: Int64) {
        let now = clock.now()
        let visitBefore = now &- grace
        var total = 0
        var earliest = Int64.max
        var due: [ExpiryIndex<UInt64>.Item] = []
        for shard in shards {
            var deadline = shard.nextDeadline.load(ordering: .sequentiallyConsistent)
            if removing && deadline <= visitBefore {
                var more = true
                while more {
                    let listening = removalListeners.isActive
                    let (removed, next) = shard.withLock { state in
                        var entries: [(key: Key, entry: Entry<Value>)]? = listening ? [] : nil
                        let removed = state.removeExpired(now: now, limit: 512, buffer: &due, removedEntries: &entries)
                        if removed > 0 { counter.subtract(removed, ordering: .relaxed) }
                        for (key, entry) in entries ?? [] { queueRemoval(key, entry, .expired, now: now, in: &state) }
                        shard.publishDeadline(state)
                        return (removed, state.expiry.earliestDeadline)
                    }
                    if listening && removed > 0 { deliverRemovals(of: shard) }
                    total += removed
                    deadline = next
                    // `>=`: entries that share a deadline and a probe run go together, so a
                    // batch may remove a few more than its limit.
                    more = removed >= 512
                }
            }
            earliest = Swift.min(earliest, deadline)
        }
        return (total, earliest)
    }
}

/// Thrown by a ``StoreEngine/withEntryIf(_:matches:_:)`` body to leave the entry as it was.
@usableFromInline
package struct ConditionFailed: Error {
    @inlinable package init() {}
}

/// An error from ``StoreEngine/withEntryThrowing(_:_:)``: the store's own, or the body's.
@usableFromInline
package enum KVSEngineError<BodyError: Error>: Error {
    case store(KVSError)
    case body(BodyError)
}

extension KVSEngineError {
    /// The error as it was thrown, the store's or the body's.
    @inlinable
    package var unwrapped: any Error {
        switch self {
        case .store(let error): error
        case .body(let error): error
        }
    }
}

extension KVSEngineError where BodyError == KVSError {
    /// The error as the one ``KVSError`` it is, the store's or the body's.
    @inlinable
    package var flattened: KVSError {
        switch self {
        case .store(let error): error
        case .body(let error): error
        }
    }
}
