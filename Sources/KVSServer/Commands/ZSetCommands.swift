import KVS
import NIOCore

/// Sorted-set commands: ZADD and ZINCRBY, reads of members, ranges by rank, score and lex,
/// removals, pops, ZRANDMEMBER, ZSCAN; the algebra (ZUNION, ZINTER, ZDIFF and their STORE
/// forms) is in `ZSetCommands+Algebra.swift`.
///
/// Each follows Redis 7.0's t_zset.c: the order of its checks (arguments, then the key's
/// type) decides which error a bad call gets, and is kept here. Writes change the sorted
/// set where it lies in its shard (``KeyAccess/updateZSet(_:creating:_:)``); reads of many
/// members take a reference under the lock and encode outside it.
enum ZSetCommands {
    static let all: [CommandSpec] =
        [
            spec(
                "zadd",
                -4,
                [.write, .fast],
                "Adds one or more members to a sorted set, or updates their scores.",
                zadd,
                zadd
            ),
            spec("zincrby", 4, [.write, .fast], "Increments the score of a member in a sorted set.", zadd, zadd),
            spec("zscore", 3, [.readonly, .fast], "Returns the score of a member in a sorted set.", zscore, zscore),
            spec(
                "zmscore",
                -3,
                [.readonly, .fast],
                "Returns the score of one or more members in a sorted set.",
                zmscore,
                zmscore
            ),
            spec("zcard", 2, [.readonly, .fast], "Returns the number of members in a sorted set.", zcard, zcard),
            spec(
                "zcount",
                4,
                [.readonly, .fast],
                "Returns the count of members in a sorted set that have scores within a range.",
                zcount,
                zcount
            ),
            spec(
                "zlexcount",
                4,
                [.readonly, .fast],
                "Returns the number of members in a sorted set within a lexicographical range.",
                zlexcount,
                zlexcount
            ),
            spec(
                "zrange",
                -4,
                [.readonly],
                "Returns members in a sorted set within a range of indexes.",
                zrange,
                zrange
            ),
            spec(
                "zrangebyscore",
                -4,
                [.readonly],
                "Returns members in a sorted set within a range of scores.",
                zrange,
                zrange
            ),
            spec(
                "zrevrangebyscore",
                -4,
                [.readonly],
                "Returns members in a sorted set within a range of scores in reverse order.",
                zrange,
                zrange
            ),
            spec(
                "zrangebylex",
                -4,
                [.readonly],
                "Returns members in a sorted set within a lexicographical range.",
                zrange,
                zrange
            ),
            spec(
                "zrevrangebylex",
                -4,
                [.readonly],
                "Returns members in a sorted set within a lexicographical range in reverse order.",
                zrange,
                zrange
            ),
            spec(
                "zrevrange",
                -4,
                [.readonly],
                "Returns members in a sorted set within a range of indexes in reverse order.",
                zrange,
                zrange
            ),
            spec(
                "zrank",
                -3,
                [.readonly, .fast],
                "Returns the index of a member in a sorted set ordered by ascending scores.",
                zrank,
                zrank
            ),
            spec(
                "zrevrank",
                -3,
                [.readonly, .fast],
                "Returns the index of a member in a sorted set ordered by descending scores.",
                zrank,
                zrank
            ),
            spec("zrem", -3, [.write, .fast], "Removes one or more members from a sorted set.", zrem, zrem),
            spec(
                "zpopmin",
                -2,
                [.write, .fast],
                "Returns the lowest-scoring members from a sorted set after removing them.",
                zpop,
                zpop
            ),
            spec(
                "zpopmax",
                -2,
                [.write, .fast],
                "Returns the highest-scoring members from a sorted set after removing them.",
                zpop,
                zpop
            ),
            spec(
                "zremrangebyrank",
                4,
                [.write],
                "Removes members in a sorted set within a range of indexes.",
                zremrange,
                zremrange
            ),
            spec(
                "zremrangebyscore",
                4,
                [.write],
                "Removes members in a sorted set within a range of scores.",
                zremrange,
                zremrange
            ),
            spec(
                "zremrangebylex",
                4,
                [.write],
                "Removes members in a sorted set within a lexicographical range.",
                zremrange,
                zremrange
            ),
            spec(
                "zrandmember",
                -2,
                [.readonly],
                "Returns one or more random members from a sorted set.",
                zrandmember,
                zrandmember
            ),
            spec("zscan", -3, [.readonly], "Iterates over members and scores of a sorted set.", zscan, zscan),
            spec(
                "zrangestore",
                -5,
                [.write],
                "Stores a range of members from sorted set in a key.",
                zrangestore,
                zrangestore,
                keys: (1, 2, 1)
            ),
            spec(
                "zmpop",
                -4,
                [.write],
                "Returns the highest- or lowest-scoring members from one or more sorted sets after removing them.",
                zmpop,
                zmpop,
                keys: (0, 0, 0)
            ),
        ] + algebra

