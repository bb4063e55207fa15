/// A policy that can verify its own structure: the conformance checker of the tests calls
/// ``invariantViolation()`` between operations. Not part of ``EvictionPolicy``, which the
/// store drives; a test hook.
package protocol CheckedEvictionPolicy: EvictionPolicy {
    /// A description of the first broken invariant, or `nil` when the structure is sound.
    ///
    /// - Complexity: O(n) in the number of nodes.
    func invariantViolation() -> String?
}

extension PolicyNodes {
    /// Walks `queue`, checking that its links run both ways, that every node on it carries
    /// `id`, and that its count and weight are the sums of its nodes'.
    func violation(in queue: PolicyQueue, id: UInt8, name: String) -> String? {
        var node = queue.front
        var previous = Self.none
        var count = 0
        var weight = 0
        while node != Self.none {
            let record = records[Int(node)]
            if record.previous != previous { return "\(name): node \(node) links back to \(record.previous)" }
            if record.queue != id { return "\(name): node \(node) is marked for list \(record.queue)" }
            count += 1
            weight += record.weight
            if count > records.count { return "\(name): the list is a cycle" }
            previous = node
            node = record.next
        }
        if previous != queue.back { return "\(name): the back is \(queue.back), the walk ends at \(previous)" }
        if count != queue.count { return "\(name): count \(queue.count), \(count) nodes" }
        if weight != queue.weight { return "\(name): weight \(queue.weight), nodes weigh \(weight)" }
        return nil
    }

    /// Checks that the live nodes are exactly those on `queues`.
    func violation(liveOn queues: PolicyQueue...) -> String? {
        let onQueues = queues.reduce(0) { $0 + $1.count }
        let marked = records.count { $0.queue != Self.free }
        if onQueues != liveCount || marked != liveCount {
            return "live nodes: \(liveCount) counted, \(marked) marked, \(onQueues) on the lists"
        }
        return nil
    }
}

extension LRUPolicy: CheckedEvictionPolicy {
    package func invariantViolation() -> String? {
        nodesViolation()
    }
}

extension SIEVEPolicy: CheckedEvictionPolicy {
    package func invariantViolation() -> String? {
        nodesViolation()
    }
}

extension S3FIFOPolicy: CheckedEvictionPolicy {
    package func invariantViolation() -> String? {
        nodesViolation()
    }
}

extension WTinyLFUPolicy: CheckedEvictionPolicy {
    package func invariantViolation() -> String? {
        if let violation = nodesViolation() { return violation }
        if windowMaximum < 0 || windowMaximum > maximumWeight { return "window share \(windowMaximum)" }
        if protectedMaximum < 0 || protectedMaximum > maximumWeight - windowMaximum {
            return "protected share \(protectedMaximum) with a window of \(windowMaximum)"
        }
        return nil
    }
}
