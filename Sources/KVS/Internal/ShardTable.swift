import CKVSPrefetch
import Synchronization

/// A shard's hash table: open addressing with linear probing, each slot holding a key and
/// its value side by side, the entries' deadlines kept apart, with copy-on-write value
/// semantics like `Dictionary`'s (a copy costs nothing until one side writes).
///
/// **Why not `Dictionary`.** `Dictionary` keeps keys and values in two arrays, so a hit
/// reads two cache lines that are far apart (three with the value's own storage), and it
/// hashes a `String` key with SipHash over its Unicode scalars. Here a hit reads one slot
/// of 24 bytes (a `String` key and a reference), and the key's hash is ``TableHash`` over
/// its UTF-8 bytes.
///
/// **Layout.** `capacity` follows a ladder: below 4,096 slots a power of two or 1.5 times
/// one (8, 12, 16, 24, …, 3,072), so a small table grows by 1.5× or 1.33×; from 4,096 on,
/// quarter steps (4,096, 5,120, 6,144, 7,168, 8,192, 10,240, …), growth by 1.25× to
/// 1.14×. At most 85% of the slots are full. A key's home slot is the high half of
/// `hash × capacity` (one multiply, where a power of two would use a mask). Each slot has
/// a one-byte *tag* in an array of its own: 0 for an empty slot, otherwise 7 bits of the
/// key's table hash with the high bit set. A probe compares keys only where the tags
/// agree, so each slot it passes costs a byte comparison, not a `String` comparison. An
/// empty slot's key and value fields are uninitialized. Removal shifts the following
/// entries of the probe run back (no tombstones), so lookups never cross deleted slots
/// and the table needs no periodic rebuild.
///
/// **Why 85% and quarter steps.** They fill large tables fuller (the anchors' shards end
/// 0.76 full rather than 0.64), so a store takes less memory; the tags keep the longer probe
/// runs cheap. Small tables keep coarser steps, since finer ones would rehash more often for
/// little memory.
///
/// **Deadlines.** A table allocates one deadline per slot, followed by a bitmap of the
/// entries that have one, when it first stores an entry with a deadline, and the entries
/// move their deadline along (removal's shift, growth, copies). A table whose entries have
/// no deadline has no such block, so its slot is 24 bytes rather than 32 and a `get` there
/// reads nothing but the tag and the slot. A table with deadlines pays another cache line
/// per read or sweep of a key with a deadline. The block goes at the next resize or copy of
/// a table none of whose entries has a deadline any more.
///
/// The measurements behind this layout, and how to rerun them, are in
/// docs/design/shard-table.md.
///
/// - Thread safety: a value type; the shard's lock guards the shard's instance.
@usableFromInline
package struct ShardTable<Key: StoreKey, Value> {
    @usableFromInline var storage: ShardTableStorage<Key, Value>
    /// The ``TableMemory/drainGeneration`` this table last checked its block against.
    @usableFromInline var seenDrainGeneration: UInt64 = 0

    /// An empty table (it allocates on the first insertion).
    @inlinable
    package init() {
        storage = ShardTableStorage(capacity: 0)
    }

    /// An empty table with room for `minimumCapacity` entries before it grows.
    @inlinable
    package init(minimumCapacity: Int) {
        storage = ShardTableStorage(capacity: ShardTableStorage<Key, Value>.capacity(for: minimumCapacity))
    }

    /// How many entries the table holds.
    @inlinable package var count: Int { storage.count }

    /// Whether the table holds no entry.
    @inlinable package var isEmpty: Bool { storage.count == 0 }

    /// How many slots the table has (full and empty).
    @inlinable package var capacity: Int { storage.capacity }

    /// The bytes the table has allocated: its slots, its tags and, while it keeps them,
    /// its deadlines, their bitmap and the entries' home distances (the keys' and values'
    /// own heap storage is not counted).
    package var allocatedByteCount: Int {
        let capacity = storage.capacity
        guard capacity > 0 else { return 0 }  // nothing allocated for entries yet
        let words = ShardTableStorage<Key, Value>.bitmapWords(for: capacity)
        let deadlines =
            storage.deadlines == nil ? 0 : (capacity + words + (capacity + 7) / 8) * MemoryLayout<Int64>.stride
        let nodes = storage.nodes == nil ? 0 : capacity * MemoryLayout<PolicyNode>.stride
        return capacity * storage.slotStride + ShardTableStorage<Key, Value>.tagBytes(for: capacity) + deadlines + nodes
    }

    /// The entry of `key`, or `nil`. Setting `nil` removes the entry.
    ///
    /// - Complexity: O(1) on average.
    @inlinable
    package subscript(key: Key) -> Entry<Value>? {
        get { storage.find(key, hash: key.tableHash).map { storage.entry(at: $0) } }
        set {
            if let newValue {
                updateValue(newValue, forKey: key)
            } else {
                removeValue(forKey: key)
            }
        }
    }

    /// Stores `entry` under `key` and returns the entry it replaced, if any.
    ///
    /// - Complexity: O(1) on average; O(n) when the table grows.
    @inlinable @discardableResult
    package mutating func updateValue(_ entry: Entry<Value>, forKey key: Key) -> Entry<Value>? {
        updateValue(entry, forKey: key, hash: key.tableHash)
    }

    /// The entry of `key`, whose ``StoreKey/tableHash`` is `hash`, or `nil`.
    ///
    /// - Complexity: O(1) on average.
    @inlinable
    package func entry(forKey key: Key, hash: UInt64) -> Entry<Value>? {
        guard let slot = storage.find(key, hash: hash) else { return nil }
        storage.touchAccess(at: slot)
        return storage.entry(at: slot)
    }

    /// Starts loading the memory that the first word of `key`'s value points to, if the
    /// key is present: the heap storage of an array, a large string or a class instance,
    /// which copying the value out would touch. A hint: a first word that is not a
    /// pointer prefetches a useless line (a prefetch never faults), and nothing changes.
    ///
    /// - Complexity: O(1) on average.
    @inlinable
    package func prefetchValue(forKey key: Key, hash: UInt64) {
        guard let slot = storage.find(key, hash: hash) else { return }
        ckvs_prefetch(storage.firstWordOfValue(at: slot))
        // The access word a lookup writes, in a table that records accesses (the server's).
        if storage.accessClock != nil, let nodes = storage.nodes { ckvs_prefetch_for_write(nodes + slot) }
    }

    /// ``updateValue(_:forKey:)`` for a key whose ``StoreKey/tableHash`` is `hash`.
    @inlinable @discardableResult
    package mutating func updateValue(_ entry: Entry<Value>, forKey key: Key, hash: UInt64) -> Entry<Value>? {
        makeUnique(reserving: 1)
        let storage = self.storage
        switch storage.findOrEmpty(key, hash: hash) {
        case .found(let slot):
            return storage.replaceEntry(at: slot, with: entry)
        case .empty(let slot):
            storage.initialize(slot, key: key, hash: hash, entry: entry)
            return nil
        }
    }

    /// Removes the entry of `key` and returns it, if there was one.
    ///
    /// - Complexity: O(1) on average (the run after the slot shifts back).
    @inlinable @discardableResult
    package mutating func removeValue(forKey key: Key) -> Entry<Value>? {
        removeValue(forKey: key, hash: key.tableHash)
    }

    /// ``removeValue(forKey:)`` for a key whose ``StoreKey/tableHash`` is `hash`.
    @inlinable @discardableResult
    package mutating func removeValue(forKey key: Key, hash: UInt64) -> Entry<Value>? {
        makeUnique(reserving: 0)  // first: a copy may place entries in other slots
        guard let slot = storage.find(key, hash: hash) else { return nil }
        return storage.remove(at: slot)
    }

    /// Removes the entry of `key` if `predicate` holds for it; returns whether it did.
    ///
    /// - Complexity: O(1) on average; one hash of `key`.
    @inlinable
    package mutating func removeValue(forKey key: Key, where predicate: (Entry<Value>) -> Bool) -> Bool {
        makeUnique(reserving: 0)  // first: a copy may place entries in other slots
        guard let slot = storage.find(key, hash: key.tableHash), predicate(storage.entry(at: slot)) else {
            return false
        }
        _ = storage.remove(at: slot)
        return true
    }

    /// For each due item of an expiry index, removes every entry whose deadline is the
    /// item's from the probe run that starts at the home slot of the item's hash: that
    /// run holds the entry of every key whose ``StoreKey/tableHash`` is that hash. For
    /// active expiry, with deadlines that have passed, so that whatever it removes has
    /// expired; see ``ShardState/removeExpired(now:limit:buffer:)``.
    ///
    /// The entries are scattered over the table and their values over the heap, so each
    /// removal would wait for two or three cache misses in turn. The items are taken 64 at
    /// a time: first every home slot is prefetched, then every value those slots hold,
    /// then the entries are removed, by which time their memory is mostly in the cache
    /// (this halves the sweep's CPU per key: docs/design/shard-table.md).
    ///
    /// - Returns: how many entries it removed (none for a stale item).
    /// - Complexity: O(k) on average for k items: the runs' slots are compared by deadline
    ///   only; no key is hashed or compared.
    @inlinable
    package mutating func removeEntries(
        expiring due: [ExpiryIndex<UInt64>.Item],
        removedNodes: inout [PolicyNode],
        removedEntries: inout [(key: Key, entry: Entry<Value>)]?
    ) -> Int {
        makeUnique(reserving: 0)  // first: a copy may place entries in other slots
        let storage = self.storage
        guard storage.capacity > 0 else { return 0 }
        var removed = 0
        var start = 0
        while start < due.count {
            let group = start..<Swift.min(start + 64, due.count)
            for i in group { storage.prefetchSlots(from: storage.home(of: due[i].key)) }
            for i in group { storage.prefetchValue(at: storage.home(of: due[i].key)) }
            for i in group {
                removed += storage.removeEntries(
                    expiringAt: due[i].deadline,
                    hash: due[i].key,
                    removedNodes: &removedNodes,
                    removedEntries: &removedEntries
                )
            }
            start = group.upperBound
        }
        return removed
    }

    /// Starts fetching the table's storage object (its count, capacity and slot address)
    /// into the CPU's caches, without reading it.
    @inlinable
    package func prefetchStorage() {
        ckvs_prefetch_for_write(UnsafeRawPointer(Unmanaged.passUnretained(storage).toOpaque()))
    }

    /// Whether the probe run of `hash` holds an entry of a key with that table hash whose
    /// deadline is `deadline`.
    ///
    /// - Complexity: O(1) on average; hashes the key of each entry with that deadline.
    @inlinable
    package func holdsEntry(expiringAt deadline: Int64, hash: UInt64) -> Bool {
        storage.holdsEntry(expiringAt: deadline, hash: hash)
    }

    /// Makes room for `minimumCapacity` entries in all.
    ///
    /// - Complexity: O(n) when it grows.
    @inlinable
    package mutating func reserveCapacity(_ minimumCapacity: Int) {
        let wanted = ShardTableStorage<Key, Value>.capacity(for: minimumCapacity)
        let unique = isKnownUniquelyReferenced(&storage)
        if wanted > storage.capacity {
            storage = storage.resized(to: wanted, moving: unique)
        } else if !unique {
            storage = storage.resized(to: storage.capacity, moving: false)
        }
    }

    /// Ensures the storage is this value's alone and has room for `extra` more entries.
    @inlinable @inline(__always)
    mutating func makeUnique(reserving extra: Int) {
        // One relaxed load per write; see `leaveDrainingChunk(growing:)`.
        if TableMemory.drainGeneration.value.load(ordering: .relaxed) != seenDrainGeneration {
            leaveDrainingChunk(growing: extra > 0)
        }
        let needed = storage.count + extra
        let unique = isKnownUniquelyReferenced(&storage)
        if needed > storage.maxCount {
            let grown = Swift.max(
                ShardTableStorage<Key, Value>.capacity(after: storage.capacity),
                ShardTableStorage<Key, Value>.capacity(for: needed)
            )
            storage = storage.resized(to: grown, moving: unique)
        } else if !unique {
            storage = storage.resized(to: storage.capacity, moving: false)
        }
    }
}

