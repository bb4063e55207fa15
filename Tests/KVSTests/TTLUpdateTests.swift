import KVS
import KVSTestSupport
import Testing

/// `update` and `compareAndSwap` keep the key's TTL; `update(_:ttl:_:)`,
/// `compareAndSwap(_:expected:new:ttl:)` and `Transaction.set(_:_:ttl:)` keep, set or remove
/// it; `Transaction.timeToLive(_:)` reads it; `Transaction.set(_:_:)` clears it, as `set` does.
@Suite("TTLUpdate: update, compareAndSwap and transactions keep, set or clear a key's TTL")
struct TTLUpdateTests {
    @Test func updateKeepsTheTTLOfACounter() throws {
        let clock = ManualClock()
        let store = try makeStore(String.self, clock: clock, sweepInterval: .seconds(3600))
        defer { store.shutdown() }
        try store.set("hits", "0", ttl: .seconds(60))
        for _ in 0..<3 {
            try store.update("hits") { String((Int($0 ?? "0") ?? 0) + 1) }
            clock.advance(by: .seconds(10))
        }
        #expect(try store.get("hits") == "3")
        #expect(try store.timeToLive("hits") == .seconds(30))
        // The untyped overload keeps it too.
        try store.update("hits") { (old) throws -> String? in String((Int(old ?? "0") ?? 0) + 1) }
        #expect(try store.timeToLive("hits") == .seconds(30))
        clock.advance(by: .seconds(30))
        #expect(!store.exists("hits"), "the counter expires with its window")
        // A key the update creates has no TTL.
        try store.update("fresh") { _ in "1" }
        #expect(try store.timeToLive("fresh") == nil)
    }

    @Test func updateWithTTLSetsKeepsOrPersists() throws {
        let clock = ManualClock()
        let store = try makeStore(Int.self, clock: clock, sweepInterval: .seconds(3600))
        defer { store.shutdown() }
        try store.update("n", ttl: .expire(after: .seconds(5))) { ($0 ?? 0) + 1 }
        #expect(try store.timeToLive("n") == .seconds(5))
        clock.advance(by: .seconds(2))
        try store.update("n", ttl: .keep) { ($0 ?? 0) + 1 }
        #expect(try store.timeToLive("n") == .seconds(3))
        try store.update("n", ttl: .expire(after: .seconds(20))) { ($0 ?? 0) + 1 }
        #expect(try store.timeToLive("n") == .seconds(20))
        try store.update("n", ttl: .persist) { ($0 ?? 0) + 1 }
        #expect(try store.timeToLive("n") == nil)
        #expect(try store.get("n") == 4)
        try store.update("n", ttl: .expire(after: .zero)) { $0 }
        #expect(try store.timeToLive("n") == nil, ".zero is no expiry, as for set(_:_:ttl:)")
        // nil deletes whatever the TTL says.
        try store.update("n", ttl: .expire(after: .seconds(1))) { _ in nil }
        #expect(!store.exists("n"))
    }

    @Test func compareAndSwapKeepsTheTTL() throws {
        let clock = ManualClock()
        let store = try makeStore(String.self, clock: clock, sweepInterval: .seconds(3600))
        defer { store.shutdown() }
        try store.set("lock", "worker-1", ttl: .seconds(30))
        clock.advance(by: .seconds(10))
        #expect(try store.compareAndSwap("lock", expected: "worker-1", new: "worker-2"))
        #expect(try store.get("lock") == "worker-2")
        #expect(try store.timeToLive("lock") == .seconds(20), "the new value expires when the old one would have")
        clock.advance(by: .seconds(20))
        #expect(!store.exists("lock"))
        // A key the swap creates has no TTL, nor does an expired key's deadline carry over.
        #expect(try store.compareAndSwap("lock", expected: nil, new: "worker-3"))
        #expect(try store.timeToLive("lock") == nil)
        try store.set("plain", "a")
        #expect(try store.compareAndSwap("plain", expected: "a", new: "b"))
        #expect(try store.timeToLive("plain") == nil)
        store.engine.checkInvariants()
    }

