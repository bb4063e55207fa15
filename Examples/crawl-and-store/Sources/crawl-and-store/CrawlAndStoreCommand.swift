import ArgumentParser
import CrawlAndStore
import Foundation  // URL
import KVS

/// `crawl-and-store`: crawl one host and keep its pages in a `KeyValueStore`.
@main
struct CrawlAndStoreCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "crawl-and-store",
        abstract: "Crawl a web site and store its pages in a KeyValueStore.",
        discussion: """
            Fetches pages breadth first from URL, a few at a time, following <a href> links \
            on URL's host only. Each HTML page is stored under its URL (body, status, \
            content type, fetch time, links) with a time-to-live; writes are batched with \
            batchSet. Progress goes to standard error, the summary to standard output. At \
            the end the store is saved to the snapshot file; the next run loads it and \
            skips the pages it already has. A page that fails (unreachable, timeout, not \
            HTML, redirect loop, invalid link) is reported and the crawl goes on. \
            http:// only: this example has no TLS.
            """
    )

    @Argument(help: "Where to start, such as http://127.0.0.1:8080/.")
    var url: String

    @Option(help: "How many links away from URL to go (0: URL only).")
    var depth = 2

    @Option(help: "The most pages to fetch in this run.")
    var maxPages = 100

    @Option(help: "The most requests in flight at once.")
    var concurrency = 4

    @Option(help: "Seconds each stored page lives (0: forever).")
    var ttl = 3_600.0

    @Option(help: "Seconds to wait to connect, and then for the answer.")
    var timeout = 10.0

    @Option(help: "Pages per batchSet call.")
    var batchSize = 16

    @Option(help: "The most redirects followed for one page.")
    var maxRedirects = 5

    @Option(help: "The snapshot file to load at the start and save at the end.")
    var snapshot = "crawl-and-store.kvssnap"

    @Flag(help: "Do not load or save a snapshot.")
    var noSnapshot = false

    @Flag(name: .shortAndLong, help: "Print only the summary, no progress.")
    var quiet = false

    func validate() throws {
        guard let start = CrawlURL.parseAbsolute(url) else {
            throw ValidationError("\(url.debugDescription) is not an absolute http:// URL")
        }
        guard start.scheme == "http" else {
            throw ValidationError("only http:// URLs can be crawled: this example has no TLS")
        }
        for (name, seconds) in [("--ttl", ttl), ("--timeout", timeout)]
        where !seconds.isFinite || seconds < 0 || seconds > 1e9 {
            throw ValidationError("\(name) must be a number of seconds from 0 to 1e9")
        }
        if let problem = try crawlConfiguration().problem { throw ValidationError(problem) }
    }

    func crawlConfiguration() throws -> CrawlConfiguration {
        guard let start = CrawlURL.parseAbsolute(url) else { throw ValidationError("invalid URL \(url)") }
        var configuration = CrawlConfiguration(startURL: start)
        configuration.maxDepth = depth
        configuration.maxPages = maxPages
        configuration.concurrency = concurrency
        configuration.pageTTL = .milliseconds(Int64((ttl * 1_000).rounded()))
        configuration.timeout = .milliseconds(Int64((timeout * 1_000).rounded()))
        configuration.batchSize = batchSize
        configuration.maxRedirects = maxRedirects
        return configuration
    }

    func run() async throws {
        let store = try KeyValueStore<PageRecord>(shardCount: 16)
        defer { store.shutdown() }

        if !noSnapshot {
            do {
                if let loaded = try PageSnapshot.loadIfPresent(into: store, from: snapshot) {
                    print("Loaded \(loaded) pages from \(snapshot)")
                } else {
                    print("No snapshot at \(snapshot) yet: starting with an empty store")
                }
            } catch {
                throw ValidationError("cannot load \(snapshot): \(error). Remove it, or pass another --snapshot.")
            }
        }

        let progress = ProgressPrinter(enabled: !quiet)
        let crawler = Crawler(configuration: try crawlConfiguration(), store: store, onEvent: progress.print)
        let summary = try await crawler.run()
        print(summary.text)

        if !noSnapshot {
            try PageSnapshot.save(store, to: snapshot)
            print("Saved \(store.count) pages to \(snapshot)")
        }
    }
}
