import KVS
import NIOCore

/// OBJECT ENCODING, FREQ, IDLETIME, REFCOUNT and HELP: what Redis tells of a key's value
/// object, answered from the stored value (see `StoredValue+Introspection.swift`).
///
/// kvs keeps no access time or access frequency per key (it would cost a clock read and a
/// write on every GET), so IDLETIME answers 0 for every key, and FREQ answers Redis's
/// error for a server whose eviction policy is not LFU, which kvs never is.
enum ObjectCommands {
    static let all: [CommandSpec] = [
        .keyed("object", arity: -2, flags: [], keys: (2, 2, 1), group: "generic",
               summary: "A container for object introspection commands.", object, object),
    ]

    static let help = [
        "OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "ENCODING <key>",
        "    Return the kind of internal representation used in order to store the value",
        "    associated with a <key>.",
        "FREQ <key>",
        "    Return the access frequency index of the <key>. The returned integer is",
        "    proportional to the logarithm of the recent access frequency of the key.",
        "IDLETIME <key>",
        "    Return the idle time of the <key>, that is the approximated number of",
        "    seconds elapsed since the last access to the key.",
        "REFCOUNT <key>",
        "    Return the number of references of the value associated with the specified",
        "    <key>.",
        "HELP",
        "    Prints this help.",
    ]

    static func object<A: KeyAccess>(_ c: inout Call<A>) throws {
        let sub = c.option(1)
        switch sub {
        case "HELP":
            guard c.count == 2 else { throw subcommandArity(c) }
            c.arrayHeader(help.count)
            for line in help { c.simple(line) }
        case "ENCODING", "FREQ", "IDLETIME", "REFCOUNT":
            guard c.count == 3 else { throw subcommandArity(c) }
            let key = c.key(2)
            guard let value = try c.access.read(key, { entry, _ in entry?.value }) else {
                c.null()
                return
            }
            switch sub {
            case "ENCODING": c.bulk(value.encodingName)
            case "REFCOUNT": c.integer(reply: value.referenceCount)
            case "IDLETIME": c.integer(reply: 0)
            default:
                throw CommandError(
                    "ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust.")
            }
        default:
            throw CommandError("ERR unknown subcommand '\(String(buffer: c.args[1]))'. Try OBJECT HELP.")
        }
    }

    /// Redis's arity error for a subcommand: `'object|encoding'`.
    static func subcommandArity<A: KeyAccess>(_ c: Call<A>) -> CommandError {
        CommandError("ERR wrong number of arguments for '\(c.name)|\(String(buffer: c.args[1]).lowercased())' command")
    }
}
