import Foundation
import KVS
import NIOCore
import RESP

/// CLIENT and its subcommands, with Redis 7.0's replies and errors.
enum ClientCommands {
    static let all: [CommandSpec] = [
        .session(
            "client",
            arity: -2,
            flags: [.barrier],
            group: "connection",
            summary: "A container for client connection commands.",
            subcommands: subcommands,
            client
        )
    ]

    /// Redis's arity of each subcommand (name included, as for commands).
    static let subcommands: [String: Int] = [
        "id": 2, "getname": 2, "setname": 3, "info": 2, "list": -2, "kill": -3, "pause": -3, "unpause": 2,
        "reply": 3, "no-evict": 3, "getredir": 2, "tracking": -3, "trackinginfo": 2, "caching": 3,
        "unblock": -3, "help": 2, "setinfo": 4,
    ]

    static func client(_ c: inout SessionCall) throws {
        if let error = CommandSpec.subcommandError(command: "client", subcommands: subcommands, c.args) { throw error }
        let sub = c.option(1)
        switch sub {
        case "ID":
            c.integer(reply: c.session.id)
        case "SETNAME":
            let name = c.string(2)
            guard ConnectionCommands.validName(name) || name.isEmpty else {
                throw CommandError("ERR Client names cannot contain spaces, newlines or special characters.")
            }
            c.session.name = name
            c.session.info.name = name
        case "GETNAME":
            if c.session.name.isEmpty { c.null() } else { c.bulk(c.session.name) }
        case "LIST":
            try list(&c)
        case "INFO":
            c.verbatim(c.session.info.line(command: "client|info", current: true) + "\n")
        case "KILL":
            try kill(&c)
        case "PAUSE":
            try pause(&c)
        case "UNPAUSE":
            c.server.pause.unpause()
        case "REPLY":
            switch c.option(2) {
            case "ON":
                c.session.replyMode = .on
            case "OFF":
                c.session.replyMode = .off
                return
            case "SKIP":
                if c.session.replyMode != .off { c.session.replyMode = .skipNext }
                return
            default:
                throw CommandError.syntax
            }
        case "NO-EVICT":
            // kvs never evicts clients, so every client is already protected.
            guard c.option(2) == "ON" || c.option(2) == "OFF" else { throw CommandError.syntax }
        case "GETREDIR":
            c.integer(reply: -1)  // not tracking
        case "TRACKING":
            var i = 3
            while i < c.count {
                switch c.option(i) {
                case "BCAST", "OPTIN", "OPTOUT", "NOLOOP": i += 1
                case "REDIRECT" where i + 1 < c.count, "PREFIX" where i + 1 < c.count: i += 2
                default: throw CommandError.syntax
                }
            }
            switch c.option(2) {
            case "OFF": break  // tracking is never on
            case "ON": throw CommandError("ERR CLIENT TRACKING is not supported by kvs-server")
            default: throw CommandError.syntax
            }
        case "TRACKINGINFO":
            c.mapHeader(3)
            c.bulk("flags")
            c.encoder.writeSetHeader(count: 1, into: &c.call.out)
            c.bulk("off")
            c.bulk("redirect")
            c.integer(reply: -1)
            c.bulk("prefixes")
            c.arrayHeader(0)
            return
        case "CACHING":
            throw CommandError(
                "ERR CLIENT CACHING can be called only when the client is in tracking mode with OPTIN or OPTOUT mode enabled"
            )
        case "UNBLOCK":
            guard c.count <= 4 else {
                throw CommandError(
                    "ERR unknown subcommand or wrong number of arguments for '\(c.string(1))'. Try CLIENT HELP."
                )
            }
            let id = try c.integer(2)
            var outcome = BlockingRegistry.Outcome.timedOut
            if c.count == 4 {
                let mode = c.option(3)
                guard mode == "TIMEOUT" || mode == "ERROR" else {
                    throw CommandError("ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR")
                }
                if mode == "ERROR" { outcome = .unblockedWithError }
            }
            let unblocked = c.server.blocking.unblock(clientID: Int(truncatingIfNeeded: id), with: outcome)
            c.integer(reply: unblocked ? 1 : 0)
            return
        case "SETINFO":
            // Redis 7.2's SETINFO, which client libraries send on connecting: recorded,
            // though Redis 7.0's CLIENT LIST format does not show it.
            let attr = c.option(2)
            let value = c.string(3)
            guard attr == "LIB-NAME" || attr == "LIB-VER" else {
                throw CommandError("ERR Unrecognized option '\(c.string(2))'")
            }
            guard value.utf8.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else {
                throw CommandError("ERR \(attr.lowercased()) cannot contain spaces, newlines or special characters.")
            }
            if attr == "LIB-NAME" { c.session.info.libraryName = value } else { c.session.info.libraryVersion = value }
        default:
            help(&c)
            return
        }
        switch sub {
        case "ID", "GETNAME", "LIST", "INFO", "GETREDIR", "KILL": break  // replied above
        default: c.ok()
        }
    }

