import KVS
import NIOCore
import RESP

/// One command being executed: its arguments, the keys it may touch, and the reply
/// buffer it writes to.
package struct Call<Access: KeyAccess> {
    /// The arguments; `args[0]` is the command name as the client sent it.
    package var args: [ByteBuffer]
    /// The selected database's keys.
    package var access: Access
    /// Where the reply goes.
    package var out: ByteBuffer
    /// The connection's protocol version.
    package var encoder: RESPEncoder
    /// The server.
    package let server: ServerState
    /// Writes done (for the `save` policy and INFO).
    package var writes: Int = 0
    /// The codes of the error replies written since the handler last looked (INFO
    /// errorstats); empty, and so free, while commands succeed.
    package var errorCodes: [String] = []
    /// Keys this command may have given data that a blocked client waits for (see
    /// ``signalReady(_:)``); served when the command (or its EXEC) ends.
    package var readyKeys: [ReadyKey] = []
    /// Set by a blocking command that found nothing, outside a transaction: the
    /// connection then blocks instead of replying.
    package var blockRequest: BlockRequest?
    /// Whether a blocking command may block here: set for a connection's own commands,
    /// never inside EXEC (where a blocking command answers at once, as in Redis) or
    /// when a blocked client's command is tried again.
    package var mayBlock = false

    package init(args: [ByteBuffer], access: Access, out: ByteBuffer, encoder: RESPEncoder, server: ServerState) {
        self.args = args
        self.access = access
        self.out = out
        self.encoder = encoder
        self.server = server
    }

    var count: Int { args.count }

    /// The command's lowercase name.
    var name: String { String(buffer: args[0]).lowercased() }

    /// Argument `i` as bytes (copied).
    func bytes(_ i: Int) -> [UInt8] { Array(args[i].readableBytesView) }

    /// Argument `i` as a stored value's bytes (one copy, into a compact block).
    func value(_ i: Int) -> ValueBytes { args[i].withUnsafeReadableBytes { ValueBytes($0) } }

    /// Argument `i` as a key (a short key is built in place, with no allocation).
    func key(_ i: Int) -> ByteKey { args[i].withUnsafeReadableBytes { ByteKey($0) } }

    /// Argument `i` as an option name: uppercased in ASCII only, and cut at its first NUL
    /// byte, as Redis's `strcasecmp` reads it (so `NX\0x` is `NX` there too, and no
    /// Unicode case mapping turns another byte into an ASCII letter).
    func option(_ i: Int) -> String { Self.optionName(args[i]) }

    /// `bytes` as an option name (see ``option(_:)``).
    static func optionName(_ bytes: ByteBuffer) -> String {
        var text: [UInt8] = []
        text.reserveCapacity(bytes.readableBytes)
        for byte in bytes.readableBytesView {
            if byte == 0 { break }
            text.append(byte >= 0x61 && byte <= 0x7A ? byte - 0x20 : byte)
        }
        return String(decoding: text, as: UTF8.self)
    }

    /// Notes that this command may have given `key` data (a push, a ZADD, a destination
    /// written): when the command ends, clients blocked on it are served. Free while no
    /// client is blocked.
    mutating func signalReady(_ key: ByteKey) {
        signalReady(key, database: access.database.index)
    }

    /// ``signalReady(_:)`` for a key of database `database` (COPY … DB, MOVE).
    mutating func signalReady(_ key: ByteKey, database: Int) {
        guard server.blocking.hasWaiters else { return }
        readyKeys.append(ReadyKey(database: database, key: key))
    }

    /// Argument `i` as a 64-bit integer, as Redis parses one.
    func integer(_ i: Int) throws(CommandError) -> Int64 {
        guard let n = RedisNumber.parseInt64(args[i].readableBytesView) else { throw .notInteger }
        return n
    }

    // MARK: Replies

    mutating func ok() { encoder.writeOK(into: &out) }
    mutating func integer(reply n: Int64) { encoder.writeInteger(n, into: &out) }
    mutating func integer(reply n: Int) { encoder.writeInteger(Int64(n), into: &out) }
    mutating func bulk(_ bytes: [UInt8]) { encoder.writeBulkString(bytes, into: &out) }
    mutating func bulk(_ bytes: ValueBytes) { bytes.withUnsafeBytes { encoder.writeBulkString($0, into: &out) } }
    mutating func bulk(_ text: String) { encoder.writeBulkString(text, into: &out) }
    mutating func null() { encoder.writeNull(into: &out) }
    mutating func simple(_ text: String) { encoder.writeSimpleString(text, into: &out) }
    mutating func error(_ message: String) {
        encoder.writeError(message, into: &out)
        errorCodes.append(String(message.prefix { $0 != " " }))
    }
    mutating func error(_ error: CommandError) {
        encoder.writeError(bytes: error.text, into: &out)
        errorCodes.append(String(error.message.prefix { $0 != " " }))
    }
    mutating func arrayHeader(_ n: Int) { encoder.writeArrayHeader(count: n, into: &out) }
    mutating func value(_ v: RESPValue) { encoder.encode(v, into: &out) }
}

