import KVS

/// The program's work, apart from option parsing and printing: load keys into a store
/// sharded by a ``HashRing``, measure how evenly they spread, and measure how many keys
/// move when a shard is added or removed, against modulo hashing.
package enum ShardingDemo {
    /// What to measure.
    package struct Configuration: Sendable {
        /// Shards in the store and on the ring (at least 2, so that one can be removed).
        package var shardCount = 8
        /// Points per shard on the ring.
        package var virtualNodesPerShard = 160
        /// How many keys (`user:0`, `user:1`, …) to load.
        package var keyCount = 100_000

        /// The defaults: 8 shards, 160 virtual nodes each, 100,000 keys.
        package init() {}
    }

    /// A configuration the demo cannot run, with a message a person can act on.
    package struct ConfigurationError: Error, CustomStringConvertible {
        /// What is wrong.
        package let description: String
    }

    /// Runs the demo.
    ///
    /// - Throws: ``ConfigurationError`` for fewer than 2 shards, fewer than 1 virtual node
    ///   or key, or a ring of more than 100 million points; a `KVSError` if the store
    ///   fails (it should not).
    /// - Complexity: O(n log p) for n keys and p ring points.
    package static func run(_ configuration: Configuration) throws -> ShardingReport {
        let n = configuration.shardCount
        guard n >= 2 else {
            throw ConfigurationError(description: "--shards must be at least 2 (one is removed in the demo), got \(n)")
        }
        guard configuration.keyCount >= 1 else {
            throw ConfigurationError(description: "--keys must be at least 1, got \(configuration.keyCount)")
        }
        let v = configuration.virtualNodesPerShard
        guard let ring = HashRing(shardCount: n, virtualNodesPerShard: v),
            let grown = HashRing(shardCount: n + 1, virtualNodesPerShard: v),
            let shrunk = HashRing(shardCount: n - 1, virtualNodesPerShard: v),
            let modulo = ModuloSharding(shardCount: n),
            let moduloGrown = ModuloSharding(shardCount: n + 1),
            let moduloShrunk = ModuloSharding(shardCount: n - 1)
        else {
            throw ConfigurationError(
                description:
                    "--virtual-nodes must be at least 1 and shards × virtual nodes at most 100,000,000, got \(n) × \(v)"
            )
        }

        let keys = (0..<configuration.keyCount).map { "user:\($0)" }
        let storeCheck = try loadIntoStore(keys: keys, ring: ring)

        return ShardingReport(
            configuration: configuration,
            ringDistribution: ShardDistribution(keys: keys, shardCount: n, shardIndex: ring.shardIndex(for:)),
            moduloDistribution: ShardDistribution(keys: keys, shardCount: n, shardIndex: modulo.shardIndex(for:)),
            ringOnAdd: KeyMovement(keys: keys, before: ring.shardIndex(for:), after: grown.shardIndex(for:)),
            moduloOnAdd: KeyMovement(keys: keys, before: modulo.shardIndex(for:), after: moduloGrown.shardIndex(for:)),
            ringOnRemove: KeyMovement(keys: keys, before: ring.shardIndex(for:), after: shrunk.shardIndex(for:)),
            moduloOnRemove: KeyMovement(
                keys: keys,
                before: modulo.shardIndex(for:),
                after: moduloShrunk.shardIndex(for:)
            ),
            storeCheck: storeCheck
        )
    }

    /// Puts every key in a store that shards by `ring`, then reads them back, to show the
    /// ring in its real job. Also stores one key in NFC and reads it in NFD.
    static func loadIntoStore(keys: [String], ring: HashRing) throws -> ShardingReport.StoreCheck {
        let store = try KeyValueStore<String>(shardCount: ring.shardCount, hash: ring.shardIndex(for:))
        defer { store.shutdown() }

        var stored = 0
        var start = 0
        while start < keys.count {  // batches of 1,000: one lock per shard per batch
            let chunk = keys[start..<min(start + 1_000, keys.count)]
            stored += try store.batchSet(Dictionary(uniqueKeysWithValues: chunk.map { ($0, "value of \($0)") }))
                .successful
            start += chunk.count
        }
        let readBack = try store.batchGet(keys).values.count { $0.value == "value of \($0.key)" }

        // "café" spelled two ways: precomposed é (NFC) and e + U+0301 (NFD). Swift says
        // they are equal, so the ring must place them on one shard for the get to find it.
        try store.set("caf\u{E9}", "coffee")
        let equivalentKeyFound = (try? store.get("cafe\u{301}")) == "coffee"

        return ShardingReport.StoreCheck(
            stored: stored,
            readBack: readBack,
            count: store.count - 1,
            equivalentKeyFound: equivalentKeyFound
        )
    }
}
