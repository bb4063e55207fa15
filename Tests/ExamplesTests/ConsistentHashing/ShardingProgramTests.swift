import ConsistentHashing
import KVSTestSupport
import Testing

/// The program's core, and the `sharding-with-consistent-hashing` executable itself.
@Suite struct ShardingProgramTests {
    let program = ExampleProgram(name: "sharding-with-consistent-hashing")

    @Test(.dedicatedThread) func demoLoadsTheStoreThroughTheRingAndMeasuresIt() throws {
        var configuration = ShardingDemo.Configuration()
        configuration.keyCount = 20_000
        let report = try ShardingDemo.run(configuration)
        let store = report.storeCheck
        #expect(store.stored == 20_000 && store.readBack == 20_000 && store.count == 20_000)
        #expect(store.equivalentKeyFound)
        #expect(report.ringDistribution.total == 20_000 && report.ringDistribution.counts.count == 8)
        #expect(report.ringOnAdd.destinations == [8])
        #expect(report.ringOnRemove.sources == [7])
        #expect(report.ringOnAdd.fraction < 0.2 && report.moduloOnAdd.fraction > 0.8)
        #expect(report.ringOnRemove.fraction < 0.2 && report.moduloOnRemove.fraction > 0.8)
    }

    @Test func demoRejectsTooFewShards() {
        var configuration = ShardingDemo.Configuration()
        configuration.shardCount = 1
        #expect(throws: ShardingDemo.ConfigurationError.self) { try ShardingDemo.run(configuration) }
    }

    @Test func programPrintsTheDistributionAndTheMovedFractions() async throws {
        let run = try await program.run(["--shards", "8", "--keys", "20000"])
        #expect(run.status == 0, "stderr: \(run.stderr)")
        for text in [
            "8 shards × 160 virtual nodes, 20000 keys", "stored 20000, read back 20000, count 20000",
            "\"cafe\\u{301}\" found: yes", "min      max     mean   stddev", "  ring  ", "  modulo ",
            "add shard 8 (8 → 9):", "remove shard 7 (8 → 7):", "went only to shard(s) [8]", "only from shard(s) [7]",
        ] {
            #expect(run.stdout.contains(text), "\(text.debugDescription) missing from:\n\(run.stdout)")
        }
    }

    @Test func helpDescribesTheOptions() async throws {
        let run = try await program.run(["--help"])
        #expect(run.status == 0)
        for option in ["--shards", "--virtual-nodes", "--keys"] {
            #expect(run.stdout.contains(option), "\(option) missing from --help:\n\(run.stdout)")
        }
    }

    @Test func programRejectsOneShard() async throws {
        let run = try await program.run(["--shards", "1"])
        #expect(run.status != 0)
        #expect(run.stderr.contains("--shards must be at least 2"), "\(run.stderr)")
    }
}
