import KVS
import Testing

/// Active expiry with the shard's index keyed by table hash: a due item removes the
/// entries of its probe run that carry its deadline (see `ShardState.removeExpired`).
@Suite("Expiry sweep: items by table hash")
struct ExpirySweepTests {
    @Test func keysSharingADeadlineAndProbeRunsAreAllRemoved() throws {
        // One shard, thousands of keys with one deadline (as a batch write with a TTL
        // makes): an item may find another key's entry first in its run; every entry with
        // that deadline must still go, whatever order the items come in.
        let clock = ManualClock()
        let engine = try StoreEngine<String, Int>(shardCount: 1, clock: .manual(clock), sweepInterval: .seconds(3600))
        defer { engine.close() }
        let start = clock.now()
        for i in 0..<3000 { try engine.set("same\(i)", i, expiresAt: start + 1_000) }
        for i in 0..<1000 { try engine.set("later\(i)", i, expiresAt: start + 2_000_000_000) }
        for i in 0..<500 { try engine.set("forever\(i)", i) }
        engine.checkInvariants()
        clock.advance(by: .microseconds(1))
        #expect(engine.sweepExpired() == 3000, "more than one batch of 512, all in one sweep")
        #expect(engine.count == 1500)
        #expect(engine.countWithExpiry == 1000)
        engine.checkInvariants()
        clock.advance(by: .seconds(2))
        #expect(engine.sweepExpired() == 1000)
        #expect(engine.count == 500)
        #expect(engine.countWithExpiry == 0)
        engine.checkInvariants()
    }

    @Test func keysRefreshedUntilCompactionStillExpire() throws {
        // Enough refreshes to compact the index several times: the compacted index (items
        // kept by table hash and deadline) must still hold every live key's item.
        let clock = ManualClock()
        let engine = try StoreEngine<String, Int>(shardCount: 1, clock: .manual(clock), sweepInterval: .seconds(3600))
        defer { engine.close() }
        for round in 0..<200 {
            for i in 0..<50 { try engine.set("k\(i)", round, expiresAt: clock.now() + 1_000_000_000) }
            clock.advance(by: .microseconds(1))
        }
        let items = engine.shards[0].withLock { $0.expiry.itemCount }
        #expect(items <= 2 * 50 + 64 + 1, "compacted, \(items) items")
        engine.checkInvariants()
        clock.advance(by: .seconds(1))
        #expect(engine.sweepExpired() == 50)
        #expect(engine.count == 0)
        engine.checkInvariants()
    }

    /// Key counts that fill tables of 12, 24, 768 and 1,536 slots (the capacity ladder's
    /// non-powers of two) to 3/4, so long probe runs cross the points where stepping by a
    /// power-of-two mask instead of wrapping at the capacity would go astray.
    @Test(arguments: [9, 18, 570, 1150])
    func aTableRemovesOnlyTheDeadlinesItIsGiven(keyCount: Int) {
        // A packed table (long probe runs): items for deadline 3 remove exactly the
        // entries with deadline 3; a stale item (no entry has its deadline) removes nothing.
        var table = ShardTable<String, Int>()
        var due: [ExpiryIndex<UInt64>.Item] = []
        for i in 0..<keyCount {
            let key = "k\(i)"
            let deadline = Int64(i % 5 + 1)
            table[key] = Entry(value: i, expiresAt: deadline)
            if deadline == 3 { due.append(.init(deadline: 3, key: key.tableHash)) }
        }
        due.append(.init(deadline: 99, key: "k0".tableHash))
        let withDeadline3 = (0..<keyCount).filter { $0 % 5 == 2 }.count
        #expect(table.removeEntries(expiring: due) == withDeadline3)
        #expect(table.count == keyCount - withDeadline3)
        for i in 0..<keyCount {
            #expect((table["k\(i)"] == nil) == (i % 5 == 2), "k\(i)")
        }
        #expect(table.removeEntries(expiring: due) == 0, "nothing left with deadline 3")
    }
}

@Suite("ExpiryIndex: the head bucket")
struct ExpiryIndexHeadTests {
    @Test func anEarlierBucketArrivingAfterTheHeadComesOutFirst() {
        // A sweep that finds nothing due leaves the earliest bucket as the head; a later
        // insert into an earlier bucket must still come out first, and one into the head's
        // bucket must still come out at its deadline.
        let span: Int64 = 1 << 25
        var index = ExpiryIndex<String>()
        index.insert("late", deadline: 5 * span + 10)
        #expect(index.popDue(now: span, limit: 10).isEmpty)  // bucket 5 becomes the head
        index.insert("early", deadline: span + 3)
        index.insert("sameBucket", deadline: 5 * span + 2)
        #expect(index.earliestDeadline == span + 3)
        #expect(index.itemCount == 3)
        #expect(index.popDue(now: 2 * span, limit: 10).map(\.key) == ["early"])
        #expect(index.earliestDeadline == 5 * span + 2)
        #expect(index.popDue(now: 5 * span + 5, limit: 10).map(\.key) == ["sameBucket"])
        #expect(Set(index.unorderedItems.map(\.key)) == ["late"])
        #expect(index.popDue(now: 6 * span, limit: 10).map(\.key) == ["late"])
        #expect(index.itemCount == 0)
        #expect(index.earliestDeadline == .max)
    }
}
