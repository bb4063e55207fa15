import KVS
import KVSRedis

/// The program, written once against `some AsyncStore<String>`: load keys in batches, read them
/// back in batches, then write and read some of them one key at a time, timing each phase and
/// checking every value read.
package enum ScaleOut {
    /// Opens the store `backend` names, runs the program on it and closes it. Choosing the back
    /// end is the one line per case below; everything else is the same code.
    ///
    /// - Throws: a `KVSError` when a whole call failed (a server that cannot be reached,
    ///   `.storeClosed`, ...) or the embedded store cannot be created; per-key failures are
    ///   counted in the report instead.
    package static func run(_ backend: Backend, _ configuration: ScaleOutConfiguration) async throws -> ScaleOutReport {
        switch backend {
        case .embedded(let shards):
            let store = try KeyValueStore<String>(shardCount: shards)
            defer { store.shutdown() }
            return try await run(on: store, configuration, backend: backend)
        case .server(let host, let port):
            let store = RedisStore<String>(host: host, port: port)
            return try await run(on: store, configuration, backend: backend, finally: store.shutdown)
        case .cluster(let seeds):
            let store = RedisClusterStore<String>(configuration: RedisClusterConfiguration(seeds: seeds))
            return try await run(on: store, configuration, backend: backend, finally: store.shutdown)
        }
    }

    /// Runs the program on `store`, then `finally` (the store's shutdown) however it ended.
    private static func run(
        on store: some AsyncStore<String>,
        _ configuration: ScaleOutConfiguration,
        backend: Backend,
        finally: () async -> Void
    ) async throws -> ScaleOutReport {
        do {
            let report = try await run(on: store, configuration, backend: backend)
            await finally()
            return report
        } catch {
            await finally()
            throw error
        }
    }

    /// Runs the four phases on `store`, and deletes the keys afterwards unless
    /// ``ScaleOutConfiguration/keep`` is set.
    ///
    /// - Throws: the first `KVSError` of a call that failed as a whole; per-key errors and
    ///   wrong values go into the report's ``ScaleOutReport/problems``.
    package static func run(
        on store: some AsyncStore<String>,
        _ configuration: ScaleOutConfiguration,
        backend: Backend
    ) async throws -> ScaleOutReport {
        let c = configuration
        let batches = stride(from: 0, to: c.keys, by: c.batchSize).map { $0..<min($0 + c.batchSize, c.keys) }
        var phases: [PhaseResult] = []

        phases.append(
            try await phase("batch write", items: batches, c) { batch in
                let items = Dictionary(uniqueKeysWithValues: batch.map { (c.key($0), c.value($0, round: 1)) })
                let result = try await store.batchSet(items)
                return PhaseCount(
                    calls: 1,
                    keys: result.successful,
                    problems: result.errors.values.map(\.description)
                )
            }
        )
        phases.append(
            try await phase("batch read", items: batches, c) { batch in
                let result = try await store.batchGet(batch.map { c.key($0) })
                var count = PhaseCount(calls: 1, keys: result.values.count)
                count.problems = result.errors.values.map(\.description)
                for index in batch where result.errors[c.key(index)] == nil {
                    let read = result.values[c.key(index)]
                    let wrote = c.value(index, round: 1)
                    if read != wrote { count.problems.append(mismatch(c.key(index), read: read, wrote: wrote)) }
                }
                return count
            }
        )
        let singles = Array(0..<c.singleKeyOperations)
        phases.append(
            try await phase("single write", items: singles, c) { index in
                try await store.set(c.key(index), c.value(index, round: 2))
                return PhaseCount(calls: 1, keys: 1)
            }
        )
        phases.append(
            try await phase("single read", items: singles, c) { index in
                let read = try await store.get(c.key(index))
                let wrote = c.value(index, round: 2)
                let problems = read == wrote ? [] : [mismatch(c.key(index), read: read, wrote: wrote)]
                return PhaseCount(calls: 1, keys: 1, problems: problems)
            }
        )

        if !c.keep {
            // Not timed: leaves a server as the run found it.
            _ = try await phase("clean-up", items: batches, c) { batch in
                _ = try await store.batchDelete(batch.map { c.key($0) })
                return PhaseCount()
            }
        }
        return ScaleOutReport(backend: backend, configuration: c, phases: phases)
    }

    /// A value that did not read back as written, in words.
    private static func mismatch(_ key: String, read: String?, wrote: String) -> String {
        "\(key): read \(read.map { "\"\($0)\"" } ?? "nothing"), wrote \"\(wrote)\""
    }

    /// Runs `operation` on every item, from ``ScaleOutConfiguration/concurrency`` tasks that
    /// split the items evenly, and times the whole.
    private static func phase<Item: Sendable>(
        _ name: String,
        items: [Item],
        _ configuration: ScaleOutConfiguration,
        _ operation: @escaping @Sendable (Item) async throws -> PhaseCount
    ) async throws -> PhaseResult {
        let clock = ContinuousClock()
        let start = clock.now
        let workers = max(1, min(configuration.concurrency, items.count))
        let total = try await withThrowingTaskGroup(of: PhaseCount.self) { group in
            // Task t takes items t, t + workers, t + 2 × workers, ...: an even split, no shared counter.
            for worker in 0..<workers {
                group.addTask {
                    var count = PhaseCount()
                    for index in stride(from: worker, to: items.count, by: workers) {
                        count.add(try await operation(items[index]))
                    }
                    return count
                }
            }
            return try await group.reduce(into: PhaseCount()) { $0.add($1) }
        }
        return PhaseResult(name: name, count: total, elapsed: clock.now - start)
    }
}
