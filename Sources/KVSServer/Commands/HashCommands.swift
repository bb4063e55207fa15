import KVS
import NIOCore

/// Hash commands: HSET and its variants, reads of fields, counters, HRANDFIELD, HSCAN.
///
/// Each follows Redis 7.0's t_hash.c: the order of its checks (arguments, then the key's
/// type, then the field's value) decides which error a bad call gets, and is kept here.
/// Writes change the hash where it lies in its shard (``KeyAccess/updateHash(_:creating:_:)``);
/// reads of a whole hash take a reference under the lock and encode outside it.
enum HashCommands {
    static let all: [CommandSpec] = [
        spec("hset", -4, [.write, .fast], "Creates or modifies the value of a field in a hash.", hset, hset),
        spec("hmset", -4, [.write, .fast], "Sets the values of multiple fields.", hset, hset),
        spec(
            "hsetnx",
            4,
            [.write, .fast],
            "Sets the value of a field in a hash only when the field doesn't exist.",
            hsetnx,
            hsetnx
        ),
        spec("hget", 3, [.readonly, .fast], "Returns the value of a field in a hash.", hget, hget),
        spec("hmget", -3, [.readonly, .fast], "Returns the values of all fields in a hash.", hmget, hmget),
        spec("hgetall", 2, [.readonly], "Returns all fields and values in a hash.", hgetall, hgetall),
        spec("hkeys", 2, [.readonly], "Returns all fields in a hash.", hgetall, hgetall),
        spec("hvals", 2, [.readonly], "Returns all values in a hash.", hgetall, hgetall),
        spec("hdel", -3, [.write, .fast], "Deletes one or more fields and their values from a hash.", hdel, hdel),
        spec("hexists", 3, [.readonly, .fast], "Determines whether a field exists in a hash.", hexists, hexists),
        spec("hlen", 2, [.readonly, .fast], "Returns the number of fields in a hash.", hlen, hlen),
        spec("hstrlen", 3, [.readonly, .fast], "Returns the length of the value of a field.", hstrlen, hstrlen),
        spec(
            "hincrby",
            4,
            [.write, .fast],
            "Increments the integer value of a field in a hash by a number. Uses 0 as initial value if the field doesn't exist.",
            hincrby,
            hincrby
        ),
        spec(
            "hincrbyfloat",
            4,
            [.write, .fast],
            "Increments the floating point value of a field by a number. Uses 0 as initial value if the field doesn't exist.",
            hincrbyfloat,
            hincrbyfloat
        ),
        spec("hrandfield", -2, [.readonly], "Returns one or more random fields from a hash.", hrandfield, hrandfield),
        spec("hscan", -3, [.readonly], "Iterates over fields and values of a hash.", hscan, hscan),
    ]

    private static func spec(
        _ name: String,
        _ arity: Int,
        _ flags: CommandSpec.Flags,
        _ summary: String,
        _ direct: @escaping @Sendable (inout Call<DirectAccess>) throws -> Void,
        _ transactional: @escaping @Sendable (inout Call<TransactionalAccess>) throws -> Void
    ) -> CommandSpec {
        .keyed(
            name,
            arity: arity,
            flags: flags,
            keys: (1, 1, 1),
            group: "hash",
            summary: summary,
            direct,
            transactional
        )
    }

    /// The listpack limits in force (CONFIG SET changes them for the writes after it).
    static func limits<A: KeyAccess>(_ c: Call<A>) -> HashLimits { c.server.hashLimits }

    // MARK: - Writes

    static func hset<A: KeyAccess>(_ c: inout Call<A>) throws {
        guard c.count % 2 == 0 else { throw CommandError.wrongArity(c.name) }
        let isHMSET = c.name == "hmset"
        let pairs = stride(from: 2, to: c.count, by: 2).map { (c.value($0), c.value($0 + 1)) }
        let limits = limits(c)
        let added: Int =
            try c.access.updateHash(c.key(1), creating: true) { hash in
                var added = 0
                for (field, value) in pairs where hash.set(field, to: value, limits: limits) { added += 1 }
                return (added, true)
            } ?? 0
        c.writes += 1
        if isHMSET { c.ok() } else { c.integer(reply: added) }
    }