/// The description of one command: its name, arity, flags, key positions (as Redis's
/// `COMMAND INFO` gives them) and implementation.
///
/// A class, so that looking a command up hands out one reference instead of copying its
/// eight fields (four strings and two closures).
package final class CommandSpec: Sendable {
    /// What a command may do, and when it may run.
    package struct Flags: OptionSet, Sendable {
        package let rawValue: Int
        package init(rawValue: Int) { self.rawValue = rawValue }
        /// Changes data.
        static let write = Flags(rawValue: 1 << 0)
        /// Only reads data.
        static let readonly = Flags(rawValue: 1 << 1)
        /// O(1) or O(log n).
        static let fast = Flags(rawValue: 1 << 2)
        /// Allowed before AUTH.
        static let noAuth = Flags(rawValue: 1 << 3)
        /// Not queued by MULTI: runs at once (MULTI, EXEC, DISCARD, WATCH, QUIT, RESET).
        static let notQueued = Flags(rawValue: 1 << 4)
        /// Has a side effect beyond keys (SELECT, FLUSHDB…): inside EXEC it ends the
        /// atomic segment before it.
        static let barrier = Flags(rawValue: 1 << 5)
        /// Administrative.
        static let admin = Flags(rawValue: 1 << 6)
        /// Connection-level.
        static let connection = Flags(rawValue: 1 << 7)
        /// Not allowed inside MULTI: refused when queued, as Redis refuses its `no-multi`
        /// commands (SAVE, SHUTDOWN; WATCH with its own error).
        static let noMulti = Flags(rawValue: 1 << 8)
        /// A session command that neither changes nor reads the databases (PING, ECHO,
        /// TIME, COMMAND, LASTSAVE): inside EXEC it runs within the atomic segment (and
        /// may run more than once if the transaction retries). Whole-database readers
        /// (DBSIZE, KEYS, SCAN, INFO) are not pure: they would not see the segment's
        /// uncommitted writes, so they run between segments.
        static let pure = Flags(rawValue: 1 << 9)
        /// May block the client (BLPOP and its kin).
        static let blocking = Flags(rawValue: 1 << 10)
        /// Its keys are not all at the positions `firstKey`, `lastKey` and `keyStep` give
        /// (SORT's STORE destination): ``CommandSpec/keyPositions`` finds them.
        static let movableKeys = Flags(rawValue: 1 << 11)
        /// May add data: refused with the OOM error while memory is over `maxmemory` and
        /// nothing can be evicted (Redis's `denyoom`; set from ``CommandSpec/denyOOMNames``).
        static let denyOOM = Flags(rawValue: 1 << 12)

        var names: [String] {
            var out: [String] = []
            if contains(.write) { out.append("write") }
            if contains(.readonly) { out.append("readonly") }
            if contains(.denyOOM) { out.append("denyoom") }
            if contains(.admin) { out.append("admin") }
            if contains(.noAuth) { out.append("no_auth") }
            if contains(.noMulti) { out.append("no_multi") }
            if contains(.blocking) { out.append("blocking") }
            if contains(.fast) { out.append("fast") }
            if contains(.movableKeys) { out.append("movablekeys") }
            return out
        }
    }

    /// How a command runs.
    package enum Run: Sendable {
        /// Against one database's keys; the same code serves both accesses.
        case keyed(
            direct: @Sendable (inout Call<DirectAccess>) throws -> Void,
            transactional: @Sendable (inout Call<TransactionalAccess>) throws -> Void
        )
        /// Against the connection and the server.
        case session(@Sendable (inout SessionCall) throws -> Void)
    }

    package let name: String
    /// Redis's arity: `n` exactly n arguments (name included), `-n` at least n.
    package let arity: Int
    package let flags: Flags
    package let firstKey: Int
    package let lastKey: Int
    package let keyStep: Int
    /// The group, for COMMAND DOCS (`string`, `generic`, `connection`, `transactions`, `server`).
    package let group: String
    package let summary: String
    package let run: Run
    /// Whether running it changes what CLIENT LIST shows beyond the last command (a barrier,
    /// EXEC, MULTI, WATCH, RESET), so the connection's entry in the client registry is refreshed.
    let updatesClientInfo: Bool
    /// For a container command (CLIENT, CONFIG, OBJECT...): its subcommands by lowercase
    /// name, with Redis's arity of each (name and subcommand included). Empty for other
    /// commands.
    package let subcommands: [String: Int]
    /// Whether it is a container: the handler checks its subcommand and arity before anything
    /// else (Redis's `commandCheckExistence`), and INFO commandstats counts each subcommand
    /// apart (`cmdstat_client|list`).
    let hasSubcommands: Bool
    /// For a command with ``Flags/movableKeys``: the positions of the keys in a call's
    /// arguments (`args[0]` is the name), as Redis's `getkeys_proc` finds them (COMMAND
    /// GETKEYS). Nil for other commands.
    package let keyPositions: (@Sendable ([ByteBuffer]) -> [Int])?

    init(
        _ name: String,
        arity: Int,
        flags: Flags,
        keys: (Int, Int, Int) = (0, 0, 0),
        group: String,
        summary: String,
        subcommands: [String: Int] = [:],
        keyPositions: (@Sendable ([ByteBuffer]) -> [Int])? = nil,
        _ run: Run
    ) {
        self.keyPositions = keyPositions
        self.subcommands = subcommands
        self.name = name
        self.arity = arity
        self.flags = Self.denyOOMNames.contains(name) ? flags.union(.denyOOM) : flags
        (firstKey, lastKey, keyStep) = keys
        self.group = group
        self.summary = summary
        self.run = run
        self.hasSubcommands = !subcommands.isEmpty
        self.updatesClientInfo =
            flags.contains(.barrier) || name == "exec" || name == "multi" || name == "watch" || name == "reset"
    }

    /// The commands Redis 7 flags `denyoom` (COMMAND INFO), those kvs-server lacks included.
    static let denyOOMNames: Set<String> = [
        "append", "bitfield", "bitop", "blmove", "brpoplpush", "copy", "decr", "decrby", "geoadd", "georadius",
        "georadiusbymember", "geosearchstore", "getset", "hincrby", "hincrbyfloat", "hmset", "hset", "hsetnx",
        "incr", "incrby", "incrbyfloat", "linsert", "lmove", "lpush", "lpushx", "lset", "mset", "msetnx", "pfadd",
        "pfdebug", "pfmerge", "psetex", "restore", "restore-asking", "rpoplpush", "rpush", "rpushx", "sadd",
        "sdiffstore", "set", "setbit", "setex", "setnx", "setrange", "sinterstore", "sort", "sunionstore", "xadd",
        "xsetid", "zadd", "zdiffstore", "zincrby", "zinterstore", "zrangestore", "zunionstore",
    ]

    /// Whether `count` arguments (name included) fit the arity.
    func accepts(_ count: Int) -> Bool {
        arity >= 0 ? count == arity : count >= -arity
    }

    /// Redis's refusal of `args` for a container: `args[1]` names none of its subcommands,
    /// or the subcommand has the wrong number of arguments. Nil when it fits, and for a
    /// command that is not a container or has no subcommand argument (its own arity decides).
    func subcommandError(_ args: [ByteBuffer]) -> CommandError? {
        Self.subcommandError(command: name, subcommands: subcommands, args)
    }

    /// ``subcommandError(_:)`` for the container `command` with `subcommands`: a container's
    /// body checks again with it, so that no path reaches its arguments unchecked.
    static func subcommandError(command name: String, subcommands: [String: Int], _ args: [ByteBuffer]) -> CommandError?
    {
        guard !subcommands.isEmpty, args.count >= 2 else { return nil }
        let sub = lowercasedName(args[1])
        guard let arity = subcommands[sub] else {
            return CommandError(
                formatting: "ERR unknown subcommand '\(argument: args[1], limit: 128)'. Try \(name.uppercased()) HELP.",
                trimmingNewlines: false
            )
        }
        let fits = arity >= 0 ? args.count == arity : args.count >= -arity
        return fits ? nil : CommandError("ERR wrong number of arguments for '\(name)|\(sub)' command")
    }

    /// `bytes` lowercased in ASCII only, as Redis's case-insensitive command tables compare
    /// names (no Unicode mapping turns another byte into an ASCII letter).
    static func lowercasedName(_ bytes: ByteBuffer) -> String {
        String(decoding: bytes.readableBytesView.map { $0 >= 0x41 && $0 <= 0x5A ? $0 | 0x20 : $0 }, as: UTF8.self)
    }

    /// Builds a keyed spec from one generic implementation.
    static func keyed(
        _ name: String,
        arity: Int,
        flags: Flags,
        keys: (Int, Int, Int),
        group: String,
        summary: String,
        subcommands: [String: Int] = [:],
        keyPositions: (@Sendable ([ByteBuffer]) -> [Int])? = nil,
        _ direct: @escaping @Sendable (inout Call<DirectAccess>) throws -> Void,
        _ transactional: @escaping @Sendable (inout Call<TransactionalAccess>) throws -> Void
    ) -> CommandSpec {
        CommandSpec(
            name,
            arity: arity,
            flags: flags,
            keys: keys,
            group: group,
            summary: summary,
            subcommands: subcommands,
            keyPositions: keyPositions,
            .keyed(direct: direct, transactional: transactional)
        )
    }

    /// Builds a session spec.
    static func session(
        _ name: String,
        arity: Int,
        flags: Flags,
        keys: (Int, Int, Int) = (0, 0, 0),
        group: String,
        summary: String,
        subcommands: [String: Int] = [:],
        _ run: @escaping @Sendable (inout SessionCall) throws -> Void
    ) -> CommandSpec {
        CommandSpec(
            name,
            arity: arity,
            flags: flags,
            keys: keys,
            group: group,
            summary: summary,
            subcommands: subcommands,
            .session(run)
        )
    }
}

