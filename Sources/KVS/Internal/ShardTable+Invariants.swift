extension ShardTable {
    /// Checks the table's layout and stops the process with a message naming the broken
    /// invariant. For tests and `StoreEngine.checkInvariants()`; nothing a caller passes
    /// can break these, so a failure is a bug in this module.
    ///
    /// - ``count`` is the number of occupied slots, and at most 85% of the slots;
    /// - each occupied slot's tag is that of its key's table hash, and where the table has
    ///   deadlines, its recorded home distance is its own;
    /// - only occupied slots have the deadline bit, and the storage's deadline count is the
    ///   number of slots that have it;
    /// - no deadline bit in front of the deadline 0 (which means "none");
    /// - every key is found from its home slot, at its own slot (no empty slot and no
    ///   equal key comes before it in its probe run).
    ///
    /// - Complexity: O(n) on average.
    package func checkLayoutInvariants() {
        let storage = self.storage
        var occupied = 0
        var withDeadline = 0
        for slot in 0..<storage.capacity {
            guard storage.isOccupied(slot) else {
                if let deadlines = storage.deadlines {
                    precondition(
                        !storage.hasDeadline(slot, in: deadlines),
                        "ShardTable invariant: slot \(slot) has a deadline bit but no entry"
                    )
                }
                continue
            }
            occupied += 1
            if storage.hasDeadline(slot) {
                withDeadline += 1
                precondition(
                    storage.deadline(at: slot) != 0,
                    "ShardTable invariant: slot \(slot) has the deadline 0 behind its bit"
                )
            }
            let key = storage.slots[slot].key
            precondition(
                storage.tags[slot] == ShardTableStorage<Key, Value>.tag(of: key.tableHash),
                "ShardTable invariant: slot \(slot) has the tag \(storage.tags[slot]), not its key's"
            )
            if let deadlines = storage.deadlines {
                let distance = Swift.min(storage.slotsFrom(storage.home(of: key.tableHash), to: slot), 255)
                precondition(
                    storage.homeDistance(of: slot, in: deadlines) == distance,
                    "ShardTable invariant: slot \(slot) records the home distance \(storage.homeDistance(of: slot, in: deadlines)), not \(distance)"
                )
            }
            precondition(
                storage.find(key, hash: key.tableHash) == slot,
                "ShardTable invariant: key \(key.displayName) is not found at its slot \(slot)"
            )
        }
        precondition(
            occupied == storage.count,
            "ShardTable invariant: \(occupied) occupied slots, count \(storage.count)"
        )
        precondition(storage.count <= storage.maxCount, "ShardTable invariant: more than 85% full")
        precondition(
            withDeadline == storage.deadlineCount,
            "ShardTable invariant: \(withDeadline) deadline bits, deadline count \(storage.deadlineCount)"
        )
    }

    /// Whether the storage holds a deadline array (it has none until an entry has a
    /// deadline, and drops it at a resize or copy once no entry has one). For tests.
    package var holdsDeadlineStorage: Bool { storage.deadlines != nil }
}
