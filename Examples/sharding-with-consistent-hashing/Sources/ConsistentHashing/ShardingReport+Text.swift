import Foundation  // String(format:)

extension ShardingReport {
    /// The report as the program prints it.
    package var text: String {
        let n = configuration.shardCount
        let d = ringDistribution
        var lines: [String] = []
        lines.append(
            "Consistent-hash ring: \(n) shards × \(configuration.virtualNodesPerShard) virtual nodes, "
                + "\(configuration.keyCount) keys (user:0 … user:\(configuration.keyCount - 1))"
        )
        lines.append("")
        lines.append(
            "Store sharded by the ring: stored \(storeCheck.stored), read back \(storeCheck.readBack), "
                + "count \(storeCheck.count)"
        )
        lines.append("  \"caf\\u{E9}\" stored, \"cafe\\u{301}\" found: \(storeCheck.equivalentKeyFound ? "yes" : "NO")")
        lines.append("")
        lines.append("Keys per shard (ring):")
        let widest = max(d.max, 1)
        for (shard, count) in d.counts.enumerated() {
            let bar = String(repeating: "#", count: count * 40 / widest)
            lines.append(
                "  shard \(pad(shard, 3))  \(pad(count, 7))  \(percent(Double(count) / Double(max(d.total, 1))))  \(bar)"
            )
        }
        lines.append("")
        lines.append("Spread      min      max     mean   stddev  max/mean")
        lines.append(spreadLine("ring  ", d))
        lines.append(spreadLine("modulo", moduloDistribution))
        lines.append("")
        lines.append("Keys that change shard (ideal for a ring: the new shard's share, or the removed one's):")
        lines.append(
            "  add shard \(n) (\(n) → \(n + 1)):     ring \(percent(ringOnAdd.fraction))  "
                + "modulo \(percent(moduloOnAdd.fraction))  ideal 1/\(n + 1) = \(percent(1 / Double(n + 1)))"
        )
        lines.append(
            "  remove shard \(n - 1) (\(n) → \(n - 1)):  ring \(percent(ringOnRemove.fraction))  "
                + "modulo \(percent(moduloOnRemove.fraction))  ideal 1/\(n) = \(percent(1 / Double(n)))"
        )
        lines.append(
            "  on the ring, moved keys went only to shard(s) \(ringOnAdd.destinations) on add, "
                + "and came only from shard(s) \(ringOnRemove.sources) on remove"
        )
        return lines.joined(separator: "\n")
    }

    private func spreadLine(_ name: String, _ d: ShardDistribution) -> String {
        "  \(name) \(pad(d.min, 7))  \(pad(d.max, 7))  \(String(format: "%7.1f", d.mean))  "
            + "\(String(format: "%7.1f", d.standardDeviation))  \(String(format: "%8.3f", d.maxOverMean))"
    }

    private func pad(_ value: Int, _ width: Int) -> String {
        let text = String(value)
        return String(repeating: " ", count: max(0, width - text.count)) + text
    }

    private func percent(_ fraction: Double) -> String {
        String(format: "%5.1f%%", fraction * 100)
    }
}
