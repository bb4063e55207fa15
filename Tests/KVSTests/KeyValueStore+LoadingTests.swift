import Dispatch
import Foundation
import KVS
import KVSTestSupport
import Testing

/// Get-or-load: single flight under contention (threads and tasks, one key and many), errors
/// reach every waiter and are not cached, TTLs, re-entry, cancellation, writes during a load.
@Suite("KeyValueStore: get-or-load", .dedicatedThread)
struct KeyValueStoreLoadingTests {
    struct LoadFailed: Error, Equatable {}

    // MARK: Single flight

    @Test func threadsMissingOneKeyRunTheLoaderOnce() throws {
        let store = try makeStore(String.self)
        defer { store.shutdown() }
        let loads = Locked(0)
        let results = Locked<[String]>([])
        onThreads(8) { _ in
            let value = try? store.value(forKey: "k") { () throws -> String in
                loads.withLock { $0 += 1 }
                usleep(50_000)  // long enough for every thread to miss while it runs
                return "loaded"
            }
            results.withLock { $0.append(value ?? "error") }
        }
        #expect(loads.withLock { $0 } == 1)
        #expect(results.withLock { $0 } == Array(repeating: "loaded", count: 8))
        #expect(try store.get("k") == "loaded")
        let statistics = store.statistics
        #expect(statistics.loadSuccesses == 1)
        #expect(statistics.loadFailures == 0)
        #expect(statistics.totalLoadTime >= .milliseconds(50))
        #expect(statistics.hits + statistics.misses == 9)  // 8 lookups and the get
    }

    @Test func threadsMissingManyKeysLoadEachOnce() throws {
        let store = try makeStore(Int.self)
        defer { store.shutdown() }
        let keyCount = 200
        let loads = Locked([Int](repeating: 0, count: keyCount))
        let wrong = Locked(0)
        onThreads(8) { thread in
            for step in 0..<keyCount {
                let key = (step * 7 + thread * 31) % keyCount  // each thread in its own order
                let value = try? store.value(forKey: "key:\(key)") { () throws -> Int in
                    loads.withLock { $0[key] += 1 }
                    usleep(200)
                    return key
                }
                if value != key { wrong.withLock { $0 += 1 } }
            }
        }
        #expect(wrong.withLock { $0 } == 0)
        #expect(loads.withLock { $0 } == Array(repeating: 1, count: keyCount))
        #expect(store.count == keyCount)
        #expect(store.statistics.loadSuccesses == keyCount)
    }

