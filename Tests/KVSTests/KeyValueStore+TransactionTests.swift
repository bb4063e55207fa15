import Dispatch
import Foundation
import KVS
import KVSTestSupport
import Synchronization
import Testing

@Suite("KeyValueStore: transactions and atomic read-modify-write")
struct TransactionTests {
    struct Refused: Error, Equatable { var reason: String }

    @Test func readYourOwnWrites() throws {
        let store = try KeyValueStore<Int>(shardCount: 8)
        defer { store.shutdown() }
        try store.set("a", 1)
        let seen = try store.transaction { tx -> [Int?] in
            let before = try tx.get("a")
            try tx.set("a", 2)
            try tx.set("b", 3)
            let afterSet = try tx.get("a")
            try tx.delete("a")
            let gone = tx.exists("a")
            var getError: KVSError?
            do throws(KVSError) { _ = try tx.get("a") } catch { getError = error }
            #expect(getError?.code == .notFound)
            var deleteError: KVSError?
            do throws(KVSError) { try tx.delete("a") } catch { deleteError = error }
            #expect(deleteError?.code == .notFound)
            try tx.set("a", 4)
            return [before, afterSet, gone ? 1 : nil, try tx.get("b")]
        }
        #expect(seen == [1, 2, nil, 3])
        #expect(try store.get("a") == 4)
        #expect(try store.get("b") == 3)
        #expect(store.count == 2)
        store.engine.checkInvariants()
    }

    @Test func aThrowingBodyRollsBackAndItsErrorReachesTheCaller() throws {
        let store = try KeyValueStore<Int>(shardCount: 8)
        defer { store.shutdown() }
        try store.set("a", 1)
        let error = #expect(throws: Refused.self) {
            try store.transaction { tx in
                try tx.set("a", 100)
                try tx.set("new", 5)
                try tx.delete("a")
                throw Refused(reason: "no")
            }
        }
        #expect(error == Refused(reason: "no"))
        #expect(try store.get("a") == 1)
        #expect(!store.exists("new"))
        #expect(store.count == 1)
        // A KVSError from inside the body passes through too.
        expectKVSError(.notFound, key: "missing") { try store.transaction { tx in try tx.get("missing") } }
    }

    @Test func ttlInsideATransaction() throws {
        let clock = ManualClock()
        let store = try makeStore(Int.self, clock: clock, sweepInterval: .seconds(3600))
        defer { store.shutdown() }
        try store.set("short", 1, ttl: .seconds(1))
        clock.advance(by: .seconds(2))
        try store.transaction { tx in
            let shortExists = tx.exists("short")
            #expect(!shortExists, "expired at the transaction's point in time")
            try tx.set("t", 7, ttl: .seconds(10))
            var ttlError: KVSError?
            do throws(KVSError) { try tx.set("bad", 1, ttl: .seconds(-1)) } catch { ttlError = error }
            #expect(ttlError?.code == .invalidTTL)
        }
        #expect(try store.timeToLive("t") == .seconds(10))
        clock.advance(by: .seconds(10))
        #expect(!store.exists("t"))
        #expect(!store.exists("bad"))
    }

    @Test func updateSetIfAbsentAndCompareAndSwap() throws {
        let store = try KeyValueStore<Int>(shardCount: 4)
        defer { store.shutdown() }
        #expect(try store.update("n") { ($0 ?? 0) + 1 } == 1)
        #expect(try store.update("n") { ($0 ?? 0) + 1 } == 2)
        #expect(try store.update("n") { _ in nil } == nil)
        #expect(!store.exists("n"))
        #expect(throws: Refused.self) { try store.update("n") { _ in throw Refused(reason: "x") } }
        #expect(try store.setIfAbsent("s", 1))
        #expect(try !store.setIfAbsent("s", 2))
        #expect(try store.get("s") == 1)
        #expect(try store.compareAndSwap("s", expected: 1, new: 5))
        #expect(try !store.compareAndSwap("s", expected: 1, new: 6))
        #expect(try store.compareAndSwap("s", expected: 5, new: nil))
        #expect(try store.compareAndSwap("s", expected: nil, new: 9))
        #expect(try store.get("s") == 9)
        #expect(store.count == 1)
        store.engine.checkInvariants()
    }

    @Test func setIfAbsentTreatsAnExpiredKeyAsAbsent() throws {
        let clock = ManualClock()
        let store = try makeStore(String.self, clock: clock)
        defer { store.shutdown() }
        #expect(try store.setIfAbsent("lock", "a", ttl: .seconds(5)))
        #expect(try !store.setIfAbsent("lock", "b", ttl: .seconds(5)))
        clock.advance(by: .seconds(5))
        #expect(try store.setIfAbsent("lock", "c"))
        #expect(try store.get("lock") == "c")
        #expect(store.count == 1)
        expectKVSError(.invalidTTL) { try store.setIfAbsent("x", "y", ttl: .seconds(-1)) }
    }

    @Test func closedStoreRefusesTransactions() throws {
        let store = try KeyValueStore<Int>(shardCount: 4)
        store.shutdown()
        expectKVSError(.storeClosed) { try store.transaction { tx in try tx.set("a", 1) } }
        expectKVSError(.storeClosed) { try store.update("a") { _ in 1 } }
        expectKVSError(.storeClosed) { try store.setIfAbsent("a", 1) }
    }

    @Test func boundedAttemptsReportAConflict() throws {
        let store = try KeyValueStore<Int>(shardCount: 4)
        defer { store.shutdown() }
        try store.set("hot", 0)
        var runs = 0
        // Another writer changes what the body read on every run, so every attempt conflicts.
        expectKVSError(.transactionConflict) {
            try store.transaction(maxAttempts: 3) { tx in
                runs += 1
                let v = try tx.get("hot")
                try store.set("hot", v + 1)  // a concurrent write, as far as the transaction knows
                try tx.set("hot", -1)
            }
        }
        #expect(runs == 3)
        #expect(try store.get("hot") == 3, "the conflicting transaction wrote nothing")
        // Without a bound it falls back to locking and commits.
        var unboundedRuns = 0
        try store.transaction { tx in
            unboundedRuns += 1
            let v = try tx.get("hot")
            if unboundedRuns < 20 { try? store.set("other-\(unboundedRuns)", v) }
            try tx.set("hot", v * 10)
        }
        #expect(try store.get("hot") == 30)
    }
}

