import KVS

/// The member → position index of a set's table: open addressing with linear probing,
/// at most three quarters full, each slot a `UInt32`: 0 when empty, else a position in the
/// table's dense member array plus one in the low bits (as many as it takes to number the
/// slots), and high bits of the member's hash above them as a tag.
///
/// A slot is 4 bytes where a `Dictionary<ValueBytes, UInt32>` bucket is 12 (the key's
/// reference and the value): the members are already in the dense array, so the index
/// keeps only their positions. A probe reads a member's block only when the tag matches
/// (a `Dictionary` reads every probed key's), which spares most cache misses on a large
/// set. Removal shifts the cluster back (no tombstones), so lookups stay short after any
/// number of SREMs and SPOPs.
///
/// Thread-safety: a value type; not shared.
struct MemberIndex: Sendable {
    /// The slots: a power of two of them, or none.
    private(set) var slots: [UInt32] = []
    /// How many slots are full (32 bits, beside ``positionMask``, so that the two take one
    /// word of a set's storage object).
    private var storedCount: UInt32 = 0
    /// The bits of a slot that hold the position plus one: `slots.count - 1`.
    private var positionMask: UInt32 = 0

    init() {}

    /// An index of `members`, at their positions, sized for `capacity` members.
    init(_ members: [ValueBytes], capacity: Int) {
        resize(to: Self.slotCount(for: max(capacity, members.count)), members: members, reindex: true)
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
    private func find(_ member: ValueBytes, hash: Int, in members: [ValueBytes]) -> (slot: Int, found: Bool) {
        let mask = slots.count - 1
        let tag = Self.tag(hash, positionMask: positionMask)
        var i = hash & mask
        while true {
            let s = slots[i]
            if s == 0 { return (i, false) }
            if s & ~positionMask == tag, members[Int(s & positionMask) - 1] == member { return (i, true) }
            i = (i + 1) & mask
        }
    }

    /// The position of `member` in `members`, or `nil`. O(1) on average.
    func position(of member: ValueBytes, in members: [ValueBytes]) -> Int? {
        guard storedCount > 0 else { return nil }
        let (slot, found) = find(member, hash: Self.hash(member), in: members)
        return found ? Int(slots[slot] & positionMask) - 1 : nil
    }

    /// Records `member` at `position` (where the caller then puts it in the array) unless
    /// `members` already holds it; whether it did. O(1) amortized.
    mutating func insert(_ member: ValueBytes, at position: Int, members: [ValueBytes]) -> Bool {
        if (Int(storedCount) + 1) * 4 > slots.count * 3 {
            resize(to: max(8, slots.count * 2), members: members, reindex: false)
        }
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
    mutating func remove(_ member: ValueBytes, members: [ValueBytes], moving movedFrom: Int?, to movedTo: Int) {
        let mask = slots.count - 1
        var (hole, found) = find(member, hash: Self.hash(member), in: members)
        precondition(found, "MemberIndex: removing a member it does not hold")
        // Backward shift: each later member of the cluster whose home slot is not between
        // the hole and itself moves into the hole.
        var j = hole
        while true {
            j = (j + 1) & mask
            let s = slots[j]
            if s == 0 { break }
            let home = Self.hash(members[Int(s & positionMask) - 1]) & mask
            let between = hole <= j ? (home > hole && home <= j) : (home > hole || home <= j)
            if !between {
                slots[hole] = s
                hole = j
            }
        }
        slots[hole] = 0
        storedCount -= 1
        if let movedFrom {
            let moved = members[movedFrom]
            let (slot, found) = find(moved, hash: Self.hash(moved), in: members)
            precondition(found, "MemberIndex: moving a member it does not hold")
            slots[slot] = (slots[slot] & ~positionMask) | UInt32(truncatingIfNeeded: movedTo + 1)
        }
    }

    /// Rebuilds the slots at `slotCount` (a power of two, at most 2^32), from the current
    /// slots or, if `reindex`, from every member of `members` at its position.
    mutating func resize(to slotCount: Int, members: [ValueBytes], reindex: Bool) {
        precondition(slotCount <= 1 << 32, "MemberIndex: more than 2^32 slots")
        var fresh = [UInt32](repeating: 0, count: slotCount)
        let mask = slotCount - 1
        let freshMask = UInt32(truncatingIfNeeded: mask)
        // Every member is hashed again: its home slot and its tag both change.
        func place(_ position: Int) {
            let hash = Self.hash(members[position])
            var i = hash & mask
            while fresh[i] != 0 { i = (i + 1) & mask }
            fresh[i] = Self.tag(hash, positionMask: freshMask) | UInt32(truncatingIfNeeded: position + 1)
        }
        if reindex {
            for p in members.indices { place(p) }
            storedCount = UInt32(truncatingIfNeeded: members.count)
        } else {
            for s in slots where s != 0 { place(Int(s & positionMask) - 1) }
        }
        slots = fresh
        positionMask = freshMask
    }

    /// The bytes of heap the slots take.
    var heapBytes: Int { slots.isEmpty ? 0 : MallocSize.chunk(requesting: 32 + slots.capacity * 4) }
}
