/// Finds the targets of the `<a href="…">` links in an HTML page.
///
/// A small scanner, not a full HTML parser: it finds `<a` tags (any case), reads their
/// `href` attribute whether double-quoted, single-quoted or bare, decodes the common
/// character references (`&amp;` and friends), and skips comments, `<script>` and
/// `<style>` contents, where an `<a` is not a link. That covers the pages a crawler
/// meets in practice; a page whose markup defeats it only loses links.
package enum LinkExtractor {
    /// The `href` values of the page's `<a>` tags, in document order, as written
    /// (relative links stay relative; see ``CrawlURL``).
    ///
    /// - Complexity: O(n) in the length of the page.
    package static func hrefs(in html: String) -> [String] {
        var scanner = Scanner(Array(html.utf8))
        var hrefs: [String] = []
        while let tag = scanner.nextTagName() {
            switch tag {
            case "!--": scanner.skip(past: "-->")
            case "script": scanner.skip(pastCaseInsensitive: "</script")
            case "style": scanner.skip(pastCaseInsensitive: "</style")
            case "a":
                if let href = scanner.attributes()["href"] { hrefs.append(decodeCharacterReferences(href)) }
            default: break
            }
        }
        return hrefs
    }

    /// Replaces `&amp;`, `&lt;`, `&gt;`, `&quot;`, `&#39;` and `&apos;` in an attribute value.
    static func decodeCharacterReferences(_ value: String) -> String {
        guard value.contains("&") else { return value }
        return
            value
            .replacing("&lt;", with: "<").replacing("&gt;", with: ">")
            .replacing("&quot;", with: "\"").replacing("&#39;", with: "'").replacing("&apos;", with: "'")
            .replacing("&amp;", with: "&")
    }
}

/// A cursor over a page's UTF-8 bytes. Tags and attribute names are ASCII, so working
/// on bytes is exact and avoids Swift's grapheme-by-grapheme `String` walk.
private struct Scanner {
    let bytes: [UInt8]
    var position = 0

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    /// Moves past the next `<` and returns the tag's name in lowercase (`"!--"` for a
    /// comment), or `nil` at the end of the page. End tags (`</a>`) yield `"/a"`.
    mutating func nextTagName() -> String? {
        while position < bytes.count {
            guard bytes[position] == UInt8(ascii: "<") else {
                position += 1
                continue
            }
            position += 1
            if starts(with: "!--") {
                position += 3
                return "!--"
            }
            let start = position
            while position < bytes.count, !isSpace(bytes[position]), bytes[position] != UInt8(ascii: ">") {
                position += 1
            }
            return String(decoding: bytes[start..<position], as: UTF8.self).lowercased()
        }
        return nil
    }

    /// Reads a tag's attributes up to its `>`, names in lowercase. The first of two
    /// attributes with one name wins, as in browsers.
    mutating func attributes() -> [String: String] {
        var result: [String: String] = [:]
        while true {
            skipSpaces()
            guard position < bytes.count, bytes[position] != UInt8(ascii: ">") else { break }
            let nameStart = position
            while position < bytes.count, !isSpace(bytes[position]),
                ![UInt8(ascii: "="), UInt8(ascii: ">")].contains(bytes[position])
            {
                position += 1
            }
            let name = String(decoding: bytes[nameStart..<position], as: UTF8.self).lowercased()
            if position == nameStart { position += 1 }  // a stray character such as `/`: move on
            skipSpaces()
            var value = ""
            if position < bytes.count, bytes[position] == UInt8(ascii: "=") {
                position += 1
                skipSpaces()
                value = readValue()
            }
            if !name.isEmpty, result[name] == nil { result[name] = value }
        }
        position += 1
        return result
    }

    /// Reads a quoted or bare attribute value.
    private mutating func readValue() -> String {
        guard position < bytes.count else { return "" }
        let quote = bytes[position]
        if quote == UInt8(ascii: "\"") || quote == UInt8(ascii: "'") {
            position += 1
            let start = position
            while position < bytes.count, bytes[position] != quote { position += 1 }
            let value = String(decoding: bytes[start..<position], as: UTF8.self)
            position = min(position + 1, bytes.count)
            return value
        }
        let start = position
        while position < bytes.count, !isSpace(bytes[position]), bytes[position] != UInt8(ascii: ">") { position += 1 }
        return String(decoding: bytes[start..<position], as: UTF8.self)
    }

    /// Moves past the next occurrence of `marker`, or to the end.
    mutating func skip(past marker: String) {
        while position < bytes.count, !starts(with: marker) { position += 1 }
        position = min(position + marker.utf8.count, bytes.count)
    }

    /// Moves past the next occurrence of `marker` in any case, or to the end.
    mutating func skip(pastCaseInsensitive marker: String) {
        while position < bytes.count, !starts(with: marker, caseInsensitive: true) { position += 1 }
        position = min(position + marker.utf8.count, bytes.count)
    }

    private mutating func skipSpaces() {
        while position < bytes.count, isSpace(bytes[position]) { position += 1 }
    }

    private func starts(with marker: String, caseInsensitive: Bool = false) -> Bool {
        let marker = Array(marker.utf8)
        guard position + marker.count <= bytes.count else { return false }
        for (offset, expected) in marker.enumerated() {
            let actual = bytes[position + offset]
            if caseInsensitive ? lower(actual) != lower(expected) : actual != expected { return false }
        }
        return true
    }

    private func lower(_ byte: UInt8) -> UInt8 {
        (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte) ? byte + 32 : byte
    }

    private func isSpace(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0C || byte == 0x0D
    }
}
