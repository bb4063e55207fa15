import Foundation  // Thread.sleep
import KVS

/// The final check: once every worker has stopped, the store must hold exactly what the
/// owners' logs say: every logged key with its last logged value, and nothing else (in
/// particular no TTL key, once the TTL has passed).
///
/// The check is exact because every key has a single owner, and an owner's log records
/// its writes in the order it made them: no other thread can have touched the key.
package struct ContentCheck: Sendable {
    /// How many keys the logs say the store must hold.
    package var expectedKeys = 0
    /// How long the TTL keys took to disappear after the workers stopped.
    package var ttlWait: Duration = .zero
    /// Every way the store differs from the logs (empty when the check passed), plus the
    /// workers' anomalies.
    package var problems: [String] = []

    /// Whether the store matched the logs exactly and no worker saw an anomaly.
    package var passed: Bool { problems.isEmpty }

    /// How long to keep polling, past the TTL, for TTL keys to vanish and for `count` to
    /// settle. A key is invisible the moment its TTL passes and the sweeper removes it
    /// within about 10 ms; two seconds leaves room for a machine busy with other work.
    static let settleLimit: Duration = .seconds(2)

    /// Compares the store with the workers' logs.
    package static func run(on store: KeyValueStore<String>, reports: [WorkerReport], ttl: Duration) -> ContentCheck {
        var check = ContentCheck()
        for report in reports { check.problems += report.anomalies }

        var expected: [String: String] = [:]
        for report in reports {
            if let log = report.log { expected.merge(log.values) { first, _ in first } }
        }
        check.expectedKeys = expected.count

        check.waitForTTLKeysToExpire(in: store, reports: reports, ttl: ttl)
        check.compareContents(of: store, with: expected)
        check.waitForCount(of: store, toReach: expected.count)
        return check
    }

    /// Waits until no TTL key is visible: from the last TTL write plus the TTL on, none
    /// may be. Polls every millisecond, for at most the TTL plus ``settleLimit``.
    private mutating func waitForTTLKeysToExpire(
        in store: KeyValueStore<String>,
        reports: [WorkerReport],
        ttl: Duration
    ) {
        let ttlKeys = reports.reduce(into: Set<String>()) { $0.formUnion($1.ttlKeys) }
        let lastWrite = reports.compactMap(\.lastTTLWrite).max() ?? .now
        let start = ContinuousClock.now
        let limit = lastWrite + ttl + Self.settleLimit
        var visible = ttlKeys.filter(store.exists)
        while !visible.isEmpty, ContinuousClock.now < limit {
            Thread.sleep(forTimeInterval: 0.001)
            visible = visible.filter(store.exists)
        }
        ttlWait = ContinuousClock.now - start
        if !visible.isEmpty {
            problems.append(
                "\(visible.count) TTL keys still visible \(Self.settleLimit) after their TTL, e.g. \(visible.sorted()[0])"
            )
        }
    }

    /// Checks that `keys()` is exactly the expected set and every value is the logged one.
    private mutating func compareContents(of store: KeyValueStore<String>, with expected: [String: String]) {
        do {
            let actual = Set(try store.keys())
            let missing = Set(expected.keys).subtracting(actual)
            let extra = actual.subtracting(expected.keys)
            if !missing.isEmpty { problems.append("\(missing.count) logged keys missing, e.g. \(missing.sorted()[0])") }
            if !extra.isEmpty { problems.append("\(extra.count) keys no log accounts for, e.g. \(extra.sorted()[0])") }
            let values = try store.batchGet(Array(expected.keys)).values
            let wrong = expected.filter { key, value in values[key].map { $0 != value } ?? false }
            if let (key, value) = wrong.min(by: { $0.key < $1.key }) {
                problems.append(
                    "\(wrong.count) keys hold a value other than the last logged, "
                        + "e.g. \(key) holds \(values[key] ?? "") instead of \(value)"
                )
            }
        } catch {
            problems.append("reading the store failed: \(error)")
        }
    }

    /// Checks that `count` comes to the expected number once the sweeper has removed the
    /// expired keys (it counts them until then).
    private mutating func waitForCount(of store: KeyValueStore<String>, toReach expected: Int) {
        let limit = ContinuousClock.now + Self.settleLimit
        while store.count != expected, ContinuousClock.now < limit {
            Thread.sleep(forTimeInterval: 0.001)
        }
        if store.count != expected {
            problems.append("count is \(store.count), expected \(expected) after \(Self.settleLimit)")
        }
    }
}
