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

    /// The access word of `key` (see ``AccessClock``), read without counting as an
    /// access; nil when the key is absent or has none.
    mutating func accessWord(_ key: ByteKey) throws -> UInt32?

    /// Sets the access word of `key` (RESTORE's IDLETIME and FREQ). Inside a transaction,
    /// where the key is written at commit, nothing: the key starts as a new one.
    mutating func setAccessWord(_ key: ByteKey, _ word: UInt32) throws

    /// Calls `body` with the live entry of `key` (`nil` when absent or expired).
    mutating func read<R>(_ key: ByteKey, _ body: (Entry<StoredValue>?, _ now: Int64) throws -> R) throws -> R

    /// Calls `body` with the live entry of `key` and stores what it leaves (`nil`
    /// deletes), atomically. A body that writes must give the value a new stamp
    /// (``stamped(_:expiresAt:)``); one that throws changes nothing.
    mutating func update<R>(_ key: ByteKey, _ body: (inout Entry<StoredValue>?, _ now: Int64) throws -> R) throws -> R

    /// Calls `body` with the live value of `key` where it lies, so that a collection
    /// referenced only there changes in place, and deletes the key if `body` asks
    /// (`remove`); `nil` without calling `body` when the key is absent or expired. The
    /// deadline stays. A body that writes must give the value a new stamp; one that
    /// throws must change nothing.
    mutating func modify<R>(
        _ key: ByteKey,
        _ body: (inout StoredValue, _ now: Int64) throws -> (result: R, remove: Bool)
    ) throws -> R?

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
        var value = entry.value
        value.stamp = stamps.take()
        return Entry(value: value, expiresAt: expiresAt)
    }

    /// The collection of type `C` at `key` (a reference: O(1)), or `nil` when the key is
    /// absent.
    ///
    /// - Throws: ``CommandError/wrongType`` when the key holds another type.
    package mutating func readCollection<C: StoredCollection>(_ key: ByteKey, as type: C.Type) throws -> C? {
        try read(key) { entry, _ in try entry?.value.collection(type) }
    }

    /// The hash at `key` (see ``readCollection(_:as:)``).
    package mutating func readHash(_ key: ByteKey) throws -> HashValue? {
        try readCollection(key, as: HashValue.self)
    }

    /// Runs `body` on the collection of type `C` at `key` in place; when the key is
    /// absent, on a new empty collection if `creating` (stored only if `body` leaves it
    /// non-empty), else not at all (`nil`). `body` answers its result and whether it
    /// changed the collection: a change takes a new stamp (WATCH sees it), and a
    /// collection left empty deletes its key.
    ///
    /// - Throws: ``CommandError/wrongType`` when the key holds another type, or what
    ///   `body` throws (which must then have changed nothing).
    package mutating func updateCollection<C: StoredCollection, R>(
        _ key: ByteKey,
        as type: C.Type,
        creating: Bool,
        _ body: (inout C) throws -> (result: R, changed: Bool)
    ) throws -> R? {
        let stamps = self.stamps
        // Runs `body` on the collection of `value`; a change takes a new stamp. Returns
        // the result and whether the collection is now empty (its key then goes).
        func apply(to value: inout StoredValue) throws -> (result: R, isEmpty: Bool) {
            var isEmpty = false
            let (result, changed) = try value.withCollection(type) { collection in
                defer { isEmpty = collection.isEmpty }
                return try body(&collection)
            }
            if changed { value.stamp = stamps.take() }
            return (result, isEmpty)
        }
        let existing: R? = try modify(key) { value, _ in
            let outcome = try apply(to: &value)
            return (outcome.result, outcome.isEmpty)
        }
        if let existing { return existing }
        guard creating else { return nil }
        // Absent a moment ago: create it (or, if another client just did, change that).
        return try update(key) { entry, _ in
            var value = entry?.value ?? StoredValue(payload: C().payload, stamp: 0)
            let expiresAt = entry?.expiresAt ?? 0
            entry = nil
            let outcome = try apply(to: &value)
            entry = outcome.isEmpty ? nil : Entry(value: value, expiresAt: expiresAt)
            return outcome.result
        }
    }

    /// ``updateCollection(_:as:creating:_:)`` for a hash.
    package mutating func updateHash<R>(
        _ key: ByteKey,
        creating: Bool,
        _ body: (inout HashValue) throws -> (result: R, changed: Bool)
    ) throws -> R? {
        try updateCollection(key, as: HashValue.self, creating: creating, body)
    }

    /// The set at `key` (see ``readCollection(_:as:)``).
    package mutating func readSet(_ key: ByteKey) throws -> SetValue? {
        try readCollection(key, as: SetValue.self)
    }

    /// ``updateCollection(_:as:creating:_:)`` for a set.
    package mutating func updateSet<R>(
        _ key: ByteKey,
        creating: Bool,
        _ body: (inout SetValue) throws -> (result: R, changed: Bool)
    ) throws -> R? {
        try updateCollection(key, as: SetValue.self, creating: creating, body)
    }

    /// The sorted set at `key` (see ``readCollection(_:as:)``).
    package mutating func readZSet(_ key: ByteKey) throws -> ZSetValue? {
        try readCollection(key, as: ZSetValue.self)
    }

    /// ``updateCollection(_:as:creating:_:)`` for a sorted set.
    package mutating func updateZSet<R>(
        _ key: ByteKey,
        creating: Bool,
        _ body: (inout ZSetValue) throws -> (result: R, changed: Bool)
    ) throws -> R? {
        try updateCollection(key, as: ZSetValue.self, creating: creating, body)
    }
}

extension KeyAccess {
    /// The list at `key` (see ``readCollection(_:as:)``).
    package mutating func readList(_ key: ByteKey) throws -> ListValue? {
        try readCollection(key, as: ListValue.self)
    }

    /// ``updateCollection(_:as:creating:_:)`` for a list.
    package mutating func updateList<R>(
        _ key: ByteKey,
        creating: Bool,
        _ body: (inout ListValue) throws -> (result: R, changed: Bool)
    ) throws -> R? {
        try updateCollection(key, as: ListValue.self, creating: creating, body)
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

    package mutating func accessWord(_ key: ByteKey) throws -> UInt32? {
        try database.engine.accessWord(key)
    }

    package mutating func setAccessWord(_ key: ByteKey, _ word: UInt32) throws {
        try database.engine.setAccessWord(key, word)
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

    package mutating func modify<R>(
        _ key: ByteKey,
        _ body: (inout StoredValue, Int64) throws -> (result: R, remove: Bool)
    ) throws -> R? {
        do {
            return try database.engine.withValueInPlace(key) {
                (value, now) throws(BodyError) -> (result: R, remove: Bool) in
                do { return try body(&value, now) } catch { throw BodyError(error: error) }
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

    package mutating func accessWord(_ key: ByteKey) throws -> UInt32? {
        try state.accessWord(key)
    }

    package mutating func setAccessWord(_ key: ByteKey, _ word: UInt32) throws {}

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

    /// Inside a transaction the value is a copy of the committed one (or of this
    /// transaction's earlier write), so a collection changed here is copied once per
    /// write; see docs/design/server-value-types.md.
    package mutating func modify<R>(
        _ key: ByteKey,
        _ body: (inout StoredValue, Int64) throws -> (result: R, remove: Bool)
    ) throws -> R? {
        try update(key) { entry, now in
            guard var e = entry else { return nil }
            let (result, remove) = try body(&e.value, now)
            entry = remove ? nil : e
            return result
        }
    }

    package mutating func atomically<R>(_ body: (inout TransactionalAccess) throws -> R) throws -> R {
        try body(&self)
    }
}
