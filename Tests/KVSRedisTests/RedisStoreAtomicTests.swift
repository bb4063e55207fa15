import Foundation
import KVS
import KVSNetworkTestSupport
import KVSRedis
import KVSTestSupport
import NIOCore
import NIOPosix
import RESP
import Testing

#if canImport(Glibc)
import Glibc
private let sendFlags = Int32(MSG_NOSIGNAL)
#elseif canImport(Darwin)
import Darwin
private let sendFlags: Int32 = 0
#endif

// RedisStore's atomic operations (setIfAbsent, update, compareAndSwap, transaction), each check
// run on an in-process kvs-server and on redis-server. Conflicts are made, not hoped for: a
// second client writes a watched key from inside the transaction body, through a blocking
// socket, so the write surely lands between WATCH and EXEC.

@Suite("RedisStore atomic operations on kvs-server")
struct RedisStoreAtomicOnKVSServerTests {
    @Test("setIfAbsent writes only an absent key, with its TTL")
    func setIfAbsent() async throws {
        try await withKVSServer { _, port in try await AtomicChecks.setIfAbsent(port: port) }
    }

    @Test("update inserts, modifies, deletes, keeps the TTL, and rolls back a throwing transform")
    func update() async throws { try await withKVSServer { _, port in try await AtomicChecks.update(port: port) } }

    @Test("compareAndSwap swaps on a match only, keeping the TTL")
    func compareAndSwap() async throws {
        try await withKVSServer { _, port in try await AtomicChecks.compareAndSwap(port: port) }
    }

    @Test("compareAndSwap with a TTLUpdate keeps, sets or removes the TTL; a failed one changes nothing")
    func compareAndSwapWithTTL() async throws {
        try await withKVSServer { _, port in try await AtomicChecks.compareAndSwapWithTTL(port: port) }
    }

    @Test("a multi-key transaction reads its own writes and commits them together")
    func transaction() async throws {
        try await withKVSServer { _, port in try await AtomicChecks.transaction(port: port) }
    }

    @Test("a write by another client between WATCH and EXEC makes the body run again")
    func conflictIsRetried() async throws {
        try await withKVSServer { _, port in try await AtomicChecks.conflictIsRetried(port: port) }
    }

    @Test("concurrent updates from many tasks and two stores lose no increment")
    func concurrentUpdates() async throws {
        try await withKVSServer { _, port in try await AtomicChecks.concurrentUpdates(port: port) }
    }

    @Test("maxAttempts conflicts throw .transactionConflict with nothing written")
    func attemptsExhausted() async throws {
        try await withKVSServer { _, port in try await AtomicChecks.attemptsExhausted(port: port) }
    }

    @Test("a throwing body, or one touching an undeclared key, writes nothing")
    func rollback() async throws { try await withKVSServer { _, port in try await AtomicChecks.rollback(port: port) } }

    @Test("the dedicated connection is reused, and never dirty")
    func connectionReuse() async throws {
        try await withKVSServer { _, port in try await AtomicChecks.connectionReuse(port: port) }
    }

    @Test("after shutdown every atomic operation throws .storeClosed")
    func shutdown() async throws { try await withKVSServer { _, port in try await AtomicChecks.shutdown(port: port) } }
}

@Suite(
    "RedisStore atomic operations on redis-server",
    .enabled(if: redisServerPath != nil, "skipped: redis-server is not on the PATH")
)
struct RedisStoreAtomicOnRedisTests {
    @Test("setIfAbsent writes only an absent key, with its TTL")
    func setIfAbsent() async throws { try await withRedisServer(AtomicChecks.setIfAbsent) }

    @Test("update inserts, modifies, deletes, keeps the TTL, and rolls back a throwing transform")
    func update() async throws { try await withRedisServer(AtomicChecks.update) }

    @Test("compareAndSwap swaps on a match only, keeping the TTL")
    func compareAndSwap() async throws { try await withRedisServer(AtomicChecks.compareAndSwap) }

    @Test("compareAndSwap with a TTLUpdate keeps, sets or removes the TTL; a failed one changes nothing")
    func compareAndSwapWithTTL() async throws { try await withRedisServer(AtomicChecks.compareAndSwapWithTTL) }

    @Test("a multi-key transaction reads its own writes and commits them together")
    func transaction() async throws { try await withRedisServer(AtomicChecks.transaction) }

