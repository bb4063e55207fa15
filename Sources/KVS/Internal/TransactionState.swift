import Synchronization

/// The machinery of one transaction over a ``StoreEngine``: what it read (with the
/// shard versions it saw) and what it will write. ``Transaction`` is its public face.
///
/// ## Design: optimistic execution, validated at commit under ordered locks
///
/// *Execution.* Each read locks only its key's shard, copies the entry and notes the
/// shard's version; writes are buffered and visible to later reads of the same
/// transaction (read-your-own-writes). After every read that touches a shard for the
/// first time, the versions of all shards read so far are checked again (lock-free
/// atomic loads), so the body never sees a state that mixes before and after another
/// transaction's commit: once it would, the attempt is *doomed* and the body is re-run.
///
/// *Commit.* The locks of every shard read or written are taken in ascending shard index
/// (the order every multi-shard operation uses, so there is no deadlock). Under them the
/// versions of the read shards are compared with those seen, and every entry read must
/// still be alive at the commit instant. If all match, nothing the transaction read has
/// changed, so applying its writes now, with all those locks held, is equivalent to
/// running the whole body at this instant: the transaction is serializable, with this
/// instant as its point in the serial order. The writes are applied, the written shards'
/// versions bumped, the key count moved by the net change in one atomic add, and the
/// locks released. Readers of the whole store (`keys()`, snapshots) take every shard
/// lock, so they see all of a commit or none of it.
///
/// *Conflicts.* If validation fails, the buffered writes are dropped and the body runs
/// again. After ``optimisticAttempts`` failed attempts the transaction switches to
/// *locking mode*: it takes, in ascending order, the locks of every shard the last
/// attempt touched and runs the body while holding them, so no one else can change
/// those shards and the attempt cannot conflict. If that run touches a shard outside the
/// set, it is abandoned, the set grows by that shard, and it runs again; the set only
/// grows, so this ends after at most `shardCount` runs.
///
/// *Cost.* Single-key operations pay one plain (non read-modify-write) version store per
/// write. A transaction of k keys over s shards costs k shard-lock round trips to read,
/// O(s²) atomic loads to validate while running, and s lock acquisitions to commit.
/// Shards it does not touch are never locked.
@usableFromInline
package struct TransactionState<Key: StoreKey, Value: Sendable> {
    /// A buffered write.
    @usableFromInline
    package enum Write {
        case set(Value, ttlNanos: Int64)  // ttlNanos 0 = no expiry; counted from the commit
        case setExpiringAt(Value, expiresAt: Int64)  // an absolute deadline; 0 = no expiry
        case delete
    }

    /// How many optimistic attempts run before locking mode.
    @inlinable static var optimisticAttempts: Int { 8 }

    @usableFromInline package let engine: StoreEngine<Key, Value>
    /// The time reads compare deadlines with.
    @usableFromInline package let now: Int64
    /// Shard index → the version seen at its first read.
    @usableFromInline var readVersions: [Int: UInt64] = [:]
    /// Entries read from the store (not from the write buffer), by key: `nil` = absent.
    @usableFromInline var reads: [Key: Entry<Value>?] = [:]
    /// Buffered writes, by key.
    @usableFromInline var writes: [Key: Write] = [:]
    /// Shard indices written.
    @usableFromInline var writtenShards: Set<Int> = []
    /// Set when the attempt saw an inconsistent state or needed a shard it had not
    /// locked: it must not commit, and the body runs again.
    @usableFromInline var doomed = false
    /// Whether ``apply(at:)`` queued removal events, which the caller delivers once it
    /// released the shards' locks.
    @usableFromInline package var queuedRemovals = false
    /// In locking mode: the shards whose locks this attempt holds.
    @usableFromInline let heldShards: Set<Int>?
    /// In locking mode: a shard the body needed outside `heldShards`.
    @usableFromInline var missingShard: Int?

    @inlinable
    init(engine: StoreEngine<Key, Value>, holding heldShards: Set<Int>?, now: Int64? = nil) {
        self.engine = engine
        self.now = now ?? engine.clock.now()
        self.heldShards = heldShards
    }

    /// Every shard this attempt touched.
    @inlinable
    package var touchedShards: Set<Int> { writtenShards.union(readVersions.keys) }

    @inlinable
    static var retrySignal: KVSError {
        KVSError(
            .transactionConflict,
            message: "the transaction read data that another writer changed; it will be run again"
        )
    }

    @inlinable
    mutating func shardIndex(_ key: Key) throws(KVSError) -> Int {
        guard let index = engine.shardIndex(of: key) else { throw engine.invalidShardIndexError(key) }
        return index
    }

    /// The live entry for `key` as this transaction sees it: its own write if any,
    /// otherwise the store's.
    @inlinable
    package mutating func entry(_ key: Key) throws(KVSError) -> Entry<Value>? {
        if doomed { throw Self.retrySignal }
        if let write = writes[key] {
            switch write {
            case .set(let value, let ttl): return Entry(value: value, expiresAt: now.deadline(afterTTL: ttl))
            case .setExpiringAt(let value, let expiresAt):
                return expiresAt != 0 && expiresAt <= now ? nil : Entry(value: value, expiresAt: expiresAt)
            case .delete: return nil
            }
        }
        if let seen = reads[key] { return seen }
        let index = try shardIndex(key)
        let shard = engine.shards[index]
        let found: Entry<Value>?
        if let held = heldShards {
            guard held.contains(index) else {
                missingShard = index
                doomed = true
                throw Self.retrySignal
            }
            found = shard.withLockHeld { $0.table[key] }
        } else {
            let (entry, version) = shard.withLock { state in
                (state.table[key], shard.version.load(ordering: .relaxed))
            }
            found = entry
            if let seen = readVersions[index] {
                if seen != version { doomed = true }
            } else {
                readVersions[index] = version
            }
            if !doomed, !stillValid() { doomed = true }
            if doomed { throw Self.retrySignal }
        }
        let live = found.flatMap { $0.isExpired(at: now) ? nil : $0 }
        reads[key] = .some(live)
        if heldShards != nil { readVersions[index] = 0 }
        return live
    }

    /// Whether every shard read so far still has the version first seen (lock-free).
    @inlinable
    func stillValid() -> Bool {
        readVersions.allSatisfy { index, version in engine.shards[index].version.load(ordering: .relaxed) == version }
    }

    @inlinable
    package mutating func set(_ key: Key, _ value: Value, ttlNanos: Int64) throws(KVSError) {
        try buffer(.set(value, ttlNanos: ttlNanos), for: key)
    }

    /// Buffers a write with an absolute deadline (`0` = none), for commands such as
    /// Redis's `EXPIREAT` or `KEEPTTL` whose deadline must not move with the commit time.
    @inlinable
    package mutating func set(_ key: Key, _ value: Value, expiresAt: Int64) throws(KVSError) {
        try buffer(.setExpiringAt(value, expiresAt: expiresAt), for: key)
    }

    /// Buffers a write of `key`; in locking mode, dooms the attempt if the key's shard is
    /// not held.
    @inlinable
    mutating func buffer(_ write: Write, for key: Key) throws(KVSError) {
        if doomed { throw Self.retrySignal }
        let index = try shardIndex(key)
        if let held = heldShards, !held.contains(index) {
            missingShard = index
            doomed = true
            throw Self.retrySignal
        }
        writes[key] = write
        writtenShards.insert(index)
    }

    @inlinable
    package mutating func delete(_ key: Key) throws(KVSError) {
        guard try entry(key) != nil else { throw KVSError.notFound(key.displayName) }
        try buffer(.delete, for: key)
    }

    /// Tries to commit. Returns `false` if validation failed (the caller runs the body
    /// again); throws `.storeClosed` if the store was closed (nothing applied).
    @inlinable
    mutating func commit() throws(KVSError) -> Bool {
        if doomed { return false }
        if writes.isEmpty {
            // Read-only: no lock needed. Versions only grow, and every read shard's version
            // is unchanged between its read and its check below, all of which come after
            // the last read: so at the instant of the last read every value read was
            // current at once, which is this transaction's point in the serial order.
            if heldShards != nil { return true }  // locking mode: nothing could change
            let now = engine.clock.now()
            return stillValid() && !reads.values.contains { $0?.isExpired(at: now) == true }
        }
        let order = touchedShards.sorted()
        if heldShards == nil { for index in order { engine.shards[index].lock() } }
        defer { if heldShards == nil { for index in order.reversed() { engine.shards[index].unlock() } } }
        if engine.isClosed { throw KVSError.storeClosed() }
        let commitNow = engine.clock.now()
        if heldShards == nil {
            for (index, version) in readVersions where engine.shards[index].version.load(ordering: .relaxed) != version
            {
                return false
            }
            // Entries read alive must still be alive now: the commit instant is the
            // transaction's place in the serial order.
            for case let (_, entry?) in reads where entry.isExpired(at: commitNow) {
                return false
            }
        }
        apply(at: commitNow)
        return true
    }

    /// Applies the buffered writes; every touched shard's lock is held.
    @inlinable
    mutating func apply(at commitNow: Int64) {
        var delta = 0
        let listening = engine.removalListeners.isActive
        queuedRemovals = listening
        for (key, write) in writes {
            guard let index = engine.shardIndex(of: key) else { continue }  // checked when buffered
            let shard = engine.shards[index]
            shard.withLockHeld { state in
                switch write {
                case .set(let value, let ttl):
                    let expiresAt = commitNow.deadline(afterTTL: ttl)
                    let replaced = state.store(key, Entry(value: value, expiresAt: expiresAt))
                    if replaced == nil { delta += 1 }
                    if listening, let replaced {
                        engine.queueRemoval(key, replaced, .replaced, now: commitNow, in: &state)
                    }
                    if expiresAt != 0 { engine.noteDeadline(expiresAt, in: shard) }
                case .setExpiringAt(let value, let expiresAt):
                    let replaced = state.store(key, Entry(value: value, expiresAt: expiresAt))
                    if replaced == nil { delta += 1 }
                    if listening, let replaced {
                        engine.queueRemoval(key, replaced, .replaced, now: commitNow, in: &state)
                    }
                    if expiresAt != 0 { engine.noteDeadline(expiresAt, in: shard) }
                case .delete:
                    if let removed = state.remove(key) {
                        delta -= 1
                        if listening { engine.queueRemoval(key, removed, .removed, now: commitNow, in: &state) }
                    }
                }
                if let evicted = state.takeEvictions() {
                    delta -= evicted.count
                    if listening { engine.queueEvictions(evicted, in: &state) }
                }
            }
        }
        for index in writtenShards { engine.shards[index].bumpVersion() }
        if delta != 0 { engine.counter.add(delta, ordering: .relaxed) }
    }

    /// Checks that what the attempt read is still current (see the read-only case of
    /// ``commit()`` for why lock-free checks suffice): an error the body threw then came
    /// from a consistent view and may be reported.
    @inlinable
    func readsAreCurrent() -> Bool {
        if doomed { return false }
        return heldShards != nil || stillValid()
    }
}
