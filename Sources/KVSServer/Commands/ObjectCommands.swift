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
        .keyed(
            "object",
            arity: -2,
            flags: [],
            keys: (0, 0, 0),
            group: "generic",
            summary: "A container for object introspection commands.",
            subcommands: subcommands,
            object,
            object
        )
    ]

    /// The subcommands and their Redis arities.
    static let subcommands = ["help": 2, "encoding": 3, "freq": 3, "idletime": 3, "refcount": 3]

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
        if let error = CommandSpec.subcommandError(command: "object", subcommands: subcommands, c.args) { throw error }
        let sub = c.option(1)
        if sub == "HELP" {
            c.arrayHeader(help.count)
            for line in help { c.simple(line) }
            return
        }
        let key = c.key(2)
        if sub == "IDLETIME" || sub == "FREQ" {
            // Read without counting as an access (Redis's LOOKUP_NOTOUCH).
            let clock = c.server.maxMemory.clock
            guard let word = try c.access.accessWord(key) else {
                c.null()
                return
            }
            let frequency = c.server.maxMemory.policy.usesFrequency
            if sub == "IDLETIME" {
                guard !frequency else { throw Self.lfuSelected }
                c.integer(reply: clock.idleMilliseconds(word) / 1000)
            } else {
                guard frequency else { throw Self.lfuNotSelected }
                c.integer(reply: Int64(clock.decayedFrequency(word)))
            }
            return
        }
        guard let value = try c.access.read(key, { entry, _ in entry?.value }) else {
            c.null()
            return
        }
        switch sub {
        case "ENCODING": c.bulk(value.encodingName)
        default: c.integer(reply: value.referenceCount)  // REFCOUNT
        }
    }

    static let lfuNotSelected = CommandError(
        "ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust."
    )
    static let lfuSelected = CommandError(
        "ERR An LFU maxmemory policy is selected, idle time not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust."
    )
}
