import Foundation
import KVS
import NIOCore
import RESP

/// Server commands: INFO, DBSIZE, FLUSHDB, FLUSHALL, SAVE, BGSAVE, LASTSAVE, CONFIG,
/// COMMAND, SHUTDOWN, TIME.
enum ServerCommands {
    static let all: [CommandSpec] = [
        .session("info", arity: -1, flags: [], group: "server", summary: "Returns information and statistics about the server.", info),
        .session("dbsize", arity: 1, flags: [.readonly, .fast], group: "server", summary: "Returns the number of keys in the database.", dbsize),
        .session("flushdb", arity: -1, flags: [.write, .barrier], group: "server", summary: "Remove all keys from the current database.", flushdb),
        .session("flushall", arity: -1, flags: [.write, .barrier], group: "server", summary: "Removes all keys from all databases.", flushall),
        .session("save", arity: 1, flags: [.admin, .noMulti, .barrier], group: "server", summary: "Synchronously saves the database(s) to disk.", save),
        .session("bgsave", arity: -1, flags: [.admin, .barrier], group: "server", summary: "Asynchronously saves the database(s) to disk.", bgsave),
        .session("lastsave", arity: 1, flags: [.pure, .fast], group: "server", summary: "Returns the Unix timestamp of the last successful save to disk.", lastsave),
        .session("config", arity: -2, flags: [.admin, .barrier], group: "server", summary: "A container for server configuration commands.", ConfigCommands.config),
        .session("command", arity: -1, flags: [.pure], group: "server", summary: "Returns detailed information about all commands.", command),
        .session("shutdown", arity: -1, flags: [.admin, .noMulti, .barrier], group: "server", summary: "Synchronously saves the database(s) to disk and shuts down the Redis server.", shutdown),
        .session("time", arity: 1, flags: [.pure, .fast], group: "server", summary: "Returns the server time.", time),
    ]

    static func dbsize(_ c: inout SessionCall) throws {
        c.integer(reply: c.database.engine.count)
    }

    static func flushOption(_ c: SessionCall) throws(CommandError) {
        guard c.count <= 2 else { throw CommandError.syntax }
        if c.count == 2 {
            let o = c.option(1)
            guard o == "ASYNC" || o == "SYNC" else { throw CommandError.syntax }
        }
    }

    static func flushdb(_ c: inout SessionCall) throws {
        try flushOption(c)
        let n = c.database.engine.count
        c.database.flush()
        c.call.writes += max(1, n)
        c.ok()
    }

    static func flushall(_ c: inout SessionCall) throws {
        try flushOption(c)
        for db in c.server.databases {
            c.call.writes += db.engine.count
            db.flush()
        }
        c.call.writes += 1
        c.ok()
    }

    static func save(_ c: inout SessionCall) throws {
        try c.server.persistence.save(c.server.databases)
        c.ok()
    }

    static func bgsave(_ c: inout SessionCall) throws {
        if c.count == 2 {
            guard c.option(1) == "SCHEDULE" else { throw CommandError.syntax }
        } else if c.count > 2 {
            throw CommandError.syntax
        }
        guard c.server.persistence.backgroundSave(c.server.databases) else {
            throw CommandError("ERR Background save already in progress")
        }
        c.simple("Background saving started")
    }

    static func lastsave(_ c: inout SessionCall) throws {
        c.integer(reply: Int(c.server.persistence.lastSave.load(ordering: .relaxed)))
    }

    static func time(_ c: inout SessionCall) throws {
        var tv = timeval()
        gettimeofday(&tv, nil)
        c.arrayHeader(2)
        c.bulk(String(tv.tv_sec))
        c.bulk(String(tv.tv_usec))
    }