    /// Every connection's entry: the registry's, with this connection's own (the freshest)
    /// in place of its registered one.
    static func clients(_ c: SessionCall) -> [ClientInfo] {
        let me = c.session.info
        var list = c.server.clients.all.filter { $0.id != c.session.id }
        list.append(me)
        list.sort { $0.id < $1.id }
        return list
    }

    /// Whether `type` (normal, master, replica, slave, pubsub) names a type kvs's clients
    /// have: every client is `normal`. Throws Redis's error for an unknown type.
    static func matchesType(_ type: String) throws(CommandError) -> Bool {
        switch type.lowercased() {
        case "normal": return true
        case "master", "replica", "slave", "pubsub": return false
        default: throw CommandError("ERR Unknown client type '\(type)'")
        }
    }

    static func list(_ c: inout SessionCall) throws {
        var list = clients(c)
        if c.count == 4, c.option(2) == "TYPE" {
            if try !matchesType(c.string(3)) { list = [] }
        } else if c.count > 3, c.option(2) == "ID" {
            var ids = Set<Int64>()
            for i in 3..<c.count {
                guard let id = RedisNumber.parseInt64(c.args[i].readableBytesView) else {
                    throw CommandError("ERR Invalid client ID")
                }
                ids.insert(id)
            }
            list = list.filter { ids.contains(Int64($0.id)) }
        } else if c.count != 2 {
            throw CommandError.syntax
        }
        let now = MonotonicClock.nanoseconds()
        let table = c.server.commands
        let me = c.session.id
        c.verbatim(
            list.map { info in
                let current = info.id == me
                let command =
                    current
                    ? "client|list"
                    : table.statisticsName(ofSlot: info.activity.lastCommand.load(ordering: .relaxed)) ?? "NULL"
                return info.line(now: now, command: command, current: current) + "\n"
            }.joined()
        )
    }

    /// CLIENT KILL addr:port (OK or an error), or CLIENT KILL with filters (the number killed).
    /// The caller itself, when it matches, is closed once its reply is written.
    static func kill(_ c: inout SessionCall) throws {
        let everyone = clients(c)
        if c.count == 3 {
            let addr = c.string(2)
            guard let victim = everyone.first(where: { $0.address == addr }) else {
                throw CommandError("ERR No such client")
            }
            close(victim.id, &c)
            c.ok()
            return
        }
        guard c.count % 2 == 0 else { throw CommandError.syntax }
        var id: Int64?
        var addr: String?
        var laddr: String?
        var typeMatches = true
        var skipMe = true
        var i = 2
        while i < c.count {
            let value = c.string(i + 1)
            switch c.option(i) {
            case "ID":
                guard let n = RedisNumber.parseInt64(c.args[i + 1].readableBytesView), n > 0 else {
                    throw CommandError("ERR client-id should be greater than 0")
                }
                id = n
            case "TYPE":
                typeMatches = try matchesType(value)
            case "ADDR":
                addr = value
            case "LADDR":
                laddr = value
            case "USER":
                guard value == "default" else { throw CommandError("ERR No such user '\(value)'") }
            case "SKIPME":
                switch value.lowercased() {
                case "yes": skipMe = true
                case "no": skipMe = false
                default: throw CommandError.syntax
                }
            default:
                throw CommandError.syntax
            }
            i += 2
        }
        var killed = 0
        for client in everyone where typeMatches {
            if let id, Int64(client.id) != id { continue }
            if let addr, client.address != addr { continue }
            if let laddr, client.localAddress != laddr { continue }
            if skipMe, client.id == c.session.id { continue }
            close(client.id, &c)
            killed += 1
        }
        c.integer(reply: killed)
    }

