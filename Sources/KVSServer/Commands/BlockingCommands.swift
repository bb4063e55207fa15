import KVS
import NIOCore

/// BLPOP, BRPOP, BLMPOP, BLMOVE, BRPOPLPUSH, BZPOPMIN, BZPOPMAX and BZMPOP: the pops and
/// moves of lists and sorted sets that wait for an element when every key is empty (see
/// ``BlockingRegistry``).
///
/// Each checks its arguments in Redis 7.0's order (t_list.c, t_zset.c), then runs the
/// non-blocking command's logic once (an *attempt*). When that finds nothing, the
/// connection blocks on the keys (``Call/mayBlock``) and the same attempt runs again each
/// time one of them is written; inside MULTI/EXEC the null reply answers at once, as in
/// Redis (`*-1`, or `$-1` for BLMOVE and BRPOPLPUSH).
enum BlockingCommands {
    static let all: [CommandSpec] = [
        spec(
            "blpop",
            -3,
            [],
            "list",
            keys: (1, -2, 1),
            "Removes and returns the first element in a list. Blocks until an element is available otherwise. Deletes the list if the last element was popped."
        ) {
            try blockingListPop(&$0, atHead: true)
        } _: {
            try blockingListPop(&$0, atHead: true)
        },
        spec(
            "brpop",
            -3,
            [],
            "list",
            keys: (1, -2, 1),
            "Removes and returns the last element in a list. Blocks until an element is available otherwise. Deletes the list if the last element was popped."
        ) {
            try blockingListPop(&$0, atHead: false)
        } _: {
            try blockingListPop(&$0, atHead: false)
        },
        spec(
            "blmpop",
            -5,
            [],
            "list",
            keys: (0, 0, 0),
            "Pops the first element from one of multiple lists. Blocks until an element is available otherwise. Deletes the list if the last element was popped.",
            blmpop,
            blmpop
        ),
        spec(
            "blmove",
            6,
            [],
            "list",
            keys: (1, 2, 1),
            "Pops an element from a list, pushes it to another list and returns it. Blocks until an element is available otherwise. Deletes the list if the last element was moved.",
            blmove,
            blmove
        ),
        spec(
            "brpoplpush",
            4,
            [],
            "list",
            keys: (1, 2, 1),
            "Pops an element from a list, pushes it to another list and returns it. Block until an element is available otherwise. Deletes the list if the last element was popped.",
            blmove,
            blmove
        ),
        spec(
            "bzpopmin",
            -3,
            [.fast],
            "sorted-set",
            keys: (1, -2, 1),
            "Removes and returns the member with the lowest score from one or more sorted sets. Blocks until a member is available otherwise. Deletes the sorted set if the last element was popped."
        ) {
            try bzpop(&$0, end: .min)
        } _: {
            try bzpop(&$0, end: .min)
        },
        spec(
            "bzpopmax",
            -3,
            [.fast],
            "sorted-set",
            keys: (1, -2, 1),
            "Removes and returns the member with the highest score from one or more sorted sets. Blocks until a member available otherwise.  Deletes the sorted set if the last element was popped."
        ) {
            try bzpop(&$0, end: .max)
        } _: {
            try bzpop(&$0, end: .max)
        },
        spec(
            "bzmpop",
            -5,
            [],
            "sorted-set",
            keys: (0, 0, 0),
            "Removes and returns a member by score from one or more sorted sets. Blocks until a member is available otherwise. Deletes the sorted set if the last element was popped.",
            bzmpop,
            bzmpop
        ),
    ]

    private static func spec(
        _ name: String,
        _ arity: Int,
        _ flags: CommandSpec.Flags,
        _ group: String,
        keys: (Int, Int, Int),
        _ summary: String,
        _ direct: @escaping @Sendable (inout Call<DirectAccess>) throws -> Void,
        _ transactional: @escaping @Sendable (inout Call<TransactionalAccess>) throws -> Void
    ) -> CommandSpec {
        .keyed(
            name,
            arity: arity,
            flags: flags.union([.write, .blocking]),
            keys: keys,
            group: group,
            summary: summary,
            direct,
            transactional
        )
    }

    /// Ends a blocking command whose first attempt found nothing: the connection blocks,
    /// or, where it may not (inside EXEC), the null reply answers.
    private static func waitOrAnswerNull<A: KeyAccess>(
        _ c: inout Call<A>,
        keys: [ByteKey],
        deadline: NIODeadline?,
        nullBulk: Bool = false,
        _ attempt: @escaping BlockingAttempt
    ) {
        if c.mayBlock {
            c.blockRequest = BlockRequest(keys: keys, deadline: deadline, attempt: attempt)
        } else if nullBulk {
            c.null()
        } else {
            c.encoder.writeNullArray(into: &c.out)
        }
    }

