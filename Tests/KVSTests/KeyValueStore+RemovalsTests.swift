import Dispatch
import Foundation
import KVS
import Synchronization
import Testing

/// Collects removal events, thread-safely.
final class RemovalLog<Value: Sendable>: Sendable {
    private let events = Mutex<[Removal<Value>]>([])

    func append(_ removal: Removal<Value>) { events.withLock { $0.append(removal) } }

    var all: [Removal<Value>] { events.withLock { $0 } }

    func causes(of key: String) -> [RemovalCause] { all.filter { $0.key == key }.map(\.cause) }
}

@Suite("KeyValueStore removal events")
struct KeyValueStoreRemovalsTests {
    @Test func everyWritePathReportsItsCause() throws {
        let clock = ManualClock()
        let engine = try StoreEngine<String, Int>(shardCount: 4, clock: .manual(clock), sweepInterval: .seconds(3600))
        let store = KeyValueStore(engine: engine)
        defer { store.shutdown() }
        let log = RemovalLog<Int>()
        store.addRemovalListener { log.append($0) }

        try store.set("a", 1)
        try store.set("a", 2)  // replaced 1
        try store.delete("a")  // removed 2
        #expect(log.all.map(\.value) == [1, 2])
        #expect(log.causes(of: "a") == [.replaced, .removed])

        try store.set("u", 1)
        try store.update("u") { ($0 ?? 0) + 1 }  // replaced 1
        try store.update("u") { _ in nil }  // removed 2
        #expect(log.causes(of: "u") == [.replaced, .removed])

        try store.set("t", 1, ttl: .seconds(1))
        try store.set("s", 1, ttl: .seconds(1))
        try store.set("r", 1, ttl: .seconds(1))
        clock.advance(by: .seconds(2))
        #expect(throws: KVSError.self) { try store.get("t") }  // passive expiry
        try store.set("r", 2)  // replaces an expired entry: expired, not replaced
        #expect(engine.sweepExpired() == 1)  // active expiry of "s"
        #expect(log.causes(of: "t") == [.expired])
        #expect(log.causes(of: "s") == [.expired])
        #expect(log.causes(of: "r") == [.expired])

        _ = try store.batchSet(["b1": 1, "b2": 2])
        _ = try store.batchSet(["b1": 10])
        _ = try store.batchDelete(["b2"])
        try store.transaction { transaction throws(KVSError) in
            try transaction.set("b1", 20)
            try transaction.delete("r")
        }
        #expect(log.causes(of: "b1") == [.replaced, .replaced])
        #expect(log.causes(of: "b2") == [.removed])
        #expect(log.causes(of: "r") == [.expired, .removed])

        try store.removeAll()
        #expect(log.causes(of: "b1") == [.replaced, .replaced, .cleared])
        #expect(log.all.filter { $0.cause == .cleared }.count == 1, "b1 was the only key left")
    }

    @Test func evictionsAreReported() throws {
        let cache = try KeyValueStore<Int>(maximumCount: 10, policy: .leastRecentlyUsed, shardCount: 1)
        defer { cache.shutdown() }
        let log = RemovalLog<Int>()
        cache.addRemovalListener { log.append($0) }
        for i in 0..<15 { try cache.set("k\(i)", i) }
        #expect(log.all.map(\.key) == (0..<5).map { "k\($0)" })
        #expect(log.all.allSatisfy { $0.cause == .evicted && $0.cause.wasAutomatic })
    }

    @Test func aListenerMayCallTheStoreAndBeRemoved() throws {
        let store = KeyValueStore<Int>()
        defer { store.shutdown() }
        let log = RemovalLog<Int>()
        let token = store.addRemovalListener { removal in
            // Runs outside the shard lock: a read of the same key does not deadlock.
            log.append(Removal(key: removal.key, value: (try? store.get(removal.key)) ?? -1, cause: removal.cause))
        }
        try store.set("k", 1)
        try store.set("k", 2)
        #expect(log.all.map(\.value) == [2], "the listener saw the new value")
        #expect(store.removeRemovalListener(token))
        #expect(!store.removeRemovalListener(token))
        try store.set("k", 3)
        #expect(log.all.count == 1, "no event after the listener is removed")
    }

    @Test func eventsOfAKeyArriveInWriteOrderUnderConcurrency() async throws {
        let store = try KeyValueStore<Int>(shardCount: 4)
        defer { store.shutdown() }
        let log = RemovalLog<Int>()
        store.addRemovalListener { log.append($0) }
        let writes = 2_000
        await withTaskGroup(of: Void.self) { group in
            for worker in 0..<4 {
                group.addTask {
                    for i in 0..<writes { try? store.set("w\(worker)-\(i % 8)", i) }
                }
            }
        }
        for worker in 0..<4 {
            for key in 0..<8 {
                let values = log.all.filter { $0.key == "w\(worker)-\(key)" }.map(\.value)
                #expect(values == Array(stride(from: key, to: writes - 8, by: 8)), "every replaced value, in order")
            }
        }
    }

    @Test func aSlowListenerBlocksNoWriterOfAnotherShardNorOfItsOwn() throws {
        // Keys "a…" in shard 0, "b…" in shard 1.
        let store = try KeyValueStore<Int>(shardCount: 2) { $0.hasPrefix("a") ? 0 : 1 }
        defer { store.shutdown() }
        let entered = DispatchSemaphore(value: 0)
        let release = DispatchSemaphore(value: 0)
        store.addRemovalListener { removal in
            if removal.key == "a-slow" {
                entered.signal()
                release.wait()
            }
        }
        try store.set("a-slow", 1)
        let slowWriter = Thread { try? store.set("a-slow", 2) }  // its listener call blocks
        slowWriter.start()
        entered.wait()
        // The delivering thread is stuck in the listener. Writers of both shards go on: a
        // writer of shard 0 leaves its event to the deliverer, one of shard 1 delivers its own.
        try store.set("b", 1)
        try store.set("b", 2)
        try store.set("a-other", 1)
        try store.set("a-other", 2)
        #expect(try store.get("b") == 2 && store.get("a-other") == 2)
        release.signal()
    }

    @Test func theAsyncSequenceEndsItsListenerWhenCancelled() async throws {
        let store = KeyValueStore<Int>()
        defer { store.shutdown() }
        let stream = store.removals()
        let consumer = Task {
            var seen: [Removal<Int>] = []
            for await removal in stream {
                seen.append(removal)
                if seen.count == 3 { break }
            }
            return seen
        }
        for i in 0..<4 { try store.set("k", i) }
        let seen = await consumer.value
        #expect(seen.map(\.value) == [0, 1, 2])
        #expect(seen.allSatisfy { $0.cause == .replaced })
    }
}
