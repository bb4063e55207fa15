import NIOCore
import RESP
import Testing

@testable import KVSServer

/// OBJECT; the replies are those of redis-server 7.0.15 for values stored by SET.
@Suite("OBJECT")
struct ObjectCommandsTests {
    @Test func encodingFollowsRedisRules() async throws {
        try withInProcessServer { server in
            let c = try server.connect()
            let cases: [(String, String)] = [
                ("5", "int"), ("0", "int"), ("-1", "int"), ("9223372036854775807", "int"),
                ("-9223372036854775808", "int"), ("12345678901234567890", "embstr"), ("012", "embstr"),
                ("+1", "embstr"), (" 1", "embstr"), ("-0", "embstr"), ("", "embstr"), ("1.5", "embstr"),
                (String(repeating: "a", count: 44), "embstr"), (String(repeating: "a", count: 45), "raw"),
                (String(repeating: "1", count: 45), "raw"),
            ]
            for (value, encoding) in cases {
                try c.call("SET", "k", value)
                #expect(try c.call("OBJECT", "ENCODING", "k") == bulk(encoding), "value \(value.debugDescription)")
            }
            try c.call("INCR", "n")
            #expect(try c.call("OBJECT", "encoding", "n") == bulk("int"))
        }
    }

    @Test func refcountIdletimeAndFreq() async throws {
        try withInProcessServer { server in
            let c = try server.connect()
            // Redis shares the integers 0 to 9,999 and reports INT_MAX references for them.
            for (value, count) in [
                ("5", 2_147_483_647), ("0", 2_147_483_647), ("9999", 2_147_483_647), ("10000", 1), ("-1", 1), ("00", 1),
                ("x", 1),
            ] as [(String, Int64)] {
                try c.call("SET", "k", value)
                #expect(try c.call("OBJECT", "REFCOUNT", "k") == int(count), "value \(value)")
            }
            #expect(try c.call("OBJECT", "IDLETIME", "k") == int(0))
            #expect(
                try c.call("OBJECT", "FREQ", "k")
                    == err(
                        "ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust."
                    )
            )
        }
    }

    @Test func missingKeyIsNilInBothProtocols() async throws {
        try withInProcessServer { server in
            let c = try server.connect()
            for sub in ["ENCODING", "REFCOUNT", "IDLETIME", "FREQ"] {
                #expect(try c.call("OBJECT", sub, "nokey") == NIL)
            }
            try c.call("HELLO", "3")
            for sub in ["ENCODING", "REFCOUNT", "IDLETIME", "FREQ"] {
                #expect(try c.call("OBJECT", sub, "nokey") == .null)
            }
        }
    }

    @Test func helpAndErrors() async throws {
        try withInProcessServer { server in
            let c = try server.connect()
            let help = try c.call("OBJECT", "HELP")
            #expect(help.elements?.count == 15)
            #expect(
                help.elements?.first == .simpleString("OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:")
            )
            #expect(help.elements?.last == .simpleString("    Prints this help."))
            #expect(try c.call("OBJECT", "HELP", "x") == err("ERR wrong number of arguments for 'object|help' command"))
            #expect(
                try c.call("OBJECT", "ENCODING") == err("ERR wrong number of arguments for 'object|encoding' command")
            )
            #expect(
                try c.call("OBJECT", "encoding", "a", "b")
                    == err("ERR wrong number of arguments for 'object|encoding' command")
            )
            #expect(try c.call("OBJECT", "Foo", "a") == err("ERR unknown subcommand 'Foo'. Try OBJECT HELP."))
            #expect(try c.call("OBJECT") == err("ERR wrong number of arguments for 'object' command"))
        }
    }

    /// As Redis, a bad subcommand of OBJECT or MEMORY is refused when queued, and EXEC aborts.
    @Test func badSubcommandsAreRefusedWhenQueued() async throws {
        try withInProcessServer { server in
            let c = try server.connect()
            let queued = RESPValue.simpleString("QUEUED")
            let aborted = err("EXECABORT Transaction discarded because of previous errors.")
            for bad in [
                ["OBJECT", "foo", "a"], ["OBJECT", "ENCODING"], ["MEMORY", "usage"], ["MEMORY", "Nope"],
                ["MEMORY", "STATS", "x"],
            ] {
                try c.call("MULTI")
                #expect(try c.call("OBJECT", "ENCODING", "a") == queued)
                let reply = try c.call(bad)
                #expect(reply.text.hasPrefix("ERR "), "\(bad)")
                #expect(try c.call("EXEC") == aborted)
                #expect(try c.call(bad) == reply)  // the same error as outside MULTI
            }
            try c.call("MULTI")
            #expect(try c.call("MEMORY", "USAGE", "a", "SAMPLES", "x") == queued)  // options are checked when run
            #expect(try c.call("EXEC") == .array([err("ERR value is not an integer or out of range")]))
        }
    }

    @Test func runsInsideMulti() async throws {
        try withInProcessServer { server in
            let c = try server.connect()
            try c.call("MULTI")
            try c.call("SET", "k", "12")
            try c.call("OBJECT", "ENCODING", "k")
            try c.call("APPEND", "k", String(repeating: "x", count: 50))
            try c.call("OBJECT", "ENCODING", "k")
            #expect(try c.call("EXEC") == .array([OK, bulk("int"), int(52), bulk("raw")]))
        }
    }
}
