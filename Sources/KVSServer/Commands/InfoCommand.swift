import Foundation
import KVS
import NIOCore
import RESP

/// INFO: the server's figures in Redis 7.0's sections, fields and order. A field kvs has
/// no true value for is left out rather than given an invented one.
enum InfoCommand {
    static let all: [CommandSpec] = [
        .session(
            "info",
            arity: -1,
            flags: [],
            group: "server",
            summary: "Returns information and statistics about the server.",
            info
        )
    ]

    /// The sections in Redis's order, and whether `INFO` / `INFO default` includes each.
    static let sections: [(name: String, inDefault: Bool)] = [
        ("server", true), ("clients", true), ("memory", true), ("persistence", true), ("stats", true),
        ("replication", true), ("cpu", true), ("modules", true), ("commandstats", false), ("errorstats", true),
        ("latencystats", false), ("cluster", true), ("keyspace", true),
    ]

    /// The sections `INFO <args…>` asks for: `default` (also with no argument), `all`
    /// and `everything` (every section), and section names, in any case and combination.
    static func selectedSections(_ args: [String]) -> Set<String> {
        var wanted = Set<String>()
        let names = args.isEmpty ? ["default"] : args.map { $0.lowercased() }
        for name in names {
            switch name {
            case "default": wanted.formUnion(sections.filter(\.inDefault).map(\.name))
            case "all", "everything": wanted.formUnion(sections.map(\.name))
            default: wanted.insert(name)
            }
        }
        return wanted
    }

    static func info(_ c: inout SessionCall) throws {
        let wanted = selectedSections((1..<max(1, c.count)).map { c.string($0) })
        var parts: [String] = []
        for (name, _) in sections where wanted.contains(name) {
            parts.append(section(name, c))
        }
        c.verbatim(parts.joined(separator: "\r\n"))
    }

    /// One section's text: its `# Title` line and its fields, each line ending in CRLF.
    static func section(_ name: String, _ c: SessionCall) -> String {
        let fields: [(String, String)]
        let title: String
        switch name {
        case "server": (title, fields) = ("Server", server(c))
        case "clients": (title, fields) = ("Clients", clients(c.server))
        case "memory": (title, fields) = ("Memory", memory(c.server))
        case "persistence": (title, fields) = ("Persistence", persistence(c.server))
        case "stats": (title, fields) = ("Stats", stats(c.server))
        case "replication": (title, fields) = ("Replication", replication(c.server))
        case "cpu": (title, fields) = ("CPU", cpu())
        case "modules": (title, fields) = ("Modules", [])
        case "commandstats": (title, fields) = ("Commandstats", commandStats(c.server))
        case "errorstats": (title, fields) = ("Errorstats", errorStats(c.server))
        // Per-command latency percentiles are not tracked: the section is empty, as in a
        // Redis with `latency-tracking no`.
        case "latencystats": (title, fields) = ("Latencystats", [])
        case "cluster": (title, fields) = ("Cluster", [("cluster_enabled", "0")])
        default: (title, fields) = ("Keyspace", keyspace(c.server))
        }
        var text = "# \(title)\r\n"
        for (k, v) in fields { text += "\(k):\(v)\r\n" }
        return text
    }

    static func server(_ c: SessionCall) -> [(String, String)] {
        let server = c.server
        let uptime = max(0, Int(Date().timeIntervalSince(server.startedAt)))
        // The port this connection reached (the bound one, also when configured with 0).
        let port =
            c.session.info.localAddress.split(separator: ":").last.flatMap { Int($0) } ?? server.configuration.port
        #if os(Linux)
        let multiplexing = "epoll"
        #else
        let multiplexing = "kqueue"
        #endif
        return [
            ("redis_version", ConnectionCommands.redisVersion),
            ("redis_git_sha1", "00000000"),
            ("redis_git_dirty", "0"),
            ("redis_mode", "standalone"),
            ("os", osName()),
            ("arch_bits", String(MemoryLayout<Int>.size * 8)),
            ("monotonic_clock", "POSIX clock_gettime"),
            ("multiplexing_api", multiplexing),
            ("process_id", String(getpid())),
            ("process_supervised", "no"),
            ("run_id", server.runID),
            ("tcp_port", String(port)),
            ("server_time_usec", String(WallClock.microseconds())),
            ("uptime_in_seconds", String(uptime)),
            ("uptime_in_days", String(uptime / 86400)),
            ("executable", executablePath()),
            ("config_file", ""),
            ("io_threads_active", server.configuration.resolvedEventLoopThreads > 1 ? "1" : "0"),
        ]
    }

