import KVS
import NIOCore

/// Set commands: SADD, SREM, membership, SPOP and SRANDMEMBER, SMOVE, the algebra
/// (SINTER, SUNION, SDIFF, their STORE forms, SINTERCARD) and SSCAN.
///
/// Each follows Redis 7.0's t_set.c: the order of its checks (arguments, then the keys'
/// types in argument order) decides which error a bad call gets, and is kept here.
/// Writes of one key change the set where it lies (``KeyAccess/updateSet(_:creating:_:)``);
/// commands over several keys run in one transaction (``KeyAccess/atomically(_:)``), so
/// they see and leave all their keys at one instant even when the keys lie in different
/// shards. Reads of a whole set take a reference under the lock and encode outside it.
enum SetCommands {
    static let all: [CommandSpec] = [
        spec(
            "sadd",
            -3,
            [.write, .fast],
            "Adds one or more members to a set. Creates the key if it doesn't exist.",
            sadd,
            sadd
        ),
        spec(
            "srem",
            -3,
            [.write, .fast],
            "Removes one or more members from a set. Deletes the set if the last member was removed.",
            srem,
            srem
        ),
        spec("scard", 2, [.readonly, .fast], "Returns the number of members in a set.", scard, scard),
        spec(
            "sismember",
            3,
            [.readonly, .fast],
            "Determines whether a member belongs to a set.",
            sismember,
            sismember
        ),
        spec(
            "smismember",
            -3,
            [.readonly, .fast],
            "Determines whether multiple members belong to a set.",
            smismember,
            smismember
        ),
        spec("smembers", 2, [.readonly], "Returns all members of a set.", smembers, smembers),
        spec(
            "spop",
            -2,
            [.write, .fast],
            "Returns one or more random members from a set after removing them. Deletes the set if the last member was popped.",
            spop,
            spop
        ),
        spec("srandmember", -2, [.readonly], "Get one or multiple random members from a set", srandmember, srandmember),
        spec("smove", 4, [.write, .fast], "Moves a member from one set to another.", smove, smove, keys: (1, 2, 1)),
        spec("sinter", -2, [.readonly], "Returns the intersect of multiple sets.", algebra, algebra, keys: (1, -1, 1)),
        spec(
            "sintercard",
            -3,
            [.readonly],
            "Returns the number of members of the intersect of multiple sets.",
            sintercard,
            sintercard,
            keys: (0, 0, 0)
        ),
        spec(
            "sinterstore",
            -3,
            [.write],
            "Stores the intersect of multiple sets in a key.",
            algebra,
            algebra,
            keys: (1, -1, 1)
        ),
        spec("sunion", -2, [.readonly], "Returns the union of multiple sets.", algebra, algebra, keys: (1, -1, 1)),
        spec(
            "sunionstore",
            -3,
            [.write],
            "Stores the union of multiple sets in a key.",
            algebra,
            algebra,
            keys: (1, -1, 1)
        ),
        spec("sdiff", -2, [.readonly], "Returns the difference of multiple sets.", algebra, algebra, keys: (1, -1, 1)),
        spec(
            "sdiffstore",
            -3,
            [.write],
            "Stores the difference of multiple sets in a key.",
            algebra,
            algebra,
            keys: (1, -1, 1)
        ),
        spec("sscan", -3, [.readonly], "Iterates over members of a set.", sscan, sscan),
    ]

    private static func spec(
        _ name: String,
        _ arity: Int,
        _ flags: CommandSpec.Flags,
        _ summary: String,
        _ direct: @escaping @Sendable (inout Call<DirectAccess>) throws -> Void,
        _ transactional: @escaping @Sendable (inout Call<TransactionalAccess>) throws -> Void,
        keys: (Int, Int, Int) = (1, 1, 1)
    ) -> CommandSpec {
        .keyed(
            name,
            arity: arity,
            flags: flags,
            keys: keys,
            group: "set",
            summary: summary,
            direct,
            transactional
        )
    }

    /// The intset limit in force (CONFIG SET changes it for the writes after it).
    static func limits<A: KeyAccess>(_ c: Call<A>) -> SetLimits { c.server.setLimits }

    /// Writes a reply of `count` members: a set in RESP3 (`~`) when `asSet`, else an array.
    static func header<A: KeyAccess>(_ count: Int, asSet: Bool, _ c: inout Call<A>) {
        if asSet { c.encoder.writeSetHeader(count: count, into: &c.out) } else { c.arrayHeader(count) }
    }

