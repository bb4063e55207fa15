import KVS

/// Writes keys it alone owns with a time-to-live, reads their remaining time and
/// renews them with `expire`, while the store's background sweeper removes the ones
/// that run out.
///
/// Six in ten calls are `set(_:_:ttl:)`, two `timeToLive`, two `expire` (the keys are
/// random). Every
/// remaining time read must be positive and at most the TTL. All its keys must be gone
/// once the TTL has passed after its last write, which the final check verifies.
package struct TTLUser: Worker {
    package let name: String
    let keyCount: Int
    let ttl: Duration
    let seed: UInt64

    /// A TTL user named `name` owning `keyCount` keys that live for `ttl`.
    package init(name: String, keyCount: Int, ttl: Duration, seed: UInt64) {
        self.name = name
        self.keyCount = keyCount
        self.ttl = ttl
        self.seed = seed
    }

    package func run(on store: KeyValueStore<String>, until deadline: ContinuousClock.Instant) -> WorkerReport {
        var report = WorkerReport(name: name)
        var random = SplitMix64(seed: seed)
        var sequence = 0
        let schedule: [OperationKind] = [
            .setWithTTL, .timeToLive, .setWithTTL, .expire, .setWithTTL, .setWithTTL, .timeToLive, .setWithTTL, .expire,
            .setWithTTL,
        ]
        repeatOperations(schedule, until: deadline) { operation in
            let key = KeySpace.key(owner: name, index: Int.random(in: 0..<keyCount, using: &random))
            do {
                switch operation {
                case .setWithTTL:
                    sequence += 1
                    report.ttlKeys.insert(key)
                    try store.set(key, KeySpace.value(for: key, sequence: sequence), ttl: ttl)
                    report.lastTTLWrite = .now
                    report.counts.record(.setWithTTL)
                case .timeToLive:
                    do {
                        let remaining = try store.timeToLive(key)
                        if let remaining, remaining <= .zero || remaining > ttl {
                            report.anomaly("\(key) has \(remaining) to live, outside (0, \(ttl)]")
                        } else if remaining == nil {
                            report.anomaly("\(key) has no time-to-live")
                        }
                    } catch let error as KVSError where error.code == .notFound {
                        // Never written, or already expired: both fine.
                    }
                    report.counts.record(.timeToLive)
                default:  // .expire
                    do {
                        try store.expire(key, after: ttl)
                        report.lastTTLWrite = .now
                    } catch let error as KVSError where error.code == .notFound {
                        // Expired before we could renew it: fine.
                    }
                    report.counts.record(.expire)
                }
            } catch {
                report.anomaly("unexpected error on \(key): \(error)")
            }
        }
        return report
    }
}
