import KVS
import NIOCore

/// List commands: pushes and pops at both ends, LMPOP, LMOVE and RPOPLPUSH, reads by index
/// and range, LSET, LINSERT, LREM, LTRIM, LPOS.
///
/// Each follows Redis 7.0's t_list.c: the order of its checks (arguments, then the key's
/// type, then the value) decides which error a bad call gets, and is kept here. Writes
/// change the list where it lies in its shard (``KeyAccess/updateList(_:creating:_:)``);
/// reads of many elements take a reference under the lock and encode outside it.
///
/// The pop and move logic is also what the blocking commands run when a key they wait on
/// gets elements: ``popFirstNonEmpty(_:keys:atHead:count:limits:)``,
/// ``move(_:from:to:fromHead:toHead:limits:)``, and the reply writers
/// ``serveMultiPop(_:keys:atHead:count:)`` and ``serveMove(_:from:to:fromHead:toHead:)``.
enum ListCommands {
    static let all: [CommandSpec] = [
        spec(
            "lpush",
            -3,
            [.write, .fast],
            "Prepends one or more elements to a list. Creates the key if it doesn't exist."
        ) {
            try push(&$0, atHead: true, existing: false)
        } _: {
            try push(&$0, atHead: true, existing: false)
        },
        spec(
            "rpush",
            -3,
            [.write, .fast],
            "Appends one or more elements to a list. Creates the key if it doesn't exist."
        ) {
            try push(&$0, atHead: false, existing: false)
        } _: {
            try push(&$0, atHead: false, existing: false)
        },
        spec("lpushx", -3, [.write, .fast], "Prepends one or more elements to a list only when the list exists.") {
            try push(&$0, atHead: true, existing: true)
        } _: {
            try push(&$0, atHead: true, existing: true)
        },
        spec("rpushx", -3, [.write, .fast], "Appends an element to a list only when the list exists.") {
            try push(&$0, atHead: false, existing: true)
        } _: {
            try push(&$0, atHead: false, existing: true)
        },
        spec(
            "lpop",
            -2,
            [.write, .fast],
            "Returns the first elements in a list after removing it. Deletes the list if the last element was popped."
        ) {
            try pop(&$0, atHead: true)
        } _: {
            try pop(&$0, atHead: true)
        },
        spec(
            "rpop",
            -2,
            [.write, .fast],
            "Returns and removes the last elements of the list. Deletes the list if the last element was popped."
        ) {
            try pop(&$0, atHead: false)
        } _: {
            try pop(&$0, atHead: false)
        },
        spec(
            "lmpop",
            -4,
            [.write],
            "Returns multiple elements from a list after removing them. Deletes the list if the last element was popped.",
            keys: (0, 0, 0),
            lmpop,
            lmpop
        ),
        spec(
            "lmove",
            5,
            [.write],
            "Returns an element after popping it from one list and pushing it to another. Deletes the list if the last element was moved.",
            keys: (1, 2, 1),
            lmove,
            lmove
        ),
        spec(
            "rpoplpush",
            3,
            [.write],
            "Returns the last element of a list after removing and pushing it to another list. Deletes the list if the last element was popped.",
            keys: (1, 2, 1),
            lmove,
            lmove
        ),
        spec("llen", 2, [.readonly, .fast], "Returns the length of a list.", llen, llen),
        spec("lrange", 4, [.readonly], "Returns a range of elements from a list.", lrange, lrange),
        spec("lindex", 3, [.readonly], "Returns an element from a list by its index.", lindex, lindex),
        spec("lset", 4, [.write], "Sets the value of an element in a list by its index.", lset, lset),
        spec("linsert", 5, [.write], "Inserts an element before or after another element in a list.", linsert, linsert),
        spec(
            "lrem",
            4,
            [.write],
            "Removes elements from a list. Deletes the list if the last element was removed.",
            lrem,
            lrem
        ),
        spec(
            "ltrim",
            4,
            [.write],
            "Removes elements from both ends a list. Deletes the list if all elements were trimmed.",
            ltrim,
            ltrim
        ),
        spec("lpos", -3, [.readonly], "Returns the index of matching elements in a list.", lpos, lpos),
    ]

