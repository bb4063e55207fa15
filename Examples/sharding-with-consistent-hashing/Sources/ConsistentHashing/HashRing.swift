/// A consistent-hash ring that maps keys to shards `0..<shardCount`.
///
/// Each shard owns `virtualNodesPerShard` points on a ring of 64-bit positions (the
/// hash of `"shard-<s>#<v>"`). A key belongs to the first point at or after its own
/// hash, going round past the top. Because a shard's points depend only on its own
/// number, the ring for `n + 1` shards is the ring for `n` shards plus the new shard's
/// points: adding a shard moves only the keys that land just before its points (about
/// `1 / (n + 1)` of them, all to the new shard), and removing shard `n - 1` moves only
/// that shard's keys. Modulo hashing (`hash % n`), by contrast, moves about `n / (n + 1)`
/// of all keys when `n` changes.
///
/// Use it as a store's shard function:
///
/// ```swift
/// let ring = HashRing(shardCount: 8)!
/// let store = try KeyValueStore<String>(shardCount: ring.shardCount, hash: ring.shardIndex(for:))
/// ```
///
/// `shardIndex(for:)` hashes canonically equivalent keys alike (see ``KeyHash``), as
/// the store requires of a custom hash.
///
/// - Thread safety: an immutable value; share it between threads freely.
package struct HashRing: Sendable {
    /// The number of shards; ``shardIndex(for:)`` returns an index in `0..<shardCount`.
    package let shardCount: Int
    /// How many points each shard owns on the ring. More points spread keys more evenly
    /// (the spread of shard sizes shrinks like `1 / sqrt(virtualNodesPerShard)`), at the
    /// cost of a larger ring.
    package let virtualNodesPerShard: Int

    /// The points' positions, in increasing order.
    private let positions: [UInt64]
    /// `owners[i]` is the shard that owns `positions[i]`.
    private let owners: [Int]

    /// Builds the ring, or returns `nil` if either count is below 1 or the ring would
    /// have more than 100 million points.
    ///
    /// - Complexity: O(p log p) for p = `shardCount × virtualNodesPerShard` points.
    package init?(shardCount: Int, virtualNodesPerShard: Int = 160) {
        let (pointCount, overflow) = shardCount.multipliedReportingOverflow(by: virtualNodesPerShard)
        guard shardCount >= 1, virtualNodesPerShard >= 1, !overflow, pointCount <= 100_000_000 else { return nil }
        self.shardCount = shardCount
        self.virtualNodesPerShard = virtualNodesPerShard

        var points: [(position: UInt64, shard: Int)] = []
        points.reserveCapacity(pointCount)
        for shard in 0..<shardCount {
            for node in 0..<virtualNodesPerShard {
                points.append((KeyHash.of("shard-\(shard)#\(node)"), shard))
            }
        }
        // Ties (two points at one position, about 1 chance in 10^10 here) go to the lower
        // shard number, so the ring never depends on the order it was built in.
        points.sort { ($0.position, $0.shard) < ($1.position, $1.shard) }
        positions = points.map(\.position)
        owners = points.map(\.shard)
    }

    /// The shard that owns `key`: the owner of the first point at or after the key's
    /// hash, wrapping round to the first point.
    ///
    /// - Returns: an index in `0..<shardCount`; the same for keys that compare equal.
    /// - Complexity: O(k + log p) for a key of k bytes and p points.
    package func shardIndex(for key: String) -> Int {
        owners[pointIndex(atOrAfter: KeyHash.of(key))]
    }

    /// The index of the first point whose position is at least `hash`, or 0 if there is
    /// none (the ring wraps round). A binary search.
    private func pointIndex(atOrAfter hash: UInt64) -> Int {
        var low = 0
        var high = positions.count
        while low < high {
            let middle = low + (high - low) / 2
            if positions[middle] < hash {
                low = middle + 1
            } else {
                high = middle
            }
        }
        return low == positions.count ? 0 : low
    }
}
