import KVS
import NIOCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// String commands: GET, SET and its variants, MGET/MSET, APPEND, ranges, counters.
enum StringCommands {
    static let all: [CommandSpec] = [
        .keyed(
            "get",
            arity: 2,
            flags: [.readonly, .fast],
            keys: (1, 1, 1),
            group: "string",
            summary: "Returns the string value of a key.",
            get,
            get
        ),
        .keyed(
            "set",
            arity: -3,
            flags: [.write],
            keys: (1, 1, 1),
            group: "string",
            summary: "Sets the string value of a key, ignoring its type. The key is created if it doesn't exist.",
            set,
            set
        ),
        .keyed(
            "setnx",
            arity: 3,
            flags: [.write, .fast],
            keys: (1, 1, 1),
            group: "string",
            summary: "Set the string value of a key only when the key doesn't exist.",
            setnx,
            setnx
        ),
        .keyed(
            "setex",
            arity: 4,
            flags: [.write],
            keys: (1, 1, 1),
            group: "string",
            summary: "Sets the string value and expiration time of a key. Creates the key if it doesn't exist.",
            setex,
            setex
        ),
        .keyed(
            "psetex",
            arity: 4,
            flags: [.write],
            keys: (1, 1, 1),
            group: "string",
            summary:
                "Sets both string value and expiration time in milliseconds of a key. The key is created if it doesn't exist.",
            setex,
            setex
        ),
        .keyed(
            "getset",
            arity: 3,
            flags: [.write, .fast],
            keys: (1, 1, 1),
            group: "string",
            summary: "Returns the previous string value of a key after setting it to a new value.",
            getset,
            getset
        ),
        .keyed(
            "getdel",
            arity: 2,
            flags: [.write, .fast],
            keys: (1, 1, 1),
            group: "string",
            summary: "Returns the string value of a key after deleting the key.",
            getdel,
            getdel
        ),
        .keyed(
            "getex",
            arity: -2,
            flags: [.write, .fast],
            keys: (1, 1, 1),
            group: "string",
            summary: "Returns the string value of a key after setting its expiration time.",
            getex,
            getex
        ),
        .keyed(
            "mget",
            arity: -2,
            flags: [.readonly, .fast],
            keys: (1, -1, 1),
            group: "string",
            summary: "Atomically returns the string values of one or more keys.",
            mget,
            mget
        ),
        .keyed(
            "mset",
            arity: -3,
            flags: [.write],
            keys: (1, -1, 2),
            group: "string",
            summary: "Atomically creates or modifies the string values of one or more keys.",
            mset,
            mset
        ),
        .keyed(
            "msetnx",
            arity: -3,
            flags: [.write],
            keys: (1, -1, 2),
            group: "string",
            summary: "Atomically modifies the string values of one or more keys only when all keys don't exist.",
            msetnx,
            msetnx
        ),
        .keyed(
            "append",
            arity: 3,
            flags: [.write, .fast],
            keys: (1, 1, 1),
            group: "string",
            summary: "Appends a string to the value of a key. Creates the key if it doesn't exist.",
            append,
            append
        ),
        .keyed(
            "strlen",
            arity: 2,
            flags: [.readonly, .fast],
            keys: (1, 1, 1),
            group: "string",
            summary: "Returns the length of a string value.",
            strlen,
            strlen
        ),
        .keyed(
            "getrange",
            arity: 4,
            flags: [.readonly],
            keys: (1, 1, 1),
            group: "string",
            summary: "Returns a substring of the string stored at a key.",
            getrange,
            getrange
        ),
        .keyed(
            "substr",
            arity: 4,
            flags: [.readonly],
            keys: (1, 1, 1),
            group: "string",
            summary: "Returns a substring from a string value.",
            getrange,
            getrange
        ),
        .keyed(
            "setrange",
            arity: 4,
            flags: [.write],
            keys: (1, 1, 1),
            group: "string",
            summary:
                "Overwrites a part of a string value with another by an offset. Creates the key if it doesn't exist.",
            setrange,
            setrange
        ),
        .keyed(
            "incr",
            arity: 2,
            flags: [.write, .fast],
            keys: (1, 1, 1),
            group: "string",
            summary: "Increments the integer value of a key by one. Uses 0 as initial value if the key doesn't exist.",
            incr,
            incr
        ),
        .keyed(
            "decr",
            arity: 2,
            flags: [.write, .fast],
            keys: (1, 1, 1),
            group: "string",
            summary: "Decrements the integer value of a key by one. Uses 0 as initial value if the key doesn't exist.",
            incr,
            incr
        ),
        .keyed(
            "incrby",
            arity: 3,
            flags: [.write, .fast],
            keys: (1, 1, 1),
            group: "string",
            summary:
                "Increments the integer value of a key by a number. Uses 0 as initial value if the key doesn't exist.",
            incr,
            incr
        ),
        .keyed(
            "decrby",
            arity: 3,
            flags: [.write, .fast],
            keys: (1, 1, 1),
            group: "string",
            summary:
                "Decrements a number from the integer value of a key. Uses 0 as initial value if the key doesn't exist.",
            incr,
            incr
        ),
        .keyed(
            "incrbyfloat",
            arity: 3,
            flags: [.write, .fast],
            keys: (1, 1, 1),
            group: "string",
            summary:
                "Increment the floating point value of a key by a number. Uses 0 as initial value if the key doesn't exist.",
            incrbyfloat,
            incrbyfloat
        ),
    ]