/// A command name of at most 16 bytes, lowercased and packed into two integers: looking
/// a command up hashes two words instead of feeding each byte to the hasher.
struct CommandName: Hashable {
    let low: UInt64
    let high: UInt64

    /// The packed lowercase form of `bytes`, or nil when longer than 16 bytes.
    init?<C: Collection>(_ bytes: C) where C.Element == UInt8 {
        guard bytes.count <= 16 else { return nil }
        var low: UInt64 = 0
        var high: UInt64 = 0
        for (i, byte) in bytes.enumerated() {
            let b = UInt64(byte >= 0x41 && byte <= 0x5A ? byte | 0x20 : byte)
            if i < 8 { low |= b << (8 * UInt64(i)) } else { high |= b << (8 * UInt64(i - 8)) }
        }
        self.low = low
        self.high = high
    }

    init(low: UInt64, high: UInt64) {
        self.low = low
        self.high = high
    }

    /// The first slot to probe in a table of `1 << (64 - shift)` slots.
    func slot(shift: UInt64) -> Int {
        Int(truncatingIfNeeded: ((low &* 0x9E37_79B9_7F4A_7C15) ^ (high &* 0xC2B2_AE3D_27D4_EB4F)) >> shift)
    }
}

/// Every command the server knows, by lowercase name.
package struct CommandTable: Sendable {
    /// One slot of the open-addressing table: a packed name, its length and its spec.
    private struct Slot: Sendable {
        var name = CommandName(low: 0, high: 0)
        var length = 0
        var spec: CommandSpec?
    }

    /// The specs by packed name, in a fixed table probed linearly from a multiplicative
    /// hash of the two words. The names are ours, not a peer's: the table is filled once,
    /// at most a quarter full, and no input makes a probe longer than its longest run of
    /// occupied slots. It is a small fraction of the cost of `Hasher` (a `Dictionary`) and a
    /// copy of the spec (docs/design/server-request-path.md).
    private let slots: [Slot]
    private let shift: UInt64
    /// The statistics slots of the subcommands, numbered after the table's slots.
    private let subcommandSlots: [String: Int]
    /// The `container|subcommand` names of those slots, in slot order.
    private let subcommandNames: [String]

    /// The specs, sorted by name.
    package let sorted: [CommandSpec]

    /// The server's commands, and `extra` ones (tests add commands through it).
    package init(extra: [CommandSpec] = []) {
        let all =
            ConnectionCommands.all + StringCommands.all + HashCommands.all + ListCommands.all + SetCommands.all
            + ZSetCommands.all + BlockingCommands.all + KeyCommands.all
            + TransactionCommands.all
            + ServerCommands.all + KeyspaceCommands.all + LCSCommand.all + ObjectCommands.all + MemoryCommands.all
            + InfoCommand.all + ClientCommands.all + SlowLogCommand.all + LatencyCommand.all + MonitorCommand.all
            + BitmapCommands.all + BitfieldCommand.all + HyperLogLogCommands.all + SortCommand.all
            + DumpCommands.all + extra
        var bits: UInt64 = 4
        while (1 << bits) < 4 * all.count { bits += 1 }
        var slots = [Slot](repeating: Slot(), count: 1 << bits)
        for spec in all {
            guard let name = CommandName(spec.name.utf8) else { continue }
            let length = spec.name.utf8.count
            slots[Self.probe(slots, name, length: length, shift: 64 - bits)] = Slot(
                name: name,
                length: length,
                spec: spec
            )
        }
        self.slots = slots
        self.shift = 64 - bits
        var names: [String] = []
        for spec in all.sorted(by: { $0.name < $1.name }) where spec.hasSubcommands {
            for sub in spec.subcommands.keys.sorted() { names.append("\(spec.name)|\(sub)") }
        }
        self.subcommandNames = names
        self.subcommandSlots = Dictionary(uniqueKeysWithValues: names.enumerated().map { ($1, (1 << bits) + $0) })
        self.sorted = all.sorted { $0.name < $1.name }
    }

    /// How many commands there are.
    package var count: Int { sorted.count }

    /// How many statistics slots there are: one per table slot (every command has its own
    /// table slot, which numbers it), then one per counted subcommand.
    package var slotCount: Int { slots.count + subcommandNames.count }

    /// The statistics slot of the container `spec` (in table slot `slot`) run with
    /// subcommand `sub`, one of its subcommands (``CommandSpec/subcommandError(_:)`` found
    /// no error).
    ///
    /// - Complexity: O(length of `sub`): called only for containers, never for GET or SET.
    package func statisticsSlot(of spec: CommandSpec, slot: Int, subcommand sub: ByteBuffer) -> Int {
        subcommandSlots["\(spec.name)|\(CommandSpec.lowercasedName(sub))"] ?? slot
    }

    /// The name INFO commandstats gives statistics slot `slot` (`get`, `client|list`).
    package func statisticsName(ofSlot slot: Int) -> String? {
        if slot >= 0, slot < slots.count { return slots[slot].spec?.name }
        let i = slot - slots.count
        return i >= 0 && i < subcommandNames.count ? subcommandNames[i] : nil
    }

    /// The spec of the command named by `name` (any case) and its slot number.
    ///
    /// - Complexity: O(length of `name`), no allocation.
    package func lookupWithSlot(_ name: ByteBuffer) -> (spec: CommandSpec, slot: Int)? {
        guard let packed = name.withUnsafeReadableBytes({ CommandName($0) }) else { return nil }
        let i = Self.probe(slots, packed, length: name.readableBytes, shift: shift)
        guard let spec = slots[i].spec else { return nil }
        return (spec, i)
    }

    /// The spec of the command named by `name` (any case).
    ///
    /// - Complexity: O(length of `name`), no allocation.
    package func lookup(_ name: ByteBuffer) -> CommandSpec? {
        guard let packed = name.withUnsafeReadableBytes({ CommandName($0) }) else { return nil }
        return slots[Self.probe(slots, packed, length: name.readableBytes, shift: shift)].spec
    }

    /// The slot that holds `name` of `length` bytes, or the empty slot where it belongs.
    private static func probe(_ slots: [Slot], _ name: CommandName, length: Int, shift: UInt64) -> Int {
        let mask = slots.count - 1
        var i = name.slot(shift: shift)
        // A name with a NUL byte packs like a shorter one: the length tells them apart.
        while slots[i].spec != nil, slots[i].name != name || slots[i].length != length {
            i = (i + 1) & mask
        }
        return i
    }
}