extension ShardTable {
    /// Leaves the table's block if it lies in a draining chunk of ``TableMemory``'s pools
    /// (a chunk that growing tables have mostly left: its free blocks stay resident until
    /// the last table in it leaves). Called by a write when the drain generation changed.
    ///
    /// A table within 1/8 of its limit that is `growing` (an insertion, not a removal)
    /// grows now, to the next step of the ladder, as it would within the next few writes:
    /// moving it first would copy it twice, once to leave and once to grow. Any other
    /// table moves to a block of its own size, slot for slot, with no rehashing. A table
    /// whose storage is shared (a snapshot or a copy holds it) does neither: its next
    /// write copies it anyway. A table that is only read stays, and so does the chunk.
    /// This rule makes draining nearly free for a loading store (docs/design/shard-table.md).
    ///
    /// Specialized in the caller (`@inlinable`), but never inlined into the write path:
    /// unspecialized, the early growth would go through generic value witnesses.
    @inlinable @inline(never)
    mutating func leaveDrainingChunk(growing: Bool) {
        seenDrainGeneration = TableMemory.drainGeneration.value.load(ordering: .relaxed)
        guard storage.capacity > 0, isKnownUniquelyReferenced(&storage),
            TableMemory.isDraining(UnsafeRawPointer(storage.slots))
        else { return }
        let maxCount = storage.maxCount
        if growing, storage.count >= maxCount - maxCount / 8 {
            storage = storage.resized(to: ShardTableStorage<Key, Value>.capacity(after: storage.capacity), moving: true)
        } else {
            storage = storage.relocated()
        }
    }
}