    /// Whether a string of `length` bytes grown by `added` stays within `proto-max-bulk-len`,
    /// as Redis's `checkStringLength` decides (an overflowing sum is too long, not a trap).
    static func fits(_ length: Int64, adding added: Int, limit: Int) -> Bool {
        let (total, overflow) = length.addingReportingOverflow(Int64(added))
        return !overflow && total <= Int64(limit)
    }

    static let stringTooLong = CommandError("ERR string exceeds maximum allowed size (proto-max-bulk-len)")

    static func get<A: KeyAccess>(_ c: inout Call<A>) throws {
        let key = c.key(1)
        let value: ValueBytes? = try c.access.read(key) { entry, _ in try entry?.value.string() }
        if let value { c.bulk(value) } else { c.null() }
    }

    /// Milliseconds since the epoch for `now` (ns).
    static func millis(_ nanos: Int64) -> Int64 { nanos / 1_000_000 }

    /// Converts an EX/PX/EXAT/PXAT argument into an absolute deadline in ns.
    static func deadline(unit: String, amount: Int64, now: Int64, command: String) throws(CommandError) -> Int64 {
        let relative = unit == "EX" || unit == "PX"
        let seconds = unit == "EX" || unit == "EXAT"
        guard amount > 0 else { throw .invalidExpire(command) }
        var ms = amount
        if seconds {
            let (m, o) = amount.multipliedReportingOverflow(by: 1000)
            guard !o else { throw .invalidExpire(command) }
            ms = m
        }
        if relative {
            let (a, o) = ms.addingReportingOverflow(millis(now))
            guard !o else { throw .invalidExpire(command) }
            ms = a
        }
        let (ns, o) = ms.multipliedReportingOverflow(by: 1_000_000)
        return o ? Int64.max : ns
    }

    /// The options of SET and GETEX, read as Redis's `parseExtendedStringArgumentsOrReply`
    /// reads them: a flag may repeat (`NX NX`, `EX 1 EX 2`: the last number counts), a
    /// conflicting one (`NX XX`, `EX 1 PX 2`, `KEEPTTL EX 1`) is a syntax error, and the
    /// expiry's number is read only once every option is known.
    struct ExtendedOptions {
        var nx = false, xx = false, get = false, keepTTL = false, persist = false
        /// EX, PX, EXAT or PXAT.
        var unit: String? = nil
        /// The position of the expiry's number.
        var amountIndex = 0

