import KVSNetworkTestSupport
import NIOCore
import RESP
import Testing

@testable import KVSServer

@Suite("Connection commands")
struct ConnectionCommandsTests {
    @Test func pingEchoQuit() async throws {
        try await withKVSServer(blocking: true) { _, port in
            let c = try TestClient(port: port)
            #expect(try c.call("PING") == .simpleString("PONG"))
            #expect(try c.call("PING", "hi") == bulk("hi"))
            #expect(try c.call("PING", "a", "b") == err("ERR wrong number of arguments for 'ping' command"))
            #expect(try c.call("ECHO", "x") == bulk("x"))
            #expect(try c.call("QUIT") == OK)
            #expect(c.isClosedByServer())
        }
    }

    @Test func unknownCommand() async throws {
        try withInProcessServer { server in
            let c = try server.connect()
            #expect(try c.call("FOO", "a", "b") == err("ERR unknown command 'FOO', with args beginning with: 'a' 'b' "))
            #expect(try c.call("foo") == err("ERR unknown command 'foo', with args beginning with: "))
            // Arguments are quoted as C's `%.*s` quotes them: up to a NUL byte, and while the
            // list is under 128 bytes.
            let long = [UInt8](repeating: UInt8(ascii: "x"), count: 200)
            #expect(
                try c.callBytes([Array("FOO".utf8), Array("a".utf8) + [0] + Array("b".utf8), long, Array("c".utf8)])
                    == err(
                        "ERR unknown command 'FOO', with args beginning with: 'a' '\(String(repeating: "x", count: 124))' "
                    )
            )
            #expect(try c.call("gEt", "k") == NIL)  // names are case-insensitive
            #expect(
                try c.callBytes([Array("GET".utf8) + [0], Array("k".utf8)]).errorMessage?.hasPrefix(
                    "ERR unknown command"
                ) == true
            )
            #expect(
                try c.call(String(repeating: "x", count: 40)).errorMessage?.hasPrefix("ERR unknown command") == true
            )
            #expect(try c.call("").errorMessage?.hasPrefix("ERR unknown command") == true)
        }
    }

    @Test func selectKeepsDatabasesApart() async throws {
        try withInProcessServer { server in
            let c = try server.connect()
            try c.call("SET", "k", "0")
            #expect(try c.call("SELECT", "1") == OK)
            #expect(try c.call("GET", "k") == NIL)
            try c.call("SET", "k", "1")
            #expect(try c.call("DBSIZE") == int(1))
            #expect(try c.call("SELECT", "16") == err("ERR DB index is out of range"))
            #expect(try c.call("SELECT", "x") == err("ERR value is not an integer or out of range"))
            #expect(try c.call("FLUSHDB") == OK)
            #expect(try c.call("SELECT", "0") == OK)
            #expect(try c.call("GET", "k") == bulk("0"))
            try c.call("SELECT", "2")
            try c.call("SET", "x", "1")
            #expect(try c.call("FLUSHALL") == OK)
            #expect(try c.call("DBSIZE") == int(0))
            try c.call("SELECT", "0")
            #expect(try c.call("DBSIZE") == int(0))
        }
    }

    @Test func databasesOption() async throws {
        try withInProcessServer({ $0.databases = 2 }) { server in
            let c = try server.connect()
            #expect(try c.call("SELECT", "1") == OK)
            #expect(try c.call("SELECT", "2") == err("ERR DB index is out of range"))
        }
    }

    @Test func authWithRequirepass() async throws {
        try await withKVSServer({ $0.requirePassword = "secret" }, blocking: true) { _, port in
            let c = try TestClient(port: port)
            #expect(try c.call("GET", "k") == err("NOAUTH Authentication required."))
            #expect(try c.call("PING") == err("NOAUTH Authentication required."))
            // Unknown commands and wrong arity are reported before authentication, as Redis does.
            #expect(try c.call("GET") == err("ERR wrong number of arguments for 'get' command"))
            #expect(try c.call("NOSUCH") == err("ERR unknown command 'NOSUCH', with args beginning with: "))
            #expect(try c.call("AUTH", "wrong") == err("WRONGPASS invalid username-password pair or user is disabled."))
            #expect(
                try c.call("AUTH", "bob", "secret")
                    == err("WRONGPASS invalid username-password pair or user is disabled.")
            )
            #expect(try c.call("HELLO", "3").text.hasPrefix("NOAUTH HELLO must be called"))
            #expect(try c.call("AUTH", "secret") == OK)
            #expect(try c.call("SET", "k", "v") == OK)
            let d = try TestClient(port: port)
            #expect(try d.call("AUTH", "default", "secret") == OK)
            #expect(try d.call("GET", "k") == bulk("v"))
            let e = try TestClient(port: port)
            let hello = try e.call("HELLO", "3", "AUTH", "default", "secret", "SETNAME", "me")
            guard case .map = hello else {
                Issue.record("HELLO reply \(hello)")
                return
            }
            #expect(try e.call("CLIENT", "GETNAME") == bulk("me"))
            #expect(try e.call("GET", "k") == bulk("v"))
            // Unauthenticated clients get Redis's tighter request limits.
            let f = try TestClient(port: port)
            try f.send(TestClient.encode(Array(repeating: "x", count: 11)))
            #expect(try f.read() == err("ERR Protocol error: unauthenticated multibulk length"))
            #expect(f.isClosedByServer())
        }
    }

    @Test func authWithoutPassword() async throws {
        try withInProcessServer { server in
            let c = try server.connect()
            #expect(
                try c.call("AUTH", "x").text.hasPrefix("ERR AUTH <password> called without any password configured")
            )
            #expect(try c.call("AUTH", "default", "x") == OK)
            #expect(
                try c.call("AUTH", "a", "b") == err("WRONGPASS invalid username-password pair or user is disabled.")
            )
        }
    }

    @Test func helloAndRESP3Replies() async throws {
        try withInProcessServer { server in
            let c = try server.connect()
            let hello = try c.call("HELLO", "3")
            guard case .map(let pairs) = hello else {
                Issue.record("HELLO 3 should answer a map, got \(hello)")
                return
            }
            #expect(pairs.first { $0.key.text == "proto" }?.value == int(3))
            #expect(pairs.first { $0.key.text == "server" }?.value == bulk("redis"))
            #expect(try c.call("GET", "missing") == .null)
            #expect(try c.call("MGET", "missing") == .array([.null]))
            try c.call("SET", "k", "v")
            #expect(try c.call("GET", "k") == bulk("v"))
            guard case .map = try c.call("CONFIG", "GET", "port") else {
                Issue.record("CONFIG GET should answer a map in RESP3")
                return
            }
            guard case .verbatimString = try c.call("INFO", "server") else {
                Issue.record("INFO should answer a verbatim string in RESP3")
                return
            }
            #expect(try c.call("HELLO", "4") == err("NOPROTO unsupported protocol version"))
            guard case .array = try c.call("HELLO", "2") else {
                Issue.record("HELLO 2 answers a flat array")
                return
            }
            #expect(try c.call("GET", "missing") == NIL)
        }
    }

    @Test func clientSubcommands() async throws {
        try withInProcessServer { server in
            let c = try server.connect()
            guard case .integer(let id) = try c.call("CLIENT", "ID") else {
                Issue.record("CLIENT ID")
                return
            }
            #expect(try c.call("CLIENT", "GETNAME") == NIL)
            #expect(try c.call("CLIENT", "SETNAME", "worker-1") == OK)
            #expect(
                try c.call("CLIENT", "SETNAME", "a b")
                    == err("ERR Client names cannot contain spaces, newlines or special characters.")
            )
            #expect(try c.call("CLIENT", "GETNAME") == bulk("worker-1"))
            #expect(try c.call("CLIENT", "INFO").text.contains("id=\(id) "))
            #expect(try c.call("CLIENT", "INFO").text.contains("name=worker-1 "))
            let other = try server.connect()
            try other.call("CLIENT", "SETNAME", "other")
            let list = try c.call("CLIENT", "LIST").text
            #expect(list.contains("name=worker-1"))
            #expect(list.contains("name=other"))
            #expect(try c.call("CLIENT", "SETINFO", "LIB-NAME", "test") == OK)
            #expect(try c.call("CLIENT", "BOGUS") == err("ERR unknown subcommand 'BOGUS'. Try CLIENT HELP."))
        }
    }

    @Test func resetRestoresDefaults() async throws {
        try withInProcessServer { server in
            let c = try server.connect()
            try c.call("HELLO", "3")
            try c.call("SELECT", "3")
            try c.call("CLIENT", "SETNAME", "n")
            try c.call("MULTI")
            #expect(try c.call("RESET") == .simpleString("RESET"))
            #expect(try c.call("GET", "x") == NIL)  // RESP2 again, and not queued
            #expect(try c.call("CLIENT", "GETNAME") == NIL)
            try c.call("SET", "in0", "v")
            try c.call("SELECT", "0")
            #expect(try c.call("GET", "in0") == bulk("v"))
        }
    }
}
