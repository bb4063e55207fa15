/// How many keys each shard holds, with the figures that say how even that is.
package struct ShardDistribution: Sendable, Equatable {
    /// `counts[s]` is the number of keys on shard `s`.
    package let counts: [Int]

    /// Counts how many of `keys` each shard gets under `shardIndex`.
    ///
    /// - Precondition: `shardIndex` returns indices in `0..<shardCount`, and `shardCount >= 1`.
    /// - Complexity: O(n) calls of `shardIndex`.
    package init(keys: [String], shardCount: Int, shardIndex: (String) -> Int) {
        var counts = [Int](repeating: 0, count: shardCount)
        for key in keys {
            counts[shardIndex(key)] += 1
        }
        self.counts = counts
    }

    /// The number of keys on all shards together.
    package var total: Int { counts.reduce(0, +) }
    /// The fewest keys on one shard.
    package var min: Int { counts.min() ?? 0 }
    /// The most keys on one shard.
    package var max: Int { counts.max() ?? 0 }
    /// The average number of keys per shard.
    package var mean: Double { counts.isEmpty ? 0 : Double(total) / Double(counts.count) }

    /// The population standard deviation of the shard sizes.
    package var standardDeviation: Double {
        guard !counts.isEmpty else { return 0 }
        let mean = self.mean
        let squares = counts.reduce(0.0) { sum, count in
            let difference = Double(count) - mean
            return sum + difference * difference
        }
        return (squares / Double(counts.count)).squareRoot()
    }

    /// The largest shard's size over the average: 1.0 is perfectly even, 1.10 means the
    /// busiest shard has 10 % more keys than its fair share.
    package var maxOverMean: Double { mean == 0 ? 0 : Double(max) / mean }
}
