import KVS

/// Gets keys owned by the writers and batch users, and checks that every value it
/// reads was written for the key it asked for.
package struct Reader: Worker {
    package let name: String
    let owners: [String]
    let keyCount: Int
    let seed: UInt64

    /// A reader named `name` that reads the keys of `owners` (each owns `keyCount` keys).
    package init(name: String, owners: [String], keyCount: Int, seed: UInt64) {
        self.name = name
        self.owners = owners
        self.keyCount = keyCount
        self.seed = seed
    }

    package func run(on store: KeyValueStore<String>, until deadline: ContinuousClock.Instant) -> WorkerReport {
        var report = WorkerReport(name: name)
        var random = SplitMix64(seed: seed)
        repeatOperations([.get], until: deadline) { _ in
            guard let owner = owners.randomElement(using: &random) else { return }
            let key = KeySpace.key(owner: owner, index: Int.random(in: 0..<keyCount, using: &random))
            do {
                let value = try store.get(key)
                if !KeySpace.value(value, belongsTo: key) { report.anomaly("read \(value) under \(key)") }
            } catch let error as KVSError where error.code == .notFound {
                // Absent: never written yet, or deleted. Both are fine.
            } catch {
                report.anomaly("unexpected error on \(key): \(error)")
            }
            report.counts.record(.get)
        }
        return report
    }
}
