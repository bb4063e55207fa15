/// The identity of an entry inside an ``EvictionPolicy``: a small integer the policy hands
/// out when the entry is admitted and may reuse after the entry leaves.
///
/// The store keeps each entry's node beside the entry, so a hit costs the policy no hash
/// lookup, and the policy keeps each node's key hash, so an eviction can find the entry in
/// the shard's table without the key.
@usableFromInline package typealias PolicyNode = UInt32

/// An eviction policy over the entries of one bounded region (a shard, or a whole cache):
/// it learns from hits, misses and writes, and names the entries to evict while the region
/// holds more weight than its bound.
///
/// Every call is made with the region's lock held, so an implementation needs no
/// synchronization of its own; each call should be O(1) (amortized), since hits call it.
///
/// The store drives a policy like this:
/// - a read that finds an entry calls ``recordHit(_:)``; one that finds none,
///   ``recordMiss(hash:)``;
/// - a write of a new key calls ``insert(hash:weight:)`` and keeps the node; a write of an
///   existing key calls ``update(_:weight:)``; a delete, an expiry or any other removal the
///   policy did not ask for calls ``remove(_:)``;
/// - after every write, while ``totalWeight`` is above ``maximumWeight``, it calls
///   ``evict()`` and removes the entry named (which may be the one just inserted: an
///   admission policy may refuse a newcomer).
@usableFromInline package protocol EvictionPolicy: Sendable {
    /// Creates an empty policy for a region that holds at most `maximumWeight` (an entry
    /// count when every entry weighs 1).
    init(maximumWeight: Int)

    /// The bound the policy keeps the region under.
    var maximumWeight: Int { get }

    /// The weight of the entries the policy holds.
    var totalWeight: Int { get }

    /// How many entries the policy holds.
    var count: Int { get }

    /// Records a read that found the entry `node`.
    mutating func recordHit(_ node: PolicyNode)

    /// Records a read that found the entry `node`, whose hash (the one it was inserted with)
    /// is `hash`: a policy that counts hashes can start on it before `node`'s record is
    /// loaded, so the two cache misses overlap. The default calls ``recordHit(_:)``.
    mutating func recordHit(_ node: PolicyNode, hash: UInt64)

    /// Records a read that found no entry for a key whose hash is `hash` (frequency-based
    /// policies count it).
    mutating func recordMiss(hash: UInt64)

    /// Records `reads` in order, as one ``recordHit(_:hash:)`` or ``recordMiss(hash:)``
    /// each: how a shard hands over the reads it buffered. A policy may start the cache
    /// misses of the whole batch before it applies the first. The default calls them one by
    /// one.
    mutating func recordReads(_ reads: UnsafeBufferPointer<PolicyRead>)

    /// Admits a new entry whose key hash is `hash` and returns its node.
    mutating func insert(hash: UInt64, weight: Int) -> PolicyNode

    /// Records a write that replaced the value of the entry `node` (a hit for the policy),
    /// with its new weight.
    mutating func update(_ node: PolicyNode, weight: Int)

    /// Forgets the entry `node`, which the store removed for its own reasons.
    mutating func remove(_ node: PolicyNode)

    /// Chooses an entry to evict, forgets it and returns its node and key hash; `nil` when
    /// the policy holds nothing.
    mutating func evict() -> (node: PolicyNode, hash: UInt64)?

    /// Forgets every entry.
    mutating func removeAll()

    /// ``evict()`` if the policy holds more than ``maximumWeight``, also returning the
    /// weight the eviction freed; `nil` within the bound or when the policy holds nothing.
    /// The store's eviction loop calls this, one mutating call on its existential policy:
    /// reading ``totalWeight`` through the existential would copy the policy's state.
    mutating func evictIfOverBound() -> (node: PolicyNode, hash: UInt64, weight: Int)?
}

extension EvictionPolicy {
    @inlinable
    package mutating func recordHit(_ node: PolicyNode, hash: UInt64) {
        recordHit(node)
    }

    @inlinable
    package mutating func evictIfOverBound() -> (node: PolicyNode, hash: UInt64, weight: Int)? {
        let before = totalWeight
        guard before > maximumWeight, let (node, hash) = evict() else { return nil }
        return (node, hash, before - totalWeight)
    }

    @inlinable
    package mutating func recordReads(_ reads: UnsafeBufferPointer<PolicyRead>) {
        for read in reads {
            if read.node == PolicyRead.miss {
                recordMiss(hash: read.hash)
            } else {
                recordHit(read.node, hash: read.hash)
            }
        }
    }
}

/// One read a shard recorded for its policy: the node it found, or ``miss``, and the key's
/// hash.
@usableFromInline
package struct PolicyRead: Sendable {
    /// The `node` of a read that found nothing.
    @usableFromInline package static var miss: PolicyNode { .max }

    @usableFromInline package var node: PolicyNode
    @usableFromInline package var hash: UInt64

    @inlinable
    package init(node: PolicyNode, hash: UInt64) {
        self.node = node
        self.hash = hash
    }
}
