import Foundation

/// The README's Swift snippets, for the tests that compile a copy of each and check that the
/// copy is still the README's text.
package enum ReadmeSnippets {
    /// The package's README.md, found from a test file's `#filePath` (`Tests/<target>/<file>`).
    package static func readme(besideTestFile testFile: String) throws -> String {
        let root = URL(fileURLWithPath: testFile)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        return try String(contentsOf: root.appendingPathComponent("README.md"), encoding: .utf8)
    }

    /// The bodies of the ```` ```swift ```` blocks of `markdown` whose lines `include` accepts,
    /// each ``normalized(_:)``.
    package static func swiftBlocks(in markdown: String, where include: ([Substring]) -> Bool) -> [String] {
        var snippets: [String] = []
        var current: [Substring]?
        for line in markdown.split(separator: "\n", omittingEmptySubsequences: false) {
            if current == nil, line == "```swift" {
                current = []
            } else if let lines = current, line == "```" {
                if include(lines) { snippets.append(normalized(lines)) }
                current = nil
            } else {
                current?.append(line)
            }
        }
        return snippets
    }

    /// `lines` joined with runs of spaces collapsed, and empty and `import` lines dropped:
    /// swift-format indents the copies and may write `catch  where` with two spaces.
    package static func normalized<S: StringProtocol>(_ lines: [S]) -> String {
        lines.map { $0.split(separator: " ", omittingEmptySubsequences: true).joined(separator: " ") }
            .filter { !$0.isEmpty && !$0.hasPrefix("import ") }
            .joined(separator: "\n")
    }

    /// A test file's text, ``normalized(_:)``, to search for the snippets in.
    package static func normalizedSource(of testFile: String) throws -> String {
        let source = try String(contentsOf: URL(fileURLWithPath: testFile), encoding: .utf8)
        return normalized(source.split(separator: "\n", omittingEmptySubsequences: false))
    }
}
