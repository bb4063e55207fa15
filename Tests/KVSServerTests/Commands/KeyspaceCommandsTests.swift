import KVSNetworkTestSupport
import KVSTestSupport
import NIOCore
import RESP
import Testing

@testable import KVSServer

/// COPY, MOVE and SWAPDB; the replies and errors are those of redis-server 7.0.15.
@Suite("Keyspace commands")
struct KeyspaceCommandsTests {
    static let sameObjects = err("ERR source and destination objects are the same")
    static let outOfRange = err("ERR DB index is out of range")
    static let notInteger = err("ERR value is not an integer or out of range")
    static let notInt32 = err("ERR value is out of range, value must between -2147483648 and 2147483647")

    @Test func copyWithinTheDatabase() async throws {
        try withInProcessServer { server in
            let c = try server.connect()
            try c.call("SET", "a", "1", "EX", "100000")  // far longer than the test, with room for a loaded run
            #expect(try c.call("COPY", "a", "a") == Self.sameObjects)
            #expect(try c.call("COPY", "nokey", "nokey") == Self.sameObjects)
            #expect(try c.call("COPY", "a", "b") == int(1))
            #expect(try c.call("GET", "b") == bulk("1"))
            let ttl = try c.call("TTL", "b").intValue ?? -9
            #expect(ttl > 99_000 && ttl <= 100_000)  // the TTL travels with the copy
            try c.call("SET", "b", "other")
            #expect(try c.call("COPY", "a", "b") == int(0))
            #expect(try c.call("GET", "b") == bulk("other"))
            #expect(try c.call("COPY", "a", "b", "REPLACE") == int(1))
            #expect(try c.call("GET", "b") == bulk("1"))
            #expect(try c.call("COPY", "nokey", "z") == int(0))
            #expect(try c.call("EXISTS", "z") == int(0))
            try c.call("SET", "p", "x")
            #expect(try c.call("COPY", "p", "q", "replace", "REPLACE") == int(1))
            #expect(try c.call("TTL", "q") == int(-1))
        }
    }

    @Test func copyToAnotherDatabase() async throws {
        try withInProcessServer { server in
            let c = try server.connect()
            try c.call("SET", "a", "1", "PX", "100000000")  // far longer than the test
            #expect(try c.call("COPY", "a", "a", "DB", "0") == Self.sameObjects)
            #expect(try c.call("COPY", "a", "a", "DB", "1") == int(1))
            #expect(try c.call("COPY", "a", "c", "db", "1", "DB", "2") == int(1))  // the last DB counts
            try c.call("SELECT", "1")
            #expect(try c.call("GET", "a") == bulk("1"))
            #expect(try c.call("EXISTS", "c") == int(0))
            let pttl = try c.call("PTTL", "a").intValue ?? -9
            #expect(pttl > 99_000_000 && pttl <= 100_000_000)
            try c.call("SET", "a", "mine")
            try c.call("SELECT", "0")
            #expect(try c.call("COPY", "a", "a", "DB", "1") == int(0))
            #expect(try c.call("COPY", "a", "a", "DB", "1", "REPLACE") == int(1))
            try c.call("SELECT", "2")
            #expect(try c.call("GET", "c") == bulk("1"))
            try c.call("SELECT", "1")
            #expect(try c.call("GET", "a") == bulk("1"))
        }
    }

    @Test func copyArgumentErrors() async throws {
        try withInProcessServer { server in
            let c = try server.connect()
            try c.call("SET", "a", "1")
            #expect(try c.call("COPY", "a", "b", "DB", "16") == Self.outOfRange)
            #expect(try c.call("COPY", "a", "b", "DB", "-1") == Self.outOfRange)
            #expect(try c.call("COPY", "a", "b", "DB", "x") == Self.notInteger)
            #expect(try c.call("COPY", "a", "b", "DB", "+1") == Self.notInteger)
            #expect(try c.call("COPY", "a", "b", "DB", "99999999999999999999") == Self.notInteger)
            #expect(try c.call("COPY", "a", "b", "DB", "4294967296") == Self.notInt32)
            #expect(try c.call("COPY", "a", "b", "DB", "-9223372036854775808") == Self.notInt32)
            #expect(try c.call("COPY", "a", "b", "DB") == err("ERR syntax error"))
            #expect(try c.call("COPY", "a", "b", "FOO") == err("ERR syntax error"))
            // Options are checked in order: the first bad one answers.
            #expect(try c.call("COPY", "a", "b", "DB", "99", "FOO") == Self.outOfRange)
            #expect(try c.call("COPY", "a", "b", "FOO", "DB", "99") == err("ERR syntax error"))
            #expect(try c.call("COPY", "a") == err("ERR wrong number of arguments for 'copy' command"))
            #expect(try c.call("EXISTS", "b") == int(0))
        }
    }

