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
    ///
    /// The mutable fields skip the runtime's exclusivity checks (a `swift_beginAccess` per
    /// access, measurable on every bounded write): they are touched only under the shard's
    /// lock, and no access to one overlaps another access to the same field.
    @exclusivity(unchecked) @usableFromInline package var policy: any EvictionPolicy
    /// The weight of an entry; `nil` when every entry weighs 1 (a count bound).
    @usableFromInline let weigher: (@Sendable (Key, Value) -> Int)?
    /// The entries evicted since the last ``ShardState/takeEvictions()``.
    @exclusivity(unchecked) @usableFromInline var evicted = EvictedEntries<Key, Value>()
    /// The reads recorded since the policy last heard of reads, oldest first: room for
    /// ``readBufferCapacity`` of them.
    @usableFromInline let reads: UnsafeMutablePointer<PolicyRead>
    /// How many of `reads` are recorded.
    @exclusivity(unchecked) @usableFromInline var readCount = 0

    /// How many reads wait before the policy hears of them: enough that the policy's cache
    /// misses for a batch overlap (docs/design/eviction-policy.md, "Read buffer").
    @usableFromInline static var readBufferCapacity: Int { 32 }

    @inlinable
    package init(policy: any EvictionPolicy, weigher: (@Sendable (Key, Value) -> Int)?) {
        self.policy = policy
        self.weigher = weigher
        reads = .allocate(capacity: Self.readBufferCapacity)
    }

    deinit {
        reads.deallocate()
    }

    /// Records a read for the policy: `node` for a hit, `PolicyRead.miss` for a miss. The
    /// policy hears of it when the buffer fills or before the next change of the policy's
    /// entries (``drainReads()``), so it sees every call in the order the shard made them.
    @inlinable @inline(__always)
    func bufferRead(node: PolicyNode, hash: UInt64) {
        reads[readCount] = PolicyRead(node: node, hash: hash)
        readCount &+= 1
        if readCount == Self.readBufferCapacity { flushReads() }
    }

    /// Hands the buffered reads to the policy. Called before every insert, update, removal
    /// or eviction, since a buffered node must still be the entry it was read as.
    @inlinable @inline(__always)
    package func drainReads() {
        if readCount != 0 { flushReads() }
    }

    @usableFromInline @inline(never)
    func flushReads() {
        policy.recordReads(UnsafeBufferPointer(start: reads, count: readCount))
        readCount = 0
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
        eviction.drainReads()
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
        eviction.drainReads()
        while let victim = eviction.policy.evictIfOverBound() {
            guard let removed = table.removeEntry(node: victim.node, hash: victim.hash) else {
                preconditionFailure("KVS invariant: the policy evicted a node the table does not hold")
            }
            if removed.entry.hasExpiry { expiry.liveCount -= 1 }
            statistics.recordEviction(weight: victim.weight)
            eviction.evicted.append(removed)
        }
    }

    /// ``remove(_:hash:)`` in a bounded shard: the policy forgets the entry.
    @inlinable @inline(never)
    mutating func removeBounded(_ key: Key, hash: UInt64) -> Entry<Value>? {
        guard let (old, node) = table.removeValueAndNode(forKey: key, hash: hash) else { return nil }
        eviction?.drainReads()
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
            eviction.bufferRead(node: node, hash: hash)
        } else {
            eviction.bufferRead(node: PolicyRead.miss, hash: hash)
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
