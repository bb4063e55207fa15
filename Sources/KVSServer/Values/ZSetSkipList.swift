import KVS

/// The skip list of a large sorted set, as Redis's `zskiplist` (t_zset.c, after Pugh's
/// "Skip Lists: A Probabilistic Alternative to Balanced Trees"): nodes in (score, member)
/// order, each with 1 to 32 levels (a level more with probability 1/4), and on every
/// link the number of nodes it skips (its span), so a rank is found in O(log n) like a
/// member.
///
/// The nodes live in arrays indexed by `Int32` (node 0 is the header) rather than as
/// objects: no reference count per node, and a copy of the list (copy-on-write of a
/// shared sorted set) copies a few arrays. A node's links are one run in ``links`` of as
/// many links as it has levels; a freed node's slot and run are reused by the next node of
/// the same level.
///
/// Thread-safety: a value type; not shared while written.
struct ZSetSkipList: Sendable {
    /// One link of a node at one level.
    struct Link: Sendable {
        /// The next node at this level, or -1.
        var forward: Int32
        /// How many nodes the link moves forward by (ranks it skips, plus one).
        var span: Int32
    }

    static let maxLevel = 32
    static let none: Int32 = -1

    /// Each node's member (`nil` for the header and free slots).
    private(set) var members: [ValueBytes?]
    /// Each node's score.
    private(set) var scores: [Double]
    /// Each node's previous node at level 0 (-1 for the first).
    private var backward: [Int32]
    /// Where each node's links start in ``links``.
    private var linkStart: [Int32]
    /// How many levels each node has.
    private var levels: [UInt8]
    private var links: [Link]
    /// Free node slots, by level.
    private var free: [[Int32]]
    /// The last node, or -1.
    private var tail: Int32 = -1
    /// The highest level in use (at least 1).
    private var level = 1
    /// How many nodes there are, the header aside.
    private(set) var length = 0
    /// The state of the generator of node levels (xorshift64*).
    private var seed: UInt64

    init() {
        members = [nil]
        scores = [0]
        backward = [-1]
        linkStart = [0]
        levels = [UInt8(Self.maxLevel)]
        links = Array(repeating: Link(forward: -1, span: 0), count: Self.maxLevel)
        free = Array(repeating: [], count: Self.maxLevel + 1)
        seed = UInt64.random(in: 1...UInt64.max)
    }

    // MARK: Links

    @inline(__always)
    private func link(_ node: Int32, _ i: Int) -> Link { links[Int(linkStart[Int(node)]) + i] }

    @inline(__always)
    private mutating func setForward(_ node: Int32, _ i: Int, _ to: Int32) {
        links[Int(linkStart[Int(node)]) + i].forward = to
    }

    @inline(__always)
    private mutating func setSpan(_ node: Int32, _ i: Int, _ span: Int32) {
        links[Int(linkStart[Int(node)]) + i].span = span
    }

    /// Whether node `n` comes before (`score`, `member`).
    @inline(__always)
    private func node(_ n: Int32, precedes score: Double, _ member: UnsafeRawBufferPointer) -> Bool {
        let s = scores[Int(n)]
        if s != score { return s < score }
        return members[Int(n)]!.withUnsafeBytes { compareMembers($0, member) < 0 }
    }

    /// Redis's `zslRandomLevel`: 1, then one more with probability 1/4, at most 32.
    private mutating func randomLevel() -> Int {
        var level = 1
        while level < Self.maxLevel {
            seed ^= seed >> 12
            seed ^= seed << 25
            seed ^= seed >> 27
            let r = (seed &* 0x2545_F491_4F6C_DD1D) >> 32
            if r & 0xFFFF >= 0x4000 { break }
            level += 1
        }
        return level
    }

    // MARK: Changes

    /// Inserts `member` with `score` (which must not be there) and returns its node.
    ///
    /// - Complexity: O(log n) on average.
    mutating func insert(score: Double, member: ValueBytes) -> Int32 {
        withUnsafeTemporaryAllocation(of: Int32.self, capacity: Self.maxLevel) { update in
            withUnsafeTemporaryAllocation(of: Int.self, capacity: Self.maxLevel) { rank in
                insert(score: score, member: member, update: update, rank: rank)
            }
        }
    }

