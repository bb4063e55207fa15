import KVS
import NIOCore
import NIOPosix
import RESP

/// One open RESP connection to a node, authenticated and on the configured database.
///
/// - Thread safety: `Sendable`; ``send(_:)`` may be called from any task, any number at once:
///   requests are pipelined on the channel and replies matched in order by ``RedisClientHandler``.
final class RedisConnection: Sendable {
    let channel: any Channel
    let node: String

    private init(channel: any Channel, node: String) {
        self.channel = channel
        self.node = node
    }

    /// Whether the channel is still open.
    var isActive: Bool { channel.isActive }

    /// Sends `commands` back to back and returns their replies, in order.
    ///
    /// The future fails with a `KVSError` (`.connectionFailed`, `.timeout`, `.protocolError`).
    func send(_ commands: [RESPValue]) -> EventLoopFuture<[RESPValue]> {
        let promise = channel.eventLoop.makePromise(of: [RESPValue].self)
        let node = self.node
        channel.writeAndFlush(RedisRequest(commands: commands, promise: promise)).whenFailure { error in
            // The handler fails the request itself when it saw it; this covers a channel closed
            // before the write reached the handler (completing a promise twice is a no-op).
            promise.fail(KVSError(.connectionFailed, message: "could not send to \(node): \(error)"))
        }
        return promise.futureResult
    }

    /// Closes the channel; requests in flight fail with `.connectionFailed`.
    func close() -> EventLoopFuture<Void> {
        let promise = channel.eventLoop.makePromise(of: Void.self)
        channel.close(promise: promise)
        return promise.futureResult.recover { _ in }  // already closed is fine
    }

    /// Connects to `configuration`'s node, then authenticates and selects the database.
    static func connect(
        configuration: RedisConfiguration,
        group: any EventLoopGroup
    ) -> EventLoopFuture<RedisConnection> {
        let node = configuration.node
        let requestTimeout = TimeAmount.nanoseconds(Int64(clamping: configuration.requestTimeout.nanosecondsClamped))
        let bootstrap = ClientBootstrap(group: group)
            .connectTimeout(.nanoseconds(Int64(clamping: configuration.connectTimeout.nanosecondsClamped)))
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(RESPValueDecoder()))
                    try channel.pipeline.syncOperations.addHandler(
                        RedisClientHandler(node: node, requestTimeout: requestTimeout)
                    )
                }
            }
        return bootstrap.connect(host: configuration.host, port: configuration.port)
            .flatMapErrorThrowing { error in
                if error is ChannelError, case ChannelError.connectTimeout = error {
                    throw KVSError(
                        .timeout,
                        message: "could not connect to \(node) within \(configuration.connectTimeout): \(error)"
                    )
                }
                throw KVSError(.connectionFailed, message: "could not connect to \(node): \(error)")
            }
            .flatMap { channel in
                let connection = RedisConnection(channel: channel, node: node)
                var handshake: [RESPValue] = []
                if let password = configuration.password {
                    if let username = configuration.username {
                        handshake.append(.command(["AUTH", username, password]))
                    } else {
                        handshake.append(.command(["AUTH", password]))
                    }
                }
                if configuration.database != 0 {
                    handshake.append(.command(["SELECT", String(configuration.database)]))
                }
                return connection.send(handshake).flatMapThrowing { replies in
                    for reply in replies {
                        if let message = reply.errorMessage {
                            throw KVSError(
                                .connectionFailed,
                                message: "\(node) refused the connection's set-up: \(message)"
                            )
                        }
                    }
                    return connection
                }.flatMapError { error in
                    connection.close().flatMapThrowing { throw error }
                }
            }
    }
}

extension Duration {
    /// The duration in nanoseconds, clamped to `Int64`'s range.
    var nanosecondsClamped: Int64 {
        let (seconds, attoseconds) = components
        let (scaled, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        if overflow { return seconds < 0 ? .min : .max }
        let (total, overflow2) = scaled.addingReportingOverflow(attoseconds / 1_000_000_000)
        if overflow2 { return seconds < 0 ? .min : .max }
        return total
    }
}
