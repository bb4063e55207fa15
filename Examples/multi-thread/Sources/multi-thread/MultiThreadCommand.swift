import ArgumentParser
import MultiThread

/// `multi-thread`: many threads sharing one store, then an exact check of its contents.
@main
struct MultiThreadCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "multi-thread",
        abstract: "Share one KeyValueStore between many threads, then check its contents exactly.",
        discussion: """
            Writers set and delete their own keys, readers get anyone's, batch users call \
            batchSet/batchGet/batchDelete, TTL users set keys with a time-to-live and renew \
            them, all at once. Prints operations per second per kind, then checks that the \
            store holds exactly what the writers' logs say (each key has one owner, whose \
            log records its last write) and that every TTL key has expired. Exits with \
            status 1 if the check fails.
            """
    )

    @Option(help: "How long the workers run, in seconds.")
    var duration = 3.0

    @Option(help: "Threads that set and delete single keys.")
    var writers = 4

    @Option(help: "Threads that get keys.")
    var readers = 4

    @Option(help: "Threads that use batchSet, batchGet and batchDelete.")
    var batchUsers = 2

    @Option(help: "Threads that set keys with a time-to-live, read it and renew it.")
    var ttlUsers = 2

    @Option(help: "Keys owned by each writer, batch user and TTL user.")
    var keysPerWorker = 1_000

    @Option(help: "Keys per batch call.")
    var batchSize = 32

    @Option(help: "The TTL users' time-to-live, in milliseconds.")
    var ttlMs = 100

    @Option(help: "Shards in the store.")
    var shards = 64

    @Option(help: "Seed for the workers' random choices.")
    var seed: UInt64 = 42

    var workload: WorkloadConfiguration {
        var c = WorkloadConfiguration()
        c.duration = .milliseconds(Int64((duration * 1000).rounded()))
        c.writers = writers
        c.readers = readers
        c.batchUsers = batchUsers
        c.ttlUsers = ttlUsers
        c.keysPerWorker = keysPerWorker
        c.batchSize = batchSize
        c.ttl = .milliseconds(ttlMs)
        c.shardCount = shards
        c.seed = seed
        return c
    }

    func validate() throws {
        guard duration.isFinite, duration > 0, duration <= 86_400 else {
            throw ValidationError("--duration must be a number of seconds above 0 and at most 86400")
        }
        if let problem = workload.problem { throw ValidationError(problem) }
    }

    func run() throws {
        let report = try Workload.run(workload)
        print(report.text)
        if !report.check.passed { throw ExitCode.failure }
    }
}
