extension KeyValueStore {
    /// Creates an empty cache that holds at most `maximumCount` keys, evicting by `policy`
    /// when a write would take it over.
    ///
    /// ```swift
    /// let sessions = try KeyValueStore<Session>(maximumCount: 100_000)
    /// ```
    ///
    /// The bound is split evenly over the shards, and each shard evicts under its own lock
    /// as soon as a write takes it over its share, so the store never holds more than
    /// `maximumCount` keys when no write is in progress; ``count`` never reports more. A
    /// shard can be full while another has room: with keys spread by a good hash this costs
    /// little hit ratio (BENCHMARKS.md). Every path that adds a key respects the bound:
    /// `set`, batches, transactions, `setIfAbsent`, `update`, `loadSnapshot`. An evicted key
    /// reads as absent (``KVSError/Code/notFound``), as a deleted one does.
    ///
    /// - Parameters:
    ///   - maximumCount: the most keys the store holds, at least 1.
    ///   - policy: how it chooses what to evict; ``CachePolicy/default`` unless given.
    ///   - shardCount: how many shards; `nil` for ``defaultShardCount``, lowered for a small
    ///     bound so that each shard holds at least 64 keys.
    /// - Throws: ``KVSError/Code/invalidArgument`` if `maximumCount` is less than 1,
    ///   ``KVSError/Code/invalidShardCount`` if `shardCount` is out of range.
    /// - Complexity: O(shards). A read of a bounded store tells the policy of the hit or
    ///   miss, O(1) under the shard lock it already holds; a write evicts in O(1) amortized.
    /// - Thread safety: the new store may be shared at once.
    public convenience init(
        maximumCount: Int,
        policy: CachePolicy = .default,
        shardCount: Int? = nil
    ) throws(KVSError) {
        try self.init(bound: maximumCount, minimumShare: 64, policy: policy, shardCount: shardCount, weigher: nil)
    }

    /// Creates an empty cache that holds entries weighing at most `maximumWeight` in all,
    /// each weighed by `weigher`, evicting by `policy` when a write would take it over.
    ///
    /// ```swift
    /// let images = try KeyValueStore<[UInt8]>(maximumWeight: 256 << 20) { key, value in
    ///     key.utf8.count + value.count
    /// }
    /// ```
    ///
    /// The bound is split over the shards as for ``init(maximumCount:policy:shardCount:)``.
    /// An entry heavier than its shard's share is evicted as soon as it is written (the
    /// write succeeds, the entry is gone), as Caffeine does with an entry heavier than its
    /// maximum.
    ///
    /// - Parameters:
    ///   - maximumWeight: the most weight the store holds, at least 1.
    ///   - policy: how it chooses what to evict.
    ///   - shardCount: how many shards; `nil` for ``defaultShardCount``, lowered for a small
    ///     bound so that each shard's share is at least 64 KiB worth of weight units
    ///     (65,536).
    ///   - weigher: the weight of a key and its value, at least 0 (a negative weight counts
    ///     as 0). Called under the key's shard lock on every write, so keep it cheap and do
    ///     not call the store from it; it must return the same weight for the same entry.
    /// - Throws: ``KVSError/Code/invalidArgument`` if `maximumWeight` is less than 1,
    ///   ``KVSError/Code/invalidShardCount`` if `shardCount` is out of range.
    /// - Complexity: O(shards).
    /// - Thread safety: the new store may be shared at once.
    public convenience init(
        maximumWeight: Int,
        policy: CachePolicy = .default,
        shardCount: Int? = nil,
        weigher: @escaping @Sendable (_ key: String, _ value: Value) -> Int
    ) throws(KVSError) {
        try self.init(
            bound: maximumWeight,
            minimumShare: 65_536,
            policy: policy,
            shardCount: shardCount,
            weigher: weigher
        )
    }

    /// Creates an empty cache whose entries take at most about `maximumBytes` of memory in
    /// all, evicting by `policy` when a write would take it over.
    ///
    /// An entry's weight is ``entryOverheadBytes`` plus the heap bytes of its key and, for
    /// `String`, `[UInt8]` and `Data` values, of its value (as ``estimatedByteCount``
    /// counts them); a value of another type weighs its inline size. For other value
    /// types, give a weigher with ``init(maximumWeight:policy:shardCount:weigher:)``.
    ///
    /// - Parameters:
    ///   - maximumBytes: the bound in bytes, at least 1.
    ///   - policy: how it chooses what to evict.
    ///   - shardCount: as for ``init(maximumWeight:policy:shardCount:weigher:)``.
    /// - Throws: ``KVSError/Code/invalidArgument`` if `maximumBytes` is less than 1,
    ///   ``KVSError/Code/invalidShardCount`` if `shardCount` is out of range.
    /// - Complexity: O(shards).
    /// - Thread safety: the new store may be shared at once.
    public convenience init(
        maximumBytes: Int,
        policy: CachePolicy = .default,
        shardCount: Int? = nil
    ) throws(KVSError) {
        let measure = ValueByteCounter<Value>()
        let inline = MemoryLayout<Value>.size
        try self.init(maximumWeight: maximumBytes, policy: policy, shardCount: shardCount) { key, value in
            Self.entryOverheadBytes + Self.heapBytes(of: key) + inline + measure.heapBytes(of: value)
        }
    }

    /// What ``init(maximumBytes:policy:shardCount:)`` counts for an entry beyond its key's
    /// and value's own bytes: its share of the table (a 16-byte key and a slot for the value
    /// at the table's load factor, a tag, the policy's node) and the policy's record of it.
    public static var entryOverheadBytes: Int { 64 }

    /// The shared initializer of bounded stores.
    private convenience init(
        bound: Int,
        minimumShare: Int,
        policy: CachePolicy,
        shardCount: Int?,
        weigher: (@Sendable (String, Value) -> Int)?
    ) throws(KVSError) {
        guard bound >= 1 else {
            throw KVSError(.invalidArgument, message: "a cache's bound must be at least 1, not \(bound)")
        }
        let shards = shardCount ?? Self.boundedShardCount(bound: bound, minimumShare: minimumShare)
        let engine = try StoreEngine<String, Value>(
            shardCount: shards,
            bound: StoreBound(maximumWeight: bound, weigher: weigher) { policy.make(maximumWeight: $0) }
        )
        self.init(engine: engine)
    }

    /// ``defaultShardCount``, halved while a shard's share of `bound` would be under
    /// `minimumShare` (at least one shard).
    package static func boundedShardCount(bound: Int, minimumShare: Int) -> Int {
        var count = defaultShardCount
        while count > 1, bound / count < minimumShare { count /= 2 }
        return count
    }

    /// The bound this store was created with: its maximum count or weight, or `nil` for an
    /// unbounded store.
    ///
    /// - Complexity: O(shards).
    public var maximumWeight: Int? {
        var total = 0
        for shard in engine.shards {
            guard let share = shard.withLock({ $0.eviction?.policy.maximumWeight }) else { return nil }
            total += share
        }
        return total
    }

    /// The total weight of the entries a bounded store holds (their count under a count
    /// bound), or `nil` for an unbounded store.
    ///
    /// - Complexity: O(shards); locks one shard at a time, so under concurrent writes the
    ///   sum is of shards read at slightly different instants.
    public var totalWeight: Int? {
        var total = 0
        for shard in engine.shards {
            guard let weight = shard.withLock({ $0.eviction?.policy.totalWeight }) else { return nil }
            total += weight
        }
        return total
    }
}
