import Foundation
import KVSNetworkTestSupport
import KVSTestSupport
import Testing

/// The test servers' start-up check: a port that another server took between the free-port
/// probe and the bind must not pass for the server the test started (that made a cluster
/// test fail with "Node … is not configured as a cluster node" under `.ci/run`).
@Suite("Test support: a started redis-server is the one that answers")
struct TestServerStartTests {
    /// A second redis-server on a port a first one holds cannot bind it and exits; the check
    /// says so instead of taking the first server's answers for its own.
    @Test(.enabled(if: redisServerPath != nil, "skipped: redis-server is not on the PATH"))
    func aServerThatCouldNotBindIsNotStarted() async throws {
        try await withRedisServer { port in
            let second = Process()
            second.executableURL = URL(fileURLWithPath: try #require(redisServerPath))
            second.arguments = ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
            second.standardOutput = FileHandle.nullDevice
            second.standardError = FileHandle.nullDevice
            try second.run()
            defer {
                if second.isRunning { kill(second.processIdentifier, SIGKILL) }
                second.waitUntilExit()
            }
            // The bound only limits the wait: the answer is "no" however long it takes.
            #expect(await redisServerStarted(second, port: port, within: .seconds(30)) == false)
        }
    }

    /// A process that is not the server on the port (here one that never listens at all)
    /// is not taken for it while the other server answers there.
    @Test(.enabled(if: redisServerPath != nil, "skipped: redis-server is not on the PATH"))
    func anotherServersAnswersDoNotCount() async throws {
        try await withRedisServer { port in
            let stranger = Process()
            stranger.executableURL = URL(fileURLWithPath: "/bin/sleep")
            stranger.arguments = ["60"]
            try stranger.run()
            defer {
                kill(stranger.processIdentifier, SIGKILL)
                stranger.waitUntilExit()
            }
            #expect(await redisServerStarted(stranger, port: port, within: .seconds(1)) == false)
        }
    }
}