        init(_ args: [ByteBuffer], from first: Int, isSet: Bool) throws(CommandError) {
            var i = first
            while i < args.count {
                let opt = Call<DirectAccess>.optionName(args[i])
                let hasNext = i + 1 < args.count
                switch opt {
                case "NX" where isSet && !xx: nx = true
                case "XX" where isSet && !nx: xx = true
                case "GET" where isSet: get = true
                case "KEEPTTL" where isSet && !persist && unit == nil: keepTTL = true
                case "PERSIST" where !isSet && unit == nil && !keepTTL: persist = true
                case "EX", "PX", "EXAT", "PXAT":
                    guard !keepTTL, !persist, unit == nil || unit == opt, hasNext else { throw .syntax }
                    unit = opt
                    amountIndex = i + 1
                    i += 1
                default:
                    throw .syntax
                }
                i += 1
            }
        }
    }

    static func set<A: KeyAccess>(_ c: inout Call<A>) throws {
        let options = try ExtendedOptions(c.args, from: 3, isSet: true)
        // Redis checks the expiry before it looks at the key: `SET k v PX 0 XX` is an error
        // whether or not `k` exists.
        var expiresAt: Int64 = 0
        if let unit = options.unit {
            let amount = try c.integer(options.amountIndex)
            expiresAt = try deadline(
                unit: unit,
                amount: amount,
                now: c.access.database.engine.clock.now(),
                command: "set"
            )
        }
        let key = c.key(1)
        let bytes = c.value(2)
        let value = c.access.stamped(bytes).value
        let (nx, xx, returnOld, keepTTL) = (options.nx, options.xx, options.get, options.keepTTL)
        let watches = c.access.database.watches
        let (done, old): (Bool, ValueBytes?) = try c.access.update(key) { entry, now in
            // Only `SET … GET` copies the old value out: for every other SET that copy would
            // be a retain and a release, under the shard's lock, of a value about to go.
            let old = returnOld ? try entry?.value.string() : nil
            if nx, entry != nil { return (false, old) }
            if xx, entry == nil { return (false, old) }
            var deadline = expiresAt
            if keepTTL, let e = entry { deadline = e.expiresAt }
            if deadline != 0, deadline <= now {
                // A deadline in the past: the key is gone at once. Redis still counts the
                // write as a change of the key, so a WATCH on an absent key fails too.
                if entry == nil, watches.isActive { watches.noteCreated(key) }
                entry = nil
            } else {
                entry = Entry(value: value, expiresAt: deadline)
            }
            return (true, old)
        }
        if done { c.writes += 1 }
        if returnOld {
            if let old { c.bulk(old) } else { c.null() }
        } else if done {
            c.ok()
        } else {
            c.null()
        }
    }

    static func setnx<A: KeyAccess>(_ c: inout Call<A>) throws {
        let key = c.key(1)
        let fresh = c.access.stamped(c.value(2))
        let done: Bool = try c.access.update(key) { entry, _ in
            guard entry == nil else { return false }
            entry = fresh
            return true
        }
        if done { c.writes += 1 }
        c.integer(reply: done ? 1 : 0)
    }

    static func setex<A: KeyAccess>(_ c: inout Call<A>) throws {
        let name = c.name
        let amount = try c.integer(2)
        let key = c.key(1)
        let value = c.access.stamped(c.value(3)).value
        let unit = name == "setex" ? "EX" : "PX"
        try c.access.update(key) { entry, now in
            let at = try deadline(unit: unit, amount: amount, now: now, command: name)
            entry = Entry(value: value, expiresAt: at)
        }
        c.writes += 1
        c.ok()
    }

    static func getset<A: KeyAccess>(_ c: inout Call<A>) throws {
        let key = c.key(1)
        let fresh = c.access.stamped(c.value(2))
        let old: ValueBytes? = try c.access.update(key) { entry, _ in
            defer { entry = fresh }
            return try entry?.value.string()
        }
        c.writes += 1
        if let old { c.bulk(old) } else { c.null() }
    }