    @Test("a write by another client between WATCH and EXEC makes the body run again")
    func conflictIsRetried() async throws { try await withRedisServer(AtomicChecks.conflictIsRetried) }

    @Test("concurrent updates from many tasks and two stores lose no increment")
    func concurrentUpdates() async throws { try await withRedisServer(AtomicChecks.concurrentUpdates) }

    @Test("maxAttempts conflicts throw .transactionConflict with nothing written")
    func attemptsExhausted() async throws { try await withRedisServer(AtomicChecks.attemptsExhausted) }

    @Test("a throwing body, or one touching an undeclared key, writes nothing")
    func rollback() async throws { try await withRedisServer(AtomicChecks.rollback) }

    @Test("the dedicated connection is reused, and never dirty")
    func connectionReuse() async throws { try await withRedisServer(AtomicChecks.connectionReuse) }

    @Test("after shutdown every atomic operation throws .storeClosed")
    func shutdown() async throws { try await withRedisServer(AtomicChecks.shutdown) }

    @Test("keys on several slots of a cluster-mode server throw .crossSlot, explaining hash tags")
    func crossSlot() async throws {
        let nodesFile = "kvs-atomic-nodes-\(UUID().uuidString).conf"
        defer { try? FileManager.default.removeItem(atPath: NSTemporaryDirectory() + nodesFile) }
        // The bus port is chosen too: the default, port + 10000, is past 65535 for a high ephemeral port.
        let busPort = try await freeLoopbackPort()
        let arguments = [
            "--cluster-enabled", "yes", "--cluster-config-file", nodesFile, "--cluster-port", String(busPort),
        ]
        try await withRedisServer(arguments: arguments) { port in
            // A one-node cluster that owns every slot.
            let store = RedisStore<String>(port: port)
            let added = try await store.command(["CLUSTER", "ADDSLOTSRANGE", "0", "16383"])
            #expect(added.errorMessage == nil, "\(added)")
            let deadline = ContinuousClock.now + .seconds(10)
            while ContinuousClock.now < deadline {
                let info = try await store.command(["CLUSTER", "INFO"]).stringValue ?? ""
                if info.contains("cluster_state:ok") { break }
                try await Task.sleep(for: .milliseconds(20))
            }
            // "a" and "b" hash to slots 15495 and 3300.
            var ran = false
            do {
                try await store.transaction(on: ["a", "b"]) { tx in
                    ran = true
                    try tx.set("a", "1")
                }
                Issue.record("a transaction over two slots committed")
            } catch let error as KVSError {
                #expect(error.code == .crossSlot)
                #expect(error.message.contains("hash tag"), "\(error.message)")
                #expect(error.message.contains("127.0.0.1:\(port)"), "\(error.message)")
            }
            #expect(!ran, "the body ran although the server refused the WATCH")
            #expect(try await store.exists("a") == false)
            // With a hash tag both keys share a slot, and the transaction commits.
            try await store.transaction(on: ["{ab}a", "{ab}b"]) { tx in
                try tx.set("{ab}a", "1")
                try tx.set("{ab}b", "2")
            }
            #expect(try await store.batchGet(["{ab}a", "{ab}b"]).values == ["{ab}a": "1", "{ab}b": "2"])
            await store.shutdown()
        }
    }
}

@Suite("RedisStore atomic operations, failures")
struct RedisStoreAtomicFailureTests {
    @Test("a node that never replies yields .timeout for the transaction and for one waiting for the connection")
    func silentNode() async throws {
        let silent = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .childChannelInitializer { _ in MultiThreadedEventLoopGroup.singleton.any().makeSucceededVoidFuture() }
            .bind(host: "127.0.0.1", port: 0).get()
        let port = silent.localAddress?.port ?? 0
        let store = RedisStore<String>(
            configuration: .init(port: port, connectionsPerNode: 1, requestTimeout: .milliseconds(300))
        )
        // Two at once with one dedicated connection: one waits for the WATCH reply, the other
        // for the connection; both must end with .timeout.
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<2 {
                group.addTask { await expectKVSError(.timeout) { try await store.update("k") { _ in "v" } } }
            }
        }
        await store.shutdown()
        try await silent.close()
    }
}

/// The checks, each given the port of a fresh server.
enum AtomicChecks {
    struct Refused: Error {}

