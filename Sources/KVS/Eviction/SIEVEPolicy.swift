/// SIEVE eviction (Zhang et al., "SIEVE is Simpler than LRU", NSDI 2024): a FIFO queue, a
/// visited bit per entry and a hand that sweeps from the oldest entry towards the newest.
///
/// A hit only sets the entry's visited bit, and writes it only when it is clear, so hits
/// never relink. An eviction moves the hand past visited entries, clearing their bits, and
/// evicts the first unvisited one; the hand stays where it stopped, so entries that survive
/// a sweep keep their place in the queue instead of moving to the back, which is what
/// separates SIEVE from CLOCK (FIFO-reinsertion).
///
/// - Complexity: O(1) per call, amortized over the sweep for `evict()`; no allocation once
///   the node records reached the peak entry count.
package struct SIEVEPolicy: EvictionPolicy {
    package let maximumWeight: Int
    private var nodes = PolicyNodes()
    private var queue = PolicyQueue()
    /// The next entry the sweep looks at; `none` to start again at the front.
    private var hand = PolicyNodes.none

    package init(maximumWeight: Int) {
        self.maximumWeight = max(0, maximumWeight)
    }

    package var totalWeight: Int { queue.weight }
    package var count: Int { queue.count }

    package mutating func recordHit(_ node: PolicyNode) {
        if nodes[node].bits == 0 { nodes[node].bits = 1 }
    }

    /// Starts loading the record of every hit in `reads` before it applies the first, so
    /// that their cache misses overlap.
    package mutating func recordReads(_ reads: UnsafeBufferPointer<PolicyRead>) {
        for read in reads where read.node != PolicyRead.miss { nodes.prefetch(read.node) }
        for read in reads where read.node != PolicyRead.miss { recordHit(read.node) }
    }

    package mutating func recordMiss(hash: UInt64) {}

    package mutating func insert(hash: UInt64, weight: Int) -> PolicyNode {
        let node = nodes.allocate(hash: hash, weight: weight, queue: 0)
        nodes.append(node, to: &queue, id: 0)
        return node
    }

    package mutating func update(_ node: PolicyNode, weight: Int) {
        nodes.setWeight(node, weight, in: &queue)
        recordHit(node)
    }

    package mutating func remove(_ node: PolicyNode) {
        if node == hand { hand = nodes[node].next }
        nodes.unlink(node, from: &queue)
        nodes.release(node)
    }

    package mutating func evict() -> (node: PolicyNode, hash: UInt64)? {
        guard !queue.isEmpty else { return nil }
        var node = hand == PolicyNodes.none ? queue.front : hand
        while nodes[node].bits != 0 {
            nodes[node].bits = 0
            node = nodes[node].next
            if node == PolicyNodes.none { node = queue.front }
        }
        let hash = nodes[node].hash
        hand = nodes[node].next
        nodes.unlink(node, from: &queue)
        nodes.release(node)
        return (node, hash)
    }

    func nodesViolation() -> String? {
        if hand != PolicyNodes.none && !nodes.isLive(hand) { return "the hand is on a free node" }
        return nodes.violation(in: queue, id: 0, name: "SIEVE") ?? nodes.violation(liveOn: queue)
    }

    package mutating func removeAll() {
        nodes.removeAll()
        queue = PolicyQueue()
        hand = PolicyNodes.none
    }
}
