import Foundation
import RESP
import Testing

@testable import KVSServer

@Suite("SLOWLOG and LATENCY")
struct SlowLogCommandTests {
    @Test func logsCommandsOverTheThreshold() async throws {
        try withInProcessServer { server in
            // Off until the commands to log: a slow machine (a sanitizer run) can take the
            // default 10 ms over any command.
            server.serverState.slowLog.thresholdMicroseconds = -1
            let c = try server.connect()
            let address = try c.call("CLIENT", "INFO").text.split(separator: " ").first { $0.hasPrefix("addr=") }?
                .dropFirst(5)
            #expect(try c.call("SLOWLOG", "LEN") == int(0))
            #expect(try c.call("SLOWLOG", "GET") == .array([]))
            server.serverState.slowLog.thresholdMicroseconds = 0
            try c.call("CLIENT", "SETNAME", "me")
            try c.call("SET", "k", "v")
            server.serverState.slowLog.thresholdMicroseconds = -1
            guard case .array(let entries) = try c.call("SLOWLOG", "GET", "1"), entries.count == 1,
                case .array(let entry) = entries[0], entry.count == 6
            else {
                Issue.record("SLOWLOG GET 1")
                return
            }
            #expect(entry[0] == int(1))
            guard case .integer(let time) = entry[1], case .integer = entry[2] else {
                Issue.record("timestamp and duration")
                return
            }
            #expect(abs(Int(time) - Int(Date().timeIntervalSince1970)) < 60)
            #expect(entry[3] == .array([bulk("SET"), bulk("k"), bulk("v")]))
            #expect(entry[4] == bulk(String(address ?? "")))
            #expect(entry[5] == bulk("me"))
            #expect(try c.call("SLOWLOG", "LEN") == int(2))
            #expect(try c.call("SLOWLOG", "RESET") == OK)
            #expect(try c.call("SLOWLOG", "LEN") == int(0))
        }
    }

    @Test func truncatesAsRedis() async throws {
        try withInProcessServer { server in
            let c = try server.connect()
            server.serverState.slowLog.thresholdMicroseconds = 0
            try c.call("SET", "k", String(repeating: "x", count: 200))
            try c.call(["DEL"] + (1...40).map { "k\($0)" })
            server.serverState.slowLog.thresholdMicroseconds = -1
            guard case .array(let entries) = try c.call("SLOWLOG", "GET", "-1"), entries.count == 2,
                case .array(let del) = entries[0], case .array(let delArgs) = del[3],
                case .array(let set) = entries[1], case .array(let setArgs) = set[3]
            else {
                Issue.record("SLOWLOG GET -1")
                return
            }
            #expect(setArgs[2] == bulk(String(repeating: "x", count: 128) + "... (72 more bytes)"))
            #expect(delArgs.count == 32)
            #expect(delArgs[30] == bulk("k30"))
            #expect(delArgs[31] == bulk("... (10 more arguments)"))
        }
    }

    @Test func keepsAtMostMaxLength() async throws {
        try withInProcessServer { server in
            let c = try server.connect()
            server.serverState.slowLog.maxEntries = 2
            server.serverState.slowLog.thresholdMicroseconds = 0
            for i in 0..<5 { try c.call("SET", "k", String(i)) }
            server.serverState.slowLog.thresholdMicroseconds = -1
            #expect(try c.call("SLOWLOG", "LEN") == int(2))
            guard case .array(let entries) = try c.call("SLOWLOG", "GET"), case .array(let newest) = entries.first
            else {
                Issue.record("SLOWLOG GET")
                return
            }
            #expect(newest[3] == .array([bulk("SET"), bulk("k"), bulk("4")]), "newest first")
        }
    }

