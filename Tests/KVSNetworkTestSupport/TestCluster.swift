import Foundation
import KVS
import KVSRedis
import KVSTestSupport
import RESP
import Testing

#if canImport(Glibc)
import Glibc
#endif

/// The path of `redis-cli` on the PATH, or nil.
package let redisCLIPath: String? = {
    for directory in (ProcessInfo.processInfo.environment["PATH"] ?? "").split(separator: ":") {
        let path = "\(directory)/redis-cli"
        if FileManager.default.isExecutableFile(atPath: path) { return path }
    }
    return nil
}()

/// Whether ``withRedisCluster(primaries:replicasPerPrimary:_:)`` can run: `redis-server` and
/// `redis-cli` are both on the PATH.
package let redisClusterAvailable = redisServerPath != nil && redisCLIPath != nil

/// Why cluster tests are skipped when ``redisClusterAvailable`` is false.
package let redisClusterSkipReason: Comment =
    "skipped: redis-server and redis-cli (Redis 7+) must be on the PATH to start a test cluster"

/// A Redis Cluster of `redis-server` processes on loopback ports, started for one test by
/// ``withRedisCluster(primaries:replicasPerPrimary:_:)``; stopped and removed by it.
///
/// - Thread safety: `Sendable`; its properties are constants.
package final class TestCluster: Sendable {
    /// The client port of every node, in start order (roles are decided by `redis-cli`).
    package let ports: [Int]
    /// The process id of each node, by port.
    private let pids: [Int: Int32]
    /// One admin connection per node, by port.
    private let admins: [Int: RedisStore<String>]

    init(ports: [Int], pids: [Int: Int32]) {
        self.ports = ports
        self.pids = pids
        self.admins = Dictionary(
            uniqueKeysWithValues: ports.map { port in
                (
                    port,
                    RedisStore<String>(
                        configuration: .init(
                            port: port,
                            connectionsPerNode: 1,
                            // Generous: admin commands are not what is tested, and under
                            // ThreadSanitizer on a busy 2-core machine a reply can take seconds.
                            connectTimeout: .seconds(30),
                            requestTimeout: .seconds(30)
                        )
                    )
                )
            }
        )
    }

    /// Every node as a seed.
    package var seeds: [RedisEndpoint] { ports.map { .init(host: "127.0.0.1", port: $0) } }

    /// A store configuration whose seeds are every node.
    package func configuration(
        connectTimeout: Duration = .seconds(5),
        requestTimeout: Duration = .seconds(5),
        maxRedirects: Int = 5,
        connectionsPerNode: Int = 4
    ) -> RedisClusterConfiguration {
        RedisClusterConfiguration(
            seeds: seeds,
            connectionsPerNode: connectionsPerNode,
            connectTimeout: connectTimeout,
            requestTimeout: requestTimeout,
            maxRedirects: maxRedirects
        )
    }

    /// Sends one command to the node on `port` (not routed; an error reply is returned).
    package func command(_ port: Int, _ arguments: [String]) async throws -> RESPValue {
        guard let admin = admins[port] else { throw TestClusterError("no node on port \(port)") }
        return try await admin.command(arguments)
    }

    /// The node id of the node on `port`.
    package func nodeID(_ port: Int) async throws -> String {
        guard let id = try await command(port, ["CLUSTER", "MYID"]).stringValue else {
            throw TestClusterError("CLUSTER MYID failed on \(port)")
        }
        return id
    }

    /// Sends `signal` (`SIGSTOP`, `SIGCONT`, `SIGKILL`) to the node on `port`.
    package func send(_ signal: Int32, to port: Int) {
        if let pid = pids[port] { kill(pid, signal) }
    }

    /// One slot range and who serves it, as a node reports it.
    package struct Shard: Sendable, Equatable, CustomStringConvertible {
        package var slots: ClosedRange<Int>
        package var primary: Int
        package var replicas: [Int]
        package var description: String { "\(slots): \(primary) \(replicas)" }
    }

    /// The slot map as the node on `port` sees it (`CLUSTER NODES`: unlike `CLUSTER SLOTS`,
    /// it lists a replica before its first replication ping), sorted by slot.
    package func shards(seenBy port: Int) async throws -> [Shard] {
        let reply = try await command(port, ["CLUSTER", "NODES"])
        guard let text = reply.stringValue, reply.errorMessage == nil else {
            throw TestClusterError("CLUSTER NODES on \(port): \(reply)")
        }
        // <id> <ip:port@bus> <flags> <primary id or -> <ping> <pong> <epoch> <link> <slot ranges…>
        struct Line {
            var id: String
            var port: Int
            var primaryID: String
            var ranges: [ClosedRange<Int>]
        }
        var lines: [Line] = []
        for row in text.split(whereSeparator: \.isNewline) {
            let fields = row.split(separator: " ")
            guard fields.count >= 8 else { throw TestClusterError("CLUSTER NODES on \(port): \(row)") }
            let address = fields[1].prefix { $0 != "@" }  // ip:port@bus-port[,hostname]
            guard let colon = address.lastIndex(of: ":"), let nodePort = Int(address[address.index(after: colon)...])
            else {
                throw TestClusterError("CLUSTER NODES on \(port): \(row)")
            }
            var ranges: [ClosedRange<Int>] = []
            for range in fields.dropFirst(8) where !range.hasPrefix("[") {  // [slot->-id]: a migration
                let bounds = range.split(separator: "-").compactMap { Int($0) }
                if let low = bounds.first, let high = bounds.last { ranges.append(low...high) }
            }
            lines.append(Line(id: String(fields[0]), port: nodePort, primaryID: String(fields[3]), ranges: ranges))
        }
        var shards: [Shard] = []
        for line in lines {
            let replicas = lines.filter { $0.primaryID == line.id }.map(\.port).sorted()
            for range in line.ranges { shards.append(Shard(slots: range, primary: line.port, replicas: replicas)) }
        }
        return shards.sorted { $0.slots.lowerBound < $1.slots.lowerBound }
    }

    /// The port of the primary serving `slot`, as the node on `port` (or the first node that
    /// answers) sees it.
    package func primary(forSlot slot: Int, seenBy port: Int? = nil) async throws -> Int {
        for candidate in port.map({ [$0] }) ?? ports {
            guard let shards = try? await shards(seenBy: candidate) else { continue }
            if let shard = shards.first(where: { $0.slots.contains(slot) }) { return shard.primary }
        }
        throw TestClusterError("no node reports a primary for slot \(slot)")
    }

    /// The value of `field` in the node's `INFO` (or `CLUSTER INFO`) text.
    package func info(_ port: Int, _ arguments: [String], field: String) async throws -> String? {
        let text = try await command(port, arguments).stringValue ?? ""
        return text.split(whereSeparator: \.isNewline)
            .first { $0.hasPrefix("\(field):") }
            .map { String($0.dropFirst(field.count + 1)) }
    }

    /// Whether every node in `ports` reports `cluster_state:ok`, knows `expectedNodes` nodes, and
    /// all of them report the same slot map covering every slot; and, when `replicas`, every
    /// replica in it has its replication link up.
    package func isConverged(ports: [Int], expectedNodes: Int, checkReplicas: Bool) async -> Bool {
        var maps: [[Shard]] = []
        for port in ports {
            guard (try? await info(port, ["CLUSTER", "INFO"], field: "cluster_state")) == "ok",
                (try? await info(port, ["CLUSTER", "INFO"], field: "cluster_known_nodes")) == String(expectedNodes),
                let map = try? await shards(seenBy: port)
            else { return false }
            maps.append(map)
        }
        guard let first = maps.first, maps.allSatisfy({ $0 == first }),
            first.reduce(0, { $0 + $1.slots.count }) == 16384
        else { return false }
        if checkReplicas {
            for replica in first.flatMap(\.replicas) {
                guard (try? await info(replica, ["INFO", "replication"], field: "master_link_status")) == "up" else {
                    return false
                }
            }
        }
        return true
    }

    fileprivate func shutdownAdmins() async {
        for admin in admins.values { await admin.shutdown() }
    }
}

