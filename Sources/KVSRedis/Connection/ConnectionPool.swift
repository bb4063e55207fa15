import KVS
import NIOCore
import RESP

/// A small pool of connections to one node: at most `connectionsPerNode`, opened on first use,
/// chosen round-robin, each carrying any number of pipelined requests. A connection that closed
/// or failed is replaced on the next request that picks its slot.
///
/// - Thread safety: `Sendable`; its state lives in a `Locked`, held only to read or swap a slot,
///   never across a suspension or network wait.
final class ConnectionPool: Sendable {
    private enum Slot: Sendable {
        case empty
        case connecting(EventLoopFuture<RedisConnection>, generation: UInt64)
        case ready(RedisConnection)
    }

    private struct State: Sendable {
        var slots: [Slot]
        var next = 0
        var generation: UInt64 = 0
        var isShutDown = false
    }

    let configuration: RedisConfiguration
    private let group: any EventLoopGroup
    private let state: Locked<State>
    /// Connections lent to one caller at a time (WATCH/MULTI/EXEC); see `ConnectionPool+Dedicated.swift`.
    let dedicated: DedicatedConnections

    init(configuration: RedisConfiguration, group: any EventLoopGroup) {
        self.configuration = configuration
        self.group = group
        self.dedicated = DedicatedConnections(configuration: configuration, group: group)
        self.state = Locked(State(slots: Array(repeating: .empty, count: max(1, configuration.connectionsPerNode))))
    }

    /// Sends `commands` on one pooled connection and returns their replies in order.
    ///
    /// - Throws: `.storeClosed` after ``shutdown()``; `.connectionFailed`, `.timeout`,
    ///   `.protocolError` (messages name the node; `key` is left for the caller to fill).
    func send(_ commands: [RESPValue]) async throws(KVSError) -> [RESPValue] {
        let connection = try await connection()
        do {
            return try await connection.send(commands).get()
        } catch {
            throw Self.kvsError(error, node: configuration.node)
        }
    }

    private func connection() async throws(KVSError) -> RedisConnection {
        enum Pick {
            case use(RedisConnection)
            case wait(EventLoopFuture<RedisConnection>)
            case opened(EventLoopFuture<RedisConnection>, index: Int, generation: UInt64)
            case closed
        }
        let pick: Pick = state.withLock { state in
            if state.isShutDown { return .closed }
            let index = state.next
            state.next = (state.next + 1) % state.slots.count
            switch state.slots[index] {
            case .ready(let connection) where connection.isActive:
                return .use(connection)
            case .connecting(let future, _):
                return .wait(future)
            case .ready, .empty:
                state.generation &+= 1
                let generation = state.generation
                let future = RedisConnection.connect(configuration: configuration, group: group)
                state.slots[index] = .connecting(future, generation: generation)
                return .opened(future, index: index, generation: generation)
            }
        }
        switch pick {
        case .closed:
            throw KVSError.storeClosed()
        case .use(let connection):
            return connection
        case .opened(let future, let index, let generation):
            // Registered outside the lock: a callback on a completed future may run at once.
            future.whenComplete { [weak self] result in
                self?.settle(index: index, generation: generation, result: result)
            }
            return try await Self.wait(for: future, node: configuration.node)
        case .wait(let future):
            return try await Self.wait(for: future, node: configuration.node)
        }
    }

    private static func wait(
        for future: EventLoopFuture<RedisConnection>,
        node: String
    ) async throws(KVSError) -> RedisConnection {
        do {
            return try await future.get()
        } catch {
            throw Self.kvsError(error, node: node)
        }
    }

    private func settle(index: Int, generation: UInt64, result: Result<RedisConnection, any Error>) {
        let orphan: RedisConnection? = state.withLock { state in
            guard case .connecting(_, let current) = state.slots[index], current == generation else {
                if case .success(let connection) = result, state.isShutDown { return connection }
                return nil
            }
            switch result {
            case .success(let connection):
                if state.isShutDown {
                    state.slots[index] = .empty
                    return connection
                }
                state.slots[index] = .ready(connection)
            case .failure:
                state.slots[index] = .empty  // the next request that picks this slot retries
            }
            return nil
        }
        if let orphan { _ = orphan.close() }
    }

    /// Closes every connection and refuses further requests with `.storeClosed`; requests in
    /// flight fail with `.connectionFailed`. Idempotent.
    func shutdown() async {
        await dedicated.shutdown()
        let slots: [Slot] = state.withLock { state in
            state.isShutDown = true
            defer { state.slots = state.slots.map { _ in .empty } }
            return state.slots
        }
        for slot in slots {
            switch slot {
            case .ready(let connection):
                try? await connection.close().get()
            case .connecting(let future, _):
                if let connection = try? await future.get() { try? await connection.close().get() }
            case .empty:
                break
            }
        }
    }

    static func kvsError(_ error: any Error, node: String) -> KVSError {
        if let error = error as? KVSError { return error }
        return KVSError(.connectionFailed, message: "the connection to \(node) failed: \(error)")
    }
}
