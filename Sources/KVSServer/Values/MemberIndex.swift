import KVS

/// The member → position index of a set's table: open addressing with linear probing,
/// each slot a `UInt32` holding a position in the table's dense member array plus one
/// (0 is an empty slot), at most three quarters full.
///
/// A slot is 4 bytes where a `Dictionary<ValueBytes, UInt32>` bucket is 12 (the key's
/// reference and the value): the members are already in the dense array, so the index
/// keeps only their positions and compares a probe's member there. Probing reads the
/// member's block as a `Dictionary` reads its key's. Removal shifts the cluster back
/// (no tombstones), so lookups stay short after any number of SREMs and SPOPs.
///
/// Thread-safety: a value type; not shared.
struct MemberIndex: Sendable {
    /// The slots: a power of two of them, or none.
    private(set) var slots: [UInt32] = []
    /// How many slots are full.
    private(set) var count = 0

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

    /// The slot that holds `member`, or the empty slot where it would go.
    ///
    /// - Precondition: the index has slots.
    @inline(__always)
    private func find(_ member: ValueBytes, hash: Int, in members: [ValueBytes]) -> (slot: Int, found: Bool) {
        let mask = slots.count - 1
        var i = hash & mask
        while true {
            let s = slots[i]
            if s == 0 { return (i, false) }
            if members[Int(s) - 1] == member { return (i, true) }
            i = (i + 1) & mask
        }
    }

    /// The position of `member` in `members`, or `nil`. O(1) on average.
    func position(of member: ValueBytes, in members: [ValueBytes]) -> Int? {
        guard count > 0 else { return nil }
        let (slot, found) = find(member, hash: Self.hash(member), in: members)
        return found ? Int(slots[slot]) - 1 : nil
    }

    /// Records `member` at `position` (where the caller then puts it in the array) unless
    /// `members` already holds it; whether it did. O(1) amortized.
    mutating func insert(_ member: ValueBytes, at position: Int, members: [ValueBytes]) -> Bool {
        if (count + 1) * 4 > slots.count * 3 {
            resize(to: max(8, slots.count * 2), members: members, reindex: false)
        }
        let (slot, found) = find(member, hash: Self.hash(member), in: members)
        if found { return false }
        slots[slot] = UInt32(truncatingIfNeeded: position + 1)
        count += 1
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
            let home = Self.hash(members[Int(s) - 1]) & mask
            let between = hole <= j ? (home > hole && home <= j) : (home > hole || home <= j)
            if !between {
                slots[hole] = s
                hole = j
            }
        }
        slots[hole] = 0
        count -= 1
        if let movedFrom {
            let moved = members[movedFrom]
            let (slot, found) = find(moved, hash: Self.hash(moved), in: members)
            precondition(found, "MemberIndex: moving a member it does not hold")
            slots[slot] = UInt32(truncatingIfNeeded: movedTo + 1)
        }
    }

    /// Rebuilds the slots at `slotCount`, from the current slots or, if `reindex`, from
    /// every member of `members` at its position.
    mutating func resize(to slotCount: Int, members: [ValueBytes], reindex: Bool) {
        var fresh = [UInt32](repeating: 0, count: slotCount)
        let mask = slotCount - 1
        func place(_ s: UInt32) {
            var i = Self.hash(members[Int(s) - 1]) & mask
            while fresh[i] != 0 { i = (i + 1) & mask }
            fresh[i] = s
        }
        if reindex {
            for p in members.indices { place(UInt32(truncatingIfNeeded: p + 1)) }
            count = members.count
        } else {
            for s in slots where s != 0 { place(s) }
        }
        slots = fresh
    }

    /// The bytes of heap the slots take.
    var heapBytes: Int { slots.isEmpty ? 0 : MallocSize.chunk(requesting: 32 + slots.capacity * 4) }
}
