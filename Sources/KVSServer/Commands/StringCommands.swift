#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import KVS
import NIOCore

/// String commands: GET, SET and its variants, MGET/MSET, APPEND, ranges, counters.
enum StringCommands {
    static let all: [CommandSpec] = [
        .keyed("get", arity: 2, flags: [.readonly, .fast], keys: (1, 1, 1), group: "string",
               summary: "Returns the string value of a key.", get, get),
        .keyed("set", arity: -3, flags: [.write], keys: (1, 1, 1), group: "string",
               summary: "Sets the string value of a key, ignoring its type. The key is created if it doesn't exist.", set, set),
        .keyed("setnx", arity: 3, flags: [.write, .fast], keys: (1, 1, 1), group: "string",
               summary: "Set the string value of a key only when the key doesn't exist.", setnx, setnx),
        .keyed("setex", arity: 4, flags: [.write], keys: (1, 1, 1), group: "string",
               summary: "Sets the string value and expiration time of a key. Creates the key if it doesn't exist.", setex, setex),
        .keyed("psetex", arity: 4, flags: [.write], keys: (1, 1, 1), group: "string",
               summary: "Sets both string value and expiration time in milliseconds of a key. The key is created if it doesn't exist.", setex, setex),
        .keyed("getset", arity: 3, flags: [.write, .fast], keys: (1, 1, 1), group: "string",
               summary: "Returns the previous string value of a key after setting it to a new value.", getset, getset),
        .keyed("getdel", arity: 2, flags: [.write, .fast], keys: (1, 1, 1), group: "string",
               summary: "Returns the string value of a key after deleting the key.", getdel, getdel),
        .keyed("getex", arity: -2, flags: [.write, .fast], keys: (1, 1, 1), group: "string",
               summary: "Returns the string value of a key after setting its expiration time.", getex, getex),
        .keyed("mget", arity: -2, flags: [.readonly, .fast], keys: (1, -1, 1), group: "string",
               summary: "Atomically returns the string values of one or more keys.", mget, mget),
        .keyed("mset", arity: -3, flags: [.write], keys: (1, -1, 2), group: "string",
               summary: "Atomically creates or modifies the string values of one or more keys.", mset, mset),
        .keyed("msetnx", arity: -3, flags: [.write], keys: (1, -1, 2), group: "string",
               summary: "Atomically modifies the string values of one or more keys only when all keys don't exist.", msetnx, msetnx),
        .keyed("append", arity: 3, flags: [.write, .fast], keys: (1, 1, 1), group: "string",
               summary: "Appends a string to the value of a key. Creates the key if it doesn't exist.", append, append),
        .keyed("strlen", arity: 2, flags: [.readonly, .fast], keys: (1, 1, 1), group: "string",
               summary: "Returns the length of a string value.", strlen, strlen),
        .keyed("getrange", arity: 4, flags: [.readonly], keys: (1, 1, 1), group: "string",
               summary: "Returns a substring of the string stored at a key.", getrange, getrange),
        .keyed("substr", arity: 4, flags: [.readonly], keys: (1, 1, 1), group: "string",
               summary: "Returns a substring from a string value.", getrange, getrange),
        .keyed("setrange", arity: 4, flags: [.write], keys: (1, 1, 1), group: "string",
               summary: "Overwrites a part of a string value with another by an offset. Creates the key if it doesn't exist.", setrange, setrange),
        .keyed("incr", arity: 2, flags: [.write, .fast], keys: (1, 1, 1), group: "string",
               summary: "Increments the integer value of a key by one. Uses 0 as initial value if the key doesn't exist.", incr, incr),
        .keyed("decr", arity: 2, flags: [.write, .fast], keys: (1, 1, 1), group: "string",
               summary: "Decrements the integer value of a key by one. Uses 0 as initial value if the key doesn't exist.", incr, incr),
        .keyed("incrby", arity: 3, flags: [.write, .fast], keys: (1, 1, 1), group: "string",
               summary: "Increments the integer value of a key by a number. Uses 0 as initial value if the key doesn't exist.", incr, incr),
        .keyed("decrby", arity: 3, flags: [.write, .fast], keys: (1, 1, 1), group: "string",
               summary: "Decrements a number from the integer value of a key. Uses 0 as initial value if the key doesn't exist.", incr, incr),
        .keyed("incrbyfloat", arity: 3, flags: [.write, .fast], keys: (1, 1, 1), group: "string",
               summary: "Increment the floating point value of a key by a number. Uses 0 as initial value if the key doesn't exist.", incrbyfloat, incrbyfloat),
    ]

