extension CrawlSummary {
    /// The summary as the program prints it.
    package var text: String {
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        var lines = [
            "Crawl summary",
            "  pages stored:   \(stored.count)\(statusBreakdown)",
            "  pages skipped:  \(skipped.count) (already in the store)",
            "  bytes:          \(bytes)",
            "  errors:         \(errorCount)\(errorBreakdown)",
            "  off-host links: \(offHostLinks) (not followed)",
            "  batch writes:   \(batches)",
            "  time:           \(Int((seconds * 1000).rounded())) ms",
        ]
        if reachedPageLimit { lines.append("  stopped at the page limit; more pages were queued") }
        for (url, error) in failed.sorted(by: { $0.key < $1.key }) {
            lines.append("  ! \(url): \(error)")
        }
        for link in invalidLinks {
            lines.append("  ! invalid link \(link.href.debugDescription) on \(link.page)")
        }
        return lines.joined(separator: "\n")
    }

    /// ` (4 × 200, 1 × 404)`, or nothing.
    private var statusBreakdown: String {
        let byStatus = Dictionary(grouping: stored.values, by: { $0 }).mapValues(\.count)
        guard !byStatus.isEmpty else { return "" }
        return " (" + byStatus.sorted { $0.key < $1.key }.map { "\($0.value) × \($0.key)" }.joined(separator: ", ")
            + ")"
    }

    /// ` (1 timeout, 1 not HTML, 2 invalid link)`, or nothing.
    private var errorBreakdown: String {
        var byKind = Dictionary(grouping: failed.values, by: \.kind).mapValues(\.count)
        if !invalidLinks.isEmpty { byKind["invalid link"] = invalidLinks.count }
        guard !byKind.isEmpty else { return "" }
        return " (" + byKind.sorted { $0.key < $1.key }.map { "\($0.value) \($0.key)" }.joined(separator: ", ") + ")"
    }
}
