import KVS

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The value of a Redis list: a sequence of byte strings.
///
/// Two encodings, as in Redis 7.2 (t_list.c, quicklist.c): a small list is one packed
/// node (`listpack`); a list that outgrows one node's limit (``ListLimits``) becomes a
/// deque of such nodes (`quicklist`), and goes back to one node when it shrinks to half
/// the limit. Pushes and pops at either end touch one node: O(1) amortized (a node is at
/// most a few KiB, moved as a block). Reaching element `i` walks nodes from the nearer end
/// of the list, then elements from the nearer end of the node.
///
/// A value type with copy-on-write: the stored value is one reference, so handing a list
/// out of its shard's lock is a retain. A writer copies a storage that is shared; the copy
/// shares every node's bytes until it writes that node, so it costs O(nodes), not
/// O(elements).
///
/// Thread-safety: `Sendable` as a value; see ``Storage``.
package struct ListValue: Sendable {
    /// The nodes and the element count.
    ///
    /// `@unchecked Sendable` is safe: a storage is changed only through a `ListValue`
    /// that holds the only reference to it (``makeUnique()`` copies it first otherwise),
    /// so a storage reachable from two threads is never written.
    package final class Storage: @unchecked Sendable {  // safe: see the doc comment above
        /// The nodes, head first; never an empty node (but for a moment within a push).
        var nodes: ListNodes
        /// How many elements the nodes hold.
        var count: Int
        /// Whether the quicklist encoding is in use (else one listpack node).
        var isQuicklist: Bool

        init(nodes: ListNodes, count: Int, isQuicklist: Bool) {
            self.nodes = nodes
            self.count = count
            self.isQuicklist = isQuicklist
        }
    }

    var storage: Storage

    /// An empty list, in the listpack encoding.
    package init() {
        storage = Storage(nodes: ListNodes(), count: 0, isQuicklist: false)
    }

    /// How many elements the list has. O(1).
    package var count: Int { storage.count }

    /// Whether the list has no element (such a list is never stored: its key is deleted).
    package var isEmpty: Bool { storage.count == 0 }

    /// Whether the quicklist encoding is in use.
    package var isQuicklist: Bool { storage.isQuicklist }

    /// Redis's name of the encoding in use (OBJECT ENCODING).
    package var encodingName: String { storage.isQuicklist ? "quicklist" : "listpack" }

    /// How many nodes hold the elements (1 for a listpack).
    package var nodeCount: Int { storage.nodes.count }

    // MARK: Reading

    /// Where element `index` lies: its node and byte offset in it. Walks from the nearer
    /// end of the list.
    ///
    /// - Precondition: `0 <= index < count`.
    /// - Complexity: O(nodes + size of a node).
    func position(of index: Int) -> (node: Int, offset: Int) {
        let nodes = storage.nodes
        if index < storage.count / 2 {
            var rest = index
            var n = 0
            while rest >= nodes[n].count {
                rest -= nodes[n].count
                n += 1
            }
            return (n, nodes[n].offset(of: rest))
        }
        var rest = storage.count - 1 - index  // elements after it
        var n = nodes.count - 1
        while rest >= nodes[n].count {
            rest -= nodes[n].count
            n -= 1
        }
        return (n, nodes[n].offset(of: nodes[n].count - 1 - rest))
    }

    /// Element `index` (negative counts from the tail), or `nil` out of range.
    ///
    /// - Complexity: O(nodes + size of a node).
    package func element(at index: Int) -> ValueBytes? {
        guard let i = resolve(index) else { return nil }
        let (n, offset) = position(of: i)
        return storage.nodes[n].value(at: offset)
    }

    /// `index` as a position from the head, or `nil` out of range (`-1` is the last).
    func resolve(_ index: Int) -> Int? {
        let i = index < 0 ? storage.count + index : index
        return i >= 0 && i < storage.count ? i : nil
    }

    /// Calls `body` with the elements from `start` on, head to tail, until it returns
    /// `false` or the list ends; the buffers are valid only for the call.
    ///
    /// - Complexity: O(nodes + size of a node) to reach `start`, then O(1) per element.
    package func forEach(from start: Int, _ body: (UnsafeRawBufferPointer) -> Bool) {
        guard start >= 0, start < storage.count else { return }
        let nodes = storage.nodes
        var (n, offset) = position(of: start)
        while n < nodes.count {
            let more = nodes[n].withBlock { block in
                while offset < block.count {
                    let e = ListNode.element(at: offset, in: block)
                    guard body(UnsafeRawBufferPointer(rebasing: block[e.bytes])) else { return false }
                    offset = e.next
                }
                return true
            }
            guard more else { return }
            n += 1
            offset = 0
        }
    }

    /// Calls `body` with the elements tail to head, until it returns `false`.
    ///
    /// - Complexity: O(1) per element.
    package func forEachReversed(_ body: (UnsafeRawBufferPointer) -> Bool) {
        let nodes = storage.nodes
        var n = nodes.count - 1
        while n >= 0 {
            let more = nodes[n].withBlock { block in
                var end = block.count
                while end > 0 {
                    let start = ListNode.start(ofElementEndingAt: end, in: block)
                    let e = ListNode.element(at: start, in: block)
                    guard body(UnsafeRawBufferPointer(rebasing: block[e.bytes])) else { return false }
                    end = start
                }
                return true
            }
            guard more else { return }
            n -= 1
        }
    }

    /// Every element, head to tail, as blocks of their own.
    ///
    /// - Complexity: O(n); allocates one block per element.
    package var elements: [ValueBytes] {
        var out: [ValueBytes] = []
        out.reserveCapacity(count)
        forEach(from: 0) {
            out.append(ValueBytes($0))
            return true
        }
        return out
    }

    // MARK: Writing

    /// Before adding elements of `addedBytes` (encoded) bytes and `addedCount` elements to
    /// a listpack: turns it into a quicklist if one node could not hold the result
    /// (Redis's `listTypeTryConvertListpack`).
    mutating func convertIfGrowing(addedBytes: Int, addedCount: Int, limits: ListLimits) {
        guard !storage.isQuicklist else { return }
        let bytes = storage.nodes.first?.used ?? 0
        if limits.exceeds(bytes: bytes + addedBytes, count: storage.count + addedCount) {
            storage.isQuicklist = true
        }
    }

    /// After elements were removed: a quicklist of one node at most half the limit
    /// becomes a listpack again (Redis 7.2's `listTypeTryConvertQuicklist`).
    mutating func convertIfShrunk(limits: ListLimits) {
        guard storage.isQuicklist, storage.nodes.count <= 1 else { return }
        let node = storage.nodes.first ?? ListNode()
        if limits.fitsShrunk(bytes: node.used, count: node.count) { storage.isQuicklist = false }
    }

    /// Pushes `elements` one after the other at the head (each becoming the new head, as
    /// LPUSH does) or the tail.
    ///
    /// - Complexity: O(1) amortized per element (plus moving the head node's bytes when
    ///   pushing at the head, as Redis does).
    package mutating func push<S: Sequence<ValueBytes>>(_ elements: S, atHead: Bool, limits: ListLimits) {
        prepareToPush(lengths: elements.lazy.map(\.count), limits: limits)
        for element in elements { element.withUnsafeBytes { push($0, atHead: atHead, limits: limits) } }
    }

    /// Makes the storage unique and picks the encoding before elements of `lengths` bytes
    /// are pushed with the raw-bytes `push(_:atHead:limits:)`.
    ///
    /// - Complexity: O(elements), plus a copy of the node deque when shared.
    package mutating func prepareToPush<S: Sequence<Int>>(lengths: S, limits: ListLimits) {
        makeUnique()
        guard !storage.isQuicklist else { return }
        var bytes = 0
        var count = 0
        for length in lengths {
            bytes += ListNode.encodedSize(ofLength: length)
            count += 1
        }
        convertIfGrowing(addedBytes: bytes, addedCount: count, limits: limits)
        // A listpack grows once to its exact new size, as Redis reallocates one per push.
        guard !storage.isQuicklist, count > 0 else { return }
        if storage.nodes.isEmpty { storage.nodes.append(ListNode()) }
        storage.nodes[0].reserve(extra: bytes)
    }

    /// Pushes one element, after ``prepareToPush(lengths:limits:)`` covered it (which may
    /// have left the listpack's node empty, its bytes reserved, for this push).
    ///
    /// - Complexity: O(1) amortized (plus moving the head node's bytes at the head).
    package mutating func push(_ element: UnsafeRawBufferPointer, atHead: Bool, limits: ListLimits) {
        let size = ListNode.encodedSize(ofLength: element.count)
        let nodes = storage.nodes.count
        storage.count += 1
        if nodes == 0 {
            storage.nodes.append(ListNode(element: element, limits: limits))
            return
        }
        let n = atHead ? 0 : nodes - 1
        // Sizes only: a copy of the node would share its bytes and make the insert copy them.
        let (used, elements) = (storage.nodes[n].used, storage.nodes[n].count)
        if storage.isQuicklist, limits.exceeds(bytes: used + size, count: elements + 1) {
            if atHead {
                storage.nodes.prepend(ListNode(element: element, limits: limits, roomAtHead: true))
            } else {
                storage.nodes.append(ListNode(element: element, limits: limits))
            }
            return
        }
        storage.nodes[n].insert(element, at: atHead ? 0 : used, limits: limits)
    }

    /// Removes and returns up to `limit` elements from the head (head first) or the tail
    /// (tail first).
    ///
    /// - Complexity: O(returned elements + size of a node).
    package mutating func pop(_ limit: Int, atHead: Bool, limits: ListLimits) -> [ValueBytes] {
        guard limit > 0, !isEmpty else { return [] }
        makeUnique()
        var out: [ValueBytes] = []
        out.reserveCapacity(min(limit, count))
        while out.count < limit, !storage.nodes.isEmpty {
            let n = atHead ? 0 : storage.nodes.count - 1
            let take = min(limit - out.count, storage.nodes[n].count)
            if take == storage.nodes[n].count {
                let node = atHead ? storage.nodes.removeFirst() : storage.nodes.removeLast()
                _ = node.withBlock { block in
                    Self.collect(take, from: block, atHead: atHead, into: &out)
                }
            } else {
                let cut = storage.nodes[n].withBlock { block in
                    Self.collect(take, from: block, atHead: atHead, into: &out)
                }
                storage.nodes[n].remove(atHead ? 0..<cut : cut..<storage.nodes[n].used, elements: take)
            }
            storage.count -= take
        }
        convertIfShrunk(limits: limits)
        return out
    }

    /// Appends `take` elements of `block` to `out`, from its head or tail; returns the
    /// byte offset where the elements left behind start (head) or end (tail).
    private static func collect(
        _ take: Int,
        from block: UnsafeRawBufferPointer,
        atHead: Bool,
        into out: inout [ValueBytes]
    ) -> Int {
        if atHead {
            var offset = 0
            for _ in 0..<take {
                let e = ListNode.element(at: offset, in: block)
                out.append(ValueBytes(UnsafeRawBufferPointer(rebasing: block[e.bytes])))
                offset = e.next
            }
            return offset
        }
        var end = block.count
        for _ in 0..<take {
            let start = ListNode.start(ofElementEndingAt: end, in: block)
            out.append(
                ValueBytes(UnsafeRawBufferPointer(rebasing: block[ListNode.element(at: start, in: block).bytes]))
            )
            end = start
        }
        return end
    }

    /// Replaces element `index` (negative counts from the tail); returns whether it
    /// exists.
    ///
    /// - Complexity: O(nodes + size of a node).
    @discardableResult
    package mutating func set(_ index: Int, to value: ValueBytes, limits: ListLimits) -> Bool {
        guard let i = resolve(index) else { return false }
        makeUnique()
        convertIfGrowing(addedBytes: ListNode.encodedSize(ofLength: value.count), addedCount: 1, limits: limits)
        let (n, offset) = position(of: i)
        value.withUnsafeBytes { storage.nodes[n].replace(at: offset, with: $0) }
        splitIfOver(n, limits: limits)
        convertIfShrunk(limits: limits)
        return true
    }

    /// Inserts `value` before or after the first element equal to `pivot`; returns the
    /// new length, or `nil` when there is no such element (nothing changes).
    ///
    /// - Complexity: O(n) to find the pivot, plus the size of a node.
    package mutating func insert(
        _ value: ValueBytes,
        before: Bool,
        pivot: ValueBytes,
        limits: ListLimits
    ) -> Int? {
        guard let found = firstPosition(of: pivot) else { return nil }
        makeUnique()
        convertIfGrowing(addedBytes: ListNode.encodedSize(ofLength: value.count), addedCount: 1, limits: limits)
        let (n, start, next) = found
        value.withUnsafeBytes { storage.nodes[n].insert($0, at: before ? start : next, limits: limits) }
        storage.count += 1
        splitIfOver(n, limits: limits)
        return storage.count
    }

    /// The node and byte range (start, next element's start) of the first element equal
    /// to `wanted`.
    private func firstPosition(of wanted: ValueBytes) -> (node: Int, start: Int, next: Int)? {
        wanted.withUnsafeBytes { wanted in
            for (n, node) in storage.nodes.enumerated() {
                let hit: (Int, Int)? = node.withBlock { block in
                    var offset = 0
                    while offset < block.count {
                        let e = ListNode.element(at: offset, in: block)
                        if Self.equal(UnsafeRawBufferPointer(rebasing: block[e.bytes]), wanted) {
                            return (offset, e.next)
                        }
                        offset = e.next
                    }
                    return nil
                }
                if let hit { return (n, hit.0, hit.1) }
            }
            return nil
        }
    }

    /// In a quicklist, cuts node `n` in two when it went over the limit and holds more
    /// than one element.
    private mutating func splitIfOver(_ n: Int, limits: ListLimits) {
        guard storage.isQuicklist else { return }
        let (used, elements) = (storage.nodes[n].used, storage.nodes[n].count)
        guard elements > 1, limits.exceeds(bytes: used, count: elements) else { return }
        let tail = storage.nodes[n].split(at: elements / 2)
        storage.nodes.insert(tail, at: n + 1)
    }

    /// Removes elements equal to `value`: the first `limit` from the head, or from the
    /// tail when `fromTail`; returns how many went.
    ///
    /// - Complexity: O(n).
    package mutating func remove(_ value: ValueBytes, limit: UInt64, fromTail: Bool, limits: ListLimits) -> Int {
        // The position of the first element to consider: from the tail, the limit-th
        // match counted backwards (every match from there on goes).
        var from = 0
        var matches: UInt64 = 0
        value.withUnsafeBytes { wanted in
            if fromTail {
                var index = count
                forEachReversed { element in
                    index -= 1
                    if Self.equal(element, wanted) {
                        matches += 1
                        from = index
                    }
                    return matches < limit
                }
            } else {
                forEach(from: 0) { element in
                    if Self.equal(element, wanted) { matches += 1 }
                    return matches < limit
                }
            }
        }
        guard matches > 0 else { return 0 }
        makeUnique()
        var removed = 0
        var index = 0
        var n = 0
        value.withUnsafeBytes { wanted in
            while n < storage.nodes.count, UInt64(removed) < matches {
                let node = storage.nodes[n]
                if index + node.count <= from {
                    index += node.count
                    n += 1
                    continue
                }
                var kept: [UInt8] = []
                var keptCount = 0
                node.withBlock { block in
                    var offset = 0
                    while offset < block.count {
                        let e = ListNode.element(at: offset, in: block)
                        if index >= from, UInt64(removed) < matches,
                            Self.equal(UnsafeRawBufferPointer(rebasing: block[e.bytes]), wanted)
                        {
                            removed += 1
                        } else {
                            kept.append(contentsOf: block[offset..<e.next])
                            keptCount += 1
                        }
                        index += 1
                        offset = e.next
                    }
                }
                if keptCount == 0 {
                    storage.nodes.remove(at: n)
                } else {
                    if keptCount != node.count { storage.nodes[n] = ListNode(bytes: kept, count: keptCount) }
                    n += 1
                }
            }
        }
        storage.count -= removed
        convertIfShrunk(limits: limits)
        return removed
    }

    /// Removes `head` elements from the head and `tail` from the tail (LTRIM).
    ///
    /// - Complexity: O(removed nodes + size of a node).
    package mutating func trim(head: Int, tail: Int, limits: ListLimits) {
        guard head > 0 || tail > 0 else { return }
        makeUnique()
        if head + tail >= count {
            storage.nodes.removeAll()
            storage.count = 0
            return
        }
        var rest = head
        while rest > 0 {
            if storage.nodes[0].count <= rest {
                rest -= storage.nodes.removeFirst().count
            } else {
                let cut = storage.nodes[0].offset(of: rest)
                storage.nodes[0].remove(0..<cut, elements: rest)
                rest = 0
            }
        }
        rest = tail
        while rest > 0 {
            let last = storage.nodes.count - 1
            let (used, elements) = (storage.nodes[last].used, storage.nodes[last].count)
            if elements <= rest {
                rest -= storage.nodes.removeLast().count
            } else {
                let cut = storage.nodes[last].offset(of: elements - rest)
                storage.nodes[last].remove(cut..<used, elements: rest)
                rest = 0
            }
        }
        storage.count -= head + tail
        convertIfShrunk(limits: limits)
    }

    /// Whether two byte strings are equal.
    @inline(__always)
    static func equal(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer) -> Bool {
        a.count == b.count && (a.count == 0 || memcmp(a.baseAddress!, b.baseAddress!, a.count) == 0)
    }

    /// Copies the storage if another value references it (its nodes' bytes are shared
    /// until written).
    mutating func makeUnique() {
        if isKnownUniquelyReferenced(&storage) { return }
        storage = Storage(nodes: storage.nodes, count: storage.count, isQuicklist: storage.isQuicklist)
    }

    // MARK: Memory

    /// The bytes of heap the list's blocks take, as glibc's malloc hands them out (MEMORY
    /// USAGE): the storage object, the deque's buffer past one node (16 bytes per node)
    /// and each node's array.
    ///
    /// - Complexity: O(nodes).
    package var heapBytes: Int {
        let nodes = storage.nodes
        var total = MallocSize.chunk(requesting: 16 + MemoryLayout<ListNodes>.size + 8 + 1) + nodes.bufferBytes
        for node in nodes { total += MallocSize.chunk(requesting: 32 + node.capacity) }
        return total
    }
}
