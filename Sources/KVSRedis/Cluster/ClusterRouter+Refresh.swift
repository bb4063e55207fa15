import KVS
import NIOCore
import RESP

// Reading the slot map: single-flight (one refresh at a time, every caller that needs one
// waits for the same), first from the nodes of the last map, then from the seeds, asking the
// nodes of each wave in parallel and taking the first complete answer, as go-redis and
// redis-py take the first node that answers.
extension ClusterRouter {
    /// How many known nodes a refresh asks at once before falling back to the seeds.
    static let refreshFanOut = 5
    /// A `MOVED` reply starts a background refresh at most this often; the slot itself is
    /// patched at once, so later `MOVED`s of the same change cost nothing more.
    static let backgroundRefreshInterval = Duration.milliseconds(100)

    /// Returns once a refresh attempt that finished after the caller saw `observed` attempts is
    /// over (successful or not), starting one if none is under way; at once if the store is
    /// shut down or such an attempt already finished; at `deadline` at the latest, even if the
    /// refresh is still under way (it goes on for the others).
    func refresh(after observed: UInt64, until deadline: ContinuousClock.Instant) async {
        enum Action { case resume, start, wait }
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let (action, id): (Action, UInt64) = state.withLock { state in
                if state.isShutDown || state.refreshesCompleted > observed { return (.resume, 0) }
                let id = state.nextWaiterID
                state.nextWaiterID &+= 1
                state.waiters[id] = RefreshWaiter(continuation: continuation, timer: nil)
                if state.refreshing { return (.wait, id) }
                state.refreshing = true
                return (.start, id)
            }
            if case .resume = action {
                continuation.resume()
                return
            }
            // The timer is scheduled outside the lock, then attached if the caller still waits.
            let remaining = ContinuousClock.now.duration(to: deadline)
            let timer = group.any().scheduleTask(in: .nanoseconds(max(0, remaining.nanosecondsClamped))) {
                [weak self] () -> Void in
                self?.wakeWaiter(id)
            }
            let attached = state.withLock { state in
                guard state.waiters[id] != nil else { return false }
                state.waiters[id]?.timer = timer
                return true
            }
            if !attached { timer.cancel() }
            if case .start = action { startRefresh() }
        }
    }

    /// Wakes one waiter whose deadline came before the refresh ended.
    private func wakeWaiter(_ id: UInt64) {
        state.withLock { $0.waiters.removeValue(forKey: id) }?.continuation.resume()
    }

    /// Takes every waiter out of `state`, to be woken outside the lock.
    private static func takeWaiters(_ state: inout State) -> [RefreshWaiter] {
        defer { state.waiters = [:] }
        return Array(state.waiters.values)
    }

    /// Starts a refresh nobody waits for (after a `MOVED`, a timeout or `CLUSTERDOWN`), unless
    /// one is under way or one finished within ``backgroundRefreshInterval``.
    func refreshInBackground() {
        let start = state.withLock { state in
            if state.isShutDown || state.refreshing { return false }
            if let last = state.lastRefreshFinished, ContinuousClock.now - last < Self.backgroundRefreshInterval {
                return false
            }
            state.refreshing = true
            return true
        }
        if start { startRefresh() }
    }

    private func startRefresh() {
        // Unstructured on purpose: the refresh serves every waiting caller, and outlives none
        // of its bounds (each node asked is bounded by the connect and request timeouts).
        Task { await self.performRefresh() }
    }

    private func performRefresh() async {
        let known: [RedisEndpoint] = state.withLock { $0.knownNodes }
        let firstWave = Array(known.shuffled().prefix(Self.refreshFanOut))
        let seedWave = configuration.seeds.filter { !firstWave.contains($0) }
        var failures: [String] = []
        var codes: [KVSError.Code] = []
        for wave in [firstWave, seedWave] where !wave.isEmpty {
            if isShutDown { break }
            let outcome = await firstSlotMap(from: wave)
            if outcome.installed {
                for pool in outcome.retired { await pool.shutdown() }
                return
            }
            failures += outcome.failures.map { "\($0.endpoint): \($0.error.message)" }
            codes += outcome.failures.map(\.error.code)
        }
        // `.timeout` only when every node asked timed out; otherwise the cluster is unreachable.
        let code: KVSError.Code = !codes.isEmpty && codes.allSatisfy { $0 == .timeout } ? .timeout : .connectionFailed
        let error = KVSError(
            code,
            message: "could not read the cluster's slot map from any node (\(failures.joined(separator: "; ")))"
        )
        let waiters: [RefreshWaiter] = state.withLock { state in
            state.refreshing = false
            state.refreshesCompleted &+= 1
            state.lastRefreshFinished = .now
            state.lastRefreshError = error
            return Self.takeWaiters(&state)
        }
        for waiter in waiters { waiter.wake() }
    }

    private struct WaveOutcome: Sendable {
        var installed = false
        /// Pools of nodes the installed map no longer names, to close.
        var retired: [ConnectionPool] = []
        var failures: [(endpoint: RedisEndpoint, error: KVSError)] = []
    }

    /// Asks every node of `wave` at once; the first usable map wins and is installed (and its
    /// waiters woken) at once, while slower nodes may still be answering: the task group then
    /// waits for them, bounded by their timeouts, but no caller does.
    private func firstSlotMap(from wave: [RedisEndpoint]) async -> WaveOutcome {
        await withTaskGroup(of: (RedisEndpoint, Result<ClusterSlotMap, KVSError>).self) { group in
            for endpoint in wave {
                group.addTask { (endpoint, await self.readSlotMap(from: endpoint)) }
            }
            var outcome = WaveOutcome()
            for await (endpoint, result) in group {
                switch result {
                case .success(let map):
                    outcome.installed = true
                    outcome.retired = install(map, from: endpoint)
                    group.cancelAll()
                    return outcome
                case .failure(let error):
                    outcome.failures.append((endpoint, error))
                }
            }
            return outcome
        }
    }

    /// `CLUSTER SHARDS` from one node, or `CLUSTER SLOTS` if that is an error reply (before Redis 7).
    func readSlotMap(from endpoint: RedisEndpoint) async -> Result<ClusterSlotMap, KVSError> {
        guard let pool = pool(for: endpoint) else { return .failure(KVSError.storeClosed()) }
        do throws(KVSError) {
            var reply = try await Self.one(pool, .command(["CLUSTER", "SHARDS"]), node: endpoint)
            var map: ClusterSlotMap
            if let shardsError = reply.errorMessage {
                reply = try await Self.one(pool, .command(["CLUSTER", "SLOTS"]), node: endpoint)
                if let slotsError = reply.errorMessage {
                    throw KVSError(
                        .serverError,
                        message: "\(endpoint) is not usable as a cluster node: CLUSTER SHARDS replied \(shardsError); "
                            + "CLUSTER SLOTS replied \(slotsError)"
                    )
                }
                map = try ClusterSlotMap.parseSlots(reply, askedHost: endpoint.host)
            } else {
                map = try ClusterSlotMap.parseShards(reply, askedHost: endpoint.host)
            }
            guard map.coveredSlots > 0 else {
                throw KVSError(.clusterDown, message: "\(endpoint) reports no slot served by any primary")
            }
            map.nodes.removeAll { $0.host.isEmpty }
            return .success(map)
        } catch {
            var error = error
            if !error.message.contains(endpoint.description) { error.message += " (\(endpoint))" }
            return .failure(error)
        }
    }

    private static func one(
        _ pool: ConnectionPool,
        _ command: RESPValue,
        node: RedisEndpoint
    ) async throws(KVSError) -> RESPValue {
        let replies = try await pool.send([command])
        guard let reply = replies.first else { throw KVSError(.protocolError, message: "\(node) sent no reply") }
        return reply.withoutAttributes
    }

    /// Swaps in `map` (the table is built outside the lock) and wakes the waiters; returns the
    /// pools of nodes that are neither in the new map nor seeds, taken out for closing.
    private func install(_ map: ClusterSlotMap, from source: RedisEndpoint) -> [ConnectionPool] {
        var primaries: [RedisEndpoint] = []
        var indices: [RedisEndpoint: UInt16] = [:]
        var slots = [UInt16](repeating: Self.unassigned, count: HashSlot.count)
        for range in map.ranges {
            let index: UInt16
            if let known = indices[range.primary] {
                index = known
            } else {
                guard primaries.count < Int(Self.unassigned) else { continue }
                index = UInt16(primaries.count)
                indices[range.primary] = index
                primaries.append(range.primary)
            }
            for slot in range.slots { slots[slot] = index }
        }
        let keep = Set(map.nodes).union(primaries).union(configuration.seeds)
        let (waiters, retired): ([RefreshWaiter], [ConnectionPool]) = state.withLock { state in
            if !state.isShutDown {
                state.slots = slots
                state.primaries = primaries
                state.knownNodes = map.nodes
                state.mapSource = source
                state.hasMap = true
                state.lastRefreshError = nil
            }
            state.refreshing = false
            state.refreshesCompleted &+= 1
            state.lastRefreshFinished = .now
            var retired: [ConnectionPool] = []
            for endpoint in state.pools.keys where !keep.contains(endpoint) {
                if let pool = state.pools.removeValue(forKey: endpoint) { retired.append(pool) }
            }
            return (Self.takeWaiters(&state), retired)
        }
        for waiter in waiters { waiter.wake() }
        return retired
    }
}