    @Test func moveBetweenDatabases() async throws {
        try withInProcessServer { server in
            let c = try server.connect()
            // A TTL far longer than the test: MOVE keeps it, with room for a loaded sanitizer run.
            try c.call("SET", "k", "v", "EX", "100000")
            #expect(try c.call("MOVE", "k", "0") == Self.sameObjects)
            #expect(try c.call("MOVE", "nokey", "0") == Self.sameObjects)
            #expect(try c.call("MOVE", "k", "1") == int(1))
            #expect(try c.call("EXISTS", "k") == int(0))
            #expect(try c.call("MOVE", "k", "1") == int(0))
            try c.call("SELECT", "1")
            #expect(try c.call("GET", "k") == bulk("v"))
            let ttl = try c.call("TTL", "k").intValue ?? -9
            #expect(ttl > 99_000 && ttl <= 100_000)
            // MOVE never overwrites: the key stays where it was.
            try c.call("SELECT", "0")
            try c.call("SET", "k", "new")
            #expect(try c.call("MOVE", "k", "1") == int(0))
            #expect(try c.call("GET", "k") == bulk("new"))
            try c.call("SELECT", "1")
            #expect(try c.call("GET", "k") == bulk("v"))
            // From a higher database to a lower one (the other lock order).
            #expect(try c.call("MOVE", "k", "0") == int(0))
            try c.call("SET", "m", "x")
            #expect(try c.call("MOVE", "m", "0") == int(1))
            try c.call("SELECT", "0")
            #expect(try c.call("GET", "m") == bulk("x"))
        }
    }

    @Test func moveArgumentErrors() async throws {
        try withInProcessServer { server in
            let c = try server.connect()
            try c.call("SET", "a", "1")
            #expect(try c.call("MOVE", "a", "16") == Self.outOfRange)
            #expect(try c.call("MOVE", "nokey", "99") == Self.outOfRange)
            #expect(try c.call("MOVE", "a", "-1") == Self.outOfRange)
            #expect(try c.call("MOVE", "a", "x") == Self.notInteger)
            #expect(try c.call("MOVE", "a", "01") == Self.notInteger)
            #expect(try c.call("MOVE", "a", "99999999999999999999") == Self.notInteger)
            #expect(try c.call("MOVE", "a", "2147483648") == Self.notInt32)
            #expect(try c.call("MOVE", "a", "-2147483649") == Self.notInt32)
            #expect(try c.call("MOVE", "a") == err("ERR wrong number of arguments for 'move' command"))
            #expect(try c.call("GET", "a") == bulk("1"))
        }
    }

    @Test func swapdbSwapsForEveryConnection() async throws {
        try withInProcessServer { server in
            let a = try server.connect()
            let b = try server.connect()
            try a.call("SET", "x", "in0")
            try a.call("SET", "t", "v", "EX", "100000")  // far longer than the test, with room for a loaded run
            try b.call("SELECT", "1")
            try b.call("SET", "x", "in1")
            #expect(try b.call("SWAPDB", "0", "1") == OK)
            #expect(try a.call("GET", "x") == bulk("in1"))
            #expect(try b.call("GET", "x") == bulk("in0"))
            #expect(try a.call("DBSIZE") == int(1))
            #expect(try b.call("DBSIZE") == int(2))
            let ttl = try b.call("TTL", "t").intValue ?? -9
            #expect(ttl > 99_000 && ttl <= 100_000)
            #expect(try a.call("KEYS", "*") == .array([bulk("x")]))
            #expect(try a.call("SWAPDB", "0", "0") == OK)
            #expect(try a.call("GET", "x") == bulk("in1"))
            #expect(try a.call("SWAPDB", "1", "0") == OK)
            #expect(try a.call("GET", "x") == bulk("in0"))
            #expect(try a.call("DBSIZE") == int(2))
        }
    }

