import KVS
import NIOCore
import RESP

// Running an operation that needs a node's pool itself (the WATCH/MULTI/EXEC operations of
// Atomic/RedisAtomic.swift, shared with RedisStore) on the primary of one slot, following MOVED
// and waiting out a migration, CLUSTERDOWN and an unreachable node while time allows.
extension ClusterRouter {
    /// Runs `operation` on the pool of `slot`'s primary and returns its result.
    ///
    /// - A `MOVED` in the error `operation` throws (`<node> replied: MOVED …`; it always comes
    ///   before `EXEC`, so nothing was written) patches the slot, refreshes the map in the
    ///   background and runs `operation` again on the new owner; at most
    ///   ``RedisClusterConfiguration/maxRedirects`` times.
    /// - `ASK` and `TRYAGAIN` (the slot is being migrated: a `WATCH`ed transaction cannot follow
    ///   keys across two nodes), `CLUSTERDOWN`, an unserved slot and a connection that could not
    ///   be opened are retried after a backoff (and a refresh), until the request timeout has
    ///   passed since the call; then the last error is thrown (`.clusterDown` for the first
    ///   three).
    /// - Any other error, including a connection lost with the operation perhaps applied, is
    ///   thrown at once (after starting a background refresh if the node may be gone).
    ///
    /// - Throws: `.storeClosed`, `.invalidArgument` (invalid configuration), what `operation`
    ///   throws, `.clusterDown` as above.
    func onPrimary<R>(
        slot: Int,
        key: String,
        _ operation: (ConnectionPool) async throws(KVSError) -> R
    ) async throws(KVSError) -> R {
        if let configurationError { throw Self.keyed(configurationError, key) }
        let start = ContinuousClock.now
        let deadline = start + configuration.requestTimeout
        var movedTo: RedisEndpoint?
        var redirects = 0
        var trail: [String] = []
        var attempt = 0
        let (hasMap, seen) = state.withLock { ($0.hasMap, $0.refreshesCompleted) }
        if !hasMap { await refresh(after: seen, until: deadline) }

        while true {
            let (route, observed): (Route, UInt64) = state.withLock { state in
                let route: Route =
                    if let movedTo {
                        Self.pool(for: movedTo, in: &state, router: self).map { .node(movedTo, $0) } ?? .closed
                    } else {
                        Self.route(slot: slot, in: &state, router: self)
                    }
                return (route, state.refreshesCompleted)
            }
            movedTo = nil
            let failure: KVSError
            var waitForRefresh = false
            switch route {
            case .closed:
                throw KVSError.storeClosed(key: key)
            case .noMap:
                failure = state.withLock { Self.noMapError(in: $0, configuration: configuration) }
                waitForRefresh = true
            case .unassigned:
                failure = KVSError(
                    .clusterDown,
                    message: "hash slot \(slot) is not served by any primary in the slot map"
                )
                waitForRefresh = true
            case .node(let endpoint, let pool):
                do {
                    return try await operation(pool)
                } catch {
                    if isShutDown { throw error.code == .storeClosed ? KVSError.storeClosed(key: key) : error }
                    switch Self.redirect(in: error, from: endpoint) {
                    case .moved(let movedSlot, let target):
                        trail.append("\(endpoint) replied MOVED \(movedSlot) \(target)")
                        guard redirects < configuration.maxRedirects else {
                            throw KVSError(
                                .clusterDown,
                                key: key,
                                message: "gave up on hash slot \(slot) after \(redirects) redirects (maxRedirects is "
                                    + "\(configuration.maxRedirects)): \(trail.joined(separator: "; "))"
                            )
                        }
                        redirects += 1
                        applyMoved(slot: movedSlot, to: target)
                        refreshInBackground()
                        movedTo = target
                        continue
                    case .ask(let askedSlot, let target):
                        failure = KVSError(
                            .clusterDown,
                            key: key,
                            message:
                                "\(endpoint) replied ASK \(askedSlot) \(target): the slot is being migrated, and an "
                                + "atomic operation waits for the migration to finish"
                        )
                    case .tryAgain:
                        failure = KVSError(
                            .clusterDown,
                            key: key,
                            message: "\(error.message) (the slot is being migrated)"
                        )
                    case .clusterDown:
                        failure = KVSError(.clusterDown, key: key, message: error.message)
                        refreshInBackground()
                    case nil:
                        guard Self.isTransport(error) else { throw error }
                        guard Self.surelyNeverSent(error) else {
                            refreshInBackground()
                            throw error
                        }
                        failure = error
                        waitForRefresh = true
                    }
                }
            }
            let delay = Self.backoff(attempt: attempt)
            attempt += 1
            var giveUp = Task.isCancelled || ContinuousClock.now + delay >= deadline
            if !giveUp, waitForRefresh {
                await refresh(after: observed, until: deadline)
                giveUp = isShutDown || ContinuousClock.now + delay >= deadline
            }
            if giveUp {
                var error = Self.keyed(failure, key)
                if attempt > 1 {
                    error.message += " (gave up after \(attempt) attempts in \(ContinuousClock.now - start))"
                }
                throw error
            }
            try? await Task.sleep(for: delay)
        }
    }

    /// The redirect or cluster state an error from a node's reply carries
    /// (`"<node> replied: MOVED 3999 host:port"`), or nil.
    static func redirect(in error: KVSError, from node: RedisEndpoint) -> ClusterRedirect? {
        guard error.code == .serverError || error.code == .clusterDown,
            let marker = error.message.range(of: "replied: ")
        else { return nil }
        return ClusterRedirect(message: String(error.message[marker.upperBound...]), from: node)
    }
}
