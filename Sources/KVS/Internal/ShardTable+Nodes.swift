/// The table of a bounded shard: each entry keeps the ``PolicyNode`` its shard's eviction
/// policy gave it, in a per-slot array that moves with the entries (see
/// ``ShardTableStorage/nodes``).
extension ShardTable {
    /// ``removeEntries(expiring:removedNodes:removedEntries:)`` for a table without nodes,
    /// keeping nothing of what it removes.
    @inlinable @discardableResult
    package mutating func removeEntries(expiring due: [ExpiryIndex<UInt64>.Item]) -> Int {
        var none: [PolicyNode] = []
        var noEntries: [(key: Key, entry: Entry<Value>)]? = nil
        return removeEntries(expiring: due, removedNodes: &none, removedEntries: &noEntries)
    }

    /// Stores `entry` under `key` and returns the entry it replaced, with that entry's
    /// node, or `nil` and the node `admit()` returns for a new key.
    ///
    /// - Complexity: O(1) on average; O(n) when the table grows.
    @inlinable
    package mutating func updateValue(
        _ entry: Entry<Value>,
        forKey key: Key,
        hash: UInt64,
        admit: () -> PolicyNode
    ) -> (replaced: Entry<Value>?, node: PolicyNode) {
        makeUnique(reserving: 1)
        let storage = self.storage
        let nodes = storage.nodesAllocatingIfNeeded()
        switch storage.findOrEmpty(key, hash: hash) {
        case .found(let slot):
            return (storage.replaceEntry(at: slot, with: entry), nodes[slot])
        case .empty(let slot):
            let node = admit()
            storage.initialize(slot, key: key, hash: hash, entry: entry)
            nodes[slot] = node
            return (nil, node)
        }
    }

    /// Removes the entry of `key` and returns it with its node, if there was one.
    ///
    /// - Complexity: O(1) on average.
    @inlinable
    package mutating func removeValueAndNode(forKey key: Key, hash: UInt64) -> (Entry<Value>, PolicyNode)? {
        makeUnique(reserving: 0)  // first: a copy may place entries in other slots
        guard let slot = storage.find(key, hash: hash), let nodes = storage.nodes else { return nil }
        let node = nodes[slot]
        return (storage.remove(at: slot), node)
    }

    /// The node of the entry at `slot` of the current storage (an occupied slot of a table
    /// with nodes).
    @inlinable @inline(__always)
    package func node(at slot: Int) -> PolicyNode? {
        storage.nodes?[slot]
    }

    /// Removes the entry whose node is `node` from the probe run of `hash` (its key's
    /// table hash) and returns its key and entry: how an eviction, which knows the node
    /// and the hash but not the key, finds its entry.
    ///
    /// - Complexity: O(1) on average: the run's nodes are compared, no key is hashed.
    @inlinable
    package mutating func removeEntry(node: PolicyNode, hash: UInt64) -> (key: Key, entry: Entry<Value>)? {
        makeUnique(reserving: 0)
        let storage = self.storage
        guard storage.capacity > 0, let nodes = storage.nodes else { return nil }
        let tag = ShardTableStorage<Key, Value>.tag(of: hash)
        var slot = storage.home(of: hash)
        while storage.isOccupied(slot) {
            if storage.tags[slot] == tag && nodes[slot] == node {
                let key = storage.slots[slot].key
                return (key, storage.remove(at: slot))
            }
            slot = storage.slot(after: slot)
        }
        return nil
    }

    /// Gives every entry a node from `admit(hash)`, in slot order: for a table that was
    /// built without them (a loaded snapshot).
    ///
    /// - Complexity: O(capacity).
    @inlinable
    package mutating func assignNodes(_ admit: (_ key: Key, _ hash: UInt64, _ value: Value) -> PolicyNode) {
        makeUnique(reserving: 0)
        let storage = self.storage
        guard storage.capacity > 0 else { return }
        let nodes = storage.nodesAllocatingIfNeeded()
        ShardTableStorage<Key, Value>.forEachOccupiedSlot(capacity: storage.capacity, tags: storage.tags) { slot in
            let key = storage.slots[slot].key
            nodes[slot] = admit(key, key.tableHash, storage.slots[slot].value)
        }
    }
}