    @Test func tasksMissingOneKeyRunTheLoaderOnce() async throws {
        let store = try makeStore(String.self)
        defer { store.shutdown() }
        let loads = Locked(0)
        let values = try await withThrowingTaskGroup(of: String.self) { group in
            for _ in 0..<50 {
                group.addTask {
                    try await store.value(forKey: "k") { @Sendable () async throws -> String in
                        loads.withLock { $0 += 1 }
                        try await Task.sleep(for: .milliseconds(50))
                        return "loaded"
                    }
                }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(loads.withLock { $0 } == 1)
        #expect(values == Array(repeating: "loaded", count: 50))
    }

    @Test func tasksMissingManyKeysLoadEachOnce() async throws {
        let store = try makeStore(Int.self)
        defer { store.shutdown() }
        let keyCount = 100
        let loads = Locked([Int](repeating: 0, count: keyCount))
        try await withThrowingTaskGroup(of: Void.self) { group in
            for task in 0..<8 {
                group.addTask {
                    for step in 0..<keyCount {
                        let key = (step * 3 + task * 13) % keyCount
                        let value = try await store.value(forKey: "key:\(key)") { @Sendable () async throws -> Int in
                            loads.withLock { $0[key] += 1 }
                            try await Task.sleep(for: .microseconds(200))
                            return key
                        }
                        #expect(value == key)
                    }
                }
            }
            try await group.waitForAll()
        }
        #expect(loads.withLock { $0 } == Array(repeating: 1, count: keyCount))
    }

    @Test func syncAndAsyncCallersShareOneLoad() async throws {
        let store = try makeStore(String.self)
        defer { store.shutdown() }
        let loads = Locked(0)
        async let fromThread: String = Task.detached {
            try store.value(forKey: "k") { () throws -> String in
                loads.withLock { $0 += 1 }
                usleep(100_000)
                return "sync"
            }
        }.value
        try await Task.sleep(for: .milliseconds(20))
        let fromTask = try await store.value(forKey: "k") { @Sendable () async throws -> String in
            loads.withLock { $0 += 1 }
            return "async"
        }
        let threadValue = try await fromThread
        #expect(threadValue == fromTask)
        // On a machine so loaded that the async call came after the sync load ended, it was a
        // hit: still one load.
        #expect(loads.withLock { $0 } == 1)
    }

    // MARK: Errors

    @Test func aLoaderErrorReachesEveryWaiterAndIsNotCached() throws {
        let store = try makeStore(String.self)
        defer { store.shutdown() }
        let loads = Locked(0)
        let failures = Locked(0)
        onThreads(6) { _ in
            do {
                _ = try store.value(forKey: "k") { () throws -> String in
                    loads.withLock { $0 += 1 }
                    usleep(50_000)
                    throw LoadFailed()
                }
            } catch is LoadFailed {
                failures.withLock { $0 += 1 }
            } catch {
                Issue.record("unexpected error \(error)")
            }
        }
        #expect(loads.withLock { $0 } == 1)
        #expect(failures.withLock { $0 } == 6)
        #expect(!store.exists("k"), "an error is not cached")
        #expect(store.statistics.loadFailures == 1)
        // The next caller loads again.
        #expect(try store.value(forKey: "k") { "second" } == "second")
        #expect(store.statistics.loadSuccesses == 1)
    }

    @Test func anAsyncLoaderErrorReachesEveryWaiter() async throws {
        let store = try makeStore(String.self)
        defer { store.shutdown() }
        let loads = Locked(0)
        let failures = await withTaskGroup(of: Bool.self) { group in
            for _ in 0..<20 {
                group.addTask {
                    do {
                        _ = try await store.value(forKey: "k") { @Sendable () async throws -> String in
                            loads.withLock { $0 += 1 }
                            try await Task.sleep(for: .milliseconds(50))
                            throw LoadFailed()
                        }
                        return false
                    } catch {
                        return error is LoadFailed
                    }
                }
            }
            return await group.reduce(0) { $0 + ($1 ? 1 : 0) }
        }
        #expect(failures == 20)
        #expect(loads.withLock { $0 } == 1)
        #expect(!store.exists("k"))
        #expect(try await store.value(forKey: "k") { @Sendable () async throws -> String in "second" } == "second")
    }

    // MARK: TTL

    @Test func theLoadedValueGetsItsTTLAsync() async throws {
        let clock = ManualClock()
        let store = try makeStore(String.self, clock: clock, sweepInterval: .seconds(3600))
        defer { store.shutdown() }
        _ = try await store.value(forKey: "async fixed", ttl: .seconds(7)) { @Sendable () async throws -> String in "d"
        }
        #expect(try store.timeToLive("async fixed") == .seconds(7))
        _ = try await store.value(forKey: "async chosen") {
            @Sendable () async throws -> (value: String, ttl: Duration) in
            ("e", .seconds(9))
        }
        #expect(try store.timeToLive("async chosen") == .seconds(9))
    }

    @Test func theLoadedValueGetsItsTTL() throws {
        let clock = ManualClock()
        let store = try makeStore(String.self, clock: clock, sweepInterval: .seconds(3600))
        defer { store.shutdown() }
        _ = try store.value(forKey: "fixed", ttl: .seconds(30)) { "a" }
        #expect(try store.timeToLive("fixed") == .seconds(30))
        _ = try store.value(forKey: "chosen") { (value: "b", ttl: .seconds(12)) }
        #expect(try store.timeToLive("chosen") == .seconds(12))
        _ = try store.value(forKey: "none") { "c" }
        #expect(try store.timeToLive("none") == nil)
        // A hit keeps the stored value and its TTL; the loader does not run.
        clock.advance(by: .seconds(5))
        #expect(try store.value(forKey: "fixed", ttl: .seconds(99)) { "not run" } == "a")
        #expect(try store.timeToLive("fixed") == .seconds(25))
        // Once expired, the key is loaded again.
        clock.advance(by: .seconds(25))
        #expect(try store.value(forKey: "fixed", ttl: .seconds(30)) { "again" } == "again")
        #expect(store.statistics.expirations == 1)
    }

    @Test func negativeTTLsAreRejected() throws {
        let store = try makeStore(String.self)
        defer { store.shutdown() }
        var ran = false
        expectKVSError(.invalidTTL, key: "k") {
            try store.value(forKey: "k", ttl: .seconds(-1)) { () throws -> String in
                ran = true
                return "x"
            }
        }
        #expect(!ran, "the TTL is checked before the loader runs")
        expectKVSError(.invalidTTL, key: "k") { try store.value(forKey: "k") { (value: "x", ttl: .seconds(-1)) } }
        #expect(!store.exists("k"))
        #expect(store.statistics.loadFailures == 1)
    }

    @Test func negativeTTLsAreRejectedAsync() async throws {
        let store = try makeStore(String.self)
        defer { store.shutdown() }
        await expectKVSError(.invalidTTL, key: "k") {
            try await store.value(forKey: "k") { @Sendable () async throws -> (value: String, ttl: Duration) in
                ("x", .seconds(-1))
            }
        }
        #expect(!store.exists("k"))
        #expect(store.statistics.loadFailures == 1)
    }

    // MARK: Re-entry

    @Test func aLoaderThatAsksForItsOwnKeyGetsAnError() throws {
        let store = try makeStore(String.self)
        defer { store.shutdown() }
        var inner: KVSError?
        let value = try store.value(forKey: "k") { () throws -> String in
            do {
                _ = try store.value(forKey: "k") { "inner" }
            } catch let error as KVSError {
                inner = error
            }
            return "outer"
        }
        #expect(value == "outer")
        #expect(inner?.code == .recursiveLoad)
        #expect(inner?.key == "k")

        // Through another key: a → b → a.
        expectKVSError(.recursiveLoad, key: "a") {
            try store.value(forKey: "a") { () throws -> String in
                try store.value(forKey: "b") { () throws -> String in
                    try store.value(forKey: "a") { "never" }
                }
            }
        }
        #expect(!store.exists("a") && !store.exists("b"))

        // Another store's same key, and another key of this store, are fine.
        let other = try makeStore(String.self)
        defer { other.shutdown() }
        let nested = try store.value(forKey: "x") { () throws -> String in
            try other.value(forKey: "x") { "other" } + (try store.value(forKey: "y") { "y" })
        }
        #expect(nested == "othery")
    }

    @Test func anAsyncLoaderThatAsksForItsOwnKeyGetsAnError() async throws {
        let store = try makeStore(String.self)
        defer { store.shutdown() }
        // The async variant, and the sync one inside an async loader.
        await expectKVSError(.recursiveLoad, key: "async") {
            try await store.value(forKey: "async") { @Sendable () async throws -> String in
                try await store.value(forKey: "async") { @Sendable () async throws -> String in "never" }
            }
        }
        await expectKVSError(.recursiveLoad, key: "mixed") {
            try await store.value(forKey: "mixed") { @Sendable () async throws -> String in
                try loadSynchronously(store, "mixed")
            }
        }
    }

    // MARK: Cancellation

    @Test func aCancelledWaiterLeavesTheLoadToTheOthers() async throws {
        let store = try makeStore(String.self)
        defer { store.shutdown() }
        let (gate, open) = AsyncStream<Void>.makeStream()
        let loads = Locked(0)
        let load: @Sendable () async throws -> String = {
            loads.withLock { $0 += 1 }
            for await _ in gate { break }
            return "loaded"
        }
        let first = Task { try await store.value(forKey: "k", orLoad: load) }
        let second = Task { try await store.value(forKey: "k", orLoad: load) }
        while store.statistics.misses < 2 { try await Task.sleep(for: .milliseconds(1)) }
        first.cancel()
        await #expect(throws: CancellationError.self) { try await first.value }
        open.yield()
        #expect(try await second.value == "loaded")
        #expect(loads.withLock { $0 } == 1)
        #expect(try store.get("k") == "loaded")
    }

    @Test func aLoadWhoseCallersAllLeftStillStoresItsValue() async throws {
        let store = try makeStore(String.self)
        defer { store.shutdown() }
        let (gate, open) = AsyncStream<Void>.makeStream()
        let caller = Task {
            try await store.value(forKey: "k") { @Sendable () async throws -> String in
                for await _ in gate { break }
                return "loaded"
            }
        }
        while store.statistics.misses < 1 { try await Task.sleep(for: .milliseconds(1)) }
        caller.cancel()
        await #expect(throws: CancellationError.self) { try await caller.value }
        open.yield()
        var stored = false
        for _ in 0..<5000 where !stored {
            stored = store.exists("k")
            if !stored { try await Task.sleep(for: .milliseconds(1)) }
        }
        #expect(try store.get("k") == "loaded")
    }

    @Test func anAlreadyCancelledCallerDoesNotWait() async throws {
        let store = try makeStore(String.self)
        defer { store.shutdown() }
        let caller = Task {
            withUnsafeCurrentTask { $0?.cancel() }
            return try await store.value(forKey: "k") { @Sendable () async throws -> String in "loaded" }
        }
        // Either the load ended before the wait began (the value), or the wait saw the
        // cancellation (CancellationError); never a hang.
        do {
            #expect(try await caller.value == "loaded")
        } catch {
            #expect(error is CancellationError)
        }
    }

    // MARK: Writes during a load, closed store

    @Test func aWriteDuringTheLoadStaysInTheStore() throws {
        let store = try makeStore(String.self)
        defer { store.shutdown() }
        let value = try store.value(forKey: "k") { () throws -> String in
            try store.set("k", "written meanwhile")
            return "loaded"
        }
        #expect(value == "loaded", "the callers get the load's result")
        #expect(try store.get("k") == "written meanwhile", "the store keeps the newer write")
    }

    @Test func aClosedStoreThrowsAsync() async throws {
        let store = try makeStore(String.self)
        store.shutdown()
        await expectKVSError(.storeClosed) {
            try await store.value(forKey: "k") { @Sendable () async throws -> String in "x" }
        }
    }

    @Test func aClosedStoreThrows() throws {
        let store = try makeStore(String.self)
        store.shutdown()
        expectKVSError(.storeClosed) { try store.value(forKey: "k") { "x" } }
        // Closed while loading: the callers get .storeClosed, nothing is stored.
        let open = try makeStore(String.self)
        expectKVSError(.storeClosed) {
            try open.value(forKey: "k") { () throws -> String in
                open.shutdown()
                return "x"
            }
        }
    }
}

/// The synchronous `value(forKey:ttl:orLoad:)`, callable from async code.
private func loadSynchronously(_ store: KeyValueStore<String>, _ key: String) throws -> String {
    try store.value(forKey: key) { "never" }
}

/// Runs `body(i)` for `i` in `0..<count`, each on a thread of its own, all released at once,
/// and returns when every one has returned.
private func onThreads(_ count: Int, _ body: @escaping @Sendable (Int) -> Void) {
    let ready = DispatchGroup()
    let done = DispatchGroup()
    let start = DispatchSemaphore(value: 0)
    for index in 0..<count {
        ready.enter()
        done.enter()
        let thread = Thread {
            ready.leave()
            start.wait()
            body(index)
            done.leave()
        }
        thread.start()
    }
    ready.wait()
    for _ in 0..<count { start.signal() }
    done.wait()
}