    static func setIfAbsent(port: Int) async throws {
        let store = RedisStore<String>(port: port)
        #expect(try await store.setIfAbsent("nx", "first"))
        #expect(try await store.setIfAbsent("nx", "second") == false)
        #expect(try await store.get("nx") == "first")
        #expect(try await pttl(store, "nx") == -1)

        #expect(try await store.setIfAbsent("nx-ttl", "short", ttl: .seconds(30)))
        let ttl = try await pttl(store, "nx-ttl")
        #expect(ttl > 0 && ttl <= 30_000, "PTTL \(ttl)")
        // Refused: the key keeps its value and TTL.
        #expect(try await store.setIfAbsent("nx-ttl", "other", ttl: .seconds(600)) == false)
        #expect(try await store.get("nx-ttl") == "short")
        #expect(try await pttl(store, "nx-ttl") <= 30_000)
        // A sub-millisecond TTL is rounded up, never sent as 0.
        #expect(try await store.setIfAbsent("nx-tiny", "x", ttl: .microseconds(10)))
        // A negative TTL sends nothing.
        await expectKVSError(.invalidTTL) { try await store.setIfAbsent("nx-bad", "x", ttl: .seconds(-1)) }
        #expect(try await store.exists("nx-bad") == false)
        await store.shutdown()
    }

    static func update(port: Int) async throws {
        let store = RedisStore<String>(port: port)
        let inserted = try await store.update("u") { old in old == nil ? "1" : "unexpected" }
        #expect(inserted == "1")
        #expect(try await store.get("u") == "1")

        try await store.set("u", "5", ttl: .seconds(60))
        let modified = try await store.update("u") { old in String((old.flatMap { Int($0) } ?? 0) * 2) }
        #expect(modified == "10")
        #expect(try await store.get("u") == "10")
        let kept = try await pttl(store, "u")
        #expect(kept > 0 && kept <= 60_000, "update keeps the TTL, like INCR (SET KEEPTTL): PTTL \(kept)")
        try await store.set("u", "10")
        _ = try await store.update("u") { $0 }
        #expect(try await pttl(store, "u") == -1, "a key without a TTL gets none")

        do {
            try await store.update("u") { _ in throw Refused() }
            Issue.record("a throwing transform returned")
        } catch is Refused {}
        #expect(try await store.get("u") == "10")

        let deleted = try await store.update("u") { _ in nil }
        #expect(deleted == nil)
        #expect(try await store.exists("u") == false)

        // Bytes that do not decode as the store's type: .protocolError naming the key, nothing written.
        let raw = RedisStore<[UInt8]>(port: port)
        try await raw.set("junk", [0xFF, 0xFE])
        await expectKVSError(.protocolError) { try await store.update("junk") { _ in "new" } }
        #expect(try await raw.get("junk") == [0xFF, 0xFE])
        await raw.shutdown()
        await store.shutdown()
    }

    static func compareAndSwap(port: Int) async throws {
        let store = RedisStore<String>(port: port)
        #expect(try await store.compareAndSwap("c", expected: "x", new: "y") == false)
        #expect(try await store.exists("c") == false)
        #expect(try await store.compareAndSwap("c", expected: nil, new: "a"))
        #expect(try await store.get("c") == "a")
        #expect(try await store.compareAndSwap("c", expected: nil, new: "b") == false)
        #expect(try await store.compareAndSwap("c", expected: "z", new: "b") == false)
        #expect(try await store.get("c") == "a")
        #expect(try await pttl(store, "c") == -1, "a key the swap creates has no TTL")
        try await store.set("c", "a", ttl: .seconds(60))
        #expect(try await store.compareAndSwap("c", expected: "a", new: "b"))
        #expect(try await store.get("c") == "b")
        let kept = try await pttl(store, "c")
        #expect(kept > 0 && kept <= 60_000, "compareAndSwap keeps the TTL, like update (SET KEEPTTL): PTTL \(kept)")
        // A failed swap changes nothing, TTL included.
        #expect(try await store.compareAndSwap("c", expected: "a", new: "x") == false)
        #expect(try await store.get("c") == "b")
        let after = try await pttl(store, "c")
        #expect(after > 0 && after <= kept, "PTTL \(after)")
        #expect(try await store.compareAndSwap("c", expected: "b", new: nil))
        #expect(try await store.exists("c") == false)
        #expect(try await store.compareAndSwap("c", expected: nil, new: nil))
        await store.shutdown()
    }

