import Foundation  // String(format:)

/// What a workload run did and found.
package struct WorkloadReport: Sendable {
    /// Each worker's report.
    package let workers: [WorkerReport]
    /// How long the workers ran.
    package let elapsed: Duration
    /// The final check of the store's contents.
    package let check: ContentCheck

    /// Every worker's operations added up.
    package var totals: OperationCounts {
        workers.reduce(into: OperationCounts()) { $0.add($1.counts) }
    }

    /// ``elapsed`` in seconds.
    package var seconds: Double {
        Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    }

    /// `count` per second of ``elapsed``.
    package func perSecond(_ count: Int) -> Double {
        seconds > 0 ? Double(count) / seconds : 0
    }

    /// The report as the program prints it: operations per second per kind, then the check.
    package var text: String {
        let totals = self.totals
        var lines = [
            String(format: "%d threads ran for %.2f s: ", workers.count, seconds) + roles,
            "",
            "operation         calls      calls/s       keys       keys/s",
        ]
        for kind in OperationKind.allCases {
            let calls = totals.calls[kind, default: 0]
            let keys = totals.keys[kind, default: 0]
            lines.append(
                kind.name.padding(toLength: 12, withPad: " ", startingAt: 0)
                    + String(format: "%11d %12.0f %10d %12.0f", calls, perSecond(calls), keys, perSecond(keys))
            )
        }
        lines.append(
            "all".padding(toLength: 12, withPad: " ", startingAt: 0)
                + String(format: "%11d %12.0f", totals.totalCalls, perSecond(totals.totalCalls))
        )
        lines.append("")
        if check.passed {
            let ttlWait = check.ttlWait.formatted(.units(allowed: [.milliseconds], width: .narrow))
            lines.append(
                "check passed: the store holds exactly the \(check.expectedKeys) keys and values the writers' logs say, "
                    + "and every TTL key had expired \(ttlWait) after the workers stopped"
            )
        } else {
            lines.append("check FAILED:")
            lines += check.problems.map { "  - \($0)" }
        }
        return lines.joined(separator: "\n")
    }

    /// `4 writers, 4 readers, 2 batch users, 2 TTL users`, from the workers' names.
    private var roles: String {
        let prefixes = [
            ("writer-", "writers"), ("reader-", "readers"), ("batch-", "batch users"), ("ttl-", "TTL users"),
        ]
        return prefixes.map { prefix, role in
            "\(workers.count { $0.name.hasPrefix(prefix) }) \(role)"
        }.joined(separator: ", ")
    }
}
