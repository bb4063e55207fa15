/// Exact least-recently-used eviction: one list in access order; a hit or a write moves the
/// entry to the back, an eviction takes the front.
///
/// The baseline the other policies are measured against (docs/design/eviction-policy.md).
///
/// - Complexity: O(1) per call; no allocation once the node records reached the peak entry
///   count.
package struct LRUPolicy: EvictionPolicy {
    package let maximumWeight: Int
    private var nodes = PolicyNodes()
    private var queue = PolicyQueue()

    package init(maximumWeight: Int) {
        self.maximumWeight = max(0, maximumWeight)
    }

    package var totalWeight: Int { queue.weight }
    package var count: Int { queue.count }

    package mutating func recordHit(_ node: PolicyNode) {
        nodes.moveToBack(node, in: &queue)
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
        nodes.moveToBack(node, in: &queue)
    }

    package mutating func remove(_ node: PolicyNode) {
        nodes.unlink(node, from: &queue)
        nodes.release(node)
    }

    package mutating func evict() -> (node: PolicyNode, hash: UInt64)? {
        let node = queue.front
        guard node != PolicyNodes.none else { return nil }
        let hash = nodes[node].hash
        remove(node)
        return (node, hash)
    }

    func nodesViolation() -> String? {
        nodes.violation(in: queue, id: 0, name: "LRU") ?? nodes.violation(liveOn: queue)
    }

    package mutating func removeAll() {
        nodes.removeAll()
        queue = PolicyQueue()
    }
}

extension LRUPolicy {
    /// The hashes of the entries from the least to the most recently used (tests).
    package var hashesInEvictionOrder: [UInt64] {
        var result: [UInt64] = []
        var node = queue.front
        while node != PolicyNodes.none {
            result.append(nodes[node].hash)
            node = nodes[node].next
        }
        return result
    }
}
