import Foundation
import KVSRedis
import KVSServer
import KVSTestSupport
import Logging
import NIOCore
import NIOPosix

#if canImport(Glibc)
import Glibc
#endif

/// The settings of a kvs-server started for a test: an ephemeral loopback port, `directory`
/// for its snapshot, no save rules, 2 event loops, 8 shards per database; then `configure`.
package func testServerConfiguration(
    directory: String,
    _ configure: (inout ServerConfiguration) -> Void = { _ in }
) -> ServerConfiguration {
    var config = ServerConfiguration()
    config.port = 0
    config.directory = directory
    config.savePoints = []
    config.eventLoopThreads = 2
    config.shardsPerDatabase = 8
    configure(&config)
    return config
}

/// Starts an in-process kvs-server (``testServerConfiguration(directory:_:)``, in a fresh
/// temporary folder unless `directory` is given), runs `body` with it and its port, and
/// stops it without saving, whether `body` returns or throws.
///
/// - Parameter blocking: `body` blocks its thread (a blocking socket client waiting for a
///   reply): it then runs with ``onDedicatedThread(_:)``, off Swift's cooperative pool.
package func withKVSServer<R: Sendable>(
    _ configure: (inout ServerConfiguration) -> Void = { _ in },
    directory: String? = nil,
    blocking: Bool = false,
    _ body: @Sendable (_ server: Server, _ port: Int) async throws -> R
) async throws -> R {
    let folder = try directory ?? makeTemporaryDirectory()
    defer { if directory == nil { removeDirectory(folder) } }
    var logger = Logger(label: "kvs-test-server")
    logger.logLevel = .error
    let server = try Server(configuration: testServerConfiguration(directory: folder, configure), logger: logger)
    let port = try await server.start()
    do {
        let result =
            blocking ? try await onDedicatedThread { try await body(server, port) } : try await body(server, port)
        try await server.shutdown(save: .noSave)
        return result
    } catch {
        try? await server.shutdown(save: .noSave)
        throw error
    }
}

/// A loopback port nothing listens on at the moment of the call (bound to port 0, then
/// closed): for a server about to start on it. A port that must refuse connections for a
/// while is a ``RefusingPort``.
package func freeLoopbackPort() async throws -> Int {
    let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
        .bind(host: "127.0.0.1", port: 0).get()
    let port = channel.localAddress?.port ?? 0
    try await channel.close().get()
    return port
}

/// The path of `redis-server` on the PATH, or nil.
package let redisServerPath: String? = {
    for directory in (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":") {
        let path = "\(directory)/redis-server"
        if FileManager.default.isExecutableFile(atPath: path) { return path }
    }
    return nil
}()

/// Starts `redis-server` on a free loopback port (no persistence), runs `body`, then stops it
/// with `SHUTDOWN NOSAVE` and, whatever happened, SIGKILL.
///
/// - Parameter arguments: more command-line options, such as `["--cluster-enabled", "yes"]`.
package func withRedisServer<R>(
    arguments: [String] = [],
    _ body: (_ port: Int) async throws -> R
) async throws -> R {
    guard let path = redisServerPath else { throw RedisServerMissing() }
    // A free port can be taken by another test's server before redis-server binds it; then
    // redis-server exits, and it is started again on another port (at most 5 times).
    // `redisServerStarted` also makes sure the server that answers is this one.
    var started: (process: Process, port: Int)?
    var failures: [String] = []
    for _ in 0..<5 where started == nil {
        let port = try await freeLoopbackPort()
        let process = Process()
        process.executableURL = URL(fileURLWithPath: path)
        process.arguments =
            [
                "--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                "--daemonize", "no", "--protected-mode", "yes", "--dir", NSTemporaryDirectory(),
            ] + arguments
        // Its log goes to a file that a start-up failure quotes.
        let logPath = NSTemporaryDirectory() + "kvs-test-redis-\(port)-\(UUID().uuidString).log"
        _ = FileManager.default.createFile(atPath: logPath, contents: nil)
        defer { try? FileManager.default.removeItem(atPath: logPath) }
        let log = FileHandle(forWritingAtPath: logPath)
        process.standardOutput = log ?? FileHandle.nullDevice
        process.standardError = log ?? FileHandle.nullDevice
        try process.run()
        // Start-up itself takes milliseconds; the bound is generous for a 2-core machine busy
        // with other work or ThreadSanitizer. (A long test that held both threads of the
        // concurrency pool would make this task resume late; such tests run with
        // `.dedicatedThread`.)
        if await redisServerStarted(process, port: port, within: .seconds(60)) {
            started = (process, port)
        } else {
            let tail = (try? String(contentsOfFile: logPath, encoding: .utf8))?.suffix(600) ?? ""
            let state = process.isRunning ? "running" : "exited with \(process.terminationStatus)"
            failures.append("port \(port) (\(state)); its log ends: \(tail)")
            kill(process.processIdentifier, SIGKILL)
            process.waitUntilExit()
        }
    }
    guard let (process, port) = started else {
        throw RedisServerMissing(reason: "redis-server did not start: \(failures.joined(separator: "; "))")
    }
    let admin = RedisStore<String>(configuration: .init(port: port, connectionsPerNode: 1, requestTimeout: .seconds(2)))
    defer {
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }
    do {
        let result = try await body(port)
        _ = try? await admin.command(["SHUTDOWN", "NOSAVE"])
        await admin.shutdown()
        return result
    } catch {
        _ = try? await admin.command(["SHUTDOWN", "NOSAVE"])
        await admin.shutdown()
        throw error
    }
}

/// Whether the `redis-server` of `process` answers on `port`, polled within `bound`: `false`
/// as soon as the process has exited (it could not bind the port, say), and `false` while
/// another server answers there (`INFO server` gives another `process_id`).
package func redisServerStarted(_ process: Process, port: Int, within bound: Duration) async -> Bool {
    let admin = RedisStore<String>(
        configuration: .init(
            port: port,
            connectionsPerNode: 1,
            connectTimeout: .seconds(2),
            requestTimeout: .seconds(2)
        )
    )
    let ours = "process_id:\(process.processIdentifier)\r\n"
    var started = false
    _ = await poll(within: bound) {
        guard process.isRunning else { return true }  // stop polling: it will not start
        started = (try? await admin.command(["INFO", "server"]))?.stringValue?.contains(ours) == true
        return started
    }
    await admin.shutdown()
    return started && process.isRunning
}

package struct RedisServerMissing: Error, CustomStringConvertible {
    package var reason = "redis-server is not on the PATH"
    package var description: String { reason }
    package init(reason: String = "redis-server is not on the PATH") { self.reason = reason }
}
