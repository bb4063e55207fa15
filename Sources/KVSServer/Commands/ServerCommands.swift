import Foundation
import KVS
import NIOCore
import RESP

/// Server commands: DBSIZE, FLUSHDB, FLUSHALL, SAVE, BGSAVE, LASTSAVE, CONFIG,
/// COMMAND, SHUTDOWN, TIME.
enum ServerCommands {
    static let all: [CommandSpec] = [
        .session(
            "dbsize",
            arity: 1,
            flags: [.readonly, .fast],
            group: "server",
            summary: "Returns the number of keys in the database.",
            dbsize
        ),
        .session(
            "flushdb",
            arity: -1,
            flags: [.write, .barrier],
            group: "server",
            summary: "Remove all keys from the current database.",
            flushdb
        ),
        .session(
            "flushall",
            arity: -1,
            flags: [.write, .barrier],
            group: "server",
            summary: "Removes all keys from all databases.",
            flushall
        ),
        .session(
            "save",
            arity: 1,
            flags: [.admin, .noMulti, .barrier],
            group: "server",
            summary: "Synchronously saves the database(s) to disk.",
            save
        ),
        .session(
            "bgsave",
            arity: -1,
            flags: [.admin, .barrier],
            group: "server",
            summary: "Asynchronously saves the database(s) to disk.",
            bgsave
        ),
        .session(
            "lastsave",
            arity: 1,
            flags: [.pure, .fast],
            group: "server",
            summary: "Returns the Unix timestamp of the last successful save to disk.",
            lastsave
        ),
        .session(
            "config",
            arity: -2,
            flags: [.admin, .barrier],
            group: "server",
            summary: "A container for server configuration commands.",
            subcommands: ["get": -3, "set": -4, "resetstat": 2, "rewrite": 2, "help": 2],
            ConfigCommands.config
        ),
        .session(
            "command",
            arity: -1,
            flags: [.pure],
            group: "server",
            summary: "Returns detailed information about all commands.",
            subcommands: ["count": 2, "info": -2, "docs": -2, "list": -2, "getkeys": -4, "help": 2],
            command
        ),
        .session(
            "shutdown",
            arity: -1,
            flags: [.admin, .noMulti, .barrier],
            group: "server",
            summary: "Synchronously saves the database(s) to disk and shuts down the Redis server.",
            shutdown
        ),
        .session("time", arity: 1, flags: [.pure, .fast], group: "server", summary: "Returns the server time.", time),
    ]

    static func dbsize(_ c: inout SessionCall) throws {
        c.integer(reply: c.database.engine.count)
    }

    /// Where FLUSHDB and FLUSHALL free the old contents: on the lazy-free queue for ASYNC,
    /// at once for SYNC, and as `lazyfree-lazy-user-flush` says without an option (Redis's
    /// `getFlushCommandFlags`).
    static func flushLazyFree(_ c: SessionCall) throws(CommandError) -> LazyFree? {
        guard c.count <= 2 else { throw CommandError.syntax }
        var async = c.server.lazyFreeLazyUserFlush
        if c.count == 2 {
            switch c.option(1) {
            case "ASYNC": async = true
            case "SYNC": async = false
            default: throw CommandError.syntax
            }
        }
        return async ? c.server.lazyFree : nil
    }

    static func flushdb(_ c: inout SessionCall) throws {
        let lazyFree = try flushLazyFree(c)
        let n = c.database.engine.count
        c.database.flush(lazyFree: lazyFree)
        c.call.writes += max(1, n)
        c.ok()
    }

    static func flushall(_ c: inout SessionCall) throws {
        let lazyFree = try flushLazyFree(c)
        for db in c.server.databases {
            c.call.writes += db.engine.count
            db.flush(lazyFree: lazyFree)
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
        c.bulk("summary")
        c.bulk(spec.summary)
        c.bulk("since")
        c.bulk("1.0.0")
        c.bulk("group")
        c.bulk(spec.group)
        c.bulk("complexity")
        c.bulk(spec.flags.contains(.fast) ? "O(1)" : "O(N)")
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
            // Redis asks whether the command has keys before it counts the arguments.
            guard spec.firstKey > 0 else { throw CommandError("ERR The command has no key arguments") }
            guard spec.accepts(argc) else {
                throw CommandError("ERR Invalid number of arguments specified for command")
            }
            if let positions = spec.keyPositions {
                let keys = positions(Array(c.args[2...])).map { c.bytes($0 + 2) }
                c.arrayHeader(keys.count)
                for k in keys { c.bulk(k) }
                return
            }
            let last = spec.lastKey < 0 ? argc + spec.lastKey : spec.lastKey
            // A key position past the arguments given (a spec whose last key lies beyond its
            // least arity) names no key: refuse it rather than read past the arguments.
            guard last < argc else { throw CommandError("ERR Invalid number of arguments specified for command") }
            let keys = stride(from: spec.firstKey, through: last, by: max(1, spec.keyStep)).map { c.bytes($0 + 2) }
            c.arrayHeader(keys.count)
            for k in keys { c.bulk(k) }
        case "HELP":
            c.arrayHeader(1)
            c.simple(
                "COMMAND <subcommand> [<arg> [value] [opt] ...]. Subcommands are: COUNT, DOCS, INFO, LIST, GETKEYS"
            )
        default:
            throw CommandError(
                formatting: "ERR unknown subcommand '\(argument: c.args[1], limit: 128)'. Try COMMAND HELP."
            )
        }
    }
}
