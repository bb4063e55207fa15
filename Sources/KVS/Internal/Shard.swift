import CKVSPrefetch
import Synchronization

/// One shard: a hash table of entries and its expiry index, behind the shard's own lock.
///
/// The table is a copy-on-write ``ShardTable``, so taking a copy of it under the lock is
/// O(1): snapshots and `keys()` copy every shard's table in one short critical section and
/// then read the copies without holding any lock.
@usableFromInline
// @unchecked Sendable is safe: `data` is touched only between `mutex.lock()` and
// `mutex.unlock()`: inside `withLock`, or inside `withLockHeld` by a caller that took the
// lock with `lock()` (transaction commits); `nextDeadline` and `version` are atomics.
package final class Shard<Key: StoreKey, Value: Sendable>: @unchecked Sendable {  // safe: see the proof above
    @usableFromInline let mutex = PThreadMutex()
    // Unchecked: `data` is only touched under `mutex` (see the proof above), which already
    // rules out overlapping accesses; the dynamic check would be a runtime call on every
    // access (docs/design/single-key-path.md).
    @exclusivity(unchecked) @usableFromInline var data = ShardState<Key, Value>()
    /// The earliest deadline in the shard's expiry index (`Int64.max` if none), written
    /// under the lock and read without it by the sweeper, which skips a shard whose
    /// deadline is still in the future without taking its lock.
    @usableFromInline package let nextDeadline: Atomic<Int64>

    /// Bumped, under the lock, by every change of the shard's visible contents (not by
    /// the removal of an already expired entry). Transactions read it without the lock
    /// to check that what they read is still current.
    @usableFromInline package let version: Atomic<UInt64>

    /// Where the table's slots and tags start and how many slots there are, as of the
    /// last unlock: read without the lock by batch operations, only to prefetch a key's
    /// home slot and tag before they take the lock (``prefetchHomeSlot(ofTableHash:)``).
    /// A stale or torn set only prefetches useless lines: a prefetch never faults and
    /// changes nothing.
    @usableFromInline let slotsHint: Atomic<UInt>
    @usableFromInline let tagsHint: Atomic<UInt>
    @usableFromInline let capacityHint: Atomic<Int>

    /// Held by the one thread that delivers the shard's queued removals to the listeners
    /// (``StoreEngine/deliverRemovals(of:)``); never taken while the shard's lock is held.
    @usableFromInline let delivery = PThreadMutex()

    package init() {
        nextDeadline = Atomic(.max)
        version = Atomic(0)
        slotsHint = Atomic(0)
        tagsHint = Atomic(0)
        capacityHint = Atomic(0)
    }

    /// Publishes the table's slots for ``prefetchHomeSlot(ofTableHash:)``. Call under the
    /// lock, before releasing it. Two relaxed loads when nothing changed.
    @inlinable @inline(__always)
    func publishSlotsHint() {
        let base = UInt(bitPattern: data.table.storage.slots)
        if slotsHint.load(ordering: .relaxed) != base {
            slotsHint.store(base, ordering: .relaxed)
            tagsHint.store(UInt(bitPattern: data.table.storage.tags), ordering: .relaxed)
            capacityHint.store(data.table.storage.capacity, ordering: .relaxed)
        }
    }

    /// Starts loading the cache lines of the home slot and tag of a key whose table hash
    /// is `hash`, without the lock.
    ///
    /// A batch of random keys touches one cold slot per key, and every lock and every
    /// retain is a locked instruction that keeps the CPU from overlapping those misses
    /// when taken one key at a time; prefetching all of a batch's slots first lets them
    /// load in parallel (docs/design/single-key-path.md).
    @inlinable @inline(__always)
    package func prefetchHomeSlot(ofTableHash hash: UInt64) {
        let capacity = capacityHint.load(ordering: .relaxed)
        guard capacity > 0 else { return }
        let home = ShardTableStorage<Key, Value>.home(of: hash, capacity: capacity)
        let offset = UInt(truncatingIfNeeded: home &* MemoryLayout<ShardTableStorage<Key, Value>.Slot>.stride)
        ckvs_prefetch(UnsafeRawPointer(bitPattern: slotsHint.load(ordering: .relaxed) &+ offset))
        ckvs_prefetch(UnsafeRawPointer(bitPattern: tagsHint.load(ordering: .relaxed) &+ UInt(truncatingIfNeeded: home)))
    }

    /// Records a change of the shard's contents. Call under the lock. A plain load and
    /// store (no read-modify-write instruction): only the lock holder writes it.
    @inlinable
    package func bumpVersion() {
        version.store(version.load(ordering: .relaxed) &+ 1, ordering: .releasing)
    }

    /// Takes the shard's lock; pair with ``unlock()``. For holding several shards' locks
    /// at once (always in ascending shard index, so that no two holders can deadlock).
    @inlinable
    package func lock() { mutex.lock() }

    /// Takes the lock if it is free and returns whether it did; pair a `true` with
    /// ``unlock()``. For tests that check that something runs outside the lock.
    package func tryLock() -> Bool { mutex.tryLock() }

    /// Releases the lock taken with ``lock()``.
    @inlinable
    package func unlock() {
        publishSlotsHint()
        mutex.unlock()
    }

    /// Runs `body` on the shard's data. The caller must hold the lock (``lock()``).
    @inlinable
    package func withLockHeld<R>(_ body: (inout ShardState<Key, Value>) -> R) -> R {
        body(&data)
    }

    /// Runs `body` with the shard's lock held and exclusive access to its data.
    @inlinable
    package func withLock<R, E: Error>(_ body: (inout ShardState<Key, Value>) throws(E) -> R) throws(E) -> R {
        mutex.lock()
        defer {
            publishSlotsHint()
            mutex.unlock()
        }
        return try body(&data)
    }

    /// Publishes the index's earliest deadline for the sweeper. Call under the lock after
    /// the index changed.
    @inlinable
    package func publishDeadline(_ state: borrowing ShardState<Key, Value>) {
        nextDeadline.store(state.expiry.earliestDeadline, ordering: .relaxed)
    }
}

