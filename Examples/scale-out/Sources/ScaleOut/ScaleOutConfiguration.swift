/// How many keys the program writes and reads, in what batches, from how many tasks.
package struct ScaleOutConfiguration: Sendable {
    /// Keys loaded with `batchSet` and read back with `batchGet`.
    package var keys = 100_000
    /// Keys per batch call.
    package var batchSize = 1_000
    /// Keys written with `set` and read with `get`, one call each (the first ones of the keys).
    package var singleKeyOperations = 20_000
    /// Tasks issuing calls at once; a network store pipelines their requests.
    package var concurrency = 32
    /// The length of each value, in bytes (at least enough to hold its key's number).
    package var valueSize = 64
    /// The prefix of every key: `scale-out:0`, `scale-out:1`, ...
    package var keyPrefix = "scale-out:"
    /// Whether to leave the keys in the store at the end (by default they are deleted).
    package var keep = false

    /// The defaults: 100,000 keys in batches of 1,000, 20,000 single-key calls, 32 tasks.
    package init() {}

    /// Why this configuration cannot run, or `nil` if it can.
    package var problem: String? {
        if keys < 1 || keys > 100_000_000 { return "--keys must be from 1 to 100,000,000" }
        if batchSize < 1 || batchSize > 100_000 { return "--batch-size must be from 1 to 100,000" }
        if singleKeyOperations < 0 || singleKeyOperations > keys { return "--single-key-ops must be from 0 to --keys" }
        if concurrency < 1 || concurrency > 10_000 { return "--concurrency must be from 1 to 10,000" }
        if valueSize < 1 || valueSize > 1_048_576 { return "--value-size must be from 1 to 1,048,576" }
        return nil
    }

    /// The key with number `index`.
    package func key(_ index: Int) -> String { keyPrefix + String(index) }

    /// The value written to key `index` in round `round` (1: the batch load, 2: the single-key
    /// writes): `r1-17-` padded with `.` to ``valueSize`` bytes, so that every value differs and
    /// a read can be checked.
    package func value(_ index: Int, round: Int) -> String {
        let head = "r\(round)-\(index)-"
        return head.count >= valueSize ? head : head + String(repeating: ".", count: valueSize - head.count)
    }
}
