import Foundation
import KVS
import KVSMetrics
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
        let testFile = URL(fileURLWithPath: #filePath)
        let root = testFile.deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let readme = try String(contentsOf: root.appendingPathComponent("README.md"), encoding: .utf8)
        let source = try String(contentsOf: testFile, encoding: .utf8)

        func normalized<S: StringProtocol>(_ lines: [S]) -> String {
            lines.map { $0.split(separator: " ", omittingEmptySubsequences: true).joined(separator: " ") }
                .filter { !$0.isEmpty && !$0.hasPrefix("import ") }
                .joined(separator: "\n")
        }
        var snippets: [String] = []
        var current: [Substring]?
        for line in readme.split(separator: "\n", omittingEmptySubsequences: false) {
            if current == nil, line == "```swift" {
                current = []
            } else if let lines = current, line == "```" {
                if lines.contains("import KVSMetrics") { snippets.append(normalized(lines)) }
                current = nil
            } else {
                current?.append(line)
            }
        }
        #expect(snippets.count == 1)
        let body = normalized(source.split(separator: "\n", omittingEmptySubsequences: false))
        for snippet in snippets {
            #expect(body.contains(snippet), "not copied here:\n\(snippet)")
        }
    }
}
