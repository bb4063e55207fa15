extension StoreEngine {
    /// Exchanges the whole contents of this engine and `other` (entries, deadlines and
    /// counts), atomically with respect to every operation on either: the server's SWAPDB.
    ///
    /// Both engines must shard alike (the same shard count and no custom hash), so that
    /// each shard's data can move whole to the shard of the same index: O(shards), no
    /// entry is rehashed or copied. Every shard's version is bumped, so a transaction that
    /// read either engine before the swap runs again.
    ///
    /// Lock order: takes every shard lock of `self` in index order, then every shard lock
    /// of `other`. A caller that may hold shard locks of two engines at once elsewhere
    /// must agree on which engine comes first (the server: the lower database number) and
    /// pass that engine as `self`.
    ///
    /// - Throws: `.storeClosed`; `.invalidArgument` if the engines shard differently.
    /// - Complexity: O(shards); nothing is allocated or freed under the locks.
    package func swapContents(with other: StoreEngine) throws(KVSError) {
        try checkOpen()
        try other.checkOpen()
        if other === self { return }
        guard shards.count == other.shards.count, customHash == nil, other.customHash == nil else {
            throw KVSError(.invalidArgument, message: "only engines with the same sharding can swap their contents")
        }
        for shard in shards { shard.lock() }
        for shard in other.shards { shard.lock() }
        var hasDeadlines = false
        for index in shards.indices {
            let mine = shards[index]
            let theirs = other.shards[index]
            mine.withLockHeld { a in theirs.withLockHeld { b in swap(&a, &b) } }
            func publish(_ shard: Shard<Key, Value>) {
                shard.withLockHeld { state in
                    shard.publishDeadline(state)
                    hasDeadlines = hasDeadlines || state.expiry.liveCount > 0
                }
                shard.bumpVersion()
            }
            publish(mine)
            publish(theirs)
        }
        // The counts change only under a shard lock: with all of them held, they are still.
        let count = counter.load(ordering: .relaxed)
        counter.store(other.counter.load(ordering: .relaxed), ordering: .relaxed)
        other.counter.store(count, ordering: .relaxed)
        for shard in other.shards.reversed() { shard.unlock() }
        for shard in shards.reversed() { shard.unlock() }
        if hasDeadlines {
            for engine in [self, other] {
                engine.startSweeperIfNeeded()
                engine.sweeper.wakeEarly()  // to plan again with the other engine's deadlines
            }
        }
    }
}