    static func getdel<A: KeyAccess>(_ c: inout Call<A>) throws {
        let key = c.key(1)
        let old: ValueBytes? = try c.access.update(key) { entry, _ in
            defer { entry = nil }
            return try entry?.value.string()
        }
        if let old {
            c.writes += 1
            c.bulk(old)
        } else {
            c.null()
        }
    }

    static func getex<A: KeyAccess>(_ c: inout Call<A>) throws {
        let options = try ExtendedOptions(c.args, from: 2, isSet: false)
        let key = c.key(1)
        let access = c.access
        let old: ValueBytes?
        if let unit = options.unit {
            // Redis answers nil for a missing key before it reads the expiry's number.
            let amountBytes = c.args[options.amountIndex]
            old = try c.access.update(key) { entry, now in
                guard let e = entry else { return nil }
                let bytes = try e.value.string()
                guard let amount = RedisNumber.parseInt64(amountBytes.readableBytesView) else {
                    throw CommandError.notInteger
                }
                let at = try deadline(unit: unit, amount: amount, now: now, command: "getex")
                entry = at <= now ? nil : access.restamped(e, expiresAt: at)
                return bytes
            }
            if old != nil { c.writes += 1 }
        } else if options.persist {
            old = try c.access.update(key) { entry, _ in
                guard let e = entry else { return nil }
                let bytes = try e.value.string()
                if e.hasExpiry { entry = access.restamped(e, expiresAt: 0) }
                return bytes
            }
            if old != nil { c.writes += 1 }
        } else {
            old = try c.access.read(key) { entry, _ in try entry?.value.string() }
        }
        if let old { c.bulk(old) } else { c.null() }
    }

    static func mget<A: KeyAccess>(_ c: inout Call<A>) throws {
        let keys = (1..<c.count).map { c.key($0) }
        let values: [ValueBytes?]
        if keys.count == 1 {
            // A key of another type reads as nil, as in Redis.
            values = [try c.access.read(keys[0]) { entry, _ in entry?.value.stringBytes }]
        } else {
            values = try c.access.atomically { access in
                try keys.map { key in try access.read(key) { entry, _ in entry?.value.stringBytes } }
            }
        }
        c.arrayHeader(values.count)
        for value in values {
            if let value { c.bulk(value) } else { c.null() }
        }
    }

    static func mset<A: KeyAccess>(_ c: inout Call<A>) throws {
        guard c.count % 2 == 1 else { throw CommandError.wrongArity(c.name) }
        let pairs = stride(from: 1, to: c.count, by: 2).map { (c.key($0), c.value($0 + 1)) }
        try c.access.atomically { access in
            for (key, bytes) in pairs {
                let fresh = access.stamped(bytes)
                try access.update(key) { entry, _ in entry = fresh }
            }
        }
        c.writes += pairs.count
        c.ok()
    }

    static func msetnx<A: KeyAccess>(_ c: inout Call<A>) throws {
        guard c.count % 2 == 1 else { throw CommandError.wrongArity(c.name) }
        let pairs = stride(from: 1, to: c.count, by: 2).map { (c.key($0), c.value($0 + 1)) }
        let done: Bool = try c.access.atomically { access in
            for (key, _) in pairs where try access.read(key, { entry, _ in entry != nil }) {
                return false
            }
            for (key, bytes) in pairs {
                let fresh = access.stamped(bytes)
                try access.update(key) { entry, _ in entry = fresh }
            }
            return true
        }
        if done { c.writes += pairs.count }
        c.integer(reply: done ? 1 : 0)
    }

