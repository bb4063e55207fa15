import KVS
import NIOCore
import RESP

/// One command of a cluster request: the slot it goes to and the key its errors name.
struct ClusterCommand: Sendable {
    var command: RESPValue
    var slot: Int
    var key: String
    /// Hand a `TRYAGAIN` reply back instead of retrying it: for a multi-key command (`MGET`),
    /// which gets `TRYAGAIN` for as long as a slot migration splits its keys, and which the
    /// caller splits into single-key commands instead.
    var returnsTryAgain: Bool
    /// Whether running the command twice gives the same reply (`GET`, `SET`, `MGET`, `EXISTS`),
    /// so that it may be resent after a connection was lost or timed out with the command
    /// perhaps applied. `DEL` and `SET … NX` are not: a second run would misreport the first
    /// one's effect (`0`, nil), so they are resent only when the command surely never left
    /// (the connection could not be opened).
    var idempotent: Bool

    init(_ command: RESPValue, key: String, slot: Int? = nil, returnsTryAgain: Bool = false, idempotent: Bool = true) {
        self.command = command
        self.key = key
        self.slot = slot ?? HashSlot.slot(for: key)
        self.returnsTryAgain = returnsTryAgain
        self.idempotent = idempotent
    }
}

/// A reply, and the node that sent it (for error messages).
struct ClusterReply: Sendable {
    var value: RESPValue
    var node: RedisEndpoint
}

// Sending: route by slot, pipeline per node, nodes in parallel, then per command follow
// MOVED (patch the slot, refresh in the background, resend) and ASK (resend once with ASKING,
// pipelined on one connection of the target), and retry CLUSTERDOWN, TRYAGAIN, an unserved
// slot and lost connections after a short backoff (and, for lost connections, a refresh of the
// map) while the request timeout allows. Only the commands that need it are resent.
extension ClusterRouter {
    /// Where a command goes next.
    private enum Target {
        /// The slot table's primary.
        case table
        /// A `MOVED` target, used for the next attempt even if a refresh under way still has
        /// the old owner.
        case moved(RedisEndpoint)
        /// An `ASK` target: `ASKING` + the command, for this attempt only.
        case ask(RedisEndpoint)
    }

    /// A command still to be sent.
    private struct Progress {
        var index: Int
        var target = Target.table
        var redirects = 0
        /// The redirects followed, for the error when there are too many.
        var trail: [String] = []
        /// Why the command is being retried (shown if it runs out of time).
        var lastError: KVSError?
    }

    /// The commands of one attempt that go to one node, in one pipelined write.
    private struct NodeBatch {
        var endpoint: RedisEndpoint
        var pool: ConnectionPool
        var members: [Progress] = []
        var wire: [RESPValue] = []
        /// Per member, whether `wire` has an `ASKING` before its command.
        var asking: [Bool] = []
    }

    /// Sends one command and returns its reply.
    ///
    /// - Throws: every failure of ``execute(_:)``; an error reply as ``replyError(_:node:key:)``.
    func send(_ command: ClusterCommand) async throws(KVSError) -> ClusterReply {
        guard let result = await execute([command]).first else {
            throw KVSError(.protocolError, key: command.key, message: "no reply")
        }
        let reply = try result.get()
        if let message = reply.value.errorMessage { throw Self.replyError(message, node: reply.node, key: command.key) }
        return reply
    }

