import Dispatch
import Foundation
import KVS
import KVSTestSupport
import Testing

/// Many threads and tasks at once on shared keys. These run under ThreadSanitizer in
/// `.ci/run` (`swift test --sanitize=thread --filter ConcurrencyTests`).
@Suite("ConcurrencyTests", .dedicatedThread)
struct ConcurrencyTests {
    @Test func mixedOperationsKeepTheCountExact() throws {
        let store = try KeyValueStore<Int>(shardCount: 8)
        defer { store.shutdown() }
        let keySpace = 200
        let threads = 8
        let opsPerThread = 20_000
        DispatchQueue.concurrentPerform(iterations: threads) { t in
            var rng = SplitMix64(state: UInt64(t))
            for _ in 0..<opsPerThread {
                let key = "k\(Int.random(in: 0..<keySpace, using: &rng))"
                switch Int.random(in: 0..<100, using: &rng) {
                case 0..<30: _ = try? store.get(key)
                case 30..<55: try? store.set(key, t)
                case 55..<75: try? store.delete(key)
                case 75..<80: _ = store.exists(key)
                case 80..<85:
                    _ = try? store.batchSet(
                        Dictionary(
                            [("k\(Int.random(in: 0..<keySpace, using: &rng))", t), (key, t)],
                            uniquingKeysWith: { a, _ in a }
                        )
                    )
                case 85..<90: _ = try? store.batchDelete([key, "k\(Int.random(in: 0..<keySpace, using: &rng))"])
                case 90..<95: _ = try? store.batchGet([key, "k0", "k1"])
                case 95..<98: try? store.set(key, t, ttl: .milliseconds(Int64.random(in: 1...5, using: &rng)))
                default: _ = try? store.keys()
                }
            }
        }
        // Let the TTL keys (at most 5 ms) expire and be swept; then nothing changes any
        // more and everything must agree exactly.
        store.engine.checkInvariants()
        #expect(eventually { store.engine.shards.allSatisfy { $0.withLock { $0.expiry.liveCount == 0 } } })
        store.engine.checkInvariants()
        let keys = try store.keys()
        #expect(store.count == keys.count)
        #expect(Set(keys).count == keys.count)
    }

    @Test func concurrentInsertsAndDeletesOfDistinctKeysAreAllCounted() async throws {
        let store = try KeyValueStore<[UInt8]>(shardCount: 16)
        defer { store.shutdown() }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for t in 0..<8 {
                group.addTask {
                    for i in 0..<5000 { try store.set("t\(t)-\(i)", [UInt8(t)]) }
                    for i in stride(from: 0, to: 5000, by: 2) { try store.delete("t\(t)-\(i)") }
                    _ = try store.batchSet(
                        Dictionary(uniqueKeysWithValues: (0..<100).map { ("b\(t)-\($0)", [UInt8(t)]) })
                    )
                }
            }
            try await group.waitForAll()
        }
        #expect(store.count == 8 * 2500 + 8 * 100)
        #expect(try store.keys().count == store.count)
        store.engine.checkInvariants()
    }

    @Test func readersNeverSeeATornOrForeignValue() throws {
        // Each writer writes values that encode its key; a reader (`get`, or `withValue`
        // for one of them) must only ever get the value of the key it asked for.
        let store = try KeyValueStore<String>(shardCount: 4)
        defer { store.shutdown() }
        for i in 0..<64 { try store.set("k\(i)", "k\(i):0") }
        DispatchQueue.concurrentPerform(iterations: 6) { t in
            var rng = SplitMix64(state: 99 + UInt64(t))
            for n in 0..<20_000 {
                let i = Int.random(in: 0..<64, using: &rng)
                if t % 2 == 0 {
                    try? store.set("k\(i)", "k\(i):\(n)")
                } else if t == 3 {  // a value lent in place while writers replace it
                    #expect((try? store.withValue("k\(i)") { $0.hasPrefix("k\(i):") }) == true)
                } else if let value = try? store.get("k\(i)") {
                    #expect(value.hasPrefix("k\(i):"))
                }
            }
        }
        #expect(store.count == 64)
    }

    @Test func ttlWritersAndTheSweeperAgree() throws {
        let store = try KeyValueStore<Int>(shardCount: 8)
        defer { store.shutdown() }
        DispatchQueue.concurrentPerform(iterations: 4) { t in
            for i in 0..<5000 {
                try? store.set("t\(t)-\(i % 500)", i, ttl: .milliseconds(Int64(1 + i % 3)))
                if i % 100 == 0 { _ = try? store.keys() }
            }
        }
        #expect(eventually { store.count == 0 }, "every TTL key expired and was swept")
        store.engine.checkInvariants()
    }

    @Test func snapshotsAndLoadsRaceWithWriters() throws {
        let dir = try makeTemporaryDirectory()
        defer { removeDirectory(dir) }
        let store = try KeyValueStore<Int>(shardCount: 8)
        defer { store.shutdown() }
        for i in 0..<2000 { try store.set("k\(i)", i) }
        try store.saveSnapshot(to: dir + "/base")
        DispatchQueue.concurrentPerform(iterations: 4) { t in
            for n in 0..<20 {
                switch t {
                case 0: try? store.saveSnapshot(to: dir + "/s\(n % 2)")
                case 1: try? store.loadSnapshot(from: dir + "/base")
                default:
                    for i in 0..<200 { try? store.set("w\(t)-\(i)", n) }
                    _ = try? store.batchDelete((0..<50).map { "w\(t)-\($0)" })
                }
            }
        }
        store.engine.checkInvariants()
        #expect(store.count == (try store.keys().count))
        let copy = try KeyValueStore<Int>(shardCount: 8)
        try copy.loadSnapshot(from: dir + "/s1")  // whatever it captured, it is a valid snapshot
        copy.engine.checkInvariants()
    }

    @Test func closeRacesWithOperations() throws {
        for _ in 0..<20 {
            let store = try KeyValueStore<Int>(shardCount: 4)
            try store.set("seed", 0, ttl: .seconds(1))
            DispatchQueue.concurrentPerform(iterations: 4) { t in
                if t == 0 {
                    store.shutdown()
                    return
                }
                for i in 0..<500 {
                    do throws(KVSError) {
                        try store.set("k\(i)", i, ttl: .milliseconds(50))
                        _ = try store.get("k\(i)")
                    } catch {
                        #expect(error.code == .storeClosed || error.code == .notFound)
                    }
                }
            }
            #expect(store.isClosed)
            #expect(!store.engine.isSweeperRunning, "no thread outlives close()")
            expectKVSError(.storeClosed) { try store.get("seed") }
        }
    }
}