    /// Closes connection `id`: another at once, the caller after its reply.
    private static func close(_ id: Int, _ c: inout SessionCall) {
        if id == c.session.id {
            c.session.closeAfterReply = true
        } else {
            c.server.clients.channel(of: id)?.close(promise: nil)
        }
    }

    static func pause(_ c: inout SessionCall) throws {
        guard c.count == 3 || c.count == 4 else {
            throw CommandError(
                "ERR unknown subcommand or wrong number of arguments for '\(c.string(1))'. Try CLIENT HELP."
            )
        }
        var all = true
        if c.count == 4 {
            switch c.option(3) {
            case "WRITE": all = false
            case "ALL": all = true
            default: throw CommandError("ERR CLIENT PAUSE mode must be WRITE or ALL")
            }
        }
        guard let ms = RedisNumber.parseInt64(c.args[2].readableBytesView) else {
            throw CommandError("ERR timeout is not an integer or out of range")
        }
        guard ms >= 0 else { throw CommandError("ERR timeout is negative") }
        c.server.pause.pause(milliseconds: ms, all: all)
    }

    static func help(_ c: inout SessionCall) {
        let lines = [
            "CLIENT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
            "CACHING (YES|NO)",
            "    Enable/disable tracking of the keys for next command in OPTIN/OPTOUT modes.",
            "GETREDIR",
            "    Return the client ID we are redirecting to when tracking is enabled.",
            "GETNAME",
            "    Return the name of the current connection.",
            "ID",
            "    Return the ID of the current connection.",
            "INFO",
            "    Return information about the current client connection.",
            "KILL <ip:port>",
            "    Kill connection made from <ip:port>.",
            "KILL <option> <value> [<option> <value> [...]]",
            "    Kill connections. Options are:",
            "    * ADDR (<ip:port>|<unixsocket>:0)",
            "      Kill connections made from the specified address",
            "    * LADDR (<ip:port>|<unixsocket>:0)",
            "      Kill connections made to specified local address",
            "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
            "      Kill connections by type.",
            "    * USER <username>",
            "      Kill connections authenticated by <username>.",
            "    * SKIPME (YES|NO)",
            "      Skip killing current connection (default: yes).",
            "LIST [options ...]",
            "    Return information about client connections. Options:",
            "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
            "      Return clients of specified type.",
            "UNPAUSE",
            "    Stop the current client pause, resuming traffic.",
            "PAUSE <timeout> [WRITE|ALL]",
            "    Suspend all, or just write, clients for <timeout> milliseconds.",
            "REPLY (ON|OFF|SKIP)",
            "    Control the replies sent to the current connection.",
            "SETNAME <name>",
            "    Assign the name <name> to the current connection.",
            "UNBLOCK <clientid> [TIMEOUT|ERROR]",
            "    Unblock the specified blocked client.",
            "TRACKING (ON|OFF) [REDIRECT <id>] [BCAST] [PREFIX <prefix> [...]]",
            "         [OPTIN] [OPTOUT] [NOLOOP]",
            "    Control server assisted client side caching.",
            "TRACKINGINFO",
            "    Report tracking status for the current connection.",
            "NO-EVICT (ON|OFF)",
            "    Protect current client connection from eviction.",
            "HELP",
            "    Prints this help.",
        ]
        c.arrayHeader(lines.count)
        for line in lines { c.simple(line) }
    }
}
