import KVS

/// The value of a Redis set: distinct byte strings.
///
/// Two encodings, as in the Redis 7.0 the server is compared with (t_set.c): a set whose
/// members are all canonical integers (``RedisNumber/parseInt64(_:)``), at most
/// `set-max-intset-entries` of them, is an ``IntSet``; any other set is a hash table, for
/// good. OBJECT ENCODING names the one in use (`intset`, `hashtable`). Redis 7.2's third
/// encoding, a listpack for a few short strings, is not here: 7.0 has none, and OBJECT
/// ENCODING answers as 7.0 does.
///
/// The table keeps its members in a dense array, with a member → position dictionary
/// beside it: a random member (SPOP, SRANDMEMBER) is one random index, and a removal
/// moves the last member into the hole, so both are O(1) where a Swift `Set` would walk
/// to a random element in O(n).
///
/// A value type with copy-on-write, as ``HashValue``: handing a set out of its shard's
/// lock is a retain, and a writer copies a set that anyone else references first.
///
/// Thread-safety: `Sendable` as a value; see ``Storage``.
package struct SetValue: Sendable {
    /// The members, in one of the two encodings.
    ///
    /// `@unchecked Sendable` is safe: a storage is changed only through a `SetValue` that
    /// holds the only reference to it (``makeUnique()`` copies it first otherwise), so a
    /// storage reachable from two threads is never written.
    package final class Storage: @unchecked Sendable {
        /// Whether the intset encoding is in use (else the table).
        var isIntset: Bool
        /// The intset.
        var intset: IntSet
        /// The table's members, densely, in no particular order.
        var members: [ValueBytes]
        /// The table's member → index in ``members``.
        var positions: [ValueBytes: UInt32]

        init(isIntset: Bool, intset: IntSet, members: [ValueBytes], positions: [ValueBytes: UInt32]) {
            self.isIntset = isIntset
            self.intset = intset
            self.members = members
            self.positions = positions
        }
    }

    var storage: Storage

    /// An empty set, in the intset encoding.
    package init() {
        storage = Storage(isIntset: true, intset: IntSet(), members: [], positions: [:])
    }

    /// How many members the set has. O(1).
    package var count: Int { storage.isIntset ? storage.intset.count : storage.members.count }

    /// Whether the set has no member (such a set is never stored: its key is deleted).
    package var isEmpty: Bool { count == 0 }

    /// Whether the intset encoding is in use.
    package var isIntset: Bool { storage.isIntset }

    /// Redis's name of the encoding in use (OBJECT ENCODING).
    package var encodingName: String { storage.isIntset ? "intset" : "hashtable" }

    // MARK: Reading

    /// Whether `member` is in the set.
    ///
    /// - Complexity: O(log n) for an intset, O(1) on average for the table.
    package func contains(_ member: ValueBytes) -> Bool {
        guard storage.isIntset else { return storage.positions[member] != nil }
        guard let n = RedisNumber.parseInt64(member) else { return false }
        return storage.intset.contains(n)
    }

    /// The member at `position`: ascending for an intset, the table's dense order
    /// otherwise. ``removeMember(at:)`` moves the last one to the position it empties.
    ///
    /// - Precondition: `0 <= position < count`.
    /// - Complexity: O(1); allocates the decimal text of an intset's member.
    package func member(at position: Int) -> ValueBytes {
        precondition(position >= 0 && position < count, "SetValue: member position out of range")
        guard storage.isIntset else { return storage.members[position] }
        return Self.decimal(storage.intset[position]) { ValueBytes($0) }
    }

    /// Calls `body` with each member's bytes, valid only for the call, in the order of
    /// ``member(at:)``.
    ///
    /// - Complexity: O(n), without allocating.
    package func forEachMember(_ body: (UnsafeRawBufferPointer) -> Void) {
        if storage.isIntset {
            let intset = storage.intset
            for i in 0..<intset.count { Self.decimal(intset[i], body) }
        } else {
            for member in storage.members { member.withUnsafeBytes(body) }
        }
    }

    /// Every member, as a block of its own.
    ///
    /// - Complexity: O(n); allocates one block per member for an intset.
    package var members: [ValueBytes] {
        if !storage.isIntset { return storage.members }
        let intset = storage.intset
        return (0..<intset.count).map { i in Self.decimal(intset[i]) { ValueBytes($0) } }
    }

    /// Calls `body` with the decimal text of `n`.
    @inline(__always)
    static func decimal<R>(_ n: Int64, _ body: (UnsafeRawBufferPointer) -> R) -> R {
        withUnsafeTemporaryAllocation(byteCount: 20, alignment: 1) { out in
            var magnitude = n.magnitude
            var end = 20
            repeat {
                end -= 1
                out[end] = UInt8(ascii: "0") &+ UInt8(truncatingIfNeeded: magnitude % 10)
                magnitude /= 10
            } while magnitude > 0
            if n < 0 {
                end -= 1
                out[end] = UInt8(ascii: "-")
            }
            return body(UnsafeRawBufferPointer(rebasing: out[end..<20]))
        }
    }

    // MARK: Writing

    /// Adds `member`; returns whether it is new.
    ///
    /// An intset becomes a table, for good, when `member` is not a canonical integer or
    /// the count passes `limits.maxIntsetEntries`, as Redis 7.0's `setTypeAdd` does.
    ///
    /// - Complexity: O(n) for an intset (at most `maxIntsetEntries`), O(1) on average for
    ///   the table.
    @discardableResult
    package mutating func insert(_ member: ValueBytes, limits: SetLimits) -> Bool {
        if storage.isIntset {
            if let n = RedisNumber.parseInt64(member) {
                if storage.intset.contains(n) { return false }
                makeUnique()
                storage.intset.insert(n)
                if storage.intset.count > limits.maxIntsetEntries { convertToTable() }
                return true
            }
            makeUnique()
            convertToTable()
        } else if !isKnownUniquelyReferenced(&storage) {
            // No copy of a shared set for a member it has.
            if storage.positions[member] != nil { return false }
            makeUnique()
        }
        precondition(storage.members.count < UInt32.max, "SetValue: more than 2^32 - 1 members")
        // One hash of the member: the slot is made with a placeholder when absent, and
        // claimed here.
        let position = UInt32(truncatingIfNeeded: storage.members.count)
        guard Self.claim(&storage.positions[member, default: Self.unclaimed], position) else { return false }
        storage.members.append(member)
        return true
    }

    /// The placeholder position of a member being added.
    private static let unclaimed = UInt32.max

    /// Sets `slot` to `position` if it holds the placeholder; whether it did.
    @inline(__always)
    private static func claim(_ slot: inout UInt32, _ position: UInt32) -> Bool {
        guard slot == unclaimed else { return false }
        slot = position
        return true
    }

    /// Removes `member`; returns whether it was there.
    ///
    /// - Complexity: O(n) for an intset, O(1) on average for the table.
    @discardableResult
    package mutating func remove(_ member: ValueBytes) -> Bool {
        if storage.isIntset {
            guard let n = RedisNumber.parseInt64(member) else { return false }
            let (found, position) = storage.intset.search(n)
            guard found else { return false }
            makeUnique()
            storage.intset.remove(at: position)
            return true
        }
        guard let position = storage.positions[member] else { return false }
        makeUnique()
        removeFromTable(at: Int(position))
        return true
    }

    /// Removes the member at `position` (see ``member(at:)``) and returns it.
    ///
    /// - Precondition: `0 <= position < count`.
    /// - Complexity: O(n) for an intset, O(1) on average for the table.
    @discardableResult
    package mutating func removeMember(at position: Int) -> ValueBytes {
        let member = member(at: position)
        makeUnique()
        if storage.isIntset {
            storage.intset.remove(at: position)
        } else {
            removeFromTable(at: position)
        }
        return member
    }

    /// Removes the table's member at `position`: the last member takes its place.
    private mutating func removeFromTable(at position: Int) {
        let removed = storage.members[position]
        let last = storage.members.removeLast()
        if position < storage.members.count {
            storage.members[position] = last
            storage.positions[last] = UInt32(truncatingIfNeeded: position)
        }
        storage.positions[removed] = nil
        // A table emptied to an eighth of its capacity gives the rest back (Redis shrinks
        // its dict below a tenth full); amortized O(1).
        let capacity = storage.members.capacity
        if capacity > 64, storage.members.count * 8 < capacity { shrink() }
    }

    /// Rebuilds the table at the size of its members.
    private mutating func shrink() {
        var members: [ValueBytes] = []
        members.reserveCapacity(storage.members.count * 2)
        members.append(contentsOf: storage.members)
        var positions: [ValueBytes: UInt32] = [:]
        positions.reserveCapacity(members.count * 2)
        for (i, member) in members.enumerated() { positions[member] = UInt32(truncatingIfNeeded: i) }
        storage.members = members
        storage.positions = positions
    }

    /// Copies the storage if another value references it.
    mutating func makeUnique() {
        if isKnownUniquelyReferenced(&storage) { return }
        storage = Storage(
            isIntset: storage.isIntset,
            intset: storage.intset,
            members: storage.members,
            positions: storage.positions
        )
    }

    /// Moves the intset's members into the table.
    mutating func convertToTable() {
        guard storage.isIntset else { return }
        let intset = storage.intset
        var members: [ValueBytes] = []
        members.reserveCapacity(intset.count + 1)
        var positions: [ValueBytes: UInt32] = [:]
        positions.reserveCapacity(intset.count + 1)
        for i in 0..<intset.count {
            let member = Self.decimal(intset[i]) { ValueBytes($0) }
            positions[member] = UInt32(truncatingIfNeeded: i)
            members.append(member)
        }
        storage.members = members
        storage.positions = positions
        storage.intset = IntSet()
        storage.isIntset = false
    }

    // MARK: Memory

    /// The bytes of heap the set's blocks take, as glibc's malloc hands them out (MEMORY
    /// USAGE): the storage object, then the intset's array, or the members' array, the
    /// dictionary's storage and every member's block.
    ///
    /// - Complexity: O(1) for an intset, O(n) for a table.
    package var heapBytes: Int {
        let object = MallocSize.chunk(requesting: 56)
        if storage.isIntset { return object + storage.intset.heapBytes }
        let members = storage.members
        var total = object + MallocSize.chunk(requesting: 32 + members.capacity * 8)
        // A native dictionary: a 64-byte header, a bitmap word per 64 buckets, and a key
        // (a word) and a value (4 bytes) per bucket.
        let capacity = storage.positions.capacity
        let buckets = capacity == 0 ? 0 : max(2, (capacity * 4 + 2) / 3)
        total += MallocSize.chunk(requesting: 64 + (buckets + 63) / 64 * 8 + buckets * 12)
        for member in members { total += MallocSize.chunk(requesting: 24 + member.count) }
        return total
    }
}

/// When a set leaves the intset encoding: Redis's `set-max-intset-entries` (more members
/// than this).
package struct SetLimits: Sendable, Equatable {
    /// `set-max-intset-entries`.
    package var maxIntsetEntries: Int

    /// Redis 7's default: 512 members.
    package static let redisDefaults = SetLimits(maxIntsetEntries: 512)

    package init(maxIntsetEntries: Int) {
        self.maxIntsetEntries = maxIntsetEntries
    }
}
