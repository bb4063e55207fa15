import KVS
import NIOCore
import RESP

/// SLOWLOG GET [count] / LEN / RESET / HELP, as Redis 7.0 answers them.
enum SlowLogCommand {
    static let all: [CommandSpec] = [
        .session(
            "slowlog",
            arity: -2,
            flags: [.admin],
            group: "server",
            summary: "A container for slow log commands.",
            subcommands: ["get": -2, "len": 2, "reset": 2, "help": 2],
            slowlog
        )
    ]

    static func slowlog(_ c: inout SessionCall) throws {
        let log = c.server.slowLog
        switch c.option(1) {
        case "GET":
            guard c.count <= 3 else {
                throw CommandError(
                    "ERR unknown subcommand or wrong number of arguments for '\(c.string(1))'. Try SLOWLOG HELP."
                )
            }
            var count: Int? = 10
            if c.count == 3 {
                guard let n = RedisNumber.parseInt64(c.args[2].readableBytesView), n >= -1 else {
                    throw CommandError("ERR count should be greater than or equal to -1")
                }
                count = n == -1 ? nil : Int(clamping: n)
            }
            let entries = log.newest(count)
            c.arrayHeader(entries.count)
            for e in entries {
                c.arrayHeader(6)
                c.integer(reply: e.id)
                c.integer(reply: e.timestamp)
                c.integer(reply: e.microseconds)
                c.arrayHeader(e.arguments.count)
                for a in e.arguments { c.bulk(a) }
                c.bulk(e.clientAddress)
                c.bulk(e.clientName)
            }
        case "LEN":
            guard c.count == 2 else { throw ConnectionCommands.subcommandArity(c) }
            c.integer(reply: log.count)
        case "RESET":
            guard c.count == 2 else { throw ConnectionCommands.subcommandArity(c) }
            log.reset()
            c.ok()
        case "HELP":
            guard c.count == 2 else { throw ConnectionCommands.subcommandArity(c) }
            let lines = [
                "SLOWLOG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
                "GET [<count>]",
                "    Return top <count> entries from the slowlog (default: 10, -1 mean all).",
                "    Entries are made of:",
                "    id, timestamp, time in microseconds, arguments array, client IP and port,",
                "    client name",
                "LEN",
                "    Return the length of the slowlog.",
                "RESET",
                "    Reset the slowlog.",
                "HELP",
                "    Prints this help.",
            ]
            c.arrayHeader(lines.count)
            for line in lines { c.simple(line) }
        default:
            throw CommandError("ERR unknown subcommand '\(c.string(1))'. Try SLOWLOG HELP.")
        }
    }
}
