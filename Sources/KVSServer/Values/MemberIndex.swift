import KVS

/// The member → position index of a set's table and of a sorted set's skip list: open
/// addressing with linear probing, at most three quarters full, each slot a `UInt32`: 0
/// when empty, else a position in the owner's member array (a set's dense array, a skip
/// list's nodes) plus one in the low bits (as many as it takes to number the slots), and
/// high bits of the member's hash above them as a tag.
///
/// A slot is 4 bytes where a `Dictionary<ValueBytes, UInt32>` bucket is 12 (the key's
/// reference and the value): the members are already in the dense array, so the index
/// keeps only their positions. A probe reads a member's block only when the tag matches
/// (a `Dictionary` reads every probed key's), which spares most cache misses on a large
/// set. Removal shifts the cluster back (no tombstones), so lookups stay short after any
/// number of SREMs and SPOPs.
///
/// SSCAN and ZSCAN walk it with Redis's reverse-binary cursor (``scan(from:in:_:)``): a
/// cursor names a home slot, not a slot, so a member displaced by probing or moved back
/// by a removal is still found under its home, and a home at one power-of-two size maps to
/// the homes at another that extend its bits, as a bucket of Redis's dict does
/// (docs/design/server-value-types.md, "SSCAN and ZSCAN cursors").
///
/// Thread-safety: a value type; not shared.
/// The array a ``MemberIndex`` points into: the member at each position it records.
protocol IndexedMembers {
    /// The member at `position`, which the index records for it.
    subscript(member position: Int) -> ValueBytes { get }
}

extension Array: IndexedMembers where Element == ValueBytes {
    @inline(__always)
    subscript(member position: Int) -> ValueBytes { self[position] }
}

struct MemberIndex: Sendable {
    /// The slots: a power of two of them, or none.
    private(set) var slots: [UInt32] = []
    /// How many slots are full (32 bits, beside ``positionMask``, so that the two take one
    /// word of a set's storage object).
    private var storedCount: UInt32 = 0
    /// The bits of a slot that hold the position plus one: `slots.count - 1`.
    private var positionMask: UInt32 = 0

    init() {}

    /// An empty index with room for positions below `capacity` and as many members.
    init(capacity: Int) {
        let n = Self.slotCount(for: capacity + 1)
        slots = [UInt32](repeating: 0, count: n)
        positionMask = UInt32(truncatingIfNeeded: n - 1)
    }

    /// An index of `members`, at their positions, sized for `capacity` members.
    init<M: IndexedMembers>(_ members: M, count: Int, capacity: Int) {
        resize(to: Self.slotCount(for: max(capacity, count)), members: members, reindex: count)
    }

    /// The smallest power of two of slots that holds `n` members at most three quarters full.
    static func slotCount(for n: Int) -> Int {
        var slots = 8
        while slots * 3 < n * 4 { slots *= 2 }
        return slots
    }

    @inline(__always)
    private static func hash(_ member: ValueBytes) -> Int { member.hashValue }

    /// The tag of a member with `hash`: its hash's high bits, above the position bits.
    @inline(__always)
    private static func tag(_ hash: Int, positionMask: UInt32) -> UInt32 {
        UInt32(truncatingIfNeeded: UInt(bitPattern: hash) >> 32) & ~positionMask
    }

    /// The slot that holds `member`, or the empty slot where it would go.
    ///
    /// - Precondition: the index has slots.
    @inline(__always)
    private func find<M: IndexedMembers>(_ member: ValueBytes, hash: Int, in members: M) -> (slot: Int, found: Bool) {
        let mask = slots.count - 1
        let tag = Self.tag(hash, positionMask: positionMask)
        var i = hash & mask
        while true {
            let s = slots[i]
            if s == 0 { return (i, false) }
            if s & ~positionMask == tag, members[member: Int(s & positionMask) - 1] == member { return (i, true) }
            i = (i + 1) & mask
        }
    }

    /// The position of `member` in `members`, or `nil`. O(1) on average.
    func position<M: IndexedMembers>(of member: ValueBytes, in members: M) -> Int? {
        guard storedCount > 0 else { return nil }
        let (slot, found) = find(member, hash: Self.hash(member), in: members)
        return found ? Int(slots[slot] & positionMask) - 1 : nil
    }

    /// Records `member` at `position` (where the caller then puts it in the array) unless
    /// `members` already holds it; whether it did. O(1) amortized.
    ///
    /// - Precondition: `position < 2^31`.
    mutating func insert<M: IndexedMembers>(_ member: ValueBytes, at position: Int, members: M) -> Bool {
        precondition(position < 1 << 31, "MemberIndex: a position past 2^31")
        // Grown when three quarters full, or when the position needs more bits than the
        // slots number (a skip list's node may outnumber its members).
        var size = slots.count
        while (Int(storedCount) + 1) * 4 > size * 3 || position + 1 >= size { size = max(8, size * 2) }
        if size != slots.count { resize(to: size, members: members, reindex: nil) }
        let hash = Self.hash(member)
        let (slot, found) = find(member, hash: hash, in: members)
        if found { return false }
        slots[slot] = Self.tag(hash, positionMask: positionMask) | UInt32(truncatingIfNeeded: position + 1)
        storedCount += 1
        return true
    }