    /// Writes `set`'s members as a RESP3 set (an array in RESP2).
    static func writeMembers<A: KeyAccess>(of set: SetValue?, _ c: inout Call<A>) {
        header(set?.count ?? 0, asSet: true, &c)
        set?.forEachMember { c.encoder.writeBulkString($0, into: &c.out) }
    }

    // MARK: - Writes

    static func sadd<A: KeyAccess>(_ c: inout Call<A>) throws {
        let members = (2..<c.count).map { c.value($0) }
        let limits = limits(c)
        let added: Int =
            try c.access.updateSet(c.key(1), creating: true) { set in
                let added = set.insert(contentsOf: members, limits: limits)
                return (added, added > 0)
            } ?? 0
        c.writes += added
        c.integer(reply: added)
    }

    static func srem<A: KeyAccess>(_ c: inout Call<A>) throws {
        let members = (2..<c.count).map { c.value($0) }
        let removed: Int =
            try c.access.updateSet(c.key(1), creating: false) { set in
                var removed = 0
                for member in members where set.remove(member) {
                    removed += 1
                    if set.isEmpty { break }
                }
                return (removed, removed > 0)
            } ?? 0
        c.writes += removed
        c.integer(reply: removed)
    }

    static func smove<A: KeyAccess>(_ c: inout Call<A>) throws {
        let source = c.key(1)
        let destination = c.key(2)
        let member = c.value(3)
        let limits = limits(c)
        let moved: Bool = try c.access.atomically { access in
            // An absent source answers 0 before any type is checked, as in Redis.
            guard let from = try access.read(source, { entry, _ in entry?.value }) else { return false }
            let sourceSet = try from.set()
            _ = try access.readSet(destination)
            if source == destination { return sourceSet.contains(member) }
            guard sourceSet.contains(member) else { return false }
            _ = try access.updateSet(source, creating: false) { set in ((), set.remove(member)) }
            _ = try access.updateSet(destination, creating: true) { set in ((), set.insert(member, limits: limits)) }
            return true
        }
        if moved { c.writes += 1 }
        c.integer(reply: moved ? 1 : 0)
    }

    // MARK: - Reads of one key

    static func scard<A: KeyAccess>(_ c: inout Call<A>) throws {
        let n: Int = try c.access.read(c.key(1)) { entry, _ in try entry?.value.set().count ?? 0 }
        c.integer(reply: n)
    }

    static func sismember<A: KeyAccess>(_ c: inout Call<A>) throws {
        let member = c.value(2)
        // One member is looked up under the lock: no reference to the set leaves it.
        let found: Bool = try c.access.read(c.key(1)) { entry, _ in try entry?.value.set().contains(member) ?? false }
        c.integer(reply: found ? 1 : 0)
    }

    static func smismember<A: KeyAccess>(_ c: inout Call<A>) throws {
        let members = (2..<c.count).map { c.value($0) }
        let set = try c.access.readSet(c.key(1))
        c.arrayHeader(members.count)
        for member in members { c.integer(reply: set?.contains(member) == true ? 1 : 0) }
    }

    static func smembers<A: KeyAccess>(_ c: inout Call<A>) throws {
        writeMembers(of: try c.access.readSet(c.key(1)), &c)
    }

    // MARK: - SPOP and SRANDMEMBER

    static func spop<A: KeyAccess>(_ c: inout Call<A>) throws {
        guard c.count <= 3 else { throw CommandError.syntax }
        guard c.count == 3 else {
            let popped: ValueBytes? = try c.access.updateSet(c.key(1), creating: false) { set in
                (set.removeMember(at: CommandRandom.int(in: 0..<set.count)), true)
            }
            if let popped {
                c.writes += 1
                c.bulk(popped)
            } else {
                c.null()
            }
            return
        }
        guard let requested = RedisNumber.parseInt64(c.args[2].readableBytesView), requested >= 0 else {
            throw CommandError("ERR value is out of range, must be positive")
        }
        let popped = try pop(c.key(1), count: Int(requested), &c.access) ?? []
        c.writes += popped.count
        header(popped.count, asSet: true, &c)
        for member in popped { c.bulk(member) }
    }