    @Test func compareAndSwapWithTTLSetsKeepsOrPersists() throws {
        let clock = ManualClock()
        let store = try makeStore(Int.self, clock: clock, sweepInterval: .seconds(3600))
        defer { store.shutdown() }
        try store.set("n", 1, ttl: .seconds(10))
        clock.advance(by: .seconds(4))
        #expect(try store.compareAndSwap("n", expected: 1, new: 2, ttl: .keep))
        #expect(try store.timeToLive("n") == .seconds(6))
        #expect(try store.compareAndSwap("n", expected: 2, new: 3, ttl: .expire(after: .seconds(30))))
        #expect(try store.timeToLive("n") == .seconds(30))
        #expect(try store.compareAndSwap("n", expected: 3, new: 4, ttl: .persist))
        #expect(try store.timeToLive("n") == nil)
        #expect(try store.compareAndSwap("n", expected: 4, new: 5, ttl: .expire(after: .seconds(5))))
        #expect(try store.compareAndSwap("n", expected: 5, new: 6, ttl: .expire(after: .zero)))
        #expect(try store.timeToLive("n") == nil, ".zero is no expiry, as for set(_:_:ttl:)")
        // A created key: none with .keep, the given one with .expire(after:).
        #expect(try store.compareAndSwap("kept", expected: nil, new: 1, ttl: .keep))
        #expect(try store.timeToLive("kept") == nil)
        #expect(try store.compareAndSwap("timed", expected: nil, new: 1, ttl: .expire(after: .seconds(3))))
        #expect(try store.timeToLive("timed") == .seconds(3))
        // nil deletes whatever the TTL says.
        #expect(try store.compareAndSwap("timed", expected: 1, new: nil, ttl: .expire(after: .seconds(9))))
        #expect(!store.exists("timed"))
        clock.advance(by: .seconds(60))
        #expect(try store.get("n") == 6)
        store.engine.checkInvariants()
    }

    @Test func failedCompareAndSwapChangesNothing() throws {
        let clock = ManualClock()
        let store = try makeStore(Int.self, clock: clock, sweepInterval: .seconds(3600))
        defer { store.shutdown() }
        try store.set("n", 1, ttl: .seconds(10))
        for ttl: TTLUpdate in [.keep, .persist, .expire(after: .seconds(60))] {
            #expect(try !store.compareAndSwap("n", expected: 2, new: 3, ttl: ttl))
            #expect(try !store.compareAndSwap("n", expected: nil, new: 3, ttl: ttl))
        }
        #expect(try !store.compareAndSwap("n", expected: 2, new: 3))
        #expect(try store.get("n") == 1)
        #expect(try store.timeToLive("n") == .seconds(10))
        // A negative TTL throws before the key is read, even when the swap would match.
        expectKVSError(.invalidTTL, key: "n") {
            try store.compareAndSwap("n", expected: 1, new: 3, ttl: .expire(after: .nanoseconds(-1)))
        }
        expectKVSError(.invalidTTL) {
            try store.compareAndSwap("absent", expected: nil, new: 3, ttl: .expire(after: .seconds(-1)))
        }
        #expect(try store.get("n") == 1)
        #expect(try store.timeToLive("n") == .seconds(10))
        #expect(!store.exists("absent"))
        #expect(store.count == 1)
        store.engine.checkInvariants()
    }

    @Test func updateWithTTLThroughAsyncStore() async throws {
        let clock = ManualClock()
        let store = try makeStore(Int.self, clock: clock, sweepInterval: .seconds(3600))
        defer { store.shutdown() }
        /// Generic over the protocol, so that the calls go through its requirements.
        func touch(_ store: some AsyncStore<Int>, _ key: String, ttl: TTLUpdate) async throws(KVSError) -> Int? {
            try await store.update(key, ttl: ttl) { ($0 ?? 0) + 1 }
        }
        func touchUntyped(_ store: some AsyncStore<Int>, _ key: String, ttl: TTLUpdate) async throws -> Int? {
            try await store.update(key, ttl: ttl) { (old: Int?) throws -> Int? in (old ?? 0) + 1 }
        }
        try store.set("n", 0, ttl: .seconds(10))
        clock.advance(by: .seconds(3))
        #expect(try await touch(store, "n", ttl: .keep) == 1)
        #expect(try store.timeToLive("n") == .seconds(7))
        #expect(try await touch(store, "n", ttl: .expire(after: .seconds(30))) == 2)
        #expect(try store.timeToLive("n") == .seconds(30))
        #expect(try await touchUntyped(store, "n", ttl: .keep) == 3)
        #expect(try store.timeToLive("n") == .seconds(30))
        #expect(try await touchUntyped(store, "n", ttl: .persist) == 4)
        #expect(try store.timeToLive("n") == nil)
        #expect(try await touch(store, "fresh", ttl: .keep) == 1)
        #expect(try store.timeToLive("fresh") == nil)
        await expectKVSError(.invalidTTL) { try await touch(store, "n", ttl: .expire(after: .seconds(-1))) }
        #expect(try store.get("n") == 4)
    }

