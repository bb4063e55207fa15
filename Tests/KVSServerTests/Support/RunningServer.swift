import Foundation
import KVSNetworkTestSupport
import KVSTestSupport
import Logging
import ServiceLifecycle

@testable import KVSServer

/// Runs a server as kvs-server does, in a `ServiceGroup` (so SHUTDOWN and a graceful
/// shutdown stop it), on an ephemeral loopback port with a fresh temporary folder (or
/// `directory`). `body` runs with ``onDedicatedThread(_:)`` and is given the server, its
/// port and the group; it must make the server stop (SHUTDOWN, or
/// `group.triggerGracefulShutdown()`). If `body` throws, the server is stopped without
/// saving and the error rethrown.
///
/// - Returns: the error the server's run ended with (a failed final save), or nil.
func runServer(
    _ configure: (inout ServerConfiguration) -> Void = { _ in },
    directory: String? = nil,
    extraCommands: [CommandSpec] = [],
    _ body: @Sendable (_ server: Server, _ port: Int, _ group: ServiceGroup) async throws -> Void
) async throws -> (any Error)? {
    let folder = try directory ?? makeTemporaryDirectory()
    defer { if directory == nil { removeDirectory(folder) } }
    let config = testServerConfiguration(directory: folder, configure)
    var logger = Logger(label: "kvs-server-test")
    logger.logLevel = .critical
    let server = try Server(configuration: config, logger: logger, extraCommands: extraCommands)
    // As kvs-server: a server that stops by itself (SHUTDOWN) ends the group without error.
    let group = ServiceGroup(
        configuration: ServiceGroupConfiguration(
            services: [.init(service: server, successTerminationBehavior: .gracefullyShutdownGroup)],
            logger: logger
        )
    )
    return try await withThrowingTaskGroup(of: (any Error)?.self) { tasks in
        tasks.addTask {
            do {
                try await group.run()
                return nil
            } catch {
                return error
            }
        }
        // `run` binds first; wait (bounded) for the port.
        let deadline = ContinuousClock.now + .seconds(60)
        while server.boundPort == nil, ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(5)) }
        guard let port = server.boundPort else {
            await group.triggerGracefulShutdown()
            throw TestClient.Failure(description: "the server did not start")
        }
        do {
            try await onDedicatedThread { try await body(server, port, group) }
        } catch {
            try? await server.shutdown(save: .noSave)
            _ = try await tasks.next()
            throw error
        }
        // The server must now stop by itself; a bounded wait turns a server that does not
        // into a failure instead of a hung test.
        tasks.addTask {
            try await Task.sleep(for: .seconds(60))
            return StillRunning()
        }
        let ended = try await tasks.next() ?? nil
        if ended is StillRunning {
            await group.triggerGracefulShutdown()
            _ = try await tasks.next()
            throw TestClient.Failure(description: "the server did not stop")
        }
        tasks.cancelAll()
        return ended
    }
}

/// What the bounded wait of ``runServer(_:directory:extraCommands:_:)`` ends with.
private struct StillRunning: Error {}