    static func hsetnx<A: KeyAccess>(_ c: inout Call<A>) throws {
        let field = c.value(2)
        let value = c.value(3)
        let limits = limits(c)
        let done: Bool =
            try c.access.updateHash(c.key(1), creating: true) { hash in
                guard hash.value(of: field) == nil else { return (false, false) }
                hash.set(field, to: value, limits: limits)
                return (true, true)
            } ?? false
        if done { c.writes += 1 }
        c.integer(reply: done ? 1 : 0)
    }

    static func hdel<A: KeyAccess>(_ c: inout Call<A>) throws {
        let fields = (2..<c.count).map { c.value($0) }
        let removed: Int =
            try c.access.updateHash(c.key(1), creating: false) { hash in
                var removed = 0
                for field in fields where hash.remove(field) { removed += 1 }
                return (removed, removed > 0)
            } ?? 0
        c.writes += removed
        c.integer(reply: removed)
    }

    static func hincrby<A: KeyAccess>(_ c: inout Call<A>) throws {
        let delta = try c.integer(3)
        let field = c.value(2)
        let limits = limits(c)
        let result: Int64? = try c.access.updateHash(c.key(1), creating: true) { hash in
            var current: Int64 = 0
            if let value = hash.value(of: field) {
                guard let n = RedisNumber.parseInt64(value) else {
                    throw CommandError("ERR hash value is not an integer")
                }
                current = n
            }
            let (sum, overflow) = current.addingReportingOverflow(delta)
            guard !overflow else { throw CommandError.overflow }
            hash.set(field, to: ValueBytes(Array(String(sum).utf8)), limits: limits)
            return (sum, true)
        }
        c.writes += 1
        c.integer(reply: result ?? 0)
    }

    static func hincrbyfloat<A: KeyAccess>(_ c: inout Call<A>) throws {
        guard let delta = LongDouble.parse(c.args[3].readableBytesView) else { throw CommandError.notFloat }
        guard delta.isFinite else { throw CommandError("ERR value is NaN or Infinity") }
        let field = c.value(2)
        let limits = limits(c)
        let text: [UInt8]? = try c.access.updateHash(c.key(1), creating: true) { hash in
            var current = LongDouble.Value(0)
            if let value = hash.value(of: field) {
                guard let n = LongDouble.parse(value) else { throw CommandError("ERR hash value is not a float") }
                current = n
            }
            let sum = current + delta
            guard sum.isFinite else { throw CommandError("ERR increment would produce NaN or Infinity") }
            let bytes = Array(LongDouble.format(sum).utf8)
            hash.set(field, to: ValueBytes(bytes), limits: limits)
            return (bytes, true)
        }
        c.writes += 1
        c.bulk(text ?? [])
    }

    // MARK: - Reads

    static func hget<A: KeyAccess>(_ c: inout Call<A>) throws {
        let field = c.value(2)
        // One field is looked up under the lock: no reference to the hash leaves it.
        let value: ValueBytes? = try c.access.read(c.key(1)) { entry, _ in try entry?.value.hash().value(of: field) }
        if let value { c.bulk(value) } else { c.null() }
    }

    static func hmget<A: KeyAccess>(_ c: inout Call<A>) throws {
        let fields = (2..<c.count).map { c.value($0) }
        let hash = try c.access.readHash(c.key(1))
        c.arrayHeader(fields.count)
        for field in fields {
            if let value = hash?.value(of: field) { c.bulk(value) } else { c.null() }
        }
    }

    /// HGETALL (a map in RESP3), HKEYS and HVALS.
    static func hgetall<A: KeyAccess>(_ c: inout Call<A>) throws {
        let name = c.name
        let hash = try c.access.readHash(c.key(1))
        let count = hash?.count ?? 0
        let (keys, values) = (name != "hvals", name != "hkeys")
        if keys && values {
            c.encoder.writeMapHeader(count: count, into: &c.out)
        } else {
            c.arrayHeader(count)
        }
        hash?.forEachPair { field, value in
            if keys { c.encoder.writeBulkString(field, into: &c.out) }
            if values { c.encoder.writeBulkString(value, into: &c.out) }
        }
    }

    static func hexists<A: KeyAccess>(_ c: inout Call<A>) throws {
        let field = c.value(2)
        let found: Bool = try c.access.read(c.key(1)) { entry, _ in try entry?.value.hash().value(of: field) != nil }
        c.integer(reply: found ? 1 : 0)
    }

