import KVS
import NIOCore
import RESP

/// The atomic operations on one node, given that node's ``ConnectionPool``: `RedisStore` calls
/// them on its only pool, and a cluster store on the pool of the node that owns the keys' slot.
///
/// - `setIfAbsent` is one `SET key value NX [PX ms]`, pipelined with other traffic.
/// - `transaction` (and `update`, `compareAndSwap` on top of it) is optimistic, on a dedicated
///   connection: `WATCH` the keys and `MGET` them (one write), run the synchronous body on what
///   was read, then `MULTI`, the buffered writes and `EXEC` (one write). `EXEC` answers nil when a
///   watched key changed (written, deleted or expired) since the `WATCH`; the attempt is then
///   repeated, after a short random pause that grows with each conflict, up to `maxAttempts`.
///   A read-only body, or one that throws, ends with `UNWATCH` and writes nothing.
///
/// Every exchange leaves the dedicated connection with no `WATCH` or `MULTI` state (`EXEC` and
/// `UNWATCH` clear both), so it is reused; any error closes it (see
/// ``ConnectionPool/withDedicatedConnection(_:)``). Errors are mapped by ``AtomicReplies``;
/// their `key` is the operation's first key.
///
/// - Thread safety: stateless; the operations may run from any number of tasks at once.
enum RedisAtomic {
    /// `SET key value NX [PX ms]`.
    ///
    /// - Returns: whether the value was stored (`OK`), `false` when the key existed (nil reply).
    /// - Throws: `.storeClosed`, `.connectionFailed`, `.timeout`, `.protocolError`, `.serverError`.
    static func setIfAbsent(
        _ key: String,
        _ bytes: ByteBuffer,
        milliseconds: Int64?,
        on pool: ConnectionPool
    ) async throws(KVSError) -> Bool {
        var command: [RESPValue] = [.bulk("SET"), .bulk(key), .bulkString(bytes), .bulk("NX")]
        if let milliseconds { command += [.bulk("PX"), .bulk(String(milliseconds))] }
        let replies = AtomicReplies(node: pool.configuration.node)
        let reply: RESPValue
        do throws(KVSError) {
            guard let first = try await pool.send([.array(command)]).first else {
                throw KVSError(.protocolError, message: "\(replies.node) sent no reply")
            }
            reply = first.withoutAttributes
        } catch {
            var error = error
            if error.key == nil { error.key = key }
            throw error
        }
        if let message = reply.errorMessage { throw replies.serverError(message, key: key) }
        switch reply {
        case .simpleString("OK"): return true
        case .nullBulkString, .null: return false
        default: throw replies.unexpected(reply, command: "SET NX", key: key)
        }
    }

    /// Runs `body` as one optimistic transaction over `keys` (see the type's documentation).
    ///
    /// - Returns: what the committed run of `body` returned, or the error it threw (nothing
    ///   written), as a `Result`.
    /// - Throws: `.transactionConflict` after `maxAttempts` attempts that all conflicted (nothing
    ///   written); `.crossSlot` when a cluster node refuses keys of several slots; the network
    ///   codes. `.serverError` when `EXEC` ran but a write in it failed: Redis applies the others
    ///   (it has no rollback), so the transaction may be partly applied.
    static func transaction<Value: RedisValueCodec, R, E: Error>(
        on keys: [String],
        maxAttempts: Int,
        on pool: ConnectionPool,
        _ body: (inout RedisTransaction<Value>) throws(E) -> R
    ) async throws(KVSError) -> Result<R, E> {
        var unique: [String] = []
        var seen = Set<String>()
        for key in keys where seen.insert(key).inserted { unique.append(key) }
        let replies = AtomicReplies(node: pool.configuration.node)
        guard let first = unique.first else {
            // No keys: nothing to watch, and the body can neither read nor write.
            var transaction = RedisTransaction<Value>(snapshot: [:], replies: replies)
            return Result { () throws(E) -> R in try body(&transaction) }
        }
        let attempts = max(1, maxAttempts)
        let outcome: Result<R, E>? = try await pool.withDedicatedConnection {
            connection async throws(KVSError) -> Result<R, E>? in
            for attempt in 1...attempts {
                let watch = RESPValue.array([.bulk("WATCH")] + unique.map { .bulk($0) })
                let mget = RESPValue.array([.bulk("MGET")] + unique.map { .bulk($0) })
                let read = try await replies.exchange([watch, mget], on: connection, key: first)
                try replies.expectOK(read[0], command: "WATCH", key: first)
                var transaction = RedisTransaction<Value>(
                    snapshot: try snapshot(of: unique, from: read[1], replies: replies),
                    replies: replies
                )

                let result: R
                do throws(E) {
                    result = try body(&transaction)
                } catch {
                    // Rolled back: nothing was queued, so forgetting the watches is all there is to do.
                    try await unwatch(connection, replies: replies, key: first)
                    return .failure(error)
                }
                if transaction.isReadOnly {
                    // MGET read every key at one instant, so the reads were consistent.
                    try await unwatch(connection, replies: replies, key: first)
                    return .success(result)
                }

                let writes = transaction.commands
                let exchanged = try await replies.exchange(
                    [.command(["MULTI"])] + writes + [.command(["EXEC"])],
                    on: connection,
                    key: first
                )
                try replies.expectOK(exchanged[0], command: "MULTI", key: first)
                guard let exec = exchanged.last else {
                    throw replies.unexpected(.nullArray, command: "EXEC", key: first)
                }
                if exec.isNull {
                    // A watched key changed since WATCH; EXEC dropped the queue and the watches.
                    if attempt < attempts { await backOff(afterConflict: attempt) }
                    continue
                }
                if let message = exec.errorMessage {
                    // EXECABORT: a write was refused when queued (CROSSSLOT, OOM, …); nothing ran.
                    // The refusal itself says why.
                    let refusal = exchanged.dropFirst().dropLast().lazy.compactMap(\.errorMessage).first
                    throw replies.serverError(refusal ?? message, key: first)
                }
                guard let results = exec.elements, results.count == writes.count else {
                    throw replies.unexpected(exec, command: "EXEC", key: first)
                }
                if let failed = results.lazy.compactMap(\.errorMessage).first {
                    var error = replies.serverError(failed, key: first)
                    error.message +=
                        " (inside EXEC: Redis has no rollback, so the transaction's other writes were applied)"
                    throw error
                }
                return .success(result)
            }
            return nil  // every attempt conflicted; the last EXEC left the connection clean
        }
        guard let outcome else {
            throw KVSError(
                .transactionConflict,
                key: first,
                message: "\(attempts) attempt(s) on \(replies.node) all conflicted with other writers of "
                    + "the watched keys; nothing was written"
            )
        }
        return outcome
    }

