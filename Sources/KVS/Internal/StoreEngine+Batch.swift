import Synchronization

extension StoreEngine {
    /// Groups the positions `0..<count` by the shard of `key(position)` and calls `body`
    /// once per shard touched, with that shard's positions in increasing order; positions
    /// whose custom hash is out of range go to `invalid` instead. This is what lets a batch
    /// take each shard's lock once rather than once per key. While hashing, it prefetches
    /// every key's home slot (``Shard/prefetchHomeSlot(ofTableHash:)``), before any lock is
    /// taken. With a `prepare`, it first calls `prepare` for every group, then `body` for
    /// every group.
    ///
    /// Each element of `positions` packs (shard index << 32 | position); `tableHashes` holds
    /// every key's table hash by position. Both buffers are valid only during the call.
    ///
    /// The loop borrows each shard (``withShard(at:_:)``) and hands out views of one buffer:
    /// taking `shards[i]` and an `ArraySlice` per group would retain and release the shard
    /// object and the arrays, five pairs per group, and with two threads both would write
    /// the counts of the same shard objects (docs/design/single-key-path.md, "Batches").
    ///
    /// - Complexity: O(n + s) for n positions and s shards when n is at least s / 8 (a
    ///   counting sort), O(n log n) otherwise; plus one hash per key.
    @inlinable
    package func forEachShardGroup(
        count: Int,
        key: (Int) -> Key,
        invalid: (Int) -> Void,
        prepare: (
            (Shard<Key, Value>, _ positions: UnsafeBufferPointer<UInt64>, _ tableHashes: UnsafeBufferPointer<UInt64>) ->
                Void
        )? = nil,
        _ body: (
            Shard<Key, Value>, _ positions: UnsafeBufferPointer<UInt64>, _ tableHashes: UnsafeBufferPointer<UInt64>
        ) -> Void
    ) {
        var packed: [UInt64] = []
        packed.reserveCapacity(count)
        // Each key is hashed once: its table hash waits here, by position, for its shard.
        var tableHashes = [UInt64](repeating: 0, count: count)
        tableHashes.withUnsafeMutableBufferPointer { tableHashes in
            for position in 0..<count {
                let key = key(position)
                let hashes = key.hashes
                tableHashes[position] = hashes.table
                if let index = shardIndex(of: key, shardHash: hashes.shard) {
                    withShard(at: index) { $0.prefetchHomeSlot(ofTableHash: hashes.table) }
                    packed.append(UInt64(index) << 32 | UInt64(position))
                } else {
                    invalid(position)
                }
            }
        }
        Self.sortByShard(&packed, shardCount: shards.count)
        packed.withUnsafeBufferPointer { packed in
            tableHashes.withUnsafeBufferPointer { tableHashes in
                func forEachGroup(
                    _ run: (Shard<Key, Value>, UnsafeBufferPointer<UInt64>, UnsafeBufferPointer<UInt64>) -> Void
                ) {
                    var start = 0
                    while start < packed.count {
                        let shardIndex = packed[start] >> 32
                        var end = start + 1
                        while end < packed.count, packed[end] >> 32 == shardIndex { end += 1 }
                        let group = UnsafeBufferPointer(rebasing: packed[start..<end])
                        withShard(at: Int(truncatingIfNeeded: shardIndex)) { run($0, group, tableHashes) }
                        start = end
                    }
                }
                if let prepare { forEachGroup(prepare) }
                forEachGroup(body)
            }
        }
    }

    /// Sorts `packed` (shard index << 32 | position, in increasing position order) by
    /// shard, keeping the positions of each shard in increasing order.
    ///
    /// With at least one element per eight shards, a counting sort by shard index: a pass
    /// to count, one over the shards for the starts, one to place. For the anchors' batches
    /// (100 keys, 256 shards) that is about a tenth of the instructions of `sort()`'s merge
    /// sort. Fewer elements than that
    /// (small batches over many shards) keep `sort()`, whose cost does not grow with the
    /// shard count. Sorting the packed integers, as `sort()` does, also orders the positions
    /// of a shard: the counting sort keeps them in input order, which is increasing.
    @inlinable
    package static func sortByShard(_ packed: inout [UInt64], shardCount: Int) {
        guard packed.count > 1 else { return }
        guard packed.count >= shardCount / 8 else {
            packed.sort()
            return
        }
        var starts = [Int](repeating: 0, count: shardCount + 1)
        packed = starts.withUnsafeMutableBufferPointer { starts in
            for element in packed { starts[Int(truncatingIfNeeded: element >> 32) &+ 1] &+= 1 }
            for shard in 0..<shardCount { starts[shard &+ 1] &+= starts[shard] }
            return [UInt64](unsafeUninitializedCapacity: packed.count) { sorted, initialized in
                for element in packed {
                    let shard = Int(truncatingIfNeeded: element >> 32)
                    sorted.initializeElement(at: starts[shard], to: element)
                    starts[shard] &+= 1
                }
                initialized = packed.count  // every place filled: the starts cover 0..<count
            }
        }
    }