    static func append<A: KeyAccess>(_ c: inout Call<A>) throws {
        let key = c.key(1)
        let suffix = c.bytes(2)
        let access = c.access
        let limit = c.server.configuration.maxBulkLength
        let length: Int = try c.access.update(key) { entry, _ in
            let current = try entry?.value.string()
            let count = current?.count ?? 0
            guard fits(Int64(count), adding: suffix.count, limit: limit) else { throw stringTooLong }
            let bytes = spliced(current, at: count, suffix)
            entry = access.stamped(bytes, expiresAt: entry?.expiresAt ?? 0)
            return bytes.count
        }
        c.writes += 1
        c.integer(reply: length)
    }

    /// `old` (or nothing) with `patch` written at `offset`, zero-filled up to it: one new
    /// block written in place, since a string here may be hundreds of megabytes.
    static func spliced(_ old: ValueBytes?, at offset: Int, _ patch: [UInt8]) -> ValueBytes {
        let oldCount = old?.count ?? 0
        return ValueBytes(count: max(oldCount, offset + patch.count)) { target in
            if let old { old.withUnsafeBytes { target.copyMemory(from: $0) } }
            if offset > oldCount {
                UnsafeMutableRawBufferPointer(rebasing: target[oldCount..<offset]).initializeMemory(
                    as: UInt8.self,
                    repeating: 0
                )
            }
            patch.withUnsafeBytes { UnsafeMutableRawBufferPointer(rebasing: target[offset...]).copyMemory(from: $0) }
        }
    }

    static func strlen<A: KeyAccess>(_ c: inout Call<A>) throws {
        let key = c.key(1)
        let n: Int = try c.access.read(key) { entry, _ in try entry?.value.string().count ?? 0 }
        c.integer(reply: n)
    }

    static func getrange<A: KeyAccess>(_ c: inout Call<A>) throws {
        var start = try c.integer(2)
        var end = try c.integer(3)
        let key = c.key(1)
        let bytes: ValueBytes = try c.access.read(key) { entry, _ in try entry?.value.string() ?? [] }
        let n = Int64(bytes.count)
        if start < 0 && end < 0 && start > end {
            c.bulk([UInt8]())
            return
        }
        if start < 0 { start = n + start }
        if end < 0 { end = n + end }
        if start < 0 { start = 0 }
        if end < 0 { end = 0 }
        if end >= n { end = n - 1 }
        if n == 0 || start > end {
            c.bulk([UInt8]())
            return
        }
        bytes.withUnsafeBytes {
            c.encoder.writeBulkString(UnsafeRawBufferPointer(rebasing: $0[Int(start)...Int(end)]), into: &c.out)
        }
    }

    static func setrange<A: KeyAccess>(_ c: inout Call<A>) throws {
        let offset = try c.integer(2)
        guard offset >= 0 else { throw CommandError("ERR offset is out of range") }
        let patch = c.bytes(3)
        let key = c.key(1)
        let access = c.access
        let limit = c.server.configuration.maxBulkLength
        let (length, wrote): (Int, Bool) = try c.access.update(key) { entry, _ in
            let current = try entry?.value.string()
            if patch.isEmpty { return (current?.count ?? 0, false) }
            guard fits(offset, adding: patch.count, limit: limit) else { throw stringTooLong }
            // `offset` fits in the limit, an Int.
            let bytes = spliced(current, at: Int(offset), patch)
            entry = access.stamped(bytes, expiresAt: entry?.expiresAt ?? 0)
            return (bytes.count, true)
        }
        if wrote { c.writes += 1 }
        c.integer(reply: length)
    }

    static func incr<A: KeyAccess>(_ c: inout Call<A>) throws {
        let name = c.name
        var delta: Int64
        switch name {
        case "incr": delta = 1
        case "decr": delta = -1
        case "incrby": delta = try c.integer(2)
        default:
            let d = try c.integer(2)
            guard d != Int64.min else { throw CommandError("ERR decrement would overflow") }
            delta = -d
        }
        let key = c.key(1)
        let access = c.access
        let result: Int64 = try c.access.update(key) { entry, _ in
            var current: Int64 = 0
            if let e = entry {
                guard let n = RedisNumber.parseInt64(try e.value.string()) else { throw CommandError.notInteger }
                current = n
            }
            let (sum, overflow) = current.addingReportingOverflow(delta)
            guard !overflow else { throw CommandError.overflow }
            entry = access.stamped(Array(String(sum).utf8), expiresAt: entry?.expiresAt ?? 0)
            return sum
        }
        c.writes += 1
        c.integer(reply: result)
    }

