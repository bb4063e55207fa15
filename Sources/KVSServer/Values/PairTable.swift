import KVS

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A hash table of byte-string pairs (field → value): the `hashtable` encoding of a large
/// hash.
///
/// Built for memory and for SCAN, as Redis's dict is:
/// - **One allocation per entry**: the link to the next entry of its bucket, the two
///   lengths, then the field's and the value's bytes, in one malloc block. A Swift
///   `Dictionary<ValueBytes, ValueBytes>` took two object blocks per entry and a 16-byte
///   slot (docs/design/server-value-types.md).
/// - **Chained buckets, a power of two of them**, grown ×2 when the entries outnumber the
///   buckets and shrunk when under a tenth are used; an entry stays in its bucket between
///   resizes, and after one it is in a bucket whose index extends the old one's bits.
///   So ``scan(from:_:)`` can walk buckets in Redis's reverse-binary cursor order and
///   resume from a cursor across removals and resizes, returning every entry present
///   throughout at least once.
///
/// The bucket of a field comes from ``TableHash`` (seeded per process, so a client cannot
/// aim fields at one bucket).
///
/// A value type over unmanaged memory: its owner frees it with ``deallocate()`` exactly
/// once and copies it with ``copied()``; ``HashValue/Storage`` does both. A failed malloc
/// stops the process, as a failed allocation of any Swift object does.
///
/// Thread-safety: none of its own; the owner confines changes to one thread.
struct PairTable {
    /// The buckets: each the first entry of its chain, or nil.
    private var buckets: UnsafeMutablePointer<UnsafeMutableRawPointer?>
    /// The number of buckets minus one (the number is a power of two, at least 4).
    private(set) var mask: Int
    /// How many entries the table holds.
    private(set) var count: Int

    /// The bytes before an entry's field: the next entry, the field's length, the
    /// value's length.
    private static let header = 24
    private static let minimumBuckets = 4

    /// An empty table with room for `capacity` entries before it grows.
    init(capacity: Int = 0) {
        var n = Self.minimumBuckets
        while n < capacity, n < Int.max / 4 { n <<= 1 }
        buckets = .allocate(capacity: n)
        buckets.initialize(repeating: nil, count: n)
        mask = n - 1
        count = 0
    }

    /// The number of buckets.
    var bucketCount: Int { mask + 1 }

    /// Frees every entry and the buckets. The table must not be used afterwards.
    func deallocate() {
        for b in 0...mask {
            var entry = buckets[b]
            while let e = entry {
                entry = Self.next(e)
                free(e)
            }
        }
        buckets.deallocate()
    }

    /// A copy with its own entries, in the same buckets (so a scan cursor means the same
    /// in both).
    ///
    /// - Complexity: O(n), one allocation per entry.
    func copied() -> PairTable {
        var copy = PairTable(capacity: 0)
        copy.buckets.deallocate()
        copy.buckets = .allocate(capacity: bucketCount)
        copy.buckets.initialize(repeating: nil, count: bucketCount)
        copy.mask = mask
        copy.count = count
        for b in 0...mask {
            // Rebuilt in the same order: the last entry first, each pushed at the head.
            var chain: [UnsafeMutableRawPointer] = []
            var entry = buckets[b]
            while let e = entry {
                chain.append(e)
                entry = Self.next(e)
            }
            for e in chain.reversed() {
                let size = Self.header + Self.fieldLength(e) + Self.valueLength(e)
                // Out of memory stops the process, as a failed allocation of Swift's own does.
                guard let c = malloc(size) else { fatalError("PairTable: out of memory") }
                c.copyMemory(from: e, byteCount: size)
                Self.setNext(c, copy.buckets[b])
                copy.buckets[b] = c
            }
        }
        return copy
    }

    // MARK: Entries

    private static func next(_ e: UnsafeMutableRawPointer) -> UnsafeMutableRawPointer? {
        e.load(as: UnsafeMutableRawPointer?.self)
    }

    private static func setNext(_ e: UnsafeMutableRawPointer, _ next: UnsafeMutableRawPointer?) {
        e.storeBytes(of: next, as: UnsafeMutableRawPointer?.self)
    }