    /// The values of `keys`: every distinct key ends in exactly one of the two results.
    ///
    /// - Throws: `.storeClosed` (the whole call).
    /// - Complexity: O(n log n); one lock per shard touched.
    @inlinable
    package func batchGet(_ keys: [Key]) throws(KVSError) -> (values: [Key: Value], errors: [Key: KVSError]) {
        try checkOpen()
        var values: [Key: Value] = Dictionary(minimumCapacity: keys.count)
        var errors: [Key: KVSError] = [:]
        var expiredCount = 0
        let listening = removalListeners.isActive
        forEachShardGroup(
            count: keys.count,
            key: { keys[$0] },
            invalid: { errors[keys[$0]] = invalidShardIndexError(keys[$0]) },
            // A first pass that only prefetches each value's storage: copying a value out
            // retains it, a locked instruction that stalls on the value's cold line with
            // nothing else in flight; this pass lets the lines of the whole batch load in
            // parallel first (docs/design/single-key-path.md, "Batches").
            prepare: { shard, positions, tableHashes in
                Self.prefetchValues(in: shard, of: keys, at: positions, tableHashes: tableHashes)
            }
        ) { shard, positions, tableHashes in
            shard.withLock { state in
                var now: Int64? = nil
                for packed in positions {
                    let position = Int(truncatingIfNeeded: packed & 0xFFFF_FFFF)
                    let key = keys[position]
                    if let entry = state.table.entry(forKey: key, hash: tableHashes[position]) {
                        if state.eviction != nil { state.recordHit(key, hash: tableHashes[position]) }
                        if entry.hasExpiry {
                            let t = now ?? clock.now()
                            now = t
                            if entry.expiresAt <= t {
                                let removed = state.remove(key, hash: tableHashes[position])
                                if listening, let removed { queueRemoval(key, removed, .expired, now: t, in: &state) }
                                expiredCount += 1
                                errors[key] = KVSError.notFound(key.displayName)
                                continue
                            }
                        }
                        values[key] = entry.value
                    } else {
                        if state.eviction != nil { state.recordRead(slot: nil, hash: tableHashes[position]) }
                        errors[key] = KVSError.notFound(key.displayName)
                    }
                }
                if expiredCount > 0 {
                    counter.subtract(expiredCount, ordering: .relaxed)
                }
            }
            if listening && expiredCount > 0 { deliverRemovals(of: shard) }
            expiredCount = 0
        }
        return (values, errors)
    }

    /// Stores every item with the deadline `expiresAt` (`0` = never).
    ///
    /// - Returns: how many were stored, and the errors of those that were not.
    /// - Throws: `.storeClosed` (the whole call).
    /// - Complexity: O(n log n); one lock per shard touched.
    @inlinable
    package func batchSet(
        _ items: [(key: Key, value: Value)],
        expiresAt: Int64 = 0
    ) throws(KVSError) -> (successful: Int, errors: [Key: KVSError]) {
        try checkOpen()
        var errors: [Key: KVSError] = [:]
        var successful = 0
        // What the items replace is released after each shard's unlock, as in `set`
        // (allocated only once something is replaced, and reused from shard to shard).
        var replaced: [Entry<Value>] = []
        var evictedEntries: [EvictedEntries<Key, Value>] = []
        let listening = removalListeners.isActive
        forEachShardGroup(
            count: items.count,
            key: { items[$0].key },
            invalid: { errors[items[$0].key] = invalidShardIndexError(items[$0].key) }
        ) { shard, positions, tableHashes in
            shard.withLock { state in
                var added = 0
                for packed in positions {
                    let position = Int(truncatingIfNeeded: packed & 0xFFFF_FFFF)
                    let item = items[position]
                    if let old = state.store(
                        item.key,
                        Entry(value: item.value, expiresAt: expiresAt),
                        hash: tableHashes[position]
                    ) {
                        if listening {
                            queueRemoval(item.key, old, .replaced, now: old.hasExpiry ? clock.now() : 0, in: &state)
                        }
                        replaced.append(old)
                    } else {
                        added += 1
                    }
                }
                if let evicted = state.takeEvictions() {
                    added -= evicted.count
                    if listening { queueEvictions(evicted, in: &state) }
                    evictedEntries.append(evicted)
                }
                if added != 0 { counter.add(added, ordering: .relaxed) }
                shard.bumpVersion()
                if expiresAt != 0 { noteDeadline(expiresAt, in: shard) }
            }
            replaced.removeAll(keepingCapacity: true)
            evictedEntries.removeAll(keepingCapacity: true)
            if listening { deliverRemovals(of: shard) }
            successful += positions.count
        }
        return (successful, errors)
    }

