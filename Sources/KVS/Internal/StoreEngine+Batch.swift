import Synchronization

extension StoreEngine {
    /// Groups the positions `0..<count` by the shard of `key(position)` and calls `body`
    /// once per shard touched, with that shard's positions; positions whose custom hash is
    /// out of range go to `invalid` instead. This is what lets a batch take each shard's
    /// lock once rather than once per key. While hashing, it prefetches every key's home
    /// slot (``Shard/prefetchHomeSlot(ofTableHash:)``), before any lock is taken. With a
    /// `prepare`, it first calls `prepare` for every group, then `body` for every group.
    ///
    /// - Complexity: O(n log n) for n positions (a sort of packed integers), plus one
    ///   hash per key.
    @inlinable
    package func forEachShardGroup(
        count: Int,
        key: (Int) -> Key,
        invalid: (Int) -> Void,
        prepare: ((Shard<Key, Value>, _ positions: ArraySlice<UInt64>, _ tableHashes: UnsafeBufferPointer<UInt64>) -> Void)? = nil,
        _ body: (Shard<Key, Value>, _ positions: ArraySlice<UInt64>, _ tableHashes: UnsafeBufferPointer<UInt64>) -> Void
    ) {
        // Each element packs (shard index << 32 | position), so one integer sort groups them.
        var packed: [UInt64] = []
        packed.reserveCapacity(count)
        // Each key is hashed once: its table hash waits here, by position, for its shard.
        var tableHashes = [UInt64](repeating: 0, count: count)
        for position in 0..<count {
            let key = key(position)
            let hashes = key.hashes
            tableHashes[position] = hashes.table
            if let index = shardIndex(of: key, shardHash: hashes.shard) {
                shards[index].prefetchHomeSlot(ofTableHash: hashes.table)
                packed.append(UInt64(index) << 32 | UInt64(position))
            } else {
                invalid(position)
            }
        }
        packed.sort()
        func forEachGroup(_ run: (Shard<Key, Value>, ArraySlice<UInt64>, UnsafeBufferPointer<UInt64>) -> Void) {
            var start = 0
            while start < packed.count {
                let shardIndex = packed[start] >> 32
                var end = start + 1
                while end < packed.count, packed[end] >> 32 == shardIndex { end += 1 }
                tableHashes.withUnsafeBufferPointer { run(shards[Int(shardIndex)], packed[start..<end], $0) }
                start = end
            }
        }
        if let prepare { forEachGroup(prepare) }
        forEachGroup(body)
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
        forEachShardGroup(
            count: keys.count, key: { keys[$0] }, invalid: { errors[keys[$0]] = invalidShardIndexError(keys[$0]) },
            // A first pass that only prefetches each value's storage: copying a value out
            // retains it, a locked instruction that stalls on the value's cold line with
            // nothing else in flight; this pass lets the lines of the whole batch load in
            // parallel first. See BENCHMARKS.md (B100) for the figure.
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
                        if entry.hasExpiry {
                            let t = now ?? clock.now()
                            now = t
                            if entry.expiresAt <= t {
                                _ = state.remove(key, hash: tableHashes[position])
                                expiredCount += 1
                                errors[key] = KVSError.notFound(key.displayName)
                                continue
                            }
                        }
                        values[key] = entry.value
                    } else {
                        errors[key] = KVSError.notFound(key.displayName)
                    }
                }
                if expiredCount > 0 {
                    counter.subtract(expiredCount, ordering: .relaxed)
                    expiredCount = 0
                }
            }
        }
        return (values, errors)
    }

    /// Stores every item with the deadline `expiresAt` (`0` = never).
    ///
    /// - Returns: how many were stored, and the errors of those that were not.
    /// - Throws: `.storeClosed` (the whole call).
    /// - Complexity: O(n log n); one lock per shard touched.
    @inlinable
    package func batchSet(_ items: [(key: Key, value: Value)], expiresAt: Int64 = 0) throws(KVSError) -> (successful: Int, errors: [Key: KVSError]) {
        try checkOpen()
        var errors: [Key: KVSError] = [:]
        var successful = 0
        // What the items replace is released after each shard's unlock, as in `set`
        // (allocated only once something is replaced, and reused from shard to shard).
        var replaced: [Entry<Value>] = []
        forEachShardGroup(count: items.count, key: { items[$0].key }, invalid: { errors[items[$0].key] = invalidShardIndexError(items[$0].key) }) { shard, positions, tableHashes in
            shard.withLock { state in
                var added = 0
                for packed in positions {
                    let position = Int(truncatingIfNeeded: packed & 0xFFFF_FFFF)
                    let item = items[position]
                    if let old = state.store(item.key, Entry(value: item.value, expiresAt: expiresAt), hash: tableHashes[position]) {
                        replaced.append(old)
                    } else {
                        added += 1
                    }
                }
                if added > 0 { counter.add(added, ordering: .relaxed) }
                shard.bumpVersion()
                if expiresAt != 0 { noteDeadline(expiresAt, in: shard) }
            }
            replaced.removeAll(keepingCapacity: true)
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
        forEachShardGroup(count: distinct.count, key: { distinct[$0] }, invalid: { errors[distinct[$0]] = invalidShardIndexError(distinct[$0]) }) { shard, positions, tableHashes in
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
        in shard: Shard<Key, Value>, of keys: [Key], at positions: ArraySlice<UInt64>,
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
