import Foundation
import KVSNetworkTestSupport
import RESP
import Testing

@testable import KVSServer

/// The `field:value` lines of an INFO reply, in order.
func infoFields(_ text: String) -> [(String, String)] {
    text.split(separator: "\r\n").compactMap { line in
        guard !line.hasPrefix("#"), let colon = line.firstIndex(of: ":") else { return nil }
        return (String(line[..<colon]), String(line[line.index(after: colon)...]))
    }
}

/// The `# Title` lines of an INFO reply, in order.
func infoSections(_ text: String) -> [String] {
    text.split(separator: "\r\n").filter { $0.hasPrefix("# ") }.map { String($0.dropFirst(2)) }
}

@Suite("INFO")
struct InfoCommandTests {
    @Test func sectionsAsRedisSelectsThem() async throws {
        try withInProcessServer { server in
            let c = try server.connect()
            let defaults = [
                "Server", "Clients", "Memory", "Persistence", "Stats", "Replication", "CPU", "Modules",
                "Errorstats", "Cluster", "Keyspace",
            ]
            #expect(infoSections(try c.call("INFO").text) == defaults)
            #expect(infoSections(try c.call("INFO", "default").text) == defaults)
            let all = [
                "Server", "Clients", "Memory", "Persistence", "Stats", "Replication", "CPU", "Modules",
                "Commandstats", "Errorstats", "Latencystats", "Cluster", "Keyspace",
            ]
            #expect(infoSections(try c.call("INFO", "all").text) == all)
            #expect(infoSections(try c.call("INFO", "everything").text) == all)
            // Several names, any case, in Redis's order whatever the order asked.
            #expect(
                infoSections(try c.call("INFO", "Keyspace", "CPU", "server").text) == ["Server", "CPU", "Keyspace"]
            )
            #expect(try c.call("INFO", "bogus") == bulk(""))
            // Sections are separated by one empty line, and the text ends with CRLF.
            let two = try c.call("INFO", "server", "clients").text
            #expect(two.contains("\r\n\r\n# Clients\r\n"))
            #expect(two.hasSuffix("\r\n") && !two.hasSuffix("\r\n\r\n"))
        }
    }

    @Test func serverFieldsInRedisOrder() async throws {
        try await withKVSServer(blocking: true) { _, port in
            let c = try TestClient(port: port)
            let first = infoFields(try c.call("INFO", "server").text)
            let names = first.map(\.0)
            #expect(
                names == [
                    "redis_version", "redis_git_sha1", "redis_git_dirty", "redis_mode", "os", "arch_bits",
                    "monotonic_clock",
                    "multiplexing_api", "process_id", "process_supervised", "run_id", "tcp_port", "server_time_usec",
                    "uptime_in_seconds", "uptime_in_days", "executable", "config_file", "io_threads_active",
                ]
            )
            let values = Dictionary(first, uniquingKeysWith: { a, _ in a })
            #expect(values["redis_version"] == "7.0.15")
            #expect(values["tcp_port"] == String(port))
            #expect(values["process_id"] == String(getpid()))
            let runID = values["run_id"] ?? ""
            #expect(runID.count == 40 && runID.allSatisfy { $0.isHexDigit && !$0.isUppercase })
            let again = Dictionary(infoFields(try c.call("INFO", "server").text), uniquingKeysWith: { a, _ in a })
            #expect(again["run_id"] == runID, "run_id is fixed for the server's life")

            let replication = Dictionary(
                infoFields(try c.call("INFO", "replication").text),
                uniquingKeysWith: { a, _ in a }
            )
            #expect(replication["role"] == "master")
            #expect(replication["connected_slaves"] == "0")
            #expect(replication["master_replid"]?.count == 40)
            let memory = infoFields(try c.call("INFO", "memory").text).map(\.0)
            for name in [
                "used_memory", "used_memory_human", "used_memory_rss", "used_memory_peak", "maxmemory",
                "maxmemory_human", "maxmemory_policy",
            ] {
                #expect(memory.contains(name), "INFO memory lacks \(name)")
            }
            let cpu = infoFields(try c.call("INFO", "cpu").text)
            #expect(
                cpu.map(\.0) == ["used_cpu_sys", "used_cpu_user", "used_cpu_sys_children", "used_cpu_user_children"]
            )
            #expect(cpu.allSatisfy { Double($0.1) != nil })
        }
    }

    @Test func memoryHasRedisFieldsInOrderWithNumbers() async throws {
        try withInProcessServer { server in
            let c = try server.connect()
            for i in 0..<100 { try c.call("SET", "key:\(i)", String(repeating: "x", count: 100)) }
            let fields = infoFields(try c.call("INFO", "memory").text)
            // Redis 7.0's fields and order, less those kvs has no figure for.
            #expect(
                fields.map(\.0) == [
                    "used_memory", "used_memory_human", "used_memory_rss", "used_memory_rss_human", "used_memory_peak",
                    "used_memory_peak_human", "used_memory_peak_perc", "used_memory_overhead", "used_memory_startup",
                    "used_memory_dataset", "used_memory_dataset_perc", "total_system_memory",
                    "total_system_memory_human", "maxmemory", "maxmemory_human", "maxmemory_policy", "mem_allocator",
                    "lazyfree_pending_objects", "lazyfreed_objects",
                ]
            )
            let values = Dictionary(fields, uniquingKeysWith: { a, _ in a })
            func number(_ name: String) -> Int { Int(values[name] ?? "") ?? -1 }
            for name in [
                "used_memory", "used_memory_rss", "used_memory_peak", "used_memory_overhead", "used_memory_startup",
                "used_memory_dataset", "total_system_memory", "maxmemory",
            ] {
                #expect(number(name) >= 0, "\(name) is not a number: \(values[name] ?? "missing")")
            }
            for name in ["used_memory_peak_perc", "used_memory_dataset_perc"] {
                let text = values[name] ?? ""
                #expect(text.hasSuffix("%") && Double(text.dropLast()) != nil, "\(name): \(text)")
            }
            #expect(number("used_memory_dataset") <= number("used_memory"))
            #expect(number("used_memory_peak") >= number("used_memory"))
            #expect(number("used_memory_overhead") >= number("used_memory_startup"))
            // In-process servers read glibc's mallinfo2 (the counting allocator is kvs-server's).
            #expect(values["mem_allocator"] == "libc")
        }
    }

    @Test func commandStatsCountCallsRejectionsAndFailures() async throws {
        try withInProcessServer { server in
            let c = try server.connect()
            try c.call("SET", "n", "abc")
            try c.call("GET", "n")
            try c.call("GET", "n")
            #expect(try c.call("INCR", "n") == err("ERR value is not an integer or out of range"))
            #expect(try c.call("GET") == err("ERR wrong number of arguments for 'get' command"))
            #expect(try c.call("NOSUCH").text.hasPrefix("ERR unknown command"))
            let stats = Dictionary(infoFields(try c.call("INFO", "commandstats").text), uniquingKeysWith: { a, _ in a })
            let get = stats["cmdstat_get"] ?? ""
            let pattern = #/calls=2,usec=\d+,usec_per_call=\d+\.\d\d,rejected_calls=1,failed_calls=0/#
            #expect(get.wholeMatch(of: pattern) != nil, "\(get)")
            #expect(stats["cmdstat_incr"]?.hasPrefix("calls=1,") == true)
            #expect(stats["cmdstat_incr"]?.hasSuffix(",rejected_calls=0,failed_calls=1") == true)
            #expect(stats["cmdstat_set"]?.hasSuffix(",rejected_calls=0,failed_calls=0") == true)
            _ = try c.call("INFO", "commandstats")
            let second = Dictionary(
                infoFields(try c.call("INFO", "commandstats").text),
                uniquingKeysWith: { a, _ in a }
            )
            #expect(second["cmdstat_info"]?.hasPrefix("calls=2,") == true, "counted after it ran, as in Redis")
            try c.call("CLIENT", "ID")
            try c.call("client", "Id")
            #expect(try c.call("CLIENT", "BOGUS") == err("ERR unknown subcommand 'BOGUS'. Try CLIENT HELP."))
            let containers = Dictionary(
                infoFields(try c.call("INFO", "commandstats").text),
                uniquingKeysWith: { a, _ in a }
            )
            #expect(containers["cmdstat_client|id"]?.hasPrefix("calls=2,") == true, "subcommands are counted apart")
            #expect(containers["cmdstat_client"] == nil, "an unknown subcommand is refused, not a call")

            let errors = Dictionary(infoFields(try c.call("INFO", "errorstats").text), uniquingKeysWith: { a, _ in a })
            #expect(errors == ["errorstat_ERR": "count=4"])  // INCR, GET, NOSUCH, CLIENT BOGUS
            let statsSection = Dictionary(infoFields(try c.call("INFO", "stats").text), uniquingKeysWith: { a, _ in a })
            #expect(statsSection["total_error_replies"] == "4")

            server.serverState.resetStatistics()
            let afterReset = infoFields(try c.call("INFO", "commandstats", "errorstats").text)
            #expect(!afterReset.contains { $0.0 == "cmdstat_get" || $0.0 == "errorstat_ERR" })
        }
    }

    @Test func statsCountConnectionsAndCommands() async throws {
        try await withKVSServer(blocking: true) { _, port in
            let c = try TestClient(port: port)
            _ = try TestClient(port: port).call("PING")
            try c.call("PING")
            let stats = Dictionary(infoFields(try c.call("INFO", "stats").text), uniquingKeysWith: { a, _ in a })
            #expect(stats["total_connections_received"] == "2")
            #expect(Int(stats["total_commands_processed"] ?? "") ?? 0 >= 2)
            #expect(stats["instantaneous_ops_per_sec"] != nil)
            #expect(stats["rejected_connections"] == "0")
        }
    }

    @Test func instantaneousOpsPerSecondFollowsTheLoad() async throws {
        try await withKVSServer(blocking: true) { _, port in
            let c = try TestClient(port: port)
            let deadline = ContinuousClock.now + .seconds(10)
            var rate = 0
            // Sampled every 100 ms: keep commands flowing until a sample has seen them.
            while rate == 0, ContinuousClock.now < deadline {
                for _ in 0..<200 { try c.call("PING") }
                let stats = Dictionary(infoFields(try c.call("INFO", "stats").text), uniquingKeysWith: { a, _ in a })
                rate = Int(stats["instantaneous_ops_per_sec"] ?? "") ?? 0
            }
            #expect(rate > 0)
        }
    }
}