    private static func spec(
        _ name: String,
        _ arity: Int,
        _ flags: CommandSpec.Flags,
        _ summary: String,
        keys: (Int, Int, Int) = (1, 1, 1),
        _ direct: @escaping @Sendable (inout Call<DirectAccess>) throws -> Void,
        _ transactional: @escaping @Sendable (inout Call<TransactionalAccess>) throws -> Void
    ) -> CommandSpec {
        .keyed(
            name,
            arity: arity,
            flags: flags,
            keys: keys,
            group: "list",
            summary: summary,
            direct,
            transactional
        )
    }

    /// The node limit in force (CONFIG SET changes it for the writes after it).
    static func limits<A: KeyAccess>(_ c: Call<A>) -> ListLimits { c.server.listLimits }

    // MARK: - Pushes

    /// LPUSH, RPUSH, LPUSHX, RPUSHX: the elements go in straight from the request buffer.
    static func push<A: KeyAccess>(_ c: inout Call<A>, atHead: Bool, existing: Bool) throws {
        let args = c.args
        let limits = limits(c)
        let length: Int =
            try c.access.updateList(c.key(1), creating: !existing) { list in
                list.prepareToPush(lengths: args[2...].lazy.map(\.readableBytes), limits: limits)
                for i in 2..<args.count {
                    args[i].withUnsafeReadableBytes { list.push($0, atHead: atHead, limits: limits) }
                }
                return (list.count, true)
            } ?? 0
        if length > 0 {
            c.writes += args.count - 2
            c.signalReady(c.key(1))
        }
        c.integer(reply: length)
    }

    // MARK: - Pops

    /// LPOP and RPOP, with or without a count.
    static func pop<A: KeyAccess>(_ c: inout Call<A>, atHead: Bool) throws {
        guard c.count <= 3 else { throw CommandError.wrongArity(c.name) }
        var count: Int? = nil
        if c.count == 3 {
            guard let n = RedisNumber.parseInt64(c.args[2].readableBytesView), n >= 0 else {
                throw CommandError("ERR value is out of range, must be positive")
            }
            count = Int(n)
        }
        let key = c.key(1)
        let limits = limits(c)
        // A count of 0 answers an empty array for a list, after the type check.
        let popped: [ValueBytes]? = try c.access.updateList(key, creating: false) { list in
            guard count != 0 else { return ([], false) }
            return (list.pop(count ?? 1, atHead: atHead, limits: limits), true)
        }
        guard let popped else {
            if count == nil { c.null() } else { c.encoder.writeNullArray(into: &c.out) }
            return
        }
        c.writes += popped.count
        guard count != nil else {
            // A stored list is never empty: one element came out.
            if let first = popped.first { c.bulk(first) } else { c.null() }
            return
        }
        c.arrayHeader(popped.count)
        for element in popped { c.bulk(element) }
    }

    /// Pops up to `count` elements from the head or tail of the first key of `keys` that
    /// holds a list (a stored list is never empty), all keys seen at one instant: LPOP,
    /// RPOP and LMPOP run it, and BLPOP, BRPOP and BLMPOP can run it again when a key they
    /// wait on gets elements. Nothing is written to any reply.
    ///
    /// - Returns: the key popped from and its elements (head first when popping at the
    ///   head, tail first at the tail), or `nil` when no key holds a list (nothing
    ///   changed).
    /// - Throws: ``CommandError/wrongType`` when a key before the first list holds
    ///   another type (nothing changed).
    /// - Complexity: O(keys + popped elements + size of a node); with more than one key
    ///   the keys are read in one transaction, which copies the popped list's node deque
    ///   (O(nodes)).
    static func popFirstNonEmpty<A: KeyAccess>(
        _ access: inout A,
        keys: [ByteKey],
        atHead: Bool,
        count: Int,
        limits: ListLimits
    ) throws -> (key: ByteKey, elements: [ValueBytes])? {
        func run<B: KeyAccess>(_ access: inout B) throws -> (key: ByteKey, elements: [ValueBytes])? {
            for key in keys {
                let popped = try access.updateList(key, creating: false) { list in
                    (list.pop(count, atHead: atHead, limits: limits), true)
                }
                if let popped { return (key, popped) }
            }
            return nil
        }
        if keys.count == 1 { return try run(&access) }
        return try access.atomically { try run(&$0) }
    }

