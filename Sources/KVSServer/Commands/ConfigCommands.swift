import NIOCore
import RESP

/// CONFIG GET, SET, RESETSTAT, REWRITE and HELP over the parameter table
/// (``ConfigParameter``), with Redis 7's replies and errors.
enum ConfigCommands {
    /// CONFIG: dispatches on the subcommand, checking its arity as Redis does.
    static func config(_ c: inout SessionCall) throws {
        let sub = c.option(1)
        switch sub {
        case "GET":
            guard c.count >= 3 else { throw ConnectionCommands.subcommandArity(c) }
            get(&c)
        case "SET":
            guard c.count >= 4 else { throw ConnectionCommands.subcommandArity(c) }
            guard c.count % 2 == 0 else { throw CommandError.syntax }
            try set(&c)
        case "RESETSTAT":
            guard c.count == 2 else { throw ConnectionCommands.subcommandArity(c) }
            c.server.resetStatistics()
            c.ok()
        case "REWRITE":
            guard c.count == 2 else { throw ConnectionCommands.subcommandArity(c) }
            throw CommandError("ERR The server is running without a config file")
        case "HELP":
            guard c.count == 2 else { throw ConnectionCommands.subcommandArity(c) }
            let lines = [
                "CONFIG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
                "GET <pattern>",
                "    Return parameters matching the glob-like <pattern> and their values.",
                "SET <directive> <value>",
                "    Set the configuration <directive> to <value>.",
                "RESETSTAT",
                "    Reset statistics reported by the INFO command.",
                "REWRITE",
                "    Rewrite the configuration file.",
                "HELP",
                "    Prints this help.",
            ]
            c.arrayHeader(lines.count)
            for line in lines { c.simple(line) }
        default:
            throw CommandError(
                formatting: "ERR unknown subcommand '\(argument: c.args[1], limit: 128)'. Try CONFIG HELP."
            )
        }
    }

    /// CONFIG GET pattern [pattern ...]: each parameter once, in the table's order within a
    /// pattern. A pattern without glob characters names one parameter (any case) and the
    /// reply carries the name as given, as Redis 7 does.
    static func get(_ c: inout SessionCall) {
        let all = ConfigParameter.all
        let config = c.server.configuration
        var found: [(name: String, index: Int)] = []
        for i in 2..<c.count {
            let pattern = c.string(i)
            if !pattern.contains(where: { $0 == "*" || $0 == "?" || $0 == "[" }) {
                if let index = ConfigParameter.index(of: pattern), !found.contains(where: { $0.index == index }) {
                    found.append((pattern, index))
                }
                continue
            }
            let bytes = Array(pattern.lowercased().utf8)
            for (index, parameter) in all.enumerated()
            where !found.contains(where: { $0.index == index }) && Glob.matches(bytes, Array(parameter.name.utf8)) {
                found.append((parameter.name, index))
            }
        }
        c.mapHeader(found.count)
        for (name, index) in found {
            c.bulk(name)
            c.bulk(all[index].value(config))
        }
    }

    /// CONFIG SET name value [name value ...], all or nothing (Redis 7's order): first every
    /// name is looked up in turn (unknown, immutable, protected or repeated: refused), then
    /// every value is checked and applied to a copy in turn, and the copy is put in effect
    /// only when all were accepted.
    static func set(_ c: inout SessionCall) throws {
        var changes: [(given: ByteBuffer, index: Int, value: String)] = []
        var i = 2
        while i < c.count {
            let given = c.args[i]
            guard let index = ConfigParameter.index(of: c.string(i)) else {
                throw CommandError(
                    formatting: "ERR Unknown option or number of arguments for CONFIG SET - '\(argument: given)'"
                )
            }
            switch ConfigParameter.all[index].change {
            case .immutable: throw failed(given, "can't set immutable config")
            case .protected: throw failed(given, "can't set protected config")
            case .runtime: break
            }
            if changes.contains(where: { $0.index == index }) { throw failed(given, "duplicate parameter") }
            changes.append((given, index, c.string(i + 1)))
            i += 2
        }
        try c.server.reconfigure { (config: inout ServerConfiguration) throws(CommandError) in
            for change in changes {
                guard case .runtime(let apply) = ConfigParameter.all[change.index].change else { continue }
                do throws(ConfigParameter.Refusal) {
                    try apply(&config, change.value)
                } catch {
                    // A refused value names the parameter as the table does (lower case),
                    // as Redis does; the lookup's refusals above name it as given.
                    let name = ConfigParameter.all[change.index].name
                    throw CommandError(
                        "ERR CONFIG SET failed (possibly related to argument '\(name)') - \(error.reason)"
                    )
                }
            }
        }
        // A lower `maxmemory` evicts now, as in Redis (an eviction that fails is left to
        // the next commands, which then get the OOM error).
        _ = c.server.maxMemory.performEvictions(c.server)
        c.ok()
    }

    /// Redis's refusal of a CONFIG SET argument, naming it as the client gave it.
    static func failed(_ name: ByteBuffer, _ reason: String) -> CommandError {
        CommandError(formatting: "ERR CONFIG SET failed (possibly related to argument '\(argument: name)') - \(reason)")
    }
}