/// Concurrency: run under ThreadSanitizer in `.ci/run` (the suite name matches its filter).
@Suite("ConcurrencyTests: transactions", .dedicatedThread)
struct TransactionConcurrencyTests {
    @Test func bankTransfersKeepTheTotalExact() throws {
        let accounts = 64
        let initial = 1000
        let store = try KeyValueStore<Int>(shardCount: 16)
        defer { store.shutdown() }
        for i in 0..<accounts { try store.set("acct:\(i)", initial) }
        let total = accounts * initial
        let tornReads = Locked(0)
        DispatchQueue.concurrentPerform(iterations: 6) { t in
            var rng = SplitMix64(state: UInt64(t) &* 7919)
            for n in 0..<1500 {
                if t < 4 {
                    let from = Int.random(in: 0..<accounts, using: &rng)
                    var to = Int.random(in: 0..<accounts, using: &rng)
                    if to == from { to = (to + 1) % accounts }
                    let amount = Int.random(in: 1...50, using: &rng)
                    try? store.transaction { tx in
                        let a = try tx.get("acct:\(from)")
                        let b = try tx.get("acct:\(to)")
                        guard a >= amount else { return }
                        try tx.set("acct:\(from)", a - amount)
                        try tx.set("acct:\(to)", b + amount)
                    }
                } else if n % 3 == 0 {
                    // Readers: every balance, in one transaction; the sum must be exact.
                    let sum = try? store.transaction { tx in
                        try (0..<accounts).reduce(0) { try $0 + tx.get("acct:\($1)") }
                    }
                    if sum != total { tornReads.withLock { $0 += 1 } }
                } else {
                    // Whole-store reads outside transactions see all of a commit or none.
                    let keys = (try? store.keys()) ?? []
                    if keys.count != accounts { tornReads.withLock { $0 += 1 } }
                }
            }
        }
        #expect(tornReads.withLock { $0 } == 0)
        let final = try (0..<accounts).reduce(0) { try $0 + store.get("acct:\($1)") }
        #expect(final == total)
        #expect(store.count == accounts)
        store.engine.checkInvariants()
    }

    @Test func countersIncrementedConcurrentlyEndExact() throws {
        // Linearizability of read-modify-write: M threads x N increments through update,
        // transaction and compareAndSwap; no increment may be lost.
        let store = try KeyValueStore<Int>(shardCount: 8)
        defer { store.shutdown() }
        let threads = 4
        let perThread = 2000
        DispatchQueue.concurrentPerform(iterations: threads) { _ in
            for i in 0..<perThread {
                switch i % 3 {
                case 0: _ = try? store.update("counter") { ($0 ?? 0) + 1 }
                case 1:
                    try? store.transaction { tx in
                        let v = tx.exists("counter") ? try tx.get("counter") : 0
                        try tx.set("counter", v + 1)
                    }
                default:
                    while true {
                        let current = try? store.get("counter")
                        if (try? store.compareAndSwap("counter", expected: current, new: (current ?? 0) + 1)) == true {
                            break
                        }
                    }
                }
            }
        }
        #expect(try store.get("counter") == threads * perThread)
    }

    /// One increment as a history checker sees it: when it was invoked and completed (on
    /// a shared logical clock) and the counter value it produced.
    struct Increment: Sendable {
        var invoked: Int
        var completed: Int
        var value: Int
    }

