import KVS
import Testing

/// First in, first out: the simplest policy that makes eviction order predictable, so
/// these tests check the store's side of eviction (counts, weights, expiry, snapshots,
/// batches, transactions) apart from any real policy's choices.
struct FIFOTestPolicy: EvictionPolicy {
    let maximumWeight: Int
    private(set) var totalWeight = 0
    private var order: [PolicyNode] = []  // insertion order, removed nodes included
    private var live: [PolicyNode: (hash: UInt64, weight: Int)] = [:]
    private var nextNode: PolicyNode = 0
    private var freeNodes: [PolicyNode] = []
    private(set) var hits = 0
    private(set) var misses = 0
    /// Hits on nodes the policy no longer held (a read handed over after its entry left).
    private(set) var staleHits = 0
    /// Every call, in order: "hit N", "miss", "insert N", "update N", "remove N", "evict N".
    private(set) var log: [String] = []

    init(maximumWeight: Int) { self.maximumWeight = maximumWeight }

    var count: Int { live.count }

    mutating func recordHit(_ node: PolicyNode) {
        if live[node] == nil { staleHits += 1 }
        hits += 1
        log.append("hit \(node)")
    }

    mutating func recordMiss(hash: UInt64) {
        misses += 1
        log.append("miss")
    }

    mutating func insert(hash: UInt64, weight: Int) -> PolicyNode {
        let node: PolicyNode
        if let reused = freeNodes.popLast() {
            node = reused
        } else {
            node = nextNode
            nextNode += 1
        }
        live[node] = (hash, weight)
        order.append(node)
        totalWeight += weight
        log.append("insert \(node)")
        return node
    }

    mutating func update(_ node: PolicyNode, weight: Int) {
        guard let old = live[node] else { preconditionFailure("an update of a node the policy does not hold") }
        totalWeight += weight - old.weight
        live[node] = (old.hash, weight)
        log.append("update \(node)")
    }

    mutating func remove(_ node: PolicyNode) {
        guard let old = live.removeValue(forKey: node) else { preconditionFailure("removal of an unknown node") }
        totalWeight -= old.weight
        order.removeAll { $0 == node }
        freeNodes.append(node)
        log.append("remove \(node)")
    }

    mutating func evict() -> (node: PolicyNode, hash: UInt64)? {
        guard let node = order.first, let entry = live[node] else { return nil }
        remove(node)
        return (node, entry.hash)
    }

    mutating func removeAll() {
        live = [:]
        order = []
        totalWeight = 0
    }
}

@Suite("Bounded store engine: the store's side of eviction")
struct StoreEngineBoundTests {
    static func engine(
        shards: Int = 4,
        maximum: Int,
        weigher: (@Sendable (String, String) -> Int)? = nil,
        clock: ManualClock = ManualClock()
    ) throws -> StoreEngine<String, String> {
        try StoreEngine<String, String>(
            shardCount: shards,
            clock: .manual(clock),
            sweepInterval: .seconds(3600),
            bound: StoreBound(maximumWeight: maximum, weigher: weigher) { FIFOTestPolicy(maximumWeight: $0) }
        )
    }

    @Test func sharesAddUpToTheBound() {
        let bound = StoreBound<String, String>(maximumWeight: 103, weigher: nil) { FIFOTestPolicy(maximumWeight: $0) }
        let shares = (0..<4).map { bound.share(ofShard: $0, shardCount: 4) }
        #expect(shares == [26, 26, 26, 25])
        #expect(shares.reduce(0, +) == 103)
    }

    @Test func aCountBoundHoldsAfterEveryWrite() throws {
        let engine = try Self.engine(maximum: 100)
        defer { engine.close() }
        for i in 0..<1_000 {
            try engine.set("k\(i)", "v\(i)")
            #expect(engine.count <= 100)
        }
        engine.checkInvariants()
        #expect(engine.count == 100, "every shard full: 25 each")
        // FIFO within each shard: the last 25 keys written to each shard are there.
        let present = (0..<1_000).filter { engine.exists("k\($0)") }
        #expect(present.count == 100)
        #expect(present.allSatisfy { $0 >= 700 }, "only recent keys survive a FIFO")
    }

    @Test func replacingAValueEvictsNothing() throws {
        let engine = try Self.engine(shards: 1, maximum: 3)
        defer { engine.close() }
        for key in ["a", "b", "c"] { try engine.set(key, key) }
        for _ in 0..<10 { try engine.set("b", "again") }
        #expect(engine.count == 3)
        #expect(try engine.get("a") == "a")
        try engine.set("d", "d")  // the first in goes
        #expect(!engine.exists("a"))
        #expect(try engine.get("b") == "again")
        engine.checkInvariants()
    }

    @Test func aWeightBoundCountsEveryChangeOfWeight() throws {
        let engine = try Self.engine(shards: 1, maximum: 10, weigher: { _, value in value.utf8.count })
        defer { engine.close() }
        try engine.set("a", "xxxx")  // 4
        try engine.set("b", "xxxx")  // 8
        try engine.set("a", "xx")  // 6: a shrank
        try engine.set("c", "xxxx")  // 10: fits exactly
        #expect(engine.count == 3)
        engine.checkInvariants()
        try engine.set("b", "xxxxxx")  // 12: over; the oldest, a, goes (10)
        #expect(!engine.exists("a"))
        #expect(engine.exists("b") && engine.exists("c"))
        engine.checkInvariants()
        try engine.set("huge", String(repeating: "x", count: 11))  // heavier than the bound
        #expect(!engine.exists("huge"), "an entry heavier than its shard's bound is not kept")
        #expect(engine.count == 0, "and it took everything older with it")
        engine.checkInvariants()
    }

