import KVS
import NIOCore
import RESP

/// MULTI, EXEC, DISCARD, WATCH, UNWATCH.
///
/// EXEC runs the queued commands in one engine transaction (``StoreEngine/runTransaction``)
/// on the selected database, so no other client sees a partial result and none of their
/// writes lands between two queued commands. The WATCH check (see ``StoredValue``) runs
/// inside the same transaction, so "unchanged at EXEC" and "applied" are one instant.
///
/// Commands with effects beyond keys (SELECT, FLUSHDB, FLUSHALL, SAVE, CONFIG SET, CLIENT,
/// …) cannot run inside an engine transaction, which may re-run its body: such a queued
/// command runs on its own between the transactions of the key commands before and after
/// it, and commands after a SELECT run in the newly selected database. Pure commands
/// (PING, ECHO, TIME, …) run inside the transaction.
enum TransactionCommands {
    static let all: [CommandSpec] = [
        .session(
            "multi",
            arity: 1,
            flags: [.notQueued, .fast],
            group: "transactions",
            summary: "Starts a transaction.",
            multi
        ),
        .session(
            "exec",
            arity: 1,
            flags: [.notQueued],
            group: "transactions",
            summary: "Executes all commands in a transaction.",
            exec
        ),
        .session(
            "discard",
            arity: 1,
            flags: [.notQueued, .fast],
            group: "transactions",
            summary: "Discards a transaction.",
            discard
        ),
        .session(
            "watch",
            arity: -2,
            flags: [.notQueued, .noMulti, .fast],
            keys: (1, -1, 1),
            group: "transactions",
            summary: "Monitors changes to keys to determine the execution of a transaction.",
            watch
        ),
        // Queued inside MULTI, as in Redis (EXEC drops the watches anyway).
        .session(
            "unwatch",
            arity: 1,
            flags: [.fast],
            group: "transactions",
            summary: "Forgets about watched keys of a transaction.",
            unwatch
        ),
    ]

    static func multi(_ c: inout SessionCall) throws {
        guard c.session.queued == nil else { throw CommandError("ERR MULTI calls can not be nested") }
        c.session.queued = []
        c.session.queueFailed = false
        c.session.info.inMulti = 0
        c.ok()
    }

    static func discard(_ c: inout SessionCall) throws {
        guard c.session.queued != nil else { throw CommandError("ERR DISCARD without MULTI") }
        c.session.queued = nil
        c.session.queueFailed = false
        c.session.info.inMulti = -1
        c.session.unwatchAll(server: c.server)
        c.ok()
    }

    static func watch(_ c: inout SessionCall) throws {
        guard c.session.queued == nil else { throw CommandError("ERR WATCH inside MULTI is not allowed") }
        let db = c.database
        for i in 1..<c.count {
            let key = c.call.key(i)
            let creations = db.watches.watch(key)
            let stamp: UInt64? = try db.engine.readEntry(key) { entry, _ in entry?.value.stamp }
            if stamp != nil { db.watches.unwatch(key) }
            c.session.watched.append(WatchedKey(database: db.index, key: key, stamp: stamp, creations: creations))
        }
        c.session.info.watching = c.session.watched.count
        c.ok()
    }

    static func unwatch(_ c: inout SessionCall) throws {
        c.session.unwatchAll(server: c.server)
        c.session.info.watching = 0
        c.ok()
    }

    /// Whether `w` is as WATCH saw it; `read` reads its key in the database it names.
    static func intact(_ w: WatchedKey, stamp: UInt64?, server: ServerState) -> Bool {
        guard stamp == w.stamp else { return false }
        if stamp == nil { return server.databases[w.database].watches.creations(of: w.key) == w.creations }
        return true
    }