extension ShardTable: ExpressibleByDictionaryLiteral {
    @inlinable
    package init(dictionaryLiteral elements: (Key, Entry<Value>)...) {
        self.init(minimumCapacity: elements.count)
        for (key, entry) in elements { updateValue(entry, forKey: key) }
    }
}

extension ShardTable: Sequence {
    /// Walks the entries in slot order (no particular order); holds the storage it
    /// started on, so a write to the table during the walk does not affect it.
    @usableFromInline
    package struct Iterator: IteratorProtocol {
        @usableFromInline let storage: ShardTableStorage<Key, Value>
        @usableFromInline var slot = 0

        @inlinable
        init(storage: ShardTableStorage<Key, Value>) {
            self.storage = storage
        }

        @inlinable
        package mutating func next() -> (key: Key, value: Entry<Value>)? {
            while slot < storage.capacity {
                defer { slot += 1 }
                if storage.isOccupied(slot) {
                    return (storage.slots[slot].key, storage.entry(at: slot))
                }
            }
            return nil
        }
    }

    @inlinable
    package func makeIterator() -> Iterator { Iterator(storage: storage) }

    @inlinable
    package var underestimatedCount: Int { storage.count }
}

// Value semantics: `storage` is only written through a `ShardTable` that holds the only
// reference to it (`makeUnique` copies it otherwise), so every shared storage is
// immutable, like Array's and Dictionary's buffers.
extension ShardTable: @unchecked Sendable where Key: Sendable, Value: Sendable {}  // safe: see above

