import KVS

/// Uses the batch calls: `batchSet` and `batchDelete` on keys it alone owns (logging
/// the last write to each), and `batchGet` on keys of every owner.
///
/// Half of its calls are `batchSet`, three in ten `batchGet`, two in ten `batchDelete`
/// (the keys are random).
/// A batch delete's outcome is checked against the log: exactly the keys the log says
/// are present must be deleted.
package struct BatchUser: Worker {
    package let name: String
    let owners: [String]
    let keyCount: Int
    let batchSize: Int
    let seed: UInt64

    /// A batch user named `name` owning `keyCount` keys, reading those of `owners` too.
    package init(name: String, owners: [String], keyCount: Int, batchSize: Int, seed: UInt64) {
        self.name = name
        self.owners = owners
        self.keyCount = keyCount
        self.batchSize = batchSize
        self.seed = seed
    }

    package func run(on store: KeyValueStore<String>, until deadline: ContinuousClock.Instant) -> WorkerReport {
        var report = WorkerReport(name: name)
        var log = WriteLog()
        var random = SplitMix64(seed: seed)
        var sequence = 0
        let schedule: [OperationKind] = [
            .batchSet, .batchGet, .batchSet, .batchDelete, .batchSet, .batchGet, .batchSet, .batchGet, .batchSet,
            .batchDelete,
        ]
        repeatOperations(schedule, until: deadline) { operation in
            do {
                switch operation {
                case .batchSet:
                    var items: [String: String] = [:]
                    for _ in 0..<batchSize {
                        sequence += 1
                        let key = ownKey(&random)
                        items[key] = KeySpace.value(for: key, sequence: sequence)
                    }
                    let result = try store.batchSet(items)
                    if !result.errors.isEmpty { report.anomaly("batchSet failed for \(result.errors.keys.sorted())") }
                    for (key, value) in items { log.wrote(key, value) }
                    report.counts.record(.batchSet, keys: items.count)
                case .batchGet:
                    let keys = (0..<batchSize).map { _ in anyKey(&random) }
                    let result = try store.batchGet(keys)
                    for (key, value) in result.values where !KeySpace.value(value, belongsTo: key) {
                        report.anomaly("batchGet read \(value) under \(key)")
                    }
                    report.counts.record(.batchGet, keys: keys.count)
                default:  // .batchDelete
                    let keys = Set((0..<batchSize).map { _ in ownKey(&random) })
                    let result = try store.batchDelete(Array(keys))
                    let expectedMissing = keys.filter { log.expectedValue(of: $0) == nil }
                    if Set(result.errors.keys) != expectedMissing
                        || result.deleted != keys.count - expectedMissing.count
                    {
                        report.anomaly(
                            "batchDelete disagrees with the log: \(result.errors.count) keys not found, "
                                + "expected \(expectedMissing.count)"
                        )
                    }
                    for key in keys { log.deleted(key) }
                    report.counts.record(.batchDelete, keys: keys.count)
                }
            } catch {
                report.anomaly("unexpected error: \(error)")
            }
        }
        report.log = log
        return report
    }

    private func ownKey(_ random: inout SplitMix64) -> String {
        KeySpace.key(owner: name, index: Int.random(in: 0..<keyCount, using: &random))
    }

    private func anyKey(_ random: inout SplitMix64) -> String {
        KeySpace.key(
            owner: owners.randomElement(using: &random) ?? name,
            index: Int.random(in: 0..<keyCount, using: &random)
        )
    }
}
