import KVS
import Testing

/// Inserts `keys` (hash = key) into `policy`, evicting while over the bound; returns the
/// nodes by key and the hashes evicted, in order.
private func fill<P: EvictionPolicy>(
    _ policy: inout P,
    _ keys: [UInt64],
    nodes: inout [UInt64: PolicyNode]
) -> [UInt64] {
    var evicted: [UInt64] = []
    for key in keys {
        nodes[key] = policy.insert(hash: key, weight: 1)
        while policy.totalWeight > policy.maximumWeight, let (_, hash) = policy.evict() {
            evicted.append(hash)
            nodes[hash] = nil
        }
    }
    return evicted
}

@Suite("Eviction policies: documented behaviour on small sequences")
struct EvictionPolicyBehaviourTests {
    @Test("LRU evicts in exact least-recently-used order")
    func lruOrder() {
        var policy = LRUPolicy(maximumWeight: 4)
        var nodes: [UInt64: PolicyNode] = [:]
        #expect(fill(&policy, [1, 2, 3, 4], nodes: &nodes).isEmpty)
        policy.recordHit(nodes[2]!)
        policy.update(nodes[1]!, weight: 1)
        #expect(policy.hashesInEvictionOrder == [3, 4, 2, 1])
        #expect(fill(&policy, [5, 6], nodes: &nodes) == [3, 4])
        #expect(policy.hashesInEvictionOrder == [2, 1, 5, 6])
    }

    @Test("SIEVE: a hit sets a bit, the hand skips and clears it and stays put")
    func sieve() {
        var policy = SIEVEPolicy(maximumWeight: 3)
        var nodes: [UInt64: PolicyNode] = [:]
        _ = fill(&policy, [1, 2, 3], nodes: &nodes)
        policy.recordHit(nodes[1]!)
        // The hand starts at the oldest (1), which is visited: it clears the bit and
        // evicts 2; a hit does not move 1 to the back as LRU would.
        #expect(fill(&policy, [4], nodes: &nodes) == [2])
        // The hand stays after 2: it evicts 3 next, although 1 is now older and unvisited.
        #expect(fill(&policy, [5], nodes: &nodes) == [3])
        // Then 4, 5 and 6 in queue order: the queue is 1, 7, 8 with the hand at 7.
        #expect(fill(&policy, [6], nodes: &nodes) == [4])
        #expect(fill(&policy, [7, 8], nodes: &nodes) == [5, 6])
        // The hand reaches the newest entry and wraps to the oldest, 1.
        #expect(policy.evict()?.hash == 7)
        #expect(policy.evict()?.hash == 8)
        #expect(policy.evict()?.hash == 1)
        #expect(policy.evict() == nil)
    }

    @Test("S3-FIFO: one-hit wonders leave from small, twice-hit keys move to main, ghosts return to main")
    func s3fifo() {
        var policy = S3FIFOPolicy(maximumWeight: 10)
        var nodes: [UInt64: PolicyNode] = [:]
        _ = fill(&policy, Array(1...10), nodes: &nodes)
        // Key 1 is hit twice in small: at eviction it moves to main; key 2 leaves.
        policy.recordHit(nodes[1]!)
        policy.recordHit(nodes[1]!)
        #expect(fill(&policy, [11], nodes: &nodes) == [2])
        #expect(policy.isInMain(nodes[1]!))
        // Key 3, hit once, leaves as a one-hit wonder would (the paper's freq > 1).
        policy.recordHit(nodes[3]!)
        #expect(fill(&policy, [12], nodes: &nodes) == [3])
        // Key 2 is in the ghost: back, it enters main directly.
        #expect(fill(&policy, [2], nodes: &nodes) == [4])
        #expect(policy.isInMain(nodes[2]!))
        #expect(!policy.isInMain(nodes[12]!))
    }

    @Test("S3-FIFO: main reinserts an entry while its frequency lasts")
    func s3fifoMain() {
        var policy = S3FIFOPolicy(maximumWeight: 10)
        var nodes: [UInt64: PolicyNode] = [:]
        _ = fill(&policy, Array(1...10), nodes: &nodes)
        for key: UInt64 in 1...9 {
            policy.recordHit(nodes[key]!)
            policy.recordHit(nodes[key]!)
        }
        // 1...9 move to main; 10 leaves; then small holds 11 alone.
        #expect(fill(&policy, [11], nodes: &nodes) == [10])
        #expect(fill(&policy, [12], nodes: &nodes) == [11])
        // Main's entries have frequency 0 after the move: main evicts in FIFO order
        // when small is at its tenth, except an entry hit since, which goes round once.
        policy.recordHit(nodes[1]!)
        let second = policy.evict()
        #expect(second?.hash == 2)
    }

    @Test("W-TinyLFU admits a frequent key over a one-hit wonder, and not the reverse")
    func wtinylfuAdmission() {
        var policy = WTinyLFUPolicy(maximumWeight: 10)
        var nodes: [UInt64: PolicyNode] = [:]
        // A window of one entry and a main of nine, full of one-hit wonders.
        #expect(fill(&policy, Array(100...109), nodes: &nodes).isEmpty)
        // The frequent key enters the window, pushing 109 out against main's oldest (100):
        // equal frequencies, so the newcomer 109 is refused.
        #expect(fill(&policy, [1], nodes: &nodes) == [109])
        for _ in 0..<5 { policy.recordHit(nodes[1]!) }
        // A one-hit wonder pushes key 1 out of the window: its frequency beats the victim's,
        // so key 1 enters main and the victim 100 leaves.
        #expect(fill(&policy, [200], nodes: &nodes) == [100])
        #expect(nodes[1] != nil)
        // The next one-hit wonder pushes 200 out against 101: refused.
        #expect(fill(&policy, [201], nodes: &nodes) == [200])
    }

    @Test("W-TinyLFU's ghosts: a refused key that returns grows the window, an evicted one shrinks it")
    func wtinylfuGhosts() {
        var policy = WTinyLFUPolicy(maximumWeight: 100)
        var nodes: [UInt64: PolicyNode] = [:]
        #expect(policy.windowMaximum == 1)
        _ = fill(&policy, Array(0..<100), nodes: &nodes)
        // 99 leaves the window against 0: equal frequencies, refused.
        #expect(fill(&policy, [500], nodes: &nodes) == [99])
        // 500, seen four times, leaves the window against 0 and wins: main evicts 0.
        for _ in 0..<3 { policy.recordHit(nodes[500]!) }
        #expect(fill(&policy, [501], nodes: &nodes) == [0])
        // 99 comes back while the window's ghost remembers it: the window grows by its weight.
        _ = fill(&policy, [99], nodes: &nodes)
        #expect(policy.windowMaximum == 2)
        // 0 comes back while main's ghost remembers it: the window shrinks again.
        _ = fill(&policy, [0], nodes: &nodes)
        #expect(policy.windowMaximum == 1)
        #expect(policy.totalWeight == 100)
    }
}
