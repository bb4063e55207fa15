import Foundation
import KVSNetworkTestSupport
import RESP
import Testing

@testable import KVSServer

#if canImport(Glibc)
import Glibc
#endif

extension TestClient {
    /// Whether a byte arrives within `milliseconds` (without consuming it).
    func hasInput(within milliseconds: Int32) -> Bool {
        var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        return poll(&p, 1, milliseconds) > 0
    }

    /// This connection's `addr=` as CLIENT INFO shows it.
    func address() throws -> String {
        let info = try call("CLIENT", "INFO").text
        return String(info.split(separator: " ").first { $0.hasPrefix("addr=") }?.dropFirst(5) ?? "")
    }
}

@Suite("CLIENT")
struct ClientCommandsTests {
    @Test func listHasRedis70FieldsInOrder() async throws {
        try await withKVSServer(blocking: true) { _, port in
            let c = try TestClient(port: port)
            let line = try c.call("CLIENT", "LIST").text.trimmingCharacters(in: .newlines)
            let names = line.split(separator: " ").map { String($0.prefix { $0 != "=" }) }
            #expect(
                names == [
                    "id", "addr", "laddr", "fd", "name", "age", "idle", "flags", "db", "sub", "psub", "ssub", "multi",
                    "qbuf",
                    "qbuf-free", "argv-mem", "multi-mem", "rbs", "rbp", "obl", "oll", "omem", "tot-mem", "events",
                    "cmd",
                    "user", "redir", "resp",
                ]
            )
            #expect(line.contains(" cmd=client|list "))
            #expect(try c.call("CLIENT", "INFO").text.contains(" cmd=client|info "))
            #expect(line.contains(" laddr=127.0.0.1:\(port) "))
            let other = try TestClient(port: port)
            guard case .integer(let otherID) = try other.call("CLIENT", "ID") else {
                Issue.record("CLIENT ID")
                return
            }
            #expect(try c.call("CLIENT", "LIST", "ID", String(otherID)).text.contains(" cmd=client|id "))
            try other.call("GET", "k")
            #expect(
                try c.call("CLIENT", "LIST", "ID", String(otherID)).text.contains(" cmd=get "),
                "another's last command"
            )
        }
    }

    @Test func listFilters() async throws {
        try withInProcessServer { server in
            let c = try server.connect()
            let other = try server.connect()
            guard case .integer(let otherID) = try other.call("CLIENT", "ID") else {
                Issue.record("CLIENT ID")
                return
            }
            #expect(try c.call("CLIENT", "LIST", "TYPE", "normal").text.split(separator: "\n").count == 2)
            for type in ["pubsub", "master", "replica", "slave"] {
                #expect(try c.call("CLIENT", "LIST", "TYPE", type) == bulk(""))
            }
            #expect(try c.call("CLIENT", "LIST", "TYPE", "bogus") == err("ERR Unknown client type 'bogus'"))
            let byID = try c.call("CLIENT", "LIST", "ID", String(otherID), "99999").text
            #expect(byID.hasPrefix("id=\(otherID) ") && byID.split(separator: "\n").count == 1)
            #expect(try c.call("CLIENT", "LIST", "ID", "abc") == err("ERR Invalid client ID"))
            #expect(try c.call("CLIENT", "LIST", "ID") == err("ERR syntax error"))
            #expect(try c.call("CLIENT", "LIST", "bogus") == err("ERR syntax error"))
        }
    }

    @Test func killOldAndNewForms() async throws {
        try await withKVSServer(blocking: true) { _, port in
            let c = try TestClient(port: port)
            let a = try TestClient(port: port)
            let b = try TestClient(port: port)
            #expect(try c.call("CLIENT", "KILL", try a.address()) == OK)
            #expect(a.isClosedByServer())
            #expect(try c.call("CLIENT", "KILL", "1.2.3.4:5") == err("ERR No such client"))
            guard case .integer(let bID) = try b.call("CLIENT", "ID") else {
                Issue.record("CLIENT ID")
                return
            }
            #expect(try c.call("CLIENT", "KILL", "ID", "99999") == int(0))
            #expect(try c.call("CLIENT", "KILL", "ID", String(bID)) == int(1))
            #expect(b.isClosedByServer())
            #expect(try c.call("CLIENT", "KILL", "ID", "0") == err("ERR client-id should be greater than 0"))
            #expect(try c.call("CLIENT", "KILL", "TYPE", "bogus") == err("ERR Unknown client type 'bogus'"))
            #expect(try c.call("CLIENT", "KILL", "USER", "nobody") == err("ERR No such user 'nobody'"))
            #expect(try c.call("CLIENT", "KILL", "SKIPME", "maybe") == err("ERR syntax error"))
            #expect(try c.call("CLIENT", "KILL", "TYPE", "pubsub") == int(0))
            // SKIPME yes (the default) spares the caller.
            #expect(try c.call("CLIENT", "KILL", "TYPE", "normal") == int(0))
            // The caller itself: the reply first, then the connection closes.
            #expect(try c.call("CLIENT", "KILL", "TYPE", "normal", "SKIPME", "no") == int(1))
            #expect(c.isClosedByServer())
        }
    }

    @Test func replyOffSkipOn() async throws {
        try withInProcessServer { server in
            let c = try server.connect()
            for command in [
                ["CLIENT", "REPLY", "OFF"], ["SET", "a", "1"], ["CLIENT", "REPLY", "SKIP"],
                ["CLIENT", "REPLY", "ON"], ["GET", "a"], ["CLIENT", "REPLY", "SKIP"], ["GET", "a"], ["PING"],
            ] {
                try c.send(TestClient.encode(command))
            }
            // OFF silences everything up to ON (SKIP included); SKIP drops the next reply only.
            #expect(try c.read() == OK)
            #expect(try c.read() == bulk("1"))
            #expect(try c.read() == .simpleString("PONG"))
            #expect(try c.call("CLIENT", "REPLY", "bogus") == err("ERR syntax error"))
        }
    }

    @Test func smallSubcommandsAnswerHonestly() async throws {
        try await withKVSServer(blocking: true) { _, port in
            let c = try TestClient(port: port)
            #expect(try c.call("CLIENT", "NO-EVICT", "on") == OK)
            #expect(try c.call("CLIENT", "NO-EVICT", "maybe") == err("ERR syntax error"))
            #expect(
                try c.call("CLIENT", "NO-EVICT") == err("ERR wrong number of arguments for 'client|no-evict' command")
            )
            #expect(try c.call("CLIENT", "GETREDIR") == int(-1))
            #expect(try c.call("CLIENT", "TRACKING", "on").text.hasPrefix("ERR"))
            #expect(try c.call("CLIENT", "TRACKING", "off") == OK)
            #expect(try c.call("CLIENT", "TRACKING", "maybe") == err("ERR syntax error"))
            #expect(
                try c.call("CLIENT", "TRACKINGINFO")
                    == .array([
                        bulk("flags"), .array([bulk("off")]), bulk("redirect"), int(-1), bulk("prefixes"), .array([]),
                    ])
            )
            #expect(try c.call("CLIENT", "UNBLOCK", "5") == int(0))
            #expect(try c.call("CLIENT", "PAUSE", "10", "bogus") == err("ERR CLIENT PAUSE mode must be WRITE or ALL"))
            #expect(try c.call("CLIENT", "PAUSE", "abc") == err("ERR timeout is not an integer or out of range"))
            #expect(try c.call("CLIENT", "PAUSE", "-1") == err("ERR timeout is negative"))
            #expect(
                try c.call("CLIENT", "PAUSE", "10", "WRITE", "x")
                    == err("ERR unknown subcommand or wrong number of arguments for 'PAUSE'. Try CLIENT HELP.")
            )
            #expect(
                try c.call("CLIENT", "NO-TOUCH", "on") == err("ERR unknown subcommand 'NO-TOUCH'. Try CLIENT HELP.")
            )
        }
    }

    @Test func pauseWriteHoldsWritesUntilUnpause() async throws {
        try await withKVSServer(blocking: true) { _, port in
            let admin = try TestClient(port: port)
            let c = try TestClient(port: port)
            #expect(try admin.call("CLIENT", "PAUSE", "60000", "WRITE") == OK)
            #expect(try c.call("GET", "k") == NIL, "reads run under a WRITE pause")
            try c.send(TestClient.encode(["SET", "k", "v"]))
            try c.send(TestClient.encode(["GET", "k"]))
            #expect(!c.hasInput(within: 200), "the write waits")
            #expect(try admin.call("CLIENT", "UNPAUSE") == OK)
            #expect(try c.read() == OK, "it then runs, not fails")
            #expect(try c.read() == bulk("v"), "and what followed it too, in order")
        }
    }

    @Test func pauseAllEndsAtItsTimeout() async throws {
        try await withKVSServer(blocking: true) { _, port in
            let admin = try TestClient(port: port)
            let c = try TestClient(port: port)
            let start = ContinuousClock.now
            #expect(try admin.call("CLIENT", "PAUSE", "300") == OK)
            #expect(try c.call("PING") == .simpleString("PONG"))
            #expect(ContinuousClock.now - start >= .milliseconds(250), "PING waited for the pause's end")
        }
    }
}