/// The slots of a ``ShardTable``.
@usableFromInline
package final class ShardTableStorage<Key: StoreKey, Value> {
    @usableFromInline
    struct Slot {
        @usableFromInline var key: Key
        @usableFromInline var value: Value

        @inlinable
        init(key: Key, value: Value) {
            self.key = key
            self.value = value
        }
    }

    /// The key and value fields of each slot; uninitialized where ``isOccupied(_:)`` is false.
    @usableFromInline let slots: UnsafeMutablePointer<Slot>
    /// One byte per slot (``tagBytes(for:)`` of them, the rest 0): 0 for an empty slot,
    /// otherwise the entry's tag, ``tag(of:)`` of its key's table hash.
    @usableFromInline let tags: UnsafeMutablePointer<UInt8>
    /// A rung of the capacity ladder (at least 8; see ``capacity(after:)``), or 0 before
    /// the first insertion.
    @usableFromInline let capacity: Int
    // Unchecked: a storage is written only through the one table that owns it (see the
    // value-semantics note on ShardTable), under its shard's lock.
    @exclusivity(unchecked) @usableFromInline var count = 0
    /// Nil until an entry with a deadline is stored, and not carried over to a resized or
    /// copied storage once no entry has one. Otherwise one block: `capacity` deadlines,
    /// one per slot, read only where the slot's deadline bit is set (elsewhere
    /// uninitialized), then the deadline bits, one per slot, 64 to a word (bit `s % 64` of
    /// word `s / 64` for slot `s`, as `Int64` bit patterns): whether the entry in each slot
    /// has a deadline; then one byte per slot, the home distance of every entry, with or
    /// without a deadline (see ``homeDistance(of:in:)``).
    @exclusivity(unchecked) @usableFromInline var deadlines: UnsafeMutablePointer<Int64>?
    /// How many entries have a deadline (slots whose deadline bit is set).
    @exclusivity(unchecked) @usableFromInline var deadlineCount = 0
    /// In the table of a bounded shard, each entry's ``PolicyNode``; in a table that
    /// records accesses (``accessClock``), each entry's access word. One per slot (read
    /// only where the slot is occupied); nil in other tables, which pay nothing for it.
    /// Entries carry their word when they move, as they carry deadlines.
    @exclusivity(unchecked) @usableFromInline var nodes: UnsafeMutablePointer<PolicyNode>?
    /// In the table of a store that records accesses (the server's), the clock that
    /// stamps each entry's access word; the words are kept in ``nodes``. Nil elsewhere.
    /// See ``AccessClock``.
    @exclusivity(unchecked) @usableFromInline var accessClock: AccessClock?
    /// The state of the pseudo-random numbers a frequency touch draws (changed under the
    /// shard's lock, as the words are).
    @exclusivity(unchecked) @usableFromInline var accessRandom: UInt64 = 0x853C_49E6_748F_EA9B
    /// Where the value lies inside a slot.
    @usableFromInline let valueOffset: Int
    /// Where the key lies inside a slot.
    @usableFromInline let keyOffset: Int
    /// `MemoryLayout<Slot>.stride`, kept: code that is not specialized (snapshots, the
    /// server's generic paths) would otherwise look up `Slot`'s metadata on every probe.
    @usableFromInline let slotStride: Int

    @inlinable
    init(capacity: Int) {
        self.capacity = capacity
        // `offset(of:)` is nil only for computed properties; these are stored.
        valueOffset = MemoryLayout<Slot>.offset(of: \Slot.value) ?? 0
        keyOffset = MemoryLayout<Slot>.offset(of: \Slot.key) ?? 0
        slotStride = MemoryLayout<Slot>.stride
        // Large slot arrays go on huge pages (see TableMemory for the figures).
        slots = TableMemory.allocate(
            byteCount: Swift.max(capacity, 1) * slotStride,
            alignment: MemoryLayout<Slot>.alignment
        ).bindMemory(to: Slot.self, capacity: Swift.max(capacity, 1))
        let tagBytes = Self.tagBytes(for: capacity)
        tags = UnsafeMutablePointer<UInt8>.allocate(capacity: tagBytes)
        tags.initialize(repeating: 0, count: tagBytes)
    }

    deinit {
        // A class's deinit runs unspecialized, through its metadata, where a per-slot
        // `(slots + slot).deinitialize(count: 1)` would look up `Slot`'s generic metadata
        // for every entry. `Key` and `Value` are the class's own generic arguments, at hand
        // without a lookup, so each entry's key and value are released directly.
        //
        // The fields are read once, into locals: unspecialized code finds a generic
        // class's field through its metadata, and would read them again after each call
        // that releases a key or a value.
        if !_isPOD(Key.self) || !_isPOD(Value.self) {
            let raw = UnsafeMutableRawPointer(slots)
            let (tags, stride, keyOffset, valueOffset) = (self.tags, slotStride, self.keyOffset, self.valueOffset)
            Self.forEachOccupiedSlot(capacity: capacity, tags: tags) { slot in
                let base = raw + slot &* stride
                (base + keyOffset).assumingMemoryBound(to: Key.self).deinitialize(count: 1)
                (base + valueOffset).assumingMemoryBound(to: Value.self).deinitialize(count: 1)
            }
        }
        TableMemory.deallocate(
            UnsafeMutableRawPointer(slots),
            byteCount: Swift.max(capacity, 1) * slotStride,
            alignment: MemoryLayout<Slot>.alignment
        )
        tags.deallocate()
        deadlines?.deallocate()
        nodes?.deallocate()
    }

    /// The words of a bitmap of `capacity` slots (at least one).
    @inlinable
    static func bitmapWords(for capacity: Int) -> Int {
        Swift.max((capacity + 63) / 64, 1)
    }

    /// The bytes of the tags of `capacity` slots: a whole number of 8-byte groups (at
    /// least one), so that ``occupiedBits(of:in:)`` reads only what is allocated.
    @inlinable
    static func tagBytes(for capacity: Int) -> Int {
        Swift.max((capacity + 7) & ~7, 8)
    }

    /// The entries the table may hold before it must grow: 85% of the slots.
    @inlinable var maxCount: Int { Self.maxCount(capacity: capacity) }

    /// The entries a table of `capacity` slots may hold: 85% of them (see the type's
    /// "Layout" note for the figures).
    @inlinable @inline(__always)
    static func maxCount(capacity: Int) -> Int { capacity &* 17 / 20 }

    /// The smallest capacity of the ladder (8, 12, 16, 24, …, 4,096, 5,120, 6,144, 7,168,
    /// 8,192, …) that holds `count` entries at ``maxCount``.
    @inlinable
    static func capacity(for count: Int) -> Int {
        guard count > 0 else { return 0 }
        var capacity = 8
        while Self.maxCount(capacity: capacity) < count { capacity = Self.capacity(after: capacity) }
        return capacity
    }

    /// The next capacity of the ladder: below 4,096 slots 2^k → 1.5 × 2^k → 2^(k+1);
    /// from 4,096 on, steps of a quarter of the power of two below (2^k × 1, 1.25, 1.5,
    /// 1.75). Each step rehashes the table, so small tables, which grow often and hold
    /// few bytes, take the long steps.
    @inlinable
    static func capacity(after capacity: Int) -> Int {
        guard capacity >= 8 else { return 8 }
        guard capacity >= fineLadderStart else {
            return capacity & (capacity - 1) == 0 ? capacity + capacity / 2 : capacity / 3 * 4
        }
        let powerOfTwoBelow = 1 &<< (Int.bitWidth &- 1 &- capacity.leadingZeroBitCount)
        return capacity + powerOfTwoBelow / 4
    }

    /// The capacity from which the ladder takes quarter steps.
    @inlinable static var fineLadderStart: Int { 4_096 }

    // MARK: Tags and deadline bits

    /// The tag of an entry whose key's table hash is `hash`: its low 7 bits, with the
    /// high bit set so that no tag is 0 (an empty slot). A probe compares keys only where
    /// the tags are equal, 1 slot in 128 of those that hold another key.
    @inlinable @inline(__always)
    package static func tag(of hash: UInt64) -> UInt8 {
        UInt8(truncatingIfNeeded: hash) | 0x80
    }

    /// The high bit of each of the 8 tags of group `group` (slots `8 × group` to
    /// `8 × group + 7`), set where the slot is occupied: byte `i` of the result for slot
    /// `8 × group + i`.
    @inlinable @inline(__always)
    static func occupiedBits(of group: Int, in tags: UnsafeMutablePointer<UInt8>) -> UInt64 {
        let word = UnsafeRawPointer(tags).loadUnaligned(fromByteOffset: group &<< 3, as: UInt64.self)
        return UInt64(littleEndian: word) & 0x8080_8080_8080_8080
    }

    /// Calls `body` with each occupied slot of a table of `capacity` slots whose tags are
    /// `tags`, in slot order, reading the tags 8 at a time.
    @inlinable @inline(__always)
    static func forEachOccupiedSlot(capacity: Int, tags: UnsafeMutablePointer<UInt8>, _ body: (Int) -> Void) {
        for group in 0..<tagBytes(for: capacity) &>> 3 {
            var occupied = occupiedBits(of: group, in: tags)
            while occupied != 0 {
                body(group &<< 3 &+ occupied.trailingZeroBitCount &>> 3)
                occupied &= occupied &- 1
            }
        }
    }

    /// The bit of `slot` in its bitmap word.
    @inlinable @inline(__always)
    static func bit(of slot: Int) -> UInt64 {
        1 &<< UInt64(truncatingIfNeeded: slot & 63)
    }

    /// Whether `slot` holds an entry.
    @inlinable @inline(__always)
    func isOccupied(_ slot: Int) -> Bool {
        tags[slot] != 0
    }

    /// Whether the entry at `slot` has a deadline, given the storage's ``deadlines``.
    @inlinable @inline(__always)
    func hasDeadline(_ slot: Int, in deadlines: UnsafeMutablePointer<Int64>) -> Bool {
        UInt64(bitPattern: deadlines[capacity &+ slot &>> 6]) & Self.bit(of: slot) != 0
    }

    /// Whether the entry at `slot` (an occupied slot) has a deadline.
    @inlinable @inline(__always)
    func hasDeadline(_ slot: Int) -> Bool {
        guard let deadlines else { return false }
        return hasDeadline(slot, in: deadlines)
    }

    /// Sets or clears the deadline bit of `slot`, given the storage's ``deadlines``.
    @inlinable @inline(__always)
    func setDeadlineBit(_ on: Bool, at slot: Int, in deadlines: UnsafeMutablePointer<Int64>) {
        let word = capacity &+ slot &>> 6
        let bits = UInt64(bitPattern: deadlines[word])
        deadlines[word] = Int64(bitPattern: on ? bits | Self.bit(of: slot) : bits & ~Self.bit(of: slot))
    }

    // MARK: Deadlines

    /// The deadline of the entry at `slot` (an occupied slot), or 0 if it has none.
    @inlinable @inline(__always)
    func deadline(at slot: Int) -> Int64 {
        // In a table that never held a deadline this is one load of a field beside
        // `slots`, already in the cache: the deadline bits are in the deadlines' block.
        guard let deadlines, hasDeadline(slot, in: deadlines) else { return 0 }
        return deadlines[slot]
    }

    /// Records `deadline` (0 for none) as the deadline of the entry at `slot`, an occupied
    /// slot, allocating the deadlines on the first one.
    @inlinable @inline(__always)
    func setDeadline(_ deadline: Int64, at slot: Int) {
        if deadline == 0 {
            guard let deadlines, hasDeadline(slot, in: deadlines) else { return }
            setDeadlineBit(false, at: slot, in: deadlines)
            deadlineCount &-= 1
        } else {
            let deadlines = deadlinesAllocatingIfNeeded()
            if !hasDeadline(slot, in: deadlines) {
                setDeadlineBit(true, at: slot, in: deadlines)
                deadlineCount &+= 1
            }
            deadlines[slot] = deadline
        }
    }

    /// ``deadlines``, allocated if it was nil: the deadlines uninitialized, no deadline bit
    /// set, and the home distance of every entry already in the table recorded.
    @inlinable
    func deadlinesAllocatingIfNeeded() -> UnsafeMutablePointer<Int64> {
        if let deadlines { return deadlines }
        let words = Self.bitmapWords(for: capacity)
        let allocated = UnsafeMutablePointer<Int64>.allocate(capacity: capacity + words + (capacity + 7) / 8)
        (allocated + capacity).initialize(repeating: 0, count: words)
        deadlines = allocated
        // The home distances of the entries already here (one hash each, once per table).
        Self.forEachOccupiedSlot(capacity: capacity, tags: tags) { slot in
            setHomeDistance(of: slot, home: home(of: slots[slot].key.tableHash), in: allocated)
        }
        return allocated
    }

    // MARK: Home distances

    /// The home distance of the entry at `slot` (an occupied slot of a table with
    /// ``deadlines``): how many slots past its home slot it lies, 255 for 255 or more.
    ///
    /// Kept only where the deadlines are, in the same block after the deadline bits: one
    /// byte per slot. A removal shifts the rest of its probe run back, and must know each
    /// following entry's home to tell whether it may move; without the distance it hashes
    /// the entry's key. The expiry sweeper removes from tables with deadlines, and at up to
    /// 85% load the runs it shifts are long, so that hashing would dominate the sweep.
    @inlinable @inline(__always)
    func homeDistance(of slot: Int, in deadlines: UnsafeMutablePointer<Int64>) -> Int {
        Int(
            UnsafeRawPointer(deadlines + (capacity &+ Self.bitmapWords(for: capacity))).load(
                fromByteOffset: slot,
                as: UInt8.self
            )
        )
    }

    /// Records the home distance of the entry at `slot`, whose home slot is `home`.
    @inlinable @inline(__always)
    func setHomeDistance(of slot: Int, home: Int, in deadlines: UnsafeMutablePointer<Int64>) {
        setHomeDistance(Swift.min(slotsFrom(home, to: slot), 255), of: slot, in: deadlines)
    }

    /// Stores `distance` (0 to 255) as the home distance of `slot`.
    @inlinable @inline(__always)
    func setHomeDistance(_ distance: Int, of slot: Int, in deadlines: UnsafeMutablePointer<Int64>) {
        UnsafeMutableRawPointer(deadlines + (capacity &+ Self.bitmapWords(for: capacity)))
            .storeBytes(of: UInt8(truncatingIfNeeded: distance), toByteOffset: slot, as: UInt8.self)
    }

    /// The entry at `slot` (an occupied slot).
    @inlinable @inline(__always)
    func entry(at slot: Int) -> Entry<Value> {
        Entry(value: slots[slot].value, expiresAt: deadline(at: slot))
    }

    /// Replaces the entry at `slot` (an occupied slot) and returns the one it held.
    @inlinable @inline(__always)
    func replaceEntry(at slot: Int, with entry: Entry<Value>) -> Entry<Value> {
        // The table's reference to the old value moves out, bit for bit: copying it out
        // and assigning over it would retain and release it here, under the shard's lock,
        // and the old value's count is on a line that, for a key other threads read, is
        // in another core's cache.
        let expiresAt = deadline(at: slot)
        let value = valuePointer(at: slot)
        let previous = Entry(value: value.move(), expiresAt: expiresAt)
        value.initialize(to: entry.value)
        setDeadline(entry.expiresAt, at: slot)
        return previous
    }

    /// Stores `key`, whose table hash is `hash`, and `entry` in `slot`, an empty slot.
    @inlinable @inline(__always)
    func initialize(_ slot: Int, key: Key, hash: UInt64, entry: Entry<Value>) {
        (slots + slot).initialize(to: Slot(key: key, value: entry.value))
        tags[slot] = Self.tag(of: hash)
        if let accessClock { nodesAllocatingIfNeeded()[slot] = accessClock.newEntryWord() }
        // Before a first deadline allocates the block, which then records every entry's.
        if let deadlines { setHomeDistance(of: slot, home: home(of: hash), in: deadlines) }
        if entry.expiresAt != 0 {
            let deadlines = deadlinesAllocatingIfNeeded()
            setDeadlineBit(true, at: slot, in: deadlines)
            deadlines[slot] = entry.expiresAt
            deadlineCount &+= 1
        }
        count += 1
    }

    // MARK: Prefetching

    /// The first word of the value at `slot` (an occupied slot) read as an address: for an
    /// array, a class instance or a large string, where its heap storage starts. Only for
    /// prefetching, since for other values it is no address at all; nil for a value
    /// narrower than a word, or a zero word.
    @inlinable @inline(__always)
    func firstWordOfValue(at slot: Int) -> UnsafeRawPointer? {
        guard MemoryLayout<Value>.size >= MemoryLayout<UInt>.size else { return nil }
        let word = UnsafeRawPointer(slots + slot).load(fromByteOffset: valueOffset, as: UInt.self)
        return UnsafeRawPointer(bitPattern: word)
    }

    /// The address of the value in `slot` (an occupied slot). Valid while the storage
    /// lives and the slot is not changed: for lending the value in place under the
    /// shard's lock.
    @inlinable @inline(__always)
    func valuePointer(at slot: Int) -> UnsafeMutablePointer<Value> {
        (UnsafeMutableRawPointer(slots + slot) + valueOffset).assumingMemoryBound(to: Value.self)
    }

    /// ``nodes``, allocated if it was nil (the nodes uninitialized).
    @inlinable
    func nodesAllocatingIfNeeded() -> UnsafeMutablePointer<PolicyNode> {
        if let nodes { return nodes }
        let allocated = UnsafeMutablePointer<PolicyNode>.allocate(capacity: Swift.max(capacity, 1))
        nodes = allocated
        return allocated
    }

    /// Starts fetching the cache line of `slot` and the line after it (where a probe, or
    /// the shift after a removal, goes next) into the CPU's caches, with the tag, the
    /// deadline and the deadline bits of `slot`, which the sweep reads first.
    /// Past the last slot, the second prefetch is of memory the table does not own, which
    /// a prefetch may be.
    @inlinable @inline(__always)
    func prefetchSlots(from slot: Int) {
        let address = UnsafeRawPointer(slots + slot)
        ckvs_prefetch_for_write(address)
        ckvs_prefetch_for_write(address + 64)
        ckvs_prefetch_for_write(tags + slot)
        if let deadlines {
            ckvs_prefetch_for_write(deadlines + slot)
            ckvs_prefetch_for_write(deadlines + (capacity &+ slot &>> 6))
        }
    }

    /// Starts fetching the memory that releasing the value at `slot` touches, if the value
    /// is one word (an `Array`'s or a class's reference, whose first word is the object's
    /// address). A guess that costs little when wrong: the slot may hold another key, or
    /// the word may not be an address (a prefetch never faults). Call it once the slot is
    /// in the cache (``prefetchSlots(from:)``), else it waits for it.
    ///
    /// Four lines cover a small object (a 64-byte `[UInt8]` is a 112-byte heap block):
    /// malloc's header just before it, its first two lines, and the line that holds the
    /// next block's header, which `free` reads. Fewer lines leave the sweeper measurably
    /// slower (docs/design/shard-table.md).
    @inlinable @inline(__always)
    func prefetchValue(at slot: Int) {
        guard MemoryLayout<Value>.size == MemoryLayout<UInt>.size, isOccupied(slot),
            let object = firstWordOfValue(at: slot)
        else { return }
        ckvs_prefetch_for_write(object - 8)
        ckvs_prefetch_for_write(object)
        ckvs_prefetch_for_write(object + 64)
        ckvs_prefetch_for_write(object + 128)
    }

    // MARK: Probing

    /// The key's home slot: `hash` scaled to `0..<capacity` by the high half of a
    /// 64 × 64-bit product (the hash's high bits are as well mixed as its low ones).
    @inlinable @inline(__always)
    func home(of hash: UInt64) -> Int {
        Self.home(of: hash, capacity: capacity)
    }

    /// ``home(of:)`` in a table of `capacity` slots.
    @inlinable @inline(__always)
    package static func home(of hash: UInt64, capacity: Int) -> Int {
        Int(truncatingIfNeeded: hash.multipliedFullWidth(by: UInt64(truncatingIfNeeded: capacity)).high)
    }

    /// How many slots forward `slot` lies from `start`, wrapping at the end (0 when they
    /// are the same): an entry's home distance, from its home slot to its own.
    @inlinable @inline(__always)
    func slotsFrom(_ start: Int, to slot: Int) -> Int {
        slot >= start ? slot &- start : slot &+ capacity &- start
    }

    /// The slot after `slot`, wrapping at the end.
    @inlinable @inline(__always)
    func slot(after slot: Int) -> Int {
        let next = slot + 1
        return next == capacity ? 0 : next
    }

    /// The slot of `key`, or `nil`.
    @inlinable @inline(__always)
    func find(_ key: Key, hash: UInt64) -> Int? {
        guard capacity > 0 else { return nil }
        let tag = Self.tag(of: hash)
        var slot = home(of: hash)
        // The tag and the slot are on different lines: start the slot's now, so that its
        // miss overlaps the tag's instead of following it.
        ckvs_prefetch(UnsafeRawPointer(slots + slot))
        while true {
            let slotTag = tags[slot]
            if slotTag == 0 { return nil }
            if slotTag == tag && slots[slot].key == key { return slot }
            slot = self.slot(after: slot)
        }
    }

    @usableFromInline
    enum Probe {
        case found(Int)
        case empty(Int)
    }

    /// The slot of `key`, or the empty slot where it belongs. Needs a free slot.
    ///
    /// Always inlined (into `updateValue`), as `find` is into `get`: a call of its own
    /// costs measurably on writes (docs/design/shard-table.md).
    @inlinable @inline(__always)
    func findOrEmpty(_ key: Key, hash: UInt64) -> Probe {
        let tag = Self.tag(of: hash)
        var slot = home(of: hash)
        // As in `find`, and for writing: an insertion writes the slot it ends on, most often
        // the home slot's line.
        ckvs_prefetch_for_write(UnsafeRawPointer(slots + slot))
        while true {
            let slotTag = tags[slot]
            if slotTag == 0 { return .empty(slot) }
            if slotTag == tag && slots[slot].key == key { return .found(slot) }
            slot = self.slot(after: slot)
        }
    }

    /// The first empty slot at or after `slot`, wrapping at the end. Needs a free slot.
    ///
    /// Growth and copies insert keys that are known to be distinct, so they look for the
    /// first empty slot of the run and compare no keys, where `findOrEmpty` would call
    /// `String`'s comparison for each occupied slot it passed.
    @inlinable @inline(__always)
    func firstEmptySlot(from slot: Int) -> Int {
        var slot = slot
        while isOccupied(slot) { slot = self.slot(after: slot) }
        return slot
    }

    /// Removes every entry whose deadline is `deadline` from the probe run of `hash` (see
    /// ``ShardTable/removeEntries(expiring:)``).
    @inlinable
    func removeEntries(
        expiringAt deadline: Int64,
        hash: UInt64,
        removedNodes: inout [PolicyNode],
        removedEntries: inout [(key: Key, entry: Entry<Value>)]?
    ) -> Int {
        guard capacity > 0, let deadlines else { return 0 }  // no deadlines, nothing expires
        var removed = 0
        var slot = home(of: hash)
        while isOccupied(slot) {
            if hasDeadline(slot, in: deadlines) && deadlines[slot] == deadline {
                if let nodes { removedNodes.append(nodes[slot]) }
                if removedEntries != nil {
                    let key = slots[slot].key
                    removedEntries?.append((key, remove(at: slot)))
                } else {
                    _ = remove(at: slot)
                }  // the rest of the run shifts back: `slot` is looked at again
                removed += 1
            } else {
                slot = self.slot(after: slot)
            }
        }
        return removed
    }

    /// See ``ShardTable/holdsEntry(expiringAt:hash:)``.
    @inlinable
    func holdsEntry(expiringAt deadline: Int64, hash: UInt64) -> Bool {
        guard capacity > 0, let deadlines else { return false }
        let tag = Self.tag(of: hash)
        var slot = home(of: hash)
        while isOccupied(slot) {
            if tags[slot] == tag && hasDeadline(slot, in: deadlines) && deadlines[slot] == deadline
                && slots[slot].key.tableHash == hash
            {
                return true
            }
            slot = self.slot(after: slot)
        }
        return false
    }

    // MARK: Removal and resizing

    /// Removes the entry at `slot` and shifts the rest of its probe run back, so that
    /// every entry stays reachable from its home slot without crossing an empty one.
    @inlinable
    func remove(at slot: Int) -> Entry<Value> {
        let deadlines = self.deadlines
        // The deadline bit of the hole stays as it is while entries move into it: exactly
        // one slot ends up empty, the last hole, and only its bits are cleared, at the
        // end: two bitmap writes fewer per entry moved. A tag is a byte, copied along with
        // its entry.
        var holeHasDeadline = false
        var expiresAt: Int64 = 0
        if let deadlines, hasDeadline(slot, in: deadlines) {
            holeHasDeadline = true
            expiresAt = deadlines[slot]
            deadlineCount &-= 1
        }
        let removed = Entry(value: (slots + slot).move().value, expiresAt: expiresAt)
        count -= 1
        var hole = slot
        var next = self.slot(after: slot)
        while isOccupied(next) {
            // The entry at `next` may move into the hole unless its home lies cyclically
            // in (hole, next]: then it would end up before its home. That is, unless its
            // home distance is less than the gap from the hole to it.
            let gap = slotsFrom(hole, to: next)
            var distance = deadlines.map { homeDistance(of: next, in: $0) } ?? 255
            if distance == 255 {  // no distances kept, or 255 or more: from the hash
                distance = slotsFrom(home(of: slots[next].key.tableHash), to: next)
            }
            if distance >= gap {
                (slots + hole).moveInitialize(from: slots + next, count: 1)
                tags[hole] = tags[next]
                if let nodes { nodes[hole] = nodes[next] }
                if let deadlines {
                    setHomeDistance(Swift.min(distance &- gap, 255), of: hole, in: deadlines)
                    let nextHasDeadline = hasDeadline(next, in: deadlines)
                    if nextHasDeadline { deadlines[hole] = deadlines[next] }
                    if nextHasDeadline != holeHasDeadline { setDeadlineBit(nextHasDeadline, at: hole, in: deadlines) }
                    holeHasDeadline = nextHasDeadline
                }
                hole = next
            }
            next = self.slot(after: next)
        }
        tags[hole] = 0
        if holeHasDeadline, let deadlines { setDeadlineBit(false, at: hole, in: deadlines) }
        return removed
    }

    /// A storage of the same capacity holding this one's entries in the same slots, moved
    /// out (this storage is left empty): the table's new block, with no rehashing.
    ///
    /// - Complexity: O(capacity).
    @inlinable
    func relocated() -> ShardTableStorage {
        let copy = ShardTableStorage(capacity: capacity)
        let tagBytes = Self.tagBytes(for: capacity)
        Self.forEachOccupiedSlot(capacity: capacity, tags: tags) { slot in
            (copy.slots + slot).moveInitialize(from: slots + slot, count: 1)
        }
        copy.tags.update(from: tags, count: tagBytes)
        tags.update(repeating: 0, count: tagBytes)
        // The deadlines and their bitmap are indexed by slot, as the slots are: they go along.
        copy.deadlines = deadlines
        deadlines = nil
        copy.nodes = nodes
        nodes = nil
        (copy.accessClock, copy.accessRandom) = (accessClock, accessRandom)
        (copy.count, copy.deadlineCount) = (count, deadlineCount)
        (count, deadlineCount) = (0, 0)
        return copy
    }

    /// A table with `newCapacity` slots (at least the current count at ``maxCount``) and the
    /// same entries: moved out of this one when `moving` (which is then left empty, for
    /// a storage no one else references), copied otherwise. The copy has deadlines only if
    /// an entry has one.
    @inlinable
    func resized(to newCapacity: Int, moving: Bool) -> ShardTableStorage {
        let copy = ShardTableStorage(capacity: newCapacity)
        (copy.accessClock, copy.accessRandom) = (accessClock, accessRandom)
        let deadlines = self.deadlines
        let newDeadlines = deadlineCount > 0 ? copy.deadlinesAllocatingIfNeeded() : nil
        let nodes = self.nodes
        let newNodes = nodes == nil ? nil : copy.nodesAllocatingIfNeeded()
        Self.forEachOccupiedSlot(capacity: capacity, tags: tags) { slot in
            let home = copy.home(of: slots[slot].key.tableHash)
            let target = copy.firstEmptySlot(from: home)
            if let newDeadlines { copy.setHomeDistance(of: target, home: home, in: newDeadlines) }
            if moving {
                (copy.slots + target).moveInitialize(from: slots + slot, count: 1)
            } else {
                (copy.slots + target).initialize(to: slots[slot])
            }
            copy.tags[target] = tags[slot]  // the tag depends on the hash only
            if let nodes, let newNodes { newNodes[target] = nodes[slot] }
            if let deadlines, let newDeadlines, hasDeadline(slot, in: deadlines) {
                newDeadlines[target] = deadlines[slot]
                copy.setDeadlineBit(true, at: target, in: newDeadlines)
            }
        }
        copy.count = count
        copy.deadlineCount = deadlineCount
        if moving {  // every entry was moved out: this storage is empty now
            tags.update(repeating: 0, count: Self.tagBytes(for: capacity))
            deadlines?.deallocate()
            self.deadlines = nil
            nodes?.deallocate()
            self.nodes = nil
            count = 0
            deadlineCount = 0
        }
        return copy
    }
}
