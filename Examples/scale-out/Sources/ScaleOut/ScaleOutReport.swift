import Foundation  // String(format:)

/// Calls made, keys handled and problems found, in one phase or part of one.
package struct PhaseCount: Sendable {
    /// Store calls made.
    package var calls = 0
    /// Keys written or read successfully.
    package var keys = 0
    /// Per-key errors and values that did not read back as written, in words.
    package var problems: [String] = []

    package init(calls: Int = 0, keys: Int = 0, problems: [String] = []) {
        self.calls = calls
        self.keys = keys
        self.problems = problems
    }

    package mutating func add(_ other: PhaseCount) {
        calls += other.calls
        keys += other.keys
        problems += other.problems
    }
}

/// One timed phase: `batch write`, `batch read`, `single write` or `single read`.
package struct PhaseResult: Sendable {
    package let name: String
    package let count: PhaseCount
    package let elapsed: Duration

    /// ``elapsed`` in seconds.
    package var seconds: Double {
        Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    }

    /// Calls per second.
    package var callsPerSecond: Double { seconds > 0 ? Double(count.calls) / seconds : 0 }
    /// Keys per second.
    package var keysPerSecond: Double { seconds > 0 ? Double(count.keys) / seconds : 0 }
}

/// What a run did: each phase's throughput, and whether every value read back as written.
package struct ScaleOutReport: Sendable {
    package let backend: Backend
    package let configuration: ScaleOutConfiguration
    package let phases: [PhaseResult]

    /// Every problem of every phase.
    package var problems: [String] { phases.flatMap(\.count.problems) }

    /// Whether every key was written and read back with the value written.
    package var passed: Bool { problems.isEmpty }

    /// The report as the program prints it: one line per phase, then the check.
    package var text: String {
        let c = configuration
        var lines = [
            "scale-out: \(c.keys) keys of \(c.valueSize) bytes on \(backend), batches of \(c.batchSize), "
                + "\(c.singleKeyOperations) single-key calls, \(c.concurrency) tasks",
            "",
            "phase               calls       keys    seconds      calls/s       keys/s",
        ]
        for phase in phases {
            lines.append(
                phase.name.padding(toLength: 14, withPad: " ", startingAt: 0)
                    + String(
                        format: "%11d %10d %10.3f %12.0f %12.0f",
                        phase.count.calls,
                        phase.count.keys,
                        phase.seconds,
                        phase.callsPerSecond,
                        phase.keysPerSecond
                    )
            )
        }
        lines.append("")
        if passed {
            lines.append("check passed: every key read back with the value written")
        } else {
            let problems = self.problems
            lines.append("check FAILED: \(problems.count) problem(s)")
            lines += problems.prefix(10).map { "  - \($0)" }
            if problems.count > 10 { lines.append("  ... and \(problems.count - 10) more") }
        }
        return lines.joined(separator: "\n")
    }
}
