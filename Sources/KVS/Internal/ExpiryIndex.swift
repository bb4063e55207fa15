import HeapModule

/// A shard's index of the keys that carry a time-to-live, ordered by deadline, so that
/// background expiry touches only keys that are due: its cost grows with the number of
/// keys that carry a TTL, never with the size of the store.
///
/// The index is a min-heap of `(deadline, key)` with lazy deletion: overwriting,
/// deleting or persisting a key does not search the heap; the stale item stays until it
/// reaches the top (where the sweeper drops it because the table no longer holds that
/// deadline) or until ``compactIfNeeded(table:)`` rebuilds the heap,
/// which it does once stale items outnumber live ones, so memory stays within a
/// constant factor of the number of TTL keys.
@usableFromInline
package struct ExpiryIndex<Key: Hashable> {
    package struct Item: Comparable {
        package var deadline: Int64
        package var key: Key

        package static func < (a: Item, b: Item) -> Bool { a.deadline < b.deadline }
        package static func == (a: Item, b: Item) -> Bool { a.deadline == b.deadline && a.key == b.key }
    }

    private var heap = Heap<Item>()
    /// How many table entries carry a deadline (kept by the shard).
    @usableFromInline package var liveCount = 0

    package init() {}

    /// The earliest deadline in the index (possibly stale), or `Int64.max` when empty.
    package var earliestDeadline: Int64 { heap.min?.deadline ?? .max }

    /// The number of items, stale ones included.
    @usableFromInline package var itemCount: Int { heap.count }

    /// Records that `key` now expires at `deadline`.
    ///
    /// - Complexity: O(log n).
    package mutating func insert(_ key: Key, deadline: Int64) {
        heap.insert(Item(deadline: deadline, key: key))
    }

    /// Removes and returns the earliest item if its deadline is at or before `now`; the
    /// caller checks that it is still current (the table still holds that deadline for
    /// that key) and ignores it otherwise.
    ///
    /// - Complexity: O(log n).
    package mutating func popDue(now: Int64) -> Item? {
        guard let top = heap.min, top.deadline <= now else { return nil }
        return heap.removeMin()
    }

    /// Rebuilds the heap without its stale items (those whose key `table` no longer holds
    /// with that deadline) when they outnumber the live ones.
    ///
    /// - Complexity: amortized O(1) per insertion: a rebuild costs O(n) and happens only
    ///   after more than `liveCount + 64` stale insertions.
    package mutating func compactIfNeeded<Value>(table: [Key: Entry<Value>]) {
        guard heap.count > 2 * liveCount + 64 else { return }
        // Keep one item per key, and only if the table still holds its deadline: after
        // this the heap has at most `liveCount` items.
        var kept = Set<Key>(minimumCapacity: liveCount)
        heap = Heap(heap.unordered.filter { table[$0.key]?.expiresAt == $0.deadline && kept.insert($0.key).inserted })
    }

    /// Removes everything.
    package mutating func removeAll() {
        heap = Heap()
        liveCount = 0
    }

    /// All items, in no order (for invariant checks).
    package var unorderedItems: [Item] { heap.unordered }
}

extension ExpiryIndex: Sendable where Key: Sendable {}
extension ExpiryIndex.Item: Sendable where Key: Sendable {}
