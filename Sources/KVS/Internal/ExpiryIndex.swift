import HeapModule

/// A shard's index of the keys that carry a time-to-live, grouped by deadline, so that
/// background expiry touches only keys that are due: its cost grows with the number of
/// keys that carry a TTL, never with the size of the store.
///
/// The shards store their keys' table hashes as the items' keys, not the keys (see
/// ``ShardState/expiry``); the tests use `String` keys.
///
/// **Layout.** Items `(deadline, key)` go into buckets of about 33 ms of deadlines
/// (`deadline >> 25` nanoseconds), each an array that only grows at its end; a small
/// min-heap orders the bucket numbers. A write appends to one array (amortized O(1)); the
/// sweeper walks the earliest bucket front to back. This replaced a min-heap of items:
/// with 1,000,000 TTL keys and 100,000 expiring per second, its sift-downs (a cache miss
/// per level) were half of the sweeper's time (`kvs-bench EXP 1`, perf).
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

    /// log2 of a bucket's span in nanoseconds (2^25 ns, about 33.6 ms). The background sweep
    /// visits a shard 40 ms after its earliest deadline, so it mostly finds whole buckets due;
    /// 2^23 (8 ms) buckets held 3 or 4 keys a shard at 100,000 expiries a second and cost
    /// the sweeper a sixth more CPU (`kvs-bench EXP 1`: 11.5% against 10%).
    @inlinable static var bucketShift: Int64 { 25 }

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
        if let index = buckets.index(forKey: number) {  // one hash lookup for the append
            buckets.values[index].items.append(item)
            if deadline < buckets.values[index].earliest { buckets.values[index].earliest = deadline }
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
    /// Each bucket is changed in place (one hash lookup per bucket visited): the version
    /// that took each bucket out of the dictionary and put the rest back, and returned a
    /// new array per call, spent 620 of the sweep's 1,390 instructions per expired key in
    /// here, half of them in `malloc` (callgrind, `kvs-bench EXPSWEEP 1`).
    ///
    /// - Returns: how many items it appended.
    @inlinable @discardableResult
    package mutating func popDue(now: Int64, limit: Int, into due: inout [Item]) -> Int {
        var taken = 0
        while taken < limit, let number = order.min {
            guard let index = buckets.index(forKey: number) else {
                _ = order.removeMin()  // unreachable: every number in `order` has a bucket
                continue
            }
            guard buckets.values[index].earliest <= now else { break }
            let wholeBucketDue = (number &+ 1) << Self.bucketShift <= now + 1
            taken += buckets.values[index].moveDue(now: now, wholeBucketDue: wholeBucketDue, limit: limit - taken, into: &due)
            if buckets.values[index].items.isEmpty {
                buckets.remove(at: index)
                _ = order.removeMin()
            }
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
        buckets = [:]
        order = Heap()
        storedItems = 0
        if !keepingLiveCount { liveCount = 0 }
    }

    /// Every item, in no particular order (for checks and rebuilds).
    @inlinable
    package var unorderedItems: [Item] { buckets.values.flatMap(\.items) }
}

extension ExpiryIndex: Sendable where Key: Sendable {}
extension ExpiryIndex.Item: Sendable where Key: Sendable {}
extension ExpiryIndex.Item: Hashable {}
extension ExpiryIndex.Bucket: Sendable where Key: Sendable {}