    @Test func errorsAsRedis() async throws {
        try withInProcessServer { server in
            let c = try server.connect()
            #expect(try c.call("SLOWLOG", "GET", "-2") == err("ERR count should be greater than or equal to -1"))
            #expect(try c.call("SLOWLOG", "GET", "abc") == err("ERR count should be greater than or equal to -1"))
            #expect(
                try c.call("SLOWLOG", "RESET", "x") == err("ERR wrong number of arguments for 'slowlog|reset' command")
            )
            #expect(try c.call("SLOWLOG", "BOGUS") == err("ERR unknown subcommand 'BOGUS'. Try SLOWLOG HELP."))
            guard case .array(let help) = try c.call("SLOWLOG", "HELP") else {
                Issue.record("SLOWLOG HELP")
                return
            }
            #expect(help.count == 12)
        }
    }

    @Test func latencyMonitorOffByDefault() async throws {
        try withInProcessServer { server in
            let c = try server.connect()
            #expect(try c.call("LATENCY", "LATEST") == .array([]))
            #expect(try c.call("LATENCY", "HISTORY", "command") == .array([]))
            #expect(try c.call("LATENCY", "RESET") == int(0))
            #expect(try c.call("LATENCY", "DOCTOR").text.hasPrefix("I'm sorry, Dave, I can't do that."))
            #expect(try c.call("LATENCY", "GRAPH", "command") == err("ERR No samples available for event 'command'"))
            #expect(
                try c.call("LATENCY", "HISTORY") == err("ERR wrong number of arguments for 'latency|history' command")
            )
            #expect(try c.call("LATENCY", "BOGUS") == err("ERR unknown subcommand 'BOGUS'. Try LATENCY HELP."))
        }
    }

    @Test func latencyEventsAsRedisReportsThem() async throws {
        try withInProcessServer { server in
            let c = try server.connect()
            let monitor = server.serverState.latency
            monitor.add(event: "command", milliseconds: 5, now: 1000)
            monitor.add(event: "command", milliseconds: 9, now: 1000)  // same second: the worst kept
            monitor.add(event: "command", milliseconds: 3, now: 1001)
            #expect(try c.call("LATENCY", "LATEST") == .array([.array([bulk("command"), int(1001), int(3), int(9)])]))
            #expect(
                try c.call("LATENCY", "HISTORY", "command")
                    == .array([.array([int(1000), int(9)]), .array([int(1001), int(3)])])
            )
            #expect(try c.call("LATENCY", "RESET", "command", "other") == int(1))
            #expect(try c.call("LATENCY", "LATEST") == .array([]))

            monitor.thresholdMilliseconds = 1
            #expect(monitor.thresholdNanoseconds == 1_000_000)
            monitor.thresholdMilliseconds = 0
            #expect(monitor.thresholdNanoseconds == .max)
        }
    }
}

@Suite("Observability settings for CONFIG")
struct ObservabilitySettingsTests {
    @Test func defaultsRangesAndErrorsAsRedis() async throws {
        try withInProcessServer { server in
            let c = try server.connect()
            let state = server.serverState
            #expect(
                try c.call("CONFIG", "GET", "slowlog-*", "latency-monitor-threshold")
                    == .array([
                        bulk("slowlog-log-slower-than"), bulk("10000"), bulk("slowlog-max-len"), bulk("128"),
                        bulk("latency-monitor-threshold"), bulk("0"),
                    ])
            )
            #expect(try c.call("CONFIG", "SET", "slowlog-log-slower-than", "-1") == OK)
            #expect(state.slowLog.thresholdNanoseconds == .max, "-1 turns the slow log off")
            #expect(try c.call("CONFIG", "SET", "latency-monitor-threshold", "5") == OK)
            #expect(state.latency.thresholdNanoseconds == 5_000_000)
            #expect(
                try c.call("CONFIG", "SET", "slowlog-log-slower-than", "-2")
                    == err(
                        "ERR CONFIG SET failed (possibly related to argument 'slowlog-log-slower-than') - argument must be between -1 and 9223372036854775807 inclusive"
                    )
            )
            #expect(
                try c.call("CONFIG", "SET", "slowlog-max-len", "abc")
                    == err(
                        "ERR CONFIG SET failed (possibly related to argument 'slowlog-max-len') - argument couldn't be parsed into an integer"
                    )
            )
            #expect(state.slowLog.maxEntries == 128, "a refused value changes nothing")
            // All or nothing: the bad second value leaves the first unchanged.
            #expect(
                try c.call("CONFIG", "SET", "slowlog-max-len", "5", "latency-monitor-threshold", "-1")
                    == err(
                        "ERR CONFIG SET failed (possibly related to argument 'latency-monitor-threshold') - argument must be between 0 and 9223372036854775807 inclusive"
                    )
            )
            #expect(state.slowLog.maxEntries == 128)
            #expect(try c.call("CONFIG", "SET", "slowlog-max-len", "9999999999") == OK)
            #expect(state.slowLog.maxEntries == 9_999_999_999)
        }
    }
}
