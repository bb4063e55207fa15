import KVS
import NIOCore

/// Connections lent to one caller at a time, for exchanges whose state belongs to the
/// connection (`WATCH` … `MULTI` … `EXEC`), which must never share a connection with
/// pipelined traffic: another task's request could land between `MULTI` and `EXEC`, or a
/// `WATCH` could be left behind for the next user.
///
/// At most `limit` connections (``RedisConfiguration/connectionsPerNode``) are lent or idle
/// at once. A caller past the bound waits, first come first served, at most
/// ``RedisConfiguration/requestTimeout``, then gets `.timeout`. A connection goes back to the
/// idle set only when the borrower's exchange returned normally, which the borrowers
/// guarantee leaves no connection state behind (their last command was `EXEC`, `DISCARD` or
/// `UNWATCH`); one whose exchange threw is closed, since its state is then unknown, and one
/// the server closed is dropped.
///
/// - Thread safety: `Sendable`; its state lives in a `Locked`, held only to take or give
///   back a connection, never across a suspension or network wait.
final class DedicatedConnections: Sendable {
    /// What a borrower was given.
    private enum Grant: Sendable {
        /// An open connection, now lent to it.
        case reuse(RedisConnection)
        /// A lending slot: it opens a connection of its own.
        case open
        /// The pool was shut down.
        case closed
        /// No slot became free within the request timeout.
        case timedOut
    }

    private struct Waiter: Sendable {
        let id: UInt64
        let continuation: CheckedContinuation<Grant, Never>
    }

    private struct State: Sendable {
        /// Open connections with no WATCH or MULTI state, ready to lend.
        var idle: [RedisConnection] = []
        /// Connections lent or being opened for a borrower; `idle.count + lent <= limit`.
        var lent = 0
        /// The connections lent out, so that shutdown can close them.
        var inUse: [ObjectIdentifier: RedisConnection] = [:]
        /// Borrowers waiting for a slot, oldest first.
        var waiters: [Waiter] = []
        var nextWaiterID: UInt64 = 0
        var isShutDown = false
    }

    private let configuration: RedisConfiguration
    private let group: any EventLoopGroup
    private let limit: Int
    private let state = Locked(State())

    init(configuration: RedisConfiguration, group: any EventLoopGroup) {
        self.configuration = configuration
        self.group = group
        self.limit = max(1, configuration.connectionsPerNode)
    }

    /// Lends a connection to `body` alone, and takes it back when `body` ends: to the idle set
    /// if `body` returned and the connection is open, closed if `body` threw.
    ///
    /// - Throws: what `body` throws; `.storeClosed` after ``shutdown()``; `.timeout` if no
    ///   connection became free within the request timeout, or one could not be opened within
    ///   the connect timeout; `.connectionFailed`.
    func withConnection<R>(_ body: (RedisConnection) async throws(KVSError) -> R) async throws(KVSError) -> R {
        let connection = try await acquire()
        let result: R
        do {
            result = try await body(connection)
        } catch {
            giveBack(connection, reusable: false)
            throw error
        }
        giveBack(connection, reusable: connection.isActive)
        return result
    }

    /// Closes the idle and the lent connections (exchanges in flight fail with
    /// `.connectionFailed`), wakes every waiter with `.storeClosed` and refuses later
    /// borrowers. Idempotent.
    func shutdown() async {
        let (connections, waiters) = state.withLock { state in
            state.isShutDown = true
            defer {
                state.idle = []
                state.waiters = []
            }
            return (state.idle + state.inUse.values, state.waiters)
        }
        for waiter in waiters { waiter.continuation.resume(returning: .closed) }
        for connection in connections { try? await connection.close().get() }
    }

    // MARK: - Lending

    private func acquire() async throws(KVSError) -> RedisConnection {
        let grant: Grant
        if let immediate = state.withLock({ Self.take(&$0, limit: limit) }) {
            grant = immediate
        } else {
            grant = await wait()
        }
        switch grant {
        case .reuse(let connection):
            return connection
        case .open:
            return try await open()
        case .closed:
            throw KVSError.storeClosed()
        case .timedOut:
            throw KVSError(
                .timeout,
                message: "no connection to \(configuration.node) for an atomic operation became free within "
                    + "\(configuration.requestTimeout) (all \(limit) were busy; see connectionsPerNode)"
            )
        }
    }