    static func compareAndSwapWithTTL(port: Int) async throws {
        let store = RedisStore<String>(port: port)
        try await store.set("ct", "1", ttl: .seconds(60))
        #expect(try await store.compareAndSwap("ct", expected: "1", new: "2", ttl: .keep))
        let kept = try await pttl(store, "ct")
        #expect(kept > 0 && kept <= 60_000, ".keep: PTTL \(kept)")
        #expect(try await store.compareAndSwap("ct", expected: "2", new: "3", ttl: .expire(after: .seconds(600))))
        let set = try await pttl(store, "ct")
        #expect(set > 60_000 && set <= 600_000, ".expire(after:): PTTL \(set)")
        #expect(try await store.compareAndSwap("ct", expected: "3", new: "4", ttl: .persist))
        #expect(try await pttl(store, "ct") == -1, ".persist")
        #expect(try await store.compareAndSwap("ct", expected: "4", new: "5", ttl: .expire(after: .microseconds(10))))
        #expect(try await store.compareAndSwap("ct-zero", expected: nil, new: "z", ttl: .expire(after: .zero)))
        #expect(try await pttl(store, "ct-zero") == -1, ".expire(after: .zero) is no expiry")
        // A created key: none with .keep, the given one with .expire(after:).
        #expect(try await store.compareAndSwap("ct-new", expected: nil, new: "n", ttl: .keep))
        #expect(try await pttl(store, "ct-new") == -1)
        #expect(try await store.compareAndSwap("ct-timed", expected: nil, new: "t", ttl: .expire(after: .seconds(30))))
        let timed = try await pttl(store, "ct-timed")
        #expect(timed > 0 && timed <= 30_000, "PTTL \(timed)")

        // A failed swap changes nothing, TTL included; whatever `ttl` says.
        for ttl: TTLUpdate in [.keep, .persist, .expire(after: .seconds(600))] {
            #expect(try await store.compareAndSwap("ct-timed", expected: "other", new: "x", ttl: ttl) == false)
            #expect(try await store.compareAndSwap("ct-timed", expected: nil, new: "x", ttl: ttl) == false)
        }
        #expect(try await store.get("ct-timed") == "t")
        let untouched = try await pttl(store, "ct-timed")
        #expect(untouched > 0 && untouched <= timed, "PTTL \(untouched)")
        // A negative TTL, or one too large for 64-bit milliseconds, sends nothing.
        await expectKVSError(.invalidTTL) {
            try await store.compareAndSwap("ct-timed", expected: "t", new: "x", ttl: .expire(after: .seconds(-1)))
        }
        await expectKVSError(.invalidTTL) {
            try await store.compareAndSwap(
                "ct-timed",
                expected: "t",
                new: "x",
                ttl: .expire(after: .seconds(Int64.max))
            )
        }
        await expectKVSError(.invalidTTL) {
            try await store.compareAndSwap("ct-absent", expected: nil, new: "x", ttl: .expire(after: .seconds(-1)))
        }
        #expect(try await store.get("ct-timed") == "t")
        #expect(try await pttl(store, "ct-timed") <= untouched)
        #expect(try await store.exists("ct-absent") == false)
        await store.shutdown()
    }

    static func transaction(port: Int) async throws {
        let store = RedisStore<String>(port: port)
        try await store.set("{t}:alice", "100", ttl: .seconds(60))
        try await store.set("{t}:bob", "5")
        try await store.set("{t}:tmp", "scratch")
        let keys = ["{t}:alice", "{t}:bob", "{t}:log", "{t}:tmp", "{t}:alice"]  // a duplicate is ignored
        let moved = try await store.transaction(on: keys) { tx -> Int in
            let alice = Int(try tx.get("{t}:alice")) ?? -1
            let bob = Int(try tx.get("{t}:bob")) ?? -1
            try tx.set("{t}:alice", String(alice - 10))
            try tx.set("{t}:bob", String(bob + 10))
            #expect(try tx.get("{t}:alice") == "90", "reads see the transaction's own writes")
            #expect(try tx.exists("{t}:log") == false)
            #expect(throws: KVSError.self) { try tx.get("{t}:log") }
            try tx.set("{t}:log", "moved 10", ttl: .seconds(30))
            #expect(try tx.get("{t}:log") == "moved 10")
            try tx.delete("{t}:tmp")
            #expect(try tx.exists("{t}:tmp") == false)
            #expect(throws: KVSError.self) { try tx.delete("{t}:tmp") }
            return 10
        }
        #expect(moved == 10)
        let found = try await store.batchGet(["{t}:alice", "{t}:bob", "{t}:log", "{t}:tmp"])
        #expect(found.values == ["{t}:alice": "90", "{t}:bob": "15", "{t}:log": "moved 10"])
        #expect(found.errors["{t}:tmp"]?.code == .notFound)
        #expect(try await pttl(store, "{t}:alice") == -1, "set inside a transaction clears the TTL, like SET")
        let logTTL = try await pttl(store, "{t}:log")
        #expect(logTTL > 0 && logTTL <= 30_000, "PTTL \(logTTL)")

        // A read-only transaction returns what it read and writes nothing.
        let total = try await store.transaction(on: ["{t}:alice", "{t}:bob"]) { tx in
            (Int(try tx.get("{t}:alice")) ?? 0) + (Int(try tx.get("{t}:bob")) ?? 0)
        }
        #expect(total == 105)
        // No keys: the body runs once and contacts no server.
        #expect(try await store.transaction(on: []) { _ in 7 } == 7)
        await store.shutdown()
    }