    /// ``insert(score:member:)`` with its scratch space (one slot per level).
    private mutating func insert(
        score: Double,
        member: ValueBytes,
        update: UnsafeMutableBufferPointer<Int32>,
        rank: UnsafeMutableBufferPointer<Int>
    ) -> Int32 {
        var x: Int32 = 0
        member.withUnsafeBytes { m in
            for i in stride(from: level - 1, through: 0, by: -1) {
                rank[i] = i == level - 1 ? 0 : rank[i + 1]
                while true {
                    let next = link(x, i).forward
                    guard next != Self.none, node(next, precedes: score, m) else { break }
                    rank[i] += Int(link(x, i).span)
                    x = next
                }
                update[i] = x
            }
        }
        let newLevel = randomLevel()
        if newLevel > level {
            for i in level..<newLevel {
                rank[i] = 0
                update[i] = 0
                setSpan(0, i, Int32(length))
            }
            level = newLevel
        }
        let n = allocate(level: newLevel, score: score, member: member)
        for i in 0..<newLevel {
            let u = update[i]
            setForward(n, i, link(u, i).forward)
            setForward(u, i, n)
            setSpan(n, i, link(u, i).span - Int32(rank[0] - rank[i]))
            setSpan(u, i, Int32(rank[0] - rank[i]) + 1)
        }
        if newLevel < level {
            for i in newLevel..<level { setSpan(update[i], i, link(update[i], i).span + 1) }
        }
        backward[Int(n)] = update[0] == 0 ? Self.none : update[0]
        let next = link(n, 0).forward
        if next != Self.none { backward[Int(next)] = n } else { tail = n }
        length += 1
        return n
    }

    /// Removes `node` (found again by its score and member, as Redis's `zslDelete`).
    ///
    /// - Complexity: O(log n) on average.
    mutating func delete(node target: Int32) {
        withUnsafeTemporaryAllocation(of: Int32.self, capacity: Self.maxLevel) { delete(node: target, update: $0) }
    }

    /// ``delete(node:)`` with its scratch space (one slot per level).
    private mutating func delete(node target: Int32, update: UnsafeMutableBufferPointer<Int32>) {
        let score = scores[Int(target)]
        guard let member = members[Int(target)] else { return }
        var x: Int32 = 0
        member.withUnsafeBytes { m in
            for i in stride(from: level - 1, through: 0, by: -1) {
                while true {
                    let next = link(x, i).forward
                    guard next != Self.none, node(next, precedes: score, m) else { break }
                    x = next
                }
                update[i] = x
            }
        }
        for i in 0..<level {
            let u = update[i]
            if link(u, i).forward == target {
                setSpan(u, i, link(u, i).span + link(target, i).span - 1)
                setForward(u, i, link(target, i).forward)
            } else {
                setSpan(u, i, link(u, i).span - 1)
            }
        }
        let next = link(target, 0).forward
        if next != Self.none { backward[Int(next)] = backward[Int(target)] } else { tail = backward[Int(target)] }
        while level > 1, link(0, level - 1).forward == Self.none { level -= 1 }
        length -= 1
        release(target)
    }

    /// Changes the score of `node` and returns the node that now holds its member: the
    /// same one when the order is unchanged (Redis's `zslUpdateScore` fast path), else a
    /// new one.
    ///
    /// - Complexity: O(1) when the position is unchanged, else O(log n) on average.
    mutating func updateScore(node n: Int32, to score: Double) -> Int32 {
        guard let member = members[Int(n)] else { return n }
        let stays = member.withUnsafeBytes { m -> Bool in
            let back = backward[Int(n)]
            let next = link(n, 0).forward
            return (back == Self.none || node(back, precedes: score, m))
                && (next == Self.none || !node(next, precedes: score, m))
        }
        if stays {
            scores[Int(n)] = score
            return n
        }
        delete(node: n)
        return insert(score: score, member: member)
    }

