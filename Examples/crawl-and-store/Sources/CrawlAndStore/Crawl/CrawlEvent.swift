/// Something that happened during a crawl, reported as it happens so a program can show
/// progress.
package enum CrawlEvent: Sendable, Equatable {
    /// A page was fetched and will be stored: its URL, HTTP status, body size, links on
    /// its host, and depth.
    case fetched(url: String, status: Int, bytes: Int, links: Int, depth: Int)
    /// A page was already in the store (from a snapshot): not fetched, its stored links followed.
    case skipped(url: String)
    /// A page could not be stored.
    case failed(url: String, error: PageError)
    /// A page had a link that is not a valid URL.
    case invalidLink(page: String, href: String)
    /// A batch of pages was written to the store.
    case wroteBatch(pages: Int)
}

/// Where the crawl stands: sent with every event.
package struct CrawlProgress: Sendable, Equatable {
    /// Pages fetched (or tried) so far.
    package var fetched = 0
    /// Pages skipped because the store had them.
    package var skipped = 0
    /// Pages that failed so far.
    package var failed = 0
    /// Requests in flight.
    package var inFlight = 0
    /// URLs waiting.
    package var queued = 0
    /// The run's page limit.
    package var limit = 0
}
