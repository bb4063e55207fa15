import KVS
import Logging
import NIOCore

/// A server's shared state and command table without a listener, and the handler of one
/// connection to it: what the fuzz targets in `Tests/Fuzz` drive through an
/// `EmbeddedChannel`, so that commands run exactly as on a socket, without one.
///
/// SPI (`@_spi(Fuzzing) import KVSServer`), so that the package outside the root that builds
/// the fuzzers can reach the handler without it becoming public API. Nothing here starts a
/// timer, a thread or a save: the ``Server`` runs those, and this type is not one.
///
/// Thread-safety: the state is thread-safe; each handler lives on its channel's event loop.
@_spi(Fuzzing) public struct InProcessServer: Sendable {
    let state: ServerState

    /// Creates the databases and the command table of `configuration`; logging is discarded.
    ///
    /// - Parameter configuration: the settings (``ServerConfiguration/databases``,
    ///   ``ServerConfiguration/shardsPerDatabase``, limits, password); nothing is bound or loaded.
    /// - Throws: ``KVSError`` when a database cannot be created.
    public init(configuration: ServerConfiguration) throws(KVSError) {
        let logger = Logger(label: "kvs-server-in-process") { _ in SwiftLogNoOpLogHandler() }
        self.state = try ServerState(configuration: configuration, logger: logger)
    }

    /// A new connection's handler: it decodes the bytes it reads as commands, runs them, and
    /// writes the replies, as a connection accepted by a ``Server`` does.
    ///
    /// - Parameter id: the client id (`CLIENT ID`).
    /// - Returns: the handler, for the connection's pipeline.
    public func makeConnectionHandler(id: Int = 1) -> any ChannelHandler {
        RESPChannelHandler(server: state, id: id, remote: "127.0.0.1:1", local: "127.0.0.1:0")
    }
}
