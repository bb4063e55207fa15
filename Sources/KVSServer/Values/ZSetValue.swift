import KVS

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The value of a Redis sorted set: distinct members (byte strings), each with a score
/// (an IEEE double, never NaN), ordered by score, then by member bytes.
///
/// Two encodings, as in Redis (t_zset.c): a small sorted set is one packed byte block (a
/// listpack: member and score after member, in order), searched linearly; one that
/// outgrows ``ZSetLimits`` becomes for good a skip list with spans (rank in O(log n),
/// ``ZSetSkipList``) beside a member → node index (``MemberIndex``, which ZSCAN walks with
/// a resumable cursor). OBJECT ENCODING names the one in use
/// (`listpack`, `skiplist`).
///
/// Ranks are 0-based positions in ascending order. A score of -0.0 is kept as +0.0 in the
/// listpack (Redis stores an integral score there as an integer) and as given in the skip
/// list; both compare equal to 0.
///
/// A value type with copy-on-write, like ``HashValue``: a reader holding a reference sees
/// a value that never changes; a writer holding the only reference changes it in place.
///
/// Thread-safety: `Sendable` as a value; see ``Storage``.
package struct ZSetValue: Sendable {
    /// The members and scores, in one of the two encodings.
    ///
    /// `@unchecked Sendable` is safe: a storage is changed only through a `ZSetValue`
    /// holding the only reference to it (``makeUnique()`` copies it first otherwise), so a
    /// storage reachable from two threads is never written.
    package final class Storage: @unchecked Sendable {  // safe: see the doc comment above
        /// The listpack: each member a LEB128 length and its bytes, then its score's 8
        /// bytes (the IEEE bits, little-endian), in (score, member) order.
        var packed: [UInt8]
        /// How many members the listpack holds.
        var packedCount: Int
        /// The skip list and member table, once converted (`nil` while packed): a small
        /// sorted set pays one reference for them.
        var large: Large?

        init(packed: [UInt8], packedCount: Int, large: Large?) {
            self.packed = packed
            self.packedCount = packedCount
            self.large = large
        }

        /// Whether the listpack encoding is in use (else the skip list).
        var isPacked: Bool { large == nil }

        /// The skip list (only once converted).
        var list: ZSetSkipList {
            get { large!.list }
            _modify { yield &large!.list }
        }

    }

    /// The skip list of a converted sorted set and each member's node in it. Owned by one
    /// ``Storage``: a storage copied for a writer copies this too.
    ///
    /// `@unchecked Sendable` is safe for the same reason as ``Storage``'s: it is reached
    /// only through its one storage, which is changed only while its `ZSetValue` holds the
    /// only reference to it, so an instance reachable from two threads is never written.
    package final class Large: @unchecked Sendable {  // safe: see the doc comment above
        var list: ZSetSkipList
        /// Each member's node in ``list``.
        var nodes: MemberIndex

        init(list: ZSetSkipList, nodes: MemberIndex) {
            self.list = list
            self.nodes = nodes
        }

        /// The node of `member`, or nil. O(1) on average.
        func node(of member: ValueBytes) -> Int32? {
            nodes.position(of: member, in: SkipListMembers(list.members)).map { Int32(truncatingIfNeeded: $0) }
        }

        /// Adds `member`, which is not there, with `score`. O(log n) on average.
        func insert(_ member: ValueBytes, score: Double) {
            let node = list.insert(score: score, member: member)
            _ = nodes.insert(member, at: Int(node), members: SkipListMembers(list.members))
        }

        /// Removes `member`; whether it was there. O(log n) on average.
        func remove(_ member: ValueBytes) -> Bool {
            // The index is changed while the list still holds the member (one lookup); the
            // wrapper is gone before the list changes, so its array is not copied.
            let node: Int?
            do {
                let members = SkipListMembers(list.members)
                node = nodes.remove(member, members: members)
            }
            guard let node else { return false }
            list.delete(node: Int32(truncatingIfNeeded: node))
            return true
        }

        /// Gives `member`, at `node`, the score `score`. O(log n) on average.
        func update(_ member: ValueBytes, at node: Int32, to score: Double) {
            let moved = list.updateScore(node: node, to: score)
            guard moved != node else { return }
            // The list moved the member to a new node: the index still records the old one,
            // which the list has emptied, so the old node answers the member for the removal.
            do {
                let members = SkipListMembers(list.members, moved: (Int(node), member))
                nodes.remove(member, members: members, moving: nil, to: 0)
            }
            _ = nodes.insert(member, at: Int(moved), members: SkipListMembers(list.members))
        }
    }

    /// A skip list's members by node, for its ``MemberIndex``.
    struct SkipListMembers: IndexedMembers {
        let members: [ValueBytes?]
        /// A node emptied by a move, and the member the index still records there.
        var moved: (node: Int, member: ValueBytes)? = nil

        init(_ members: [ValueBytes?], moved: (node: Int, member: ValueBytes)? = nil) {
            self.members = members
            self.moved = moved
        }

        @inline(__always)
        subscript(member position: Int) -> ValueBytes {
            if let moved, moved.node == position { return moved.member }
            return members[position]!
        }
    }

    var storage: Storage

    /// An empty sorted set, in the listpack encoding.
    package init() {
        storage = Storage(packed: [], packedCount: 0, large: nil)
    }

    /// An empty sorted set that will hold about `expected` members: a skip list when that
    /// is more than `limits` allow in a listpack (Redis's `zrangeResultBeginStore` and
    /// `zsetTypeCreate`), so that a score of -0.0 keeps its sign as in Redis.
    package init(expected: Int, limits: ZSetLimits) {
        self.init()
        if expected > limits.maxListpackEntries { convertToSkipList() }
    }

    /// A sorted set of `elements` (distinct members) in the encoding Redis gives a
    /// computed result (ZUNIONSTORE...: a skip list, turned into a listpack at the end
    /// when it fits `limits`).
    ///
    /// - Complexity: O(n log n).
    package init(elements: [(member: ValueBytes, score: Double)], limits: ZSetLimits) {
        let fits =
            elements.count <= limits.maxListpackEntries
            && elements.allSatisfy { $0.member.count <= limits.maxListpackValue }
        self.init()
        if !fits { convertToSkipList() }
        for (member, score) in elements { set(member, score: score, limits: limits) }
    }

    /// How many members there are. O(1).
    package var count: Int { storage.isPacked ? storage.packedCount : storage.list.length }

    /// Whether there is no member (such a sorted set is never stored).
    package var isEmpty: Bool { count == 0 }

    /// Whether the listpack encoding is in use.
    package var isPacked: Bool { storage.isPacked }

    /// Redis's name of the encoding in use (OBJECT ENCODING).
    package var encodingName: String { storage.isPacked ? "listpack" : "skiplist" }

    // MARK: Reading

    /// The score of `member`, or `nil`.
    ///
    /// - Complexity: O(size of the listpack), or O(1) on average for the skip list.
    package func score(of member: ValueBytes) -> Double? {
        guard let large = storage.large else { return packedScore(of: member) }
        return large.node(of: member).map { large.list.scores[Int($0)] }
    }

    /// The score of `member` in the listpack, or `nil`.
    private func packedScore(of member: ValueBytes) -> Double? {
        member.withUnsafeBytes { wanted in
            storage.packed.withUnsafeBytes { ZSetListpack.find(wanted, in: $0)?.score }
        }
    }

    /// Calls `body` with the skip list's members and scores under the home slot of the
    /// member index that `cursor` names, and returns the cursor of the next home, 0 after
    /// the last (ZSCAN): every member present throughout a full scan is passed at least
    /// once, however the sorted set grows or shrinks between calls
    /// (``MemberIndex/scan(from:in:_:)``).
    ///
    /// - Precondition: the skip list encoding is in use.
    /// - Complexity: O(length of one run of the index).
    package func scan(from cursor: UInt64, _ body: (_ member: ValueBytes, _ score: Double) -> Void) -> UInt64 {
        guard let large = storage.large else { preconditionFailure("ZSetValue: scanning a listpack with a cursor") }
        let members = large.list.members
        let scores = large.list.scores
        return large.nodes.scan(from: cursor, in: SkipListMembers(members)) { body(members[$0]!, scores[$0]) }
    }

    /// The 0-based ascending rank of `member` and its score, or `nil`.
    ///
    /// - Complexity: O(size of the listpack), or O(log n) for the skip list.
    package func rank(of member: ValueBytes) -> (rank: Int, score: Double)? {
        guard storage.isPacked else {
            guard let node = storage.large!.node(of: member) else { return nil }
            let score = storage.list.scores[Int(node)]
            return (storage.list.rank(score: score, member: member) - 1, score)
        }
        return member.withUnsafeBytes { wanted in
            storage.packed.withUnsafeBytes { packed in
                ZSetListpack.find(wanted, in: packed).map { ($0.rank, $0.score) }
            }
        }
    }

    /// How many members, from the first, satisfy `isBefore` (which must hold for a prefix
    /// of the order: a score or lex bound).
    ///
    /// - Complexity: O(size of the listpack), or O(log n) for the skip list.
    package func countPrefix(_ isBefore: (_ score: Double, _ member: UnsafeRawBufferPointer) -> Bool) -> Int {
        guard storage.isPacked else { return storage.list.countPrefix(isBefore) }
        return storage.packed.withUnsafeBytes { packed in
            var n = 0
            var offset = 0
            while offset < packed.count {
                let e = ZSetListpack.entry(at: offset, in: packed)
                guard isBefore(e.score, UnsafeRawBufferPointer(rebasing: packed[e.member])) else { break }
                n += 1
                offset = e.next
            }
            return n
        }
    }

    /// Calls `body` with each member and score whose rank is in `ranks` (clamped to the
    /// set), ascending, or descending when `reverse`; the member's buffer is valid only
    /// for the call.
    ///
    /// - Complexity: O(size of the listpack), or O(log n + m) for the skip list.
    package func forEachMember(
        inRanks ranks: Range<Int>,
        reverse: Bool = false,
        _ body: (_ member: UnsafeRawBufferPointer, _ score: Double) -> Void
    ) {
        let ranks = ranks.clamped(to: 0..<count)
        guard !ranks.isEmpty else { return }
        guard storage.isPacked else {
            storage.list.forEachMember(inRanks: ranks, reverse: reverse, body)
            return
        }
        storage.packed.withUnsafeBytes { packed in
            var offset = 0
            var rank = 0
            var entries: [ZSetListpack.Entry] = []
            if reverse { entries.reserveCapacity(ranks.count) }
            while offset < packed.count, rank < ranks.upperBound {
                let e = ZSetListpack.entry(at: offset, in: packed)
                if rank >= ranks.lowerBound {
                    if reverse {
                        entries.append(e)
                    } else {
                        body(UnsafeRawBufferPointer(rebasing: packed[e.member]), e.score)
                    }
                }
                rank += 1
                offset = e.next
            }
            for e in entries.reversed() { body(UnsafeRawBufferPointer(rebasing: packed[e.member]), e.score) }
        }
    }

    /// Calls `body` with every member and score in ascending order.
    ///
    /// - Complexity: O(n).
    package func forEachMember(_ body: (_ member: UnsafeRawBufferPointer, _ score: Double) -> Void) {
        forEachMember(inRanks: 0..<count, body)
    }

    /// The members and scores whose ranks are in `ranks` (clamped), as blocks of their
    /// own, ascending or descending.
    ///
    /// - Complexity: O(size of the listpack), or O(log n + m) for the skip list.
    package func elements(inRanks ranks: Range<Int>, reverse: Bool = false) -> [(member: ValueBytes, score: Double)] {
        var out: [(member: ValueBytes, score: Double)] = []
        out.reserveCapacity(ranks.clamped(to: 0..<count).count)
        forEachMember(inRanks: ranks, reverse: reverse) { member, score in out.append((ValueBytes(member), score)) }
        return out
    }

    // MARK: Writing

    /// Sets the score of `member`, adding it if new; returns its previous score (`nil`
    /// when it is new).
    ///
    /// Converts to the skip list, for good, when a new member is longer than
    /// `limits.maxListpackValue` or the count would pass `limits.maxListpackEntries`, as
    /// Redis's `zsetAdd` does.
    ///
    /// - Precondition: `score` is not NaN.
    /// - Complexity: O(size of the listpack), or O(log n) for the skip list.
    @discardableResult
    package mutating func set(_ member: ValueBytes, score: Double, limits: ZSetLimits) -> Double? {
        precondition(!score.isNaN, "ZSetValue: a NaN score")
        makeUnique()
        if storage.isPacked {
            let found = member.withUnsafeBytes { wanted in
                storage.packed.withUnsafeBytes { ZSetListpack.find(wanted, in: $0) }
            }
            if let found {
                if found.score == score { return found.score }
                storage.packed.removeSubrange(found.range)
                member.withUnsafeBytes { ZSetListpack.insert($0, score: score, into: &storage.packed) }
                return found.score
            }
            if storage.packedCount + 1 > limits.maxListpackEntries || member.count > limits.maxListpackValue {
                convertToSkipList()
            } else {
                let needed = storage.packed.count + member.count + 13
                if storage.packed.capacity < needed { storage.packed.reserveCapacity(needed) }
                member.withUnsafeBytes { ZSetListpack.insert($0, score: score, into: &storage.packed) }
                storage.packedCount += 1
                return nil
            }
        }
        let large = storage.large!
        if let node = large.node(of: member) {
            let old = large.list.scores[Int(node)]
            if old == score { return old }
            large.update(member, at: node, to: score)
            return old
        }
        large.insert(member, score: score)
        return nil
    }

    /// Removes `member`; returns whether it was there.
    ///
    /// - Complexity: O(size of the listpack), or O(log n) for the skip list.
    @discardableResult
    package mutating func remove(_ member: ValueBytes) -> Bool {
        guard score(of: member) != nil else { return false }
        makeUnique()
        if storage.isPacked {
            guard
                let found = member.withUnsafeBytes({ w in
                    storage.packed.withUnsafeBytes { ZSetListpack.find(w, in: $0) }
                })
            else { return false }
            storage.packed.removeSubrange(found.range)
            storage.packedCount -= 1
            return true
        }
        return storage.large!.remove(member)
    }

    /// Removes the members whose ranks are in `ranks` (clamped); returns how many.
    ///
    /// - Complexity: O(size of the listpack), or O(m log n) for the skip list.
    @discardableResult
    package mutating func removeRanks(_ ranks: Range<Int>) -> Int {
        let ranks = ranks.clamped(to: 0..<count)
        guard !ranks.isEmpty else { return 0 }
        makeUnique()
        if storage.isPacked {
            let bytes: Range<Int> = storage.packed.withUnsafeBytes { packed in
                var offset = 0
                var start = 0
                for rank in 0..<ranks.upperBound {
                    if rank == ranks.lowerBound { start = offset }
                    offset = ZSetListpack.entry(at: offset, in: packed).next
                }
                return start..<offset
            }
            storage.packed.removeSubrange(bytes)
            storage.packedCount -= ranks.count
            return ranks.count
        }
        let large = storage.large!
        for (member, _) in elements(inRanks: ranks) {
            _ = large.remove(member)
        }
        return ranks.count
    }

    /// Copies the storage if another value references it.
    mutating func makeUnique() {
        if isKnownUniquelyReferenced(&storage) { return }
        storage = Storage(
            packed: storage.packed,
            packedCount: storage.packedCount,
            large: storage.large.map { Large(list: $0.list, nodes: $0.nodes) }
        )
    }

    /// Moves the listpack's members into the skip list.
    mutating func convertToSkipList() {
        guard storage.isPacked else { return }
        let large = Large(list: ZSetSkipList(), nodes: MemberIndex(capacity: storage.packedCount + 2))
        storage.packed.withUnsafeBytes { packed in
            var offset = 0
            while offset < packed.count {
                let e = ZSetListpack.entry(at: offset, in: packed)
                large.insert(ValueBytes(UnsafeRawBufferPointer(rebasing: packed[e.member])), score: e.score)
                offset = e.next
            }
        }
        storage.large = large
        storage.packed = []
        storage.packedCount = 0
    }

    // MARK: Memory

    /// The bytes of heap the sorted set's blocks take, as glibc's malloc hands them out
    /// (MEMORY USAGE): the storage object, then the listpack's array, or the skip list's
    /// arrays, the member index and every member's block.
    ///
    /// - Complexity: O(1) for a listpack, O(n) for a skip list.
    package var heapBytes: Int {
        let object = MallocSize.chunk(requesting: 40)
        if storage.isPacked {
            return object
                + (storage.packed.capacity == 0 ? 0 : MallocSize.chunk(requesting: 32 + storage.packed.capacity))
        }
        var total = object + MallocSize.chunk(requesting: 32) + storage.large!.nodes.heapBytes + storage.list.heapBytes
        for case let member? in storage.list.members { total += MallocSize.chunk(requesting: 24 + member.count) }
        return total
    }
}

