/// What ``ShardingDemo/run(_:)`` measured.
package struct ShardingReport: Sendable {
    /// What the store reported after loading the keys through the ring.
    package struct StoreCheck: Sendable, Equatable {
        /// Keys the batch writes stored.
        package let stored: Int
        /// Keys read back with the value written.
        package let readBack: Int
        /// The store's `count` (the demo's keys only).
        package let count: Int
        /// Whether a key stored as `"caf\u{E9}"` was found as `"cafe\u{301}"`.
        package let equivalentKeyFound: Bool
    }

    /// What was measured.
    package let configuration: ShardingDemo.Configuration
    /// Keys per shard on the ring.
    package let ringDistribution: ShardDistribution
    /// Keys per shard with `hash % n`, for comparison.
    package let moduloDistribution: ShardDistribution
    /// Keys that change shard on the ring when shard `n` is added.
    package let ringOnAdd: KeyMovement
    /// Keys that change shard with modulo hashing from `n` to `n + 1` shards.
    package let moduloOnAdd: KeyMovement
    /// Keys that change shard on the ring when shard `n - 1` is removed.
    package let ringOnRemove: KeyMovement
    /// Keys that change shard with modulo hashing from `n` to `n - 1` shards.
    package let moduloOnRemove: KeyMovement
    /// The store loaded through the ring.
    package let storeCheck: StoreCheck
}
