import ConsistentHashing
import KVS
import KVSTestSupport
import Testing

/// The ring's properties: deterministic, in range, balanced, and moving few keys when a
/// shard is added or removed.
@Suite struct HashRingTests {
    static let keys = (0..<100_000).map { "user:\($0)" }

    @Test func fnv1a64MatchesThePublishedTestVectors() {
        #expect(FNV1a64.hash("".utf8) == 0xcbf2_9ce4_8422_2325)
        #expect(FNV1a64.hash("a".utf8) == 0xaf63_dc4c_8601_ec8c)
        #expect(FNV1a64.hash("foobar".utf8) == 0x8594_4171_f739_67e8)
    }

    @Test func keyHashIsTheSameForCanonicallyEquivalentKeys() {
        #expect("caf\u{E9}" == "cafe\u{301}")  // Swift says these are one key…
        #expect(KeyHash.of("caf\u{E9}") == KeyHash.of("cafe\u{301}"))  // …so they hash alike
        #expect(KeyHash.of("\u{212B}") == KeyHash.of("\u{C5}"))  // Angstrom sign and Å
        #expect(KeyHash.of("cafe") != KeyHash.of("caf\u{E9}"))
        #expect(KeyHash.of("user:1") == KeyHash.mix(FNV1a64.hash("user:1".utf8)))  // ASCII: hashed as is
    }

    /// Pinned values: a hash seeded per process (Swift's `Hasher`) would change them on
    /// every run; FNV-1a and the ring's layout must not.
    @Test(.dedicatedThread) func isDeterministicAcrossRingsAndRuns() throws {
        let ring = try #require(HashRing(shardCount: 8, virtualNodesPerShard: 160))
        let again = try #require(HashRing(shardCount: 8, virtualNodesPerShard: 160))
        #expect(Self.keys.allSatisfy { ring.shardIndex(for: $0) == again.shardIndex(for: $0) })
        #expect((0..<12).map { ring.shardIndex(for: "user:\($0)") } == Self.pinnedShards)
    }

    /// `shardIndex(for: "user:0" … "user:11")` on an 8 × 160 ring, as first computed.
    static let pinnedShards = [6, 1, 3, 4, 0, 4, 7, 7, 4, 6, 0, 4]

    @Test(.dedicatedThread, arguments: [1, 2, 3, 8, 64])
    func everyIndexIsInRange(shardCount: Int) throws {
        let ring = try #require(HashRing(shardCount: shardCount, virtualNodesPerShard: 50))
        let indices = Self.keys.prefix(20_000).map(ring.shardIndex(for:))
        #expect(indices.allSatisfy { (0..<shardCount).contains($0) })
        #expect(Set(indices).count == shardCount, "a shard got no keys")
    }

    /// With v virtual nodes a shard's share of the ring varies by about 1/sqrt(v) of the
    /// mean (8 % for 160); the bound below, 25 % either way and a standard deviation
    /// under 10 % of the mean, leaves room for the largest of 8 shards.
    @Test(.dedicatedThread) func spreadsKeysWithinTheStatedBound() throws {
        let ring = try #require(HashRing(shardCount: 8, virtualNodesPerShard: 160))
        let d = ShardDistribution(keys: Self.keys, shardCount: 8, shardIndex: ring.shardIndex(for:))
        #expect(d.total == Self.keys.count)
        #expect(Double(d.max) <= 1.25 * d.mean, "max \(d.max), mean \(d.mean)")
        #expect(Double(d.min) >= 0.75 * d.mean, "min \(d.min), mean \(d.mean)")
        #expect(d.standardDeviation <= 0.10 * d.mean, "stddev \(d.standardDeviation)")
    }

    @Test(.dedicatedThread) func moreVirtualNodesSpreadKeysMoreEvenly() throws {
        let coarse = try #require(HashRing(shardCount: 8, virtualNodesPerShard: 4))
        let fine = try #require(HashRing(shardCount: 8, virtualNodesPerShard: 1_000))
        let coarseSpread = ShardDistribution(keys: Self.keys, shardCount: 8, shardIndex: coarse.shardIndex(for:))
        let fineSpread = ShardDistribution(keys: Self.keys, shardCount: 8, shardIndex: fine.shardIndex(for:))
        #expect(fineSpread.standardDeviation < coarseSpread.standardDeviation)
        #expect(fineSpread.maxOverMean <= 1.10)
    }

    /// Adding shard n moves only keys to it, about 1/(n+1) of them; removing shard n-1
    /// moves only its keys, about 1/n. Modulo hashing moves most keys either way.
    @Test(.dedicatedThread, arguments: [4, 8, 16])
    func addingOrRemovingAShardMovesFewKeys(shardCount n: Int) throws {
        let ring = try #require(HashRing(shardCount: n))
        let grown = try #require(HashRing(shardCount: n + 1))
        let shrunk = try #require(HashRing(shardCount: n - 1))
        let add = KeyMovement(keys: Self.keys, before: ring.shardIndex(for:), after: grown.shardIndex(for:))
        let remove = KeyMovement(keys: Self.keys, before: ring.shardIndex(for:), after: shrunk.shardIndex(for:))

        #expect(add.destinations == [n])
        #expect(remove.sources == [n - 1])
        #expect(add.fraction > 0.5 / Double(n + 1) && add.fraction < 1.5 / Double(n + 1), "add moved \(add.fraction)")
        #expect(
            remove.fraction > 0.5 / Double(n) && remove.fraction < 1.5 / Double(n),
            "remove moved \(remove.fraction)"
        )

        let modulo = try #require(ModuloSharding(shardCount: n))
        let moduloGrown = try #require(ModuloSharding(shardCount: n + 1))
        let moduloAdd = KeyMovement(
            keys: Self.keys,
            before: modulo.shardIndex(for:),
            after: moduloGrown.shardIndex(for:)
        )
        #expect(moduloAdd.fraction > 0.7, "modulo moved only \(moduloAdd.fraction)")
    }

    @Test func rejectsImpossibleRings() {
        #expect(HashRing(shardCount: 0) == nil)
        #expect(HashRing(shardCount: 4, virtualNodesPerShard: 0) == nil)
        #expect(HashRing(shardCount: Int.max, virtualNodesPerShard: 2) == nil)
        #expect(ModuloSharding(shardCount: 0) == nil)
    }

    @Test func worksAsTheStoresHashFunction() throws {
        let ring = try #require(HashRing(shardCount: 8))
        let store = try KeyValueStore<String>(shardCount: ring.shardCount, hash: ring.shardIndex(for:))
        defer { store.shutdown() }
        let items = Dictionary(uniqueKeysWithValues: Self.keys.prefix(5_000).map { ($0, "v-\($0)") })
        #expect(try store.batchSet(items).successful == 5_000)
        #expect(try store.batchGet(Array(items.keys)).values == items)
        try store.set("caf\u{E9}", "coffee")
        #expect(try store.get("cafe\u{301}") == "coffee")  // found in the same shard
        try store.delete("cafe\u{301}")
        #expect(!store.exists("caf\u{E9}"))
    }
}
