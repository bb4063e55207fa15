import KVS

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The value of a Redis hash: fields and values, both byte strings.
///
/// Two encodings, as in Redis (t_hash.c): a small hash is one packed byte block (a
/// listpack: each field and value a length-prefixed run of bytes, searched linearly),
/// and a hash that outgrows ``HashLimits`` becomes a hash table for good. OBJECT
/// ENCODING names the one in use (`listpack`, `hashtable`).
///
/// A value type with copy-on-write: the stored value is one reference, so handing a hash
/// out of its shard's lock is a retain, and reading it afterwards is safe because a
/// writer copies a hash that anyone else references before changing it. A hash changed
/// where it lies in its table (``StoredValue/withCollection(_:_:)``) is referenced once, and
/// changes in place.
///
/// Thread-safety: `Sendable` as a value; see ``Storage``.
package struct HashValue: Sendable {
    /// The fields and values, in one of the two encodings.
    ///
    /// `@unchecked Sendable` is safe: a storage is changed only through a `HashValue`
    /// that holds the only reference to it (``makeUnique()`` copies it first otherwise),
    /// so a storage reachable from two threads is never written.
    package final class Storage: @unchecked Sendable {  // safe: see the doc comment above
        /// Whether the listpack encoding is in use (else the table).
        var isPacked: Bool
        /// The listpack: field and value after field, each a LEB128 length then bytes.
        var packed: [UInt8]
        /// How many fields the listpack holds.
        var packedCount: Int
        /// The table (nil while the listpack is in use); this storage owns its memory.
        var table: PairTable?

        init(isPacked: Bool, packed: [UInt8], packedCount: Int, table: PairTable?) {
            self.isPacked = isPacked
            self.packed = packed
            self.packedCount = packedCount
            self.table = table
        }

        deinit { table?.deallocate() }
    }

    var storage: Storage

    /// An empty hash, in the listpack encoding.
    package init() {
        storage = Storage(isPacked: true, packed: [], packedCount: 0, table: nil)
    }

    /// How many fields the hash has. O(1).
    package var count: Int { storage.table?.count ?? storage.packedCount }

    /// Whether the hash has no field (such a hash is never stored: its key is deleted).
    package var isEmpty: Bool { count == 0 }

    /// Whether the listpack encoding is in use.
    package var isPacked: Bool { storage.isPacked }

    /// Redis's name of the encoding in use (OBJECT ENCODING).
    package var encodingName: String { storage.isPacked ? "listpack" : "hashtable" }

    // MARK: Reading

    /// The value of `field`, or `nil`.
    ///
    /// - Complexity: O(size of the listpack), or O(1) on average for the table.
    package func value(of field: ValueBytes) -> ValueBytes? {
        if let table = storage.table {
            return field.withUnsafeBytes { wanted in table.withValue(of: wanted) { $0.map { ValueBytes($0) } } }
        }
        return field.withUnsafeBytes { wanted in
            storage.packed.withUnsafeBytes { packed in
                Listpack.find(wanted, in: packed).map { ValueBytes(UnsafeRawBufferPointer(rebasing: packed[$0.value])) }
            }
        }
    }

    /// The byte count of the value of `field`, or `nil` (HSTRLEN).
    package func valueLength(of field: ValueBytes) -> Int? {
        if let table = storage.table { return field.withUnsafeBytes { w in table.withValue(of: w) { $0?.count } } }
        return field.withUnsafeBytes { wanted in
            storage.packed.withUnsafeBytes { Listpack.find(wanted, in: $0)?.value.count }
        }
    }

    /// Calls `body` with each field and its value, in the hash's order (insertion order
    /// for a listpack, the table's for a table); the buffers are valid only for the call.
    ///
    /// - Complexity: O(n).
    package func forEachPair(_ body: (_ field: UnsafeRawBufferPointer, _ value: UnsafeRawBufferPointer) -> Void) {
        if let table = storage.table {
            table.forEachPair(body)
        } else {
            storage.packed.withUnsafeBytes { packed in
                Listpack.forEachPair(in: packed) { field, value in
                    body(
                        UnsafeRawBufferPointer(rebasing: packed[field]),
                        UnsafeRawBufferPointer(rebasing: packed[value])
                    )
                }
            }
        }
    }

    /// The field at `position` in the hash's order (see ``forEachPair(_:)``).
    ///
    /// - Precondition: `0 <= position < count`.
    /// - Complexity: O(position): a walk, without copying the other fields.
    package func field(at position: Int) -> ValueBytes {
        precondition(position >= 0 && position < count, "HashValue: field position out of range")
        if storage.table != nil {
            var seen = 0
            var found = ValueBytes([])
            forEachPair { field, _ in
                if seen == position { found = ValueBytes(field) }
                seen += 1
            }
            return found
        }
        return storage.packed.withUnsafeBytes { packed in
            var offset = 0
            for _ in 0..<position {
                offset = Listpack.element(at: Listpack.element(at: offset, in: packed).next, in: packed).next
            }
            return ValueBytes(UnsafeRawBufferPointer(rebasing: packed[Listpack.element(at: offset, in: packed).bytes]))
        }
    }

    /// A field picked at random.
    ///
    /// - Precondition: the hash is not empty.
    /// - Complexity: O(size of the listpack), or O(1) on average for the table.
    package func randomField() -> ValueBytes {
        if let table = storage.table {
            var generator = SystemRandomNumberGenerator()
            return table.withRandomEntry(using: &generator) { field, _ in ValueBytes(field) }
        }
        return field(at: Int.random(in: 0..<count))
    }

    /// HSCAN's step: calls `body` with the pairs of the table's bucket `cursor` names and
    /// returns the next cursor (0 after the last; see ``PairTable/scan(from:_:)``). A
    /// listpack is passed whole for any cursor, and the next cursor is 0, as in Redis.
    ///
    /// - Complexity: O(one bucket's chain), or O(n) for a listpack.
    package func scan(
        from cursor: UInt64,
        _ body: (_ field: UnsafeRawBufferPointer, _ value: UnsafeRawBufferPointer) -> Void
    ) -> UInt64 {
        guard let table = storage.table else {
            forEachPair(body)
            return 0
        }
        return table.scan(from: cursor, body)
    }

    /// Every field and value, as blocks of their own.
    ///
    /// - Complexity: O(n); allocates for a listpack.
    package var pairs: [(field: ValueBytes, value: ValueBytes)] {
        var out: [(field: ValueBytes, value: ValueBytes)] = []
        out.reserveCapacity(count)
        forEachPair { field, value in out.append((ValueBytes(field), ValueBytes(value))) }
        return out
    }

    // MARK: Writing

    /// Whether a hash holding these lengths must use the table (Redis's
    /// `hashTypeTryConversion`, which HSET and HSETNX run before they write).
    package static func needsTable(forLength length: Int, limits: HashLimits) -> Bool {
        length > limits.maxListpackValue
    }

    /// Sets `field` to `value`; returns whether the field is new.
    ///
    /// Converts to the table, for good, when a field or value is longer than
    /// `limits.maxListpackValue` or the count passes `limits.maxListpackEntries`, as
    /// Redis 7.0's `hashTypeSet` does for every command that writes a field.
    ///
    /// - Complexity: O(size of the listpack), or O(1) on average for the table.
    @discardableResult
    package mutating func set(_ field: ValueBytes, to value: ValueBytes, limits: HashLimits) -> Bool {
        makeUnique()
        if storage.isPacked,
            Self.needsTable(forLength: field.count, limits: limits)
                || Self.needsTable(forLength: value.count, limits: limits)
        {
            convertToTable()
        }
        if storage.table != nil {
            return field.withUnsafeBytes { f in value.withUnsafeBytes { v in storage.table!.set(f, to: v) } }
        }
        let found = field.withUnsafeBytes { wanted in storage.packed.withUnsafeBytes { Listpack.find(wanted, in: $0) } }
        if let found {
            value.withUnsafeBytes { Listpack.replaceValue(at: found, with: $0, in: &storage.packed) }
            return false
        }
        // Grown to the exact size, as Redis reallocates a listpack per insert: doubling
        // would leave up to half of every small hash's block unused.
        let needed = storage.packed.count + field.count + value.count + 10
        if storage.packed.capacity < needed { storage.packed.reserveCapacity(needed) }
        field.withUnsafeBytes { Listpack.append($0, to: &storage.packed) }
        value.withUnsafeBytes { Listpack.append($0, to: &storage.packed) }
        storage.packedCount += 1
        if storage.packedCount > limits.maxListpackEntries { convertToTable() }
        return true
    }

    /// Removes `field`; returns whether it was there.
    ///
    /// - Complexity: O(size of the listpack), or O(1) on average for the table.
    @discardableResult
    package mutating func remove(_ field: ValueBytes) -> Bool {
        // No copy of a shared hash for a field that is not there.
        guard valueLength(of: field) != nil else { return false }
        makeUnique()
        if storage.table != nil { return field.withUnsafeBytes { storage.table!.remove($0) } }
        guard let found = field.withUnsafeBytes({ w in storage.packed.withUnsafeBytes { Listpack.find(w, in: $0) } })
        else { return false }
        storage.packed.removeSubrange(found.entry)
        storage.packedCount -= 1
        return true
    }

    /// Copies the storage if another value references it.
    mutating func makeUnique() {
        if isKnownUniquelyReferenced(&storage) { return }
        storage = Storage(
            isPacked: storage.isPacked,
            packed: storage.packed,
            packedCount: storage.packedCount,
            table: storage.table?.copied()
        )
    }

    /// Moves the listpack's pairs into the table.
    mutating func convertToTable() {
        guard storage.isPacked else { return }
        var table = PairTable(capacity: storage.packedCount + 1)
        forEachPair { field, value in table.set(field, to: value) }
        storage.table = table
        storage.packed = []
        storage.packedCount = 0
        storage.isPacked = false
    }

    // MARK: Memory

    /// The bytes of heap the hash's blocks take, as glibc's malloc hands them out (MEMORY
    /// USAGE): the storage object, then the listpack's array, or the table's storage
    /// and every field's and value's block.
    ///
    /// - Complexity: O(1) for a listpack, O(n) for a table.
    package var heapBytes: Int {
        let object = MallocSize.chunk(requesting: 64)
        if storage.isPacked {
            return object
                + (storage.packed.capacity == 0 ? 0 : MallocSize.chunk(requesting: 32 + storage.packed.capacity))
        }
        return object + (storage.table?.heapBytes ?? 0)
    }
}

