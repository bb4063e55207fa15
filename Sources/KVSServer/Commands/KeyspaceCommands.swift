import KVS
import NIOCore

/// Commands that move keys between keys or databases: COPY, MOVE, SWAPDB.
///
/// They are session commands (and barriers inside EXEC) because they may touch a database
/// other than the selected one, which an engine transaction of the selected database
/// cannot cover. Each is still one atomic step: COPY and MOVE across databases hold the
/// shard locks of both keys at once, and SWAPDB holds every shard lock of both databases.
///
/// Lock order: whenever shard locks of two databases are held at once, those of the
/// lower-numbered database are taken first (``withEntries(_:_:_:_:_:)``,
/// ``StoreEngine/swapContents(with:)``), and no command takes a shard lock of another
/// database while it holds one of an engine transaction (EXEC reads other databases'
/// watched keys before its transaction), so no two commands can wait on each other.
///
/// WATCH follows from the write stamps (see ``StoredValue``): a key written here gets a
/// new stamp (COPY's destination, MOVE's destination) or disappears (MOVE's source), and
/// SWAPDB moves every entry with its stamp to the other database, so a key watched in
/// either database reads as changed whenever it is present in either before the swap, as
/// Redis's `touchAllWatchedKeysInDb` marks it.
enum KeyspaceCommands {
    static let all: [CommandSpec] = [
        .session(
            "copy",
            arity: -3,
            flags: [.write, .barrier],
            keys: (1, 2, 1),
            group: "generic",
            summary: "Copies the value of a key to a new key.",
            copy
        ),
        .session(
            "move",
            arity: 3,
            flags: [.write, .fast, .barrier],
            keys: (1, 1, 1),
            group: "generic",
            summary: "Moves a key to another database.",
            move
        ),
        .session(
            "swapdb",
            arity: 3,
            flags: [.write, .fast, .barrier],
            group: "server",
            summary: "Swaps two Redis databases.",
            swapdb
        ),
    ]

    static let sameObjects = CommandError("ERR source and destination objects are the same")
    static let indexOutOfRange = CommandError("ERR DB index is out of range")

    /// Argument `i` as a database number, parsed as Redis's `getIntFromObject` parses
    /// one (a 64-bit integer, then C `int` range), then one of the server's databases.
    static func databaseIndex(_ c: SessionCall, _ i: Int) throws(CommandError) -> Int {
        let n = try c.integer(i)
        guard n >= Int64(Int32.min), n <= Int64(Int32.max) else {
            throw CommandError("ERR value is out of range, value must between -2147483648 and 2147483647")
        }
        guard n >= 0, n < Int64(c.server.databases.count) else { throw indexOutOfRange }
        return Int(n)
    }

    /// COPY source destination [DB n] [REPLACE]: 1 if copied (with the source's TTL), 0 if
    /// the source is missing or the destination exists without REPLACE.
    static func copy(_ c: inout SessionCall) throws {
        var replace = false
        var targetIndex = c.session.database
        var i = 3
        while i < c.count {
            let option = c.option(i)
            if option == "REPLACE" {
                replace = true
            } else if option == "DB", i + 1 < c.count {
                targetIndex = try databaseIndex(c, i + 1)
                i += 1
            } else {
                throw CommandError.syntax
            }
            i += 1
        }
        let source = c.call.key(1)
        let target = c.call.key(2)
        if targetIndex == c.session.database, source == target { throw sameObjects }
        let stamper = c.call.access
        let put = { (from: Entry<StoredValue>?, to: inout Entry<StoredValue>?) -> Bool in
            guard let from else { return false }
            if to != nil, !replace { return false }
            to = stamper.restamped(from, expiresAt: from.expiresAt)
            return true
        }
        let done: Bool
        if targetIndex == c.session.database {
            done = try c.call.access.atomically { access in
                let from = try access.read(source) { entry, _ in entry }
                return try access.update(target) { entry, _ in put(from, &entry) }
            }
        } else {
            var from = c.call.access
            var to = DirectAccess(database: c.server.databases[targetIndex], stamps: c.stamps)
            done = try withEntries(&from, source, &to, target) { sourceEntry, targetEntry, _ in
                put(sourceEntry, &targetEntry)
            }
        }
        if done {
            c.call.writes += 1
            c.call.signalReady(target, database: targetIndex)
        }
        c.integer(reply: done ? 1 : 0)
    }

    /// MOVE key db: 1 if moved (with its TTL), 0 if the key is missing or exists in `db`.
    static func move(_ c: inout SessionCall) throws {
        let targetIndex = try databaseIndex(c, 2)
        guard targetIndex != c.session.database else { throw sameObjects }
        let key = c.call.key(1)
        var from = c.call.access
        var to = DirectAccess(database: c.server.databases[targetIndex], stamps: c.stamps)
        let stamper = to
        let done = try withEntries(&from, key, &to, key) { sourceEntry, targetEntry, _ in
            guard let moving = sourceEntry, targetEntry == nil else { return false }
            targetEntry = stamper.restamped(moving, expiresAt: moving.expiresAt)
            sourceEntry = nil
            return true
        }
        if done {
            c.call.writes += 1
            c.call.signalReady(key, database: targetIndex)
        }
        c.integer(reply: done ? 1 : 0)
    }

    /// SWAPDB a b: every connection that selected `a` now sees what `b` held, and the
    /// other way round, at one instant.
    static func swapdb(_ c: inout SessionCall) throws {
        func index(_ i: Int, _ which: String) throws(CommandError) -> Int64 {
            guard let n = RedisNumber.parseInt64(c.args[i].readableBytesView), n >= Int64(Int32.min),
                n <= Int64(Int32.max)
            else { throw CommandError("ERR invalid \(which) DB index") }
            return n
        }
        let first = try index(1, "first")
        let second = try index(2, "second")
        let count = Int64(c.server.databases.count)
        guard first >= 0, first < count, second >= 0, second < count else { throw indexOutOfRange }
        if first != second {
            let lower = c.server.databases[Int(min(first, second))]
            let higher = c.server.databases[Int(max(first, second))]
            try lower.engine.swapContents(with: higher.engine)
            // Clients blocked in either database may find data now, as Redis's
            // scanDatabaseForReadyKeys looks for them after a swap.
            c.call.readyKeys += c.server.blocking.waitingKeys(inDatabases: [Int(first), Int(second)])
        }
        c.call.writes += 1
        c.ok()
    }

    /// Runs `body` with the live entries of `firstKey` in `first`'s database and of
    /// `secondKey` in `second`'s (two different databases), both shard locks held, and
    /// stores what it leaves in each (`nil` deletes), as one atomic step. The lower-
    /// numbered database's lock is taken first (see the type's lock order); if `body`
    /// throws, neither entry changes.
    static func withEntries<R>(
        _ first: inout DirectAccess,
        _ firstKey: ByteKey,
        _ second: inout DirectAccess,
        _ secondKey: ByteKey,
        _ body: (inout Entry<StoredValue>?, inout Entry<StoredValue>?, _ now: Int64) throws -> R
    ) throws -> R {
        if first.database.index < second.database.index {
            return try first.update(firstKey) { a, now in
                try second.update(secondKey) { b, _ in try body(&a, &b, now) }
            }
        }
        return try second.update(secondKey) { b, now in
            try first.update(firstKey) { a, _ in try body(&a, &b, now) }
        }
    }
}