    /// Runs LMPOP's pop and writes its reply (`[key, [elements]]`), or returns `false`
    /// having written nothing when no key holds a list: what BLMPOP needs to serve a
    /// blocked client.
    ///
    /// - Throws: ``CommandError/wrongType`` as ``popFirstNonEmpty(_:keys:atHead:count:limits:)``.
    static func serveMultiPop<A: KeyAccess>(
        _ c: inout Call<A>,
        keys: [ByteKey],
        atHead: Bool,
        count: Int
    ) throws -> Bool {
        let limits = limits(c)
        guard
            let (key, elements) = try popFirstNonEmpty(
                &c.access,
                keys: keys,
                atHead: atHead,
                count: count,
                limits: limits
            ).map({ ($0.key, $0.elements) })
        else { return false }
        c.writes += elements.count
        c.arrayHeader(2)
        key.withUnsafeBytes { c.encoder.writeBulkString($0, into: &c.out) }
        c.arrayHeader(elements.count)
        for element in elements { c.bulk(element) }
        return true
    }

    /// LMPOP numkeys key [key ...] LEFT|RIGHT [COUNT count].
    static func lmpop<A: KeyAccess>(_ c: inout Call<A>) throws {
        let (keys, atHead, count) = try parseMultiPop(c, numkeysIndex: 1)
        if try !serveMultiPop(&c, keys: keys, atHead: atHead, count: count) {
            c.encoder.writeNullArray(into: &c.out)
        }
    }

    /// The arguments of LMPOP (and BLMPOP, whose numkeys follows the timeout):
    /// `numkeys key... LEFT|RIGHT [COUNT count]` from `numkeysIndex`, checked in Redis's
    /// order (`lmpopGenericCommand`).
    ///
    /// - Throws: `ERR numkeys should be greater than 0`, `ERR count should be greater
    ///   than 0`, or `ERR syntax error`.
    static func parseMultiPop<A: KeyAccess>(
        _ c: Call<A>,
        numkeysIndex: Int
    ) throws(CommandError) -> (keys: [ByteKey], atHead: Bool, count: Int) {
        guard let numkeys = RedisNumber.parseInt64(c.args[numkeysIndex].readableBytesView), numkeys >= 1 else {
            throw CommandError("ERR numkeys should be greater than 0")
        }
        // The direction follows the keys; a numkeys beyond the arguments is a syntax error.
        guard numkeys <= Int64(c.count - numkeysIndex - 2) else { throw .syntax }
        let whereIndex = numkeysIndex + 1 + Int(numkeys)
        let atHead = try direction(c, whereIndex)
        var count: Int? = nil
        var i = whereIndex + 1
        while i < c.count {
            guard count == nil, c.option(i) == "COUNT", i + 1 < c.count else { throw .syntax }
            guard let n = RedisNumber.parseInt64(c.args[i + 1].readableBytesView), n >= 1 else {
                throw CommandError("ERR count should be greater than 0")
            }
            count = Int(n)
            i += 2
        }
        return ((numkeysIndex + 1..<whereIndex).map { c.key($0) }, atHead, count ?? 1)
    }

    /// `LEFT` (the head) or `RIGHT` at argument `i`.
    ///
    /// - Throws: ``CommandError/syntax`` for anything else.
    static func direction<A: KeyAccess>(_ c: Call<A>, _ i: Int) throws(CommandError) -> Bool {
        switch c.option(i) {
        case "LEFT": return true
        case "RIGHT": return false
        default: throw .syntax
        }
    }

    // MARK: - Moves

    /// Pops an element from the head or tail of the list at `source` and pushes it at the
    /// head or tail of `destination` (created if absent), at one instant: LMOVE and
    /// RPOPLPUSH run it, and BLMOVE and BRPOPLPUSH can run it again when `source` gets
    /// elements. With `source == destination` the list rotates and keeps its deadline.
    /// Nothing is written to any reply.
    ///
    /// - Returns: the element moved, or `nil` when `source` holds no list (nothing
    ///   changed; `destination`'s type is not checked then, as in Redis).
    /// - Throws: ``CommandError/wrongType`` when `source` or `destination` holds another
    ///   type (nothing changed).
    /// - Complexity: O(size of a node); between two keys, a transaction that copies each
    ///   list's node deque (O(nodes)).
    static func move<A: KeyAccess>(
        _ access: inout A,
        from source: ByteKey,
        to destination: ByteKey,
        fromHead: Bool,
        toHead: Bool,
        limits: ListLimits
    ) throws -> ValueBytes? {
        if source == destination {
            return try access.updateList(source, creating: false) { list in
                let element = list.pop(1, atHead: fromHead, limits: limits)
                list.push(element, atHead: toHead, limits: limits)
                return (element.first, true)
            } ?? nil
        }
        return try access.atomically { access in
            guard try access.readList(source) != nil else { return nil }
            _ = try access.readList(destination)
            let element =
                try access.updateList(source, creating: false) { list in
                    (list.pop(1, atHead: fromHead, limits: limits), true)
                } ?? []
            guard let first = element.first else { return nil }
            _ = try access.updateList(destination, creating: true) { list in
                list.push(element, atHead: toHead, limits: limits)
                return ((), true)
            }
            return first
        }
    }