    static func clients(_ server: ServerState) -> [(String, String)] {
        [
            ("connected_clients", String(server.connectedClients.load(ordering: .relaxed))),
            ("cluster_connections", "0"),
            ("maxclients", String(server.configuration.maxClients)),
            ("blocked_clients", "\(server.blocking.count)"),
            ("tracking_clients", "0"),
            ("clients_in_timeout_table", "0"),
        ]
    }

    /// Redis 7.0's memory fields that kvs has, in Redis's order. `used_memory` is the
    /// server's gauge (the counting allocator's sum in `kvs-server`, glibc's `mallinfo2`
    /// otherwise; ``MemoryGauge``), `used_memory_rss` the resident set; the overhead and
    /// dataset split is ``MemoryReport``'s. `mem_allocator` names the gauge's allocator:
    /// `libc-counted` for kvs-server's counting wrapper around glibc's malloc, `libc` for
    /// glibc's malloc read through `mallinfo2`.
    static func memory(_ server: ServerState) -> [(String, String)] {
        let report = MemoryReport(server)
        let rss = residentBytes()
        let total = Int(sysconf(Int32(_SC_PHYS_PAGES))) * Int(sysconf(Int32(_SC_PAGESIZE)))
        return [
            ("used_memory", String(report.used)),
            ("used_memory_human", human(report.used)),
            ("used_memory_rss", String(rss)),
            ("used_memory_rss_human", human(rss)),
            ("used_memory_peak", String(report.peak)),
            ("used_memory_peak_human", human(report.peak)),
            ("used_memory_peak_perc", String(format: "%.2f%%", report.peakPercentage)),
            ("used_memory_overhead", String(report.overhead)),
            ("used_memory_startup", String(report.startup)),
            ("used_memory_dataset", String(report.dataset)),
            ("used_memory_dataset_perc", String(format: "%.2f%%", report.datasetPercentage)),
            ("total_system_memory", String(total)),
            ("total_system_memory_human", human(total)),
            ("maxmemory", String(server.maxMemory.limit)),
            ("maxmemory_human", human(server.maxMemory.limit)),
            ("maxmemory_policy", server.maxMemory.policy.rawValue),
            ("mem_allocator", server.memory.gauge.allocatorName),
            ("lazyfree_pending_objects", String(server.lazyFree.pendingObjects)),
            ("lazyfreed_objects", String(server.lazyFree.freedObjects)),
        ]
    }

    static func persistence(_ server: ServerState) -> [(String, String)] {
        let p = server.persistence
        return [
            ("loading", "0"),
            ("async_loading", "0"),
            ("rdb_changes_since_last_save", String(p.dirty.load(ordering: .relaxed))),
            ("rdb_bgsave_in_progress", p.saving.load(ordering: .relaxed) ? "1" : "0"),
            ("rdb_last_save_time", String(p.lastSave.load(ordering: .relaxed))),
            ("rdb_last_bgsave_status", p.lastBackgroundSaveOK.load(ordering: .relaxed) ? "ok" : "err"),
            ("rdb_saves", String(p.saveCount.load(ordering: .relaxed))),
            ("aof_enabled", "0"),
            ("aof_rewrite_in_progress", "0"),
            ("aof_rewrite_scheduled", "0"),
        ]
    }

    static func stats(_ server: ServerState) -> [(String, String)] {
        [
            ("total_connections_received", String(server.totalConnections.load(ordering: .relaxed))),
            ("total_commands_processed", String(server.totalCommands.load(ordering: .relaxed))),
            ("instantaneous_ops_per_sec", String(server.operationsRate.perSecond)),
            ("rejected_connections", String(server.rejectedConnections.load(ordering: .relaxed))),
            ("sync_full", "0"),
            ("sync_partial_ok", "0"),
            ("sync_partial_err", "0"),
            ("evicted_keys", String(server.maxMemory.evictedKeys.load(ordering: .relaxed))),
            ("evicted_clients", "0"),
            ("pubsub_channels", "0"),
            ("pubsub_patterns", "0"),
            ("pubsubshard_channels", "0"),
            ("total_forks", "0"),
            ("tracking_total_keys", "0"),
            ("tracking_total_items", "0"),
            ("tracking_total_prefixes", "0"),
            ("unexpected_error_replies", "0"),
            ("total_error_replies", String(server.statistics.errors().total)),
        ]
    }

