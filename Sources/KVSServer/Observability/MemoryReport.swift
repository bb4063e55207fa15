/// The memory figures INFO memory and MEMORY STATS share, computed as Redis's
/// `getMemoryOverheadData` computes them, from the server's ``ServerMemory`` gauge.
///
/// Redis's overhead is its start-up memory, client and replication buffers, and its
/// dictionaries' tables; the dataset is the rest. kvs counts the start-up figure and each
/// database's tables (slots, tags, deadlines, expiry-index items). It does not count its
/// clients' buffers (NIO's buffers have no cheap per-connection total): they fall in the
/// dataset, as do a value's own blocks, which is where Redis puts those.
struct MemoryReport {
    /// One database's table bytes: its key table and its expiry index.
    struct Tables {
        var index: Int
        var main: Int
        var expires: Int
    }

    /// The gauge now (`used_memory`, `total.allocated`).
    var used: Int
    /// The highest gauge figure seen, this one included.
    var peak: Int
    /// The gauge when the server's state was made.
    var startup: Int
    /// The non-empty databases' tables.
    var databases: [Tables]
    /// How many keys all databases hold.
    var keys: Int

    /// The bytes of one item of a shard's expiry index (a deadline and a table hash).
    static let expiryItemBytes = 16

    /// Reads the gauge once and sizes every non-empty database's tables (each shard under
    /// its lock).
    ///
    /// - Complexity: O(databases × shards).
    init(_ server: ServerState) {
        used = server.memory.usedBytes()
        peak = max(used, server.memory.peakBytes)
        startup = server.memory.startupBytes
        databases = []
        keys = 0
        for db in server.databases where db.engine.count > 0 {
            let engine = db.engine
            var main = 0
            for shard in 0..<engine.shardCount {
                main += engine.withLockedShard(at: shard) { _, state in state.table.allocatedByteCount }
            }
            databases.append(
                Tables(index: db.index, main: main, expires: engine.countWithExpiry * Self.expiryItemBytes)
            )
            keys += engine.count
        }
    }

    /// The tables' bytes over all databases.
    var tables: Int { databases.reduce(0) { $0 + $1.main + $1.expires } }

    /// `used_memory_overhead` / `overhead.total`: the start-up memory and the tables.
    var overhead: Int { startup + tables }

    /// `used_memory_dataset` / `dataset.bytes`: what is in use beyond the overhead, at
    /// least 0 (at most ``used``).
    var dataset: Int { max(0, used - overhead) }

    /// `used_memory_dataset_perc` / `dataset.percentage`: the dataset's share of the memory
    /// used since start-up, in percent (Redis divides by 1 when nothing was added).
    var datasetPercentage: Double {
        let net = used > startup ? used - startup : 1
        return Double(dataset) * 100 / Double(net)
    }

    /// `used_memory_peak_perc` / `peak.percentage`: the figure now as a share of the peak,
    /// in percent.
    var peakPercentage: Double { peak == 0 ? 0 : Double(used) * 100 / Double(peak) }
}