    final class LogicalClock: Sendable {
        let now = Atomic<Int>(0)
        func tick() -> Int { now.add(1, ordering: .sequentiallyConsistent).newValue }
    }

    @Test func incrementHistoryIsLinearizable() throws {
        // Every increment (through update, a transaction, or a compare-and-swap loop)
        // reports the value it produced. The history is linearizable iff the values are
        // exactly 1...n, each once, and real-time order is respected: if A completed
        // before B was invoked, A's value is smaller than B's.
        let store = try KeyValueStore<Int>(shardCount: 8)
        defer { store.shutdown() }
        let clock = LogicalClock()
        let threads = 4
        let perThread = 1500
        let history = Locked([Increment]())
        DispatchQueue.concurrentPerform(iterations: threads) { t in
            var mine: [Increment] = []
            for i in 0..<perThread {
                let invoked = clock.tick()
                var value = -1
                switch (i + t) % 3 {
                case 0:
                    value = (try? store.update("c") { ($0 ?? 0) + 1 }).flatMap { $0 } ?? -1
                case 1:
                    value =
                        (try? store.transaction { tx -> Int in
                            let v = (tx.exists("c") ? try tx.get("c") : 0) + 1
                            try tx.set("c", v)
                            return v
                        }) ?? -1
                default:
                    while true {
                        let current = try? store.get("c")
                        let next = (current ?? 0) + 1
                        if (try? store.compareAndSwap("c", expected: current, new: next)) == true {
                            value = next
                            break
                        }
                    }
                }
                mine.append(Increment(invoked: invoked, completed: clock.tick(), value: value))
            }
            history.withLock { $0.append(contentsOf: mine) }
        }
        let ops = history.withLock { $0 }.sorted { $0.value < $1.value }
        let n = threads * perThread
        #expect(ops.map(\.value) == Array(1...n), "every value produced exactly once: no lost or duplicated increment")
        // Real-time order: for each op, every op with a larger value must not have
        // completed before it was invoked.
        var earliestCompletionAbove = Int.max
        var violations = 0
        for op in ops.reversed() {
            if earliestCompletionAbove < op.invoked { violations += 1 }
            earliestCompletionAbove = min(earliestCompletionAbove, op.completed)
        }
        #expect(violations == 0)
        #expect(try store.get("c") == n)
    }

    @Test func onlyOneSetIfAbsentWinsPerKey() throws {
        let store = try KeyValueStore<Int>(shardCount: 8)
        defer { store.shutdown() }
        let wins = Locked([String: Int]())
        DispatchQueue.concurrentPerform(iterations: 6) { t in
            for k in 0..<500 where (try? store.setIfAbsent("once:\(k)", t)) == true {
                wins.withLock { $0["once:\(k)", default: 0] += 1 }
            }
        }
        let counts = wins.withLock { $0 }
        #expect(counts.count == 500)
        #expect(counts.values.allSatisfy { $0 == 1 })
        for k in 0..<500 { #expect(try store.get("once:\(k)") >= 0) }
    }

    @Test func transactionsOverManyShardsNeverDeadlock() throws {
        // Opposite key orders on every thread; all must finish (a deadlock hangs the test).
        let store = try KeyValueStore<Int>(shardCount: 32)
        defer { store.shutdown() }
        let keys = (0..<40).map { "k\($0)" }
        for key in keys { try store.set(key, 0) }
        DispatchQueue.concurrentPerform(iterations: 4) { t in
            let order = t % 2 == 0 ? keys : keys.reversed()
            for _ in 0..<100 {
                try? store.transaction { tx in
                    for key in order { try tx.set(key, try tx.get(key) + 1) }
                }
            }
        }
        for key in keys { #expect(try store.get(key) == 400) }
    }

    @Test func closeRacingWithTransactionsLeavesWholeTransactions() throws {
        for _ in 0..<10 {
            let store = try KeyValueStore<Int>(shardCount: 8)
            try store.set("a", 0)
            try store.set("b", 0)
            DispatchQueue.concurrentPerform(iterations: 3) { t in
                if t == 0 {
                    usleep(200)  // not a correctness wait: only lets some transactions start first
                    store.shutdown()
                    return
                }
                for _ in 0..<300 {
                    do {
                        try store.transaction { tx in
                            try tx.set("a", try tx.get("a") + 1)
                            try tx.set("b", try tx.get("b") + 1)
                        }
                    } catch {
                        #expect((error as? KVSError)?.code == .storeClosed)
                    }
                }
            }
            // Every transaction that committed wrote both keys: they are equal.
            var a: Int?
            var b: Int?
            store.engine.withAllShardsLocked(
                { _, state in
                    if let value = state.table["a"]?.value { a = value }
                    if let value = state.table["b"]?.value { b = value }
                },
                then: {}
            )
            #expect(a == b)
        }
    }
}
