import Foundation  // URL, Date
import NIOHTTP1

/// A page fetched and parsed: the record to store and the links to follow.
package struct FetchedPage: Sendable {
    /// What to store under the page's URL.
    package var record: PageRecord
    /// The page's links on the crawl's host, normalized and deduplicated.
    package var links: [URL]
    /// `href`s on the page that are not valid URLs.
    package var invalidLinks: [String]
    /// How many of the page's links lead to other hosts (not followed).
    package var offHostLinks: Int
    /// The size of the body in bytes.
    package var bytes: Int
}

/// Fetches one page: follows redirects on the crawl's host, rejects what is not HTML,
/// and extracts the links.
package struct PageFetcher: Sendable {
    /// The client that sends the requests.
    package let client: HTTPClient
    /// The crawl's settings (host, redirect limit).
    package let configuration: CrawlConfiguration

    /// A fetcher for `configuration`, with a client that uses its timeout and body limit.
    package init(configuration: CrawlConfiguration) {
        self.configuration = configuration
        self.client = HTTPClient(timeout: configuration.timeout, maxBodyBytes: configuration.maxBodyBytes)
    }

    /// Fetches `url`, following redirects, and parses the page.
    ///
    /// The body of a response that is neither HTML nor a redirect is never downloaded.
    package func fetch(_ url: URL) async -> Result<FetchedPage, PageError> {
        var current = url
        var chain = [url.absoluteString]
        while true {
            let response: HTTPResponse
            do {
                response = try await client.get(current) { head in
                    head.headers.declaresHTML && !(300..<400).contains(head.status.code)
                }
            } catch {
                return .failure(.http(error))
            }

            if response.isRedirect, let location = response.location {
                guard case .url(let next) = CrawlURL.resolve(location, against: current) else {
                    return .failure(.invalidRedirect(location))
                }
                guard configuration.isOnHost(next) else { return .failure(.redirectOffHost(next.absoluteString)) }
                guard !chain.contains(next.absoluteString) else {
                    return .failure(.redirectLoop(chain + [next.absoluteString]))
                }
                guard chain.count <= configuration.maxRedirects else {
                    return .failure(.tooManyRedirects(limit: configuration.maxRedirects))
                }
                chain.append(next.absoluteString)
                current = next
                continue
            }

            guard let contentType = response.contentType, response.isHTML else {
                return .failure(.notHTML(contentType: response.contentType))
            }
            return .success(page(url: url, finalURL: current, response: response, contentType: contentType))
        }
    }

    /// Builds the page's record and sorts its links.
    private func page(url: URL, finalURL: URL, response: HTTPResponse, contentType: String) -> FetchedPage {
        let html = String(decoding: response.body, as: UTF8.self)
        var links: [URL] = []
        var seen = Set<String>()
        var invalid: [String] = []
        var offHost = 0
        for href in LinkExtractor.hrefs(in: html) {
            switch CrawlURL.resolve(href, against: finalURL) {  // relative to where the content came from
            case .url(let link) where !configuration.isOnHost(link):
                offHost += 1
            case .url(let link):
                if seen.insert(link.absoluteString).inserted { links.append(link) }
            case .notWeb:
                break
            case .invalid(let text):
                invalid.append(text)
            }
        }
        let record = PageRecord(
            url: url.absoluteString,
            finalURL: finalURL == url ? nil : finalURL.absoluteString,
            status: response.status,
            contentType: contentType,
            fetchedAt: Date(),
            links: links.map(\.absoluteString),
            body: html
        )
        return FetchedPage(
            record: record,
            links: links,
            invalidLinks: invalid,
            offHostLinks: offHost,
            bytes: response.body.count
        )
    }
}
