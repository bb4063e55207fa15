/// How a bounded store limits what it holds: a maximum total weight, how an entry is
/// weighed, and the policy that chooses what to evict. The store splits the bound evenly
/// over its shards, and each shard evicts, under its own lock, as soon as a write takes it
/// over its share; so the store as a whole never holds more than `maximumWeight` once a
/// write returns.
package struct StoreBound<Key: StoreKey, Value>: Sendable {
    /// The most weight the store holds.
    package let maximumWeight: Int
    /// The weight of an entry; `nil` when every entry weighs 1.
    package let weigher: (@Sendable (Key, Value) -> Int)?
    /// Makes one shard's policy for a share of the bound.
    package let makePolicy: @Sendable (_ maximumWeight: Int) -> any EvictionPolicy

    package init(
        maximumWeight: Int,
        weigher: (@Sendable (Key, Value) -> Int)?,
        makePolicy: @escaping @Sendable (_ maximumWeight: Int) -> any EvictionPolicy
    ) {
        self.maximumWeight = maximumWeight
        self.weigher = weigher
        self.makePolicy = makePolicy
    }

    /// The part of the bound shard `index` of `shardCount` holds: an even split, the
    /// remainder going one unit each to the first shards, so that the shares add up to
    /// ``maximumWeight``.
    package func share(ofShard index: Int, shardCount: Int) -> Int {
        maximumWeight / shardCount + (index < maximumWeight % shardCount ? 1 : 0)
    }
}