    /// Sends `commands`, each to the primary of its slot, and returns one result per command
    /// in order: the reply (error replies other than redirects included), or the error that
    /// ended its attempts, with its key set.
    ///
    /// Bounds: no attempt starts once ``RedisClusterConfiguration/requestTimeout`` has passed
    /// since the call; each attempt is bounded by the connect and request timeouts, and a
    /// refresh waited for by the same (its nodes are asked in parallel).
    func execute(_ commands: [ClusterCommand]) async -> [Result<ClusterReply, KVSError>] {
        if let configurationError {
            return commands.map { .failure(Self.keyed(configurationError, $0.key)) }
        }
        let start = ContinuousClock.now
        let deadline = start + configuration.requestTimeout
        var results = [Result<ClusterReply, KVSError>?](repeating: nil, count: commands.count)
        var pending = commands.indices.map { Progress(index: $0) }
        var attempt = 0

        let (hasMap, seen) = state.withLock { ($0.hasMap, $0.refreshesCompleted) }
        if !hasMap { await refresh(after: seen, until: deadline) }

        while !pending.isEmpty {
            // 1. Route every pending command, under one lock.
            var batches: [NodeBatch] = []
            var batchIndex: [RedisEndpoint: Int] = [:]
            var retry: [Progress] = []
            var waitForRefresh = false
            let observed: UInt64 = state.withLock { state in
                for var progress in pending {
                    let command = commands[progress.index]
                    let route: Route
                    var asking = false
                    switch progress.target {
                    case .table:
                        route = Self.route(slot: command.slot, in: &state, router: self)
                    case .moved(let endpoint):
                        route =
                            Self.pool(for: endpoint, in: &state, router: self).map { .node(endpoint, $0) } ?? .closed
                    case .ask(let endpoint):
                        route =
                            Self.pool(for: endpoint, in: &state, router: self).map { .node(endpoint, $0) } ?? .closed
                        asking = true
                    }
                    switch route {
                    case .node(let endpoint, let pool):
                        let index: Int
                        if let known = batchIndex[endpoint] {
                            index = known
                        } else {
                            index = batches.count
                            batchIndex[endpoint] = index
                            batches.append(NodeBatch(endpoint: endpoint, pool: pool))
                        }
                        if asking { batches[index].wire.append(Self.asking) }
                        batches[index].wire.append(command.command)
                        batches[index].asking.append(asking)
                        batches[index].members.append(progress)
                    case .unassigned:
                        let source = state.mapSource.map { " read from \($0)" } ?? ""
                        progress.lastError = KVSError(
                            .clusterDown,
                            key: command.key,
                            message: "hash slot \(command.slot) is not served by any primary in the slot map\(source)"
                        )
                        retry.append(progress)
                        waitForRefresh = true
                    case .noMap:
                        progress.lastError = Self.keyed(
                            Self.noMapError(in: state, configuration: configuration),
                            command.key
                        )
                        retry.append(progress)
                        waitForRefresh = true
                    case .closed:
                        results[progress.index] = .failure(KVSError.storeClosed(key: command.key))
                    }
                }
                return state.refreshesCompleted
            }

            // 2. One pipelined write per node, nodes in parallel.
            let outcomes = await send(batches)

            // 3. Per command: done, redirected, or to retry.
            var redirected: [Progress] = []
            var refreshSoon = false  // the map may be stale: refresh in the background
            for (batch, outcome) in zip(batches, outcomes) {
                let replies: [RESPValue]
                switch outcome {
                case .failure(let error):
                    let transport = Self.isTransport(error)
                    let neverSent = Self.surelyNeverSent(error)
                    let error = transportError(error, node: batch.endpoint)
                    for var progress in batch.members {
                        let command = commands[progress.index]
                        if transport && (command.idempotent || neverSent) {
                            progress.lastError = Self.keyed(error, command.key)
                            progress.target = .table
                            retry.append(progress)
                            waitForRefresh = true
                        } else {
                            if transport { refreshSoon = true }
                            results[progress.index] = .failure(Self.keyed(error, command.key))
                        }
                    }
                    continue
                case .success(let values):
                    replies = values
                }
                for (var progress, reply) in zip(batch.members, replies) {
                    let command = commands[progress.index]
                    guard let message = reply.errorMessage,
                        let redirect = ClusterRedirect(message: message, from: batch.endpoint)
                    else {
                        results[progress.index] = .success(ClusterReply(value: reply, node: batch.endpoint))
                        continue
                    }
                    switch redirect {
                    case .moved(let slot, let target), .ask(let slot, let target):
                        let isMoved = if case .moved = redirect { true } else { false }
                        progress.trail.append(
                            "\(batch.endpoint) replied \(isMoved ? "MOVED" : "ASK") \(slot) \(target)"
                        )
                        guard progress.redirects < configuration.maxRedirects else {
                            results[progress.index] = .failure(tooManyRedirects(progress, command: command))
                            continue
                        }
                        progress.redirects += 1
                        progress.lastError = nil
                        if isMoved {
                            applyMoved(slot: slot, to: target)
                            refreshSoon = true
                            progress.target = .moved(target)
                        } else {
                            progress.target = .ask(target)
                        }
                        redirected.append(progress)
                    case .tryAgain where command.returnsTryAgain:
                        results[progress.index] = .success(ClusterReply(value: reply, node: batch.endpoint))
                    case .tryAgain, .clusterDown:
                        progress.lastError = KVSError(
                            .clusterDown,
                            key: command.key,
                            message: "\(batch.endpoint) replied: \(message)"
                        )
                        progress.target = .table
                        retry.append(progress)
                        if case .clusterDown = redirect { refreshSoon = true }
                    }
                }
            }
            if refreshSoon { refreshInBackground() }

            // 4. Retry what needs it after a backoff (and a fresh map), if time allows.
            pending = redirected
            guard !retry.isEmpty else { continue }
            let delay = Self.backoff(attempt: attempt)
            attempt += 1
            var giveUp = isShutDown || Task.isCancelled || ContinuousClock.now + delay >= deadline
            if !giveUp, waitForRefresh {
                await refresh(after: observed, until: deadline)
                giveUp = isShutDown || ContinuousClock.now + delay >= deadline
            }
            if giveUp {
                if waitForRefresh { refreshInBackground() }  // a timed-out node: the map may be stale
                for progress in retry {
                    let key = commands[progress.index].key
                    var error = progress.lastError ?? KVSError(.clusterDown, key: key, message: "no attempt succeeded")
                    if attempt > 1 {
                        error.message += " (gave up after \(attempt) attempts in \(ContinuousClock.now - start))"
                    }
                    results[progress.index] = .failure(error)
                }
                continue
            }
            try? await Task.sleep(for: delay)
            pending += retry
        }
        return results.enumerated().map { index, result in
            result ?? .failure(KVSError(.protocolError, key: commands[index].key, message: "no result"))
        }
    }

