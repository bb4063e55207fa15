import KVS
import KVSNetworkTestSupport
import KVSRedis
import KVSTestSupport
import Testing

/// Runs the `scale-out` executable itself, on the embedded store and on an in-process kvs-server.
@Suite struct ScaleOutProgramTests {
    let program = ExampleProgram(name: "scale-out")
    let small = ["--keys", "2000", "--batch-size", "100", "--single-key-ops", "500", "--concurrency", "4"]

    /// Checks the printed table: one line per phase with its exact call and key counts.
    func expectReport(_ stdout: String) {
        for (phase, calls, keys) in [
            ("batch write", 20, 2000), ("batch read", 20, 2000), ("single write", 500, 500), ("single read", 500, 500),
        ] {
            let line = stdout.split(separator: "\n").first { $0.hasPrefix(phase) }
            let fields = line?.dropFirst(phase.count).split(separator: " ").map(String.init) ?? []
            #expect(fields.count == 5, "no complete line for \(phase) in:\n\(stdout)")
            if fields.count == 5 {
                #expect(fields[0] == String(calls), "\(phase) calls")
                #expect(fields[1] == String(keys), "\(phase) keys")
            }
        }
        #expect(stdout.contains("check passed"), "\(stdout)")
    }

    @Test func embeddedStore() async throws {
        let run = try await program.run(small)
        #expect(run.status == 0, "stderr: \(run.stderr)")
        #expect(run.stdout.contains("embedded KeyValueStore"))
        expectReport(run.stdout)
    }

    @Test func kvsServer() async throws {
        try await withKVSServer { _, port in
            let run = try await program.run(["--backend", "server", "--port", String(port)] + small)
            #expect(run.status == 0, "stderr: \(run.stderr)")
            #expect(run.stdout.contains("RedisStore on 127.0.0.1:\(port)"))
            expectReport(run.stdout)
            let store = RedisStore<String>(port: port)
            #expect(try await store.keys().isEmpty, "the run deletes its keys")

            let kept = try await program.run(["--backend", "server", "--port", String(port), "--keep"] + small)
            #expect(kept.status == 0, "stderr: \(kept.stderr)")
            #expect(try await store.keys().count == 2000, "--keep leaves the keys")
            #expect(
                try await store.get("scale-out:7").hasPrefix("r2-7-"),
                "single-key writes come after the batch load"
            )
            #expect(try await store.get("scale-out:1999").hasPrefix("r1-1999-"))
            await store.shutdown()
        }
    }

    @Test func unreachableServerFailsWithTheNodeNamed() async throws {
        let refusing = try RefusingPort()
        let port = refusing.port
        defer { withExtendedLifetime(refusing) {} }
        let run = try await program.run(["--backend", "server", "--port", String(port)] + small)
        #expect(run.status != 0)
        #expect(run.stderr.contains("connectionFailed"), "\(run.stderr)")
        #expect(run.stderr.contains("127.0.0.1:\(port)"), "\(run.stderr)")
    }

    @Test func rejectsBadOptions() async throws {
        let noSeeds = try await program.run(["--backend", "cluster"])
        #expect(noSeeds.status != 0)
        #expect(noSeeds.stderr.contains("--seeds"), "\(noSeeds.stderr)")
        let badSeeds = try await program.run(["--backend", "cluster", "--seeds", "127.0.0.1"])
        #expect(badSeeds.status != 0)
        #expect(badSeeds.stderr.contains("--seeds"), "\(badSeeds.stderr)")
        let tooManySingles = try await program.run(["--keys", "10", "--single-key-ops", "11"])
        #expect(tooManySingles.status != 0)
        #expect(tooManySingles.stderr.contains("--single-key-ops"), "\(tooManySingles.stderr)")
    }

    @Test func helpDescribesTheOptions() async throws {
        let run = try await program.run(["--help"])
        #expect(run.status == 0)
        for option in [
            "--backend", "--host", "--port", "--seeds", "--keys", "--batch-size", "--single-key-ops", "--concurrency",
        ] {
            #expect(run.stdout.contains(option), "\(option) missing from --help:\n\(run.stdout)")
        }
    }
}
