import KVS

/// ZUNION, ZINTER, ZDIFF, ZINTERCARD and ZUNIONSTORE, ZINTERSTORE, ZDIFFSTORE, as Redis
/// 7.0's `zunionInterDiffGenericCommand`: the sources are read in one atomic step (keys
/// of different shards included), sorted by size as Redis sorts them (so sums of
/// floating-point scores are added in Redis's order), then combined.
extension ZSetCommands {
    static let algebra: [CommandSpec] = [
        spec(
            "zunion",
            -3,
            [.readonly],
            "Returns the union of multiple sorted sets.",
            zalgebra,
            zalgebra,
            keys: (0, 0, 0)
        ),
        spec(
            "zinter",
            -3,
            [.readonly],
            "Returns the intersect of multiple sorted sets.",
            zalgebra,
            zalgebra,
            keys: (0, 0, 0)
        ),
        spec(
            "zdiff",
            -3,
            [.readonly],
            "Returns the difference between multiple sorted sets.",
            zalgebra,
            zalgebra,
            keys: (0, 0, 0)
        ),
        spec(
            "zintercard",
            -3,
            [.readonly],
            "Returns the number of members of the intersect of multiple sorted sets.",
            zalgebra,
            zalgebra,
            keys: (0, 0, 0)
        ),
        spec(
            "zunionstore",
            -4,
            [.write],
            "Stores the union of multiple sorted sets in a key.",
            zalgebra,
            zalgebra
        ),
        spec(
            "zinterstore",
            -4,
            [.write],
            "Stores the intersect of multiple sorted sets in a key.",
            zalgebra,
            zalgebra
        ),
        spec(
            "zdiffstore",
            -4,
            [.write],
            "Stores the difference of multiple sorted sets in a key.",
            zalgebra,
            zalgebra
        ),
    ]

    enum Operation { case union, inter, diff }
    enum Aggregate { case sum, min, max }

    /// One input: absent (empty) or a sorted set; a set is read as a sorted set of its
    /// members with scores of 1, as Redis's `zuiInitIterator` reads one.
    struct Source {
        var zset: ZSetValue?
        var weight = 1.0
        var count: Int { zset?.count ?? 0 }
    }

    /// The sorted set at `key`, or the set there as a sorted set of scores 1 (O(n) for a
    /// set); `nil` when absent.
    ///
    /// - Throws: ``CommandError/wrongType`` for a key of another type.
    static func readInput(_ key: ByteKey, _ access: inout some KeyAccess, limits: ZSetLimits) throws -> ZSetValue? {
        let payload: StoredValue.Payload? = try access.read(key) { entry, _ in entry?.value.payload }
        guard let payload else { return nil }
        if case .set(let set) = payload {
            return ZSetValue(elements: set.members.map { ($0, 1.0) }, limits: limits)
        }
        guard let zset = ZSetValue(payload) else { throw CommandError.wrongType }
        return zset
    }

    /// Redis's `zunionInterAggregate`: a sum of +inf and -inf is 0.
    @inline(__always)
    static func aggregate(_ target: inout Double, _ value: Double, _ how: Aggregate) {
        switch how {
        case .sum:
            target += value
            if target.isNaN { target = 0 }
        case .min:
            if value < target { target = value }
        case .max:
            if value > target { target = value }
        }
    }

