import CrawlAndStore
import Foundation
import KVS
import Synchronization
import Testing

/// The crawler against ``FixtureSite``: exactly which pages it stores, which it reports
/// as failed and why, and what it never requests.
@Suite struct CrawlerTests {
    /// Short, so the test is quick, yet far above the milliseconds a page of the local
    /// site takes, even on a CI machine busy with other tests; `/slow` never answers, so
    /// it always takes the whole timeout.
    static let timeout: Duration = .seconds(2)

    /// A configuration for the site with this test's defaults.
    static func configuration(_ site: FixtureSite, concurrency: Int = 3) throws -> CrawlConfiguration {
        var configuration = CrawlConfiguration(startURL: try #require(URL(string: site.url("/"))))
        configuration.maxDepth = 2
        configuration.concurrency = concurrency
        configuration.timeout = timeout
        configuration.pageTTL = .seconds(60)
        configuration.batchSize = 4
        return configuration
    }

    /// The pages a depth-2 crawl of the site stores: every HTML answer, 404 included.
    static func expectedPages(_ site: FixtureSite) -> [String: Int] {
        [
            site.url("/"): 200, site.url("/a"): 200, site.url("/b"): 200, site.url("/c?x=1&y=2"): 200,
            site.url("/moved"): 200, site.url("/missing"): 404,
        ]
    }

    /// The pages it reports as failed, with the kind of failure.
    static func expectedFailures(_ site: FixtureSite) -> [String: String] {
        [
            site.url("/image.png"): "not HTML",
            site.url("/slow"): "timeout",
            site.url("/loop/1"): "redirect loop",
            site.url("/away"): "redirect off host",
            "http://127.0.0.1:\(site.closedPort)/": "unreachable",
        ]
    }

    @Test func storesExactlyThePagesItCanReach() async throws {
        try await FixtureSite.with { site in
            let store = try KeyValueStore<PageRecord>(shardCount: 8)
            defer { store.shutdown() }
            let events = EventLog()
            let started = Date()
            let summary = try await Crawler(
                configuration: Self.configuration(site),
                store: store,
                onEvent: events.append
            ).run()

            // Stored: exactly the HTML answers within depth 2, under their normalized URLs.
            #expect(Set(try store.keys()) == Set(Self.expectedPages(site).keys))
            #expect(summary.stored == Self.expectedPages(site))
            // Failed: each bad page reported once, with the right reason; the crawl went on.
            #expect(summary.failed.mapValues(\.kind) == Self.expectedFailures(site))
            #expect(summary.invalidLinks.map { "\($0.page) \($0.href)" } == ["\(site.url("/a")) http://[oops"])
            #expect(summary.offHostLinks == 1)
            #expect(summary.skipped.isEmpty)
            #expect(!summary.reachedPageLimit)

            // Never requested: other hosts, links beyond depth 2, links of an error page,
            // links in comments. Fetched once each despite the cycle and duplicate links.
            for path in ["/offhost", "/deep", "/from-404", "/commented-out"] {
                #expect(site.requestCount(path) == 0, "\(path) was requested")
            }
            for path in ["/", "/a", "/b", "/c?x=1&y=2", "/moved", "/moved-here", "/missing", "/loop/1", "/loop/2"] {
                #expect(site.requestCount(path) == 1, "\(path) requested \(site.requestCount(path)) times")
            }

            // What a record holds.
            let home = try store.get(site.url("/"))
            #expect(home.status == 200)
            #expect(home.contentType == "text/html; charset=utf-8")
            #expect(home.links == ["/a", "/b", "/", "/image.png", "/slow"].map(site.url))
            #expect(home.body.contains("<title>Home</title>"))
            #expect(home.finalURL == nil)
            #expect(home.fetchedAt >= started.addingTimeInterval(-1) && home.fetchedAt <= Date())
            #expect(try store.get(site.url("/moved")).finalURL == site.url("/moved-here"))
            #expect(try store.get(site.url("/b")).links == ["/c?x=1&y=2", "/moved", "/away", "/a"].map(site.url))
            let ttl = try #require(try store.timeToLive(site.url("/")))
            #expect(ttl > .zero && ttl <= .seconds(60))

            // Written in batches of 4: 6 pages take 2 batchSet calls.
            #expect(summary.batches == 2)
            #expect(events.batchSizes.reduce(0, +) == 6)
            // Progress: one event per stored and per failed page.
            #expect(Set(events.fetchedURLs) == Set(Self.expectedPages(site).keys))
            #expect(Set(events.failedURLs) == Set(Self.expectedFailures(site).keys))
        }
    }

    @Test func secondRunLoadsTheSnapshotAndSkipsStoredPages() async throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("crawl-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let snapshot = folder.appendingPathComponent("pages.kvssnap").path

        try await FixtureSite.with { site in
            let first = try KeyValueStore<PageRecord>(shardCount: 8)
            #expect(try PageSnapshot.loadIfPresent(into: first, from: snapshot) == nil)
            _ = try await Crawler(configuration: Self.configuration(site), store: first).run()
            try PageSnapshot.save(first, to: snapshot)
            first.shutdown()
            let requestsAfterFirstRun = site.requests.count

            let second = try KeyValueStore<PageRecord>(shardCount: 4)
            defer { second.shutdown() }
            #expect(try PageSnapshot.loadIfPresent(into: second, from: snapshot) == 6)
            let summary = try await Crawler(configuration: Self.configuration(site), store: second).run()

            // Every stored page is skipped, not fetched; its stored links are followed, so
            // the failed pages are reached and tried again (they were never stored).
            #expect(Set(summary.skipped) == Set(Self.expectedPages(site).keys))
            #expect(summary.stored.isEmpty)
            #expect(summary.failed.mapValues(\.kind) == Self.expectedFailures(site))
            let secondRunRequests = site.requests.dropFirst(requestsAfterFirstRun)
            #expect(Set(secondRunRequests) == ["/image.png", "/slow", "/loop/1", "/loop/2", "/away"])
        }
    }

    @Test func stopsAtThePageLimit() async throws {
        try await FixtureSite.with { site in
            let store = try KeyValueStore<PageRecord>(shardCount: 8)
            defer { store.shutdown() }
            var configuration = try Self.configuration(site, concurrency: 1)
            configuration.maxPages = 3
            let summary = try await Crawler(configuration: configuration, store: store).run()
            // One at a time, breadth first: the start page, then its first two links.
            #expect(Set(try store.keys()) == [site.url("/"), site.url("/a"), site.url("/b")])
            #expect(summary.reachedPageLimit)
            #expect(site.requests == ["/", "/a", "/b"])
        }
    }

    @Test func depthZeroFetchesOnlyTheStartPage() async throws {
        try await FixtureSite.with { site in
            let store = try KeyValueStore<PageRecord>(shardCount: 8)
            defer { store.shutdown() }
            var configuration = try Self.configuration(site)
            configuration.maxDepth = 0
            let summary = try await Crawler(configuration: configuration, store: store).run()
            #expect(try store.keys() == [site.url("/")])
            #expect(summary.stored.count == 1 && summary.failed.isEmpty)
        }
    }

    @Test func unreachableStartPageIsReportedNotThrown() async throws {
        try await FixtureSite.with { site in
            let store = try KeyValueStore<PageRecord>(shardCount: 8)
            defer { store.shutdown() }
            let start = "http://127.0.0.1:\(site.closedPort)/"
            let configuration = CrawlConfiguration(startURL: try #require(URL(string: start)))
            let summary = try await Crawler(configuration: configuration, store: store).run()
            #expect(summary.failed.mapValues(\.kind) == [start: "unreachable"])
            #expect(store.count == 0)
        }
    }
}

/// Collects a crawl's events (the handler is called on the crawling task, but must be
/// `Sendable`, so a lock guards the list).
final class EventLog: Sendable {
    private let events = Locked<[CrawlEvent]>([])

    func append(_ event: CrawlEvent, _ progress: CrawlProgress) {
        events.withLock { $0.append(event) }
    }

    var fetchedURLs: [String] {
        events.withLock { $0.compactMap { if case .fetched(let url, _, _, _, _) = $0 { url } else { nil } } }
    }

    var failedURLs: [String] {
        events.withLock { $0.compactMap { if case .failed(let url, _) = $0 { url } else { nil } } }
    }

    var batchSizes: [Int] {
        events.withLock { $0.compactMap { if case .wroteBatch(let pages) = $0 { pages } else { nil } } }
    }
}
