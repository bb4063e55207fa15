import ArgumentParser
import ScaleOut

/// `scale-out`: the same small program on the embedded store, one server, or a Redis Cluster.
@main
struct ScaleOutCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "scale-out",
        abstract: "Run one program on the embedded store, on kvs-server or Redis, or on a Redis Cluster.",
        discussion: """
            Loads --keys keys with batchSet, reads them back with batchGet, then writes and reads \
            --single-key-ops of them with set and get, from --concurrency tasks, and prints calls \
            and keys per second for each phase. Every value read is checked against the value \
            written; the program exits with status 1 if one differs or a key failed. The keys \
            (scale-out:0, scale-out:1, ...) are deleted at the end unless --keep is given. \
            The program is written once against `some AsyncStore<String>`: --backend chooses \
            the store and nothing else changes.
            """
    )

    enum BackendKind: String, ExpressibleByArgument, CaseIterable {
        case embedded, server, cluster
    }

    @Option(help: "Where the keys go: embedded (this process), server (kvs-server or Redis), cluster (Redis Cluster).")
    var backend: BackendKind = .embedded

    @Option(help: "The server's host, with --backend server.")
    var host = "127.0.0.1"

    @Option(help: "The server's port, with --backend server.")
    var port = 6379

    @Option(help: "Seed nodes of the cluster, host:port,host:port,..., with --backend cluster.")
    var seeds: String?

    @Option(help: "Shards of the embedded store, with --backend embedded.")
    var shards = 64

    @Option(help: "Keys loaded with batchSet and read back with batchGet.")
    var keys = 100_000

    @Option(help: "Keys per batch call.")
    var batchSize = 1_000

    @Option(help: "Keys then written with set and read with get, one call each.")
    var singleKeyOps = 20_000

    @Option(help: "Tasks issuing calls at once.")
    var concurrency = 32

    @Option(help: "Bytes per value.")
    var valueSize = 64

    @Flag(help: "Leave the keys in the store at the end.")
    var keep = false

    var workload: ScaleOutConfiguration {
        var c = ScaleOutConfiguration()
        c.keys = keys
        c.batchSize = batchSize
        c.singleKeyOperations = singleKeyOps
        c.concurrency = concurrency
        c.valueSize = valueSize
        c.keep = keep
        return c
    }

    /// The back end the options describe.
    func chosenBackend() throws -> Backend {
        switch backend {
        case .embedded:
            return .embedded(shards: shards)
        case .server:
            return .server(host: host, port: port)
        case .cluster:
            guard let text = seeds else { throw ValidationError("--backend cluster needs --seeds host:port,...") }
            guard let endpoints = Backend.parseSeeds(text) else {
                throw ValidationError("--seeds must be host:port[,host:port...] with ports from 1 to 65535")
            }
            return .cluster(seeds: endpoints)
        }
    }

    func validate() throws {
        if let problem = workload.problem { throw ValidationError(problem) }
        if backend != .cluster, seeds != nil { throw ValidationError("--seeds goes with --backend cluster") }
        if backend == .embedded, shards < 1 || shards > 1_048_576 {
            throw ValidationError("--shards must be from 1 to 1,048,576")
        }
        if !(1...65_535).contains(port) { throw ValidationError("--port must be from 1 to 65535") }
        _ = try chosenBackend()
    }

    func run() async throws {
        let report = try await ScaleOut.run(try chosenBackend(), workload)
        print(report.text)
        if !report.passed { throw ExitCode.failure }
    }
}
