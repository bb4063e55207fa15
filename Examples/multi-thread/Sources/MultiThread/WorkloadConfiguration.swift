/// How many workers of each kind share the store, and for how long.
package struct WorkloadConfiguration: Sendable {
    /// How long the workers run.
    package var duration: Duration = .seconds(3)
    /// Threads that `set` and `delete` single keys they own.
    package var writers = 4
    /// Threads that `get` keys of any writer or batch user.
    package var readers = 4
    /// Threads that use `batchSet`, `batchGet` and `batchDelete`.
    package var batchUsers = 2
    /// Threads that use `set(_:_:ttl:)`, `timeToLive` and `expire`.
    package var ttlUsers = 2
    /// Keys owned by each writer, batch user and TTL user.
    package var keysPerWorker = 1_000
    /// Keys per batch call.
    package var batchSize = 32
    /// The time-to-live the TTL users give their keys.
    package var ttl: Duration = .milliseconds(100)
    /// Shards in the store.
    package var shardCount = 64
    /// Seeds every worker's random choices, so a run's mix of operations can be repeated.
    package var seed: UInt64 = 42

    /// The defaults: 4 writers, 4 readers, 2 batch users, 2 TTL users for 3 seconds.
    package init() {}

    /// Why this configuration cannot run, or `nil` if it can.
    package var problem: String? {
        if duration <= .zero { return "the duration must be positive" }
        if min(writers, readers, batchUsers, ttlUsers) < 0 { return "worker counts cannot be negative" }
        if writers + batchUsers == 0 && readers > 0 {
            return "readers need at least one writer or batch user to read from"
        }
        if writers + readers + batchUsers + ttlUsers > 1_000 { return "at most 1,000 workers in all" }
        if keysPerWorker < 1 { return "each worker needs at least one key" }
        if batchSize < 1 { return "the batch size must be at least 1" }
        if ttl <= .zero { return "the TTL must be positive" }
        if shardCount < 1 || shardCount > 1_048_576 { return "the shard count must be from 1 to 1,048,576" }
        return nil
    }
}
