import CrawlAndStore
import Foundation  // FileHandle

/// Prints one line per crawl event to standard error, so that progress shows while the
/// crawl runs and standard output keeps only the summary.
struct ProgressPrinter: Sendable {
    let enabled: Bool

    func print(_ event: CrawlEvent, _ progress: CrawlProgress) {
        guard enabled else { return }
        let status =
            "[\(pad(progress.fetched, 4))/\(progress.limit) fetched, \(pad(progress.inFlight, 2)) in flight, "
            + "\(pad(progress.queued, 4)) queued]"
        let line: String
        switch event {
        case .fetched(let url, let code, let bytes, let links, let depth):
            line = "\(status) \(code) \(pad(bytes, 8)) B  \(url)  (\(links) links, depth \(depth))"
        case .skipped(let url):
            line = "\(status) skip            \(url)  (already stored)"
        case .failed(let url, let error):
            line = "\(status) FAIL            \(url)  \(error)"
        case .invalidLink(let page, let href):
            line = "\(status) FAIL            invalid link \(href.debugDescription) on \(page)"
        case .wroteBatch(let pages):
            line = "\(status) wrote \(pages) pages with batchSet"
        }
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }

    private func pad(_ value: Int, _ width: Int) -> String {
        let text = String(value)
        return String(repeating: " ", count: max(0, width - text.count)) + text
    }
}