    static func spec(
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
            group: "sorted-set",
            summary: summary,
            direct,
            transactional
        )
    }

    /// The listpack limits in force (CONFIG SET changes them for the writes after it).
    static func limits<A: KeyAccess>(_ c: Call<A>) -> ZSetLimits { c.server.zsetLimits }

    /// Argument `i` as a score (``ZScore/parse(_:)``).
    ///
    /// - Throws: `ERR value is not a valid float`.
    static func score<A: KeyAccess>(_ c: Call<A>, _ i: Int) throws(CommandError) -> Double {
        guard let value = ZScore.parse(c.args[i].readableBytesView) else { throw .notFloat }
        return value
    }

    static let nanError = CommandError("ERR resulting score is not a number (NaN)")

    /// Writes `member` and, when `withScores`, its score: after it in RESP2, as a pair in
    /// RESP3 (the caller's array header counts pairs then).
    static func writeMember<A: KeyAccess>(
        _ c: inout Call<A>,
        _ member: UnsafeRawBufferPointer,
        _ score: Double,
        withScores: Bool
    ) {
        if withScores && c.encoder.version == .resp3 { c.arrayHeader(2) }
        c.encoder.writeBulkString(member, into: &c.out)
        if withScores { c.score(score) }
    }

    /// The array header of `count` members, with or without scores.
    static func membersHeader<A: KeyAccess>(_ c: inout Call<A>, _ count: Int, withScores: Bool) {
        c.arrayHeader(withScores && c.encoder.version != .resp3 ? count * 2 : count)
    }

    // MARK: - ZADD, ZINCRBY

    /// ZADD and ZINCRBY (Redis's `zaddGenericCommand`: ZINCRBY is ZADD INCR, and reads
    /// its options from the same place).
    static func zadd<A: KeyAccess>(_ c: inout Call<A>) throws {
        var (nx, xx, gt, lt, ch, incr) = (false, false, false, false, false, c.name == "zincrby")
        var scoreIndex = 2
        options: while scoreIndex < c.count {
            switch c.option(scoreIndex) {
            case "NX": nx = true
            case "XX": xx = true
            case "CH": ch = true
            case "INCR": incr = true
            case "GT": gt = true
            case "LT": lt = true
            default: break options
            }
            scoreIndex += 1
        }
        let elements = c.count - scoreIndex
        guard elements > 0, elements % 2 == 0 else { throw CommandError.syntax }
        if nx && xx { throw CommandError("ERR XX and NX options at the same time are not compatible") }
        if (gt && nx) || (lt && nx) || (gt && lt) {
            throw CommandError("ERR GT, LT, and/or NX options at the same time are not compatible")
        }
        if incr && elements > 2 { throw CommandError("ERR INCR option supports a single increment-element pair") }
        var pairs: [(score: Double, member: ValueBytes)] = []
        pairs.reserveCapacity(elements / 2)
        for i in stride(from: scoreIndex, to: c.count, by: 2) { pairs.append((try score(c, i), c.value(i + 1))) }
        let limits = limits(c)
        let outcome: (added: Int, updated: Int, processed: Int, score: Double)? =
            try c.access.updateZSet(c.key(1), creating: !xx) { zset in
                var (added, updated, processed) = (0, 0, 0)
                var last = 0.0
                let plain = !(nx || xx || gt || lt || incr)
                for (given, member) in pairs {
                    var score = given
                    if plain {
                        // One lookup: the previous score comes back from the write.
                        let old = zset.set(member, score: score, limits: limits)
                        if old == nil { added += 1 } else if old != score { updated += 1 }
                        processed += 1
                        last = score
                        continue
                    }
                    if let current = zset.score(of: member) {
                        if nx { continue }
                        if incr {
                            score += current
                            if score.isNaN { throw nanError }
                        }
                        if (lt && score >= current) || (gt && score <= current) { continue }
                        last = score
                        processed += 1
                        if score != current {
                            zset.set(member, score: score, limits: limits)
                            updated += 1
                        }
                    } else {
                        if xx { continue }
                        zset.set(member, score: score, limits: limits)
                        last = score
                        added += 1
                        processed += 1
                    }
                }
                return ((added, updated, processed, last), added + updated > 0)
            }
        let (added, updated, processed, last) = outcome ?? (0, 0, 0, 0)
        c.writes += added + updated
        if added > 0 { c.signalReady(c.key(1)) }
        if incr {
            if processed > 0 { c.score(last) } else { c.null() }
        } else {
            c.integer(reply: ch ? added + updated : added)
        }
    }

    // MARK: - Reads of members

    static func zscore<A: KeyAccess>(_ c: inout Call<A>) throws {
        let member = c.value(2)
        let score: Double? = try c.access.read(c.key(1)) { entry, _ in
            try entry?.value.collection(ZSetValue.self).score(of: member)
        }
        if let score { c.score(score) } else { c.null() }
    }

    static func zmscore<A: KeyAccess>(_ c: inout Call<A>) throws {
        let members = (2..<c.count).map { c.value($0) }
        let zset = try c.access.readZSet(c.key(1))
        c.arrayHeader(members.count)
        for member in members {
            if let score = zset?.score(of: member) { c.score(score) } else { c.null() }
        }
    }

    static func zcard<A: KeyAccess>(_ c: inout Call<A>) throws {
        let n: Int = try c.access.read(c.key(1)) { entry, _ in try entry?.value.collection(ZSetValue.self).count ?? 0 }
        c.integer(reply: n)
    }

    static func zcount<A: KeyAccess>(_ c: inout Call<A>) throws {
        let range = try ZScoreRange(min: c.args[2].readableBytesView, max: c.args[3].readableBytesView)
        let n: Int = try c.access.read(c.key(1)) { entry, _ in
            guard let zset = try entry?.value.collection(ZSetValue.self) else { return 0 }
            return range.ranks(in: zset).count
        }
        c.integer(reply: n)
    }

    static func zlexcount<A: KeyAccess>(_ c: inout Call<A>) throws {
        let range = try ZLexRange(min: c.args[2].readableBytesView, max: c.args[3].readableBytesView)
        let n: Int = try c.access.read(c.key(1)) { entry, _ in
            guard let zset = try entry?.value.collection(ZSetValue.self) else { return 0 }
            return range.ranks(in: zset).count
        }
        c.integer(reply: n)
    }

    /// ZRANK and ZREVRANK, with Redis 7.2's WITHSCORE.
    static func zrank<A: KeyAccess>(_ c: inout Call<A>) throws {
        guard c.count <= 4 else { throw CommandError.wrongArity(c.name) }
        let withScore = c.count == 4
        if withScore, c.option(3) != "WITHSCORE" { throw CommandError.syntax }
        let reverse = c.name == "zrevrank"
        let member = c.value(2)
        let found: (rank: Int, score: Double)? = try c.access.read(c.key(1)) { entry, _ in
            guard let zset = try entry?.value.collection(ZSetValue.self), let found = zset.rank(of: member) else {
                return nil
            }
            return (reverse ? zset.count - 1 - found.rank : found.rank, found.score)
        }
        guard let found else {
            if withScore { c.encoder.writeNullArray(into: &c.out) } else { c.null() }
            return
        }
        if withScore { c.arrayHeader(2) }
        c.integer(reply: found.rank)
        if withScore { c.score(found.score) }
    }

    // MARK: - Ranges

    /// What a range command asks for (Redis's `zrangeGenericCommand`).
    struct RangeRequest {
        enum Kind { case rank, score, lex }
        var kind: Kind
        var reverse: Bool
        var withScores = false
        var offset: Int64 = 0
        /// -1: no limit.
        var limit: Int64 = -1
        var rankStart: Int64 = 0
        var rankEnd: Int64 = 0
        var scores: ZScoreRange?
        var lex: ZLexRange?

        /// Parses the arguments after the source key at `keyIndex`: min, max, then the
        /// options, in Redis's order of checks. `kind` and `reverse` are fixed by the
        /// command (ZRANGEBYSCORE...) or `nil` (ZRANGE, ZRANGESTORE: given by options).
        init<A: KeyAccess>(
            _ c: Call<A>,
            keyIndex: Int,
            store: Bool,
            kind fixedKind: Kind?,
            reverse fixedReverse: Bool?
        ) throws(CommandError) {
            var kind = fixedKind
            var reverse = fixedReverse
            var i = keyIndex + 3
            while i < c.count {
                let left = c.count - i - 1
                let option = c.option(i)
                if !store && option == "WITHSCORES" {
                    withScores = true
                } else if option == "LIMIT" && left >= 2 {
                    offset = try c.integer(i + 1)
                    limit = try c.integer(i + 2)
                    i += 2
                } else if fixedReverse == nil && reverse == nil && option == "REV" {
                    reverse = true
                } else if fixedKind == nil && kind == nil && option == "BYLEX" {
                    kind = .lex
                } else if fixedKind == nil && kind == nil && option == "BYSCORE" {
                    kind = .score
                } else {
                    throw .syntax
                }
                i += 1
            }
            self.kind = kind ?? .rank
            self.reverse = reverse ?? false
            if limit != -1 && self.kind == .rank {
                throw CommandError(
                    "ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX"
                )
            }
            if withScores && self.kind == .lex {
                throw CommandError("ERR syntax error, WITHSCORES not supported in combination with BYLEX")
            }
            var (minIndex, maxIndex) = (keyIndex + 1, keyIndex + 2)
            if self.reverse && self.kind != .rank { swap(&minIndex, &maxIndex) }
            switch self.kind {
            case .rank:
                rankStart = try c.integer(minIndex)
                rankEnd = try c.integer(maxIndex)
            case .score:
                scores = try ZScoreRange(
                    min: c.args[minIndex].readableBytesView,
                    max: c.args[maxIndex].readableBytesView
                )
            case .lex:
                lex = try ZLexRange(min: c.args[minIndex].readableBytesView, max: c.args[maxIndex].readableBytesView)
            }
        }

        /// The ranks the request selects in `zset`, after LIMIT, to be emitted ascending
        /// or (``reverse``) descending.
        func ranks(in zset: ZSetValue) -> Range<Int> {
            let length = Int64(zset.count)
            switch kind {
            case .rank:
                var (start, end) = (rankStart, rankEnd)
                if start < 0 { start = length + start }
                if end < 0 { end = length + end }
                if start < 0 { start = 0 }
                if start > end || start >= length { return 0..<0 }
                if end >= length { end = length - 1 }
                // Reverse ranks count from the last member.
                return reverse
                    ? Int(length - 1 - end)..<Int(length - start)
                    : Int(start)..<Int(end + 1)
            case .score, .lex:
                let window = kind == .score ? scores!.ranks(in: zset) : lex!.ranks(in: zset)
                // A negative offset skips everything, a negative limit takes all (Redis's
                // `while (offset--)` and `while (limit--)`).
                guard offset >= 0, offset < Int64(window.count) else { return 0..<0 }
                let available = Int64(window.count) - offset
                let taken = Int(limit < 0 ? available : min(limit, available))
                if reverse {
                    let top = window.upperBound - Int(offset)
                    return (top - taken)..<top
                }
                let bottom = window.lowerBound + Int(offset)
                return bottom..<(bottom + taken)
            }
        }
    }

    /// ZRANGE and its older forms: ZRANGEBYSCORE, ZREVRANGEBYSCORE, ZRANGEBYLEX,
    /// ZREVRANGEBYLEX, ZREVRANGE.
    static func zrange<A: KeyAccess>(_ c: inout Call<A>) throws {
        let kind: RangeRequest.Kind?
        let reverse: Bool?
        switch c.name {
        case "zrangebyscore": (kind, reverse) = (.score, false)
        case "zrevrangebyscore": (kind, reverse) = (.score, true)
        case "zrangebylex": (kind, reverse) = (.lex, false)
        case "zrevrangebylex": (kind, reverse) = (.lex, true)
        case "zrevrange": (kind, reverse) = (.rank, true)
        default: (kind, reverse) = (nil, nil)
        }
        let request = try RangeRequest(c, keyIndex: 1, store: false, kind: kind, reverse: reverse)
        guard let zset = try c.access.readZSet(c.key(1)) else {
            c.arrayHeader(0)
            return
        }
        let ranks = request.ranks(in: zset)
        membersHeader(&c, ranks.count, withScores: request.withScores)
        zset.forEachMember(inRanks: ranks, reverse: request.reverse) { member, score in
            writeMember(&c, member, score, withScores: request.withScores)
        }
    }

    /// ZRANGESTORE dst src min max [BYSCORE | BYLEX] [REV] [LIMIT offset count].
    static func zrangestore<A: KeyAccess>(_ c: inout Call<A>) throws {
        let request = try RangeRequest(c, keyIndex: 2, store: true, kind: nil, reverse: nil)
        let (destination, source) = (c.key(1), c.key(2))
        let limits = limits(c)
        let stored: Int = try c.access.atomically { access in
            var result = ZSetValue()
            if let zset = try access.readZSet(source) {
                let ranks = request.ranks(in: zset)
                // Redis knows the length of a rank range beforehand, not of the others.
                result = ZSetValue(expected: request.kind == .rank ? ranks.count : 0, limits: limits)
                zset.forEachMember(inRanks: ranks, reverse: request.reverse) { member, score in
                    result.set(ValueBytes(member), score: score, limits: limits)
                }
            }
            try store(result, at: destination, &access)
            return result.count
        }
        c.writes += 1
        if stored > 0 { c.signalReady(c.key(1)) }
        c.integer(reply: stored)
    }

    /// Stores `zset` at `key`, replacing any value (and its deadline); an empty one
    /// deletes the key.
    static func store<A: KeyAccess>(_ zset: ZSetValue, at key: ByteKey, _ access: inout A) throws {
        let stamp = access.stamps.take()
        try access.update(key) { entry, _ in
            entry = zset.isEmpty ? nil : Entry(value: StoredValue(payload: .zset(zset), stamp: stamp), expiresAt: 0)
        }
    }

    // MARK: - Removals

    static func zrem<A: KeyAccess>(_ c: inout Call<A>) throws {
        let members = (2..<c.count).map { c.value($0) }
        let removed: Int =
            try c.access.updateZSet(c.key(1), creating: false) { zset in
                var removed = 0
                for member in members where zset.remove(member) { removed += 1 }
                return (removed, removed > 0)
            } ?? 0
        c.writes += removed
        c.integer(reply: removed)
    }

    /// ZREMRANGEBYRANK, ZREMRANGEBYSCORE, ZREMRANGEBYLEX.
    static func zremrange<A: KeyAccess>(_ c: inout Call<A>) throws {
        let (min, max) = (c.args[2].readableBytesView, c.args[3].readableBytesView)
        let select: (ZSetValue) -> Range<Int>
        switch c.name {
        case "zremrangebyrank":
            let (start, end) = (try c.integer(2), try c.integer(3))
            select = { zset in
                RangeRequest.rankWindow(start: start, end: end, length: Int64(zset.count))
            }
        case "zremrangebyscore":
            let range = try ZScoreRange(min: min, max: max)
            select = { range.ranks(in: $0) }
        default:
            let range = try ZLexRange(min: min, max: max)
            select = { range.ranks(in: $0) }
        }
        let removed: Int =
            try c.access.updateZSet(c.key(1), creating: false) { zset in
                let n = zset.removeRanks(select(zset))
                return (n, n > 0)
            } ?? 0
        c.writes += removed
        c.integer(reply: removed)
    }

    // MARK: - Pops

    /// Which end of a sorted set a pop takes from.
    package enum PopEnd: Sendable {
        /// The lowest scores first (ZPOPMIN, BZPOPMIN, ZMPOP MIN).
        case min
        /// The highest scores first (ZPOPMAX, BZPOPMAX, ZMPOP MAX).
        case max
    }

    /// How a pop's reply is shaped.
    package enum PopReply: Sendable {
        /// ZPOPMIN/ZPOPMAX: member, score, member, score...; in RESP3 with a count given
        /// (`nested`), an array of [member, score] pairs.
        case plain(nested: Bool)
        /// BZPOPMIN/BZPOPMAX: [key, member, score].
        case keyed
        /// ZMPOP/BZMPOP: [key, [[member, score], ...]].
        case multi
    }

    /// Pops up to `count` members from the first of `keys` that holds a sorted set, and
    /// writes the reply shaped as `reply`; writes nothing and returns `false` when every
    /// key is absent. The blocking commands (BZPOPMIN, BZPOPMAX, BZMPOP) serve a blocked
    /// client by running this again.
    ///
    /// Several keys are looked at in one atomic step (``KeyAccess/atomically(_:)``), so
    /// the first non-empty one is popped as it was seen.
    ///
    /// - Parameter count: at least 1.
    /// - Throws: ``CommandError/wrongType`` when a key before the first sorted set (or that
    ///   one) holds another type; nothing changes then.
    /// - Complexity: O(K + m log n) for K keys and m members popped.
    package static func pop<A: KeyAccess>(
        _ c: inout Call<A>,
        keys: [ByteKey],
        end: PopEnd,
        count: Int,
        reply: PopReply
    ) throws -> Bool {
        let popped: (key: ByteKey, elements: [(member: ValueBytes, score: Double)])?
        if keys.count == 1 {
            popped = try popFirst(&c.access, keys: keys, end: end, count: count)
        } else {
            popped = try c.access.atomically { access in try popFirst(&access, keys: keys, end: end, count: count) }
        }
        guard let (key, elements) = popped else { return false }
        c.writes += elements.count
        let resp3 = c.encoder.version == .resp3
        switch reply {
        case .plain(let nested):
            let pairs = nested && resp3
            c.arrayHeader(pairs ? elements.count : elements.count * 2)
            for (member, score) in elements {
                if pairs { c.arrayHeader(2) }
                c.bulk(member)
                c.score(score)
            }
        case .keyed:
            c.arrayHeader(3)
            key.withUnsafeBytes { c.encoder.writeBulkString($0, into: &c.out) }
            if let (member, score) = elements.first {
                c.bulk(member)
                c.score(score)
            }
        case .multi:
            c.arrayHeader(2)
            key.withUnsafeBytes { c.encoder.writeBulkString($0, into: &c.out) }
            c.arrayHeader(elements.count)
            for (member, score) in elements {
                c.arrayHeader(2)
                c.bulk(member)
                c.score(score)
            }
        }
        return true
    }

    /// Pops from the first of `keys` that holds a sorted set: its key and the members
    /// popped, or `nil` when every key is absent.
    static func popFirst<A: KeyAccess>(
        _ access: inout A,
        keys: [ByteKey],
        end: PopEnd,
        count: Int
    ) throws -> (key: ByteKey, elements: [(member: ValueBytes, score: Double)])? {
        for key in keys {
            let elements = try access.updateZSet(key, creating: false) { zset in
                let n = min(count, zset.count)
                let ranks = end == .min ? 0..<n : (zset.count - n)..<zset.count
                let elements = zset.elements(inRanks: ranks, reverse: end == .max)
                zset.removeRanks(ranks)
                return (elements, n > 0)
            }
            if let elements { return (key, elements) }
        }
        return nil
    }

    /// ZPOPMIN and ZPOPMAX.
    static func zpop<A: KeyAccess>(_ c: inout Call<A>) throws {
        guard c.count <= 3 else { throw CommandError.syntax }
        var count = 1
        if c.count == 3 {
            // Redis's getPositiveLongFromObjectOrReply: one message for both refusals.
            guard let n = RedisNumber.parseInt64(c.args[2].readableBytesView), n >= 0 else {
                throw CommandError("ERR value is out of range, must be positive")
            }
            count = n > Int64(Int.max) ? Int.max : Int(n)
        }
        let end: PopEnd = c.name == "zpopmin" ? .min : .max
        if count == 0 {
            // The key's type is still checked.
            _ = try c.access.readZSet(c.key(1))
            c.arrayHeader(0)
            return
        }
        if try !pop(&c, keys: [c.key(1)], end: end, count: count, reply: .plain(nested: c.count == 3)) {
            c.arrayHeader(0)
        }
    }

    /// ZMPOP numkeys key [key ...] MIN | MAX [COUNT count].
    static func zmpop<A: KeyAccess>(_ c: inout Call<A>) throws {
        let parsed = try parseMultiPop(c, numkeysIndex: 1)
        if try !pop(&c, keys: parsed.keys, end: parsed.end, count: parsed.count, reply: .multi) {
            c.encoder.writeNullArray(into: &c.out)
        }
    }

    /// The arguments of ZMPOP (and BZMPOP, whose numkeys follows the timeout):
    /// `numkeys key... MIN|MAX [COUNT count]` from `numkeysIndex`, checked in Redis's
    /// order (`zmpopGenericCommand`).
    ///
    /// - Throws: `ERR numkeys should be greater than 0`, `ERR count should be greater
    ///   than 0`, `ERR syntax error`, or the integer error.
    package static func parseMultiPop<A: KeyAccess>(
        _ c: Call<A>,
        numkeysIndex: Int
    ) throws(CommandError) -> (keys: [ByteKey], end: PopEnd, count: Int) {
        // Redis's getRangeLongFromObjectOrReply with a message: it answers a non-integer too.
        guard let numkeys = RedisNumber.parseInt64(c.args[numkeysIndex].readableBytesView), numkeys >= 1 else {
            throw CommandError("ERR numkeys should be greater than 0")
        }
        guard numkeys < Int64(c.count - numkeysIndex - 1) else { throw .syntax }
        let whereIndex = numkeysIndex + Int(numkeys) + 1
        let end: PopEnd
        switch c.option(whereIndex) {
        case "MIN": end = .min
        case "MAX": end = .max
        default: throw .syntax
        }
        var count: Int64 = -1
        var j = whereIndex + 1
        while j < c.count {
            if count == -1, c.option(j) == "COUNT", j + 1 < c.count {
                j += 1
                guard let n = RedisNumber.parseInt64(c.args[j].readableBytesView), n >= 1 else {
                    throw CommandError("ERR count should be greater than 0")
                }
                count = n
            } else {
                throw .syntax
            }
            j += 1
        }
        let keys = ((numkeysIndex + 1)..<whereIndex).map { c.key($0) }
        return (keys, end, count == -1 ? 1 : Int(clamping: count))
    }

    // MARK: - ZRANDMEMBER

    /// The most elements one ZRANDMEMBER with a negative count answers (members and
    /// scores count one each), as HRANDFIELD (see docs/design/server-value-types.md).
    static let randomReplyLimit = HashCommands.randomReplyLimit

    static func zrandmember<A: KeyAccess>(_ c: inout Call<A>) throws {
        guard c.count >= 3 else {
            guard let zset = try c.access.readZSet(c.key(1)), !zset.isEmpty else {
                c.null()
                return
            }
            let rank = Int.random(in: 0..<zset.count)
            zset.forEachMember(inRanks: rank..<(rank + 1)) { member, _ in
                c.encoder.writeBulkString(member, into: &c.out)
            }
            return
        }
        let l = try c.integer(2)
        guard l >= -Int64.max else {
            throw CommandError(
                "ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807"
            )
        }
        if c.count > 4 || (c.count == 4 && c.option(3) != "WITHSCORES") { throw CommandError.syntax }
        let withScores = c.count == 4
        if withScores {
            guard l >= -Int64.max / 2, l <= Int64.max / 2 else { throw CommandError("ERR value is out of range") }
        }
        guard let zset = try c.access.readZSet(c.key(1)), !zset.isEmpty, l != 0 else {
            c.arrayHeader(0)
            return
        }
        if l < 0 || l == 1 {
            let count = l < 0 ? Int(-l) : 1
            guard count <= randomReplyLimit / (withScores ? 2 : 1) else {
                throw CommandError("ERR value is out of range")
            }
            let all = zset.elements(inRanks: 0..<zset.count)
            membersHeader(&c, count, withScores: withScores)
            for _ in 0..<count {
                let (member, score) = all[Int.random(in: 0..<all.count)]
                member.withUnsafeBytes { writeMember(&c, $0, score, withScores: withScores) }
            }
            return
        }
        if l >= Int64(zset.count) {
            // The whole set, from the highest score down, as Redis's set iterator walks it.
            membersHeader(&c, zset.count, withScores: withScores)
            zset.forEachMember(inRanks: 0..<zset.count, reverse: true) { member, score in
                writeMember(&c, member, score, withScores: withScores)
            }
            return
        }
        var all = zset.elements(inRanks: 0..<zset.count)
        all.shuffle()
        membersHeader(&c, Int(l), withScores: withScores)
        for (member, score) in all.prefix(Int(l)) {
            member.withUnsafeBytes { writeMember(&c, $0, score, withScores: withScores) }
        }
    }

    // MARK: - ZSCAN

    /// ZSCAN key cursor [MATCH pattern] [COUNT count]: a skip list's member index is walked
    /// a home slot at a time in Redis's cursor order, until `count` members are found or
    /// `count` × 10 homes were visited, as HSCAN walks a hash; a listpack is answered whole
    /// with cursor 0, as Redis answers it. Every member present throughout a full scan is
    /// returned at least once (docs/design/server-value-types.md). Scores are written as
    /// the encoding holds them, as Redis does: an integral score of a listpack as an
    /// integer.
    static func zscan<A: KeyAccess>(_ c: inout Call<A>) throws {
        guard let cursor = KeyCommands.parseCursor(c.args[2].readableBytesView) else {
            throw CommandError("ERR invalid cursor")
        }
        guard let zset = try c.access.readZSet(c.key(1)) else {
            c.emptyScanReply()
            return
        }
        let (pattern, count) = try c.collectionScanOptions(from: 3)
        var found: [(ValueBytes, [UInt8])] = []
        var next: UInt64 = 0
        if zset.isPacked {
            zset.forEachMember { member, score in
                if let pattern, !Glob.matches(pattern, Array(member)) { return }
                found.append((ValueBytes(member), ZScore.formatPacked(score)))
            }
        } else {
            next = c.scanSteps(from: cursor, count: count, found: { found.count }) { cursor in
                zset.scan(from: cursor) { member, score in
                    if let pattern, !member.withUnsafeBytes({ Glob.matches(pattern, Array($0)) }) { return }
                    found.append((member, ZScore.format(score)))
                }
            }
        }
        c.arrayHeader(2)
        c.bulk(String(next))
        c.arrayHeader(found.count * 2)
        for (member, score) in found {
            c.bulk(member)
            c.bulk(score)
        }
    }
}

extension ZSetCommands.RangeRequest {
    /// Redis's sanitising of a rank range (`start`, `end`, negative from the end) over
    /// `length` members: the ascending ranks it covers.
    static func rankWindow(start: Int64, end: Int64, length: Int64) -> Range<Int> {
        var (start, end) = (start, end)
        if start < 0 { start = length + start }
        if end < 0 { end = length + end }
        if start < 0 { start = 0 }
        if start > end || start >= length { return 0..<0 }
        if end >= length { end = length - 1 }
        return Int(start)..<Int(end + 1)
    }
}