    /// SHUTDOWN [NOSAVE | SAVE] [NOW] [FORCE] [ABORT], as Redis 7: save (SAVE, or the
    /// `save` policy has rules and NOSAVE is absent), then stop. A failed save answers an
    /// error and the server keeps running, unless FORCE. NOW (do not wait for replicas) has
    /// nothing to skip. ABORT cancels a pending shutdown; kvs never has one (a shutdown,
    /// once started, closes every connection at once), so it always answers Redis's error
    /// for none in progress.
    static func shutdown(_ c: inout SessionCall) throws {
        var save: Bool? = nil
        var force = false
        var modifiers = false
        var abort = false
        for i in 1..<max(1, c.count) {
            switch c.option(i) {
            case "SAVE":
                guard save != false else { throw CommandError.syntax }
                save = true
            case "NOSAVE":
                guard save != true else { throw CommandError.syntax }
                save = false
            case "NOW": modifiers = true
            case "FORCE": force = true
            case "ABORT": abort = true
            default: throw CommandError.syntax
            }
        }
        if abort {
            guard save == nil, !force, !modifiers else { throw CommandError.syntax }
            throw CommandError("ERR No shutdown in progress.")
        }
        let server = c.server
        guard let request = server.shutdownRequested.withLock({ $0 }) else {
            throw CommandError("ERR Errors trying to SHUTDOWN. Check logs.")
        }
        var saved = false
        if save ?? !server.savePoints.withLock({ $0.isEmpty }) {
            // Save before answering, so that a failure can be reported and the server kept
            // running (as Redis does). A background save in progress holds an older state:
            // wait for it (it runs on another thread), then save the latest.
            while server.persistence.saving.load(ordering: .acquiring) { usleep(1000) }
            do {
                try server.persistence.save(server.databases)
                saved = true
            } catch {
                guard force else {
                    server.logger.error("Error trying to save the DB, can't exit: \(error.message)")
                    throw CommandError("ERR Errors trying to SHUTDOWN. Check logs.")
                }
                server.logger.error("Error trying to save the DB, exit anyway: \(error.message)")
            }
        }
        // Other connections may write until the server stops them: after a save, the
        // server saves again if anything changed meanwhile.
        request(saved ? .ifChanged : .never)
        c.session.closeAfterReply = true
    }

    // MARK: COMMAND

    static func writeInfo(_ spec: CommandSpec, _ c: inout SessionCall) {
        c.arrayHeader(10)
        c.bulk(spec.name)
        c.integer(reply: spec.arity)
        let flags = spec.flags.names
        c.encoder.writeSetHeader(count: flags.count, into: &c.call.out)
        for f in flags { c.simple(f) }
        c.integer(reply: spec.firstKey)
        c.integer(reply: spec.lastKey)
        c.integer(reply: spec.keyStep)
        c.encoder.writeSetHeader(count: 0, into: &c.call.out)  // ACL categories
        c.arrayHeader(0)  // tips
        c.arrayHeader(0)  // key specs
        c.arrayHeader(0)  // subcommands
    }

    static func writeDocs(_ spec: CommandSpec, _ c: inout SessionCall) {
        let arguments = CommandDocs.arguments(of: spec.name)
        c.bulk(spec.name)
        c.mapHeader(arguments.isEmpty ? 4 : 5)
        c.bulk("summary"); c.bulk(spec.summary)
        c.bulk("since"); c.bulk("1.0.0")
        c.bulk("group"); c.bulk(spec.group)
        c.bulk("complexity"); c.bulk(spec.flags.contains(.fast) ? "O(1)" : "O(N)")
        if !arguments.isEmpty {
            c.bulk("arguments")
            CommandDocs.write(arguments, &c)
        }
    }

    static func command(_ c: inout SessionCall) throws {
        let table = c.server.commands
        guard c.count >= 2 else {
            let specs = table.sorted
            c.arrayHeader(specs.count)
            for spec in specs { writeInfo(spec, &c) }
            return
        }
        switch c.option(1) {
        case "COUNT":
            c.integer(reply: table.count)
        case "INFO":
            if c.count == 2 {
                let specs = table.sorted
                c.arrayHeader(specs.count)
                for spec in specs { writeInfo(spec, &c) }
            } else {
                c.arrayHeader(c.count - 2)
                for i in 2..<c.count {
                    if let spec = table.lookup(c.args[i]) { writeInfo(spec, &c) } else { c.nullArray() }
                }
            }
        case "DOCS":
            var specs: [CommandSpec] = []
            if c.count == 2 {
                specs = table.sorted
            } else {
                for i in 2..<c.count {
                    if let spec = table.lookup(c.args[i]) { specs.append(spec) }
                }
            }
            c.mapHeader(specs.count)
            for spec in specs { writeDocs(spec, &c) }
        case "LIST":
            let specs = table.sorted
            c.arrayHeader(specs.count)
            for spec in specs { c.bulk(spec.name) }
        case "GETKEYS":
            guard c.count >= 3, let spec = table.lookup(c.args[2]) else {
                throw CommandError("ERR Invalid command specified")
            }
            let argc = c.count - 2
            guard spec.accepts(argc) else { throw CommandError("ERR Invalid number of arguments specified for command") }
            guard spec.firstKey > 0 else { throw CommandError("ERR The command has no key arguments") }
            let last = spec.lastKey < 0 ? argc + spec.lastKey : spec.lastKey
            // A key position past the arguments given (a spec whose last key lies beyond its
            // least arity) names no key: refuse it rather than read past the arguments.
            guard last < argc else { throw CommandError("ERR Invalid number of arguments specified for command") }
            let keys = stride(from: spec.firstKey, through: last, by: max(1, spec.keyStep)).map { c.bytes($0 + 2) }
            c.arrayHeader(keys.count)
            for k in keys { c.bulk(k) }
        case "HELP":
            c.arrayHeader(1)
            c.simple("COMMAND <subcommand> [<arg> [value] [opt] ...]. Subcommands are: COUNT, DOCS, INFO, LIST, GETKEYS")
        default:
            throw CommandError(formatting: "ERR unknown subcommand '\(argument: c.args[1], limit: 128)'. Try COMMAND HELP.")
        }
    }

