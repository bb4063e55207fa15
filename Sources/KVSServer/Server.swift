import KVS
import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle
import Synchronization

/// The kvs server: the store's databases served over RESP on TCP, as a
/// swift-service-lifecycle `Service`.
///
/// Life cycle (``State``): `idle` → ``start()`` loads the snapshot (a damaged one stops
/// start-up and is left untouched), checks protected mode, binds → `running` →
/// graceful shutdown (SIGTERM/SIGINT through a `ServiceGroup`, SHUTDOWN, or ``stop(save:)``):
/// stop accepting, close every connection, save the snapshot (if the `save` policy is on,
/// or SHUTDOWN SAVE asked), close the stores → `stopped`.
///
/// Thread-safety: thread-safe; each connection lives on one of the event loops (one per
/// core by default) and runs its commands there against the sharded stores.
public final class Server: Service, Sendable {
    /// Where the server is in its life.
    enum State: Sendable {
        case idle
        case starting
        case running(channels: [any Channel], group: MultiThreadedEventLoopGroup)
        case stopping
        case stopped
    }

    /// An error that stops the server from starting.
    public struct StartupError: Error, CustomStringConvertible {
        /// What went wrong, for a person.
        public let description: String
    }

    let state = Locked<State>(.idle)
    let serverState: ServerState
    let logger: Logger
    private let connections = ConnectionSet()
    private let stopSignal = AsyncStream<Bool?>.makeStream()
    private let port = Locked<Int?>(nil)

    /// The configuration the server runs with.
    public var configuration: ServerConfiguration { serverState.configuration }

    /// Creates a server; nothing happens until ``run()`` or ``start()``.
    ///
    /// - Throws: ``StartupError`` for an invalid configuration.
    public init(configuration: ServerConfiguration, logger: Logger = Logger(label: "kvs-server")) throws {
        guard configuration.databases >= 1, configuration.databases <= 1 << 16 else {
            throw StartupError(description: "--databases must be between 1 and 65536")
        }
        do {
            serverState = try ServerState(configuration: configuration, logger: logger)
        } catch {
            throw StartupError(description: error.message)
        }
        self.logger = logger
        let continuation = stopSignal.continuation
        serverState.shutdownRequested.withLock { $0 = { save in continuation.yield(save) } }
    }

    /// The port the server listens on once started (the chosen one when configured with 0).
    public var boundPort: Int? { port.withLock { $0 } }

    /// Runs until a graceful shutdown (a signal through the `ServiceGroup`) or SHUTDOWN.
    public func run() async throws {
        _ = try await start()
        var save: Bool? = nil
        await withGracefulShutdownHandler {
            for await request in stopSignal.stream {
                save = request
                break
            }
        } onGracefulShutdown: { [continuation = stopSignal.continuation] in
            continuation.yield(nil)
        }
        try await stop(save: save)
    }

    /// Loads the snapshot, checks protected mode and binds.
    ///
    /// - Returns: the port it listens on.
    /// - Throws: ``StartupError`` (damaged snapshot, protected mode, bind failure).
    @discardableResult
    public func start() async throws -> Int {
        try state.withLock { state in
            guard case .idle = state else { throw StartupError(description: "the server was already started") }
            state = .starting
        }
        let config = configuration
        if config.protectedMode, serverState.password.withLock({ $0 == nil }),
            let open = config.bindAddresses.first(where: { !Self.isLoopback($0) })
        {
            state.withLock { $0 = .idle }
            throw StartupError(
                description: "refusing to listen on \(open) without a password while protected mode is on: "
                    + "set --requirepass, or pass --protected-mode no to allow it")
        }
        do {
            let loaded = try serverState.persistence.load(into: serverState.databases, now: StoreClock.system.now())
            if loaded > 0 { logger.info("loaded snapshot", metadata: ["keys": "\(loaded)", "path": "\(serverState.persistence.path)"]) }
        } catch {
            state.withLock { $0 = .idle }
            throw StartupError(
                description: "cannot load the snapshot \(serverState.persistence.path): \(error.message). "
                    + "The file was left untouched; move it away to start with an empty store.")
        }
        let threads = config.resolvedEventLoopThreads
        let group = MultiThreadedEventLoopGroup(numberOfThreads: threads)
        var channels: [any Channel] = []
        do {
            for address in config.bindAddresses {
                let channel = try await makeBootstrap(group: group).bind(host: address, port: config.port).get()
                channels.append(channel)
                if config.port == 0, channels.count == 1, let p = channel.localAddress?.port {
                    // Every further address listens on the same, now chosen, port.
                    port.withLock { $0 = p }
                }
            }
        } catch {
            for c in channels { try? await c.close() }
            try? await group.shutdownGracefully()
            state.withLock { $0 = .idle }
            throw StartupError(description: "cannot listen on \(config.bindAddresses.joined(separator: " ")):\(config.port): \(error)")
        }
        let bound = channels.first?.localAddress?.port ?? config.port
        port.withLock { $0 = bound }
        state.withLock { $0 = .running(channels: channels, group: group) }
        scheduleSavePolicy(on: group.next())
        logger.info("ready to accept connections", metadata: ["port": "\(bound)", "bind": "\(config.bindAddresses)"])
        return bound
    }