    static func conflictIsRetried(port: Int) async throws {
        let store = RedisStore<String>(port: port)
        let other = try BlockingClient(port: port)
        defer { other.disconnect() }
        try await store.set("{r}:k", "0")
        var seen: [String] = []
        let result = try await store.transaction(on: ["{r}:k"]) { tx in
            let value = try tx.get("{r}:k")
            seen.append(value)
            if seen.count == 1 {
                // Another client writes the watched key between WATCH and EXEC: EXEC must fail.
                #expect(try other.set("{r}:k", "10") == "+OK")
            }
            try tx.set("{r}:k", String((Int(value) ?? -100) + 1))
            return value
        }
        #expect(seen == ["0", "10"], "the body ran twice, the second time on the other client's value")
        #expect(result == "10", "the value returned is the committed run's")
        #expect(try await store.get("{r}:k") == "11")

        // update and compareAndSwap retry the same way.
        var updateRuns = 0
        let updated = try await store.update("{r}:k") { old in
            updateRuns += 1
            if updateRuns == 1 { _ = try other.set("{r}:k", "20") }
            return String((old.flatMap { Int($0) } ?? -100) + 1)
        }
        #expect(updateRuns == 2)
        #expect(updated == "21")
        #expect(try await store.get("{r}:k") == "21")
        await store.shutdown()
    }

    static func concurrentUpdates(port: Int) async throws {
        // Two stores are two clients, each with its own dedicated connections: the conflicts
        // are real WATCH conflicts on the server, not only waits for a connection.
        // Four tasks share each store's 3 or 4 dedicated connections, so some of them wait
        // for one; under ThreadSanitizer (10x slower) a wait can pass the default 5 s bound.
        // The bound is not what this test checks, so it is generous. (With sixteen tasks of
        // 40 increments, the retries of the losers kept a connection busy past even 60 s
        // under ThreadSanitizer on 2 cores: eight tasks of 40 still race on every update.)
        let stores = [
            RedisStore<String>(configuration: .init(port: port, connectionsPerNode: 4, requestTimeout: .seconds(60))),
            RedisStore<String>(configuration: .init(port: port, connectionsPerNode: 3, requestTimeout: .seconds(60))),
        ]
        try await stores[0].set("{n}:counter", "0")
        let tasks = 8
        let increments = 40
        try await withThrowingTaskGroup(of: Void.self) { group in
            for task in 0..<tasks {
                let store = stores[task % stores.count]
                group.addTask {
                    for _ in 0..<increments {
                        // Eight tasks on one key: under ThreadSanitizer one update can lose
                        // 64 races in a row (.transactionConflict, as documented). This test is
                        // about lost increments, not about that bound, so it gives many attempts.
                        try await store.update("{n}:counter", maxAttempts: 100_000) { old in
                            String((old.flatMap { Int($0) } ?? 0) + 1)
                        }
                    }
                }
            }
            try await group.waitForAll()
        }
        #expect(try await stores[1].get("{n}:counter") == String(tasks * increments))
        for store in stores { await store.shutdown() }
    }