    static func exec(_ c: inout SessionCall) throws {
        guard let queued = c.session.queued else { throw CommandError("ERR EXEC without MULTI") }
        let failed = c.session.queueFailed
        c.session.queued = nil
        c.session.queueFailed = false
        c.session.info.inMulti = -1
        let watched = c.session.watched
        defer {
            c.session.unwatchAll(server: c.server)
            c.session.info.watching = 0
        }
        if failed { throw CommandError("EXECABORT Transaction discarded because of previous errors.") }

        let server = c.server
        let specs = queued.map { server.commands.lookup($0[0]) }
        var results = ByteBufferAllocator().buffer(capacity: 256)
        var replyCount = 0
        var watchesChecked = watched.isEmpty
        var index = 0
        while index < queued.count {
            guard let spec = specs[index] else {
                index += 1
                continue
            }
            if !isTransactional(spec) {
                if !watchesChecked {
                    watchesChecked = true
                    if try !allIntact(watched, server: server) {
                        c.nullArray()
                        return
                    }
                }
                try runBarrier(queued[index], spec: spec, c: &c, into: &results)
                replyCount += 1
                index += 1
                continue
            }
            var end = index
            while end < queued.count, let s = specs[end], isTransactional(s) { end += 1 }
            let segment: [([ByteBuffer], CommandSpec)] = (index..<end).compactMap { i in
                specs[i].map { (queued[i], $0) }
            }
            let checkWatches = !watchesChecked
            watchesChecked = true
            let db = c.database
            let stamps = c.stamps
            let encoder = c.encoder
            let session = c.session
            // Keys watched in other databases are read here, before the transaction: a shard
            // lock of another database is never taken while this one's may be held (the lock
            // order in `KeyspaceCommands`).
            if checkWatches {
                let othersIntact = try watched.allSatisfy { w in
                    guard w.database != db.index else { return true }
                    let stamp: UInt64? = try server.databases[w.database].engine.readEntry(w.key) { e, _ in
                        e?.value.stamp
                    }
                    return intact(w, stamp: stamp, server: server)
                }
                if !othersIntact {
                    c.nullArray()
                    return
                }
            }
            let outcome: (ByteBuffer, Int, [ReadyKey])? = try db.engine.runTransaction { state in
                var call = Call(
                    args: [],
                    access: TransactionalAccess(state: state, database: db, stamps: stamps),
                    out: ByteBufferAllocator().buffer(capacity: 256),
                    encoder: encoder,
                    server: server
                )
                defer { state = call.access.state }
                if checkWatches {
                    for w in watched where w.database == db.index {
                        let stamp: UInt64? = try call.access.read(w.key) { e, _ in e?.value.stamp }
                        if !intact(w, stamp: stamp, server: server) { return nil }
                    }
                }
                for (args, spec) in segment {
                    call.args = args
                    switch spec.run {
                    case .keyed(_, let transactional):
                        do {
                            try transactional(&call)
                        } catch let error as CommandError {
                            call.error(error)
                        }
                    case .session(let run):
                        // A pure command: it runs on a copy of the session and its own buffer.
                        var pure = SessionCall(
                            session: session,
                            call: Call(
                                args: args,
                                access: DirectAccess(database: db, stamps: stamps),
                                out: ByteBufferAllocator().buffer(capacity: 64),
                                encoder: encoder,
                                server: server
                            )
                        )
                        do {
                            try run(&pure)
                        } catch let error as CommandError {
                            pure.error(error)
                        }
                        call.out.writeBuffer(&pure.call.out)
                    }
                }
                return (call.out, call.writes, call.readyKeys)
            }
            guard let (out, writes, readyKeys) = outcome else {
                c.nullArray()
                return
            }
            var replies = out
            results.writeBuffer(&replies)
            c.call.writes += writes
            c.call.readyKeys += readyKeys
            replyCount += segment.count
            index = end
        }
        // An empty transaction still fails when a watched key changed.
        if !watchesChecked, try !allIntact(watched, server: server) {
            c.nullArray()
            return
        }
        c.arrayHeader(replyCount)
        c.call.out.writeBuffer(&results)
    }

    /// Whether every key in `watched` is as WATCH saw it, each read on its own.
    static func allIntact(_ watched: [WatchedKey], server: ServerState) throws -> Bool {
        try watched.allSatisfy { w in
            let stamp: UInt64? = try server.databases[w.database].engine.readEntry(w.key) { e, _ in e?.value.stamp }
            return intact(w, stamp: stamp, server: server)
        }
    }

    /// Whether `spec` can run inside an engine transaction: a key command, or a pure one.
    static func isTransactional(_ spec: CommandSpec) -> Bool {
        if case .keyed = spec.run { return true }
        return spec.flags.contains(.pure)
    }

    /// Runs one queued non-keyed command on its own and appends its reply.
    static func runBarrier(
        _ args: [ByteBuffer],
        spec: CommandSpec,
        c: inout SessionCall,
        into results: inout ByteBuffer
    ) throws {
        let savedArgs = c.call.args
        var savedOut = c.call.out
        c.call.out = ByteBufferAllocator().buffer(capacity: 64)
        c.call.args = args
        c.insideExec = true
        c.call.mayBlock = false
        defer {
            c.insideExec = false
            c.call.mayBlock = true
            c.call.args = savedArgs
        }
        do {
            switch spec.run {
            case .session(let run): try run(&c)
            case .keyed(let direct, _): try direct(&c.call)
            }
        } catch let error as CommandError {
            c.error(error)
        }
        results.writeBuffer(&c.call.out)
        swap(&savedOut, &c.call.out)
    }
}