    private static func fieldLength(_ e: UnsafeMutableRawPointer) -> Int { e.load(fromByteOffset: 8, as: Int.self) }
    private static func valueLength(_ e: UnsafeMutableRawPointer) -> Int { e.load(fromByteOffset: 16, as: Int.self) }

    private static func field(_ e: UnsafeMutableRawPointer) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: e + header, count: fieldLength(e))
    }

    private static func value(_ e: UnsafeMutableRawPointer) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: e + header + fieldLength(e), count: valueLength(e))
    }

    /// A new entry holding `field` and `value`, linked to `next`.
    private static func makeEntry(
        _ field: UnsafeRawBufferPointer,
        _ value: UnsafeRawBufferPointer,
        next: UnsafeMutableRawPointer?
    ) -> UnsafeMutableRawPointer {
        // Out of memory stops the process, as a failed allocation of Swift's own does.
        guard let e = malloc(header + field.count + value.count) else { fatalError("PairTable: out of memory") }
        setNext(e, next)
        e.storeBytes(of: field.count, toByteOffset: 8, as: Int.self)
        e.storeBytes(of: value.count, toByteOffset: 16, as: Int.self)
        if let base = field.baseAddress { (e + header).copyMemory(from: base, byteCount: field.count) }
        if let base = value.baseAddress { (e + header + field.count).copyMemory(from: base, byteCount: value.count) }
        return e
    }

    private func bucket(of field: UnsafeRawBufferPointer) -> Int {
        Int(truncatingIfNeeded: TableHash.hash(field)) & mask
    }

    /// The link that points at `field`'s entry (a bucket, or the previous entry's next
    /// field), or nil.
    private func link(to field: UnsafeRawBufferPointer) -> UnsafeMutableRawPointer? {
        var link = UnsafeMutableRawPointer(buckets + bucket(of: field))
        while let e = link.load(as: UnsafeMutableRawPointer?.self) {
            if Self.fieldLength(e) == field.count,
                field.count == 0 || memcmp(e + Self.header, field.baseAddress!, field.count) == 0
            {
                return link
            }
            link = e
        }
        return nil
    }

    // MARK: Reading

    /// Calls `body` with the value of `field` (valid only for the call), or nil.
    ///
    /// - Complexity: O(1) on average.
    func withValue<R>(of field: UnsafeRawBufferPointer, _ body: (UnsafeRawBufferPointer?) -> R) -> R {
        guard let link = link(to: field), let e = link.load(as: UnsafeMutableRawPointer?.self) else {
            return body(nil)
        }
        return body(Self.value(e))
    }

    /// Calls `body` with each field and value (valid only for the call), in bucket order.
    ///
    /// - Complexity: O(n + buckets).
    func forEachPair(_ body: (_ field: UnsafeRawBufferPointer, _ value: UnsafeRawBufferPointer) -> Void) {
        for b in 0...mask {
            var entry = buckets[b]
            while let e = entry {
                body(Self.field(e), Self.value(e))
                entry = Self.next(e)
            }
        }
    }

    /// Calls `body` with the entries of the bucket `cursor` names, and returns the cursor
    /// of the next bucket in Redis's reverse-binary order (`dictScan`), 0 after the last.
    ///
    /// Every entry present from the first call to the last of a full scan is passed at
    /// least once, however the table grows or shrinks between calls; one may be passed
    /// twice after a shrink.
    ///
    /// - Complexity: O(length of one chain).
    func scan(
        from cursor: UInt64,
        _ body: (_ field: UnsafeRawBufferPointer, _ value: UnsafeRawBufferPointer) -> Void
    )
        -> UInt64
    {
        let m = UInt64(mask)
        var entry = buckets[Int(cursor & m)]
        while let e = entry {
            body(Self.field(e), Self.value(e))
            entry = Self.next(e)
        }
        return ScanCursor.next(after: cursor, mask: m)
    }

    /// A field and value picked at random (valid only for the call): a random non-empty
    /// bucket, then a random entry of its chain, as Redis's `dictGetRandomKey` picks.
    ///
    /// - Precondition: the table is not empty.
    /// - Complexity: O(buckets / count + chain) on average; the table keeps at least a
    ///   tenth of its buckets' worth of entries, so about 10 tries at worst on average.
    func withRandomEntry<R, G: RandomNumberGenerator>(
        using generator: inout G,
        _ body: (_ field: UnsafeRawBufferPointer, _ value: UnsafeRawBufferPointer) -> R
    ) -> R {
        precondition(count > 0, "PairTable: random entry of an empty table")
        var b = Int.random(in: 0...mask, using: &generator)
        // A bounded search: after 64 misses, the next non-empty bucket from there.
        var tries = 0
        while buckets[b] == nil {
            tries += 1
            b = tries < 64 ? Int.random(in: 0...mask, using: &generator) : (b + 1) & mask
        }
        var chain: [UnsafeMutableRawPointer] = []
        var entry = buckets[b]
        while let e = entry {
            chain.append(e)
            entry = Self.next(e)
        }
        let e = chain[Int.random(in: 0..<chain.count, using: &generator)]
        return body(Self.field(e), Self.value(e))
    }

    // MARK: Writing

    /// Sets `field` to `value`; returns whether the field is new.
    ///
    /// - Complexity: O(1) on average; O(n) when the table grows.
    @discardableResult
    mutating func set(_ field: UnsafeRawBufferPointer, to value: UnsafeRawBufferPointer) -> Bool {
        if let link = link(to: field), let old = link.load(as: UnsafeMutableRawPointer?.self) {
            if Self.valueLength(old) == value.count {
                if let base = value.baseAddress {
                    (old + Self.header + field.count).copyMemory(from: base, byteCount: value.count)
                }
            } else {
                let e = Self.makeEntry(field, value, next: Self.next(old))
                link.storeBytes(of: e, as: UnsafeMutableRawPointer?.self)
                free(old)
            }
            return false
        }
        let b = bucket(of: field)
        buckets[b] = Self.makeEntry(field, value, next: buckets[b])
        count += 1
        if count > bucketCount { resize(to: bucketCount * 2) }
        return true
    }

    /// Removes `field`; returns whether it was there.
    ///
    /// - Complexity: O(1) on average; O(n) when the table shrinks.
    @discardableResult
    mutating func remove(_ field: UnsafeRawBufferPointer) -> Bool {
        guard let link = link(to: field), let e = link.load(as: UnsafeMutableRawPointer?.self) else { return false }
        link.storeBytes(of: Self.next(e), as: UnsafeMutableRawPointer?.self)
        free(e)
        count -= 1
        // Under a tenth full (Redis's HASHTABLE_MIN_FILL): to the smallest size that holds them.
        if bucketCount > Self.minimumBuckets, count * 10 < bucketCount {
            var n = Self.minimumBuckets
            while n < count { n <<= 1 }
            resize(to: n)
        }
        return true
    }

    /// Moves every entry into `n` buckets (a power of two).
    private mutating func resize(to n: Int) {
        let old = buckets
        let oldCount = bucketCount
        buckets = .allocate(capacity: n)
        buckets.initialize(repeating: nil, count: n)
        mask = n - 1
        for b in 0..<oldCount {
            var entry = old[b]
            while let e = entry {
                entry = Self.next(e)
                let target = bucket(of: Self.field(e))
                Self.setNext(e, buckets[target])
                buckets[target] = e
            }
        }
        old.deallocate()
    }

    // MARK: Memory

    /// The bytes of heap the table takes, as glibc's malloc hands them out: the bucket
    /// array and every entry's block.
    ///
    /// - Complexity: O(n).
    var heapBytes: Int {
        var total = MallocSize.chunk(requesting: bucketCount * 8)
        for b in 0...mask {
            var entry = buckets[b]
            while let e = entry {
                total += MallocSize.chunk(requesting: Self.header + Self.fieldLength(e) + Self.valueLength(e))
                entry = Self.next(e)
            }
        }
        return total
    }
}