    static func attemptsExhausted(port: Int) async throws {
        let store = RedisStore<String>(port: port)
        let other = try BlockingClient(port: port)
        defer { other.disconnect() }
        try await store.set("{x}:k", "start")
        var runs = 0
        do {
            try await store.transaction(on: ["{x}:k", "{x}:j"], maxAttempts: 3) { tx in
                runs += 1
                #expect(try other.set("{x}:k", "outside-\(runs)") == "+OK")
                try tx.set("{x}:k", "inside")
                try tx.set("{x}:j", "inside")
            }
            Issue.record("the transaction committed although every attempt conflicted")
        } catch let error as KVSError {
            #expect(error.code == .transactionConflict)
            #expect(error.key == "{x}:k")
        }
        #expect(runs == 3)
        #expect(try await store.get("{x}:k") == "outside-3")
        #expect(try await store.exists("{x}:j") == false)

        var updateRuns = 0
        await expectKVSError(.transactionConflict) {
            try await store.update("{x}:k", maxAttempts: 2) { _ in
                updateRuns += 1
                _ = try other.set("{x}:k", "again-\(updateRuns)")
                return "inside"
            }
        }
        #expect(updateRuns == 2)
        #expect(try await store.get("{x}:k") == "again-2")
        await store.shutdown()
    }

    static func rollback(port: Int) async throws {
        let store = RedisStore<String>(port: port)
        try await store.set("{b}:a", "kept")
        do {
            try await store.transaction(on: ["{b}:a", "{b}:b"]) { tx in
                try tx.set("{b}:a", "changed")
                try tx.set("{b}:b", "new")
                throw Refused()
            }
            Issue.record("a throwing body returned")
        } catch is Refused {}
        #expect(try await store.get("{b}:a") == "kept")
        #expect(try await store.exists("{b}:b") == false)

        // A key that was not declared cannot be watched: .invalidArgument, and nothing written.
        do {
            try await store.transaction(on: ["{b}:a"]) { tx in
                try tx.set("{b}:a", "changed")
                try tx.set("{b}:undeclared", "x")
            }
            Issue.record("writing an undeclared key succeeded")
        } catch let error as KVSError {
            #expect(error.code == .invalidArgument)
            #expect(error.key == "{b}:undeclared")
        }
        for read in ["get", "exists", "delete"] {
            let error = await expectKVSError(.invalidArgument) {
                try await store.transaction(on: ["{b}:a"]) { tx in
                    switch read {
                    case "get": _ = try tx.get("{b}:undeclared")
                    case "exists": _ = try tx.exists("{b}:undeclared")
                    default: try tx.delete("{b}:undeclared")
                    }
                }
            }
            #expect(error != nil, "\(read)")
        }
        #expect(try await store.get("{b}:a") == "kept")
        #expect(try await store.exists("{b}:undeclared") == false)

        // A value that cannot be encoded: .invalidArgument from tx.set, nothing written.
        struct Unencodable: Codable, Sendable, RedisValueCodec {
            func encode(to encoder: any Encoder) throws { throw Refused() }
        }
        let odd = RedisStore<Unencodable>(port: port)
        await expectKVSError(.invalidArgument) {
            try await odd.transaction(on: ["{b}:odd"]) { tx in try tx.set("{b}:odd", Unencodable()) }
        }
        #expect(try await store.exists("{b}:odd") == false)
        await odd.shutdown()
        await store.shutdown()
    }

    static func connectionReuse(port: Int) async throws {
        // One dedicated connection: every transaction below runs on the same one.
        let store = RedisStore<String>(configuration: .init(port: port, connectionsPerNode: 1))
        let other = try BlockingClient(port: port)
        defer { other.disconnect() }
        try await store.set("{d}:x", "0")
        try await store.transaction(on: ["{d}:x"]) { tx in try tx.set("{d}:x", "warm-up") }
        let connectionsBefore = try await totalConnections(store)

        // Each of these ends without EXEC; had it left {d}:x watched, the write by `other`
        // below would make the next single-attempt transaction fail with .transactionConflict.
        let endings: [(String, (inout RedisTransaction<String>) throws -> Void)] = [
            (
                "a throwing body",
                { tx in
                    try tx.set("{d}:x", "never")
                    throw Refused()
                }
            ),
            ("an undeclared key", { tx in _ = try tx.get("{d}:elsewhere") }),
            ("a read-only body", { tx in _ = try tx.get("{d}:x") }),
        ]
        for (index, (ending, body)) in endings.enumerated() {
            _ = try? await store.transaction(on: ["{d}:x"], body)
            #expect(try other.set("{d}:x", "outside-\(index)") == "+OK")
            let committed = try await store.transaction(on: ["{d}:y"], maxAttempts: 1) { tx in
                try tx.set("{d}:y", "after \(ending)")
                return true
            }
            #expect(committed, "after \(ending)")
            #expect(try await store.get("{d}:y") == "after \(ending)")
        }
        // And after every attempt conflicted (the last EXEC cleared the watches).
        _ = try? await store.transaction(on: ["{d}:x"], maxAttempts: 1) { tx in
            _ = try other.set("{d}:x", "conflict")
            try tx.set("{d}:x", "never")
        }
        _ = try other.set("{d}:x", "outside-last")
        try await store.transaction(on: ["{d}:y"], maxAttempts: 1) { tx in try tx.set("{d}:y", "last") }
        #expect(try await store.get("{d}:y") == "last")
        #expect(try await store.get("{d}:x") == "outside-last")
        // A clean ending gives the connection back rather than closing it: no new connection
        // was accepted by the server meanwhile.
        #expect(try await totalConnections(store) == connectionsBefore)
        await store.shutdown()
    }