    /// Sends each batch's commands in one pipelined write on one connection of its node;
    /// batches of different nodes in parallel. Per batch, the replies of its members (the
    /// `ASKING` replies dropped), or the error that failed the whole write.
    private func send(_ batches: [NodeBatch]) async -> [Result<[RESPValue], KVSError>] {
        if batches.count == 1 {
            return [await Self.send(batches[0].wire, asking: batches[0].asking, to: batches[0].pool)]
        }
        return await withTaskGroup(of: (Int, Result<[RESPValue], KVSError>).self) { group in
            for (index, batch) in batches.enumerated() {
                let (wire, asking, pool) = (batch.wire, batch.asking, batch.pool)
                group.addTask { (index, await Self.send(wire, asking: asking, to: pool)) }
            }
            var outcomes = [Result<[RESPValue], KVSError>](
                repeating: .failure(KVSError(.protocolError, message: "no reply")),
                count: batches.count
            )
            for await (index, outcome) in group { outcomes[index] = outcome }
            return outcomes
        }
    }

    private static func send(
        _ wire: [RESPValue],
        asking: [Bool],
        to pool: ConnectionPool
    ) async -> Result<[RESPValue], KVSError> {
        do throws(KVSError) {
            let replies = try await pool.send(wire)
            guard replies.count == wire.count else {
                throw KVSError(
                    .protocolError,
                    message: "\(pool.configuration.node) sent \(replies.count) replies to \(wire.count) commands"
                )
            }
            var result: [RESPValue] = []
            result.reserveCapacity(asking.count)
            var position = 0
            for isAsking in asking {
                if isAsking { position += 1 }  // ASKING's +OK
                result.append(replies[position].withoutAttributes)
                position += 1
            }
            return .success(result)
        } catch {
            return .failure(error)
        }
    }

    static let asking = RESPValue.command(["ASKING"])

    /// A failure of the connection rather than of the command: the node may be gone, so the
    /// map may be stale. (`.storeClosed` from a pool is one a refresh retired, or the store's
    /// own shutdown, which callers check first.)
    static func isTransport(_ error: KVSError) -> Bool {
        error.code == .connectionFailed || error.code == .timeout || error.code == .storeClosed
    }

    /// Whether the request surely never reached the node: its pool was retired before it was
    /// sent, or no connection could be opened (`RedisConnection.connect`'s errors, which all
    /// begin "could not connect to"). Anything else (a connection lost or timed out with the
    /// request written) may have been applied.
    static func surelyNeverSent(_ error: KVSError) -> Bool {
        error.code == .storeClosed || error.message.hasPrefix("could not connect to ")
    }

    /// A pool closed by a refresh (its node left the map) while not shut down is a lost
    /// connection, not a closed store.
    private func transportError(_ error: KVSError, node: RedisEndpoint) -> KVSError {
        guard error.code == .storeClosed, !isShutDown else { return error }
        return KVSError(
            .connectionFailed,
            message: "the connections to \(node) were closed: the node left the cluster's slot map"
        )
    }

    private func tooManyRedirects(_ progress: Progress, command: ClusterCommand) -> KVSError {
        KVSError(
            .clusterDown,
            key: command.key,
            message: "gave up on hash slot \(command.slot) after \(progress.redirects) redirects "
                + "(maxRedirects is \(configuration.maxRedirects)): " + progress.trail.joined(separator: "; ")
                + "; the slot's owner keeps changing (resharding or failover under way?)"
        )
    }

    /// Exponential backoff with jitter: 5–10 ms, then doubling, at most 250 ms.
    static func backoff(attempt: Int) -> Duration {
        let ceiling = min(10 << min(attempt, 5), 250)
        return .milliseconds(Int.random(in: (ceiling / 2)...ceiling))
    }

    static func keyed(_ error: KVSError, _ key: String?) -> KVSError {
        var error = error
        if error.key == nil { error.key = key }
        return error
    }

    /// An error reply: `CROSSSLOT` is `.crossSlot`, `CLUSTERDOWN` and `TRYAGAIN` `.clusterDown`,
    /// every other reply `.serverError`; the message holds the node and the server's text.
    static func replyError(_ message: String, node: RedisEndpoint, key: String?) -> KVSError {
        let code: KVSError.Code =
            if message.hasPrefix("CROSSSLOT") {
                .crossSlot
            } else if message.hasPrefix("CLUSTERDOWN") || message.hasPrefix("TRYAGAIN") {
                .clusterDown
            } else {
                .serverError
            }
        return KVSError(code, key: key, message: "\(node) replied: \(message)")
    }
}
