import DequeModule

/// A list's nodes, head first: one node held inline while the list has at most one (every
/// listpack, and a quicklist of one node), a `Deque` from two on. A small list so costs no
/// deque buffer (a 64-byte allocation per key).
///
/// Invariant: `many` is empty or holds at least two nodes; when it is empty the nodes are
/// `single` (none or one).
struct ListNodes: RandomAccessCollection, MutableCollection, Sendable {
    private var single: ListNode?
    private var many: Deque<ListNode>

    init() {
        single = nil
        many = []
    }

    var startIndex: Int { 0 }
    var endIndex: Int { many.isEmpty ? (single == nil ? 0 : 1) : many.count }

    subscript(position: Int) -> ListNode {
        get {
            guard many.isEmpty else { return many[position] }
            precondition(position == 0 && single != nil, "ListNodes: index out of range")
            return single.unsafelyUnwrapped
        }
        _modify {
            if many.isEmpty {
                precondition(position == 0 && single != nil, "ListNodes: index out of range")
                yield &single!
            } else {
                yield &many[position]
            }
        }
        set {
            if many.isEmpty {
                precondition(position == 0 && single != nil, "ListNodes: index out of range")
                single = newValue
            } else {
                many[position] = newValue
            }
        }
    }

    /// Adds `node` at the tail.
    mutating func append(_ node: ListNode) {
        insert(node, at: count)
    }

    /// Adds `node` at the head.
    mutating func prepend(_ node: ListNode) {
        insert(node, at: 0)
    }

    /// Inserts `node` before position `i`.
    ///
    /// - Complexity: O(min(i, count - i)).
    mutating func insert(_ node: ListNode, at i: Int) {
        if !many.isEmpty {
            many.insert(node, at: i)
            return
        }
        guard let first = single else {
            single = node
            return
        }
        single = nil
        many = i == 0 ? [node, first] : [first, node]
    }

    /// Removes and returns the node at position `i`.
    ///
    /// - Complexity: O(min(i, count - i)).
    @discardableResult
    mutating func remove(at i: Int) -> ListNode {
        if many.isEmpty {
            precondition(i == 0 && single != nil, "ListNodes: index out of range")
            defer { single = nil }
            return single.unsafelyUnwrapped
        }
        let node = many.remove(at: i)
        if many.count == 1 {
            single = many[0]
            many = []
        }
        return node
    }

    /// Removes and returns the head node.
    mutating func removeFirst() -> ListNode { remove(at: 0) }

    /// Removes and returns the tail node.
    mutating func removeLast() -> ListNode { remove(at: count - 1) }

    /// Removes every node.
    mutating func removeAll() {
        single = nil
        many = []
    }

    /// The bytes of heap the deque's buffer takes (none for at most one node).
    var bufferBytes: Int {
        many.isEmpty ? 0 : MallocSize.chunk(requesting: 40 + many.count * MemoryLayout<ListNode>.stride)
    }
}
