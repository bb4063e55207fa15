import KVSNetworkTestSupport
import NIOCore
import RESP
import Testing

@testable import KVSServer

@Suite("Transactions")
struct TransactionCommandsTests {
    @Test func multiExecQueuesAndRunsInOrder() async throws {
        try withInProcessServer { server in
            let c = try server.connect()
            #expect(try c.call("MULTI") == OK)
            #expect(try c.call("SET", "a", "1") == .simpleString("QUEUED"))
            #expect(try c.call("INCR", "a") == .simpleString("QUEUED"))
            #expect(try c.call("SET", "s", "x") == .simpleString("QUEUED"))
            #expect(try c.call("INCR", "s") == .simpleString("QUEUED"))
            #expect(try c.call("GET", "a") == .simpleString("QUEUED"))
            #expect(try c.call("PING") == .simpleString("QUEUED"))
            #expect(
                try c.call("EXEC")
                    == .array([
                        OK, int(2), OK, err("ERR value is not an integer or out of range"), bulk("2"),
                        .simpleString("PONG"),
                    ])
            )
            #expect(try c.call("EXEC") == err("ERR EXEC without MULTI"))
            #expect(try c.call("DISCARD") == err("ERR DISCARD without MULTI"))
        }
    }

    @Test func queuingErrorsAbortExec() async throws {
        try await withKVSServer(blocking: true) { _, port in
            let c = try TestClient(port: port)
            try c.call("MULTI")
            #expect(try c.call("MULTI") == err("ERR MULTI calls can not be nested"))
            #expect(try c.call("WATCH", "k") == err("ERR WATCH inside MULTI is not allowed"))
            #expect(try c.call("SET", "a", "1") == .simpleString("QUEUED"))
            #expect(try c.call("NOSUCH") == err("ERR unknown command 'NOSUCH', with args beginning with: "))
            #expect(try c.call("EXEC") == err("EXECABORT Transaction discarded because of previous errors."))
            #expect(try c.call("GET", "a") == NIL)
            try c.call("MULTI")
            #expect(try c.call("GET") == err("ERR wrong number of arguments for 'get' command"))
            #expect(try c.call("EXEC") == err("EXECABORT Transaction discarded because of previous errors."))
            try c.call("MULTI")
            #expect(try c.call("SHUTDOWN") == err("ERR Command not allowed inside a transaction"))
            #expect(try c.call("EXEC") == err("EXECABORT Transaction discarded because of previous errors."))
            // SAVE is `no-multi` in Redis 7 too; BGSAVE is not.
            try c.call("MULTI")
            #expect(try c.call("SAVE") == err("ERR Command not allowed inside a transaction"))
            #expect(try c.call("EXEC") == err("EXECABORT Transaction discarded because of previous errors."))
            #expect(try c.call("PING") == .simpleString("PONG"))
        }
    }

    @Test func discardDropsTheQueue() async throws {
        try withInProcessServer { server in
            let c = try server.connect()
            try c.call("MULTI")
            try c.call("SET", "a", "1")
            #expect(try c.call("DISCARD") == OK)
            #expect(try c.call("GET", "a") == NIL)
            try c.call("MULTI")
            #expect(try c.call("EXEC") == .array([]))
        }
    }

    @Test func watchedKeyChangedByAnotherClientAbortsExec() async throws {
        try withInProcessServer { server in
            let c = try server.connect()
            let other = try server.connect()
            try c.call("SET", "k", "1")
            #expect(try c.call("WATCH", "k") == OK)
            try other.call("SET", "k", "2")
            try c.call("MULTI")
            try c.call("SET", "k", "3")
            #expect(try c.call("EXEC") == .nullArray)
            #expect(try c.call("GET", "k") == bulk("2"))
            // Keys are no longer watched after EXEC.
            try c.call("MULTI")
            try c.call("SET", "k", "3")
            #expect(try c.call("EXEC") == .array([OK]))
        }
    }

    /// A transaction with nothing queued still fails when a watched key changed (it
    /// answered an empty array), whoever changed it, in RESP2 and RESP3.
    @Test func emptyTransactionChecksWatches() async throws {
        try withInProcessServer { server in
            let c = try server.connect()
            let other = try server.connect()
            try c.call("WATCH", "k", "k")
            try other.call("APPEND", "k", "x")
            try c.call("MULTI")
            #expect(try c.call("EXEC") == .nullArray)
            try c.call("HELLO", "3")
            try c.call("WATCH", "n")
            try c.call("DECR", "n")
            try c.call("MULTI")
            #expect(try c.call("EXEC") == .null)
            try c.call("WATCH", "n")
            try c.call("MULTI")
            #expect(try c.call("EXEC") == .array([]))
        }
    }

    /// A container's subcommand and its arity are checked before anything else, as Redis
    /// does: inside MULTI a bad one is refused at once and makes EXEC abort.
    @Test func containerSubcommandsCheckedWhenQueued() async throws {
        try withInProcessServer { server in
            let c = try server.connect()
            #expect(try c.call("CLIENT") == err("ERR wrong number of arguments for 'client' command"))
            #expect(
                try c.call("OBJECT", "encoding") == err("ERR wrong number of arguments for 'object|encoding' command")
            )
            #expect(try c.call("CLIENT", "KILL\r\nX") == err("ERR unknown subcommand 'KILL  X'. Try CLIENT HELP."))
            try c.call("MULTI")
            #expect(try c.call("CLIENT", "FOO") == err("ERR unknown subcommand 'FOO'. Try CLIENT HELP."))
            #expect(try c.call("CONFIG", "SET", "x") == err("ERR wrong number of arguments for 'config|set' command"))
            #expect(
                try c.call("COMMAND", "GETKEYS", "get")
                    == err("ERR wrong number of arguments for 'command|getkeys' command")
            )
            #expect(try c.call("SLOWLOG", "LEN", "x") == err("ERR wrong number of arguments for 'slowlog|len' command"))
            #expect(try c.call("EXEC") == err("EXECABORT Transaction discarded because of previous errors."))
        }
    }

    /// EXEC refused before it runs (here: its arity) discards the transaction and its
    /// watches, quoting the reason, as Redis's `execCommandAbort`.
    @Test func refusedExecAbortsTheTransaction() async throws {
        try withInProcessServer { server in
            let c = try server.connect()
            let abort = err("EXECABORT Transaction discarded because of: wrong number of arguments for 'exec' command")
            #expect(try c.call("EXEC", "x") == abort)
            try c.call("WATCH", "k")
            try c.call("MULTI")
            try c.call("SET", "k", "1")
            #expect(try c.call("EXEC", "extra") == abort)
            #expect(try c.call("EXEC") == err("ERR EXEC without MULTI"))
            #expect(try c.call("GET", "k") == NIL)
        }
    }

    /// A SET whose deadline has already passed leaves the key absent, yet it is a write of
    /// the key: a WATCH on it fails, as in Redis.
    @Test func setWithAPastDeadlineTouchesAWatchedKey() async throws {
        try withInProcessServer { server in
            let c = try server.connect()
            try c.call("WATCH", "c")
            try c.call("SET", "c", "10", "PXAT", "1")
            try c.call("MULTI")
            #expect(try c.call("EXEC") == .nullArray)
            #expect(try c.call("EXISTS", "c") == int(0))
        }
    }

    /// UNWATCH inside MULTI is queued and answers OK in EXEC's reply, as in Redis.
    @Test func unwatchIsQueued() async throws {
        try withInProcessServer { server in
            let c = try server.connect()
            try c.call("MULTI")
            #expect(try c.call("UNWATCH") == .simpleString("QUEUED"))
            #expect(try c.call("EXEC") == .array([OK]))
        }
    }

    @Test func writingTheSameValueStillCountsAsAChange() async throws {
        try withInProcessServer { server in
            let c = try server.connect()
            let other = try server.connect()
            try c.call("SET", "k", "1")
            try c.call("WATCH", "k")
            try other.call("SET", "k", "1")
            try c.call("MULTI")
            try c.call("GET", "k")
            #expect(try c.call("EXEC") == .nullArray)
        }
    }

    @Test func otherKeysInTheSameShardDoNotAbort() async throws {
        // One shard per database: every key shares the watched key's shard.
        try withInProcessServer({ $0.shardsPerDatabase = 1 }) { server in
            let c = try server.connect()
            let other = try server.connect()
            try c.call("SET", "k", "1")
            try c.call("WATCH", "k", "absent")
            for i in 0..<20 { try other.call("SET", "neighbour\(i)", "x") }
            try c.call("MULTI")
            try c.call("INCR", "k")
            #expect(try c.call("EXEC") == .array([int(2)]))
        }
    }

    @Test func absentKeyCreatedAndDeletedAborts() async throws {
        try withInProcessServer { server in
            let c = try server.connect()
            let other = try server.connect()
            try c.call("WATCH", "k")
            try other.call("SET", "k", "1")
            try other.call("DEL", "k")
            try c.call("MULTI")
            try c.call("SET", "k", "mine")
            #expect(try c.call("EXEC") == .nullArray)
            #expect(try c.call("GET", "k") == NIL)
        }
    }

    @Test func absentKeyUntouchedCommits() async throws {
        try withInProcessServer { server in
            let c = try server.connect()
            try c.call("WATCH", "k")
            try c.call("MULTI")
            try c.call("SET", "k", "mine")
            #expect(try c.call("EXEC") == .array([OK]))
        }
    }

    @Test func expiryAndFlushOfAWatchedKeyAbort() async throws {
        try withInProcessServer { server in
            let c = try server.connect()
            let other = try server.connect()
            try c.call("SET", "k", "1")
            try c.call("WATCH", "k")
            try other.call("FLUSHDB")
            try c.call("MULTI")
            try c.call("PING")
            #expect(try c.call("EXEC") == .nullArray)
            try c.call("SET", "e", "1")
            try c.call("WATCH", "e")
            try other.call("PEXPIRE", "e", "1")
            try c.call("MULTI")
            try c.call("GET", "e")
            #expect(try c.call("EXEC") == .nullArray)
        }
    }

    @Test func unwatchAndDiscardForgetWatches() async throws {
        try withInProcessServer { server in
            let c = try server.connect()
            let other = try server.connect()
            try c.call("WATCH", "k")
            #expect(try c.call("UNWATCH") == OK)
            try other.call("SET", "k", "1")
            try c.call("MULTI")
            try c.call("GET", "k")
            #expect(try c.call("EXEC") == .array([bulk("1")]))
        }
    }

    @Test func selectInsideMultiAppliesToLaterCommands() async throws {
        try withInProcessServer { server in
            let c = try server.connect()
            try c.call("MULTI")
            try c.call("SET", "a", "0")
            try c.call("SELECT", "1")
            try c.call("SET", "a", "1")
            #expect(try c.call("EXEC") == .array([OK, OK, OK]))
            #expect(try c.call("GET", "a") == bulk("1"))
            try c.call("SELECT", "0")
            #expect(try c.call("GET", "a") == bulk("0"))
        }
    }

    /// Concurrent increments through WATCH/MULTI/EXEC retries never lose an update, and
    /// concurrent MULTI blocks are atomic.
    @Test func optimisticLockingUnderContention() async throws {
        try await withKVSServer(blocking: true) { _, port in
            let perClient = 50
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<4 {
                    group.addTask {
                        let c = try TestClient(port: port)
                        var done = 0
                        while done < perClient {
                            try c.call("WATCH", "counter")
                            let current = Int(try c.call("GET", "counter").text) ?? 0
                            try c.call("MULTI")
                            try c.call("SET", "counter", String(current + 1))
                            if try c.call("EXEC") != .nullArray { done += 1 }
                        }
                    }
                }
                try await group.waitForAll()
            }
            let c = try TestClient(port: port)
            #expect(try c.call("GET", "counter") == bulk(String(4 * perClient)))
        }
    }

    @Test func execIsAtomicForOtherReaders() async throws {
        try await withKVSServer(blocking: true) { _, port in
            try TestClient(port: port).call("MSET", "x", "0", "y", "0")
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    let c = try TestClient(port: port)
                    for _ in 0..<200 {
                        try c.call("MULTI")
                        try c.call("INCR", "x")
                        try c.call("INCR", "y")
                        try c.call("EXEC")
                    }
                }
                group.addTask {
                    let r = try TestClient(port: port)
                    for _ in 0..<200 {
                        let reply = try r.call("MGET", "x", "y")
                        guard case .array(let v) = reply, v.count == 2 else {
                            throw TestClient.Failure(description: "MGET")
                        }
                        #expect(v[0] == v[1], "saw a half-applied transaction: \(reply)")
                    }
                }
                try await group.waitForAll()
            }
        }
    }
}

