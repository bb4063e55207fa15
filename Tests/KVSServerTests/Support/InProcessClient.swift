import Foundation
import KVSNetworkTestSupport
import KVSTestSupport
import NIOCore
import NIOEmbedded
import RESP

@_spi(Fuzzing) @testable import KVSServer

/// A kvs-server without a listener (``InProcessServer``: the real databases, command table
/// and connection handler), for command tests in which a socket adds nothing: each
/// ``connect()`` is a connection handler on an `EmbeddedChannel`, and a command runs while
/// ``InProcessClient/send(_:)`` returns.
///
/// Thread-safety: none; use it, and its clients, on the thread that made it (an
/// `EmbeddedChannel` checks that): ``withInProcessServer(_:directory:_:)`` runs its body
/// synchronously.
final class InProcessTestServer {
    private let server: InProcessServer
    private var clients: [InProcessClient] = []
    private var nextID = 1

    /// The server's shared state: databases, settings, statistics.
    var serverState: ServerState { server.state }

    fileprivate init(configuration: ServerConfiguration) throws {
        server = try InProcessServer(configuration: configuration)
    }

    /// A new connection, with the next client id.
    func connect() throws -> InProcessClient {
        let client = try InProcessClient(handler: server.makeConnectionHandler(id: nextID))
        nextID += 1
        clients.append(client)
        return client
    }

    /// Closes every connection and the databases, as a server that stops.
    fileprivate func close() {
        for client in clients { client.close() }
        for database in serverState.databases { database.engine.close() }
    }
}

/// One connection to an ``InProcessTestServer``: what a socket client would read, collected
/// from the channel's outbound side.
final class InProcessClient: RESPTestClient {
    private let channel: EmbeddedChannel
    private var decoder = RESPDecoder()
    private var output = ByteBuffer()

    fileprivate init(handler: any ChannelHandler) throws {
        channel = EmbeddedChannel()
        try channel.pipeline.syncOperations.addHandler(handler)
        try channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
    }

    func send(_ bytes: [UInt8]) throws {
        guard channel.isActive else { throw TestClient.Failure(description: "connection closed") }
        try channel.writeInbound(channel.allocator.buffer(bytes: bytes))
    }

    /// The next reply the handler wrote; throws if it wrote none (the command has not
    /// answered, or the connection closed).
    func read() throws -> RESPValue {
        channel.embeddedEventLoop.run()
        while var written = try channel.readOutbound(as: ByteBuffer.self) {
            output.writeBuffer(&written)
        }
        if let value = try decoder.next(from: &output) { return value }
        throw TestClient.Failure(description: channel.isActive ? "no reply" : "connection closed")
    }

    /// Whether the server closed the connection.
    func isClosedByServer() -> Bool {
        channel.embeddedEventLoop.run()
        return !channel.isActive
    }

    fileprivate func close() {
        _ = try? channel.finish(acceptAlreadyClosed: true)
    }
}

/// Runs `body` on a fresh ``InProcessTestServer`` with the settings of
/// ``withKVSServer(_:directory:blocking:_:)`` (a fresh temporary folder for its snapshot file,
/// unless `directory` is given), then closes it.
func withInProcessServer<R>(
    _ configure: (inout ServerConfiguration) -> Void = { _ in },
    directory: String? = nil,
    _ body: (_ server: InProcessTestServer) throws -> R
) throws -> R {
    let folder = try directory ?? makeTemporaryDirectory()
    defer { if directory == nil { removeDirectory(folder) } }
    let server = try InProcessTestServer(configuration: testServerConfiguration(directory: folder, configure))
    defer { server.close() }
    return try body(server)
}
