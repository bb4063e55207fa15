/// Why a page could not be stored. Each is reported for its page; none stops the crawl.
package enum PageError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The request failed: the host is unreachable, no answer came in time, the
    /// response was not valid HTTP, the body was too large, or the URL is not `http`.
    case http(HTTPClientError)
    /// The response is not an HTML page (an image, a PDF, a zip, …).
    case notHTML(contentType: String?)
    /// The redirects came back to a URL already visited; the chain is listed.
    case redirectLoop([String])
    /// More redirects than the limit.
    case tooManyRedirects(limit: Int)
    /// A redirect to another host, which the crawl does not leave its host to follow.
    case redirectOffHost(String)
    /// A redirect whose `Location` is not a valid URL.
    case invalidRedirect(String)
    /// The store refused the page (only a custom shard function out of range can cause it).
    case notStored(String)

    /// A short name for the kind of problem, to count problems by kind in the summary.
    package var kind: String {
        switch self {
        case .http(.unreachable): "unreachable"
        case .http(.timedOut): "timeout"
        case .http(.unsupportedURL): "unsupported URL"
        case .http(.bodyTooLarge): "too large"
        case .http: "bad response"
        case .notHTML: "not HTML"
        case .redirectLoop: "redirect loop"
        case .tooManyRedirects: "too many redirects"
        case .redirectOffHost: "redirect off host"
        case .invalidRedirect: "invalid redirect"
        case .notStored: "not stored"
        }
    }

    package var description: String {
        switch self {
        case .http(let error): "\(error)"
        case .notHTML(let contentType): "not HTML (Content-Type: \(contentType ?? "none"))"
        case .redirectLoop(let chain): "redirect loop: \(chain.joined(separator: " -> "))"
        case .tooManyRedirects(let limit): "more than \(limit) redirects"
        case .redirectOffHost(let target): "redirects off the host, to \(target)"
        case .invalidRedirect(let location): "redirects to an invalid URL: \(location)"
        case .notStored(let reason): "the store refused it: \(reason)"
        }
    }
}
