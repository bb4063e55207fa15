/// The table of a store that records accesses (see ``AccessClock``): each entry's access
/// word lives in the per-slot array a bounded table uses for policy nodes, and moves with
/// the entry in the same way.
extension ShardTableStorage {
    /// Updates the access word of the entry at `slot` (an occupied slot) for one access;
    /// nothing in a table that records none. Call under the shard's lock.
    ///
    /// The word array is not read by a snapshot that shares this storage, so a touch does
    /// not copy a shared table, as Redis leaves copy-on-write pages alone.
    @inlinable @inline(__always)
    func touchAccess(at slot: Int) {
        guard let accessClock, let nodes else { return }
        nodes[slot] = accessClock.touch(nodes[slot], random: &accessRandom)
    }
}

extension ShardTable {
    /// Makes the table record accesses with `clock`: every entry it holds now starts with
    /// a new entry's word, every entry added later too.
    ///
    /// - Complexity: O(capacity) when the table holds entries without words; O(1) for an
    ///   empty one.
    @inlinable
    package mutating func attachAccessClock(_ clock: AccessClock) {
        makeUnique(reserving: 0)
        let storage = self.storage
        let hadWords = storage.accessClock != nil && storage.nodes != nil
        storage.accessClock = clock
        guard !hadWords, storage.count > 0 else { return }
        let nodes = storage.nodesAllocatingIfNeeded()
        let word = clock.newEntryWord()
        ShardTableStorage<Key, Value>.forEachOccupiedSlot(capacity: storage.capacity, tags: storage.tags) { slot in
            nodes[slot] = word
        }
    }

    /// The access word and deadline of `key`, without counting it as an access (Redis's
    /// `LOOKUP_NOTOUCH`); nil when it is absent or the table records no access.
    ///
    /// - Complexity: O(1) on average.
    @inlinable
    package func accessWord(forKey key: Key, hash: UInt64) -> (word: UInt32, expiresAt: Int64)? {
        guard storage.accessClock != nil, let nodes = storage.nodes, let slot = storage.find(key, hash: hash) else {
            return nil
        }
        return (nodes[slot], storage.deadline(at: slot))
    }

    /// Sets the access word of `key`; false when it is absent or the table records no
    /// access.
    ///
    /// - Complexity: O(1) on average.
    @inlinable
    package func setAccessWord(_ word: UInt32, forKey key: Key, hash: UInt64) -> Bool {
        guard storage.accessClock != nil, let nodes = storage.nodes, let slot = storage.find(key, hash: hash) else {
            return false
        }
        nodes[slot] = word
        return true
    }

    /// Appends to `samples` up to `count` entries that lie in a run of slots starting at
    /// `start` (any integer; taken modulo the capacity), each with its access word, as
    /// Redis's `dictGetSomeKeys` samples a dictionary: `volatileOnly` takes only entries
    /// with a deadline. Expired entries are included (the caller evicts them first anyway).
    ///
    /// - Parameter maxSteps: the most slots looked at.
    /// - Complexity: O(min(maxSteps, capacity)).
    @inlinable
    package func sampleAccess(
        from start: Int,
        count: Int,
        volatileOnly: Bool,
        maxSteps: Int,
        into samples: inout [AccessSample<Key>]
    ) {
        let storage = self.storage
        guard count > 0, storage.count > 0, storage.accessClock != nil, let nodes = storage.nodes else { return }
        if volatileOnly && storage.deadlineCount == 0 { return }
        let capacity = storage.capacity
        var slot = Int(UInt(bitPattern: start) % UInt(capacity))
        var taken = 0
        for _ in 0..<Swift.min(maxSteps, capacity) {
            if storage.isOccupied(slot) {
                let deadline = storage.deadline(at: slot)
                if !volatileOnly || deadline != 0 {
                    samples.append(AccessSample(key: storage.slots[slot].key, word: nodes[slot], expiresAt: deadline))
                    taken += 1
                    if taken == count { return }
                }
            }
            slot = slot &+ 1 == capacity ? 0 : slot &+ 1
        }
    }
}