    /// Runs LMOVE's move and writes its reply (the element), or returns `false` having
    /// written nothing when `source` holds no list: what BLMOVE and BRPOPLPUSH need to
    /// serve a blocked client.
    ///
    /// - Throws: ``CommandError/wrongType`` as ``move(_:from:to:fromHead:toHead:limits:)``.
    static func serveMove<A: KeyAccess>(
        _ c: inout Call<A>,
        from source: ByteKey,
        to destination: ByteKey,
        fromHead: Bool,
        toHead: Bool
    ) throws -> Bool {
        let limits = limits(c)
        guard
            let element = try move(
                &c.access,
                from: source,
                to: destination,
                fromHead: fromHead,
                toHead: toHead,
                limits: limits
            )
        else { return false }
        c.writes += 1
        c.signalReady(destination)
        c.bulk(element)
        return true
    }

    /// LMOVE source destination LEFT|RIGHT LEFT|RIGHT, and RPOPLPUSH source destination.
    static func lmove<A: KeyAccess>(_ c: inout Call<A>) throws {
        var fromHead = false
        var toHead = true
        if c.count == 5 {
            fromHead = try direction(c, 3)
            toHead = try direction(c, 4)
        }
        if try !serveMove(&c, from: c.key(1), to: c.key(2), fromHead: fromHead, toHead: toHead) { c.null() }
    }

    // MARK: - Reads

    static func llen<A: KeyAccess>(_ c: inout Call<A>) throws {
        let n: Int = try c.access.read(c.key(1)) { entry, _ in try entry?.value.list().count ?? 0 }
        c.integer(reply: n)
    }

    /// The range `start...end` of a list of `count` elements, Redis's way: negative
    /// positions count from the tail, the start is clamped at 0 and the end at the last
    /// element; `nil` when empty.
    static func range(_ start: Int64, _ end: Int64, count: Int) -> ClosedRange<Int>? {
        let n = Int64(count)
        var start = start < 0 ? n + start : start
        var end = end < 0 ? n + end : end
        if start < 0 { start = 0 }
        guard start <= end, start < n else { return nil }
        if end >= n { end = n - 1 }
        return Int(start)...Int(end)
    }

    static func lrange<A: KeyAccess>(_ c: inout Call<A>) throws {
        let start = try c.integer(2)
        let end = try c.integer(3)
        guard let list = try c.access.readList(c.key(1)), let range = range(start, end, count: list.count) else {
            c.arrayHeader(0)
            return
        }
        c.arrayHeader(range.count)
        var left = range.count
        list.forEach(from: range.lowerBound) { element in
            c.encoder.writeBulkString(element, into: &c.out)
            left -= 1
            return left > 0
        }
    }

    static func lindex<A: KeyAccess>(_ c: inout Call<A>) throws {
        // Redis looks the key up and checks its type before it reads the index.
        let index = RedisNumber.parseInt64(c.args[2].readableBytesView)
        let element: ValueBytes? = try c.access.read(c.key(1)) { entry, _ in
            guard let list = try entry?.value.list() else { return nil }
            guard let index else { throw CommandError.notInteger }
            return list.element(at: Int(index))
        }
        if let element { c.bulk(element) } else { c.null() }
    }

    // MARK: - Writes in the middle

    static func lset<A: KeyAccess>(_ c: inout Call<A>) throws {
        // Redis looks the key up before it reads the index.
        let index = RedisNumber.parseInt64(c.args[2].readableBytesView)
        let value = c.value(3)
        let limits = limits(c)
        let done: Void? = try c.access.updateList(c.key(1), creating: false) { list in
            guard let index else { throw CommandError.notInteger }
            guard list.set(Int(index), to: value, limits: limits) else { throw CommandError("ERR index out of range") }
            return ((), true)
        }
        guard done != nil else { throw CommandError.noSuchKey }
        c.writes += 1
        c.ok()
    }