    @Test func swapdbMovesDeadlinesWithTheirKeys() async throws {
        try await withKVSServer(blocking: true) { _, port in
            let c = try TestClient(port: port)
            // 1.5 s: room for the three commands below even on a loaded machine (a 50 ms
            // deadline passed before EXISTS under a parallel build), short enough to wait for.
            try c.call("SET", "short", "v", "PX", "1500")
            try c.call("SWAPDB", "0", "3")
            try c.call("SELECT", "3")
            #expect(try c.call("EXISTS", "short") == int(1))
            // Expiry works in the new database: the key goes, and the key count follows
            // (polled for up to 10 s).
            var gone = false
            for _ in 0..<1000 where !gone {
                try await Task.sleep(for: .milliseconds(10))
                gone = try c.call("DBSIZE") == int(0)
            }
            #expect(gone)
            #expect(try c.call("EXISTS", "short") == int(0))
        }
    }

    @Test func swapdbArgumentErrors() async throws {
        try withInProcessServer { server in
            let c = try server.connect()
            #expect(try c.call("SWAPDB", "0", "99") == Self.outOfRange)
            #expect(try c.call("SWAPDB", "0", "16") == Self.outOfRange)
            #expect(try c.call("SWAPDB", "-1", "0") == Self.outOfRange)
            #expect(try c.call("SWAPDB", "a", "1") == err("ERR invalid first DB index"))
            #expect(try c.call("SWAPDB", "0", "a") == err("ERR invalid second DB index"))
            #expect(try c.call("SWAPDB", "1", "") == err("ERR invalid second DB index"))
            #expect(try c.call("SWAPDB", "4294967296", "0") == err("ERR invalid first DB index"))
            #expect(try c.call("SWAPDB", "0", "99999999999999999999") == err("ERR invalid second DB index"))
            #expect(try c.call("SWAPDB", "0") == err("ERR wrong number of arguments for 'swapdb' command"))
        }
    }

    /// Runs: WATCH `key` in `watchDB` on one connection, `action` on another, then
    /// MULTI/PING/EXEC, and returns whether the transaction ran.
    static func transactionRuns(
        port: Int,
        setup: [[String]],
        watchDB: Int,
        key: String,
        action: [[String]]
    ) throws -> Bool {
        let watcher = try TestClient(port: port)
        let other = try TestClient(port: port)
        for command in setup { try other.call(command) }
        try other.call("SELECT", "0")
        try watcher.call("SELECT", String(watchDB))
        try watcher.call("WATCH", key)
        for command in action { try other.call(command) }
        try watcher.call("MULTI")
        try watcher.call("PING")
        let reply = try watcher.call("EXEC")
        try other.call("FLUSHALL")
        return !reply.isNull
    }

