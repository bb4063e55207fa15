import KVS
import Testing

@Suite("ExpiryIndex: deadline buckets")
struct ExpiryIndexTests {
    /// An index with one item per deadline, keyed `k0`, `k1`, … in the order given.
    private func index(_ deadlines: [Int64]) -> ExpiryIndex<String> {
        var index = ExpiryIndex<String>()
        for (i, deadline) in deadlines.enumerated() { index.insert("k\(i)", deadline: deadline) }
        return index
    }

    @Test func aPartlyDueBucketYieldsOnlyTheDueItems() {
        var index = index([500, 100, 300, 200, 400])  // all in bucket 0
        #expect(index.earliestDeadline == 100)
        let due = index.popDue(now: 250, limit: 100)
        #expect(Set(due.map(\.deadline)) == [100, 200])
        #expect(index.itemCount == 3)
        #expect(index.earliestDeadline == 300, "the kept items' earliest deadline is published")
        #expect(index.popDue(now: 299, limit: 100).isEmpty)
        #expect(Set(index.popDue(now: 500, limit: 100).map(\.deadline)) == [300, 400, 500])
        #expect(index.itemCount == 0)
        #expect(index.earliestDeadline == .max)
    }

    @Test func bucketsComeOutEarliestFirstAndTheLimitHolds() {
        let span: Int64 = 1 << 25
        var index = index([3 * span + 1, span + 5, 2 * span + 7, span + 6, 5])
        #expect(index.earliestDeadline == 5)
        let first = index.popDue(now: .max - 1, limit: 2)
        #expect(first.count == 2)
        #expect(Set(first.map(\.deadline)).isSubset(of: [5, span + 5, span + 6]))
        #expect(first.contains { $0.deadline == 5 }, "bucket 0 goes before bucket 1")
        let rest = index.popDue(now: .max - 1, limit: 100)
        #expect(
            rest.map(\.deadline).sorted()
                == [span + 5, span + 6, 2 * span + 7, 3 * span + 1].filter { d in !first.contains { $0.deadline == d } }
        )
        #expect(index.itemCount == 0)
    }

    @Test func nothingIsDueBeforeItsDeadline() {
        var index = index([1000, 2000])
        #expect(index.popDue(now: 999, limit: 10).isEmpty)
        #expect(index.itemCount == 2)
        #expect(index.popDue(now: 1000, limit: 10).map(\.key) == ["k0"], "a deadline equal to now is due")
    }

    @Test func compactionKeepsOnlyLiveDeadlines() {
        var index = ExpiryIndex<String>()
        var table = ShardTable<String, Int>()
        for i in 0..<200 {
            index.insert("k", deadline: Int64(1000 + i))  // 199 stale items, one live
        }
        table["k"] = Entry(value: 1, expiresAt: 1199)
        index.liveCount = 1
        index.compactIfNeeded(table: table)
        #expect(index.itemCount == 1)
        #expect(index.unorderedItems.map(\.deadline) == [1199])
        #expect(index.liveCount == 1)
    }

    @Test func bucketsOfTheCurrentSpanComeOutEarliestFirst() {
        // As bucketsComeOutEarliestFirstAndTheLimitHolds, with the index's own bucket span
        // (2^28 ns), in which deadlines 2^25 ns apart share a bucket.
        let span: Int64 = 1 << 28
        var index = index([3 * span + 1, span + 5, 2 * span + 7, span + 6, 5])
        let first = index.popDue(now: .max - 1, limit: 1)
        #expect(first.map(\.deadline) == [5], "bucket 0 goes first, though its item was inserted last")
        let second = index.popDue(now: .max - 1, limit: 2)
        #expect(Set(second.map(\.deadline)) == [span + 5, span + 6], "then bucket 1, whole")
        #expect(index.popDue(now: 2 * span + 6, limit: 10).isEmpty, "bucket 2's item is not due yet")
        #expect(index.popDue(now: .max - 1, limit: 10).map(\.deadline).sorted() == [2 * span + 7, 3 * span + 1])
        #expect(index.itemCount == 0)
    }
}
