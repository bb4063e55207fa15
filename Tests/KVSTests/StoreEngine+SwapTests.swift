import KVS
import Testing

/// `StoreEngine.swapContents(with:)`, the server's SWAPDB.
@Suite("StoreEngine: swapping contents")
struct StoreEngineSwapTests {
    @Test func entriesCountsAndDeadlinesChangeSides() throws {
        // A manual clock: nothing expires, and no sweep removes anything, until the test says.
        let clock = ManualClock()
        let a = try StoreEngine<String, Int>(shardCount: 8, clock: .manual(clock))
        let b = try StoreEngine<String, Int>(shardCount: 8, clock: .manual(clock))
        defer {
            a.close()
            b.close()
        }
        for i in 0..<100 { try a.set("a\(i)", i) }
        try b.set("b", 1, expiresAt: clock.now() + 60_000_000_000)
        try b.set("gone", 2, expiresAt: clock.now() + 1_000_000)
        try a.swapContents(with: b)
        #expect(a.count == 2)
        #expect(b.count == 100)
        #expect(try a.get("b") == 1)
        #expect(try b.get("a7") == 7)
        #expect(!a.exists("a7"))
        #expect(a.countWithExpiry == 2)
        #expect(b.countWithExpiry == 0)
        // The expiry index moved with its entries: a sweep of `a` removes the due one.
        clock.advance(by: .milliseconds(2))
        a.sweepExpired()  // whatever the sweeper thread has not removed yet
        #expect(a.count == 1)
        #expect(try a.keys() == ["b"])
        a.checkInvariants()
        b.checkInvariants()
        // Swapping with itself changes nothing.
        try a.swapContents(with: a)
        #expect(a.count == 1)
    }

    @Test func differentShardingIsRefused() throws {
        let a = try StoreEngine<String, Int>(shardCount: 8)
        let b = try StoreEngine<String, Int>(shardCount: 4)
        defer {
            a.close()
            b.close()
        }
        try a.set("k", 1)
        let error = #expect(throws: KVSError.self) { try a.swapContents(with: b) }
        #expect(error?.code == .invalidArgument)
        #expect(try a.get("k") == 1)
        b.close()
        let closed = #expect(throws: KVSError.self) { try a.swapContents(with: b) }
        #expect(closed?.code == .storeClosed)
    }
}
