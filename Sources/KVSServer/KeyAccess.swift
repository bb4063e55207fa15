import KVS

/// What a command sees of one database: the keys it reads and writes, either directly on
/// the engine (one atomic step per key, ``DirectAccess``) or inside a transaction
/// (``TransactionalAccess``, for EXEC and multi-key commands). Every command is written
/// once, generically over this protocol, and so behaves the same in and out of MULTI.
package protocol KeyAccess {
    /// The database.
    var database: Database { get }
    /// The connection's stamp allocator: every value written takes a new stamp.
    var stamps: StampAllocator { get }

    /// Calls `body` with the live entry of `key` (`nil` when absent or expired).
    mutating func read<R>(_ key: ByteKey, _ body: (Entry<StoredValue>?, _ now: Int64) throws -> R) throws -> R

    /// Calls `body` with the live entry of `key` and stores what it leaves (`nil`
    /// deletes), atomically. A body that writes must give the value a new stamp
    /// (``stamped(_:expiresAt:)``); one that throws changes nothing.
    mutating func update<R>(_ key: ByteKey, _ body: (inout Entry<StoredValue>?, _ now: Int64) throws -> R) throws -> R

    /// Runs `body` atomically with respect to every other command (a transaction for
    /// ``DirectAccess``; the enclosing transaction for ``TransactionalAccess``). `body`
    /// may run more than once.
    mutating func atomically<R>(_ body: (inout TransactionalAccess) throws -> R) throws -> R
}

extension KeyAccess {
    /// A new entry holding `bytes`, with a fresh stamp.
    package func stamped(_ bytes: [UInt8], expiresAt: Int64 = 0) -> Entry<StoredValue> {
        stamped(ValueBytes(bytes), expiresAt: expiresAt)
    }

    /// A new entry holding `bytes`, with a fresh stamp.
    package func stamped(_ bytes: ValueBytes, expiresAt: Int64 = 0) -> Entry<StoredValue> {
        Entry(value: StoredValue(bytes: bytes, stamp: stamps.take()), expiresAt: expiresAt)
    }

    /// `entry` with a fresh stamp and the deadline `expiresAt`.
    package func restamped(_ entry: Entry<StoredValue>, expiresAt: Int64) -> Entry<StoredValue> {
        Entry(value: StoredValue(bytes: entry.value.bytes, stamp: stamps.take()), expiresAt: expiresAt)
    }
}

/// Keys read and written directly on the engine: each call is one atomic step under the
/// key's shard lock.
package struct DirectAccess: KeyAccess {
    package let database: Database
    package let stamps: StampAllocator

    package init(database: Database, stamps: StampAllocator) {
        self.database = database
        self.stamps = stamps
    }

    package mutating func read<R>(_ key: ByteKey, _ body: (Entry<StoredValue>?, Int64) throws -> R) throws -> R {
        let result: Result<R, any Error> = try database.engine.readEntry(key) { entry, now in
            Result { try body(entry, now) }
        }
        return try result.get()
    }

    package mutating func update<R>(_ key: ByteKey, _ body: (inout Entry<StoredValue>?, Int64) throws -> R) throws -> R
    {
        let watches = database.watches
        do {
            return try database.engine.withEntryThrowing(key) { (entry, now) throws(BodyError) -> R in
                let wasAbsent = entry == nil
                let result: R
                do { result = try body(&entry, now) } catch { throw BodyError(error: error) }
                if wasAbsent, entry != nil, watches.isActive { watches.noteCreated(key) }
                return result
            }
        } catch {
            switch error {
            case .store(let error): throw error
            case .body(let error): throw error.error
            }
        }
    }

    package mutating func atomically<R>(_ body: (inout TransactionalAccess) throws -> R) throws -> R {
        let database = self.database
        let stamps = self.stamps
        return try database.engine.runTransaction { state in
            var access = TransactionalAccess(state: state, database: database, stamps: stamps)
            defer { state = access.state }
            return try body(&access)
        }
    }
}

/// Wraps an error thrown by a command body inside an engine call.
struct BodyError: Error {
    let error: any Error
}

/// Keys read and written inside one engine transaction: reads see the transaction's own
/// writes, writes are buffered and applied at commit, all or nothing.
package struct TransactionalAccess: KeyAccess {
    /// The engine's transaction state; started fresh for each attempt.
    package var state: TransactionState<ByteKey, StoredValue>
    package let database: Database
    package let stamps: StampAllocator

    package init(state: TransactionState<ByteKey, StoredValue>, database: Database, stamps: StampAllocator) {
        self.state = state
        self.database = database
        self.stamps = stamps
    }

    package mutating func read<R>(_ key: ByteKey, _ body: (Entry<StoredValue>?, Int64) throws -> R) throws -> R {
        try body(try state.entry(key), state.now)
    }

    package mutating func update<R>(_ key: ByteKey, _ body: (inout Entry<StoredValue>?, Int64) throws -> R) throws -> R
    {
        let before = try state.entry(key)
        var entry = before
        let result = try body(&entry, state.now)
        switch (before, entry) {
        case (nil, nil):
            break
        case (_?, nil):
            try state.delete(key)
        case (let old, let new?):
            if old?.value.stamp != new.value.stamp || old?.expiresAt != new.expiresAt {
                // The deadline is absolute (EXPIREAT, KEEPTTL): it does not move with the commit.
                try state.set(key, new.value, expiresAt: new.expiresAt)
                if old == nil, database.watches.isActive { database.watches.noteCreated(key) }
            }
        }
        return result
    }

    package mutating func atomically<R>(_ body: (inout TransactionalAccess) throws -> R) throws -> R {
        try body(&self)
    }
}