/// The data of one shard.
@usableFromInline
package struct ShardState<Key: StoreKey, Value> {
    /// The entries, expired ones included until passive or active expiry removes them.
    @usableFromInline package var table: ShardTable<Key, Value> = [:]
    /// The deadlines of `table`'s entries, each with its key's ``StoreKey/tableHash``
    /// rather than the key: 16-byte items with nothing to retain or release, and all that
    /// active expiry needs to find an entry (see ``removeExpired(now:limit:buffer:)``).
    @usableFromInline package var expiry = ExpiryIndex<UInt64>()
    /// The eviction policy and its state in a bounded store; `nil` in an unbounded one,
    /// where every path pays one check for it.
    @usableFromInline package var eviction: ShardEviction<Key, Value>?
    /// Removals waiting to be delivered to the listeners, oldest first (empty when there
    /// are no listeners).
    @usableFromInline package var removals: [PendingRemoval<Key, Value>] = []
    /// The shard's cache counters (``KeyValueStore/statistics`` sums them).
    @usableFromInline package var statistics = ShardStatistics()

    package init() {}

    /// Inserts or replaces the entry for `key` and keeps the expiry index in step.
    ///
    /// - Returns: the entry it replaced, if any (expired or not).
    /// - Complexity: O(1) on average; O(log t) more when the entry carries a deadline.
    @inlinable
    package mutating func store(_ key: Key, _ entry: Entry<Value>) -> Entry<Value>? {
        store(key, entry, hash: key.tableHash)
    }

    /// ``store(_:_:)`` for a key whose ``StoreKey/tableHash`` is `hash`.
    @inlinable
    package mutating func store(_ key: Key, _ entry: Entry<Value>, hash: UInt64) -> Entry<Value>? {
        if eviction != nil { return storeBounded(key, entry, hash: hash) }
        let old = table.updateValue(entry, forKey: key, hash: hash)
        if old?.hasExpiry == true || entry.hasExpiry {
            noteExpiryChange(hash: hash, from: old?.expiresAt ?? 0, to: entry.expiresAt)
        }
        checkCheapInvariants()
        return old
    }

    /// Removes the entry for `key`, if any, and keeps the expiry index in step.
    @inlinable
    package mutating func remove(_ key: Key) -> Entry<Value>? {
        remove(key, hash: key.tableHash)
    }

    /// ``remove(_:)`` for a key whose ``StoreKey/tableHash`` is `hash`.
    @inlinable
    package mutating func remove(_ key: Key, hash: UInt64) -> Entry<Value>? {
        if eviction != nil { return removeBounded(key, hash: hash) }
        guard let old = table.removeValue(forKey: key, hash: hash) else { return nil }
        if old.hasExpiry { expiry.liveCount -= 1 }
        checkCheapInvariants()
        return old
    }

    /// With `KVS_INTERNAL_CHECKS` (debug builds, so the tests): the O(1) invariants of a
    /// shard, checked after every mutation; `StoreEngine.checkInvariants()` checks the
    /// O(n) ones. Nothing a caller passes can break them: a failure is a bug here.
    @inlinable @inline(__always)
    package func checkCheapInvariants() {
        #if KVS_INTERNAL_CHECKS
        precondition(
            expiry.liveCount >= 0 && expiry.liveCount <= table.count,
            "KVS invariant: TTL entry count out of range"
        )
        precondition(expiry.itemCount >= expiry.liveCount, "KVS invariant: the expiry index lacks items")
        #endif
    }

    /// Keeps the expiry index in step with a deadline change of the key whose
    /// ``StoreKey/tableHash`` is `hash`.
    @inlinable
    package mutating func noteExpiryChange(hash: UInt64, from old: Int64, to new: Int64) {
        // Invariant: the index holds an item for every entry's current deadline; an
        // unchanged deadline already has one.
        if old == new { return }
        if old != 0 { expiry.liveCount -= 1 }
        if new != 0 {
            expiry.liveCount += 1
            expiry.insert(hash, deadline: new)
            expiry.compactIfNeeded { [table] in table.holdsEntry(expiringAt: $0.deadline, hash: $0.key) }
        }
    }

    /// Removes up to `limit` entries whose deadline is at or before `now` (a few more if
    /// several due entries share a deadline and a probe run).
    ///
    /// Each due item names a deadline and its key's table hash, and the table removes the
    /// entries with that deadline from the probe run of that hash
    /// (``ShardTable/removeEntries(expiring:)``). The item's own entry, if it still
    /// has that deadline, is in that run; any other entry found there with that deadline
    /// has expired as well, so removing it is right too (its own item then finds nothing).
    /// A stale item (the key was overwritten, deleted or persisted) removes nothing.
    /// Keyed by hash, the items hold nothing to retain or release and no key is hashed
    /// (docs/design/expiry.md).
    ///
    /// - Parameter due: a buffer for the due items, empty on entry and on return (the
    ///   sweep passes one buffer to every shard so that batches allocate nothing).
    /// - Returns: how many entries it removed.
    /// - Complexity: O(k) for k items popped (see ``ExpiryIndex/popDue(now:limit:)``).
    @inlinable
    package mutating func removeExpired(
        now: Int64,
        limit: Int,
        buffer due: inout [ExpiryIndex<UInt64>.Item],
        removedEntries: inout [(key: Key, entry: Entry<Value>)]?
    ) -> Int {
        // Each visit starts with a cache miss on the due items and one on the table: take
        // them together (the addresses are in the shard's own memory).
        expiry.prefetchHead()
        table.prefetchStorage()
        var removed = 0
        while removed < limit {
            let wanted = limit - removed
            let popped = expiry.popDue(now: now, limit: wanted, into: &due)
            if eviction == nil {
                var none: [PolicyNode] = []
                removed += table.removeEntries(expiring: due, removedNodes: &none, removedEntries: &removedEntries)
            } else {
                var nodes: [PolicyNode] = []
                removed += table.removeEntries(expiring: due, removedNodes: &nodes, removedEntries: &removedEntries)
                eviction?.drainReads()
                for node in nodes { eviction?.policy.remove(node) }
            }
            due.removeAll(keepingCapacity: true)
            if popped < wanted { break }  // nothing else is due
        }
        expiry.liveCount -= removed
        statistics.recordExpirations(removed)
        checkCheapInvariants()
        return removed
    }

    /// Replaces the whole contents, rebuilding the expiry index.
    package mutating func replaceAll(with table: ShardTable<Key, Value>) {
        let accessClock = self.table.storage.accessClock
        self.table = table
        if let accessClock { self.table.attachAccessClock(accessClock) }
        expiry.removeAll()
        for (key, entry) in table where entry.hasExpiry {
            expiry.liveCount += 1
            expiry.insert(key.tableHash, deadline: entry.expiresAt)
        }
        if let eviction {
            // The new entries are admitted in slot order, then evicted down to the bound.
            eviction.readCount = 0  // the nodes are about to go: their reads no longer matter
            eviction.policy.removeAll()
            self.table.assignNodes { key, hash, value in
                eviction.policy.insert(hash: hash, weight: eviction.weight(of: key, value))
            }
            evict(eviction)
        }
    }
}

extension ShardState: Sendable where Value: Sendable {}