    /// Removes up to `count` random members of the set at `key` and returns them (all of
    /// them, and the key, when `count` reaches the set's size); `nil` when the key is
    /// absent. SPOP with a count answers them as a set.
    ///
    /// - Throws: ``CommandError/wrongType`` when the key holds another type.
    /// - Complexity: O(count) for a table, O(count × n) for an intset (n at most
    ///   `set-max-intset-entries`).
    static func pop(_ key: ByteKey, count: Int, _ access: inout some KeyAccess) throws -> [ValueBytes]? {
        try access.updateSet(key, creating: false) { set in
            if count == 0 { return ([], false) }
            if count >= set.count {
                let all = set.members
                set = SetValue()
                return (all, true)
            }
            var popped: [ValueBytes] = []
            popped.reserveCapacity(count)
            for _ in 0..<count { popped.append(set.removeMember(at: CommandRandom.int(in: 0..<set.count))) }
            return (popped, true)
        }
    }

    static func srandmember<A: KeyAccess>(_ c: inout Call<A>) throws {
        guard c.count <= 3 else { throw CommandError.syntax }
        guard c.count == 3 else {
            guard let set = try c.access.readSet(c.key(1)) else {
                c.null()
                return
            }
            c.bulk(set.member(at: CommandRandom.int(in: 0..<set.count)))
            return
        }
        let l = try c.integer(2)
        guard l >= -Int64.max else {
            throw CommandError(
                "ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807"
            )
        }
        guard let set = try c.access.readSet(c.key(1)), l != 0 else {
            c.arrayHeader(0)
            return
        }
        if l < 0 {
            // Any members, repeats allowed. The reply is built whole, so it is bounded as
            // HRANDFIELD's is (see docs/design/server-value-types.md).
            guard -l <= Int64(HashCommands.randomReplyLimit) else { throw CommandError("ERR value is out of range") }
            c.arrayHeader(Int(-l))
            for _ in 0..<Int(-l) { c.bulk(set.member(at: CommandRandom.int(in: 0..<set.count))) }
            return
        }
        if l >= Int64(set.count) {
            c.arrayHeader(set.count)
            set.forEachMember { c.encoder.writeBulkString($0, into: &c.out) }
            return
        }
        // Distinct members: a partial shuffle when many are asked for, else random picks
        // until enough differ (Redis's cases 3 and 4), so a few from a big set cost O(count).
        let count = Int(l)
        var picked: [Int] = []
        picked.reserveCapacity(count)
        if count * 3 > set.count {
            var positions = Array(0..<set.count)
            for i in 0..<count {
                positions.swapAt(i, CommandRandom.int(in: i..<positions.count))
                picked.append(positions[i])
            }
        } else {
            var seen = Set<Int>(minimumCapacity: count)
            while picked.count < count {
                let position = CommandRandom.int(in: 0..<set.count)
                if seen.insert(position).inserted { picked.append(position) }
            }
        }
        c.arrayHeader(count)
        for position in picked { c.bulk(set.member(at: position)) }
    }

    // MARK: - Algebra

    /// The sets at `keys`, read at one instant (`nil` for an absent key).
    ///
    /// - Throws: ``CommandError/wrongType`` for the first key, in order, of another type.
    static func readSets(_ keys: [ByteKey], _ access: inout some KeyAccess) throws -> [SetValue?] {
        var sets: [SetValue?] = []
        sets.reserveCapacity(keys.count)
        for key in keys { sets.append(try access.readSet(key)) }
        return sets
    }

    /// What one of the algebra commands computes.
    enum Operation {
        case intersection
        case union
        case difference
    }

    /// The result of `operation` over `sets`, as a set encoded as a new one would be.
    ///
    /// - Complexity: O(n × k) for an intersection (n the smallest set's size, k the number
    ///   of sets), O(total size) for a union or a difference.
    static func combine(_ sets: [SetValue?], _ operation: Operation, limits: SetLimits) -> SetValue {
        var result = SetValue()
        switch operation {
        case .intersection:
            guard !sets.contains(where: { $0 == nil }) else { return result }
            let ordered = sets.compactMap { $0 }.sorted { $0.count < $1.count }
            guard let smallest = ordered.first else { return result }
            let others = ordered.dropFirst()
            for member in smallest.members where others.allSatisfy({ $0.contains(member) }) {
                result.insert(member, limits: limits)
            }
        case .union:
            for set in sets {
                guard let set else { continue }
                for member in set.members { result.insert(member, limits: limits) }
            }
        case .difference:
            guard let first = sets.first, let first else { return result }
            let others = sets.dropFirst().compactMap { $0 }
            for member in first.members where !others.contains(where: { $0.contains(member) }) {
                result.insert(member, limits: limits)
            }
        }
        return result
    }

