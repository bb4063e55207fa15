import KVS
import Synchronization

/// A stored string value: its bytes, copied out of the read buffer (so a value never pins
/// a connection's whole read buffer) into a compact block (``ValueBytes``), and its write
/// stamp.
///
/// ## Write stamps: how WATCH is exact
///
/// Every write of a key (SET, INCR, APPEND, EXPIRE, RENAME's destination, …) stores a
/// value with a new `stamp`, unique over the whole server's lifetime (see
/// ``StampAllocator``). `WATCH key` remembers the stamp it saw, or that the key was
/// absent; `EXEC` re-reads the key inside its transaction and aborts when the stamp
/// differs or presence changed. That is exact per key: a write to another key of the
/// same shard changes nothing that is compared, unlike a per-shard version.
///
/// The one change a stamp cannot see is *absent → created → deleted*: the key is absent
/// at both ends. For that, keys watched while absent are registered in their database's
/// ``WatchRegistry``, and every write that creates a key (absent → present) bumps the
/// key's creation count there while holding the key's shard lock (direct writes) or
/// inside the creating transaction's body (EXEC, MSET, RENAME), before that transaction
/// can commit. `EXEC` compares the count with the one seen at `WATCH`.
package struct StoredValue: Sendable {
    /// The value proper, one of Redis's types. A string holds its block inline and a
    /// collection one reference, so the payload is one word and a stored value two, as
    /// when the server held strings only (see docs/design/server-value-types.md).
    package enum Payload: Sendable {
        /// A string.
        case string(ValueBytes)
        /// A hash.
        case hash(HashValue)
        /// A list.
        case list(ListValue)
        /// A set.
        case set(SetValue)
        /// A sorted set.
        case zset(ZSetValue)
        /// What a collection's slot holds for the moment it is changed in place (see
        /// ``StoredValue/withCollection(_:_:)``); never stored.
        case vacant
    }

    /// The value proper.
    package var payload: Payload
    /// The write stamp: changes on every write of the key.
    package var stamp: UInt64

    package init(bytes: ValueBytes, stamp: UInt64) {
        self.payload = .string(bytes)
        self.stamp = stamp
    }

    package init(bytes: [UInt8], stamp: UInt64) {
        self.init(bytes: ValueBytes(bytes), stamp: stamp)
    }

    package init(hash: HashValue, stamp: UInt64) {
        self.init(payload: .hash(hash), stamp: stamp)
    }

    package init(payload: Payload, stamp: UInt64) {
        self.payload = payload
        self.stamp = stamp
    }

    /// The value's type.
    package var kind: ValueKind {
        switch payload {
        case .string: .string
        case .hash: .hash
        case .list: .list
        case .set: .set
        case .zset: .zset
        case .vacant: preconditionFailure("a vacant value is never stored")
        }
    }

    /// The bytes of a string value.
    ///
    /// - Throws: ``CommandError/wrongType`` for a value of another type.
    @inline(__always)
    package func string() throws(CommandError) -> ValueBytes {
        guard case .string(let bytes) = payload else { throw .wrongType }
        return bytes
    }

    /// The collection of a value of type `C` (a reference to it: O(1), and safe to read
    /// after the shard's lock is released, since a writer copies a collection that is
    /// shared).
    ///
    /// - Throws: ``CommandError/wrongType`` for a value of another type.
    package func collection<C: StoredCollection>(_: C.Type) throws(CommandError) -> C {
        guard let collection = C(payload) else { throw .wrongType }
        return collection
    }

    /// The hash of a hash value (see ``collection(_:)``).
    ///
    /// - Throws: ``CommandError/wrongType`` for a value of another type.
    package func hash() throws(CommandError) -> HashValue { try collection(HashValue.self) }

    /// The list of a list value (see ``collection(_:)``).
    ///
    /// - Throws: ``CommandError/wrongType`` for a value of another type.
    package func list() throws(CommandError) -> ListValue { try collection(ListValue.self) }
    /// The set of a set value (see ``collection(_:)``).
    ///
    /// - Throws: ``CommandError/wrongType`` for a value of another type.
    package func set() throws(CommandError) -> SetValue { try collection(SetValue.self) }

    /// Runs `body` on the collection of type `C` in place: the payload lets go of it for
    /// the call, so that a collection referenced only by this value is changed without a
    /// copy.
    ///
    /// - Throws: ``CommandError/wrongType`` for a value of another type (nothing changes),
    ///   or what `body` throws (the collection keeps what `body` left).
    package mutating func withCollection<C: StoredCollection, R>(
        _: C.Type,
        _ body: (inout C) throws -> R
    ) throws -> R {
        guard var collection = C(payload) else { throw CommandError.wrongType }
        payload = .vacant
        defer { payload = collection.payload }
        return try body(&collection)
    }
}

/// A value of one of Redis's collection types (hash, list, set, sorted set), as a
/// ``StoredValue`` holds it: one reference to copy-on-write storage.
///
/// Conforming types are value types whose storage a writer copies when it is shared, so
/// that a reference taken under a shard's lock can be read after the lock is released.
package protocol StoredCollection: Sendable {
    /// An empty collection, in its compact encoding (never stored: a key whose
    /// collection becomes empty is deleted).
    init()
    /// The collection held by `payload`, or `nil` when it holds another type.
    init?(_ payload: StoredValue.Payload)
    /// The payload that holds this collection.
    var payload: StoredValue.Payload { get }
    /// Whether the collection has no element.
    var isEmpty: Bool { get }
}

extension HashValue: StoredCollection {
    package init?(_ payload: StoredValue.Payload) {
        guard case .hash(let hash) = payload else { return nil }
        self = hash
    }

