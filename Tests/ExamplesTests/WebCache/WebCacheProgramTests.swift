import Testing

/// Runs the `web-cache` executable itself: its help and its checks of the options. (The
/// server it starts runs until stopped; ``WebCacheServerTests`` serve it in process.)
@Suite struct WebCacheProgramTests {
    let program = ExampleProgram(name: "web-cache")

    @Test func helpDescribesTheOptions() async throws {
        let run = try await program.run(["--help"])
        #expect(run.status == 0)
        for option in ["--port", "--capacity", "--ttl", "--delay-ms", "GET /users/<id>", "GET /stats"] {
            #expect(run.stdout.contains(option), "\(option) missing from \(run.stdout)")
        }
    }

    @Test func rejectsBadOptions() async throws {
        for arguments in [["--capacity", "0"], ["--port", "70000"], ["--ttl=-1"], ["--delay-ms=-5"]] {
            let run = try await program.run(arguments)
            #expect(run.status != 0, "\(arguments)")
            #expect(run.stderr.contains("must be"), "\(arguments): \(run.stderr)")
        }
    }
}