    @Test func deletesAndExpiryReleaseTheirNodes() throws {
        let clock = ManualClock()
        let engine = try Self.engine(shards: 2, maximum: 50, clock: clock)
        defer { engine.close() }
        for i in 0..<40 { try engine.set("t\(i)", "v", expiresAt: clock.now() + 1_000) }
        for i in 0..<10 { try engine.set("p\(i)", "v") }
        for i in 0..<5 { try engine.delete("p\(i)") }
        engine.checkInvariants()
        clock.advance(by: .microseconds(2))
        #expect(throws: KVSError.self) { try engine.get("t0") }  // passive expiry: one node released
        #expect(engine.sweepExpired() >= 39, "the sweep removes what passive expiry left")
        #expect(engine.count == 5)
        engine.checkInvariants()
        for i in 0..<100 { try engine.set("n\(i)", "v") }
        #expect(engine.count == 50)
        engine.checkInvariants()
    }

    @Test func readsReachThePolicy() throws {
        let engine = try Self.engine(shards: 1, maximum: 10)
        defer { engine.close() }
        try engine.set("a", "1")
        _ = try engine.get("a")
        _ = try engine.withValue("a") { $0.count }
        #expect(throws: KVSError.self) { try engine.get("missing") }
        let (values, _) = try engine.batchGet(["a", "missing", "a"])
        #expect(values.count == 1)
        let policy = engine.shards[0].withLock { state in
            state.eviction?.drainReads()
            return state.eviction?.policy as? FIFOTestPolicy
        }
        #expect(policy?.hits == 4)
        #expect(policy?.misses == 2)
    }

    @Test func bufferedReadsReachThePolicyBeforeItsEntriesChange() throws {
        let clock = ManualClock()
        let engine = try Self.engine(shards: 1, maximum: 3, clock: clock)
        defer { engine.close() }
        try engine.set("a", "1")  // insert 0
        try engine.set("b", "1", expiresAt: clock.now() + 1_000)  // insert 1
        _ = try engine.get("a")
        #expect(throws: KVSError.self) { try engine.get("x") }
        try engine.delete("a")  // the hit on 0 first, then its removal
        _ = try engine.get("b")
        clock.advance(by: .microseconds(2))
        engine.sweepExpired()  // the hit on 1 first, then the expiry
        try engine.set("c", "1")  // reuses a node
        for _ in 0..<100 { _ = try engine.get("c") }  // fills and flushes the buffer
        try engine.set("d", "1")
        let policy = engine.shards[0].withLock { $0.eviction?.policy as? FIFOTestPolicy }
        #expect(policy?.staleHits == 0)
        #expect(
            policy?.log
                == ["insert 0", "insert 1", "hit 0", "miss", "remove 0", "hit 1", "remove 1", "insert 1"]
                + Array(repeating: "hit 1", count: 100) + ["insert 0"]
        )
    }

    @Test func batchesTransactionsAndUpdatesEvictToo() throws {
        let engine = try Self.engine(shards: 4, maximum: 40)
        defer { engine.close() }
        let items = (0..<200).map { (key: "b\($0)", value: "v") }
        let (stored, errors) = try engine.batchSet(items)
        #expect(stored == 200 && errors.isEmpty)
        #expect(engine.count == 40)
        engine.checkInvariants()
        for i in 0..<100 {
            _ = try engine.withEntry("u\(i)") { entry, _ in entry = Entry(value: "u", expiresAt: 0) }
            #expect(engine.count <= 40)
        }
        engine.checkInvariants()
        let store = KeyValueStore(engine: engine)
        for i in 0..<50 {
            try store.transaction { transaction throws(KVSError) in
                try transaction.set("x\(i)", "1")
                try transaction.set("y\(i)", "2")
            }
            #expect(engine.count <= 40)
        }
        engine.checkInvariants()
    }

    @Test func loadingMoreThanTheBoundKeepsTheBound() throws {
        let engine = try Self.engine(shards: 4, maximum: 20)
        defer { engine.close() }
        let unbounded = try StoreEngine<String, String>(shardCount: 4)
        defer { unbounded.close() }
        for i in 0..<100 { try unbounded.set("s\(i)", "v") }
        let tables = unbounded.shards.map { shard in shard.withLock { $0.table } }
        engine.replaceAll(with: tables)
        #expect(engine.count == 20)
        engine.checkInvariants()
        engine.replaceAll(with: Array(repeating: [:], count: 4))
        #expect(engine.count == 0)
        engine.checkInvariants()
        for i in 0..<30 { try engine.set("again\(i)", "v") }
        #expect(engine.count == 20)
        engine.checkInvariants()
    }

    @Test func concurrentWritersNeverSeeTheBoundExceeded() async throws {
        let engine = try Self.engine(shards: 8, maximum: 64)
        defer { engine.close() }
        let overBound = await withTaskGroup(of: Int.self) { group in
            for worker in 0..<4 {
                group.addTask {
                    var seen = 0
                    for i in 0..<5_000 {
                        let key = "w\(worker)-\(i % 300)"
                        if i % 7 == 0 {
                            try? engine.delete(key)
                        } else if i % 3 == 0 {
                            _ = try? engine.get(key)
                        } else {
                            try? engine.set(key, "v")
                        }
                        if engine.count > 64 { seen += 1 }
                    }
                    return seen
                }
            }
            return await group.reduce(0, +)
        }
        #expect(overBound == 0)
        engine.checkInvariants()
    }
}