    static func shutdown(port: Int) async throws {
        let store = RedisStore<String>(port: port)
        try await store.transaction(on: ["{s}:k"]) { tx in try tx.set("{s}:k", "v") }  // opens a dedicated connection
        await store.shutdown()
        await expectKVSError(.storeClosed) {
            try await store.transaction(on: ["{s}:k"]) { tx in try tx.get("{s}:k") }
        }
        await expectKVSError(.storeClosed) { try await store.update("{s}:k") { _ in "w" } }
        await expectKVSError(.storeClosed) { try await store.compareAndSwap("{s}:k", expected: "v", new: "w") }
        await expectKVSError(.storeClosed) {
            try await store.compareAndSwap("{s}:k", expected: "v", new: "w", ttl: .persist)
        }
        await expectKVSError(.storeClosed) { try await store.update("{s}:k", ttl: .keep) { _ in "w" } }
        await expectKVSError(.storeClosed) { try await store.setIfAbsent("{s}:other", "v") }
    }

    // MARK: - Helpers

    /// The key's `PTTL`: milliseconds left, -1 without a TTL, -2 when absent.
    static func pttl(_ store: RedisStore<String>, _ key: String) async throws -> Int64 {
        let reply = try await store.command(["PTTL", key])
        return try #require(reply.intValue, "PTTL replied \(reply)")
    }

    /// `total_connections_received` from `INFO stats`: every connection the server ever accepted.
    static func totalConnections(_ store: RedisStore<String>) async throws -> Int {
        let info = try await store.command(["INFO", "stats"]).stringValue ?? ""
        let line = info.split(whereSeparator: \.isNewline).first { $0.hasPrefix("total_connections_received:") }
        return try #require(
            line.flatMap { Int($0.dropFirst("total_connections_received:".count)) },
            "INFO stats: \(info)"
        )
    }
}

/// A RESP client on a blocking socket, for writes made from inside a synchronous transaction
/// body (which cannot await). Each call waits for the reply, at most 5 s.
final class BlockingClient {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    private let descriptor: Int32

    init(port: Int) throws {
        do { descriptor = try connectLoopbackSocket(port: port) } catch {
            throw Failure(description: error.description)
        }
    }

    /// Sends `SET key value` and returns the reply's first line, such as `+OK`.
    func set(_ key: String, _ value: String) throws -> String {
        try command(["SET", key, value])
    }

    /// Sends one command and returns the reply's first line.
    func command(_ arguments: [String]) throws -> String {
        var request = "*\(arguments.count)\r\n"
        for argument in arguments { request += "$\(argument.utf8.count)\r\n\(argument)\r\n" }
        let bytes = Array(request.utf8)
        var sent = 0
        while sent < bytes.count {
            let n = bytes[sent...].withUnsafeBytes { send(descriptor, $0.baseAddress, $0.count, sendFlags) }
            guard n > 0 else { throw Failure(description: "send failed: errno \(errno)") }
            sent += n
        }
        var reply: [UInt8] = []
        var byte: UInt8 = 0
        while !(reply.count >= 2 && reply[reply.count - 2] == 13 && reply[reply.count - 1] == 10) {
            guard recv(descriptor, &byte, 1, 0) == 1 else { throw Failure(description: "no reply: errno \(errno)") }
            reply.append(byte)
        }
        return String(decoding: reply.dropLast(2), as: UTF8.self)
    }

    func disconnect() {
        close(descriptor)
    }
}
