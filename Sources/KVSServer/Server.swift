import KVS
import Logging
import NIOCore
import NIOPosix
import ServiceLifecycle
import Synchronization

/// The kvs server: the store's databases served over RESP on TCP, as a
/// swift-service-lifecycle `Service`.
///
/// Life cycle (``State``): ``init(configuration:logger:)`` validates the configuration →
/// `idle` → ``start()`` loads the snapshot (a damaged one stops start-up and is left
/// untouched), checks protected mode, binds → `running` → graceful shutdown (SIGTERM/SIGINT
/// through a `ServiceGroup`, SHUTDOWN, or ``shutdown(save:)``): stop accepting, let each
/// connection finish the command it is running and execute no further one, close every
/// connection, save the snapshot (if the `save` policy is on, or SHUTDOWN SAVE asked), close
/// the stores → `stopped`.
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
        /// The setting at fault, by its Redis name (`port`, `dir`, `protected-mode`...;
        /// `max-arguments` for ``ServerConfiguration/maxArguments``, which Redis lacks), or nil
        /// when the problem is not one setting's (a damaged snapshot, an address in use).
        public let parameter: String?
        /// What went wrong, for a person: a sentence naming the problem.
        public let description: String

        init(parameter: String? = nil, description: String) {
            self.parameter = parameter
            self.description = description
        }
    }

    /// An error that happened while the server stopped: the final save failed, and the
    /// changes since the last successful save are lost.
    public struct ShutdownError: Error, CustomStringConvertible {
        /// What went wrong, for a person: a sentence naming the problem.
        public let description: String
    }

    let state = Locked<State>(.idle)
    let serverState: ServerState
    let logger: Logger
    private let connections = ConnectionSet()
    private let stopSignal = AsyncStream<FinalSave>.makeStream()
    private let port = Locked<Int?>(nil)

    /// The configuration in effect: the one the server was created with, and what CONFIG SET
    /// changed since.
    public var configuration: ServerConfiguration { serverState.configuration }

    /// Creates a server after checking its configuration
    /// (``ServerConfiguration/validate()``); nothing is bound until ``run()`` or ``start()``.
    ///
    /// - Throws: ``StartupError`` for an invalid configuration.
    public convenience init(configuration: ServerConfiguration, logger: Logger = Logger(label: "kvs-server")) throws {
        try self.init(configuration: configuration, logger: logger, extraCommands: [])
    }

    /// Creates a server that also knows `extraCommands` (tests add commands through it).
    ///
    /// - Throws: ``StartupError`` for an invalid configuration.
    package init(configuration: ServerConfiguration, logger: Logger, extraCommands: [CommandSpec]) throws(StartupError)
    {
        try configuration.validate()
        do {
            serverState = try ServerState(configuration: configuration, logger: logger, extraCommands: extraCommands)
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
    ///
    /// - Throws: ``StartupError`` when it cannot start; ``ShutdownError`` when the final save
    ///   failed.
    public func run() async throws {
        _ = try await start()
        var save = FinalSave.byPolicy
        await withGracefulShutdownHandler {
            for await request in stopSignal.stream {
                save = request
                break
            }
        } onGracefulShutdown: { [continuation = stopSignal.continuation] in
            continuation.yield(.byPolicy)
        }
        try await stop(finalSave: save)
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
                parameter: "protected-mode",
                description: "refusing to listen on \(open) without a password while protected mode is on: "
                    + "set --requirepass, or pass --protected-mode no to allow it"
            )
        }
        // Measures the command clock's rate now (a 2 ms wait), not on an event loop when
        // the first client connects.
        _ = CommandClock.shared
        do {
            let loaded = try serverState.persistence.load(
                into: serverState.databases,
                now: StoreClock.system.now(),
                hashLimits: serverState.hashLimits,
                listLimits: serverState.listLimits,
                setLimits: serverState.setLimits,
                zsetLimits: serverState.zsetLimits
            )
            if loaded > 0 {
                logger.info(
                    "loaded snapshot",
                    metadata: ["keys": "\(loaded)", "path": "\(serverState.persistence.path)"]
                )
            }
        } catch {
            state.withLock { $0 = .idle }
            throw StartupError(
                description: "cannot load the snapshot \(serverState.persistence.path): \(error.message). "
                    + "The file was left untouched; move it away to start with an empty store."
            )
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
            throw StartupError(
                description: "cannot listen on \(config.bindAddresses.joined(separator: " ")):\(config.port): \(error)"
            )
        }
        let bound = channels.first?.localAddress?.port ?? config.port
        port.withLock { $0 = bound }
        serverState.recordBoundPort(bound)
        state.withLock { $0 = .running(channels: channels, group: group) }
        scheduleSavePolicy(on: group.next())
        logger.info("ready to accept connections", metadata: ["port": "\(bound)", "bind": "\(config.bindAddresses)"])
        return bound
    }

    /// Whether a server that shuts down saves its snapshot first: the choice of Redis's
    /// `SHUTDOWN [SAVE | NOSAVE]`.
    public enum ShutdownSave: Sendable, Hashable {
        /// Save when the `save` policy has rules (``ServerConfiguration/savePoints`` is not
        /// empty), as `SHUTDOWN` with neither option does.
        case asConfigured
        /// Save, whatever the policy says (`SHUTDOWN SAVE`).
        case save
        /// Do not save (`SHUTDOWN NOSAVE`): the changes since the last save are lost.
        case noSave
    }

    /// Stops accepting, lets each connection finish the command it is running (it executes
    /// no further one), closes every connection, saves as `save` says, and releases the event
    /// loops. Calling it on a server that is not running does nothing.
    ///
    /// A server run by a `ServiceGroup` shuts down with the group's graceful shutdown; call
    /// this for a server started with ``start()``.
    ///
    /// - Parameter save: whether to save the snapshot first; ``ShutdownSave/asConfigured``
    ///   by default.
    /// - Throws: ``ShutdownError`` when the final save failed (the server is stopped all the
    ///   same; the changes since the last save are lost).
    /// - Complexity: O(connections) closes, plus the snapshot's write when it saves.
    /// - Thread safety: may be called from any task; a second call returns at once.
    public func shutdown(save: ShutdownSave = .asConfigured) async throws(ShutdownError) {
        switch save {
        case .asConfigured: try await stop(finalSave: .byPolicy)
        case .save: try await stop(finalSave: .always)
        case .noSave: try await stop(finalSave: .never)
        }
    }

    /// The former ``shutdown(save:)``: `true` saves, `false` does not, `nil` as configured.
    ///
    /// - Throws: ``ShutdownError`` when the final save failed.
    @available(*, deprecated, message: "use shutdown(save:) with .save, .noSave or .asConfigured")
    public func stop(save: Bool? = nil) async throws {
        try await shutdown(save: save.map { $0 ? .save : .noSave } ?? .asConfigured)
    }

    /// ``shutdown(save:)`` with the final save's rule.
    func stop(finalSave: FinalSave) async throws(ShutdownError) {
        let previous: State = state.withLock { state in
            let previous = state
            if case .running = state { state = .stopping }
            return previous
        }
        guard case .running(let channels, let group) = previous else { return }
        // Connections check it between commands: a close waits for the running command
        // only, not for the rest of what a client pipelined.
        serverState.stopping.store(true, ordering: .relaxed)
        for channel in channels { try? await channel.close() }
        let open = connections.all
        for channel in open { try? await channel.close() }
        var saveError: ShutdownError? = nil
        let saveNow: Bool
        switch finalSave {
        case .always: saveNow = true
        case .never: saveNow = false
        case .byPolicy: saveNow = !serverState.savePoints.withLock { $0.isEmpty }
        case .ifChanged: saveNow = serverState.persistence.dirty.load(ordering: .relaxed) > 0
        }
        if saveNow {
            // A running BGSAVE holds an older state: let it finish, then save the latest.
            while serverState.persistence.saving.load(ordering: .acquiring) {
                try? await Task.sleep(for: .milliseconds(10))
            }
            do {
                try serverState.persistence.save(serverState.databases)
                logger.info("DB saved on disk", metadata: ["path": "\(serverState.persistence.path)"])
            } catch {
                let reason = error.message.hasPrefix("ERR ") ? String(error.message.dropFirst(4)) : error.message
                let text =
                    "The final save to \(serverState.persistence.path) failed (\(reason)): "
                    + "the changes since the last save are lost."
                logger.error("\(text)")
                saveError = ShutdownError(description: text)
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
                if count > serverState.maxClients.load(ordering: .relaxed) {
                    serverState.rejectedConnections.add(1, ordering: .relaxed)
                    return channel.eventLoop.makeCompletedFuture {
                        try channel.pipeline.syncOperations.addHandler(RejectingHandler())
                    }
                }
                let remote = channel.remoteAddress.map { "\($0.ipAddress ?? "?"):\($0.port ?? 0)" } ?? "?"
                let local = channel.localAddress.map { "\($0.ipAddress ?? "?"):\($0.port ?? 0)" } ?? "?"
                return channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(
                        RESPChannelHandler(server: serverState, id: id, remote: remote, local: local)
                    )
                }
            }
    }

    /// Checks the `save` rules once a second and starts a background save when one is met;
    /// moves the keys' access clock on ten times a second (Redis's cron caches its LRU
    /// clock as often).
    private func scheduleSavePolicy(on loop: any EventLoop) {
        let serverState = self.serverState
        loop.scheduleRepeatedTask(initialDelay: .zero, delay: .milliseconds(100)) { _ in
            serverState.maxMemory.clock.advance(toUnixSeconds: Int64(time(nil)))
        }
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

/// What the final save of a stopping server does.
package enum FinalSave: Sendable {
    /// Save.
    case always
    /// Do not save.
    case never
    /// Save when the `save` policy has rules.
    case byPolicy
    /// Save when anything changed since the last save (SHUTDOWN saved before asking to
    /// stop; this catches the writes other connections made meanwhile).
    case ifChanged
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
