import NIOCore
import NIOHTTP1
import NIOPosix

/// The web cache's HTTP/1.1 server on SwiftNIO: it listens on one address and hands
/// each request to a ``UserService`` through a ``WebCacheHandler``.
///
/// - Thread safety: the value may be shared; ``close()`` may be called from any task.
package struct WebCacheServer: Sendable {
    /// The port it listens on: the one asked for, or the one the system chose for port 0.
    package let port: Int
    /// The service that answers the requests.
    package let service: UserService
    private let channel: any Channel

    /// Starts listening on `host:port` (port 0: any free port) and returns at once.
    ///
    /// - Parameter group: the event loops of the connections; NIO's shared ones unless given.
    /// - Throws: NIO's error if the address cannot be bound.
    package static func start(
        service: UserService,
        host: String = "127.0.0.1",
        port: Int,
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) async throws -> WebCacheServer {
        let channel = try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    // Pipelining assistance holds a connection's next request until the answer
                    // to the current one is written, so the handler serves one at a time.
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(withPipeliningAssistance: true)
                    try channel.pipeline.syncOperations.addHandler(WebCacheHandler(service: service))
                }
            }
            .bind(host: host, port: port)
            .get()
        guard let boundPort = channel.localAddress?.port else {
            try? await channel.close()
            throw ChannelError.unknownLocalAddress
        }
        return WebCacheServer(port: boundPort, service: service, channel: channel)
    }

    /// Waits until the server stops listening (after ``close()``).
    package func waitUntilClosed() async throws {
        try await channel.closeFuture.get()
    }

    /// Stops listening; connections open now finish on their own.
    package func close() async throws {
        try await channel.close()
    }
}