    /// Replaces the value of `key` with what `transform` returns (`nil` deletes it), in a
    /// transaction over `key`, doing with its TTL what `expiry` says (by default keeps it).
    /// Writes nothing when the key is absent and `transform` returns nil.
    ///
    /// - Returns: the new value (`nil` if the key is now absent).
    /// - Throws: `.body` with what `transform` throws (nothing written); `.store` with what
    ///   ``transaction(on:maxAttempts:on:_:)`` throws.
    static func update<Value: RedisValueCodec, E: Error>(
        _ key: String,
        expiry: RedisTransaction<Value>.Expiry = .keep,
        maxAttempts: Int,
        on pool: ConnectionPool,
        _ transform: (Value?) throws(E) -> Value?
    ) async throws(KVSEngineError<E>) -> Value? {
        let outcome: Result<Value?, KVSEngineError<E>>
        do {
            outcome = try await transaction(on: [key], maxAttempts: maxAttempts, on: pool) {
                (transaction: inout RedisTransaction<Value>) throws(KVSEngineError<E>) -> Value? in
                try transaction.apply(transform, to: key, expiry: expiry)
            }
        } catch {
            throw .store(error)
        }
        return try outcome.get()
    }

    /// Stores `new` under `key` (`nil` deletes it) only if its current value equals `expected`
    /// (`nil`: absent), in a transaction over `key`, doing with its TTL what `expiry` says
    /// (`SET` with `KEEPTTL`, `PX ms` or neither).
    ///
    /// - Returns: whether the swap happened.
    /// - Throws: as ``transaction(on:maxAttempts:on:_:)``; `.protocolError` when the stored
    ///   bytes do not decode as `Value`.
    static func compareAndSwap<Value: RedisValueCodec & Equatable>(
        _ key: String,
        expected: Value?,
        new: Value?,
        expiry: RedisTransaction<Value>.Expiry,
        maxAttempts: Int,
        on pool: ConnectionPool
    ) async throws(KVSError) -> Bool {
        try await transaction(on: [key], maxAttempts: maxAttempts, on: pool) {
            (transaction: inout RedisTransaction<Value>) throws(KVSError) -> Bool in
            let current = try transaction.current(key)
            guard current == expected else { return false }
            if let new {
                try transaction.set(key, new, expiry: expiry)
            } else if current != nil {
                try transaction.delete(key)
            }
            return true
        }.get()
    }

    // MARK: - Steps

    /// The declared keys with what `MGET` read for each.
    private static func snapshot<Value: RedisValueCodec>(
        of keys: [String],
        from reply: RESPValue,
        replies: AtomicReplies
    ) throws(KVSError) -> [String: RedisTransaction<Value>.Read] {
        if let message = reply.errorMessage { throw replies.serverError(message, key: keys.first) }
        guard let elements = reply.elements, elements.count == keys.count else {
            throw replies.unexpected(reply, command: "MGET", key: keys.first)
        }
        var snapshot: [String: RedisTransaction<Value>.Read] = [:]
        snapshot.reserveCapacity(keys.count)
        for (key, element) in zip(keys, elements) {
            switch element {
            case .bulkString(let bytes): snapshot[key] = .present(bytes)
            case .nullBulkString, .null: snapshot[key] = .absent
            default: throw replies.unexpected(element, command: "MGET", key: key)
            }
        }
        return snapshot
    }

    private static func unwatch(
        _ connection: RedisConnection,
        replies: AtomicReplies,
        key: String
    ) async throws(KVSError) {
        let reply = try await replies.exchange([.command(["UNWATCH"])], on: connection, key: key)
        try replies.expectOK(reply[0], command: "UNWATCH", key: key)
    }

    /// A random pause before attempt `conflicts + 1`, up to 50 µs × 2^(conflicts − 1), at most
    /// 5 ms: conflicting writers that retry at once would conflict again, and spreading their
    /// retries lets one of them through. The pause is not cancellable; it is short.
    private static func backOff(afterConflict conflicts: Int) async {
        let ceiling = min(50_000 << min(conflicts - 1, 10), 5_000_000)
        try? await Task.sleep(for: .nanoseconds(Int.random(in: 0...ceiling)))
    }
}
