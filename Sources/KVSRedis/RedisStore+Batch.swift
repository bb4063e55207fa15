import KVS
import NIOCore
import RESP

extension RedisStore {
    /// Reads several keys with one `MGET`.
    ///
    /// - Returns: the values found; each missing or expired key (a nil in `MGET`'s reply) gets a
    ///   `.notFound` error, and a value that does not decode a `.protocolError`, in
    ///   `BatchGetResult.errors`. An empty `keys` sends nothing.
    /// - Throws: `.storeClosed` and the network codes of ``get(_:)`` when the whole request failed
    ///   (`key` is then the batch's first key).
    /// - Complexity: one round trip; O(total size).
    public func batchGet(_ keys: [String]) async throws(KVSError) -> BatchGetResult<Value> {
        var result = BatchGetResult<Value>()
        guard let first = keys.first else { return result }
        let reply = try await single(.array([.bulk("MGET")] + keys.map { .bulk($0) }), key: first)
        guard let elements = reply.elements, elements.count == keys.count else {
            throw unexpected(reply, command: "MGET", key: first)
        }
        for (key, element) in zip(keys, elements) {
            switch element {
            case .bulkString(let bytes):
                do {
                    result.values[key] = try decode(bytes, key: key)
                    result.errors[key] = nil
                } catch {
                    result.errors[key] = error
                }
            case .nullBulkString, .null:
                if result.values[key] == nil { result.errors[key] = KVSError.notFound(key) }
            default:
                result.errors[key] = unexpected(element, command: "MGET", key: key)
            }
        }
        return result
    }

    /// Writes several keys with one `SET` per key, pipelined in a single write (not atomic: a
    /// reader may see some of the keys before the others).
    ///
    /// - Returns: how many were written, and per key that failed its error (a value that does
    ///   not encode: `.invalidArgument`, not sent; an error reply: `.serverError`).
    /// - Throws: `.storeClosed` and the network codes of ``get(_:)`` when the whole pipeline
    ///   failed; then any subset of the keys may have been written.
    /// - Complexity: one round trip; O(total size).
    public func batchSet(_ items: [String: Value]) async throws(KVSError) -> BatchSetResult {
        let (keys, commands, unencodable) = Value.setCommands(for: items)
        var result = BatchSetResult()
        result.errors = unencodable
        guard let first = keys.first else { return result }
        let replies = try await pipeline(commands, key: first)
        for (key, reply) in zip(keys, replies) {
            do {
                try expectOK(reply, key: key)
                result.successful += 1
            } catch {
                result.errors[key] = error
            }
        }
        return result
    }

    /// Deletes several keys with one `DEL` per key, pipelined in a single write, so that each
    /// key reports on its own: a key that was absent (reply 0) gets `.notFound`. Not atomic;
    /// a key listed twice is deleted once and reported `.notFound` the second time, as on the
    /// embedded store.
    ///
    /// - Returns: how many keys were deleted, and per missing key `.notFound`.
    /// - Throws: `.storeClosed` and the network codes of ``get(_:)`` when the whole pipeline failed.
    /// - Complexity: one round trip; O(k).
    public func batchDelete(_ keys: [String]) async throws(KVSError) -> BatchDeleteResult {
        var result = BatchDeleteResult()
        guard let first = keys.first else { return result }
        let replies = try await pipeline(keys.map { .array([.bulk("DEL"), .bulk($0)]) }, key: first)
        for (key, reply) in zip(keys, replies) {
            if let message = reply.errorMessage {
                result.errors[key] = serverError(message, key: key)
            } else if let removed = reply.intValue {
                result.recordDelete(removed: removed, key: key)
            } else {
                result.errors[key] = unexpected(reply, command: "DEL", key: key)
            }
        }
        return result
    }
}

extension BatchDeleteResult {
    /// Counts the reply of one `DEL key` (the number removed): a key removed counts as
    /// deleted, clearing an earlier `.notFound` for it; a key not removed is `.notFound`
    /// unless a copy of it earlier in the batch was deleted.
    mutating func recordDelete(removed: Int64, key: String) {
        if removed > 0 {
            deleted += 1
            errors[key] = nil
        } else if errors[key] == nil {
            errors[key] = KVSError.notFound(key)
        }
    }
}