    /// The largest string Redis builds by APPEND/SETRANGE (`proto-max-bulk-len`).
    static let maxStringLength = 512 * 1024 * 1024

    static func get<A: KeyAccess>(_ c: inout Call<A>) throws {
        let key = c.key(1)
        let value: ValueBytes? = try c.access.read(key) { entry, _ in entry?.value.bytes }
        if let value { c.bulk(value) } else { c.null() }
    }

    /// The expiry part of SET / GETEX options.
    enum ExpiryOption: Equatable {
        case none, keep, persist
        case at(Int64)  // absolute deadline, ns since the epoch
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

    static func set<A: KeyAccess>(_ c: inout Call<A>) throws {
        var condition = 0  // 1 NX, 2 XX
        var returnOld = false
        var expiryUnit: String? = nil
        var expiryAmount: Int64 = 0
        var keepTTL = false
        var i = 3
        while i < c.count {
            let opt = c.option(i)
            switch opt {
            case "NX" where condition == 0: condition = 1
            case "XX" where condition == 0: condition = 2
            case "GET": returnOld = true
            case "KEEPTTL" where expiryUnit == nil: keepTTL = true
            case "EX", "PX", "EXAT", "PXAT":
                guard expiryUnit == nil, !keepTTL, i + 1 < c.count else { throw CommandError.syntax }
                expiryUnit = opt
                expiryAmount = try c.integer(i + 1)
                i += 1
            default:
                throw CommandError.syntax
            }
            i += 1
        }
        let key = c.key(1)
        let bytes = c.value(2)
        let value = c.access.stamped(bytes).value
        let unit = expiryUnit
        let amount = expiryAmount
        let (done, old): (Bool, ValueBytes?) = try c.access.update(key) { entry, now in
            // Only `SET … GET` replies with the old value: a copy of it for every SET was a
            // retain and a release, under the shard's lock, of a value about to be dropped.
            // (`perf` put 5.9% of the server's CPU in that retain, under `redis-benchmark -t
            // set -P 16` on one event loop: it was the first touch of the old value's cold
            // line, which the engine's own copy now takes; no change in requests/s beyond
            // the noise, 4 alternating rounds.)
            let old = returnOld ? entry?.value.bytes : nil
            if condition == 1, entry != nil { return (false, old) }
            if condition == 2, entry == nil { return (false, old) }
            var expiresAt: Int64 = 0
            if let unit { expiresAt = try deadline(unit: unit, amount: amount, now: now, command: "set") }
            if keepTTL, let e = entry { expiresAt = e.expiresAt }
            if expiresAt != 0, expiresAt <= now {
                entry = nil  // a deadline in the past: the key is gone at once
            } else {
                entry = Entry(value: value, expiresAt: expiresAt)
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
            return entry?.value.bytes
        }
        c.writes += 1
        if let old { c.bulk(old) } else { c.null() }
    }

    static func getdel<A: KeyAccess>(_ c: inout Call<A>) throws {
        let key = c.key(1)
        let old: ValueBytes? = try c.access.update(key) { entry, _ in
            defer { entry = nil }
            return entry?.value.bytes
        }
        if let old {
            c.writes += 1
            c.bulk(old)
        } else {
            c.null()
        }
    }

    static func getex<A: KeyAccess>(_ c: inout Call<A>) throws {
        var unit: String? = nil
        var amount: Int64 = 0
        var persist = false
        var i = 2
        while i < c.count {
            let opt = c.option(i)
            switch opt {
            case "EX", "PX", "EXAT", "PXAT":
                guard unit == nil, !persist, i + 1 < c.count else { throw CommandError.syntax }
                unit = opt
                amount = try c.integer(i + 1)
                i += 1
            case "PERSIST":
                guard unit == nil, !persist else { throw CommandError.syntax }
                persist = true
            default:
                throw CommandError.syntax
            }
            i += 1
        }
        let key = c.key(1)
        let access = c.access
        let old: ValueBytes?
        if unit == nil && !persist {
            old = try c.access.read(key) { entry, _ in entry?.value.bytes }
        } else {
            let u = unit
            old = try c.access.update(key) { entry, now in
                guard let e = entry else { return nil }
                if let u {
                    let at = try deadline(unit: u, amount: amount, now: now, command: "getex")
                    entry = at <= now ? nil : access.restamped(e, expiresAt: at)
                } else if e.hasExpiry {
                    entry = access.restamped(e, expiresAt: 0)
                }
                return e.value.bytes
            }
            if old != nil { c.writes += 1 }
        }
        if let old { c.bulk(old) } else { c.null() }
    }

    static func mget<A: KeyAccess>(_ c: inout Call<A>) throws {
        let keys = (1..<c.count).map { c.key($0) }
        let values: [ValueBytes?]
        if keys.count == 1 {
            values = [try c.access.read(keys[0]) { entry, _ in entry?.value.bytes }]
        } else {
            values = try c.access.atomically { access in
                try keys.map { key in try access.read(key) { entry, _ in entry?.value.bytes } }
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
        let length: Int = try c.access.update(key) { entry, _ in
            var bytes = entry?.value.bytes.array ?? []
            guard bytes.count + suffix.count <= maxStringLength else {
                throw CommandError("ERR string exceeds maximum allowed size (proto-max-bulk-len)")
            }
            bytes.append(contentsOf: suffix)
            entry = access.stamped(bytes, expiresAt: entry?.expiresAt ?? 0)
            return bytes.count
        }
        c.writes += 1
        c.integer(reply: length)
    }

    static func strlen<A: KeyAccess>(_ c: inout Call<A>) throws {
        let key = c.key(1)
        let n: Int = try c.access.read(key) { entry, _ in entry?.value.bytes.count ?? 0 }
        c.integer(reply: n)
    }

    static func getrange<A: KeyAccess>(_ c: inout Call<A>) throws {
        var start = try c.integer(2)
        var end = try c.integer(3)
        let key = c.key(1)
        let bytes: [UInt8] = try c.access.read(key) { entry, _ in entry?.value.bytes.array ?? [] }
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
        c.bulk(Array(bytes[Int(start)...Int(end)]))
    }

    static func setrange<A: KeyAccess>(_ c: inout Call<A>) throws {
        let offset = try c.integer(2)
        guard offset >= 0 else { throw CommandError("ERR offset is out of range") }
        let patch = c.bytes(3)
        let key = c.key(1)
        let access = c.access
        let (length, wrote): (Int, Bool) = try c.access.update(key) { entry, _ in
            let current = entry?.value.bytes.array ?? []
            if patch.isEmpty { return (current.count, false) }
            guard offset + Int64(patch.count) <= Int64(maxStringLength) else {
                throw CommandError("ERR string exceeds maximum allowed size (proto-max-bulk-len)")
            }
            var bytes = current
            let o = Int(offset)
            if bytes.count < o + patch.count { bytes.append(contentsOf: repeatElement(0, count: o + patch.count - bytes.count)) }
            bytes.replaceSubrange(o..<(o + patch.count), with: patch)
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
                guard let n = RedisNumber.parseInt64(e.value.bytes) else { throw CommandError.notInteger }
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
        guard let delta = LongDouble.parse(c.args[2].readableBytesView) else { throw CommandError.notFloat }
        let key = c.key(1)
        let access = c.access
        let text: [UInt8] = try c.access.update(key) { entry, _ in
            var current = LongDouble.Value(0)
            if let e = entry {
                guard let n = LongDouble.parse(e.value.bytes) else { throw CommandError.notFloat }
                current = n
            }
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
