import KVS
import NIOCore
import RESP

/// How the atomic operations turn replies into values and `KVSError`s for one node, without a
/// `RedisStore`: the cluster store calls the same operations on the pool of whichever node owns
/// a key's slot.
///
/// Error replies map as everywhere in `KVSRedis`: `CROSSSLOT` is `.crossSlot` (with a word on
/// hash tags), `CLUSTERDOWN` is `.clusterDown`, anything else `.serverError` with the server's
/// text after `"<node> replied: "`. A `MOVED` or `ASK` reply (a cluster node that does not own
/// the slot) is therefore a `.serverError` whose message holds `MOVED <slot> <host:port>`;
/// since it always comes before `EXEC`, nothing was written, and the caller may refresh its
/// slot map and run the operation again on the right node.
///
/// - Thread safety: a value type.
struct AtomicReplies: Sendable {
    /// `host:port`, as messages name the node.
    let node: String

    /// Sends `commands` on `connection` back to back and returns their replies; error replies
    /// stay in the result.
    ///
    /// - Throws: `.connectionFailed`, `.timeout`, `.protocolError`, with `key` filled in.
    func exchange(
        _ commands: [RESPValue],
        on connection: RedisConnection,
        key: String?
    ) async throws(KVSError) -> [RESPValue] {
        do {
            let replies = try await connection.send(commands).get()
            guard replies.count == commands.count else {
                throw KVSError(
                    .protocolError,
                    message: "\(node) sent \(replies.count) replies to \(commands.count) commands"
                )
            }
            return replies.map(\.withoutAttributes)
        } catch {
            var error = ConnectionPool.kvsError(error, node: node)
            if error.key == nil { error.key = key }
            throw error
        }
    }

    /// Throws unless `reply` is `+OK`.
    func expectOK(_ reply: RESPValue, command: String, key: String?) throws(KVSError) {
        if let message = reply.errorMessage { throw serverError(message, key: key) }
        guard case .simpleString("OK") = reply else { throw unexpected(reply, command: command, key: key) }
    }

    /// An error reply as a `KVSError`; see the type's documentation.
    func serverError(_ message: String, key: String?) -> KVSError {
        if message.hasPrefix("CROSSSLOT") {
            return KVSError(
                .crossSlot,
                key: key,
                message: "\(node) replied: \(message). The keys of one atomic operation must map to one cluster "
                    + "hash slot: give them a common {hash tag}, such as {account:42}:balance and "
                    + "{account:42}:history (only the part in braces is hashed)"
            )
        }
        let code: KVSError.Code = message.hasPrefix("CLUSTERDOWN") ? .clusterDown : .serverError
        return KVSError(code, key: key, message: "\(node) replied: \(message)")
    }

    func unexpected(_ reply: RESPValue, command: String, key: String?) -> KVSError {
        KVSError(.protocolError, key: key, message: "\(node) sent an unexpected reply to \(command): \(reply)")
    }

    func encode<Value: RedisValueCodec>(_ value: Value, key: String) throws(KVSError) -> ByteBuffer {
        try Value.encode(value, key: key)
    }

    func decode<Value: RedisValueCodec>(_ bytes: ByteBuffer, as: Value.Type, key: String) throws(KVSError) -> Value {
        try Value.decode(bytes, key: key, node: "\(node)")
    }
}
