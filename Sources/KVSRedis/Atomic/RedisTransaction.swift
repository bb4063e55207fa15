import KVS
import NIOCore
import RESP

/// The view of the server inside ``RedisStore/transaction(on:maxAttempts:_:)-8mc46``: reads see the
/// declared keys as one `MGET` read them after `WATCH`, plus the transaction's own writes;
/// writes are buffered and sent together between `MULTI` and `EXEC` when the body returns, or
/// not at all.
///
/// Only the keys declared to `transaction(on:)` can be read or written: they are the keys the
/// server watches, so touching another one throws `.invalidArgument` instead of silently
/// escaping the transaction's isolation.
///
/// A `RedisTransaction` exists only during the body; don't let it escape.
///
/// - Thread safety: a value owned by the body's run; not `Sendable`.
public struct RedisTransaction<Value: RedisValueCodec> {
    /// What `MGET` read for a declared key.
    enum Read {
        case absent
        case present(ByteBuffer)
    }

    /// A buffered write.
    enum Write {
        /// `SET key value [PX ms | KEEPTTL]`; `value` is kept for reads of the transaction's own
        /// write.
        case set(Value, bytes: ByteBuffer, expiry: Expiry)
        case delete
    }

    /// What a buffered `SET` does with the key's time-to-live.
    enum Expiry {
        /// None: `SET` clears it.
        case none
        /// `PX ms`.
        case milliseconds(Int64)
        /// `KEEPTTL`: the key keeps the deadline it has.
        case keep
    }

    /// The declared keys, each with what the server held when the attempt began.
    private let snapshot: [String: Read]
    /// The buffered writes, one per key: the last one the body made.
    private var writes: [String: Write] = [:]
    /// The keys in ``writes``, in the order the body first wrote them.
    private var written: [String] = []
    private let replies: AtomicReplies

    init(snapshot: [String: Read], replies: AtomicReplies) {
        self.snapshot = snapshot
        self.replies = replies
    }

    /// The value of `key` as this transaction sees it.
    ///
    /// - Returns: the transaction's own last write to `key`, or else the value read when the
    ///   attempt began.
    /// - Throws: `.notFound` when absent or expired at the start of the attempt, or deleted by
    ///   this transaction; `.invalidArgument` for a key not declared to `transaction(on:)`;
    ///   `.protocolError` when the stored bytes do not decode as `Value`.
    /// - Complexity: O(1) plus decoding the value.
    public func get(_ key: String) throws(KVSError) -> Value {
        guard let value = try current(key) else { throw KVSError.notFound(key) }
        return value
    }

    /// Whether `key` holds a value as this transaction sees it.
    ///
    /// - Returns: `false` for a key absent or expired when the attempt began, or deleted by
    ///   this transaction.
    /// - Throws: `.invalidArgument` for a key not declared to `transaction(on:)`.
    /// - Complexity: O(1).
    public func exists(_ key: String) throws(KVSError) -> Bool {
        try checkDeclared(key)
        switch writes[key] {
        case .set: return true
        case .delete: return false
        case nil:
            if case .present = snapshot[key] { return true }
            return false
        }
    }

    /// Stores `value` under `key` when the transaction commits, with no expiry: like `SET`, it
    /// clears any time-to-live the key had. Later reads in this transaction see it.
    ///
    /// - Throws: `.invalidArgument` for a key not declared to `transaction(on:)` or a value that
    ///   cannot be encoded (nothing is buffered).
    /// - Complexity: O(1) plus encoding the value.
    public mutating func set(_ key: String, _ value: Value) throws(KVSError) {
        try checkDeclared(key)
        buffer(.set(value, bytes: try replies.encode(value, key: key), expiry: .none), for: key)
    }

    /// Stores `value` under `key` when the transaction commits, expiring `ttl` after the commit
    /// (`SET key value PX ms`, rounded up to whole milliseconds).
    ///
    /// - Parameters:
    ///   - key: a key declared when the transaction began.
    ///   - value: the value to store.
    ///   - ttl: `.zero` for no expiry (then as ``set(_:_:)``).
    /// - Throws: `.invalidTTL` for a negative `ttl` or one too large for 64-bit milliseconds;
    ///   otherwise as ``set(_:_:)``. Nothing is buffered when it throws.
    /// - Complexity: O(1) plus encoding the value.
    public mutating func set(_ key: String, _ value: Value, ttl: Duration) throws(KVSError) {
        guard ttl != .zero else { return try set(key, value) }
        try checkDeclared(key)
        let milliseconds = try RedisStore<Value>.milliseconds(ttl, key: key)
        buffer(.set(value, bytes: try replies.encode(value, key: key), expiry: .milliseconds(milliseconds)), for: key)
    }

