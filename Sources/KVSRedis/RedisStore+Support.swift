import KVS
import NIOCore
import RESP

// The store's shared steps: sending with the key attached to errors, encoding, decoding, and
// turning replies that are not what a command expects into KVSErrors.
extension RedisStore {
    /// Sends one command; an error reply becomes a thrown error.
    func single(_ command: RESPValue, key: String?) async throws(KVSError) -> RESPValue {
        let replies = try await pipeline([command], key: key)
        guard let reply = replies.first else {
            throw KVSError(.protocolError, key: key, message: "\(configuration.node) sent no reply")
        }
        if let message = reply.errorMessage { throw serverError(message, key: key) }
        return reply.withoutAttributes
    }

    /// Sends `commands` back to back on one connection; error replies stay in the result.
    func pipeline(_ commands: [RESPValue], key: String?) async throws(KVSError) -> [RESPValue] {
        do throws(KVSError) {
            let replies = try await pool.send(commands)
            guard replies.count == commands.count else {
                throw KVSError(
                    .protocolError,
                    message: "\(configuration.node) sent \(replies.count) replies to \(commands.count) commands"
                )
            }
            return replies.map(\.withoutAttributes)
        } catch {
            var error = error
            if error.key == nil { error.key = key }
            throw error
        }
    }

    func encode(_ value: Value, key: String) throws(KVSError) -> ByteBuffer {
        try Value.encode(value, key: key)
    }

    func decode(_ bytes: ByteBuffer, key: String) throws(KVSError) -> Value {
        try Value.decode(bytes, key: key, node: configuration.node)
    }

    func expectOK(_ reply: RESPValue, key: String) throws(KVSError) {
        if let message = reply.errorMessage { throw serverError(message, key: key) }
        guard case .simpleString("OK") = reply else { throw unexpected(reply, command: "SET", key: key) }
    }

    /// An error reply: `CROSSSLOT` and `CLUSTERDOWN` keep their cluster meaning; every other
    /// reply is `.serverError` with the server's text.
    func serverError(_ message: String, key: String?) -> KVSError {
        let code: KVSError.Code =
            if message.hasPrefix("CROSSSLOT") {
                .crossSlot
            } else if message.hasPrefix("CLUSTERDOWN") {
                .clusterDown
            } else {
                .serverError
            }
        return KVSError(code, key: key, message: "\(configuration.node) replied: \(message)")
    }

    func unexpected(_ reply: RESPValue, command: String, key: String?) -> KVSError {
        KVSError(
            .protocolError,
            key: key,
            message: "\(configuration.node) sent an unexpected reply to \(command): \(reply)"
        )
    }

    /// `ttl` in whole milliseconds, rounded up (a positive TTL is never sent as 0).
    static func milliseconds(_ ttl: Duration, key: String) throws(KVSError) -> Int64 {
        guard ttl > .zero else { throw KVSError.invalidTTL(key, ttl) }
        let (seconds, attoseconds) = ttl.components
        let (scaled, overflow) = seconds.multipliedReportingOverflow(by: 1000)
        let fraction = attoseconds / 1_000_000_000_000_000 + (attoseconds % 1_000_000_000_000_000 > 0 ? 1 : 0)
        let (total, overflow2) = scaled.addingReportingOverflow(fraction)
        guard !overflow, !overflow2 else {
            throw KVSError(.invalidTTL, key: key, message: "time-to-live \(ttl) does not fit in 64-bit milliseconds")
        }
        return total
    }
}

extension RedisStore {
    /// Sends one raw command (for tests and tools inside this package) and returns its reply;
    /// an error reply is returned, not thrown.
    ///
    /// - Throws: `.storeClosed`, `.connectionFailed`, `.timeout`, `.protocolError`.
    package func command(_ arguments: [String]) async throws(KVSError) -> RESPValue {
        let replies = try await pipeline([.command(arguments)], key: nil)
        return replies.first ?? .null
    }
}
