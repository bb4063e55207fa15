import KVS
import KVSTestSupport
import MultiThread
import Testing

/// The workload's core: every kind of worker runs, and the final check is exact: it
/// passes on an honest run and catches each way the store could differ from the logs.
@Suite struct WorkloadTests {
    static func shortRun() -> WorkloadConfiguration {
        var configuration = WorkloadConfiguration()
        configuration.duration = .milliseconds(300)
        configuration.keysPerWorker = 200
        configuration.ttl = .milliseconds(50)
        return configuration
    }

    @Test(.dedicatedThread) func allWorkerKindsRunAndTheCheckPasses() throws {
        let report = try Workload.run(Self.shortRun())
        #expect(report.check.passed, "\(report.check.problems)")
        #expect(report.workers.count == 12)
        for kind in OperationKind.allCases {
            #expect(report.totals.calls[kind, default: 0] > 0, "no \(kind.name) calls")
        }
        #expect(report.check.expectedKeys > 0)
        #expect(report.text.contains("check passed"))
    }

    /// Runs the workers, then changes the store behind their backs in three ways; the
    /// check must name each one.
    @Test(.dedicatedThread) func checkCatchesEveryDifferenceFromTheLogs() throws {
        var configuration = Self.shortRun()
        configuration.duration = .milliseconds(100)
        configuration.ttlUsers = 0
        let store = try KeyValueStore<String>(shardCount: 16)
        defer { store.shutdown() }
        let (reports, _) = Workload.runOnThreads(
            Workload.workers(for: configuration),
            store: store,
            for: configuration.duration
        )

        let logged = reports.compactMap(\.log).flatMap(\.values).sorted { $0.key < $1.key }
        try #require(logged.count >= 2)
        try store.set(logged[0].key, "tampered")  // a wrong value
        try store.delete(logged[1].key)  // a missing key
        try store.set("intruder", "x")  // a key no log accounts for

        let check = ContentCheck.run(on: store, reports: reports, ttl: configuration.ttl)
        #expect(!check.passed)
        #expect(
            check.problems.contains {
                $0.contains("hold a value other than the last logged") && $0.contains(logged[0].key)
            }
        )
        #expect(check.problems.contains { $0.contains("logged keys missing") && $0.contains(logged[1].key) })
        #expect(check.problems.contains { $0.contains("keys no log accounts for") && $0.contains("intruder") })
    }

    @Test func keysAndValuesNameTheirOwner() {
        let key = KeySpace.key(owner: "writer-1", index: 1)
        #expect(key == "writer-1/key-1")
        #expect(KeySpace.value(KeySpace.value(for: key, sequence: 7), belongsTo: key))
        #expect(!KeySpace.value("writer-1/key-10=7", belongsTo: key))  // a prefix of another key is not enough
    }

    @Test func workersOwnDisjointKeys() {
        let names = Workload.workers(for: WorkloadConfiguration()).map(\.name)
        #expect(Set(names).count == names.count)
    }

    @Test func configurationProblemsAreNamed() {
        var configuration = WorkloadConfiguration()
        #expect(configuration.problem == nil)
        configuration.writers = 0
        configuration.batchUsers = 0
        #expect(configuration.problem?.contains("readers need") == true)
    }
}