    /// Removes every distinct key of `keys`; a key given twice is handled once.
    ///
    /// - Returns: how many were removed, and the errors of the others (`.notFound` for
    ///   a key absent or expired).
    /// - Throws: `.storeClosed` (the whole call).
    /// - Complexity: O(n log n); one lock per shard touched.
    @inlinable
    package func batchDelete(_ keys: [Key]) throws(KVSError) -> (deleted: Int, errors: [Key: KVSError]) {
        try checkOpen()
        var seen = Set<Key>(minimumCapacity: keys.count)
        let distinct = keys.filter { seen.insert($0).inserted }
        var errors: [Key: KVSError] = [:]
        var deleted = 0
        var removedEntries: [Entry<Value>] = []  // released after each unlock, as in `delete`
        let listening = removalListeners.isActive
        forEachShardGroup(
            count: distinct.count,
            key: { distinct[$0] },
            invalid: { errors[distinct[$0]] = invalidShardIndexError(distinct[$0]) }
        ) { shard, positions, tableHashes in
            shard.withLock { state in
                var removed = 0
                var now: Int64? = nil
                for packed in positions {
                    let position = Int(truncatingIfNeeded: packed & 0xFFFF_FFFF)
                    let key = distinct[position]
                    guard let old = state.remove(key, hash: tableHashes[position]) else {
                        errors[key] = KVSError.notFound(key.displayName)
                        continue
                    }
                    removedEntries.append(old)
                    removed += 1
                    if listening {
                        queueRemoval(key, old, .removed, now: old.hasExpiry ? clock.now() : 0, in: &state)
                    }
                    if old.hasExpiry {
                        let t = now ?? clock.now()
                        now = t
                        if old.expiresAt <= t {
                            errors[key] = KVSError.notFound(key.displayName)
                            continue
                        }
                    }
                    deleted += 1
                }
                if removed > 0 {
                    counter.subtract(removed, ordering: .relaxed)
                    shard.bumpVersion()
                }
            }
            removedEntries.removeAll(keepingCapacity: true)
            if listening { deliverRemovals(of: shard) }
        }
        return (deleted, errors)
    }
}

extension StoreEngine {
    /// Starts loading what looking up `keys` will touch, so that lookups soon after do
    /// not wait for memory one key at a time: for callers that know the next keys ahead
    /// of time (the server's pipelined commands). First every key's home slot (no lock),
    /// then, under each shard's lock once, the storage of the values (as ``batchGet(_:)``
    /// does). A hint: it changes nothing.
    ///
    /// - Complexity: O(total key length) for the hashes, O(k log k) to group the keys by
    ///   shard; one lock per shard touched.
    @inlinable
    package func prefetch(_ keys: [Key]) {
        // Grouping prefetches the slots (see forEachShardGroup); the values follow by shard.
        forEachShardGroup(count: keys.count, key: { keys[$0] }, invalid: { _ in }) { shard, positions, tableHashes in
            Self.prefetchValues(in: shard, of: keys, at: positions, tableHashes: tableHashes)
        }
    }

    /// Under `shard`'s lock, prefetches the storage of the values of the keys at
    /// `positions` (a shard group of ``forEachShardGroup(count:key:invalid:prepare:_:)``).
    @inlinable
    static func prefetchValues(
        in shard: Shard<Key, Value>,
        of keys: [Key],
        at positions: UnsafeBufferPointer<UInt64>,
        tableHashes: UnsafeBufferPointer<UInt64>
    ) {
        shard.withLock { state in
            for packed in positions {
                let position = Int(truncatingIfNeeded: packed & 0xFFFF_FFFF)
                state.table.prefetchValue(forKey: keys[position], hash: tableHashes[position])
            }
        }
    }
}
