import KVS
import KVSTestSupport
import Testing

@Suite("KeyValueStore: close", .dedicatedThread)
struct CloseTests {
    @Test func everyOperationThrowsAfterClose() throws {
        let dir = try makeTemporaryDirectory()
        defer { removeDirectory(dir) }
        let store = try KeyValueStore<String>(shardCount: 4)
        try store.set("k", "v", ttl: .seconds(60))
        try store.saveSnapshot(to: dir + "/s")
        store.shutdown()
        #expect(store.isClosed)
        expectKVSError(.storeClosed) { try store.get("k") }
        expectKVSError(.storeClosed) { try store.set("k", "w") }
        expectKVSError(.storeClosed) { try store.set("k", "w", ttl: .seconds(1)) }
        expectKVSError(.storeClosed) { try store.delete("k") }
        expectKVSError(.storeClosed) { try store.keys() }
        expectKVSError(.storeClosed) { try store.batchGet(["k"]) }
        expectKVSError(.storeClosed) { try store.batchSet(["k": "v"]) }
        expectKVSError(.storeClosed) { try store.batchDelete(["k"]) }
        expectKVSError(.storeClosed) { try store.saveSnapshot(to: dir + "/t") }
        expectKVSError(.storeClosed) { try store.loadSnapshot(from: dir + "/s") }
        expectKVSError(.storeClosed) { try store.timeToLive("k") }
        #expect(!store.exists("k"))
    }

    @Test func closeIsIdempotentAndStopsTheSweeper() throws {
        let store = try KeyValueStore<Int>(shardCount: 4)
        try store.set("k", 1, ttl: .seconds(60))
        #expect(store.engine.isSweeperRunning)
        store.shutdown()
        #expect(!store.engine.isSweeperRunning, "close waited for the sweeper thread to exit")
        store.shutdown()
        store.shutdown()
        #expect(store.isClosed)
    }

    @Test func concurrentClosesAllReturnAfterTheSweeperStopped() async throws {
        let store = try KeyValueStore<Int>(shardCount: 4)
        try store.set("k", 1, ttl: .seconds(60))
        await withTaskGroup(of: Bool.self) { group in
            for _ in 0..<8 {
                group.addTask {
                    store.shutdown()
                    return store.engine.isSweeperRunning
                }
            }
            for await running in group { #expect(!running) }
        }
    }

    @Test func aStoreNeverClosedIsFreedWithItsSweeper() throws {
        weak var engine: StoreEngine<String, Int>?
        do {
            let store = try KeyValueStore<Int>(shardCount: 4, hash: { _ in 0 })
            try store.set("k", 1, ttl: .milliseconds(5))
            #expect(store.engine.isSweeperRunning)
            engine = store.engine
        }
        // The sweeper holds the engine only weakly (and only during a tick), so dropping
        // the last reference frees it; the thread then sees it gone and exits. A tick in
        // progress may hold it for a moment, hence the bounded wait.
        #expect(eventually { engine == nil }, "the store was freed: the sweeper does not keep it alive")
    }

    @Test func aStoreWithoutTTLsRunsNoThread() throws {
        let store = try KeyValueStore<Int>(shardCount: 4)
        defer { store.shutdown() }
        for i in 0..<100 { try store.set("k\(i)", i) }
        #expect(!store.engine.isSweeperRunning)
    }
}
