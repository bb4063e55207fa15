import CrawlAndStore
import Foundation
import Testing

@Suite struct CrawlURLTests {
    let base = URL(string: "http://example.test:8080/dir/page.html")!

    func resolved(_ href: String) -> String? {
        if case .url(let url) = CrawlURL.resolve(href, against: base) { return url.absoluteString }
        return nil
    }

    @Test func resolvesRelativeLinks() {
        #expect(resolved("other.html") == "http://example.test:8080/dir/other.html")
        #expect(resolved("../up") == "http://example.test:8080/up")
        #expect(resolved("/root") == "http://example.test:8080/root")
        #expect(resolved("?page=2") == "http://example.test:8080/dir/page.html?page=2")
        #expect(resolved("//other.test/x") == "http://other.test/x")
    }

    @Test func dropsFragments() {
        #expect(resolved("/a#section") == "http://example.test:8080/a")
        #expect(resolved("#top") == "http://example.test:8080/dir/page.html")
    }

    @Test func normalizesSchemeHostPortAndEmptyPath() {
        #expect(resolved("HTTP://Example.TEST:80") == "http://example.test/")
        #expect(resolved("https://example.test:443/x") == "https://example.test/x")
        #expect(resolved("  /padded  ") == "http://example.test:8080/padded")
    }

    @Test func classifiesOtherSchemesAndInvalidURLs() {
        #expect(CrawlURL.resolve("mailto:someone@example.test", against: base) == .notWeb)
        #expect(CrawlURL.resolve("javascript:void(0)", against: base) == .notWeb)
        #expect(CrawlURL.resolve("http://[oops", against: base) == .invalid("http://[oops"))
        #expect(CrawlURL.resolve("http://example.test:99999/", against: base) == .invalid("http://example.test:99999/"))
        #expect(CrawlURL.resolve("http:///no-host", against: base) == .invalid("http:///no-host"))
    }

    @Test func parsesOnlyAbsoluteStartURLs() {
        #expect(CrawlURL.parseAbsolute("http://127.0.0.1:9/x#y")?.absoluteString == "http://127.0.0.1:9/x")
        #expect(CrawlURL.parseAbsolute("relative/path") == nil)
        #expect(CrawlURL.parseAbsolute("not a url") == nil)
        #expect(CrawlURL.parseAbsolute("ftp://example.test/") == nil)
    }
}