    package var payload: StoredValue.Payload { .hash(self) }
}

extension ListValue: StoredCollection {
    package init?(_ payload: StoredValue.Payload) {
        guard case .list(let list) = payload else { return nil }
        self = list
    }

    package var payload: StoredValue.Payload { .list(self) }
}

extension SetValue: StoredCollection {
    package init?(_ payload: StoredValue.Payload) {
        guard case .set(let set) = payload else { return nil }
        self = set
    }

    package var payload: StoredValue.Payload { .set(self) }
}

extension ZSetValue: StoredCollection {
    package init?(_ payload: StoredValue.Payload) {
        guard case .zset(let zset) = payload else { return nil }
        self = zset
    }

    package var payload: StoredValue.Payload { .zset(self) }
}

/// Redis's value types, by their TYPE names.
package enum ValueKind: String, Sendable, CaseIterable {
    case string
    case hash
    case list
    case set
    case zset

    /// The name TYPE answers and SCAN … TYPE matches.
    package var name: String { rawValue }
}

/// The engine type of one database.
package typealias DatabaseEngine = StoreEngine<ByteKey, StoredValue>

/// Hands out write stamps for one connection: blocks of 4,096 from one server-wide
/// atomic counter, so a write costs one increment of a local counter and the shared
/// counter is touched once per 4,096 writes. Stamps are never reused.
///
/// Thread-safety: not thread-safe; one per connection, used on its event loop.
package final class StampAllocator {
    private let source: StampSource
    private var next: UInt64 = 0
    private var end: UInt64 = 0

    package init(source: StampSource) { self.source = source }

    /// A stamp no other write has had.
    package func take() -> UInt64 {
        if next == end { refill() }
        defer { next &+= 1 }
        return next
    }

    private func refill() {
        next = source.counter.wrappingAdd(StampSource.block, ordering: .relaxed).oldValue
        end = next + StampSource.block
    }
}

/// The server-wide source of write stamps (see ``StampAllocator``).
package final class StampSource: Sendable {
    static let block: UInt64 = 4096
    let counter = Atomic<UInt64>(1)
    package init() {}
}

/// Keys watched while absent, with how many times each was created since (see
/// ``StoredValue`` for why). Empty unless some client has such a WATCH pending.
///
/// Thread-safety: thread-safe; ``noteCreated(_:)`` is called under a shard lock (lock
/// order: shard lock, then this registry's mutex; the registry never takes a shard lock).
package final class WatchRegistry: Sendable {
    private struct Record: Sendable {
        var watchers: Int
        var creations: UInt64
    }
    private let records = Locked<[ByteKey: Record]>([:])
    /// How many keys are registered: lets writers skip the mutex when nobody watches.
    private let active = Atomic<Int>(0)

    package init() {}

    /// Whether any key is registered (a relaxed load; writers check it first).
    package var isActive: Bool { active.load(ordering: .acquiring) > 0 }

    /// Registers a watcher of `key` and returns the key's creation count.
    package func watch(_ key: ByteKey) -> UInt64 {
        records.withLock { records in
            if records[key] == nil { active.add(1, ordering: .releasing) }
            records[key, default: Record(watchers: 0, creations: 0)].watchers += 1
            return records[key]?.creations ?? 0
        }
    }

    /// Removes one watcher of `key`.
    package func unwatch(_ key: ByteKey) {
        records.withLock { records in
            guard var record = records[key] else { return }
            record.watchers -= 1
            if record.watchers <= 0 {
                records[key] = nil
                active.subtract(1, ordering: .releasing)
            } else {
                records[key] = record
            }
        }
    }

    /// The creation count of `key` (0 if unregistered).
    package func creations(of key: ByteKey) -> UInt64 {
        records.withLock { $0[key]?.creations ?? 0 }
    }

    /// Records that `key` went from absent to present (or was written and is absent again at
    /// once, as by SET with a deadline already past, which Redis counts as a change too).
    package func noteCreated(_ key: ByteKey) {
        records.withLock { records in
            if records[key] != nil { records[key]?.creations &+= 1 }
        }
    }
}

/// One numbered database: its own store (one `StoreEngine`, sharded) and watch registry.
///
/// Lock order across databases: a command that holds shard locks of two databases at once
/// (COPY … DB, MOVE, SWAPDB) takes the lower-numbered database's first, and nothing takes a
/// shard lock of another database while it may hold one of an engine transaction (see
/// `KeyspaceCommands`).
///
/// Thread-safety: thread-safe; commands on any event loop use it at once.
package final class Database: Sendable {
    /// The database number (`SELECT n`).
    package let index: Int
    /// The store.
    package let engine: DatabaseEngine
    /// Keys watched while absent.
    package let watches = WatchRegistry()

    /// - Parameter accessClock: the clock that stamps each key's access word (``MaxMemory``
    ///   reads the words); nil to record none.
    package init(
        index: Int,
        shardCount: Int,
        clock: StoreClock = .system,
        accessClock: AccessClock? = nil
    ) throws(KVSError) {
        self.index = index
        self.engine = try DatabaseEngine(shardCount: shardCount, clock: clock, accessClock: accessClock)
    }

    /// Empties the database (FLUSHDB), atomically; the old contents are freed here, or on
    /// `lazyFree`'s queue when one is given (FLUSHDB ASYNC).
    ///
    /// - Complexity: O(1) with `lazyFree` (the keys are freed in the background), else O(n).
    package func flush(lazyFree: LazyFree? = nil) {
        let old = engine.replaceAll(with: Array(repeating: [:], count: engine.shardCount))
        guard let lazyFree else { return }
        let keys = old.reduce(0) { $0 + $1.count }
        lazyFree.release(old, objects: keys)
    }
}
