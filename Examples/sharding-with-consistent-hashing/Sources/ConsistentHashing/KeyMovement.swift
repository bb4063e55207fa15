/// How many keys change shard between two shard functions (before and after a shard is
/// added or removed): the data a real cluster would have to copy between machines.
package struct KeyMovement: Sendable, Equatable {
    /// How many keys were compared.
    package let total: Int
    /// How many of them have a different shard after the change.
    package let moved: Int
    /// The shards the moved keys went to, each once, in increasing order.
    package let destinations: [Int]
    /// The shards the moved keys came from, each once, in increasing order.
    package let sources: [Int]

    /// Compares where each of `keys` lands `before` and `after` a change.
    ///
    /// - Complexity: O(n) calls of each function.
    package init(keys: [String], before: (String) -> Int, after: (String) -> Int) {
        var moved = 0
        var destinations = Set<Int>()
        var sources = Set<Int>()
        for key in keys {
            let old = before(key)
            let new = after(key)
            if old != new {
                moved += 1
                sources.insert(old)
                destinations.insert(new)
            }
        }
        self.total = keys.count
        self.moved = moved
        self.destinations = destinations.sorted()
        self.sources = sources.sorted()
    }

    /// `moved / total`, from 0 to 1.
    package var fraction: Double { total == 0 ? 0 : Double(moved) / Double(total) }
}
