import CKVSPrefetch
import HeapModule

/// A shard's index of the keys that carry a time-to-live, grouped by deadline, so that
/// background expiry touches only keys that are due: its cost grows with the number of
/// keys that carry a TTL, never with the size of the store.
///
/// The shards store their keys' table hashes as the items' keys, not the keys (see
/// ``ShardState/expiry``); the tests use `String` keys.
///
/// **Layout.** Items `(deadline, key)` go into buckets of about 268 ms of deadlines
/// (`deadline >> 28` nanoseconds), each an array that only grows at its end; a small
/// min-heap orders the bucket numbers. A write appends to one array (amortized O(1)); the
/// sweeper walks the earliest bucket front to back. A min-heap of items would cost a cache
/// miss per level of each sift-down (docs/design/expiry.md).
///
/// **Lazy deletion.** Overwriting, deleting or persisting a key does not search the
/// index; the stale item stays until the sweeper reaches it (and drops it because the
/// table no longer holds that deadline) or until ``compactIfNeeded(table:)`` rebuilds the
/// index, which it does once stale items outnumber live ones, so memory stays within a
/// constant factor of the number of TTL keys.
///
/// Every deadline is exact: a bucket whose time range is only partly past yields just the
/// items that are due and keeps the rest.
@usableFromInline
package struct ExpiryIndex<Key: Hashable> {
    @usableFromInline
    package struct Item {
        @usableFromInline package var deadline: Int64
        @usableFromInline package var key: Key

        @inlinable
        package init(deadline: Int64, key: Key) {
            self.deadline = deadline
            self.key = key
        }
    }

    @usableFromInline
    struct Bucket {
        @usableFromInline var items: [Item]
        /// No later than the earliest deadline among `items`.
        @usableFromInline var earliest: Int64

        @inlinable
        init(_ item: Item) {
            items = [item]
            earliest = item.deadline
        }

        @inlinable
        mutating func append(_ item: Item) {
            items.append(item)
            if item.deadline < earliest { earliest = item.deadline }
        }

        /// Moves up to `limit` items whose deadline is at or before `now` to `due` (all
        /// of the last `limit` items when the whole bucket is due) and keeps ``earliest``
        /// a lower bound of the rest.
        ///
        /// - Returns: how many items it moved.
        @inlinable
        mutating func moveDue(now: Int64, wholeBucketDue: Bool, limit: Int, into due: inout [Item]) -> Int {
            if wholeBucketDue {
                let take = Swift.min(limit, items.count)
                due.append(contentsOf: items[(items.count - take)...])
                items.removeLast(take)
                return take
            }
            // Partly due: swap each due item with the last one and drop it.
            var moved = 0
            var kept = Int64.max
            var i = 0
            while i < items.count {
                if items[i].deadline <= now && moved < limit {
                    due.append(items[i])
                    items.swapAt(i, items.count - 1)
                    items.removeLast()
                    moved += 1
                } else {
                    kept = Swift.min(kept, items[i].deadline)
                    i += 1
                }
            }
            earliest = kept
            return moved
        }
    }

    /// log2 of a bucket's span in nanoseconds (2^28 ns, about 268 ms). The background sweep
    /// visits a shard every 40 to 55 ms, so it mostly finds the head bucket partly due and
    /// walks its items (in order, so the hardware prefetches them); a bucket is promoted (a
    /// heap pop, a dictionary removal and a new array, each a cache miss on memory the
    /// sweep last touched seconds ago) only once per five or six visits. Smaller buckets
    /// promote more often and cost the sweeper more CPU (docs/design/expiry.md).
    @inlinable static var bucketShift: Int64 { 28 }

    /// The earliest bucket, if taken out of `buckets` (its number below every number
    /// there), and its number. The sweep finds it here, in the shard's own memory, with no
    /// dictionary lookup or heap access; a bucket that is only partly due stays here
    /// between visits, which saves each visit two or three cache misses on the heap and the
    /// dictionary.
    @usableFromInline var head: Bucket?
    @usableFromInline var headNumber: Int64 = 0
    /// The other buckets, by number.
    @usableFromInline var buckets: [Int64: Bucket] = [:]
    /// The numbers of the buckets in `buckets`, earliest first.
    @usableFromInline var order = Heap<Int64>()
    @usableFromInline var storedItems = 0
    /// How many entries of the table carry a deadline (maintained by the shard).
    @usableFromInline package var liveCount = 0

    @inlinable
    package init() {}

    /// No later than the earliest deadline in the index; `Int64.max` when it is empty.
    @inlinable
    package var earliestDeadline: Int64 {
        if let head { return head.earliest }
        guard let first = order.min else { return .max }
        return buckets[first]?.earliest ?? .max
    }

    /// How many items the index holds, stale ones included.
    @inlinable package var itemCount: Int { storedItems }

    /// Adds `key`'s new deadline.
    ///
    /// - Complexity: amortized O(1); O(log b) for the first item of one of b buckets.
    @inlinable
    package mutating func insert(_ key: Key, deadline: Int64) {
        let item = Item(deadline: deadline, key: key)
        let number = deadline >> Self.bucketShift
        storedItems += 1
        if head != nil {
            if number == headNumber {
                head?.append(item)
                return
            }
            if number < headNumber { demoteHead() }  // the head must stay the earliest bucket
        }
        if let index = buckets.index(forKey: number) {  // one hash lookup for the append
            buckets.values[index].append(item)
        } else {
            buckets[number] = Bucket(item)
            order.insert(number)
        }
    }

    /// Removes and returns up to `limit` items whose deadline is at or before `now`,
    /// earliest buckets first (the order within a bucket is not by deadline).
    ///
    /// - Complexity: O(k) for k items returned, plus O(m) for a bucket of m items that is
    ///   only partly due, plus O(log b) per emptied bucket.
    @inlinable
    package mutating func popDue(now: Int64, limit: Int) -> [Item] {
        var due: [Item] = []
        popDue(now: now, limit: limit, into: &due)
        return due
    }

    /// ``popDue(now:limit:)`` that appends the items to `due`, so that a caller can reuse
    /// one buffer for every batch.
    ///
    /// Each bucket is changed in place (one hash lookup per bucket visited, no array
    /// allocated), since this runs for every expired key.
    ///
    /// - Returns: how many items it appended.
    @inlinable @discardableResult
    package mutating func popDue(now: Int64, limit: Int, into due: inout [Item]) -> Int {
        var taken = 0
        while taken < limit {
            if head == nil {
                // Promote the next bucket: one heap removal and one dictionary removal per
                // bucket, not per visit.
                guard let number = order.popMin() else { break }
                head = buckets.removeValue(forKey: number)
                headNumber = number
            }
            // Taken out (not copied) so that its items array stays uniquely referenced.
            guard var bucket = head.take() else { continue }  // unreachable: `order` names only buckets there
            guard bucket.earliest <= now else {
                head = bucket
                break
            }
            let wholeBucketDue = (headNumber &+ 1) << Self.bucketShift <= now + 1
            taken += bucket.moveDue(now: now, wholeBucketDue: wholeBucketDue, limit: limit - taken, into: &due)
            if !bucket.items.isEmpty { head = bucket }
        }
        storedItems -= taken
        return taken
    }

    /// Rebuilds the index with only the live items once stale ones outnumber them.
    ///
    /// - Complexity: O(t) for t items when it rebuilds, else O(1).
    @inlinable
    package mutating func compactIfNeeded<Value>(table: ShardTable<Key, Value>) {
        compactIfNeeded { table[$0.key]?.expiresAt == $0.deadline }
    }

    /// Rebuilds the index with one item per `(key, deadline)` that `isLive` accepts, once
    /// stale items outnumber live ones. `isLive` must accept the item of every entry
    /// that carries a deadline; after this the index has at most `liveCount` items if it
    /// accepts nothing else.
    ///
    /// - Complexity: O(t) calls of `isLive` for t items when it rebuilds, else O(1).
    @inlinable
    package mutating func compactIfNeeded(isLive: (Item) -> Bool) {
        guard storedItems > 2 * liveCount + 64 else { return }
        var kept = Set<Item>(minimumCapacity: liveCount)
        let live = unorderedItems.filter { isLive($0) && kept.insert($0).inserted }
        removeAll(keepingLiveCount: true)
        for item in live { insert(item.key, deadline: item.deadline) }
    }

    /// Empties the index (and sets ``liveCount`` to 0 unless told to keep it).
    @inlinable
    package mutating func removeAll(keepingLiveCount: Bool = false) {
        head = nil
        buckets = [:]
        order = Heap()
        storedItems = 0
        if !keepingLiveCount { liveCount = 0 }
    }

    /// Every item, in no particular order (for checks and rebuilds).
    @inlinable
    package var unorderedItems: [Item] { (head?.items ?? []) + buckets.values.flatMap(\.items) }

    /// Starts fetching the start of the head bucket's items into the CPU's caches,
    /// without reading them (the array's storage reference is the bucket's first word).
    @inlinable
    package func prefetchHead() {
        guard let head, MemoryLayout<[Item]>.size == MemoryLayout<UInt>.size else { return }
        let storage = unsafeBitCast(head.items, to: UInt.self)
        ckvs_prefetch_for_write(UnsafeRawPointer(bitPattern: storage))
        ckvs_prefetch_for_write(UnsafeRawPointer(bitPattern: storage &+ 64))
    }

    /// Moves the head bucket back into `buckets` (when an earlier one arrives).
    @inlinable
    mutating func demoteHead() {
        guard let bucket = head else { return }
        head = nil
        buckets[headNumber] = bucket
        order.insert(headNumber)
    }
}

extension ExpiryIndex: Sendable where Key: Sendable {}
extension ExpiryIndex.Item: Sendable where Key: Sendable {}
extension ExpiryIndex.Item: Hashable {}
extension ExpiryIndex.Bucket: Sendable where Key: Sendable {}