/// When a hash leaves the listpack encoding: Redis's `hash-max-listpack-entries` (more
/// fields than this) and `hash-max-listpack-value` (a field or value longer than this).
package struct HashLimits: Sendable, Equatable {
    /// `hash-max-listpack-entries`.
    package var maxListpackEntries: Int
    /// `hash-max-listpack-value`.
    package var maxListpackValue: Int

    /// Redis 7's defaults: 512 entries, 64 bytes.
    package static let redisDefaults = HashLimits(maxListpackEntries: 512, maxListpackValue: 64)

    package init(maxListpackEntries: Int, maxListpackValue: Int) {
        self.maxListpackEntries = maxListpackEntries
        self.maxListpackValue = maxListpackValue
    }
}

/// The byte layout of a listpack: each element a LEB128 length, then its bytes; a hash's
/// elements alternate field, value. Positions are byte offsets into the block.
enum Listpack {
    /// Where one pair lies: the whole pair, and the value's bytes.
    struct Pair {
        /// From the field's length prefix to the end of the value.
        var entry: Range<Int>
        /// The value's bytes.
        var value: Range<Int>
        /// The value's length prefix and bytes.
        var valueElement: Range<Int>
    }

    /// Reads the element at `offset`: its bytes and where the next element starts.
    @inline(__always)
    static func element(at offset: Int, in block: UnsafeRawBufferPointer) -> (bytes: Range<Int>, next: Int) {
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
        return (i..<(i + length), i + length)
    }

