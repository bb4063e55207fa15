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
/// The table keeps its members in a dense array, with a member → position index beside
/// it (``MemberIndex``, 4 bytes a slot): a random member (SPOP, SRANDMEMBER) is one random
/// index, and a removal moves the last member into the hole, so both are O(1) where a
/// Swift `Set` would walk to a random element in O(n). SSCAN walks the index, not the
/// array, whose order a removal changes.
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
    package final class Storage: @unchecked Sendable {  // safe: see the doc comment above
        // In this order, the fields pack into 50 bytes after the object header (a 64-byte
        // malloc chunk): the one-byte ones last.
        /// The table's members, densely, in no particular order.
        var members: [ValueBytes]
        /// The table's member → position in ``members``.
        var positions: MemberIndex
        /// The intset.
        var intset: IntSet
        /// Whether the intset encoding is in use (else the table).
        var isIntset: Bool

        init(isIntset: Bool, intset: IntSet, members: [ValueBytes], positions: MemberIndex) {
            self.isIntset = isIntset
            self.intset = intset
            self.members = members
            self.positions = positions
        }
    }

    var storage: Storage

    /// An empty set, in the intset encoding.
    package init() {
        storage = Storage(isIntset: true, intset: IntSet(), members: [], positions: MemberIndex())
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
        guard storage.isIntset else { return storage.positions.position(of: member, in: storage.members) != nil }
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

    /// Calls `body` with the table's members under the home slot `cursor` names, and
    /// returns the cursor of the next home, 0 after the last (SSCAN): every member present
    /// throughout a full scan is passed at least once, however the set grows or shrinks
    /// between calls (``MemberIndex/scan(from:in:_:)``).
    ///
    /// - Precondition: the table encoding is in use.
    /// - Complexity: O(length of one run of the index).
    package func scan(from cursor: UInt64, _ body: (ValueBytes) -> Void) -> UInt64 {
        precondition(!storage.isIntset, "SetValue: scanning an intset with a cursor")
        let members = storage.members
        return storage.positions.scan(from: cursor, in: members) { body(members[$0]) }
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
            if contains(member) { return false }
            makeUnique()
        }
        precondition(storage.members.count < UInt32.max - 1, "SetValue: more than 2^32 - 2 members")
        guard storage.positions.insert(member, at: storage.members.count, members: storage.members) else {
            return false
        }
        storage.members.append(member)
        return true
    }

    /// Adds each of `batch`; returns how many were new. A table grows once for what the
    /// batch may add rather than doubling through it, so a set made by one SADD holds no
    /// more member slots than it needs.
    ///
    /// - Complexity: as ``insert(_:limits:)`` for each member.
    package mutating func insert(contentsOf batch: [ValueBytes], limits: SetLimits) -> Int {
        var added = 0
        for (i, member) in batch.enumerated() {
            if !storage.isIntset, storage.members.count == storage.members.capacity,
                isKnownUniquelyReferenced(&storage)
            {
                let needed = storage.members.count + batch.count - i
                storage.members.reserveCapacity(max(needed, storage.members.capacity * 2))
            }
            if insert(member, limits: limits) { added += 1 }
        }
        return added
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
        guard let position = storage.positions.position(of: member, in: storage.members) else { return false }
        makeUnique()
        removeFromTable(at: position)
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
        let lastPosition = storage.members.count - 1
        storage.positions.remove(
            storage.members[position],
            members: storage.members,
            moving: position == lastPosition ? nil : lastPosition,
            to: position
        )
        let last = storage.members.removeLast()
        if position < storage.members.count { storage.members[position] = last }
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
        storage.positions = MemberIndex(members, count: members.count, capacity: members.count * 2)
        storage.members = members
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
        for i in 0..<intset.count { members.append(Self.decimal(intset[i]) { ValueBytes($0) }) }
        storage.positions = MemberIndex(members, count: members.count, capacity: intset.count + 1)
        storage.members = members
        storage.intset = IntSet()
        storage.isIntset = false
    }

    // MARK: Memory

    /// The bytes of heap the set's blocks take, as glibc's malloc hands them out (MEMORY
    /// USAGE): the storage object, then the intset's array, or the members' array, the
    /// index's slots and every member's block.
    ///
    /// - Complexity: O(1) for an intset, O(n) for a table.
    package var heapBytes: Int {
        let object = MallocSize.chunk(requesting: 50)
        if storage.isIntset { return object + storage.intset.heapBytes }
        let members = storage.members
        var total = object + MallocSize.chunk(requesting: 32 + members.capacity * 8)
        total += storage.positions.heapBytes
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
