/// What a crawl did.
package struct CrawlSummary: Sendable {
    /// Pages fetched and stored, by URL, with their HTTP status (a 404 page is stored
    /// too: it is an HTML answer).
    package var stored: [String: Int] = [:]
    /// Pages not fetched because the store already had them.
    package var skipped: [String] = []
    /// Pages that could not be stored, by URL, with why.
    package var failed: [String: PageError] = [:]
    /// Links that are not valid URLs, with the page they were on.
    package var invalidLinks: [(page: String, href: String)] = []
    /// Links to other hosts, which the crawl does not follow.
    package var offHostLinks = 0
    /// Bytes of HTML downloaded.
    package var bytes = 0
    /// `batchSet` calls made.
    package var batches = 0
    /// Whether pages were left unfetched because the page limit was reached.
    package var reachedPageLimit = false
    /// How long the crawl took.
    package var elapsed: Duration = .zero

    /// Every problem: failed pages and invalid links.
    package var errorCount: Int { failed.count + invalidLinks.count }
}