    static func zalgebra<A: KeyAccess>(_ c: inout Call<A>) throws {
        let name = c.name
        let store = name.hasSuffix("store")
        let cardinalityOnly = name == "zintercard"
        let operation: Operation =
            name.hasPrefix("zunion") ? .union : name.hasPrefix("zdiff") ? .diff : .inter
        let numkeysIndex = store ? 2 : 1
        let setCount = try c.integer(numkeysIndex)
        guard setCount >= 1 else {
            throw CommandError("ERR at least 1 input key is needed for '\(name)' command")
        }
        guard setCount <= Int64(c.count - numkeysIndex - 1) else { throw CommandError.syntax }
        let keys = ((numkeysIndex + 1)...(numkeysIndex + Int(setCount))).map { c.key($0) }
        let destination = store ? c.key(1) : nil
        let limits = limits(c)
        let args = c.args
        let call = c
        // Reads, checks and (for the STORE forms) writes in one atomic step; the options
        // are read after the sources' types are checked, as in Redis.
        let outcome: Outcome = try c.access.atomically { access in
            var sources: [Source] = []
            sources.reserveCapacity(keys.count)
            for key in keys { sources.append(Source(zset: try readInput(key, &access, limits: limits))) }
            var how = Aggregate.sum
            var withScores = false
            var limit: Int64 = 0
            var j = numkeysIndex + 1 + keys.count
            while j < args.count {
                let remaining = args.count - j
                let option = call.option(j)
                if operation != .diff && !cardinalityOnly && remaining >= keys.count + 1 && option == "WEIGHTS" {
                    j += 1
                    for i in sources.indices {
                        guard let weight = ZScore.parse(args[j].readableBytesView) else {
                            throw CommandError("ERR weight value is not a float")
                        }
                        sources[i].weight = weight
                        j += 1
                    }
                } else if operation != .diff && !cardinalityOnly && remaining >= 2 && option == "AGGREGATE" {
                    switch call.option(j + 1) {
                    case "SUM": how = .sum
                    case "MIN": how = .min
                    case "MAX": how = .max
                    default: throw CommandError.syntax
                    }
                    j += 2
                } else if destination == nil && !cardinalityOnly && option == "WITHSCORES" {
                    withScores = true
                    j += 1
                } else if cardinalityOnly && remaining >= 2 && option == "LIMIT" {
                    guard let n = RedisNumber.parseInt64(args[j + 1].readableBytesView), n >= 0 else {
                        throw CommandError("ERR LIMIT can't be negative")
                    }
                    limit = n
                    j += 2
                } else {
                    throw CommandError.syntax
                }
            }
            let result = combine(sources, operation, how, cardinalityLimit: cardinalityOnly ? Int(limit) : nil)
            if let destination {
                let zset = ZSetValue(elements: result.elements, limits: limits)
                try Self.store(zset, at: destination, &access)
                return Outcome(elements: [], cardinality: zset.count, withScores: false)
            }
            return Outcome(elements: result.elements, cardinality: result.cardinality, withScores: withScores)
        }
        if store {
            c.writes += 1
            if let destination, outcome.cardinality > 0 { c.signalReady(destination) }
            c.integer(reply: outcome.cardinality)
        } else if cardinalityOnly {
            c.integer(reply: outcome.cardinality)
        } else {
            membersHeader(&c, outcome.elements.count, withScores: outcome.withScores)
            for (member, score) in outcome.elements {
                member.withUnsafeBytes { writeMember(&c, $0, score, withScores: outcome.withScores) }
            }
        }
    }

    struct Outcome {
        var elements: [(member: ValueBytes, score: Double)]
        var cardinality: Int
        var withScores: Bool
    }

    /// The members of the union, intersection or difference of `sources` with their
    /// aggregated scores, in (score, member) order; or, with `cardinalityLimit` (0: none),
    /// only how many the intersection has, counting up to the limit.
    static func combine(
        _ sources: [Source],
        _ operation: Operation,
        _ how: Aggregate,
        cardinalityLimit: Int?
    ) -> (elements: [(member: ValueBytes, score: Double)], cardinality: Int) {
        var sources = sources
        var result: [(member: ValueBytes, score: Double)] = []
        switch operation {
        case .inter:
            // Smallest first; a stable sort keeps equal sizes in argument order.
            sources = sources.enumerated().sorted { ($0.element.count, $0.offset) < ($1.element.count, $1.offset) }
                .map(\.element)
            guard let first = sources.first?.zset, !first.isEmpty else { return ([], 0) }
            var cardinality = 0
            var done = false
            first.forEachMember { member, given in
                if done { return }
                var score = sources[0].weight * given
                if score.isNaN { score = 0 }
                let key = ValueBytes(member)
                for source in sources.dropFirst() {
                    guard let found = source.zset?.score(of: key) else { return }
                    aggregate(&score, found * source.weight, how)
                }
                if let limit = cardinalityLimit {
                    cardinality += 1
                    if limit > 0 && cardinality >= limit { done = true }
                } else {
                    result.append((key, score))
                }
            }
            if cardinalityLimit != nil { return ([], cardinality) }
        case .union:
            sources = sources.enumerated().sorted { ($0.element.count, $0.offset) < ($1.element.count, $1.offset) }
                .map(\.element)
            var positions: [ValueBytes: Int] = [:]
            positions.reserveCapacity(sources.last?.count ?? 0)
            for source in sources {
                source.zset?.forEachMember { member, given in
                    var score = source.weight * given
                    if score.isNaN { score = 0 }
                    let key = ValueBytes(member)
                    if let at = positions[key] {
                        aggregate(&result[at].score, score, how)
                    } else {
                        positions[key] = result.count
                        result.append((key, score))
                    }
                }
            }
        case .diff:
            guard let first = sources[0].zset else { return ([], 0) }
            first.forEachMember { member, score in
                let key = ValueBytes(member)
                for source in sources.dropFirst() where source.zset?.score(of: key) != nil { return }
                result.append((key, score))
            }
        }
        result.sort { a, b in
            a.member.withUnsafeBytes { m1 in b.member.withUnsafeBytes { m2 in precedes(a.score, m1, b.score, m2) } }
        }
        return (result, result.count)
    }
}
