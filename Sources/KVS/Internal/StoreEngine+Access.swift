/// Reading the access words of a store made with an ``AccessClock``: what the server's
/// `maxmemory` eviction samples and `OBJECT IDLETIME` / `OBJECT FREQ` answer from.
extension StoreEngine {
    /// The access word and deadline of `key`, without counting it as an access; nil when
    /// the key is absent or has expired, or the store records no access.
    ///
    /// - Throws: `.storeClosed`, `.invalidShardIndex`.
    /// - Complexity: O(1) on average.
    @inlinable
    package func accessWord(_ key: Key) throws(KVSError) -> UInt32? {
        try checkOpen()
        let (index, hash) = try locate(key)
        return withLockedShard(at: index) { _, state in
            guard let (word, expiresAt) = state.table.accessWord(forKey: key, hash: hash) else { return nil }
            if expiresAt != 0, expiresAt <= clock.now() { return nil }
            return word
        }
    }

    /// Sets the access word of `key` (RESTORE's IDLETIME and FREQ); false when the key is
    /// absent or the store records no access.
    ///
    /// - Throws: `.storeClosed`, `.invalidShardIndex`.
    /// - Complexity: O(1) on average.
    @inlinable @discardableResult
    package func setAccessWord(_ key: Key, _ word: UInt32) throws(KVSError) -> Bool {
        try checkOpen()
        let (index, hash) = try locate(key)
        return withLockedShard(at: index) { _, state in state.table.setAccessWord(word, forKey: key, hash: hash) }
    }

    /// Appends to `samples` up to `count` entries of shard `shardIndex` with their access
    /// words, from a run of slots that starts at a random slot (Redis's
    /// `dictGetSomeKeys`): the run looks at `count * 10` slots at most, or at the whole
    /// table when `volatileOnly` (entries with a deadline only) and the shard has any, so
    /// that a few volatile keys among many are found.
    ///
    /// - Complexity: O(count) on average; O(shard's capacity) for sparse volatile keys.
    @inlinable
    package func sampleAccess(
        shard shardIndex: Int,
        count: Int,
        volatileOnly: Bool,
        into samples: inout [AccessSample<Key>]
    ) {
        guard shards.indices.contains(shardIndex), count > 0 else { return }
        let start = Int.random(in: 0..<Int.max)
        let (steps, overflow) = count.multipliedReportingOverflow(by: 10)
        withLockedShard(at: shardIndex) { _, state in
            state.table.sampleAccess(
                from: start,
                count: count,
                volatileOnly: volatileOnly,
                maxSteps: volatileOnly || overflow ? Int.max : steps,
                into: &samples
            )
        }
    }
}

extension TransactionState {
    /// The access word of `key` in the store, without counting an access: a new entry's
    /// word for a key this transaction wrote and the store does not hold yet; nil when
    /// the key is absent as this transaction sees it, or the store records no access.
    ///
    /// - Throws: what ``entry(_:)`` throws (the transaction's retry signal included).
    @inlinable
    package mutating func accessWord(_ key: Key) throws(KVSError) -> UInt32? {
        guard try entry(key) != nil else { return nil }
        let (index, hash) = try engine.locate(key)
        let shard = engine.shards[index]
        func word(_ state: inout ShardState<Key, Value>) -> UInt32? {
            if let (word, _) = state.table.accessWord(forKey: key, hash: hash) { return word }
            return state.table.storage.accessClock?.newEntryWord()
        }
        if let held = heldShards, held.contains(index) {
            return shard.withLockHeld { word(&$0) }
        }
        return shard.withLock { word(&$0) }
    }
}
