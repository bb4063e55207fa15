import Foundation
import KVS
import KVSMetrics
import KVSTestSupport
import Logging
import ServiceLifecycle
import ServiceLifecycleTestKit
import Testing

/// The README's `KVSMetrics` snippet, compiled and run in an `async throws` function, and
/// checked to be the README's text line for line (apart from imports and indentation). The
/// README's other snippets are `Tests/KVSTests/ReadmeExampleTests.swift`'s.
@Suite("README example of KVSMetrics")
struct ReadmeExampleTests {
    /// The snippet's `server`: it serves one page from the cache, then shuts the group down
    /// gracefully and returns.
    private struct OneRequestServer: Service {
        let pages: KeyValueStore<String>
        let shutdown: GracefulShutdownTestTrigger

        func run() async throws {
            try pages.set("/", "<html></html>")
            _ = try pages.get("/")
            shutdown.triggerGracefulShutdown()
            try await gracefulShutdown()
        }
    }

    @Test func theSnippetRunsInAnAsyncFunction() async throws {
        let pages = KeyValueStore<String>()
        defer { pages.shutdown() }
        let logger = Logger(label: "readme")
        try await testGracefulShutdown { trigger in
            let server = OneRequestServer(pages: pages, shutdown: trigger)

            let reporter = CacheMetricsReporter(store: pages, dimensions: [("cache", "pages")])
            try await ServiceGroup(services: [server, reporter], logger: logger).run()

            #expect(reporter.report() == CacheStatistics())  // its last report had the hit
        }
        #expect(pages.statistics.hits == 1)
    }

    @Test func theSnippetIsCopiedHereVerbatim() throws {
        let readme = try ReadmeSnippets.readme(besideTestFile: #filePath)
        let snippets = ReadmeSnippets.swiftBlocks(in: readme) { $0.contains("import KVSMetrics") }
        #expect(snippets.count == 1)
        let body = try ReadmeSnippets.normalizedSource(of: #filePath)
        for snippet in snippets {
            #expect(body.contains(snippet), "not copied here:\n\(snippet)")
        }
    }
}
