import Foundation  // URL

/// The URLs waiting to be crawled, first in first out (so the crawl goes breadth
/// first), and every URL ever queued, so that no page is queued twice.
struct Frontier {
    /// A URL waiting to be crawled, and how many links away from the start page it is.
    struct Item {
        var url: URL
        var depth: Int
    }

    private var queue: [Item] = []
    private var head = 0
    private var seen: Set<String> = []

    /// Queues `url` at `depth` unless it was queued before; returns whether it was queued.
    @discardableResult
    mutating func enqueue(_ url: URL, depth: Int) -> Bool {
        guard seen.insert(url.absoluteString).inserted else { return false }
        queue.append(Item(url: url, depth: depth))
        return true
    }

    /// Takes the oldest waiting URL, or returns `nil` if none waits.
    mutating func next() -> Item? {
        guard head < queue.count else { return nil }
        defer {
            head += 1
            if head > 1_024, head * 2 > queue.count {  // drop the taken items now and then
                queue.removeFirst(head)
                head = 0
            }
        }
        return queue[head]
    }

    /// How many URLs wait.
    var waiting: Int { queue.count - head }
}
