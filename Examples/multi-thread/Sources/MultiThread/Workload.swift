import Foundation  // Thread
import KVS
import Synchronization

/// Runs writers, readers, batch users and TTL users on their own threads against one
/// store at the same time, then checks the store's final contents.
package enum Workload {
    /// Builds the workers a configuration asks for. Each gets its own seed, derived
    /// from the configuration's, and the writers and batch users get disjoint keys.
    package static func workers(for configuration: WorkloadConfiguration) -> [any Worker] {
        let c = configuration
        let writers = (0..<c.writers).map { "writer-\($0)" }
        let batchUsers = (0..<c.batchUsers).map { "batch-\($0)" }
        let owners = writers + batchUsers
        var workers: [any Worker] = []
        var seeds = SplitMix64(seed: c.seed)
        for name in writers {
            workers.append(Writer(name: name, keyCount: c.keysPerWorker, seed: seeds.next()))
        }
        for index in 0..<c.readers {
            workers.append(
                Reader(name: "reader-\(index)", owners: owners, keyCount: c.keysPerWorker, seed: seeds.next())
            )
        }
        for name in batchUsers {
            workers.append(
                BatchUser(
                    name: name,
                    owners: owners,
                    keyCount: c.keysPerWorker,
                    batchSize: c.batchSize,
                    seed: seeds.next()
                )
            )
        }
        for index in 0..<c.ttlUsers {
            workers.append(TTLUser(name: "ttl-\(index)", keyCount: c.keysPerWorker, ttl: c.ttl, seed: seeds.next()))
        }
        return workers
    }

    /// Runs the workload on a new store and checks the result.
    ///
    /// - Throws: a `KVSError` if the store cannot be created (a shard count out of range).
    /// - Returns: what every worker did, how long they ran, and the final check.
    package static func run(_ configuration: WorkloadConfiguration) throws -> WorkloadReport {
        let store = try KeyValueStore<String>(shardCount: configuration.shardCount)
        defer { store.shutdown() }
        let (reports, elapsed) = runOnThreads(workers(for: configuration), store: store, for: configuration.duration)
        let check = ContentCheck.run(on: store, reports: reports, ttl: configuration.ttl)
        return WorkloadReport(workers: reports, elapsed: elapsed, check: check)
    }

    /// Starts one thread per worker, waits for all of them to finish, and returns their
    /// reports (in the workers' order) and the time they ran.
    ///
    /// Real threads rather than tasks: every worker loops without suspending, and Swift's
    /// task pool has only one thread per core, so tasks would run a few at a time.
    package static func runOnThreads(
        _ workers: [any Worker],
        store: KeyValueStore<String>,
        for duration: Duration
    ) -> (reports: [WorkerReport], elapsed: Duration) {
        let collected = ReportCollector(count: workers.count)
        let finished = DispatchGroup()
        let start = ContinuousClock.now
        let deadline = start + duration
        for (index, worker) in workers.enumerated() {
            finished.enter()
            let thread = Thread {
                collected.store(worker.run(on: store, until: deadline), at: index)
                finished.leave()
            }
            thread.name = worker.name
            thread.start()
        }
        finished.wait()  // every thread has left: all their writes happen-before what follows
        return (collected.reports(), ContinuousClock.now - start)
    }
}

/// The reports of threads running at once, each written once under a lock (the store's
/// pthread-based `Locked`, which ThreadSanitizer understands; `Synchronization.Mutex` is
/// invisible to it on Linux and gets reported as a race).
private final class ReportCollector: Sendable {
    private let slots: Locked<[WorkerReport?]>

    init(count: Int) {
        slots = Locked(Array(repeating: nil, count: count))
    }

    func store(_ report: WorkerReport, at index: Int) {
        slots.withLock { $0[index] = report }
    }

    /// The reports stored so far, in index order.
    func reports() -> [WorkerReport] {
        slots.withLock { $0.compactMap { $0 } }
    }
}