    private mutating func allocate(level: Int, score: Double, member: ValueBytes) -> Int32 {
        if let slot = free[level].popLast() {
            members[Int(slot)] = member
            scores[Int(slot)] = score
            for i in 0..<level { links[Int(linkStart[Int(slot)]) + i] = Link(forward: -1, span: 0) }
            return slot
        }
        precondition(
            members.count < Int(Int32.max) && links.count < Int(Int32.max) - level,
            "ZSetSkipList: too many nodes"
        )
        let slot = Int32(members.count)
        members.append(member)
        scores.append(score)
        backward.append(Self.none)
        linkStart.append(Int32(links.count))
        levels.append(UInt8(level))
        for _ in 0..<level { links.append(Link(forward: -1, span: 0)) }
        return slot
    }

    private mutating func release(_ slot: Int32) {
        members[Int(slot)] = nil
        free[Int(levels[Int(slot)])].append(slot)
    }

    // MARK: Reading

    /// The 1-based rank of the node holding (`score`, `member`), which must be there.
    ///
    /// - Complexity: O(log n) on average.
    func rank(score: Double, member: ValueBytes) -> Int {
        var rank = 0
        var x: Int32 = 0
        member.withUnsafeBytes { m in
            for i in stride(from: level - 1, through: 0, by: -1) {
                while true {
                    let next = link(x, i).forward
                    // Up to and including the node itself.
                    guard next != Self.none,
                        node(next, precedes: score, m)
                            || (scores[Int(next)] == score
                                && members[Int(next)]!.withUnsafeBytes { compareMembers($0, m) == 0 })
                    else { break }
                    rank += Int(link(x, i).span)
                    x = next
                }
            }
        }
        return rank
    }

    /// How many nodes, from the first, satisfy `isBefore` (true for a prefix).
    ///
    /// - Complexity: O(log n) on average.
    func countPrefix(_ isBefore: (Double, UnsafeRawBufferPointer) -> Bool) -> Int {
        var rank = 0
        var x: Int32 = 0
        for i in stride(from: level - 1, through: 0, by: -1) {
            while true {
                let next = link(x, i).forward
                guard next != Self.none,
                    members[Int(next)]!.withUnsafeBytes({ isBefore(scores[Int(next)], $0) })
                else { break }
                rank += Int(link(x, i).span)
                x = next
            }
        }
        return rank
    }

    /// The node of 1-based rank `rank` (1...length).
    ///
    /// - Complexity: O(log n) on average.
    func node(atRank rank: Int) -> Int32 {
        var traversed = 0
        var x: Int32 = 0
        for i in stride(from: level - 1, through: 0, by: -1) {
            while true {
                let l = link(x, i)
                guard l.forward != Self.none, traversed + Int(l.span) <= rank else { break }
                traversed += Int(l.span)
                x = l.forward
            }
            if traversed == rank { return x }
        }
        return x
    }

    /// Calls `body` with the member and score of each rank in `ranks` (0-based, within
    /// the list), ascending or descending.
    ///
    /// - Complexity: O(log n + m) on average.
    func forEachMember(inRanks ranks: Range<Int>, reverse: Bool, _ body: (UnsafeRawBufferPointer, Double) -> Void) {
        guard !ranks.isEmpty else { return }
        var x = reverse ? node(atRank: ranks.upperBound) : node(atRank: ranks.lowerBound + 1)
        for _ in 0..<ranks.count {
            guard x > 0, let member = members[Int(x)] else { return }
            member.withUnsafeBytes { body($0, scores[Int(x)]) }
            x = reverse ? backward[Int(x)] : link(x, 0).forward
        }
    }

    /// The bytes of heap the list's arrays take (members' blocks aside).
    var heapBytes: Int {
        MallocSize.chunk(requesting: 32 + members.capacity * 8) + MallocSize.chunk(requesting: 32 + scores.capacity * 8)
            + MallocSize.chunk(requesting: 32 + backward.capacity * 4)
            + MallocSize.chunk(requesting: 32 + linkStart.capacity * 4)
            + MallocSize.chunk(requesting: 32 + levels.capacity)
            + MallocSize.chunk(requesting: 32 + links.capacity * 8)
    }
}
