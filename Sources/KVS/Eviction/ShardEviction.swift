/// The eviction state of one bounded shard: its policy, how it weighs entries, and the
/// entries evicted by the write under way, which the write hands out after it releases
/// the shard's lock (so that no value is freed, and no listener runs, under the lock).
///
/// A class, so that the shard's hot paths reach the policy through one reference and
/// change it in place: in a struct held in an optional, a call on the existential policy
/// copied the whole state, retaining and releasing its fields on every hit.
@usableFromInline
// @unchecked Sendable is safe: an instance belongs to one shard's `ShardState` and is
// touched only under that shard's lock, like the rest of the state.
package final class ShardEviction<Key: StoreKey, Value>: @unchecked Sendable {  // safe: see above
    /// The shard's policy, which holds the shard under its share of the store's bound.
    @usableFromInline package var policy: any EvictionPolicy
    /// The weight of an entry; `nil` when every entry weighs 1 (a count bound).
    @usableFromInline let weigher: (@Sendable (Key, Value) -> Int)?
    /// The entries evicted since the last ``ShardState/takeEvictions()``.
    @usableFromInline var evicted = EvictedEntries<Key, Value>()

    @inlinable
    package init(policy: any EvictionPolicy, weigher: (@Sendable (Key, Value) -> Int)?) {
        self.policy = policy
        self.weigher = weigher
    }

    /// The weight of `value` stored under `key`: what the weigher says, at least 0, or 1
    /// without a weigher.
    @inlinable
    func weight(of key: Key, _ value: Value) -> Int {
        guard let weigher else { return 1 }
        return Swift.max(0, weigher(key, value))
    }
}

/// Entries evicted by one write: the first held inline, since a write under a count bound
/// evicts at most one, so that the common case allocates nothing.
@usableFromInline
package struct EvictedEntries<Key: StoreKey, Value> {
    @usableFromInline package var first: (key: Key, entry: Entry<Value>)?
    @usableFromInline package var more: [(key: Key, entry: Entry<Value>)] = []

    @inlinable
    init() {}

    /// How many entries there are.
    @inlinable
    package var count: Int { first == nil ? 0 : 1 + more.count }

    @inlinable
    mutating func append(_ evicted: (key: Key, entry: Entry<Value>)) {
        if first == nil { first = evicted } else { more.append(evicted) }
    }
}

extension EvictedEntries: Sendable where Key: Sendable, Value: Sendable {}

extension ShardState {
    /// ``store(_:_:hash:)`` in a bounded shard: admits a new key to the policy, tells it
    /// of a replaced value, then evicts until the shard is within its bound again.
    @inlinable @inline(never)
    mutating func storeBounded(_ key: Key, _ entry: Entry<Value>, hash: UInt64) -> Entry<Value>? {
        guard let eviction else { preconditionFailure("storeBounded in an unbounded shard") }
        let weight = eviction.weight(of: key, entry.value)
        let (old, node) = table.updateValue(entry, forKey: key, hash: hash) {
            eviction.policy.insert(hash: hash, weight: weight)
        }
        if old != nil { eviction.policy.update(node, weight: weight) }
        if old?.hasExpiry == true || entry.hasExpiry {
            noteExpiryChange(hash: hash, from: old?.expiresAt ?? 0, to: entry.expiresAt)
        }
        evict(eviction)
        checkCheapInvariants()
        return old
    }

    /// Evicts entries, as the policy chooses them, until the shard holds no more than its
    /// bound; they wait in `eviction.evicted` for ``takeEvictions()``.
    @inlinable
    mutating func evict(_ eviction: ShardEviction<Key, Value>) {
        while eviction.policy.totalWeight > eviction.policy.maximumWeight {
            let before = eviction.policy.totalWeight
            guard let victim = eviction.policy.evict() else { break }
            guard let removed = table.removeEntry(node: victim.node, hash: victim.hash) else {
                preconditionFailure("KVS invariant: the policy evicted a node the table does not hold")
            }
            if removed.entry.hasExpiry { expiry.liveCount -= 1 }
            statistics.recordEviction(weight: before - eviction.policy.totalWeight)
            eviction.evicted.append(removed)
        }
    }

    /// ``remove(_:hash:)`` in a bounded shard: the policy forgets the entry.
    @inlinable @inline(never)
    mutating func removeBounded(_ key: Key, hash: UInt64) -> Entry<Value>? {
        guard let (old, node) = table.removeValueAndNode(forKey: key, hash: hash) else { return nil }
        eviction?.policy.remove(node)
        if old.hasExpiry { expiry.liveCount -= 1 }
        checkCheapInvariants()
        return old
    }

    /// Records a read that found the entry in `slot` (of the current table), or, for
    /// `slot == nil`, a read of the key whose hash is `hash` that found nothing.
    @inlinable @inline(never)
    mutating func recordRead(slot: Int?, hash: UInt64) {
        guard let eviction else { return }
        if let slot, let node = table.node(at: slot) {
            eviction.policy.recordHit(node, hash: hash)
        } else {
            eviction.policy.recordMiss(hash: hash)
        }
    }

    /// Records a read that found `key`, whose table hash is `hash` (for paths that did not
    /// keep the entry's slot).
    @inlinable @inline(never)
    mutating func recordHit(_ key: Key, hash: UInt64) {
        guard eviction != nil, let slot = table.storage.find(key, hash: hash) else { return }
        recordRead(slot: slot, hash: hash)
    }

    /// The entries the last writes evicted, handed out so that the caller drops them after
    /// it releases the lock; `nil` (at the cost of one check) when there are none.
    @inlinable @inline(__always)
    package mutating func takeEvictions() -> EvictedEntries<Key, Value>? {
        guard let eviction, eviction.evicted.first != nil else { return nil }
        let evicted = eviction.evicted
        eviction.evicted = EvictedEntries()
        return evicted
    }
}
