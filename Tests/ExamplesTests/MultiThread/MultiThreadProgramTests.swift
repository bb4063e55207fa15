import Testing

/// Runs the `multi-thread` executable itself.
@Suite struct MultiThreadProgramTests {
    let program = ExampleProgram(name: "multi-thread")

    @Test func shortRunPrintsRatesAndPassesTheCheck() async throws {
        let run = try await program.run(["--duration", "0.3", "--keys-per-worker", "200"])
        #expect(run.status == 0, "stderr: \(run.stderr)")
        for kind in [
            "set", "get", "delete", "batchSet", "batchGet", "batchDelete", "setWithTTL", "timeToLive", "expire",
        ] {
            #expect(run.stdout.contains("\n\(kind) "), "no ops/s line for \(kind) in:\n\(run.stdout)")
        }
        #expect(run.stdout.contains("check passed"), "\(run.stdout)")
    }

    @Test func helpDescribesTheOptions() async throws {
        let run = try await program.run(["--help"])
        #expect(run.status == 0)
        for option in ["--duration", "--writers", "--readers", "--batch-users", "--ttl-users", "--seed"] {
            #expect(run.stdout.contains(option), "\(option) missing from --help:\n\(run.stdout)")
        }
    }

    @Test func rejectsANonPositiveDuration() async throws {
        let run = try await program.run(["--duration", "0"])
        #expect(run.status != 0)
        #expect(run.stderr.contains("--duration"))
    }
}