/// When a sorted set leaves the listpack encoding: Redis's `zset-max-listpack-entries`
/// (more members than this) and `zset-max-listpack-value` (a member longer than this).
package struct ZSetLimits: Sendable, Equatable {
    /// `zset-max-listpack-entries`.
    package var maxListpackEntries: Int
    /// `zset-max-listpack-value`.
    package var maxListpackValue: Int

    /// Redis 7's defaults: 128 entries, 64 bytes.
    package static let redisDefaults = ZSetLimits(maxListpackEntries: 128, maxListpackValue: 64)

    package init(maxListpackEntries: Int, maxListpackValue: Int) {
        self.maxListpackEntries = maxListpackEntries
        self.maxListpackValue = maxListpackValue
    }
}

/// Compares two members as Redis's `sdscmp` does: bytes first, then length.
@inline(__always)
func compareMembers(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer) -> Int {
    let n = min(a.count, b.count)
    if n > 0 {
        let c = memcmp(a.baseAddress!, b.baseAddress!, n)
        if c != 0 { return Int(c) }
    }
    return a.count - b.count
}

/// Whether (`s1`, `m1`) comes before (`s2`, `m2`) in a sorted set's order.
@inline(__always)
func precedes(_ s1: Double, _ m1: UnsafeRawBufferPointer, _ s2: Double, _ m2: UnsafeRawBufferPointer) -> Bool {
    s1 < s2 || (s1 == s2 && compareMembers(m1, m2) < 0)
}

