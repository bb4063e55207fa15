import Foundation
import Testing

/// Runs the `crawl-and-store` executable itself against ``FixtureSite``, twice.
@Suite struct CrawlAndStoreProgramTests {
    let program = ExampleProgram(name: "crawl-and-store")

    @Test func crawlsPrintsProgressAndASummaryThenReusesItsSnapshot() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("crawl-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }

        try await FixtureSite.with { site in
            let arguments = [
                site.url("/"), "--depth", "2", "--timeout", "2", "--ttl", "600", "--snapshot", "site.kvssnap",
            ]
            let first = try await program.run(arguments, in: folder)
            #expect(first.status == 0, "stderr: \(first.stderr)")
            #expect(first.stdout.contains("No snapshot at site.kvssnap yet"))
            #expect(first.stdout.contains("pages stored:   6 (5 × 200, 1 × 404)"), "\(first.stdout)")
            let errors =
                "errors:         6 (1 invalid link, 1 not HTML, 1 redirect loop, 1 redirect off host, "
                + "1 timeout, 1 unreachable)"
            #expect(first.stdout.contains(errors), "\(first.stdout)")
            #expect(first.stdout.contains("Saved 6 pages to site.kvssnap"))
            // Progress went to standard error, a line per page.
            #expect(first.stderr.contains("200") && first.stderr.contains("FAIL") && first.stderr.contains("batchSet"))
            #expect(first.stderr.contains(site.url("/slow")))
            #expect(FileManager.default.fileExists(atPath: folder.appendingPathComponent("site.kvssnap").path))

            let second = try await program.run(arguments, in: folder)
            #expect(second.status == 0, "stderr: \(second.stderr)")
            #expect(second.stdout.contains("Loaded 6 pages from site.kvssnap"))
            #expect(second.stdout.contains("pages stored:   0"), "\(second.stdout)")
            #expect(second.stdout.contains("pages skipped:  6"), "\(second.stdout)")
            #expect(site.requestCount("/") == 1 && site.requestCount("/a") == 1)
        }
    }

    @Test func helpDescribesTheOptions() async throws {
        let run = try await program.run(["--help"])
        #expect(run.status == 0)
        for option in [
            "<url>", "--depth", "--max-pages", "--concurrency", "--ttl", "--timeout", "--batch-size", "--snapshot",
        ] {
            #expect(run.stdout.contains(option), "\(option) missing from --help:\n\(run.stdout)")
        }
    }

    @Test func rejectsAnInvalidStartURL() async throws {
        let run = try await program.run(["not a url"])
        #expect(run.status != 0)
        #expect(run.stderr.contains("is not an absolute http:// URL"), "\(run.stderr)")
    }
}