    static func replication(_ server: ServerState) -> [(String, String)] {
        [
            ("role", "master"),
            ("connected_slaves", "0"),
            ("master_failover_state", "no-failover"),
            ("master_replid", server.replicationID),
            ("master_replid2", String(repeating: "0", count: 40)),
            ("master_repl_offset", "0"),
            ("second_repl_offset", "-1"),
            ("repl_backlog_active", "0"),
            ("repl_backlog_first_byte_offset", "0"),
            ("repl_backlog_histlen", "0"),
        ]
    }

    static func cpu() -> [(String, String)] {
        var me = rusage()
        var children = rusage()
        getrusage(rusageWho(RUSAGE_SELF), &me)
        getrusage(rusageWho(RUSAGE_CHILDREN), &children)
        func seconds(_ t: timeval) -> String {
            String(format: "%.6f", Double(t.tv_sec) + Double(t.tv_usec) / 1_000_000)
        }
        return [
            ("used_cpu_sys", seconds(me.ru_stime)),
            ("used_cpu_user", seconds(me.ru_utime)),
            ("used_cpu_sys_children", seconds(children.ru_stime)),
            ("used_cpu_user_children", seconds(children.ru_utime)),
        ]
    }

    /// `cmdstat_<name>:calls=N,usec=N,usec_per_call=N.NN,rejected_calls=N,failed_calls=N`
    /// for every command called (or refused) since the start or CONFIG RESETSTAT.
    static func commandStats(_ server: ServerState) -> [(String, String)] {
        var rows: [(String, String)] = []
        for (slot, f) in server.statistics.figures() {
            guard let name = server.commands.statisticsName(ofSlot: slot) else { continue }
            let usec = f.nanoseconds / 1000
            let perCall = f.calls > 0 ? Double(usec) / Double(f.calls) : 0
            rows.append(
                (
                    "cmdstat_\(name)",
                    "calls=\(f.calls),usec=\(usec),usec_per_call=\(String(format: "%.2f", perCall)),"
                        + "rejected_calls=\(f.rejected),failed_calls=\(f.failed)"
                )
            )
        }
        return rows.sorted { $0.0 < $1.0 }
    }

    /// `errorstat_<CODE>:count=N` per error code, in code order.
    static func errorStats(_ server: ServerState) -> [(String, String)] {
        server.statistics.errors().byCode.sorted { $0.key < $1.key }.map {
            ("errorstat_\($0.key)", "count=\($0.value)")
        }
    }

    static func keyspace(_ server: ServerState) -> [(String, String)] {
        server.databases.filter { $0.engine.count > 0 }.map { db in
            ("db\(db.index)", "keys=\(db.engine.count),expires=\(db.engine.countWithExpiry),avg_ttl=0")
        }
    }

    static func osName() -> String {
        var u = utsname()
        uname(&u)
        let sys = withUnsafeBytes(of: u.sysname) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        let rel = withUnsafeBytes(of: u.release) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        let mach = withUnsafeBytes(of: u.machine) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        return "\(sys) \(rel) \(mach)"
    }

    /// getrusage's `who` argument (an enum on Glibc, an integer elsewhere).
    #if canImport(Glibc)
    static func rusageWho(_ who: __rusage_who) -> __rusage_who_t { __rusage_who_t(who.rawValue) }
    #else
    static func rusageWho(_ who: Int32) -> Int32 { who }
    #endif

    /// The absolute path of the running executable.
    static func executablePath() -> String {
        if let path = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe") { return path }
        return CommandLine.arguments.first ?? ""
    }

    /// The process's resident memory, from /proc/self/statm (0 where unavailable).
    static func residentBytes() -> Int {
        guard let text = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return 0 }
        let fields = text.split(separator: " ")
        guard fields.count > 1, let pages = Int(fields[1]) else { return 0 }
        return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
    }

    /// The process's highest resident memory (getrusage's `ru_maxrss`, in KiB on Linux).
    static func peakResidentBytes() -> Int {
        var me = rusage()
        getrusage(rusageWho(RUSAGE_SELF), &me)
        return Int(me.ru_maxrss) * 1024
    }

    /// Bytes as Redis's `bytesToHuman` writes them: `812B`, `1015.51K`, `1.44M`.
    static func human(_ bytes: Int) -> String {
        let units = ["B", "K", "M", "G", "T", "P"]
        var v = Double(bytes)
        var u = 0
        while v >= 1024, u < units.count - 1 {
            v /= 1024
            u += 1
        }
        return u == 0 ? "\(bytes)B" : String(format: "%.2f", v) + units[u]
    }
}