    // MARK: - Lists

    /// BLPOP key [key ...] timeout, BRPOP key [key ...] timeout: `[key, element]`.
    static func blockingListPop<A: KeyAccess>(_ c: inout Call<A>, atHead: Bool) throws {
        let deadline = try c.blockingTimeout(c.count - 1)
        let keys = (1..<(c.count - 1)).map { c.key($0) }
        if try popOne(&c, keys: keys, atHead: atHead) { return }
        waitOrAnswerNull(&c, keys: keys, deadline: deadline) { call in try popOne(&call, keys: keys, atHead: atHead) }
    }

    /// BLPOP's and BRPOP's attempt.
    private static func popOne<A: KeyAccess>(_ c: inout Call<A>, keys: [ByteKey], atHead: Bool) throws -> Bool {
        let limits = ListCommands.limits(c)
        guard
            let popped = try ListCommands.popFirstNonEmpty(
                &c.access,
                keys: keys,
                atHead: atHead,
                count: 1,
                limits: limits
            ), let element = popped.elements.first
        else { return false }
        c.writes += 1
        c.arrayHeader(2)
        popped.key.withUnsafeBytes { c.encoder.writeBulkString($0, into: &c.out) }
        c.bulk(element)
        return true
    }

    /// BLMPOP timeout numkeys key [key ...] LEFT|RIGHT [COUNT count]: `[key, [elements]]`.
    static func blmpop<A: KeyAccess>(_ c: inout Call<A>) throws {
        // The timeout is read after the other arguments, as Redis's blmpopGenericCommand reads it.
        let (keys, atHead, count) = try ListCommands.parseMultiPop(c, numkeysIndex: 2)
        let deadline = try c.blockingTimeout(1)
        if try ListCommands.serveMultiPop(&c, keys: keys, atHead: atHead, count: count) { return }
        waitOrAnswerNull(&c, keys: keys, deadline: deadline) { call in
            try ListCommands.serveMultiPop(&call, keys: keys, atHead: atHead, count: count)
        }
    }

    /// BLMOVE source destination LEFT|RIGHT LEFT|RIGHT timeout, and BRPOPLPUSH source
    /// destination timeout: the element moved.
    static func blmove<A: KeyAccess>(_ c: inout Call<A>) throws {
        var fromHead = false
        var toHead = true
        if c.count == 6 {
            fromHead = try ListCommands.direction(c, 3)
            toHead = try ListCommands.direction(c, 4)
        }
        let deadline = try c.blockingTimeout(c.count - 1)
        let source = c.key(1)
        let destination = c.key(2)
        let (from, to) = (fromHead, toHead)
        if try ListCommands.serveMove(&c, from: source, to: destination, fromHead: from, toHead: to) { return }
        waitOrAnswerNull(&c, keys: [source], deadline: deadline, nullBulk: true) { call in
            try ListCommands.serveMove(&call, from: source, to: destination, fromHead: from, toHead: to)
        }
    }

    // MARK: - Sorted sets

    /// BZPOPMIN key [key ...] timeout, BZPOPMAX key [key ...] timeout: `[key, member, score]`.
    static func bzpop<A: KeyAccess>(_ c: inout Call<A>, end: ZSetCommands.PopEnd) throws {
        let deadline = try c.blockingTimeout(c.count - 1)
        let keys = (1..<(c.count - 1)).map { c.key($0) }
        if try ZSetCommands.pop(&c, keys: keys, end: end, count: 1, reply: .keyed) { return }
        waitOrAnswerNull(&c, keys: keys, deadline: deadline) { call in
            try ZSetCommands.pop(&call, keys: keys, end: end, count: 1, reply: .keyed)
        }
    }

    /// BZMPOP timeout numkeys key [key ...] MIN|MAX [COUNT count]: `[key, [[member, score], …]]`.
    static func bzmpop<A: KeyAccess>(_ c: inout Call<A>) throws {
        // The timeout is read after the other arguments, as Redis's blockingGenericZpopCommand reads it.
        let (keys, end, count) = try ZSetCommands.parseMultiPop(c, numkeysIndex: 2)
        let deadline = try c.blockingTimeout(1)
        if try ZSetCommands.pop(&c, keys: keys, end: end, count: count, reply: .multi) { return }
        waitOrAnswerNull(&c, keys: keys, deadline: deadline) { call in
            try ZSetCommands.pop(&call, keys: keys, end: end, count: count, reply: .multi)
        }
    }
}