/// The byte layout of a sorted set's listpack: each member a LEB128 length and its bytes,
/// then its score's IEEE bits (8 bytes, little-endian), in (score, member) order.
enum ZSetListpack {
    /// One entry: where its member's bytes lie, its score, and where the next starts.
    struct Entry {
        var member: Range<Int>
        var score: Double
        var next: Int
    }

    /// Where a member was found.
    struct Found {
        /// The whole entry's bytes.
        var range: Range<Int>
        var score: Double
        var rank: Int
    }

    @inline(__always)
    static func entry(at offset: Int, in block: UnsafeRawBufferPointer) -> Entry {
        var length = 0
        var shift = 0
        var i = offset
        while true {
            let byte = block[i]
            length |= Int(byte & 0x7F) << shift
            i += 1
            if byte & 0x80 == 0 { break }
            shift += 7
        }
        let bits = UInt64(littleEndian: block.loadUnaligned(fromByteOffset: i + length, as: UInt64.self))
        return Entry(member: i..<(i + length), score: Double(bitPattern: bits), next: i + length + 8)
    }

    /// The entry of `member`, or `nil`.
    static func find(_ member: UnsafeRawBufferPointer, in block: UnsafeRawBufferPointer) -> Found? {
        var offset = 0
        var rank = 0
        while offset < block.count {
            let e = entry(at: offset, in: block)
            if e.member.count == member.count,
                member.count == 0
                    || memcmp(block.baseAddress! + e.member.lowerBound, member.baseAddress!, member.count) == 0
            {
                return Found(range: offset..<e.next, score: e.score, rank: rank)
            }
            rank += 1
            offset = e.next
        }
        return nil
    }

    /// Inserts `member` with `score` at its place in the order. A zero score is stored
    /// as +0.0, as Redis stores an integral score in a listpack as an integer.
    static func insert(_ member: UnsafeRawBufferPointer, score: Double, into block: inout [UInt8]) {
        let score = score == 0 ? 0.0 : score
        let offset = block.withUnsafeBytes { packed in
            var offset = 0
            while offset < packed.count {
                let e = entry(at: offset, in: packed)
                if precedes(score, member, e.score, UnsafeRawBufferPointer(rebasing: packed[e.member])) { break }
                offset = e.next
            }
            return offset
        }
        var encoded: [UInt8] = []
        encoded.reserveCapacity(member.count + 13)
        var n = member.count
        while n >= 0x80 {
            encoded.append(UInt8(truncatingIfNeeded: n) | 0x80)
            n >>= 7
        }
        encoded.append(UInt8(n))
        encoded.append(contentsOf: member)
        withUnsafeBytes(of: score.bitPattern.littleEndian) { encoded.append(contentsOf: $0) }
        block.insert(contentsOf: encoded, at: offset)
    }
}