/// Number parsing and formatting as Redis does them.
enum RedisNumber {
    /// A strict decimal Int64 (`string2ll`): optional `-`, digits, no leading `+`, no
    /// leading zeros, no spaces, at most 20 characters.
    static func parseInt64<C: Collection>(_ bytes: C) -> Int64? where C.Element == UInt8 {
        let count = bytes.count
        guard count > 0, count <= 20 else { return nil }
        var it = bytes.makeIterator()
        guard var first = it.next() else { return nil }
        if count == 1, first == UInt8(ascii: "0") { return 0 }
        var negative = false
        if first == UInt8(ascii: "-") {
            negative = true
            guard let next = it.next() else { return nil }
            first = next
        }
        guard first >= UInt8(ascii: "1"), first <= UInt8(ascii: "9") else { return nil }
        var value: UInt64 = UInt64(first - UInt8(ascii: "0"))
        while let b = it.next() {
            guard b >= UInt8(ascii: "0"), b <= UInt8(ascii: "9") else { return nil }
            let (m, o1) = value.multipliedReportingOverflow(by: 10)
            let (a, o2) = m.addingReportingOverflow(UInt64(b - UInt8(ascii: "0")))
            if o1 || o2 { return nil }
            value = a
        }
        if negative {
            if value > UInt64(Int64.max) + 1 { return nil }
            return value == UInt64(Int64.max) + 1 ? Int64.min : -Int64(value)
        }
        return value > UInt64(Int64.max) ? nil : Int64(value)
    }
}
