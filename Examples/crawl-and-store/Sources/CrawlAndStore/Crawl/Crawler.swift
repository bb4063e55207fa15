import Foundation  // URL
import KVS

/// A concurrent web crawler that stores the pages it fetches in a `KeyValueStore`.
///
/// Starting from ``CrawlConfiguration/startURL``, it fetches pages breadth first, up to
/// ``CrawlConfiguration/concurrency`` at a time, following the `<a href>` links of
/// successful (2xx) pages that stay on the start URL's host, up to ``CrawlConfiguration/maxDepth`` links away and
/// ``CrawlConfiguration/maxPages`` pages. Each HTML page is stored under its normalized
/// URL as a ``PageRecord`` that lives for ``CrawlConfiguration/pageTTL``; writes go out
/// in batches with `batchSet`.
///
/// A page already in the store (loaded from a snapshot by an earlier run, and not yet
/// expired) is not fetched again; its stored links are followed instead.
///
/// Every problem (unreachable host, timeout, non-HTML response, redirect loop, invalid
/// link) is reported for its page through the event handler and in the summary; none
/// stops the crawl.
///
/// ## How the concurrency works
/// One task, the one that calls ``run()``, owns all the crawl's state: the queue, the
/// set of URLs seen, the pending writes, the summary. It starts each fetch as a child
/// task in a task group and takes the results back one at a time with `group.next()`.
/// The child tasks only fetch and parse; they share nothing, so no lock is needed.
package struct Crawler: Sendable {
    /// The crawl's settings.
    package let configuration: CrawlConfiguration
    /// Where pages are stored.
    package let store: KeyValueStore<PageRecord>
    /// Called, on the task running ``run()``, for every ``CrawlEvent``.
    package let onEvent: @Sendable (CrawlEvent, CrawlProgress) -> Void

    private let fetcher: PageFetcher

    /// A crawler for `configuration` that stores pages in `store`.
    ///
    /// - Precondition: `configuration.problem == nil` (check it first; the command does).
    package init(
        configuration: CrawlConfiguration,
        store: KeyValueStore<PageRecord>,
        onEvent: @escaping @Sendable (CrawlEvent, CrawlProgress) -> Void = { _, _ in }
    ) {
        self.configuration = configuration
        self.store = store
        self.onEvent = onEvent
        self.fetcher = PageFetcher(configuration: configuration)
    }

    /// Crawls, then writes the last batch.
    ///
    /// - Returns: what was stored, skipped and failed.
    /// - Throws: a `KVSError` only if the store fails as a whole (it was closed).
    package func run() async throws -> CrawlSummary {
        let start = ContinuousClock.now
        var summary = CrawlSummary()
        var progress = CrawlProgress(limit: configuration.maxPages)
        var frontier = Frontier()
        var writer = PageWriter(store: store, ttl: configuration.pageTTL, batchSize: configuration.batchSize)
        // Normalized like every link, so that a link back to the start page is seen as a duplicate.
        frontier.enqueue(
            CrawlURL.parseAbsolute(configuration.startURL.absoluteString) ?? configuration.startURL,
            depth: 0
        )

        func report(_ event: CrawlEvent) {
            progress.queued = frontier.waiting
            onEvent(event, progress)
        }

        /// Queues the links of a page at `depth`, if the next level is within the depth
        /// limit and the page is a success (2xx): an error page's links are not the site's.
        func follow(_ links: [URL], from depth: Int, status: Int) {
            guard depth < configuration.maxDepth, (200..<300).contains(status) else { return }
            for link in links { frontier.enqueue(link, depth: depth + 1) }
        }

        try await withThrowingTaskGroup(of: (Frontier.Item, Result<FetchedPage, PageError>).self) { group in
            while true {
                // Start fetches while there is room, a URL waiting, and budget left.
                while progress.inFlight < configuration.concurrency, progress.fetched < configuration.maxPages,
                    let item = frontier.next()
                {
                    let key = item.url.absoluteString
                    if let stored = try storedPage(key) {
                        summary.skipped.append(key)
                        progress.skipped += 1
                        follow(stored.links.compactMap(URL.init(string:)), from: item.depth, status: stored.status)
                        report(.skipped(url: key))
                        continue
                    }
                    progress.fetched += 1
                    progress.inFlight += 1
                    group.addTask { [fetcher] in (item, await fetcher.fetch(item.url)) }
                }

                // Take the next finished fetch; none left means the crawl is over.
                guard let (item, result) = try await group.next() else { break }
                progress.inFlight -= 1
                let key = item.url.absoluteString
                switch result {
                case .success(let page):
                    summary.stored[key] = page.record.status
                    summary.bytes += page.bytes
                    summary.offHostLinks += page.offHostLinks
                    follow(page.links, from: item.depth, status: page.record.status)
                    report(
                        .fetched(
                            url: key,
                            status: page.record.status,
                            bytes: page.bytes,
                            links: page.links.count,
                            depth: item.depth
                        )
                    )
                    for href in page.invalidLinks {
                        summary.invalidLinks.append((key, href))
                        report(.invalidLink(page: key, href: href))
                    }
                    let written = try writer.add(page.record)
                    if written > 0 { report(.wroteBatch(pages: written)) }
                case .failure(let error):
                    summary.failed[key] = error
                    progress.failed += 1
                    report(.failed(url: key, error: error))
                }
            }
        }

        let written = try writer.flush()
        if written > 0 { report(.wroteBatch(pages: written)) }
        for (key, error) in writer.errors { summary.failed[key] = .notStored("\(error)") }
        summary.batches = writer.batches
        summary.reachedPageLimit = frontier.waiting > 0
        summary.elapsed = ContinuousClock.now - start
        return summary
    }

    /// The stored page under `key`, or `nil` if the store has none (or it expired).
    private func storedPage(_ key: String) throws(KVSError) -> PageRecord? {
        do {
            return try store.get(key)
        } catch  where error.code == .notFound {
            return nil
        }
    }
}
