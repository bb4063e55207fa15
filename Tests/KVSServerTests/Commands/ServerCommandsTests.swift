import Foundation
import KVSNetworkTestSupport
import NIOCore
import RESP
import Testing

@testable import KVSServer

@Suite("Server commands")
struct ServerCommandsTests {
    @Test func infoSections() async throws {
        try await withKVSServer(blocking: true) { _, port in
            let c = try TestClient(port: port)
            try c.call("SET", "k", "v")
            let info = try c.call("INFO").text
            for section in ["# Server", "# Clients", "# Memory", "# Persistence", "# Stats", "# Keyspace"] {
                #expect(info.contains(section), "INFO lacks \(section)")
            }
            #expect(info.contains("redis_version:"))
            #expect(info.contains("db0:keys=1,expires=0,"))
            try c.call("SET", "t", "v", "EX", "100")
            let keyspace = try c.call("INFO", "keyspace").text
            #expect(keyspace.contains("db0:keys=2,expires=1,"), "expires counts the keys with a TTL")
            #expect(!keyspace.contains("# Server"))
            #expect(try c.call("INFO", "clients").text.contains("connected_clients:1"))
        }
    }

    /// FLUSHDB and FLUSHALL ASYNC free the old contents on the lazy-free queue (INFO counts
    /// each flushed key there, as Redis does), SYNC at once, and no option as
    /// `lazyfree-lazy-user-flush` says; the keys are gone when the command answers.
    @Test func flushAsyncFreesInTheBackground() throws {
        try withInProcessServer { server in
            let c = try server.connect()
            func freed() throws -> Int? {
                let info = try c.call("INFO", "memory").text
                let line = info.split(whereSeparator: \.isNewline).first { $0.hasPrefix("lazyfreed_objects:") }
                return line.flatMap { Int($0.dropFirst("lazyfreed_objects:".count)) }
            }
            /// Waits until INFO counts `n` freed objects; bounded by 30 seconds, not timed.
            func waitForFreed(_ n: Int) throws {
                let end = ContinuousClock.now + .seconds(30)
                while try freed() != n, ContinuousClock.now < end { usleep(1000) }
                #expect(try freed() == n)
            }
            #expect(
                try c.call("CONFIG", "GET", "lazyfree-lazy-user-flush")
                    == .array([bulk("lazyfree-lazy-user-flush"), bulk("no")])
            )
            #expect(
                try c.call("CONFIG", "SET", "lazyfree-lazy-user-flush", "maybe")
                    == err(
                        "ERR CONFIG SET failed (possibly related to argument 'lazyfree-lazy-user-flush') - argument must be 'yes' or 'no'"
                    )
            )
            try c.call("MSET", "a", "1", "b", "2", "c", "3")
            #expect(try c.call("FLUSHALL", "ASYNC") == OK)
            #expect(try c.call("DBSIZE") == int(0))
            try waitForFreed(3)
            // Another database's keys count too; SYNC and no option (the setting's default) do not.
            try c.call("SET", "x", "1")
            try c.call("SELECT", "1")
            try c.call("MSET", "a", "1", "b", "2")
            #expect(try c.call("FLUSHDB", "async") == OK)
            #expect(try c.call("DBSIZE") == int(0))
            try waitForFreed(5)
            try c.call("SET", "a", "1")
            #expect(try c.call("FLUSHDB", "SYNC") == OK)
            try c.call("SET", "a", "1")
            #expect(try c.call("FLUSHDB") == OK)
            #expect(try c.call("FLUSHALL", "SYNC") == OK)  // database 0's x
            #expect(try c.call("FLUSHALL", "LAZY") == err("ERR syntax error"))
            #expect(try freed() == 5)
            #expect(try c.call("CONFIG", "SET", "lazyfree-lazy-user-flush", "YES") == OK)
            try c.call("MSET", "a", "1", "b", "2")
            #expect(try c.call("FLUSHDB") == OK)
            try waitForFreed(7)
            try c.call("SET", "a", "1")
            #expect(try c.call("FLUSHALL", "SYNC") == OK)
            #expect(try freed() == 7)
            // A large value goes the same way: the whole table is handed off.
            try c.call(["SADD", "big"] + (0..<1000).map { "m\($0)" })
            #expect(try c.call("FLUSHALL") == OK)
            #expect(try c.call("EXISTS", "big") == int(0))
            try waitForFreed(8)
        }
    }

    @Test func eventLoopsDefaultToOnePerCoreLessOne() {
        #expect(ServerConfiguration.defaultEventLoopThreads(coreCount: 1) == 1)
        #expect(ServerConfiguration.defaultEventLoopThreads(coreCount: 2) == 1)
        #expect(ServerConfiguration.defaultEventLoopThreads(coreCount: 8) == 7)
        var config = ServerConfiguration()
        #expect(config.eventLoopThreads == 0, "0 means the default")
        #expect(
            config.resolvedEventLoopThreads == ServerConfiguration.defaultEventLoopThreads(coreCount: System.coreCount)
        )
        config.eventLoopThreads = 3
        #expect(config.resolvedEventLoopThreads == 3, "an explicit count is kept")
    }

    @Test func commandIntrospection() async throws {
        try withInProcessServer { server in
            let c = try server.connect()
            guard case .integer(let count) = try c.call("COMMAND", "COUNT") else {
                Issue.record("COMMAND COUNT")
                return
            }
            #expect(count >= 60)
            guard case .array(let all) = try c.call("COMMAND") else { return }
            #expect(all.count == Int(count))
            let info = try c.call("COMMAND", "INFO", "get", "nosuch")
            guard case .array(let infos) = info, infos.count == 2, case .array(let get) = infos[0] else {
                Issue.record("COMMAND INFO \(info)")
                return
            }
            #expect(get[0] == bulk("get"))
            #expect(get[1] == int(2))
            #expect(get[3] == int(1) && get[4] == int(1) && get[5] == int(1))
            #expect(infos[1] == .nullArray)
            guard case .array(let docs) = try c.call("COMMAND", "DOCS", "set") else { return }
            #expect(docs.first == bulk("set"))
            // redis-cli builds its hints from the arguments.
            let setDocs = try c.call("COMMAND", "DOCS", "set").text
            #expect(setDocs.contains("arguments"))
            #expect(setDocs.contains("KEEPTTL"))
            #expect(setDocs.contains("expiration"))
            #expect(try c.call("COMMAND", "GETKEYS", "MSET", "a", "1", "b", "2") == .array([bulk("a"), bulk("b")]))
            // Redis's order: no such command, no key arguments, then the argument count.
            #expect(try c.call("COMMAND", "GETKEYS", "nosuch", "x") == err("ERR Invalid command specified"))
            #expect(try c.call("COMMAND", "GETKEYS", "randomkey", "x") == err("ERR The command has no key arguments"))
            #expect(
                try c.call("COMMAND", "GETKEYS", "get", "a", "b")
                    == err("ERR Invalid number of arguments specified for command")
            )
        }
    }

    @Test func timeAndLastsave() async throws {
        try withInProcessServer { server in
            let c = try server.connect()
            guard case .array(let t) = try c.call("TIME"), t.count == 2, let seconds = Int(t[0].text) else {
                Issue.record("TIME")
                return
            }
            #expect(abs(seconds - Int(Date().timeIntervalSince1970)) < 5)
            guard case .integer(let last) = try c.call("LASTSAVE") else { return }
            #expect(abs(Int(last) - Int(Date().timeIntervalSince1970)) < 60)
        }
    }
}