    static func incrbyfloat<A: KeyAccess>(_ c: inout Call<A>) throws {
        let deltaBytes = c.args[2]
        let key = c.key(1)
        let access = c.access
        let text: [UInt8] = try c.access.update(key) { entry, _ in
            // Redis checks the key's type, then its value, then the increment.
            var current = LongDouble.Value(0)
            if let e = entry {
                guard let n = LongDouble.parse(try e.value.string()) else { throw CommandError.notFloat }
                current = n
            }
            guard let delta = LongDouble.parse(deltaBytes.readableBytesView) else { throw CommandError.notFloat }
            let sum = current + delta
            guard sum.isFinite else { throw CommandError("ERR increment would produce NaN or Infinity") }
            let bytes = Array(LongDouble.format(sum).utf8)
            entry = access.stamped(bytes, expiresAt: entry?.expiresAt ?? 0)
            return bytes
        }
        c.writes += 1
        c.bulk(text)
    }
}

/// Redis's long double arithmetic for INCRBYFLOAT (80-bit on x86_64, as Redis's
/// `long double`; `Double` elsewhere), parsed by `strtold` and printed with `%.17Lf`
/// without trailing zeros, so that `0.1 + 0.2` gives `0.3` as in Redis.
enum LongDouble {
    #if arch(x86_64) && !os(Windows)
    typealias Value = Float80
    #else
    typealias Value = Double
    #endif

    static func parse<C: Collection>(_ bytes: C) -> Value? where C.Element == UInt8 {
        guard !bytes.isEmpty, bytes.count <= 5 * 1024 else { return nil }
        var chars = Array(bytes)
        if chars.contains(0) { return nil }
        if let f = chars.first, f == 0x20 || (f >= 0x09 && f <= 0x0D) { return nil }
        if let l = chars.last, l == 0x20 || (l >= 0x09 && l <= 0x0D) { return nil }
        chars.append(0)
        return chars.withUnsafeBufferPointer { buf -> Value? in
            guard let base = buf.baseAddress else { return nil }
            let start = UnsafeRawPointer(base).assumingMemoryBound(to: CChar.self)
            var end: UnsafeMutablePointer<CChar>? = nil
            errno = 0
            #if arch(x86_64) && !os(Windows)
            let v = strtold(start, &end)
            #else
            let v = strtod(start, &end)
            #endif
            guard let end, end - UnsafeMutablePointer(mutating: start) == buf.count - 1 else { return nil }
            if v.isNaN { return nil }
            if errno == ERANGE, v.isInfinite || v == 0 { return nil }
            return v
        }
    }

    static func format(_ value: Value) -> String {
        var buffer = [CChar](repeating: 0, count: 5200)
        let n = buffer.withUnsafeMutableBufferPointer { buf in
            #if arch(x86_64) && !os(Windows)
            withVaList([value]) { vsnprintf(buf.baseAddress, buf.count, "%.17Lf", $0) }
            #else
            withVaList([value]) { vsnprintf(buf.baseAddress, buf.count, "%.17f", $0) }
            #endif
        }
        var text = String(decoding: buffer.prefix(Int(max(0, n))).map { UInt8(bitPattern: $0) }, as: UTF8.self)
        if text.contains(".") {
            while text.hasSuffix("0") { text.removeLast() }
            if text.hasSuffix(".") { text.removeLast() }
        }
        if text == "-0" { text = "0" }
        return text
    }
}
