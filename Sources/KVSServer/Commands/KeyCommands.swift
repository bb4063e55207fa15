import KVS
import NIOCore

/// Generic key commands: DEL, EXISTS, TYPE, RENAME, the EXPIRE family, TTLs, and the
/// whole-database readers KEYS, SCAN, RANDOMKEY.
enum KeyCommands {
    static let all: [CommandSpec] = [
        .keyed(
            "del",
            arity: -2,
            flags: [.write],
            keys: (1, -1, 1),
            group: "generic",
            summary: "Deletes one or more keys.",
            del,
            del
        ),
        .keyed(
            "unlink",
            arity: -2,
            flags: [.write, .fast],
            keys: (1, -1, 1),
            group: "generic",
            summary: "Asynchronously deletes one or more keys.",
            unlink,
            unlink
        ),
        .keyed(
            "exists",
            arity: -2,
            flags: [.readonly, .fast],
            keys: (1, -1, 1),
            group: "generic",
            summary: "Determines whether one or more keys exist.",
            exists,
            exists
        ),
        .keyed(
            "touch",
            arity: -2,
            flags: [.readonly, .fast],
            keys: (1, -1, 1),
            group: "generic",
            summary:
                "Returns the number of existing keys out of those specified after updating the time they were last accessed.",
            exists,
            exists
        ),
        .keyed(
            "type",
            arity: 2,
            flags: [.readonly, .fast],
            keys: (1, 1, 1),
            group: "generic",
            summary: "Determines the type of value stored at a key.",
            type,
            type
        ),
        .keyed(
            "rename",
            arity: 3,
            flags: [.write],
            keys: (1, 2, 1),
            group: "generic",
            summary: "Renames a key and overwrites the destination.",
            rename,
            rename
        ),
        .keyed(
            "renamenx",
            arity: 3,
            flags: [.write, .fast],
            keys: (1, 2, 1),
            group: "generic",
            summary: "Renames a key only when the target key name doesn't exist.",
            rename,
            rename
        ),
        .keyed(
            "expire",
            arity: -3,
            flags: [.write, .fast],
            keys: (1, 1, 1),
            group: "generic",
            summary: "Sets the expiration time of a key in seconds.",
            expire,
            expire
        ),
        .keyed(
            "pexpire",
            arity: -3,
            flags: [.write, .fast],
            keys: (1, 1, 1),
            group: "generic",
            summary: "Sets the expiration time of a key in milliseconds.",
            expire,
            expire
        ),
        .keyed(
            "expireat",
            arity: -3,
            flags: [.write, .fast],
            keys: (1, 1, 1),
            group: "generic",
            summary: "Sets the expiration time of a key to a Unix timestamp.",
            expire,
            expire
        ),
        .keyed(
            "pexpireat",
            arity: -3,
            flags: [.write, .fast],
            keys: (1, 1, 1),
            group: "generic",
            summary: "Sets the expiration time of a key to a Unix milliseconds timestamp.",
            expire,
            expire
        ),
        .keyed(
            "ttl",
            arity: 2,
            flags: [.readonly, .fast],
            keys: (1, 1, 1),
            group: "generic",
            summary: "Returns the expiration time in seconds of a key.",
            ttl,
            ttl
        ),
        .keyed(
            "pttl",
            arity: 2,
            flags: [.readonly, .fast],
            keys: (1, 1, 1),
            group: "generic",
            summary: "Returns the expiration time in milliseconds of a key.",
            ttl,
            ttl
        ),
        .keyed(
            "expiretime",
            arity: 2,
            flags: [.readonly, .fast],
            keys: (1, 1, 1),
            group: "generic",
            summary: "Returns the expiration time of a key as a Unix timestamp.",
            ttl,
            ttl
        ),
        .keyed(
            "pexpiretime",
            arity: 2,
            flags: [.readonly, .fast],
            keys: (1, 1, 1),
            group: "generic",
            summary: "Returns the expiration time of a key as a Unix milliseconds timestamp.",
            ttl,
            ttl
        ),
        .keyed(
            "persist",
            arity: 2,
            flags: [.write, .fast],
            keys: (1, 1, 1),
            group: "generic",
            summary: "Removes the expiration time of a key.",
            persist,
            persist
        ),
        .session(
            "keys",
            arity: 2,
            flags: [.readonly],
            group: "generic",
            summary: "Returns all key names that match a pattern.",
            keys
        ),
        .session(
            "scan",
            arity: -2,
            flags: [.readonly],
            group: "generic",
            summary: "Iterates over the key names in the database.",
            scan
        ),
        .session(
            "randomkey",
            arity: 1,
            flags: [.readonly],
            group: "generic",
            summary: "Returns a random key name from the database.",
            randomkey
        ),
    ]

