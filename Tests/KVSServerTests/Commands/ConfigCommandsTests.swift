import Foundation
import KVSNetworkTestSupport
import NIOCore
import RESP
import Testing

@testable import KVSServer

/// CONFIG against the parameter table; every error text is redis-server 7.0.15's.
@Suite("CONFIG")
struct ConfigCommandsTests {
    static func failed(_ name: String, _ reason: String) -> RESPValue {
        err("ERR CONFIG SET failed (possibly related to argument '\(name)') - \(reason)")
    }

    static func unknown(_ name: String) -> RESPValue {
        err("ERR Unknown option or number of arguments for CONFIG SET - '\(name)'")
    }

    @Test func getAndSet() async throws {
        try withInProcessServer { server in
            let c = try server.connect()
            #expect(try c.call("CONFIG", "GET", "save") == .array([bulk("save"), bulk("")]))
            #expect(try c.call("CONFIG", "GET", "databases") == .array([bulk("databases"), bulk("16")]))
            #expect(try c.call("CONFIG", "GET", "nothing") == .array([]))
            // The test server runs two loops (TestServer.swift): the count in use, not the setting.
            #expect(try c.call("CONFIG", "GET", "io-threads") == .array([bulk("io-threads"), bulk("2")]))
            #expect(try c.call("CONFIG", "SET", "save", "900 1") == OK)
            #expect(try c.call("CONFIG", "GET", "save") == .array([bulk("save"), bulk("900 1")]))
            #expect(try c.call("CONFIG", "SET", "requirepass", "pw") == OK)
            let d = try server.connect()
            #expect(try d.call("GET", "x") == err("NOAUTH Authentication required."))
            #expect(try c.call("CONFIG", "GET", "requirepass") == .array([bulk("requirepass"), bulk("pw")]))
            #expect(try c.call("CONFIG", "SET", "requirepass", "") == OK)
            #expect(try server.connect().call("GET", "x") == .nullBulkString)
        }
    }

