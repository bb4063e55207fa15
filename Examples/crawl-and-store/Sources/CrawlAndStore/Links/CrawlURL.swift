import Foundation  // URL, URLComponents

/// Turning the `href`s of a page into the URLs the crawler keys its pages by.
package enum CrawlURL {
    /// What a link resolves to.
    package enum Resolution: Equatable, Sendable {
        /// An `http` or `https` URL, normalized.
        case url(URL)
        /// A link that is not to a web page (`mailto:`, `javascript:`, `tel:`, …): skipped quietly.
        case notWeb
        /// A link that is not a valid URL (`http://[oops`, an empty host, port 99999).
        case invalid(String)
    }

    /// Resolves `href` against the page it was found on and normalizes it, so that two
    /// spellings of one page give one key:
    /// - relative links are made absolute (`../b.html`, `?page=2`, `//host/path`);
    /// - the fragment is dropped (`/a#top` is `/a`);
    /// - scheme and host are lowercased, a default port (80, 443) is dropped, and an
    ///   empty path becomes `/`.
    ///
    /// Leading and trailing whitespace, common in hand-written HTML, is ignored.
    package static func resolve(_ href: String, against base: URL) -> Resolution {
        let trimmed = href.trimmingCharacters(in: .whitespacesAndNewlines)
        guard let absolute = URL(string: trimmed, relativeTo: base)?.absoluteURL,
            var components = URLComponents(url: absolute, resolvingAgainstBaseURL: false)
        else { return .invalid(trimmed) }

        let scheme = components.scheme?.lowercased() ?? ""
        guard scheme == "http" || scheme == "https" else { return .notWeb }
        guard let host = components.host, !host.isEmpty else { return .invalid(trimmed) }
        if let port = components.port, !(1...65_535).contains(port) { return .invalid(trimmed) }

        components.scheme = scheme
        components.host = host.lowercased()
        if components.port == (scheme == "http" ? 80 : 443) { components.port = nil }
        if components.percentEncodedPath.isEmpty { components.percentEncodedPath = "/" }
        components.fragment = nil
        guard let url = components.url else { return .invalid(trimmed) }
        return .url(url)
    }

    /// Parses and normalizes a URL given on its own (the start URL), with no page to be
    /// relative to: it must be an absolute `http` or `https` URL.
    package static func parseAbsolute(_ string: String) -> URL? {
        let trimmed = string.trimmingCharacters(in: .whitespacesAndNewlines)
        guard let url = URL(string: trimmed), url.scheme != nil,
            case .url(let normalized) = resolve(trimmed, against: url)
        else { return nil }
        return normalized
    }
}
