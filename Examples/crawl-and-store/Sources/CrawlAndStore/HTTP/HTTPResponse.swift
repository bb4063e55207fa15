import Foundation  // trimmingCharacters
import NIOHTTP1

/// One HTTP response: status, headers and, if it was read, the body.
package struct HTTPResponse: Sendable {
    /// The status code, such as 200 or 404.
    package var status: Int
    /// The response headers.
    package var headers: HTTPHeaders
    /// The body; empty when the client chose not to read it (see ``HTTPClient/get(_:readBodyIf:)``).
    package var body: [UInt8]

    /// The `Content-Type` header, or `nil` if there is none.
    package var contentType: String? { headers.first(name: "content-type") }

    /// The `Location` header of a redirect, or `nil` if there is none.
    package var location: String? { headers.first(name: "location") }

    /// Whether the `Content-Type` says the body is HTML.
    package var isHTML: Bool { headers.declaresHTML }

    /// Whether this is a redirect the client should follow (3xx with a `Location`;
    /// 304 Not Modified is no redirect).
    package var isRedirect: Bool {
        (300..<400).contains(status) && status != 304 && location != nil
    }
}

extension HTTPHeaders {
    /// Whether the `Content-Type` is HTML: `text/html` or `application/xhtml+xml`, with
    /// any parameters (`; charset=utf-8`).
    package var declaresHTML: Bool {
        guard let contentType = first(name: "content-type") else { return false }
        let mediaType = contentType.split(separator: ";", maxSplits: 1).first ?? ""
        let normalized = mediaType.trimmingCharacters(in: .whitespaces).lowercased()
        return normalized == "text/html" || normalized == "application/xhtml+xml"
    }
}
