import CKVSPrefetch

/// The node records of a list-based ``EvictionPolicy``: one record per node, intrusive
/// links, and a free list, so that a policy allocates nothing per call once its arrays have
/// grown to the region's peak entry count.
///
/// A record's `queue` names the list it is on (each policy numbers its own lists); a node on
/// the free list has `queue == PolicyNodes.free`. The lists themselves are ``PolicyQueue``
/// values the policy stores beside the records.
struct PolicyNodes {
    /// One node: the key hash the store finds the entry by, its weight, its links, the list
    /// it is on and a few bits of policy state (a visited bit, a small frequency).
    struct Record {
        var hash: UInt64
        var weight: Int
        var previous: PolicyNode
        var next: PolicyNode
        var queue: UInt8
        var bits: UInt8
    }

    /// The link that ends a list.
    static let none = PolicyNode.max

    /// The `queue` of a node on the free list.
    static let free: UInt8 = .max

    private(set) var records: [Record] = []
    private var freeHead = none

    /// How many nodes are live (not on the free list).
    private(set) var liveCount = 0

    /// Takes a node from the free list, or a new one, for an entry of `hash` and `weight`.
    ///
    /// - Complexity: O(1) amortized; no allocation once the records reached their peak.
    @inline(__always)
    mutating func allocate(hash: UInt64, weight: Int, queue: UInt8) -> PolicyNode {
        liveCount += 1
        let record = Record(hash: hash, weight: weight, previous: Self.none, next: Self.none, queue: queue, bits: 0)
        if freeHead != Self.none {
            let node = freeHead
            freeHead = records[Int(node)].next
            records[Int(node)] = record
            return node
        }
        precondition(records.count < Int(Self.none), "too many policy nodes")
        records.append(record)
        return PolicyNode(records.count - 1)
    }

    /// Returns `node`, already off its list, to the free list.
    @inline(__always)
    mutating func release(_ node: PolicyNode) {
        liveCount -= 1
        records[Int(node)].queue = Self.free
        records[Int(node)].next = freeHead
        freeHead = node
    }

    /// Forgets every node; keeps the records' storage.
    mutating func removeAll() {
        records.removeAll(keepingCapacity: true)
        freeHead = Self.none
        liveCount = 0
    }

    @inline(__always)
    subscript(node: PolicyNode) -> Record {
        get { records[Int(node)] }
        _modify { yield &records[Int(node)] }
    }

    /// Starts loading the record of `node`, for a list operation about to write it.
    ///
    /// - Complexity: O(1); it reads nothing (a node out of range prefetches a useless line).
    @inline(__always)
    func prefetch(_ node: PolicyNode) {
        records.withUnsafeBufferPointer { records in
            guard let base = records.baseAddress else { return }
            ckvs_prefetch_for_write(base + Int(truncatingIfNeeded: node))
        }
    }

    /// Whether `node` is live: handed out and not yet evicted or removed.
    func isLive(_ node: PolicyNode) -> Bool {
        Int(node) < records.count && records[Int(node)].queue != Self.free
    }

    /// Appends `node` at the back (the newest end) of `queue`, whose id is `id`.
    @inline(__always)
    mutating func append(_ node: PolicyNode, to queue: inout PolicyQueue, id: UInt8) {
        records.withUnsafeMutableBufferPointer { Self.append(node, to: &queue, id: id, in: $0) }
    }

    /// Unlinks `node` from `queue`, the list it is on.
    @inline(__always)
    mutating func unlink(_ node: PolicyNode, from queue: inout PolicyQueue) {
        records.withUnsafeMutableBufferPointer { Self.unlink(node, from: &queue, in: $0) }
    }

    /// Moves `node` to the back of `queue`, the list it is on.
    @inline(__always)
    mutating func moveToBack(_ node: PolicyNode, in queue: inout PolicyQueue) {
        guard queue.back != node else { return }
        records.withUnsafeMutableBufferPointer { records in
            let id = records[Int(node)].queue
            Self.unlink(node, from: &queue, in: records)
            Self.append(node, to: &queue, id: id, in: records)
        }
    }

    /// Moves `node` from the list `from` to the back of `to`, whose id is `id`.
    @inline(__always)
    mutating func move(_ node: PolicyNode, from: inout PolicyQueue, to: inout PolicyQueue, id: UInt8) {
        records.withUnsafeMutableBufferPointer { records in
            Self.unlink(node, from: &from, in: records)
            Self.append(node, to: &to, id: id, in: records)
        }
    }

    // The list operations work on the records' buffer: one uniqueness check per operation
    // rather than one per field written. Nodes come from `allocate`, so they are in bounds.

    @inline(__always)
    private static func append(
        _ node: PolicyNode,
        to queue: inout PolicyQueue,
        id: UInt8,
        in records: UnsafeMutableBufferPointer<Record>
    ) {
        let index = Int(truncatingIfNeeded: node)
        records[index].queue = id
        records[index].previous = queue.back
        records[index].next = none
        if queue.back == none { queue.front = node } else { records[Int(truncatingIfNeeded: queue.back)].next = node }
        queue.back = node
        queue.weight += records[index].weight
        queue.count += 1
    }

    @inline(__always)
    private static func unlink(
        _ node: PolicyNode,
        from queue: inout PolicyQueue,
        in records: UnsafeMutableBufferPointer<Record>
    ) {
        let record = records[Int(truncatingIfNeeded: node)]
        if record.previous == none {
            queue.front = record.next
        } else {
            records[Int(truncatingIfNeeded: record.previous)].next = record.next
        }
        if record.next == none {
            queue.back = record.previous
        } else {
            records[Int(truncatingIfNeeded: record.next)].previous = record.previous
        }
        queue.weight -= record.weight
        queue.count -= 1
    }

    /// Sets the weight of `node`, on `queue`, to `weight`.
    @inline(__always)
    mutating func setWeight(_ node: PolicyNode, _ weight: Int, in queue: inout PolicyQueue) {
        queue.weight += weight - records[Int(node)].weight
        records[Int(node)].weight = weight
    }
}

/// A doubly linked list threaded through ``PolicyNodes``: its ends, length and weight.
/// The front is the oldest node, the back the newest.
struct PolicyQueue {
    var front = PolicyNodes.none
    var back = PolicyNodes.none
    var weight = 0
    var count = 0

    var isEmpty: Bool { front == PolicyNodes.none }
}