    /// The pair whose field is `field`, or `nil`.
    static func find(_ field: UnsafeRawBufferPointer, in block: UnsafeRawBufferPointer) -> Pair? {
        var offset = 0
        while offset < block.count {
            let f = element(at: offset, in: block)
            let v = element(at: f.next, in: block)
            if f.bytes.count == field.count,
                field.count == 0
                    || memcmp(block.baseAddress! + f.bytes.lowerBound, field.baseAddress!, field.count) == 0
            {
                return Pair(entry: offset..<v.next, value: v.bytes, valueElement: f.next..<v.next)
            }
            offset = v.next
        }
        return nil
    }

    /// Calls `body` with the byte ranges of each field and value.
    static func forEachPair(in block: UnsafeRawBufferPointer, _ body: (Range<Int>, Range<Int>) -> Void) {
        var offset = 0
        while offset < block.count {
            let f = element(at: offset, in: block)
            let v = element(at: f.next, in: block)
            body(f.bytes, v.bytes)
            offset = v.next
        }
    }

    /// `bytes` as one element: its length prefix, then the bytes.
    static func encoded(_ bytes: UnsafeRawBufferPointer) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count + 5)
        var n = bytes.count
        while n >= 0x80 {
            out.append(UInt8(truncatingIfNeeded: n) | 0x80)
            n >>= 7
        }
        out.append(UInt8(n))
        out.append(contentsOf: bytes)
        return out
    }

    /// Appends `bytes` as one element.
    static func append(_ bytes: UnsafeRawBufferPointer, to block: inout [UInt8]) {
        var n = bytes.count
        while n >= 0x80 {
            block.append(UInt8(truncatingIfNeeded: n) | 0x80)
            n >>= 7
        }
        block.append(UInt8(n))
        block.append(contentsOf: bytes)
    }

    /// Replaces the value of the pair at `pair` with `bytes`.
    static func replaceValue(at pair: Pair, with bytes: UnsafeRawBufferPointer, in block: inout [UInt8]) {
        block.replaceSubrange(pair.valueElement, with: encoded(bytes))
    }
}