    /// SINTER, SUNION, SDIFF and their STORE forms.
    static func algebra<A: KeyAccess>(_ c: inout Call<A>) throws {
        let name = c.name
        let stores = name.hasSuffix("store")
        let operation: Operation =
            name.hasPrefix("sinter") ? .intersection : name.hasPrefix("sunion") ? .union : .difference
        let destination = stores ? c.key(1) : nil
        let keys = ((stores ? 2 : 1)..<c.count).map { c.key($0) }
        let limits = limits(c)
        guard let destination else {
            let sets =
                keys.count == 1
                ? [try c.access.readSet(keys[0])]
                : try c.access.atomically { access in
                    try readSets(keys, &access)
                }
            // One set's members are its own: no copy.
            let result = sets.count == 1 ? sets[0] : combine(sets, operation, limits: limits)
            writeMembers(of: result, &c)
            return
        }
        let count: Int = try c.access.atomically { access in
            let result = combine(try readSets(keys, &access), operation, limits: limits)
            let stored =
                result.isEmpty
                ? nil : Entry(value: StoredValue(payload: .set(result), stamp: access.stamps.take()), expiresAt: 0)
            try access.update(destination) { entry, _ in entry = stored }
            return result.count
        }
        c.writes += 1
        c.integer(reply: count)
    }

    static func sintercard<A: KeyAccess>(_ c: inout Call<A>) throws {
        guard let numkeys = RedisNumber.parseInt64(c.args[1].readableBytesView), numkeys > 0 else {
            throw CommandError("ERR numkeys should be greater than 0")
        }
        guard numkeys <= Int64(c.count - 2) else {
            throw CommandError("ERR Number of keys can't be greater than number of args")
        }
        let keys = (2..<(2 + Int(numkeys))).map { c.key($0) }
        var limit = 0
        var i = 2 + Int(numkeys)
        while i < c.count {
            guard c.option(i) == "LIMIT", i + 1 < c.count else { throw CommandError.syntax }
            guard let n = RedisNumber.parseInt64(c.args[i + 1].readableBytesView), n >= 0 else {
                throw CommandError("ERR LIMIT can't be negative")
            }
            limit = n > Int64(Int.max) ? Int.max : Int(n)
            i += 2
        }
        let sets =
            keys.count == 1
            ? [try c.access.readSet(keys[0])]
            : try c.access.atomically { access in
                try readSets(keys, &access)
            }
        var found = 0
        if !sets.contains(where: { $0 == nil }) {
            let ordered = sets.compactMap { $0 }.sorted { $0.count < $1.count }
            let others = ordered.dropFirst()
            if others.isEmpty {
                found = ordered[0].count
            } else {
                for member in ordered[0].members where others.allSatisfy({ $0.contains(member) }) {
                    found += 1
                    if found == limit { break }
                }
            }
            if limit > 0 { found = min(found, limit) }
        }
        c.integer(reply: found)
    }

    // MARK: - SSCAN

    /// SSCAN key cursor [MATCH pattern] [COUNT count]: a table is walked a home slot of
    /// its member index at a time in Redis's cursor order, until `count` members are found
    /// or `count` × 10 homes were visited, as HSCAN walks a hash; an intset is answered whole
    /// with cursor 0, as Redis answers it. Every member present throughout a full scan is
    /// returned at least once (docs/design/server-value-types.md).
    static func sscan<A: KeyAccess>(_ c: inout Call<A>) throws {
        guard let cursor = KeyCommands.parseCursor(c.args[2].readableBytesView) else {
            throw CommandError("ERR invalid cursor")
        }
        guard let set = try c.access.readSet(c.key(1)) else {
            c.emptyScanReply()
            return
        }
        let (pattern, count) = try c.collectionScanOptions(from: 3)
        guard set.isIntset else {
            var found: [ValueBytes] = []
            let next = c.scanSteps(from: cursor, count: count, found: { found.count }) { cursor in
                set.scan(from: cursor) { member in
                    if let pattern, !member.withUnsafeBytes({ Glob.matches(pattern, Array($0)) }) { return }
                    found.append(member)
                }
            }
            c.arrayHeader(2)
            c.bulk(String(next))
            c.arrayHeader(found.count)
            for member in found { c.bulk(member) }
            return
        }
        c.arrayHeader(2)
        c.bulk("0")
        guard let pattern else {
            c.arrayHeader(set.count)
            set.forEachMember { c.encoder.writeBulkString($0, into: &c.out) }
            return
        }
        var found: [ValueBytes] = []
        set.forEachMember { member in
            if Glob.matches(pattern, Array(member)) { found.append(ValueBytes(member)) }
        }
        c.arrayHeader(found.count)
        for member in found { c.bulk(member) }
    }
}