    static func del<A: KeyAccess>(_ c: inout Call<A>) throws {
        let keys = (1..<c.count).map { c.key($0) }
        func deleteAll(_ access: inout some KeyAccess) throws -> Int {
            var n = 0
            for key in keys {
                n += try access.update(key) { entry, _ in
                    defer { entry = nil }
                    return entry == nil ? 0 : 1
                }
            }
            return n
        }
        let n = keys.count == 1 ? try deleteAll(&c.access) : try c.access.atomically { try deleteAll(&$0) }
        c.writes += n
        c.integer(reply: n)
    }

    /// UNLINK: DEL, with the large values freed off the event loop (``LazyFree``).
    static func unlink<A: KeyAccess>(_ c: inout Call<A>) throws {
        let keys = (1..<c.count).map { c.key($0) }
        // Filled only by the attempt that commits: a transaction may run its body again.
        var large: [StoredValue] = []
        func deleteAll(_ access: inout some KeyAccess) throws -> Int {
            large.removeAll()
            var n = 0
            for key in keys {
                n += try access.update(key) { entry, _ in
                    guard let value = entry?.value else { return 0 }
                    entry = nil
                    if value.freeEffort > LazyFree.threshold { large.append(value) }
                    return 1
                }
            }
            return n
        }
        let n = keys.count == 1 ? try deleteAll(&c.access) : try c.access.atomically { try deleteAll(&$0) }
        c.server.lazyFree.release(large)
        c.writes += n
        c.integer(reply: n)
    }

    static func exists<A: KeyAccess>(_ c: inout Call<A>) throws {
        let keys = (1..<c.count).map { c.key($0) }
        func countAll(_ access: inout some KeyAccess) throws -> Int {
            var n = 0
            for key in keys { n += try access.read(key) { entry, _ in entry == nil ? 0 : 1 } }
            return n
        }
        let n = keys.count == 1 ? try countAll(&c.access) : try c.access.atomically { try countAll(&$0) }
        c.integer(reply: n)
    }

    static func type<A: KeyAccess>(_ c: inout Call<A>) throws {
        let key = c.key(1)
        let kind: ValueKind? = try c.access.read(key) { entry, _ in entry?.value.kind }
        c.simple(kind?.name ?? "none")
    }

    static func rename<A: KeyAccess>(_ c: inout Call<A>) throws {
        let onlyIfAbsent = c.name == "renamenx"
        let source = c.key(1)
        let target = c.key(2)
        let done: Bool = try c.access.atomically { access in
            guard let entry = try access.read(source, { entry, _ in entry }) else { throw CommandError.noSuchKey }
            if source == target { return !onlyIfAbsent }
            if onlyIfAbsent, try access.read(target, { entry, _ in entry != nil }) { return false }
            let moved = access.restamped(entry, expiresAt: entry.expiresAt)
            try access.update(source) { e, _ in e = nil }
            try access.update(target) { e, _ in e = moved }
            return true
        }
        if done {
            c.writes += 1
            c.signalReady(target)
        }
        if onlyIfAbsent { c.integer(reply: done ? 1 : 0) } else { c.ok() }
    }

    static func expire<A: KeyAccess>(_ c: inout Call<A>) throws {
        let name = c.name
        var nx = false
        var xx = false
        var gt = false
        var lt = false
        for i in 3..<max(3, c.count) {
            switch c.option(i) {
            case "NX": nx = true
            case "XX": xx = true
            case "GT": gt = true
            case "LT": lt = true
            default: throw CommandError(formatting: "ERR Unsupported option \(argument: c.args[i])")
            }
        }
        if nx && (xx || gt || lt) {
            throw CommandError("ERR NX and XX, GT or LT options at the same time are not compatible")
        }
        if gt && lt { throw CommandError("ERR GT and LT options at the same time are not compatible") }
        // Redis reads the options before the number.
        let amount = try c.integer(2)
        let seconds = name == "expire" || name == "expireat"
        let relative = name == "expire" || name == "pexpire"
        let key = c.key(1)
        let access = c.access
        let done: Bool = try c.access.update(key) { entry, now in
            var ms = amount
            if seconds {
                let (m, o) = ms.multipliedReportingOverflow(by: 1000)
                guard !o else { throw CommandError.invalidExpire(name) }
                ms = m
            }
            if relative {
                let (a, o) = ms.addingReportingOverflow(now / 1_000_000)
                guard !o else { throw CommandError.invalidExpire(name) }
                ms = a
            }
            guard let e = entry else { return false }
            let currentMs: Int64? = e.hasExpiry ? e.expiresAt / 1_000_000 : nil
            if nx, currentMs != nil { return false }
            if xx, currentMs == nil { return false }
            if gt { guard let cur = currentMs, ms > cur else { return false } }
            if lt, let cur = currentMs, ms >= cur { return false }
            let (ns, o) = ms.multipliedReportingOverflow(by: 1_000_000)
            let at = o ? (ms < 0 ? Int64.min : Int64.max) : ns
            entry = at <= now ? nil : access.restamped(e, expiresAt: at)
            return true
        }
        if done { c.writes += 1 }
        c.integer(reply: done ? 1 : 0)
    }

