import Foundation
import KVS

/// A store whose expiry reads `clock`, so that tests move time instead of sleeping.
func makeStore<Value: Sendable>(
    _: Value.Type = Value.self,
    shards: Int = 8,
    clock: ManualClock? = nil,
    hash: (@Sendable (String) -> Int)? = nil,
    sweepInterval: Duration = .milliseconds(10)
) throws -> KeyValueStore<Value> {
    let engine = try StoreEngine<String, Value>(
        shardCount: shards,
        hash: hash,
        clock: clock.map { .manual($0) } ?? .system,
        sweepInterval: sweepInterval
    )
    return KeyValueStore(engine: engine)
}

/// Polls `condition` every millisecond until it holds or `limit` passes; returns whether
/// it held. For behaviour that happens on a background thread in real time, with a
/// limit far above the expected time (so it does not pass or fail by luck).
///
/// It blocks its thread while it waits: call it only in a test that runs on a thread of
/// its own (`.dedicatedThread`), never on Swift's cooperative pool.
func eventually(within limit: Duration = .seconds(10), _ condition: () -> Bool) -> Bool {
    let clock = ContinuousClock()
    let deadline = clock.now + limit
    while clock.now < deadline {
        if condition() { return true }
        usleep(1_000)
    }
    return condition()
}
