import Foundation  // URL

/// What to crawl and how.
package struct CrawlConfiguration: Sendable {
    /// Where the crawl starts; only pages on this URL's host are fetched.
    package var startURL: URL
    /// How many links away from the start page to go: 0 fetches the start page only.
    package var maxDepth = 2
    /// The most pages fetched in one run (pages already in the store do not count).
    package var maxPages = 100
    /// The most requests in flight at once.
    package var concurrency = 4
    /// How long each stored page lives in the store; `.zero` keeps pages forever.
    package var pageTTL: Duration = .seconds(3_600)
    /// How long connecting may take, and then how long the answer may take.
    package var timeout: Duration = .seconds(10)
    /// The most redirects followed for one page.
    package var maxRedirects = 5
    /// The largest page body accepted.
    package var maxBodyBytes = 2_000_000
    /// Pages per `batchSet` call.
    package var batchSize = 16

    /// A crawl from `startURL` with the defaults: depth 2, 100 pages, 4 at a time,
    /// pages kept for an hour, a 10-second timeout, batches of 16.
    package init(startURL: URL) {
        self.startURL = startURL
    }

    /// Why this configuration cannot run, or `nil` if it can.
    package var problem: String? {
        if maxDepth < 0 { return "the depth cannot be negative" }
        if maxPages < 1 { return "the page limit must be at least 1" }
        if !(1...256).contains(concurrency) { return "the concurrency must be from 1 to 256" }
        if pageTTL < .zero { return "the TTL cannot be negative" }
        if timeout <= .zero { return "the timeout must be positive" }
        if maxRedirects < 0 { return "the redirect limit cannot be negative" }
        if maxBodyBytes < 1 { return "the body limit must be at least 1 byte" }
        if batchSize < 1 { return "the batch size must be at least 1" }
        return nil
    }

    /// The host the crawl stays on (lowercase).
    package var host: String { startURL.host()?.lowercased() ?? "" }

    /// Whether `url` is on the crawl's host. Any port and either of `http` and `https`
    /// counts: "same host" means the same machine name.
    package func isOnHost(_ url: URL) -> Bool {
        url.host()?.lowercased() == host
    }
}