    /// A grant that needs no waiting, or nil when every slot is lent.
    private static func take(_ state: inout State, limit: Int) -> Grant? {
        if state.isShutDown { return .closed }
        while let connection = state.idle.popLast() {
            // One the server closed while idle is dropped (its channel is closed already).
            guard connection.isActive else { continue }
            state.lent += 1
            state.inUse[ObjectIdentifier(connection)] = connection
            return .reuse(connection)
        }
        if state.lent < limit {
            state.lent += 1
            return .open
        }
        return nil
    }

    /// Queues the caller until a slot frees up, the pool shuts down or the request timeout passes.
    private func wait() async -> Grant {
        enum Queued {
            case granted(Grant)
            case waiting(id: UInt64)
        }
        let timeout = TimeAmount.nanoseconds(max(0, configuration.requestTimeout.nanosecondsClamped))
        return await withCheckedContinuation { (continuation: CheckedContinuation<Grant, Never>) in
            // Looked at again under the lock that queues the waiter, so that a slot freed
            // since the first look is taken now rather than missed.
            let queued: Queued = state.withLock { state in
                if let grant = Self.take(&state, limit: limit) { return .granted(grant) }
                let id = state.nextWaiterID
                state.nextWaiterID &+= 1
                state.waiters.append(Waiter(id: id, continuation: continuation))
                return .waiting(id: id)
            }
            switch queued {
            case .granted(let grant):
                continuation.resume(returning: grant)
            case .waiting(let id):
                // Fires after a hand-over too, and then finds no waiter with this id.
                group.any().scheduleTask(in: timeout) { [weak self] in
                    self?.expire(waiter: id)
                }
            }
        }
    }

    private func expire(waiter id: UInt64) {
        let continuation: CheckedContinuation<Grant, Never>? = state.withLock { state in
            guard let index = state.waiters.firstIndex(where: { $0.id == id }) else { return nil }
            return state.waiters.remove(at: index).continuation
        }
        continuation?.resume(returning: .timedOut)
    }

    private func open() async throws(KVSError) -> RedisConnection {
        let connection: RedisConnection
        do {
            connection = try await RedisConnection.connect(configuration: configuration, group: group).get()
        } catch {
            giveBack(nil, reusable: false)
            throw ConnectionPool.kvsError(error, node: configuration.node)
        }
        let registered = state.withLock { state in
            if state.isShutDown { return false }
            state.inUse[ObjectIdentifier(connection)] = connection
            return true
        }
        guard registered else {
            _ = connection.close()
            giveBack(nil, reusable: false)
            throw KVSError.storeClosed()
        }
        return connection
    }

    /// Returns a lending slot: to the oldest waiter if there is one (the connection itself if it
    /// is reusable, else the right to open one), otherwise to the idle set or closed.
    private func giveBack(_ connection: RedisConnection?, reusable: Bool) {
        enum Action {
            case none
            case close(RedisConnection)
            case wake(CheckedContinuation<Grant, Never>, Grant, closing: RedisConnection?)
        }
        let action: Action = state.withLock { state in
            if let connection { state.inUse[ObjectIdentifier(connection)] = nil }
            if !state.isShutDown, !state.waiters.isEmpty {
                let waiter = state.waiters.removeFirst()
                if reusable, let connection {
                    state.inUse[ObjectIdentifier(connection)] = connection
                    return .wake(waiter.continuation, .reuse(connection), closing: nil)
                }
                return .wake(waiter.continuation, .open, closing: connection)  // `lent` unchanged
            }
            state.lent -= 1
            guard let connection else { return .none }
            if reusable, !state.isShutDown, state.idle.count + state.lent < limit {
                state.idle.append(connection)
                return .none
            }
            return .close(connection)
        }
        switch action {
        case .none:
            break
        case .close(let connection):
            _ = connection.close()
        case .wake(let continuation, let grant, let closing):
            if let closing { _ = closing.close() }
            continuation.resume(returning: grant)
        }
    }
}
