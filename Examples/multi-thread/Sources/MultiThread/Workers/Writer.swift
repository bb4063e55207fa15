import KVS

/// Sets and deletes single keys it alone owns, logging the last write to each.
///
/// Four sets for every delete (the keys are random). A delete's outcome is checked against the log as it
/// happens: the key must be found exactly when the log says it is present.
package struct Writer: Worker {
    package let name: String
    let keyCount: Int
    let seed: UInt64

    /// A writer named `name` that owns `keyCount` keys.
    package init(name: String, keyCount: Int, seed: UInt64) {
        self.name = name
        self.keyCount = keyCount
        self.seed = seed
    }

    package func run(on store: KeyValueStore<String>, until deadline: ContinuousClock.Instant) -> WorkerReport {
        var report = WorkerReport(name: name)
        var log = WriteLog()
        var random = SplitMix64(seed: seed)
        var sequence = 0
        repeatOperations([.set, .set, .delete, .set, .set], until: deadline) { operation in
            let key = KeySpace.key(owner: name, index: Int.random(in: 0..<keyCount, using: &random))
            do {
                if operation == .delete {
                    let expected = log.expectedValue(of: key)
                    do {
                        try store.delete(key)
                        if expected == nil { report.anomaly("deleted \(key), which the log says is absent") }
                    } catch let error as KVSError where error.code == .notFound {
                        if let expected {
                            report.anomaly("\(key) not found for delete; the log says it holds \(expected)")
                        }
                    }
                    log.deleted(key)
                    report.counts.record(.delete)
                } else {
                    sequence += 1
                    let value = KeySpace.value(for: key, sequence: sequence)
                    try store.set(key, value)
                    log.wrote(key, value)
                    report.counts.record(.set)
                }
            } catch {
                report.anomaly("unexpected error on \(key): \(error)")
            }
        }
        report.log = log
        return report
    }
}
