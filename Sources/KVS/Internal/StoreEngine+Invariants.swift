extension StoreEngine {
    /// Checks the engine's invariants with every shard locked, and stops the process with
    /// a message naming the broken one. For tests and debug builds (`KVS_INTERNAL_CHECKS`);
    /// nothing a caller passes can break them, so a failure is a bug in this module.
    ///
    /// - every entry is in the shard its key hashes to;
    /// - the entries of all shards add up to the atomic count;
    /// - every entry with a deadline has a matching item (its deadline and its key's table
    ///   hash) in its shard's expiry index, and
    ///   the index's live count equals the number of such entries;
    /// - each shard's published next deadline is no later than its earliest due item;
    /// - each shard's table keeps its layout (``ShardTable/checkLayoutInvariants()``);
    /// - in a bounded store, each shard's policy holds exactly the shard's entries, their
    ///   weights add up to the policy's total, and the total is within the shard's bound.
    ///
    /// - Complexity: O(n); holds every shard lock while it runs.
    @usableFromInline
    package func checkInvariants() {
        var total = 0
        withAllShardsLocked { index, state in
            total += state.table.count
            state.table.checkLayoutInvariants()
            var withDeadline = 0
            let indexed = Set(state.expiry.unorderedItems)
            for (key, entry) in state.table {
                precondition(
                    shardIndex(of: key) == index,
                    "KVS invariant: key \(key.displayName) is in shard \(index), not its own"
                )
                if entry.hasExpiry {
                    withDeadline += 1
                    precondition(
                        indexed.contains(.init(deadline: entry.expiresAt, key: key.tableHash)),
                        "KVS invariant: key \(key.displayName) has a deadline the expiry index lacks"
                    )
                }
            }
            precondition(
                withDeadline == state.expiry.liveCount,
                "KVS invariant: shard \(index) has \(withDeadline) TTL entries, its index counts \(state.expiry.liveCount)"
            )
            precondition(
                shards[index].nextDeadline.load(ordering: .relaxed) <= state.expiry.earliestDeadline,
                "KVS invariant: shard \(index) publishes a deadline later than its earliest"
            )
            if let eviction = state.eviction {
                precondition(
                    eviction.policy.count == state.table.count,
                    "KVS invariant: shard \(index) holds \(state.table.count) entries, its policy \(eviction.policy.count)"
                )
                precondition(
                    eviction.policy.totalWeight <= eviction.policy.maximumWeight,
                    "KVS invariant: shard \(index) weighs \(eviction.policy.totalWeight), over its bound"
                )
                var weight = 0
                for (key, entry) in state.table { weight += eviction.weight(of: key, entry.value) }
                precondition(
                    weight == eviction.policy.totalWeight,
                    "KVS invariant: shard \(index)'s entries weigh \(weight), its policy says \(eviction.policy.totalWeight)"
                )
            }
        } then: {
            // Every change of the counter happens under the lock of the shard that changed,
            // so with all locks held it must equal the entries' total exactly.
            precondition(total == count, "KVS invariant: shards hold \(total) entries, the counter says \(count)")
        }
    }
}