    static func linsert<A: KeyAccess>(_ c: inout Call<A>) throws {
        let before: Bool
        switch c.option(2) {
        case "BEFORE": before = true
        case "AFTER": before = false
        default: throw CommandError.syntax
        }
        let pivot = c.value(3)
        let value = c.value(4)
        let limits = limits(c)
        let length: Int =
            try c.access.updateList(c.key(1), creating: false) { list in
                guard let n = list.insert(value, before: before, pivot: pivot, limits: limits) else {
                    return (-1, false)
                }
                return (n, true)
            } ?? 0
        if length > 0 { c.writes += 1 }
        c.integer(reply: length)
    }

    static func lrem<A: KeyAccess>(_ c: inout Call<A>) throws {
        let count = try c.integer(2)
        let value = c.value(3)
        let limits = limits(c)
        // Redis negates a negative count, so LLONG_MIN removes every match (as 0 does).
        let limit = count == 0 ? UInt64.max : count.magnitude
        let removed: Int =
            try c.access.updateList(c.key(1), creating: false) { list in
                let n = list.remove(value, limit: limit, fromTail: count < 0, limits: limits)
                return (n, n > 0)
            } ?? 0
        c.writes += removed
        c.integer(reply: removed)
    }

    static func ltrim<A: KeyAccess>(_ c: inout Call<A>) throws {
        let start = try c.integer(2)
        let end = try c.integer(3)
        let limits = limits(c)
        let removed: Int =
            try c.access.updateList(c.key(1), creating: false) { list in
                let count = list.count
                let (head, tail) =
                    range(start, end, count: count).map { ($0.lowerBound, count - 1 - $0.upperBound) }
                    ?? (count, 0)
                list.trim(head: head, tail: tail, limits: limits)
                // Redis signals the key as modified even when nothing goes.
                return (head + tail, true)
            } ?? 0
        c.writes += removed
        c.ok()
    }

    // MARK: - LPOS

    /// LPOS key element [RANK rank] [COUNT num-matches] [MAXLEN len].
    ///
    /// A RANK of -2^63 is refused as Redis 7.2 refuses it (7.0 negates it and overflows).
    static func lpos<A: KeyAccess>(_ c: inout Call<A>) throws {
        var rank: Int64 = 1
        var count: Int64? = nil
        var maxlen: Int64 = 0
        var i = 3
        while i < c.count {
            guard i + 1 < c.count else { throw CommandError.syntax }
            let bytes = c.args[i + 1].readableBytesView
            switch c.option(i) {
            case "RANK":
                guard let n = RedisNumber.parseInt64(bytes) else { throw CommandError.notInteger }
                guard n != Int64.min else {
                    throw CommandError(
                        "ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807"
                    )
                }
                guard n != 0 else {
                    throw CommandError(
                        "ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use negative to start from the end of the list"
                    )
                }
                rank = n
            case "COUNT":
                guard let n = RedisNumber.parseInt64(bytes), n >= 0 else {
                    throw CommandError("ERR COUNT can't be negative")
                }
                count = n
            case "MAXLEN":
                guard let n = RedisNumber.parseInt64(bytes), n >= 0 else {
                    throw CommandError("ERR MAXLEN can't be negative")
                }
                maxlen = n
            default:
                throw CommandError.syntax
            }
            i += 2
        }
        let wanted = c.value(2)
        guard let list = try c.access.readList(c.key(1)) else {
            if count != nil { c.arrayHeader(0) } else { c.null() }
            return
        }
        let fromTail = rank < 0
        let skip = rank.magnitude - 1  // matches to pass over before the first one answered
        let most = count.map { $0 == 0 ? UInt64.max : UInt64($0) } ?? 1
        var found: [Int] = []
        var matches: UInt64 = 0
        var scanned: Int64 = 0
        let length = list.count
        wanted.withUnsafeBytes { wanted in
            let visit = { (element: UnsafeRawBufferPointer) -> Bool in
                guard maxlen == 0 || scanned < maxlen else { return false }
                if ListValue.equal(element, wanted) {
                    if matches >= skip {
                        found.append(fromTail ? length - 1 - Int(scanned) : Int(scanned))
                        if UInt64(found.count) >= most { return false }
                    }
                    matches += 1
                }
                scanned += 1
                return true
            }
            if fromTail { list.forEachReversed(visit) } else { list.forEach(from: 0, visit) }
        }
        if count == nil {
            if let first = found.first { c.integer(reply: first) } else { c.null() }
            return
        }
        c.arrayHeader(found.count)
        for index in found { c.integer(reply: index) }
    }
}
