import KVS
import NIOCore
import RESP

/// The cluster store's routing state, shared by every value type: a 16384-entry slot → primary
/// table, one ``ConnectionPool`` per node, and the single-flight refresh of the slot map
/// (`ClusterRouter+Refresh.swift`); sending with redirects and retries is in
/// `ClusterRouter+Execution.swift`.
///
/// - Thread safety: `Sendable`. Everything mutable is in one `Locked<State>`, held only to read
///   a route, patch a slot, swap in a new map or register a waiter, never across a suspension.
final class ClusterRouter: Sendable {

    /// A slot with no primary in the table.
    static let unassigned = UInt16.max

    struct State: Sendable {
        /// Per slot, an index into `primaries`, or ``ClusterRouter/unassigned``.
        var slots = [UInt16](repeating: ClusterRouter.unassigned, count: HashSlot.count)
        /// The primaries the table points at.
        var primaries: [RedisEndpoint] = []
        /// Every node of the last map read (primaries and replicas): where a refresh asks first.
        var knownNodes: [RedisEndpoint] = []
        /// The node the last map was read from, for error messages.
        var mapSource: RedisEndpoint?
        var hasMap = false
        var pools: [RedisEndpoint: ConnectionPool] = [:]
        /// Refresh attempts finished (successful or not); a caller that saw `n` and then failed
        /// waits for attempt `n + 1`.
        var refreshesCompleted: UInt64 = 0
        var refreshing = false
        /// Callers waiting for the refresh under way, by id.
        var waiters: [UInt64: RefreshWaiter] = [:]
        var nextWaiterID: UInt64 = 0
        var lastRefreshFinished: ContinuousClock.Instant?
        var lastRefreshError: KVSError?
        var isShutDown = false
    }

    /// A caller waiting for a refresh, and the timer that wakes it at its deadline if the
    /// refresh takes longer.
    struct RefreshWaiter: Sendable {
        var continuation: CheckedContinuation<Void, Never>
        var timer: Scheduled<Void>?

        /// Cancels the timer and resumes the caller.
        func wake() {
            timer?.cancel()
            continuation.resume()
        }
    }

    /// Where a command goes.
    enum Route {
        case node(RedisEndpoint, ConnectionPool)
        /// The map has no primary for the slot.
        case unassigned
        /// No slot map has been read yet.
        case noMap
        case closed
    }

    let configuration: RedisClusterConfiguration
    /// What ``RedisClusterConfiguration/validate()`` threw, reported by every operation.
    let configurationError: KVSError?
    let group: any EventLoopGroup
    let state = Locked(State())

    init(configuration: RedisClusterConfiguration, group: any EventLoopGroup) {
        self.configuration = configuration
        self.group = group
        do {
            try configuration.validate()
            self.configurationError = nil
        } catch {
            self.configurationError = error
        }
    }

    var isShutDown: Bool { state.withLock { $0.isShutDown } }

    /// Why there is no slot map: the last refresh's error, or, while the first refresh is still
    /// waiting for an answer, a timeout naming the seeds.
    static func noMapError(in state: State, configuration: RedisClusterConfiguration) -> KVSError {
        if let error = state.lastRefreshError { return error }
        let seeds = configuration.seeds.map(\.description).joined(separator: ", ")
        return KVSError(
            .timeout,
            message: "no node answered CLUSTER SHARDS within \(configuration.requestTimeout) (seeds: \(seeds)); "
                + "the cluster's slot map is unknown"
        )
    }

    /// The pool of `endpoint`, created on first use; `nil` once shut down.
    func pool(for endpoint: RedisEndpoint) -> ConnectionPool? {
        state.withLock { state in Self.pool(for: endpoint, in: &state, router: self) }
    }

    static func pool(for endpoint: RedisEndpoint, in state: inout State, router: ClusterRouter) -> ConnectionPool? {
        if state.isShutDown { return nil }
        if let pool = state.pools[endpoint] { return pool }
        let pool = ConnectionPool(
            configuration: router.configuration.nodeConfiguration(for: endpoint),
            group: router.group
        )
        state.pools[endpoint] = pool
        return pool
    }

    /// The primary of `slot` as the table has it now.
    static func route(slot: Int, in state: inout State, router: ClusterRouter) -> Route {
        if state.isShutDown { return .closed }
        guard state.hasMap else { return .noMap }
        let index = state.slots[slot]
        guard index != unassigned, Int(index) < state.primaries.count else { return .unassigned }
        let endpoint = state.primaries[Int(index)]
        guard let pool = pool(for: endpoint, in: &state, router: router) else { return .closed }
        return .node(endpoint, pool)
    }

    /// Points `slot` at `endpoint` at once (a `MOVED` reply), before any full refresh.
    func applyMoved(slot: Int, to endpoint: RedisEndpoint) {
        state.withLock { state in
            guard state.hasMap, !state.isShutDown else { return }
            let index: Int
            if let known = state.primaries.firstIndex(of: endpoint) {
                index = known
            } else {
                guard state.primaries.count < Int(Self.unassigned) else { return }
                state.primaries.append(endpoint)
                index = state.primaries.count - 1
            }
            state.slots[slot] = UInt16(index)
        }
    }

    /// The distinct primaries of the table (every node `keys()` scans).
    func primaries() -> [RedisEndpoint] {
        state.withLock { state in
            var used = [Bool](repeating: false, count: state.primaries.count)
            for index in state.slots where index != Self.unassigned && Int(index) < used.count {
                used[Int(index)] = true
            }
            return state.primaries.indices.filter { used[$0] }.map { state.primaries[$0] }
        }
    }

    /// The node the table routes `slot` to, as `host:port` (for tests).
    func node(forSlot slot: Int) -> String? {
        state.withLock { state in
            guard state.hasMap else { return nil }
            let index = state.slots[slot]
            guard index != Self.unassigned, Int(index) < state.primaries.count else { return nil }
            return state.primaries[Int(index)].description
        }
    }

    /// Closes every pool and refuses further work with `.storeClosed`. Idempotent.
    func shutdown() async {
        let (pools, waiters): ([ConnectionPool], [RefreshWaiter]) = state.withLock { state in
            state.isShutDown = true
            defer {
                state.pools = [:]
                state.waiters = [:]
            }
            return (Array(state.pools.values), Array(state.waiters.values))
        }
        for waiter in waiters { waiter.wake() }
        for pool in pools { await pool.shutdown() }
    }
}