    /// A refused value names the parameter in the table's lower case, as Redis 7.0.15 does, an
    /// alias by the alias; a refused name (duplicate, unknown) names it as the client typed it.
    @Test func refusedValuesNameTheParameterInLowerCase() async throws {
        try withInProcessServer { server in
            let c = try server.connect()
            #expect(
                try c.call("CONFIG", "SET", "Hll-SPARSE-max-bytes", "abc")
                    == Self.failed("hll-sparse-max-bytes", "argument must be a memory value")
            )
            #expect(
                try c.call("CONFIG", "SET", "hash-MAX-ziplist-entries", "abc")
                    == Self.failed("hash-max-ziplist-entries", "argument couldn't be parsed into an integer")
            )
            #expect(
                try c.call("CONFIG", "SET", "HASH-max-listpack-entries", "1", "HASH-max-listpack-entries", "2")
                    == Self.failed("HASH-max-listpack-entries", "duplicate parameter")
            )
        }
    }

    /// Parameters kvs does not implement are unknown, as Redis treats a name it does not know.
    @Test func unimplementedParametersAreUnknown() async throws {
        try withInProcessServer { server in
            let c = try server.connect()
            let absent = [
                "appendonly", "appendfsync", "maxmemory-clients", "lazyfree-lazy-eviction", "timeout",
                "tcp-keepalive", "lazyfree-lazy-user-del", "cluster-enabled",
            ]
            for name in absent {
                #expect(try c.call("CONFIG", "GET", name) == .array([]), "CONFIG GET \(name)")
            }
            #expect(try c.call(["CONFIG", "GET"] + absent) == .array([]))
            #expect(try c.call("CONFIG", "SET", "maxmemory-clients", "10mb") == Self.unknown("maxmemory-clients"))
            #expect(
                try c.call("CONFIG", "SET", "lazyfree-lazy-eviction", "yes") == Self.unknown("lazyfree-lazy-eviction")
            )
            #expect(try c.call("CONFIG", "SET", "appendonly", "yes") == Self.unknown("appendonly"))
            #expect(try c.call("CONFIG", "SET", "timeout", "10") == Self.unknown("timeout"))
            #expect(try c.call("CONFIG", "SET", "tcp-keepalive", "10") == Self.unknown("tcp-keepalive"))
            #expect(
                try c.call("CONFIG", "SET", "lazyfree-lazy-user-del", "yes") == Self.unknown("lazyfree-lazy-user-del")
            )
            #expect(try c.call("CONFIG", "SET", "nope", "1") == Self.unknown("nope"))
            // Only known names match a pattern.
            guard case .array(let max) = try c.call("CONFIG", "GET", "max*") else {
                Issue.record("CONFIG GET max*")
                return
            }
            #expect(
                max == [
                    bulk("maxclients"), bulk("10000"), bulk("maxmemory"), bulk("0"), bulk("maxmemory-policy"),
                    bulk("noeviction"), bulk("maxmemory-samples"), bulk("5"), bulk("maxmemory-eviction-tenacity"),
                    bulk("10"),
                ]
            )
        }
    }

    /// A server started on port 0 reports the port it chose, as Redis reports its own.
    @Test func getTakesSeveralPatternsAndNamesEachParameterOnce() async throws {
        try await withKVSServer(blocking: true) { _, port in
            let c = try TestClient(port: port)
            #expect(
                try c.call("CONFIG", "GET", "maxclients", "save", "port")
                    == .array([
                        bulk("maxclients"), bulk("10000"), bulk("save"), bulk(""), bulk("port"), bulk(String(port)),
                    ])
            )
            #expect(
                try c.call("CONFIG", "GET", "maxclients", "MAXCLIENTS", "maxc*")
                    == .array([bulk("maxclients"), bulk("10000")])
            )
            // An exact name answers as given, as Redis 7 does.
            #expect(try c.call("CONFIG", "GET", "MAXCLIENTS") == .array([bulk("MAXCLIENTS"), bulk("10000")]))
            #expect(try c.call("CONFIG", "GET", "maxclient?") == .array([bulk("maxclients"), bulk("10000")]))
            guard case .array(let all) = try c.call("CONFIG", "GET", "*") else {
                Issue.record("CONFIG GET *")
                return
            }
            #expect(all.count == 2 * ConfigParameter.all.count)
            guard case .array(let dir) = try c.call("CONFIG", "GET", "dir"), dir.count == 2 else {
                Issue.record("CONFIG GET dir")
                return
            }
            #expect(dir[1].text.hasPrefix("/"), "dir is absolute, as Redis answers it")
            #expect(try c.call("CONFIG", "GET") == err("ERR wrong number of arguments for 'config|get' command"))
        }
    }

    @Test func immutableAndProtectedParametersAreRefused() async throws {
        try withInProcessServer { server in
            let c = try server.connect()
            for name in ["databases", "port", "bind", "io-threads", "protected-mode"] {
                #expect(try c.call("CONFIG", "SET", name, "1") == Self.failed(name, "can't set immutable config"))
            }
            #expect(
                try c.call("CONFIG", "SET", "protected-mode", "maybe")
                    == Self.failed("protected-mode", "can't set immutable config")
            )
            for name in ["dir", "dbfilename"] {
                #expect(try c.call("CONFIG", "SET", name, "x") == Self.failed(name, "can't set protected config"))
            }
            #expect(try c.call("CONFIG", "GET", "databases") == .array([bulk("databases"), bulk("16")]))
        }
    }

    @Test func invalidValuesAreRefusedWithRedisMessages() async throws {
        try withInProcessServer { server in
            let c = try server.connect()
            let notInteger = "argument couldn't be parsed into an integer"
            let clients = "argument must be between 1 and 4294967295 inclusive"
            #expect(try c.call("CONFIG", "SET", "maxclients", "abc") == Self.failed("maxclients", notInteger))
            #expect(try c.call("CONFIG", "SET", "maxclients", "01") == Self.failed("maxclients", notInteger))
            #expect(try c.call("CONFIG", "SET", "maxclients", "5.0") == Self.failed("maxclients", notInteger))
            #expect(try c.call("CONFIG", "SET", "maxclients", "0") == Self.failed("maxclients", clients))
            #expect(try c.call("CONFIG", "SET", "maxclients", "-1") == Self.failed("maxclients", clients))
            #expect(try c.call("CONFIG", "SET", "maxclients", "4294967296") == Self.failed("maxclients", clients))
            for save in ["1", "1 x", "0 1", "-1 1", "1 -1", "1:1", "1 1 1", "  100   1  "] {
                #expect(
                    try c.call("CONFIG", "SET", "save", save) == Self.failed("save", "Invalid save parameters"),
                    "save '\(save)'"
                )
            }
            let bulkRange = "argument must be between 1048576 and 9223372036854775807 inclusive"
            #expect(
                try c.call("CONFIG", "SET", "proto-max-bulk-len", "1") == Self.failed("proto-max-bulk-len", bulkRange)
            )
            #expect(
                try c.call("CONFIG", "SET", "proto-max-bulk-len", "abc")
                    == Self.failed("proto-max-bulk-len", "argument must be a memory value")
            )
            #expect(
                try c.call("CONFIG", "SET", "proto-max-bulk-len", "-1")
                    == Self.failed("proto-max-bulk-len", "argument must be a memory value")
            )
            #expect(
                try c.call("CONFIG", "SET", "proto-max-bulk-len", "99999999999999999999")
                    == Self.failed("proto-max-bulk-len", bulkRange)
            )
            #expect(
                try c.call("CONFIG", "SET", "client-query-buffer-limit", "1")
                    == Self.failed("client-query-buffer-limit", bulkRange)
            )
            #expect(
                try c.call("CONFIG", "GET", "maxclients", "save")
                    == .array([bulk("maxclients"), bulk("10000"), bulk("save"), bulk("")])
            )
        }
    }

    @Test func memoryValuesParseAsRedisParsesThem() throws {
        let range: ClosedRange<Int64> = 1...Int64.max
        #expect(try ConfigParameter.memory("1048576", in: range) == 1_048_576)
        #expect(try ConfigParameter.memory("1mb", in: range) == 1_048_576)
        #expect(try ConfigParameter.memory("1MB", in: range) == 1_048_576)
        #expect(try ConfigParameter.memory("2m", in: range) == 2_000_000)
        #expect(try ConfigParameter.memory("3k", in: range) == 3000)
        #expect(try ConfigParameter.memory("3kb", in: range) == 3072)
        #expect(try ConfigParameter.memory("2gb", in: range) == 2 << 30)
        #expect(try ConfigParameter.memory("5b", in: range) == 5)
        #expect(try ConfigParameter.memory("9223372036854775807", in: range) == Int(Int64.max))
        #expect(throws: ConfigParameter.Refusal.self) { try ConfigParameter.memory("9223372036854775808", in: range) }
        #expect(throws: ConfigParameter.Refusal.self) { try ConfigParameter.memory("8000000000000000000k", in: range) }
        #expect(throws: ConfigParameter.Refusal.self) { try ConfigParameter.memory("1tb", in: range) }
        #expect(throws: ConfigParameter.Refusal.self) { try ConfigParameter.memory("", in: range) }
    }

    /// CONFIG SET of several parameters is all or nothing, as in Redis 7.
    @Test func multiParameterSetIsAllOrNothing() async throws {
        try withInProcessServer { server in
            let c = try server.connect()
            #expect(try c.call("CONFIG", "SET", "save", "100 1") == OK)
            #expect(
                try c.call("CONFIG", "SET", "save", "200 2", "maxclients", "abc")
                    == Self.failed("maxclients", "argument couldn't be parsed into an integer")
            )
            #expect(
                try c.call("CONFIG", "SET", "maxclients", "50", "save", "x")
                    == Self.failed("save", "Invalid save parameters")
            )
            #expect(try c.call("CONFIG", "SET", "maxclients", "50", "nosuch", "1") == Self.unknown("nosuch"))
            #expect(
                try c.call("CONFIG", "SET", "maxclients", "50", "databases", "1")
                    == Self.failed("databases", "can't set immutable config")
            )
            #expect(
                try c.call("CONFIG", "GET", "maxclients", "save")
                    == .array([bulk("maxclients"), bulk("10000"), bulk("save"), bulk("100 1")])
            )
            // Names are checked before values: the immutable one is reported, not the bad value.
            #expect(
                try c.call("CONFIG", "SET", "maxclients", "abc", "databases", "1")
                    == Self.failed("databases", "can't set immutable config")
            )
            #expect(try c.call("CONFIG", "SET", "maxclients", "50", "save", "") == OK)
            #expect(
                try c.call("CONFIG", "GET", "maxclients", "save")
                    == .array([bulk("maxclients"), bulk("50"), bulk("save"), bulk("")])
            )
        }
    }

    @Test func duplicateParametersAndArityAreRefused() async throws {
        try withInProcessServer { server in
            let c = try server.connect()
            #expect(
                try c.call("CONFIG", "SET", "maxclients", "10", "maxclients", "20")
                    == Self.failed("maxclients", "duplicate parameter")
            )
            #expect(
                try c.call("CONFIG", "SET", "maxclients", "10", "MAXCLIENTS", "20")
                    == Self.failed("MAXCLIENTS", "duplicate parameter")
            )
            #expect(try c.call("CONFIG", "GET", "maxclients") == .array([bulk("maxclients"), bulk("10000")]))
            #expect(try c.call("CONFIG", "SET") == err("ERR wrong number of arguments for 'config|set' command"))
            #expect(try c.call("CONFIG", "SET", "a") == err("ERR wrong number of arguments for 'config|set' command"))
            #expect(try c.call("CONFIG", "SET", "a", "b", "c") == err("ERR syntax error"))
            #expect(try c.call("CONFIG") == err("ERR wrong number of arguments for 'config' command"))
            #expect(try c.call("CONFIG", "FOO") == err("ERR unknown subcommand 'FOO'. Try CONFIG HELP."))
        }
    }

    @Test func resetstatRewriteAndHelp() async throws {
        try await withKVSServer(blocking: true) { _, port in
            let c = try TestClient(port: port)
            try c.call("PING")
            #expect(try c.call("CONFIG", "RESETSTAT") == OK)
            #expect(try c.call("INFO", "stats").text.contains("total_connections_received:0"))
            #expect(
                try c.call("CONFIG", "RESETSTAT", "x")
                    == err("ERR wrong number of arguments for 'config|resetstat' command")
            )
            #expect(try c.call("CONFIG", "REWRITE") == err("ERR The server is running without a config file"))
            #expect(
                try c.call("CONFIG", "REWRITE", "x")
                    == err("ERR wrong number of arguments for 'config|rewrite' command")
            )
            #expect(try c.call("CONFIG", "HELP", "x") == err("ERR wrong number of arguments for 'config|help' command"))
            guard case .array(let help) = try c.call("CONFIG", "HELP") else {
                Issue.record("CONFIG HELP")
                return
            }
            #expect(help.count == 11)
            #expect(help.first == .simpleString("CONFIG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:"))
            #expect(help.last == .simpleString("    Prints this help."))
        }
    }

    /// maxclients changed at run time applies at the next accept.
    @Test func maxclientsAppliesAtRunTime() async throws {
        try await withKVSServer(blocking: true) { _, port in
            let a = try TestClient(port: port)
            #expect(try a.call("CONFIG", "SET", "maxclients", "1") == OK)
            let b = try TestClient(port: port)
            #expect(try b.read() == err("ERR max number of clients reached"))
            #expect(b.isClosedByServer())
            #expect(try a.call("CONFIG", "SET", "maxclients", "10") == OK)
            #expect(try TestClient(port: port).call("PING") == .simpleString("PONG"))
        }
    }

    /// proto-max-bulk-len changed at run time applies to the connections opened after it.
    @Test func protoMaxBulkLenAppliesToNewConnections() async throws {
        try await withKVSServer(blocking: true) { _, port in
            let a = try TestClient(port: port)
            #expect(try a.call("CONFIG", "SET", "proto-max-bulk-len", "1mb") == OK)
            #expect(
                try a.call("CONFIG", "GET", "proto-max-bulk-len")
                    == .array([bulk("proto-max-bulk-len"), bulk("1048576")])
            )
            let b = try TestClient(port: port)
            try b.send("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$2000000\r\n")
            #expect(try b.read() == err("ERR Protocol error: invalid bulk length"))
            #expect(b.isClosedByServer())
        }
    }
}
