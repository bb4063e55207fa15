/// Replays an access trace through the eviction policies, for the hit-ratio benchmark
/// (`kvs-hitratio`). SPI (`@_spi(Benchmarks) import KVS`), because the benchmarks are a
/// package of their own, which sees no `package` symbol; not API.
///
/// Thread-safety: the functions are thread-safe (each replay owns its policies).
@_spi(Benchmarks) public enum HitRatioReplay {
    /// The policies a replay can drive.
    public enum Policy: String, CaseIterable, Sendable {
        /// `LRUPolicy`: exact least-recently-used.
        case lru = "LRU"
        /// `SIEVEPolicy`: FIFO queue, visited bit, moving hand.
        case sieve = "SIEVE"
        /// `S3FIFOPolicy`: small, main and ghost FIFOs.
        case s3fifo = "S3-FIFO"
        /// `WTinyLFUPolicy` with its default adaptation (ghosts): the default policy.
        case wtinylfu = "W-TinyLFU"
        /// W-TinyLFU with Caffeine's hill climber in place of the ghosts.
        case wtinylfuHillClimbing = "W-TinyLFU/HC"
    }

    /// Replays `trace` as the store would drive a bounded cache: a read that finds its key is
    /// a hit, one that does not is a miss and inserts the key with weight 1, and the policy
    /// evicts while it holds more than its bound.
    ///
    /// - Parameters:
    ///   - trace: the accesses, each a dense key id in `0..<keyHashes.count`.
    ///   - keyHashes: each key's 64-bit hash, the one the store hands the policy.
    ///   - keyShards: each key's shard, in `0..<shardCount`.
    ///   - capacity: the bound over all shards; shard `i` gets `capacity / shardCount`, plus one
    ///     for the first `capacity % shardCount` shards.
    ///   - shardCount: how many policies share the bound (1: one global policy).
    /// - Returns: how many accesses hit.
    /// - Complexity: O(trace.count) policy calls.
    public static func hits(
        policy: Policy,
        trace: [Int32],
        keyHashes: [UInt64],
        keyShards: [UInt8],
        capacity: Int,
        shardCount: Int
    ) -> Int {
        switch policy {
        case .lru: replay(LRUPolicy.init, trace, keyHashes, keyShards, capacity, shardCount)
        case .sieve: replay(SIEVEPolicy.init, trace, keyHashes, keyShards, capacity, shardCount)
        case .s3fifo: replay(S3FIFOPolicy.init, trace, keyHashes, keyShards, capacity, shardCount)
        case .wtinylfu: replay(WTinyLFUPolicy.init, trace, keyHashes, keyShards, capacity, shardCount)
        case .wtinylfuHillClimbing:
            replay(
                { WTinyLFUPolicy(maximumWeight: $0, adaptation: .hillClimbing) },
                trace,
                keyHashes,
                keyShards,
                capacity,
                shardCount
            )
        }
    }

    private static func replay<P: EvictionPolicy>(
        _ make: (Int) -> P,
        _ trace: [Int32],
        _ keyHashes: [UInt64],
        _ keyShards: [UInt8],
        _ capacity: Int,
        _ shardCount: Int
    ) -> Int {
        var policies = (0..<shardCount).map { shard in
            make(capacity / shardCount + (shard < capacity % shardCount ? 1 : 0))
        }
        // The store's table: each key's node, and each shard's node → key, as the entry
        // beside its node.
        let absent = PolicyNode.max
        var nodeOfKey = [PolicyNode](repeating: absent, count: keyHashes.count)
        var keyOfNode = [[Int32]](repeating: [], count: shardCount)
        var hits = 0
        for key in trace {
            let k = Int(key)
            let shard = shardCount == 1 ? 0 : Int(keyShards[k])
            let node = nodeOfKey[k]
            if node != absent {
                hits += 1
                policies[shard].recordHit(node, hash: keyHashes[k])
                continue
            }
            let hash = keyHashes[k]
            policies[shard].recordMiss(hash: hash)
            let inserted = policies[shard].insert(hash: hash, weight: 1)
            if Int(inserted) >= keyOfNode[shard].count {
                keyOfNode[shard].append(
                    contentsOf: repeatElement(-1, count: Int(inserted) + 1 - keyOfNode[shard].count)
                )
            }
            keyOfNode[shard][Int(inserted)] = key
            nodeOfKey[k] = inserted
            while policies[shard].totalWeight > policies[shard].maximumWeight {
                guard let (evicted, _) = policies[shard].evict() else { break }
                let evictedKey = Int(keyOfNode[shard][Int(evicted)])
                nodeOfKey[evictedKey] = absent
            }
        }
        return hits
    }
}