    @Test func transactionSetWithoutTTLClearsIt() throws {
        // `Transaction.set(_:_:)` is `SET`: it clears the TTL, as `KeyValueStore.set(_:_:)`
        // and `RedisTransaction.set(_:_:)` do; `.keep` is how a transaction keeps it.
        let store = try makeStore(Int.self, sweepInterval: .seconds(3600))
        defer { store.shutdown() }
        try store.set("a", 1, ttl: .seconds(60))
        try store.transaction { (tx) throws(KVSError) in try tx.set("a", try tx.get("a") + 1) }
        #expect(try store.get("a") == 2)
        #expect(try store.timeToLive("a") == nil)
    }

    @Test func negativeTTLIsRejectedBeforeTheTransformRuns() throws {
        let store = try makeStore(Int.self)
        defer { store.shutdown() }
        try store.set("n", 1)
        var ran = false
        expectKVSError(.invalidTTL) {
            try store.update("n", ttl: .expire(after: .seconds(-1))) { _ in
                ran = true
                return 2
            }
        }
        #expect(!ran)
        #expect(try store.get("n") == 1)
    }

    @Test func updateWithTTLCarriesTransformErrors() throws {
        struct Refused: Error {}
        let store = try makeStore(Int.self)
        defer { store.shutdown() }
        try store.set("n", 1, ttl: .seconds(60))
        #expect(throws: Refused.self) {
            try store.update("n", ttl: .persist) { (_) throws -> Int? in throw Refused() }
        }
        #expect(try store.timeToLive("n") != nil, "nothing changed")
        expectKVSError(.notFound) {
            try store.update("n", ttl: .persist) { (_) throws(KVSError) -> Int? in throw KVSError.notFound("x") }
        }
    }

    @Test func expiredKeyIsAbsentForUpdate() throws {
        let clock = ManualClock()
        let store = try makeStore(Int.self, clock: clock, sweepInterval: .seconds(3600))
        defer { store.shutdown() }
        try store.set("n", 41, ttl: .seconds(1))
        clock.advance(by: .seconds(2))
        var seen: Int?? = .none
        try store.update("n") { old in
            seen = .some(old)
            return 1
        }
        #expect(seen == .some(nil))
        #expect(try store.timeToLive("n") == nil, "an expired key's deadline is not carried over")
    }

    @Test func transactionReadsAndKeepsTTLs() throws {
        let clock = ManualClock()
        let store = try makeStore(Int.self, clock: clock, sweepInterval: .seconds(3600))
        defer { store.shutdown() }
        try store.set("old", 7, ttl: .seconds(30))
        try store.set("plain", 1)
        try store.set("counter", 1, ttl: .seconds(10))
        try store.transaction { (tx) throws(KVSError) in
            #expect(try tx.timeToLive("old") == .seconds(30))
            #expect(try tx.timeToLive("plain") == nil)
            // A move carries the TTL.
            let value = try tx.get("old")
            let ttl = try tx.timeToLive("old")
            try tx.delete("old")
            try tx.set("new", value, ttl: ttl.map { .expire(after: $0) } ?? .persist)
            #expect(try tx.timeToLive("new") == .seconds(30), "reads see the transaction's own writes")
            // A rewrite in place keeps it.
            try tx.set("counter", try tx.get("counter") + 1, ttl: .keep)
            try tx.set("plain", 2, ttl: .keep)
            try tx.set("created", 3, ttl: .keep)
            try tx.set("persisted", 4, ttl: .expire(after: .seconds(5)))
            try tx.set("persisted", 5, ttl: .persist)
        }
        #expect(!store.exists("old"))
        #expect(try store.get("new") == 7)
        #expect(try store.timeToLive("new") == .seconds(30))
        #expect(try store.get("counter") == 2)
        #expect(try store.timeToLive("counter") == .seconds(10))
        #expect(try store.timeToLive("plain") == nil)
        #expect(try store.timeToLive("created") == nil)
        #expect(try store.timeToLive("persisted") == nil)
        clock.advance(by: .seconds(10))
        #expect(!store.exists("counter"))
        clock.advance(by: .seconds(20))
        #expect(!store.exists("new"))
    }

    @Test func transactionTimeToLiveErrors() throws {
        let store = try makeStore(Int.self)
        defer { store.shutdown() }
        try store.set("gone", 1)
        try store.transaction { (tx) throws(KVSError) in
            var missing: KVSError?
            do throws(KVSError) { _ = try tx.timeToLive("missing") } catch { missing = error }
            #expect(missing?.code == .notFound)
            try tx.delete("gone")
            var deleted: KVSError?
            do throws(KVSError) { _ = try tx.timeToLive("gone") } catch { deleted = error }
            #expect(deleted?.code == .notFound)
            var negative: KVSError?
            do throws(KVSError) { try tx.set("x", 1, ttl: .expire(after: .seconds(-1))) } catch { negative = error }
            #expect(negative?.code == .invalidTTL)
        }
        #expect(!store.exists("x"))
    }
}