/// Every key command is written once against `KeyAccess`; this runs the same script
/// directly and inside MULTI/EXEC (the transactional implementation) and compares the
/// replies one by one.
@Suite("KeyAccess: direct and transactional implementations agree")
struct KeyAccessConformanceTests {
    static let script: [[String]] = [
        ["SET", "a", "1"], ["GET", "a"], ["SET", "a", "2", "GET"], ["SET", "a", "3", "NX"], ["SET", "b", "x", "XX"],
        ["SET", "b", "x", "NX", "GET"], ["SETNX", "b", "y"], ["SETEX", "c", "100", "v"],
        ["PSETEX", "d", "100000", "v"],
        ["GETSET", "a", "10"], ["INCR", "a"], ["INCRBY", "a", "5"], ["DECR", "a"], ["DECRBY", "a", "3"], ["INCR", "b"],
        ["INCRBYFLOAT", "f", "1.25"], ["INCRBYFLOAT", "f", "0.75"], ["APPEND", "s", "Hello"],
        ["APPEND", "s", " World"],
        ["STRLEN", "s"], ["GETRANGE", "s", "-5", "-1"], ["SETRANGE", "s", "6", "There"], ["SETRANGE", "pad", "2", "x"],
        ["GET", "pad"], ["MSET", "m1", "1", "m2", "2"], ["MGET", "m1", "m2", "nope"], ["MSETNX", "m1", "x", "m3", "3"],
        ["MSETNX", "m3", "3", "m4", "4"], ["EXISTS", "m1", "m3", "m4", "nope"], ["TYPE", "m1"], ["TYPE", "nope"],
        ["RENAME", "m1", "r1"], ["RENAME", "nope", "r2"], ["RENAMENX", "r1", "m2"], ["RENAMENX", "r1", "r3"],
        ["EXPIREAT", "r3", "4102444800"], ["EXPIRETIME", "r3"], ["PEXPIREAT", "r3", "4102444800123"],
        ["PEXPIRETIME", "r3"],
        ["EXPIRE", "r3", "100", "NX"], ["EXPIRE", "m2", "100", "XX"], ["PERSIST", "r3"], ["PERSIST", "r3"],
        ["TTL", "r3"],
        ["TTL", "nope"], ["GETEX", "r3", "PXAT", "4102444800999"], ["PEXPIRETIME", "r3"], ["GETEX", "r3", "PERSIST"],
        ["TTL", "r3"], ["SET", "k", "v", "PXAT", "4102444800500"], ["SET", "k", "w", "KEEPTTL"], ["PEXPIRETIME", "k"],
        ["GETDEL", "k"], ["GETDEL", "k"], ["DEL", "a", "b", "nope"], ["UNLINK", "s"], ["TOUCH", "pad", "nope"],
        ["EXPIRE", "pad", "-1"], ["EXISTS", "pad"], ["SET", "gone", "v", "PXAT", "1"], ["EXISTS", "gone"], ["DBSIZE"],
    ]

    @Test func sameRepliesInAndOutOfMulti() async throws {
        try withInProcessServer { server in
            let c = try server.connect()
            var direct: [RESPValue] = []
            for command in Self.script { direct.append(try c.call(command)) }
            try c.call("FLUSHALL")
            try c.call("MULTI")
            for command in Self.script { #expect(try c.call(command) == .simpleString("QUEUED")) }
            guard case .array(let inMulti) = try c.call("EXEC") else {
                Issue.record("EXEC did not answer an array")
                return
            }
            #expect(inMulti.count == direct.count)
            for (i, (a, b)) in zip(direct, inMulti).enumerated() {
                #expect(a == b, "\(Self.script[i]): direct \(a), in MULTI \(b)")
            }
        }
    }
}
