import KVS

/// One thread's job in the workload: do operations on the shared store until the
/// deadline, and report what it did.
package protocol Worker: Sendable {
    /// The worker's name, which is also the owner part of the keys it writes, such as `writer-2`.
    var name: String { get }

    /// Works on `store` until `deadline`, then returns what it did.
    func run(on store: KeyValueStore<String>, until deadline: ContinuousClock.Instant) -> WorkerReport
}

/// What one worker did.
package struct WorkerReport: Sendable {
    /// The worker's name.
    package var name: String
    /// The operations it did.
    package var counts = OperationCounts()
    /// For workers that own plain keys (writers, batch users): the last write per key.
    package var log: WriteLog?
    /// For TTL users: the keys they wrote, all of which must have expired by the check.
    package var ttlKeys: Set<String> = []
    /// For TTL users: when their last TTL-setting call returned. Every TTL key is
    /// invisible from this instant plus the TTL on.
    package var lastTTLWrite: ContinuousClock.Instant?
    /// Things the worker saw that cannot happen in a correct store (a value read under
    /// the wrong key, a delete that disagrees with the owner's log, an unexpected error).
    package var anomalies: [String] = []

    /// An empty report for the worker `name`.
    package init(name: String) {
        self.name = name
    }

    /// Notes an anomaly, keeping the first 20 so a badly broken store cannot flood memory.
    mutating func anomaly(_ message: String) {
        if anomalies.count < 20 { anomalies.append("\(name): \(message)") }
    }
}

/// Calls `body` with each operation of `schedule` in turn, round after round, until
/// `deadline`, and always for at least one whole round, so that even a very short run
/// (or a very slow machine) does every kind of operation the worker has.
func repeatOperations(
    _ schedule: [OperationKind],
    until deadline: ContinuousClock.Instant,
    _ body: (OperationKind) -> Void
) {
    var calls = 0
    while calls < schedule.count || ContinuousClock.now < deadline {
        body(schedule[calls % schedule.count])
        calls += 1
    }
}