    /// Stores `value` under `key` when the transaction commits, doing with the key's
    /// time-to-live what `expiry` says (`SET key value` with `KEEPTTL`, `PX ms` or neither):
    /// the write of `update` and `compareAndSwap`.
    ///
    /// - Throws: as ``set(_:_:)``.
    mutating func set(_ key: String, _ value: Value, expiry: Expiry) throws(KVSError) {
        try checkDeclared(key)
        buffer(.set(value, bytes: try replies.encode(value, key: key), expiry: expiry), for: key)
    }

    /// Removes `key` when the transaction commits.
    ///
    /// - Throws: `.notFound` when the key is absent as this transaction sees it (nothing is
    ///   buffered); `.invalidArgument` for a key not declared to `transaction(on:)`.
    /// - Complexity: O(1).
    public mutating func delete(_ key: String) throws(KVSError) {
        guard try exists(key) else { throw KVSError.notFound(key) }
        buffer(.delete, for: key)
    }

    // MARK: - For the transaction runner

    /// The value of `key` as this transaction sees it, or nil when absent.
    func current(_ key: String) throws(KVSError) -> Value? {
        try checkDeclared(key)
        switch writes[key] {
        case .set(let value, _, _): return value
        case .delete: return nil
        case nil:
            guard case .present(let bytes) = snapshot[key] else { return nil }
            return try replies.decode(bytes, as: Value.self, key: key)
        }
    }

    /// Whether the body wrote nothing.
    var isReadOnly: Bool { written.isEmpty }

    /// The buffered writes as commands, one per written key, in the order first written.
    var commands: [RESPValue] {
        written.compactMap { key in
            switch writes[key] {
            case .set(_, let bytes, .milliseconds(let milliseconds)):
                return .array([.bulk("SET"), .bulk(key), .bulkString(bytes), .bulk("PX"), .bulk(String(milliseconds))])
            case .set(_, let bytes, .keep):
                return .array([.bulk("SET"), .bulk(key), .bulkString(bytes), .bulk("KEEPTTL")])
            case .set(_, let bytes, .none):
                return .array([.bulk("SET"), .bulk(key), .bulkString(bytes)])
            case .delete:
                return .array([.bulk("DEL"), .bulk(key)])
            case nil:
                return nil
            }
        }
    }

    private mutating func buffer(_ write: Write, for key: String) {
        if writes.updateValue(write, forKey: key) == nil { written.append(key) }
    }

    private func checkDeclared(_ key: String) throws(KVSError) {
        guard snapshot[key] != nil else {
            throw KVSError(
                .invalidArgument,
                key: key,
                message: "the transaction did not declare this key: list every key its body reads or writes in "
                    + "transaction(on:), so that the server watches it; nothing was written"
            )
        }
    }
}

extension RedisTransaction.Expiry {
    /// The `SET` option for `ttl`: `KEEPTTL` for `.keep`, `PX ms` for a positive
    /// `.expire(after:)` (rounded up to whole milliseconds), none for `.persist` and
    /// `.expire(after: .zero)`.
    ///
    /// - Throws: `.invalidTTL` for a negative TTL or one too large for 64-bit milliseconds.
    init(_ ttl: TTLUpdate, key: String) throws(KVSError) {
        switch ttl {
        case .keep: self = .keep
        case .persist: self = .none
        case .expire(let duration) where duration == .zero: self = .none
        case .expire(let duration): self = .milliseconds(try RedisStore<Value>.milliseconds(duration, key: key))
        }
    }
}

extension RedisTransaction {
    /// `update`'s body, shared by both stores: reads `key`, buffers `transform`'s result as a
    /// set that does with the key's TTL what `expiry` says (by default keeps it, `KEEPTTL`),
    /// or a delete when it returns nil for a present key, and returns that result.
    ///
    /// - Throws: `.body` with what `transform` throws; `.store` with what ``current(_:)`` and
    ///   ``set(_:_:)`` throw.
    mutating func apply<E: Error>(
        _ transform: (Value?) throws(E) -> Value?,
        to key: String,
        expiry: Expiry = .keep
    ) throws(KVSEngineError<E>) -> Value? {
        let current: Value?
        do { current = try self.current(key) } catch { throw .store(error) }
        let new: Value?
        do { new = try transform(current) } catch { throw .body(error) }
        do {
            if let new {
                try set(key, new, expiry: expiry)
            } else if current != nil {
                try delete(key)
            }
        } catch {
            throw .store(error)
        }
        return new
    }
}
