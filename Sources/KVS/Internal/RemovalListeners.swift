import Synchronization

/// The removal listeners of one engine, and whether there are any: every write path loads
/// ``isActive`` (one relaxed load) and queues removal events only when it is set.
@usableFromInline
package final class RemovalListeners<Key: StoreKey, Value: Sendable>: Sendable {
    package typealias Listener = @Sendable (_ key: Key, _ value: Value, _ cause: RemovalCause) -> Void

    @usableFromInline let active = Atomic<Bool>(false)
    private let listeners = Mutex<(next: Int, all: [(id: Int, call: Listener)])>((0, []))

    package init() {}

    /// Whether any listener is registered.
    @inlinable
    package var isActive: Bool { active.load(ordering: .relaxed) }

    /// Registers `listener`; returns the identifier that ``remove(_:)`` takes.
    package func add(_ listener: @escaping Listener) -> Int {
        listeners.withLock { state in
            let id = state.next
            state.next += 1
            state.all.append((id, listener))
            active.store(true, ordering: .sequentiallyConsistent)
            return id
        }
    }

    /// Unregisters the listener `id`; returns whether it was registered.
    @discardableResult
    package func remove(_ id: Int) -> Bool {
        listeners.withLock { state in
            guard let index = state.all.firstIndex(where: { $0.id == id }) else { return false }
            state.all.remove(at: index)
            if state.all.isEmpty { active.store(false, ordering: .sequentiallyConsistent) }
            return true
        }
    }

    /// The listeners registered now.
    package var current: [Listener] {
        listeners.withLock { state in state.all.map(\.call) }
    }
}

/// A removal waiting in its shard's queue to be delivered after the lock is released.
@usableFromInline
package struct PendingRemoval<Key: StoreKey, Value> {
    @usableFromInline package var key: Key
    @usableFromInline package var value: Value
    @usableFromInline package var cause: RemovalCause

    @inlinable
    package init(key: Key, value: Value, cause: RemovalCause) {
        self.key = key
        self.value = value
        self.cause = cause
    }
}

extension PendingRemoval: Sendable where Key: Sendable, Value: Sendable {}

extension StoreEngine {
    /// Queues the removal of `entry`, which left `key`'s slot for `cause`, in the shard's
    /// queue. A replaced or deleted entry that had already expired at `now` is reported as
    /// expired. Call under the shard's lock, and only when listeners are active.
    @inlinable
    package func queueRemoval(
        _ key: Key,
        _ entry: Entry<Value>,
        _ cause: RemovalCause,
        now: Int64,
        in state: inout ShardState<Key, Value>
    ) {
        var cause = cause
        if (cause == .replaced || cause == .removed) && entry.isExpired(at: now) { cause = .expired }
        state.removals.append(PendingRemoval(key: key, value: entry.value, cause: cause))
    }

    /// Queues what a write of `key` replaced and evicted. Call under the shard's lock.
    @inlinable @inline(never)
    package func queueSetRemovals(
        _ key: Key,
        replaced: Entry<Value>?,
        evicted: EvictedEntries<Key, Value>?,
        in state: inout ShardState<Key, Value>
    ) {
        if let replaced {
            queueRemoval(key, replaced, .replaced, now: replaced.hasExpiry ? clock.now() : 0, in: &state)
        }
        if let evicted { queueEvictions(evicted, in: &state) }
    }

    /// Queues every entry of `evicted` as evicted. Call under the shard's lock.
    @inlinable
    package func queueEvictions(_ evicted: EvictedEntries<Key, Value>, in state: inout ShardState<Key, Value>) {
        if let first = evicted.first {
            state.removals.append(PendingRemoval(key: first.key, value: first.entry.value, cause: .evicted))
        }
        for more in evicted.more {
            state.removals.append(PendingRemoval(key: more.key, value: more.entry.value, cause: .evicted))
        }
    }

    /// Delivers the removals queued in shard `index` to the listeners, with no shard lock
    /// held. Call after a write that queued some, once its lock is released.
    ///
    /// One thread at a time delivers a shard's queue, in queue order, so that the events of a
    /// key reach the listeners in the order of its writes. A thread that finds another one
    /// delivering leaves its events to it: the deliverer takes batches until the queue is
    /// empty and, after it lets go, looks once more under the shard's lock, which orders
    /// that look after the queueing of any thread that found it busy; so no event waits for
    /// a later write.
    @usableFromInline
    package func deliverRemovals(ofShard index: Int) {
        withShard(at: index) { shard in deliverRemovals(of: shard) }
    }

    /// ``deliverRemovals(ofShard:)`` for a shard at hand.
    @usableFromInline
    package func deliverRemovals(of shard: Shard<Key, Value>) {
        do {
            repeat {
                guard shard.delivery.tryLock() else { return }  // the holder delivers ours too
                while true {
                    let batch: [PendingRemoval<Key, Value>] = shard.withLock { state in
                        defer { state.removals = [] }
                        return state.removals
                    }
                    if batch.isEmpty { break }
                    let listeners = removalListeners.current
                    for removal in batch {
                        for listener in listeners { listener(removal.key, removal.value, removal.cause) }
                    }
                }
                shard.delivery.unlock()
            } while shard.withLock({ !$0.removals.isEmpty })
        }
    }
}