    /// Removes `member`, which is in `members` at the position the index records, and
    /// points the slot of the member at `movedFrom` (if any) to `movedTo`: the caller
    /// moves that member there afterwards. O(1) on average.
    mutating func remove<M: IndexedMembers>(
        _ member: ValueBytes,
        members: M,
        moving movedFrom: Int?,
        to movedTo: Int
    ) {
        let (slot, found) = find(member, hash: Self.hash(member), in: members)
        precondition(found, "MemberIndex: removing a member it does not hold")
        empty(slot, members: members)
        if let movedFrom { move(members[member: movedFrom], to: movedTo, members: members) }
    }

    /// Removes `member` if the index records it, and returns the position it recorded, or
    /// nil. O(1) on average.
    mutating func remove<M: IndexedMembers>(_ member: ValueBytes, members: M) -> Int? {
        guard storedCount > 0 else { return nil }
        let (slot, found) = find(member, hash: Self.hash(member), in: members)
        guard found else { return nil }
        let position = Int(slots[slot] & positionMask) - 1
        empty(slot, members: members)
        return position
    }

    /// Empties the full slot `hole`, shifting the rest of its run back.
    private mutating func empty<M: IndexedMembers>(_ hole: Int, members: M) {
        let mask = slots.count - 1
        var hole = hole
        // Backward shift: each later member of the cluster whose home slot is not between
        // the hole and itself moves into the hole.
        var j = hole
        while true {
            j = (j + 1) & mask
            let s = slots[j]
            if s == 0 { break }
            let home = Self.hash(members[member: Int(s & positionMask) - 1]) & mask
            let between = hole <= j ? (home > hole && home <= j) : (home > hole || home <= j)
            if !between {
                slots[hole] = s
                hole = j
            }
        }
        slots[hole] = 0
        storedCount -= 1
    }

    /// Points the slot of `member`, which `members` holds at the position the index
    /// records, at `position`: the caller moves it there. O(1) on average.
    ///
    /// - Precondition: `position + 1` fits the position bits (it is below the slot count).
    mutating func move<M: IndexedMembers>(_ member: ValueBytes, to position: Int, members: M) {
        precondition(position + 1 < slots.count, "MemberIndex: a position past the slots")
        let (slot, found) = find(member, hash: Self.hash(member), in: members)
        precondition(found, "MemberIndex: moving a member it does not hold")
        slots[slot] = (slots[slot] & ~positionMask) | UInt32(truncatingIfNeeded: position + 1)
    }

    /// Rebuilds the slots at `slotCount` (a power of two, at most 2^32), from the current
    /// slots or, given `reindex`, from the members at positions `0..<reindex`.
    mutating func resize<M: IndexedMembers>(to slotCount: Int, members: M, reindex: Int?) {
        precondition(slotCount <= 1 << 32, "MemberIndex: more than 2^32 slots")
        var fresh = [UInt32](repeating: 0, count: slotCount)
        let mask = slotCount - 1
        let freshMask = UInt32(truncatingIfNeeded: mask)
        // Every member is hashed again: its home slot and its tag both change.
        func place(_ position: Int) {
            let hash = Self.hash(members[member: position])
            var i = hash & mask
            while fresh[i] != 0 { i = (i + 1) & mask }
            fresh[i] = Self.tag(hash, positionMask: freshMask) | UInt32(truncatingIfNeeded: position + 1)
        }
        if let reindex {
            for p in 0..<reindex { place(p) }
            storedCount = UInt32(truncatingIfNeeded: reindex)
        } else {
            for s in slots where s != 0 { place(Int(s & positionMask) - 1) }
        }
        slots = fresh
        positionMask = freshMask
    }

    /// How many members the index records.
    var count: Int { Int(storedCount) }

    /// Calls `body` with the position of each member whose home slot is the one `cursor`
    /// names (its bits under the slot mask), and returns the cursor of the next home in
    /// Redis's reverse-binary order (`dictScan`), 0 after the last.
    ///
    /// Every member present from the first call to the last of a full scan is passed at
    /// least once, however the index grows or shrinks between calls: a member's home is
    /// its hash under the mask, so the homes at a larger size that extend a visited home's
    /// bits are the ones the cursor skips, and those at a smaller size are the ones it
    /// visits again (so a member may be passed twice after a shrink). A member lies in the
    /// run of full slots from its home (linear probing keeps no hole between a member and
    /// its home, removals included), so a home's members are found by walking that run.
    ///
    /// - Complexity: O(length of the run from the home), one hash per member in it.
    func scan<M: IndexedMembers>(from cursor: UInt64, in members: M, _ body: (_ position: Int) -> Void) -> UInt64 {
        guard !slots.isEmpty else { return 0 }
        let mask = slots.count - 1
        let home = Int(truncatingIfNeeded: cursor) & mask
        var i = home
        while true {
            let s = slots[i]
            if s == 0 { break }
            let position = Int(s & positionMask) - 1
            if Self.hash(members[member: position]) & mask == home { body(position) }
            i = (i + 1) & mask
            if i == home { break }
        }
        return ScanCursor.next(after: cursor, mask: UInt64(mask))
    }

    /// The bytes of heap the slots take.
    var heapBytes: Int { slots.isEmpty ? 0 : MallocSize.chunk(requesting: 32 + slots.capacity * 4) }
}