    static func ttl<A: KeyAccess>(_ c: inout Call<A>) throws {
        let name = c.name
        let key = c.key(1)
        let reply: Int64 = try c.access.read(key) { entry, now in
            guard let e = entry else { return -2 }
            guard e.hasExpiry else { return -1 }
            let expireMs = e.expiresAt / 1_000_000
            switch name {
            case "expiretime": return expireMs / 1000
            case "pexpiretime": return expireMs
            default:
                let remaining = max(0, expireMs - now / 1_000_000)
                return name == "ttl" ? (remaining + 500) / 1000 : remaining
            }
        }
        c.integer(reply: reply)
    }

    static func persist<A: KeyAccess>(_ c: inout Call<A>) throws {
        let key = c.key(1)
        let access = c.access
        let done: Bool = try c.access.update(key) { entry, _ in
            guard let e = entry, e.hasExpiry else { return false }
            entry = access.restamped(e, expiresAt: 0)
            return true
        }
        if done { c.writes += 1 }
        c.integer(reply: done ? 1 : 0)
    }

    // MARK: - Whole-database readers

    static func keys(_ c: inout SessionCall) throws {
        let pattern = c.bytes(1)
        let all = try c.database.engine.keys()
        let matching = pattern == [UInt8(ascii: "*")] ? all : all.filter { Glob.matches(pattern, $0.bytes) }
        c.arrayHeader(matching.count)
        for key in matching { c.bulk(key.bytes) }
    }

    /// SCAN's cursor names a shard: each call returns whole shards (each read at one
    /// instant) until COUNT keys are gathered, so every key present for the whole scan
    /// is returned exactly once, and the scan ends after `shardCount` shards.
    static func scan(_ c: inout SessionCall) throws {
        guard let cursor = parseCursor(c.args[1].readableBytesView) else { throw CommandError("ERR invalid cursor") }
        var pattern: [UInt8]? = nil
        var count = 10
        var typeFilter: String? = nil
        var i = 2
        while i < c.count {
            let opt = c.option(i)
            guard i + 1 < c.count else { throw CommandError.syntax }
            switch opt {
            case "MATCH":
                // `*` alone is no pattern (Redis's `use_pattern`), so it still returns the empty key.
                let bytes = c.bytes(i + 1)
                pattern = bytes == [UInt8(ascii: "*")] ? nil : bytes
            case "COUNT":
                let n = try c.integer(i + 1)
                guard n >= 1 else { throw CommandError.syntax }
                count = Int(clamping: n)
            case "TYPE": typeFilter = c.string(i + 1).lowercased()
            default: throw CommandError.syntax
            }
            i += 2
        }
        let engine = c.database.engine
        var shard = cursor >= UInt64(engine.shardCount) ? engine.shardCount : Int(cursor)
        var found: [ByteKey] = []
        while shard < engine.shardCount, found.count < count {
            found += engine.keys(inShard: shard)
            shard += 1
        }
        if let pattern { found = found.filter { Glob.matches(pattern, $0.bytes) } }
        if let typeFilter {
            // Each key's type read as the filter runs; a key deleted meanwhile drops out.
            let kind = ValueKind(rawValue: typeFilter)
            found =
                kind == nil
                ? [] : try found.filter { key in try engine.readEntry(key) { entry, _ in entry?.value.kind == kind } }
        }
        c.arrayHeader(2)
        c.bulk(shard >= engine.shardCount ? "0" : String(shard))
        c.arrayHeader(found.count)
        for key in found { c.bulk(key.bytes) }
    }

    /// A SCAN cursor as Redis reads one (`strtoul`): an optional sign, then decimal digits
    /// that fit 64 bits; a `-` wraps (`-1` is 2^64 - 1), blanks are refused, and the empty
    /// string is 0.
    static func parseCursor<C: Collection>(_ bytes: C) -> UInt64? where C.Element == UInt8 {
        if bytes.isEmpty { return 0 }
        var digits = bytes[...]
        var negative = false
        if let sign = digits.first, sign == UInt8(ascii: "+") || sign == UInt8(ascii: "-") {
            negative = sign == UInt8(ascii: "-")
            digits = digits.dropFirst()
        }
        guard !digits.isEmpty else { return nil }
        var value: UInt64 = 0
        for byte in digits {
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
            let (m, o1) = value.multipliedReportingOverflow(by: 10)
            let (a, o2) = m.addingReportingOverflow(UInt64(byte - UInt8(ascii: "0")))
            if o1 || o2 { return nil }
            value = a
        }
        return negative ? 0 &- value : value
    }

    static func randomkey(_ c: inout SessionCall) throws {
        if let key = c.database.engine.randomKey() { c.bulk(key.bytes) } else { c.null() }
    }
}