    // MARK: INFO

    static func info(_ c: inout SessionCall) throws {
        let wanted = Set((1..<max(1, c.count)).map { c.string($0).lowercased() })
        let all = wanted.isEmpty || wanted.contains("all") || wanted.contains("everything") || wanted.contains("default")
        let server = c.server
        let config = server.configuration
        var sections: [String] = []
        func want(_ name: String) -> Bool { all || wanted.contains(name) }
        let uptime = Int(Date().timeIntervalSince(server.startedAt))
        if want("server") {
            sections.append(
                """
                # Server\r
                redis_version:\(ConnectionCommands.redisVersion)\r
                redis_mode:standalone\r
                kvs_server:1\r
                os:\(osName())\r
                arch_bits:64\r
                multiplexing_api:epoll\r
                process_id:\(getpid())\r
                tcp_port:\(config.port)\r
                uptime_in_seconds:\(uptime)\r
                uptime_in_days:\(uptime / 86400)\r
                executable:kvs-server\r
                config_file:\r
                """)
        }
        if want("clients") {
            sections.append(
                """
                # Clients\r
                connected_clients:\(server.connectedClients.load(ordering: .relaxed))\r
                maxclients:\(config.maxClients)\r
                blocked_clients:0\r
                """)
        }
        if want("memory") {
            let rss = residentBytes()
            sections.append(
                """
                # Memory\r
                used_memory:\(rss)\r
                used_memory_human:\(human(rss))\r
                used_memory_rss:\(rss)\r
                maxmemory:0\r
                maxmemory_policy:noeviction\r
                """)
        }
        if want("persistence") {
            let p = server.persistence
            sections.append(
                """
                # Persistence\r
                loading:0\r
                rdb_changes_since_last_save:\(p.dirty.load(ordering: .relaxed))\r
                rdb_bgsave_in_progress:\(p.saving.load(ordering: .relaxed) ? 1 : 0)\r
                rdb_last_save_time:\(p.lastSave.load(ordering: .relaxed))\r
                rdb_last_bgsave_status:\(p.lastBackgroundSaveOK.load(ordering: .relaxed) ? "ok" : "err")\r
                rdb_saves:\(p.saveCount.load(ordering: .relaxed))\r
                aof_enabled:0\r
                """)
        }
        if want("stats") {
            sections.append(
                """
                # Stats\r
                total_connections_received:\(server.totalConnections.load(ordering: .relaxed))\r
                total_commands_processed:\(server.totalCommands.load(ordering: .relaxed))\r
                rejected_connections:\(server.rejectedConnections.load(ordering: .relaxed))\r
                expired_keys:0\r
                evicted_keys:0\r
                """)
        }
        if want("replication") {
            sections.append("# Replication\r\nrole:master\r\nconnected_slaves:0\r\n")
        }
        if want("keyspace") {
            var text = "# Keyspace\r\n"
            for db in server.databases where db.engine.count > 0 {
                text += "db\(db.index):keys=\(db.engine.count),expires=\(db.engine.countWithExpiry),avg_ttl=0\r\n"
            }
            sections.append(text)
        }
        c.verbatim(sections.joined(separator: "\r\n"))
    }

    static func osName() -> String {
        var u = utsname()
        uname(&u)
        let sys = withUnsafeBytes(of: u.sysname) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        let rel = withUnsafeBytes(of: u.release) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        let mach = withUnsafeBytes(of: u.machine) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        return "\(sys) \(rel) \(mach)"
    }

    /// The process's resident memory, from /proc/self/statm (0 where unavailable).
    static func residentBytes() -> Int {
        guard let text = try? String(contentsOfFile: "/proc/self/statm", encoding: .utf8) else { return 0 }
        let fields = text.split(separator: " ")
        guard fields.count > 1, let pages = Int(fields[1]) else { return 0 }
        return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
    }

    static func human(_ bytes: Int) -> String {
        let units = ["B", "K", "M", "G", "T"]
        var v = Double(bytes)
        var u = 0
        while v >= 1024, u < units.count - 1 {
            v /= 1024
            u += 1
        }
        return u == 0 ? "\(bytes)B" : String(format: "%.2f", v) + units[u]
    }
}
