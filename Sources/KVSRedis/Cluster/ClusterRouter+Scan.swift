import KVS
import NIOCore
import RESP

// keys(): SCAN on every primary of the map, in parallel, merged.
extension ClusterRouter {
    /// Every key of every primary of the slot map, walked with `SCAN … COUNT count`, the
    /// primaries in parallel. A node that fails with a lost connection or a timeout makes the
    /// map be read again and the whole walk restart, while the request timeout (counted from
    /// the call) allows.
    ///
    /// - Throws: `.storeClosed`, `.invalidArgument` (invalid configuration), `.connectionFailed`,
    ///   `.timeout`, `.protocolError`, `.serverError` (an error reply, naming the node).
    func scanPrimaries(count: Int) async throws(KVSError) -> Set<String> {
        if let configurationError { throw configurationError }
        let deadline = ContinuousClock.now + configuration.requestTimeout
        var attempt = 0
        let (hasMap, seen) = state.withLock { ($0.hasMap, $0.refreshesCompleted) }
        if !hasMap { await refresh(after: seen, until: deadline) }
        while true {
            let (hasMap, observed, closed) = state.withLock { ($0.hasMap, $0.refreshesCompleted, $0.isShutDown) }
            if closed { throw KVSError.storeClosed() }
            var failure: KVSError
            if hasMap {
                let nodes = primaries().compactMap { endpoint in pool(for: endpoint).map { (endpoint, $0) } }
                if isShutDown { throw KVSError.storeClosed() }
                let outcome = await Self.scan(nodes, count: max(1, count))
                switch outcome {
                case .success(let keys): return keys
                case .failure(let error): failure = transportError(error)
                }
                guard failure.code == .connectionFailed || failure.code == .timeout else { throw failure }
            } else {
                failure = state.withLock { Self.noMapError(in: $0, configuration: configuration) }
            }
            let delay = Self.backoff(attempt: attempt)
            attempt += 1
            if isShutDown { throw KVSError.storeClosed() }
            if Task.isCancelled || ContinuousClock.now + delay >= deadline { throw failure }
            await refresh(after: observed, until: deadline)
            if ContinuousClock.now + delay >= deadline { throw failure }
            try? await Task.sleep(for: delay)
        }
    }

    /// A pool closed by a refresh while the store is open is a lost connection.
    private func transportError(_ error: KVSError) -> KVSError {
        guard error.code == .storeClosed, !isShutDown else { return error }
        return KVSError(
            .connectionFailed,
            message: "\(error.message) (a node left the cluster's slot map during the scan)"
        )
    }

    private static func scan(
        _ nodes: [(RedisEndpoint, ConnectionPool)],
        count: Int
    ) async -> Result<Set<String>, KVSError> {
        await withTaskGroup(of: Result<Set<String>, KVSError>.self) { group in
            for (endpoint, pool) in nodes {
                group.addTask { await scan(endpoint, pool, count: count) }
            }
            var keys = Set<String>()
            var failure: KVSError?
            for await outcome in group {
                switch outcome {
                case .success(let found): keys.formUnion(found)
                case .failure(let error):
                    if failure == nil { failure = error }
                    group.cancelAll()
                }
            }
            if let failure { return .failure(failure) }
            return .success(keys)
        }
    }

    private static func scan(
        _ endpoint: RedisEndpoint,
        _ pool: ConnectionPool,
        count: Int
    ) async -> Result<Set<String>, KVSError> {
        var keys = Set<String>()
        var cursor = "0"
        do throws(KVSError) {
            repeat {
                if Task.isCancelled { return .success(keys) }  // another node failed: the walk restarts
                let replies = try await pool.send([.command(["SCAN", cursor, "COUNT", String(count)])])
                guard let reply = replies.first?.withoutAttributes else {
                    throw KVSError(.protocolError, message: "\(endpoint) sent no reply to SCAN")
                }
                if let message = reply.errorMessage { throw replyError(message, node: endpoint, key: nil) }
                guard let parts = reply.elements, parts.count == 2, let next = parts[0].stringValue,
                    let batch = parts[1].elements
                else {
                    throw KVSError(.protocolError, message: "\(endpoint) sent an unexpected reply to SCAN: \(reply)")
                }
                for element in batch {
                    guard let bytes = element.bufferValue else {
                        throw KVSError(
                            .protocolError,
                            message: "\(endpoint) sent an unexpected reply to SCAN: \(reply)"
                        )
                    }
                    keys.insert(String(buffer: bytes))
                }
                cursor = next
            } while cursor != "0"
            return .success(keys)
        } catch {
            return .failure(error)
        }
    }
}
