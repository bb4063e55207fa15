import Foundation
import KVS
import NIOCore
import RESP

/// Server commands: DBSIZE, FLUSHDB, FLUSHALL, SAVE, BGSAVE, LASTSAVE, CONFIG,
/// COMMAND, SHUTDOWN, TIME.
enum ServerCommands {
    static let all: [CommandSpec] = [
        .session("dbsize", arity: 1, flags: [.readonly, .fast], group: "server", summary: "Returns the number of keys in the database.", dbsize),
        .session("flushdb", arity: -1, flags: [.write, .barrier], group: "server", summary: "Remove all keys from the current database.", flushdb),
        .session("flushall", arity: -1, flags: [.write, .barrier], group: "server", summary: "Removes all keys from all databases.", flushall),
        .session("save", arity: 1, flags: [.admin, .barrier], group: "server", summary: "Synchronously saves the database(s) to disk.", save),
        .session("bgsave", arity: -1, flags: [.admin, .barrier], group: "server", summary: "Asynchronously saves the database(s) to disk.", bgsave),
        .session("lastsave", arity: 1, flags: [.pure, .fast], group: "server", summary: "Returns the Unix timestamp of the last successful save to disk.", lastsave),
        .session("config", arity: -2, flags: [.admin, .barrier], group: "server", summary: "A container for server configuration commands.", config),
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

    static func shutdown(_ c: inout SessionCall) throws {
        var save: Bool? = nil
        for i in 1..<max(1, c.count) {
            switch c.option(i) {
            case "SAVE": save = true
            case "NOSAVE": save = false
            case "NOW", "FORCE", "ABORT": break
            default: throw CommandError.syntax
            }
        }
        let request = c.server.shutdownRequested.withLock { $0 }
        guard let request else { throw CommandError("ERR Errors trying to SHUTDOWN. Check logs.") }
        if save != false {
            // Save before answering, so that a failure can be reported (as Redis does).
            do {
                try c.server.persistence.save(c.server.databases)
            } catch {
                if save == true || !c.server.savePoints.withLock({ $0.isEmpty }) {
                    throw CommandError("ERR Errors trying to SHUTDOWN. Check logs.")
                }
            }
        }
        request(false)  // already saved (or asked not to)
        c.session.closeAfterReply = true
    }

    // MARK: CONFIG

    /// The parameters CONFIG GET knows, with their current values.
    static func parameters(_ server: ServerState) -> [(String, String)] {
        let config = server.configuration
        return [
            ("bind", config.bindAddresses.joined(separator: " ")),
            ("port", String(config.port)),
            ("dir", config.directory),
            ("dbfilename", config.snapshotFileName),
            ("requirepass", server.password.withLock { $0 ?? "" }),
            ("save", server.savePoints.withLock { $0.map { "\($0.seconds) \($0.changes)" }.joined(separator: " ") }),
            ("databases", String(server.databases.count)),
            ("maxclients", String(config.maxClients)),
            ("protected-mode", config.protectedMode ? "yes" : "no"),
            ("proto-max-bulk-len", String(config.maxBulkLength)),
            ("client-query-buffer-limit", String(config.maxQueryBufferLength)),
            ("appendonly", "no"),
            ("appendfsync", "everysec"),
            ("maxmemory", "0"),
            ("maxmemory-policy", "noeviction"),
            ("timeout", "0"),
            ("tcp-keepalive", "300"),
            ("io-threads", String(config.resolvedEventLoopThreads)),
            ("cluster-enabled", "no"),
            ("lazyfree-lazy-user-del", "no"),
        ]
    }

    static func config(_ c: inout SessionCall) throws {
        switch c.option(1) {
        case "GET":
            guard c.count >= 3 else { throw ConnectionCommands.subcommandArity(c) }
            let all = parameters(c.server)
            var found: [(String, String)] = []
            for i in 2..<c.count {
                let pattern = Array(c.string(i).lowercased().utf8)
                for (name, value) in all where Glob.matches(pattern, Array(name.utf8)) && !found.contains(where: { $0.0 == name }) {
                    found.append((name, value))
                }
            }
            c.mapHeader(found.count)
            for (name, value) in found {
                c.bulk(name)
                c.bulk(value)
            }
        case "SET":
            guard c.count >= 4, c.count % 2 == 0 else { throw ConnectionCommands.subcommandArity(c) }
            var i = 2
            while i < c.count {
                let name = c.string(i).lowercased()
                let value = c.string(i + 1)
                switch name {
                case "requirepass":
                    c.server.password.withLock { $0 = value.isEmpty ? nil : value }
                case "save":
                    guard let points = ServerConfiguration.parseSavePoints(value) else {
                        throw CommandError("ERR CONFIG SET failed (possibly related to argument 'save') - Invalid save parameters")
                    }
                    c.server.savePoints.withLock { $0 = points }
                case "appendonly", "maxmemory", "maxmemory-policy", "timeout", "tcp-keepalive", "lazyfree-lazy-user-del":
                    break  // accepted and ignored: kvs has no AOF, eviction or idle timeout
                default:
                    throw CommandError("ERR Unknown option or number of arguments for CONFIG SET - '\(name)'")
                }
                i += 2
            }
            c.ok()
        case "RESETSTAT":
            c.server.totalCommands.store(0, ordering: .relaxed)
            c.ok()
        case "REWRITE":
            throw CommandError("ERR The server is running without a config file")
        case "HELP":
            c.arrayHeader(3)
            c.simple("CONFIG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:")
            c.simple("GET <pattern>")
            c.simple("SET <directive> <value>")
        default:
            throw CommandError("ERR unknown subcommand '\(c.string(1))'. Try CONFIG HELP.")
        }
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
            let keys = stride(from: spec.firstKey, through: last, by: max(1, spec.keyStep)).map { c.bytes($0 + 2) }
            c.arrayHeader(keys.count)
            for k in keys { c.bulk(k) }
        case "HELP":
            c.arrayHeader(1)
            c.simple("COMMAND <subcommand> [<arg> [value] [opt] ...]. Subcommands are: COUNT, DOCS, INFO, LIST, GETKEYS")
        default:
            throw CommandError("ERR unknown subcommand '\(c.string(1))'. Try COMMAND HELP.")
        }
    }
}