    static func hlen<A: KeyAccess>(_ c: inout Call<A>) throws {
        let n: Int = try c.access.read(c.key(1)) { entry, _ in try entry?.value.hash().count ?? 0 }
        c.integer(reply: n)
    }

    static func hstrlen<A: KeyAccess>(_ c: inout Call<A>) throws {
        let field = c.value(2)
        let n: Int = try c.access.read(c.key(1)) { entry, _ in try entry?.value.hash().valueLength(of: field) ?? 0 }
        c.integer(reply: n)
    }

    // MARK: - HRANDFIELD

    /// The most elements one HRANDFIELD with a negative count answers (fields and values
    /// count one each). Redis answers any count up to 2^62 and builds the reply as it
    /// goes; here a reply is built whole, so a count that would make it larger than this
    /// is refused (see docs/design/server-value-types.md).
    static let randomReplyLimit = 16 * 1024 * 1024

    static func hrandfield<A: KeyAccess>(_ c: inout Call<A>) throws {
        guard c.count >= 3 else {
            guard let hash = try c.access.readHash(c.key(1)), !hash.isEmpty else {
                c.null()
                return
            }
            c.bulk(hash.randomField())
            return
        }
        let l = try c.integer(2)
        guard l >= -Int64.max else {
            throw CommandError(
                "ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807"
            )
        }
        var withValues = false
        if c.count > 4 || (c.count == 4 && c.option(3) != "WITHVALUES") { throw CommandError.syntax }
        if c.count == 4 {
            withValues = true
            guard l >= -Int64.max / 2, l <= Int64.max / 2 else { throw CommandError("ERR value is out of range") }
        }
        guard let hash = try c.access.readHash(c.key(1)), !hash.isEmpty, l != 0 else {
            c.arrayHeader(0)
            return
        }
        let pairs = hash.pairs
        let resp3 = c.encoder.version == .resp3
        func reply(_ picked: some Collection<Int>, _ c: inout Call<A>) {
            c.arrayHeader(withValues && !resp3 ? picked.count * 2 : picked.count)
            for i in picked {
                if withValues && resp3 { c.arrayHeader(2) }
                c.bulk(pairs[i].field)
                if withValues { c.bulk(pairs[i].value) }
            }
        }
        if l < 0 || l == 1 {
            // Any fields, repeats allowed, in random order.
            let count = l < 0 ? Int(-l) : 1
            guard count <= randomReplyLimit / (withValues ? 2 : 1) else {
                throw CommandError("ERR value is out of range")
            }
            reply((0..<count).lazy.map { _ in Int.random(in: 0..<pairs.count) }, &c)
            return
        }
        if l >= Int64(pairs.count) {
            reply(pairs.indices, &c)
            return
        }
        var indices = Array(pairs.indices)
        indices.shuffle()
        reply(indices.prefix(Int(l)), &c)
    }

    // MARK: - HSCAN

    /// HSCAN key cursor [MATCH pattern] [COUNT count]: a table is walked a bucket at a
    /// time in Redis's cursor order, until `count` pairs are found or `count` × 10 buckets
    /// were visited (Redis's bound); a listpack is answered whole with cursor 0, as Redis
    /// answers it. Every field present throughout a full scan is returned at least once.
    static func hscan<A: KeyAccess>(_ c: inout Call<A>) throws {
        guard var cursor = KeyCommands.parseCursor(c.args[2].readableBytesView) else {
            throw CommandError("ERR invalid cursor")
        }
        guard let hash = try c.access.readHash(c.key(1)) else {
            c.emptyScanReply()
            return
        }
        let (pattern, count) = try c.collectionScanOptions(from: 3)
        var found: [(ValueBytes, ValueBytes)] = []
        // Redis's bound on empty buckets visited for one call: count × 10 (saturating).
        var visits = count.multipliedReportingOverflow(by: 10).overflow ? Int.max : count * 10
        repeat {
            cursor = hash.scan(from: cursor) { field, value in
                if let pattern, !Glob.matches(pattern, Array(field)) { return }
                found.append((ValueBytes(field), ValueBytes(value)))
            }
            visits -= 1
        } while cursor != 0 && visits > 0 && found.count < count
        c.arrayHeader(2)
        c.bulk(String(cursor))
        c.arrayHeader(found.count * 2)
        for (field, value) in found {
            c.bulk(field)
            c.bulk(value)
        }
    }
}
