import KVS
import ScaleOut
import Testing

/// The `ScaleOut` library: seed parsing, and the program run directly on an embedded store.
@Suite struct ScaleOutTests {
    @Test func parsesSeeds() {
        let seeds = Backend.parseSeeds("127.0.0.1:7000, localhost:7001,[::1]:7002")
        #expect(seeds?.map(\.description) == ["127.0.0.1:7000", "localhost:7001", "::1:7002"])
        #expect(Backend.parseSeeds("") == nil)
        #expect(Backend.parseSeeds("127.0.0.1") == nil)
        #expect(Backend.parseSeeds("127.0.0.1:0") == nil)
        #expect(Backend.parseSeeds("127.0.0.1:70000") == nil)
        #expect(Backend.parseSeeds(":7000") == nil)
    }

    @Test func runsOnAnyAsyncStoreAndCleansUp() async throws {
        var configuration = ScaleOutConfiguration()
        configuration.keys = 1_050  // a last, partial batch
        configuration.batchSize = 100
        configuration.singleKeyOperations = 300
        configuration.concurrency = 3
        configuration.valueSize = 16
        let store = try KeyValueStore<String>(shardCount: 4)
        defer { store.shutdown() }
        let report = try await ScaleOut.run(on: store, configuration, backend: .embedded(shards: 4))
        #expect(report.passed, "\(report.problems)")
        #expect(report.phases.map(\.name) == ["batch write", "batch read", "single write", "single read"])
        #expect(report.phases.map(\.count.calls) == [11, 11, 300, 300])
        #expect(report.phases.map(\.count.keys) == [1_050, 1_050, 300, 300])
        #expect(store.count == 0, "the keys are deleted at the end")
        #expect(configuration.value(12, round: 1) == "r1-12-..........")
    }
}
