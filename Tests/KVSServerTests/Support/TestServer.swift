import Foundation
import KVSServer
import KVSTestSupport
import Logging

/// Starts a server on an ephemeral loopback port with a fresh temporary folder, runs
/// `body` with ``onDedicatedThread(_:)``, and stops the server (without saving unless the
/// test asks).
func withServer<R: Sendable>(
    _ configure: (inout ServerConfiguration) -> Void = { _ in },
    directory: String? = nil,
    _ body: @Sendable (_ server: Server, _ port: Int) async throws -> R
) async throws -> R {
    var config = ServerConfiguration()
    config.port = 0
    config.directory = try directory ?? makeTemporaryDirectory()
    defer { if directory == nil { try? FileManager.default.removeItem(atPath: config.directory) } }
    config.savePoints = []
    config.eventLoopThreads = 2
    config.shardsPerDatabase = 8
    configure(&config)
    var logger = Logger(label: "kvs-server-test")
    logger.logLevel = .error
    let server = try Server(configuration: config, logger: logger)
    let port = try await server.start()
    do {
        // The tests' TestClient blocks in recv() for each reply: not on a pool thread.
        let result = try await onDedicatedThread { try await body(server, port) }
        try await server.shutdown(save: .noSave)
        return result
    } catch {
        try? await server.shutdown(save: .noSave)
        throw error
    }
}