    /// Stops accepting, closes every connection, saves (per `save`: true always, false
    /// never, nil when the `save` policy has rules), and releases the event loops.
    ///
    /// - Throws: when the final save failed (the data is still in memory, and lost).
    public func stop(save: Bool? = nil) async throws {
        let previous: State = state.withLock { state in
            let previous = state
            if case .running = state { state = .stopping }
            return previous
        }
        guard case .running(let channels, let group) = previous else { return }
        for channel in channels { try? await channel.close() }
        let open = connections.all
        for channel in open { try? await channel.close() }
        var saveError: (any Error)? = nil
        let policyOn = !serverState.savePoints.withLock { $0.isEmpty }
        if save ?? policyOn {
            // A running BGSAVE holds an older state: let it finish, then save the latest.
            while serverState.persistence.saving.load(ordering: .acquiring) {
                try? await Task.sleep(for: .milliseconds(10))
            }
            do {
                try serverState.persistence.save(serverState.databases)
                logger.info("DB saved on disk", metadata: ["path": "\(serverState.persistence.path)"])
            } catch {
                logger.error("saving on shutdown failed", metadata: ["error": "\(error.message)"])
                saveError = error
            }
        }
        for db in serverState.databases { db.engine.close() }
        try? await group.shutdownGracefully()
        state.withLock { $0 = .stopped }
        stopSignal.continuation.finish()
        if let saveError { throw saveError }
    }

    static func isLoopback(_ address: String) -> Bool {
        address.hasPrefix("127.") || address == "::1" || address == "localhost"
    }

    private func makeBootstrap(group: MultiThreadedEventLoopGroup) -> ServerBootstrap {
        let serverState = self.serverState
        let maxClients = configuration.maxClients
        return ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 511)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
            .childChannelOption(.maxMessagesPerRead, value: 16)
            .childChannelInitializer { [connections] channel in
                serverState.totalConnections.add(1, ordering: .relaxed)
                let count = serverState.connectedClients.wrappingAdd(1, ordering: .relaxed).newValue
                let id = serverState.nextClientID.wrappingAdd(1, ordering: .relaxed).oldValue
                let key = ObjectIdentifier(channel)
                connections.insert(channel, key: key)
                channel.closeFuture.whenComplete { _ in
                    serverState.connectedClients.subtract(1, ordering: .relaxed)
                    connections.remove(key)
                }
                if count > maxClients {
                    serverState.rejectedConnections.add(1, ordering: .relaxed)
                    return channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(RejectingHandler())
                    }
                }
                let remote = channel.remoteAddress.map { "\($0.ipAddress ?? "?"):\($0.port ?? 0)" } ?? "?"
                let local = channel.localAddress.map { "\($0.ipAddress ?? "?"):\($0.port ?? 0)" } ?? "?"
                return channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(
                        RESPChannelHandler(server: serverState, id: id, remote: remote, local: local))
                }
            }
    }

    /// Checks the `save` rules once a second and starts a background save when one is met.
    private func scheduleSavePolicy(on loop: any EventLoop) {
        let serverState = self.serverState
        loop.scheduleRepeatedTask(initialDelay: .seconds(1), delay: .seconds(1)) { task in
            let p = serverState.persistence
            let dirty = p.dirty.load(ordering: .relaxed)
            guard dirty > 0, !p.saving.load(ordering: .relaxed) else { return }
            let elapsed = Int64(time(nil)) - p.lastSave.load(ordering: .relaxed)
            let due = serverState.savePoints.withLock { points in
                points.contains { dirty >= $0.changes && elapsed >= Int64($0.seconds) }
            }
            if due {
                serverState.logger.info("save policy met: background saving", metadata: ["changes": "\(dirty)"])
                _ = p.backgroundSave(serverState.databases)
            }
        }
    }
}

/// The open client connections, so that shutdown can close them.
final class ConnectionSet: Sendable {
    private let channels = Locked<[ObjectIdentifier: any Channel]>([:])

    func insert(_ channel: any Channel, key: ObjectIdentifier) { channels.withLock { $0[key] = channel } }
    func remove(_ key: ObjectIdentifier) { _ = channels.withLock { $0.removeValue(forKey: key) } }
    var all: [any Channel] { channels.withLock { Array($0.values) } }
}

/// Answers a connection over the client limit with Redis's error, once it is active, and
/// closes it.
final class RejectingHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    func channelActive(context: ChannelHandlerContext) {
        var buffer = context.channel.allocator.buffer(capacity: 64)
        buffer.writeString("-ERR max number of clients reached\r\n")
        let channel = context.channel
        context.writeAndFlush(wrapOutboundOut(buffer)).whenComplete { _ in channel.close(promise: nil) }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {}
}