/// A failure to start or inspect the test cluster.
package struct TestClusterError: Error, CustomStringConvertible {
    package var description: String
    package init(_ description: String) { self.description = description }
}

/// Polls `condition` every 50 ms until it holds or `bound` passes.
///
/// - Returns: whether it held.
package func poll(within bound: Duration, _ condition: () async throws -> Bool) async rethrows -> Bool {
    let deadline = ContinuousClock.now + bound
    while true {
        if try await condition() { return true }
        if ContinuousClock.now > deadline { return false }
        try? await Task.sleep(for: .milliseconds(50))
    }
}

/// Starts a Redis Cluster of `primaries` primaries with `replicasPerPrimary` replicas each on
/// free loopback ports, runs `body`, and then, whatever happened, kills every node and removes
/// their directories.
///
/// Each node is a `redis-server` with `--cluster-enabled yes`, its own config file and
/// directory, `--cluster-node-timeout 1000` (so a failover takes a few seconds), no
/// persistence, and an explicit `--cluster-port` (the bus port; client port + 10000 may not be
/// free or even valid). The cluster is made with `redis-cli --cluster create … --cluster-yes`
/// (one primary: `CLUSTER ADDSLOTSRANGE 0 16383`), and `body` runs once every node reports
/// `cluster_state:ok`, knows every other node and reports the same slot map, and every replica's
/// link to its primary is up: polled, within 60 s (a few seconds on an idle machine; the bound
/// covers a loaded 2-core machine under ThreadSanitizer).
///
/// - Throws: ``RedisServerMissing`` without `redis-server`/`redis-cli`; ``TestClusterError``
///   when the cluster does not form; what `body` throws.
package func withRedisCluster<R>(
    primaries: Int = 3,
    replicasPerPrimary: Int = 0,
    _ body: (TestCluster) async throws -> R
) async throws -> R {
    guard let serverPath = redisServerPath, let cliPath = redisCLIPath else {
        throw RedisServerMissing(reason: "redis-server and redis-cli must be on the PATH")
    }
    let count = primaries * (1 + replicasPerPrimary)
    var processes: [Process] = []
    var directories: [String] = []
    var ports: [Int] = []
    var pids: [Int: Int32] = [:]
    var cluster: TestCluster?
    defer {
        for process in processes where process.isRunning {
            kill(process.processIdentifier, SIGCONT)  // a stopped node dies at once too, but be plain about it
            kill(process.processIdentifier, SIGKILL)
        }
        for process in processes { process.waitUntilExit() }
        for directory in directories { removeDirectory(directory) }
    }
    do {
        var used = Set<Int>()
        func freshPort() async throws -> Int {
            for _ in 0..<20 {
                let port = try await freeLoopbackPort()
                if used.insert(port).inserted { return port }
            }
            throw TestClusterError("no free loopback port")
        }
        for _ in 0..<count {
            // A free port can be taken by another test's server between `freshPort` and the
            // node's bind. Then the node exits and the other server answers on its port, so a
            // node counts as started only when the server on its port reports the node's own
            // process id; otherwise it is started again on other ports (at most 5 times).
            var started = false
            for _ in 0..<5 where !started {
                let port = try await freshPort()
                let busPort = try await freshPort()
                let directory = try makeTemporaryDirectory()
                directories.append(directory)
                let process = Process()
                process.executableURL = URL(fileURLWithPath: serverPath)
                process.arguments = [
                    "--port", String(port), "--cluster-port", String(busPort), "--bind", "127.0.0.1",
                    "--cluster-enabled", "yes", "--cluster-config-file", "\(directory)/nodes.conf",
                    "--cluster-node-timeout", "1000", "--save", "", "--appendonly", "no", "--daemonize", "no",
                    "--dir", directory, "--logfile", "\(directory)/redis.log",
                ]
                process.standardOutput = FileHandle.nullDevice
                process.standardError = FileHandle.nullDevice
                try process.run()
                processes.append(process)
                // 60 s, not the milliseconds start-up takes: for a busy machine (see withRedisServer).
                if await redisServerStarted(process, port: port, within: .seconds(60)) {
                    ports.append(port)
                    pids[port] = process.processIdentifier
                    started = true
                } else {
                    kill(process.processIdentifier, SIGKILL)
                }
            }
            guard started else { throw TestClusterError("no redis-server node started in 5 attempts") }
        }
        let made = TestCluster(ports: ports, pids: pids)
        cluster = made
        if count == 1 {
            let reply = try await made.command(ports[0], ["CLUSTER", "ADDSLOTSRANGE", "0", "16383"])
            guard reply.errorMessage == nil else { throw TestClusterError("CLUSTER ADDSLOTSRANGE: \(reply)") }
        } else {
            try await runRedisCLI(
                cliPath,
                ["--cluster", "create"] + ports.map { "127.0.0.1:\($0)" }
                    + ["--cluster-replicas", String(replicasPerPrimary), "--cluster-yes"]
            )
        }
        let converged = await poll(within: .seconds(60)) {
            await made.isConverged(ports: ports, expectedNodes: count, checkReplicas: replicasPerPrimary > 0)
        }
        guard converged else { throw TestClusterError("the cluster on ports \(ports) did not converge within 60 s") }
        let result = try await body(made)
        await made.shutdownAdmins()
        return result
    } catch {
        await cluster?.shutdownAdmins()
        throw error
    }
}

/// Runs `redis-cli` with `arguments`, bounded to 60 s.
private func runRedisCLI(_ path: String, _ arguments: [String]) async throws {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: path)
    process.arguments = arguments
    let output = Pipe()
    process.standardOutput = output
    process.standardError = output
    process.standardInput = FileHandle.nullDevice
    try process.run()
    // Drained as it runs, so that a full pipe never blocks redis-cli; the read blocks until
    // redis-cli exits, so on a thread of its own, not on one of the pool's.
    let reader = Task(executorPreference: DedicatedThreadExecutor.shared) {
        output.fileHandleForReading.readDataToEndOfFile()
    }
    let finished = await poll(within: .seconds(60)) { !process.isRunning }
    if !finished {
        kill(process.processIdentifier, SIGKILL)
    }
    process.waitUntilExit()
    let text = String(decoding: await reader.value, as: UTF8.self)
    guard finished, process.terminationStatus == 0 else {
        throw TestClusterError("redis-cli \(arguments.joined(separator: " ")) failed:\n\(text)")
    }
}
