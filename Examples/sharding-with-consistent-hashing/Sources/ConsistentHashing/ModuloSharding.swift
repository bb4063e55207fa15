/// The baseline a hash ring is compared with: shard = `hash(key) % shardCount`.
///
/// It spreads keys as evenly as the hash does, but changing `shardCount` sends almost
/// every key to a different shard.
package struct ModuloSharding: Sendable {
    /// The number of shards; ``shardIndex(for:)`` returns an index in `0..<shardCount`.
    package let shardCount: Int

    /// Creates the baseline, or returns `nil` if `shardCount` is below 1.
    package init?(shardCount: Int) {
        guard shardCount >= 1 else { return nil }
        self.shardCount = shardCount
    }

    /// The key's shard: its ``KeyHash`` modulo the shard count.
    ///
    /// - Complexity: O(k) for a key of k bytes.
    package func shardIndex(for key: String) -> Int {
        Int(KeyHash.of(key) % UInt64(shardCount))
    }
}
