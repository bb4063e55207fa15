import Foundation

/// What the crawler stores for each page, under the page's URL.
package struct PageRecord: Codable, Sendable, Equatable {
    /// The page's URL, as stored (normalized: no fragment, lowercase scheme and host).
    package var url: String
    /// The URL the content came from, when redirects led elsewhere; otherwise `nil`.
    package var finalURL: String?
    /// The HTTP status code of the final response.
    package var status: Int
    /// The response's `Content-Type` header.
    package var contentType: String
    /// When the page was fetched.
    package var fetchedAt: Date
    /// The page's same-host links, normalized and deduplicated, in document order.
    package var links: [String]
    /// The page's HTML, decoded as UTF-8 (invalid bytes become U+FFFD).
    package var body: String

    /// Creates a record from its parts.
    package init(
        url: String,
        finalURL: String? = nil,
        status: Int,
        contentType: String,
        fetchedAt: Date,
        links: [String],
        body: String
    ) {
        self.url = url
        self.finalURL = finalURL
        self.status = status
        self.contentType = contentType
        self.fetchedAt = fetchedAt
        self.links = links
        self.body = body
    }
}