    /// The outcomes are redis-server 7.0.15's for the same sequences.
    @Test func watchSeesCopyMoveAndSwapdb() async throws {
        try await withKVSServer(blocking: true) { _, port in
            let inDB0 = [["SET", "k", "1"]]
            let inDB1 = [["SELECT", "1"], ["SET", "k", "1"]]
            let inBoth = [["SET", "k", "1"], ["SELECT", "1"], ["SET", "k", "1"]]
            let cases: [(runs: Bool, setup: [[String]], watchDB: Int, key: String, action: [String])] = [
                // SWAPDB touches a watched key present in either database, even with equal values.
                (false, inDB0, 0, "k", ["SWAPDB", "0", "1"]),
                (false, inDB1, 0, "k", ["SWAPDB", "0", "1"]),
                (false, inBoth, 0, "k", ["SWAPDB", "0", "1"]),
                (false, inDB0, 1, "k", ["SWAPDB", "0", "1"]),
                (true, [["SET", "other", "1"]], 0, "k", ["SWAPDB", "0", "1"]),
                (true, inDB0, 1, "k", ["SWAPDB", "0", "2"]),
                (true, inDB0, 0, "k", ["SWAPDB", "0", "0"]),
                // MOVE touches the source and the destination, unless it is refused.
                (false, inDB0, 0, "k", ["MOVE", "k", "1"]),
                (false, inDB0, 1, "k", ["MOVE", "k", "1"]),
                (true, inBoth, 0, "k", ["MOVE", "k", "1"]),
                (true, inBoth, 1, "k", ["MOVE", "k", "1"]),
                // COPY touches only the destination, and only when it writes it.
                (true, inDB0, 0, "k", ["COPY", "k", "k2"]),
                (false, inDB0, 0, "k2", ["COPY", "k", "k2"]),
                (false, inDB0, 1, "k", ["COPY", "k", "k", "DB", "1"]),
                (true, inDB0 + [["SET", "k2", "x"]], 0, "k2", ["COPY", "k", "k2"]),
                (false, inDB0 + [["SET", "k2", "x"]], 0, "k2", ["COPY", "k", "k2", "REPLACE"]),
            ]
            for test in cases {
                let ran = try Self.transactionRuns(
                    port: port,
                    setup: test.setup,
                    watchDB: test.watchDB,
                    key: test.key,
                    action: [test.action]
                )
                #expect(
                    ran == test.runs,
                    "WATCH \(test.key) in db \(test.watchDB), then \(test.action) after \(test.setup)"
                )
            }
        }
    }

    @Test func insideMultiTheyRunInOrder() async throws {
        try withInProcessServer { server in
            let c = try server.connect()
            try c.call("MULTI")
            #expect(try c.call("SET", "a", "1") == .simpleString("QUEUED"))
            #expect(try c.call("COPY", "a", "b") == .simpleString("QUEUED"))
            #expect(try c.call("MOVE", "b", "1") == .simpleString("QUEUED"))
            #expect(try c.call("SWAPDB", "0", "1") == .simpleString("QUEUED"))
            #expect(try c.call("GET", "b") == .simpleString("QUEUED"))
            #expect(try c.call("EXEC") == .array([OK, int(1), int(1), OK, bulk("1")]))
        }
    }

    /// Many MOVEs both ways between two databases, COPYs and SWAPDBs at once: nothing
    /// deadlocks (the lower database's locks come first) and no key is lost or doubled.
    @Test func concurrentMovesAndSwapsKeepEveryKeyOnce() async throws {
        try await withKVSServer(blocking: true) { _, port in
            let setup = try TestClient(port: port)
            let keys = (0..<50).map { "k\($0)" }
            for key in keys { try setup.call("SET", key, "v") }
            let committed = try await withThrowingTaskGroup(of: Int.self) { group in
                for worker in 0..<3 {
                    group.addTask {
                        try await onDedicatedThread {
                            let c = try TestClient(port: port)
                            try c.call("SELECT", String(worker % 2))
                            for round in 0..<200 {
                                let key = keys[(round * 7 + worker) % keys.count]
                                try c.call("MOVE", key, String(1 - worker % 2))
                                if round % 25 == 0 { try c.call("SWAPDB", "0", "1") }
                            }
                            return 0
                        }
                    }
                }
                // Transactions on database 1 that watch keys of database 0 (read before each
                // transaction) while the keys move and the databases swap.
                group.addTask {
                    try await onDedicatedThread {
                        let c = try TestClient(port: port)
                        var ran = 0
                        for round in 0..<100 {
                            try c.call("SELECT", "0")
                            try c.call("WATCH", keys[round % keys.count])
                            try c.call("SELECT", "1")
                            try c.call("MULTI")
                            try c.call("INCR", "counter")
                            if try !c.call("EXEC").isNull { ran += 1 }
                        }
                        return ran
                    }
                }
                return try await group.reduce(0, +)
            }
            // Every key is in exactly one database; every committed INCR counted once.
            var keysFound: Int64 = 0
            var counted: Int64 = 0
            for db in ["0", "1"] {
                try setup.call("SELECT", db)
                let counter = try setup.call("GET", "counter")
                if let text = counter.stringValue, let n = Int64(text) {
                    counted += n
                    keysFound -= 1
                }
                keysFound += try setup.call("DBSIZE").intValue ?? 0
            }
            #expect(keysFound == Int64(keys.count))
            #expect(counted == Int64(committed))
            try setup.call("SELECT", "0")
            for key in keys {
                try setup.call("SELECT", "0")
                let here = try setup.call("EXISTS", key).intValue ?? 0
                try setup.call("SELECT", "1")
                let there = try setup.call("EXISTS", key).intValue ?? 0
                #expect(here + there == 1)
            }
        }
    }
}
