import CKVSHeap
import KVS
import NIOCore

/// MEMORY USAGE, STATS, DOCTOR, MALLOC-STATS, PURGE and HELP.
///
/// USAGE counts what the key occupies in the store's real layout (docs/kvs-server.md,
/// "Memory per key"): its table slot (the key inline, up to 22 bytes, and the value's
/// reference and write stamp) and tag byte, a longer key's own heap block, the value's
/// blocks as malloc sizes them, and for a TTL its deadline beside the table and its item
/// in the shard's expiry index. Like Redis, which counts a key's entry but not the empty
/// buckets of its table, it leaves out the table's free slots. STATS gives Redis's
/// fields: the totals (now, at start-up, at the peak) from the server's memory gauge, the
/// allocator figures from glibc's `mallinfo2`, the tables' bytes per database from the
/// engines, and 0 for what kvs does not have (replication, AOF, Lua, cluster links) or
/// does not track (client buffers).
enum MemoryCommands {
    static let all: [CommandSpec] = [
        .session(
            "memory",
            arity: -2,
            flags: [],
            group: "server",
            summary: "A container for memory diagnostics commands.",
            subcommands: subcommands,
            memory
        )
    ]

    /// The subcommands and their Redis arities.
    static let subcommands = ["help": 2, "usage": -3, "stats": 2, "doctor": 2, "malloc-stats": 2, "purge": 2]

    static let help = [
        "MEMORY <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
        "DOCTOR",
        "    Return memory problems reports.",
        "MALLOC-STATS",
        "    Return internal statistics report from the memory allocator.",
        "PURGE",
        "    Attempt to purge dirty pages for reclamation by the allocator.",
        "STATS",
        "    Return information about the memory usage of the server.",
        "USAGE <key> [SAMPLES <count>]",
        "    Return memory in bytes used by <key> and its value. Nested values are",
        "    sampled up to <count> times (default: 5, 0 means sample all).",
        "HELP",
        "    Prints this help.",
    ]

    /// The bytes of one item of a shard's expiry index (a deadline and a table hash).
    static let expiryItemBytes = MemoryReport.expiryItemBytes
    /// The bytes of one table slot (the key and the stored value) and its tag byte.
    static let slotBytes = MemoryLayout<(ByteKey, StoredValue)>.stride + 1
    /// The bytes of an entry's deadline beside its table: the deadline, its bit and its
    /// home-distance byte, rounded to a whole byte.
    static let deadlineBytes = MemoryLayout<Int64>.stride + 1

    static func memory(_ c: inout SessionCall) throws {
        if let error = CommandSpec.subcommandError(command: "memory", subcommands: subcommands, c.args) { throw error }
        switch c.option(1) {
        case "HELP":
            c.arrayHeader(help.count)
            for line in help { c.simple(line) }
        case "USAGE":
            try usage(&c)
        case "STATS":
            stats(&c)
        case "DOCTOR":
            if c.server.memory.usedBytes() < 5 * 1024 * 1024 {
                c.verbatim(
                    "Hi Sam, this instance is empty or is using very little memory, my issues detector can't be used in these conditions. Please, leave for your mission on Earth and fill it with some data. The new Sam and I will be back to our programming as soon as I finished rebooting.\n"
                )
            } else {
                c.verbatim(
                    "Hi Sam, kvs runs none of Redis's memory issue detectors: it does not track fragmentation over time or client buffers. MEMORY STATS has the figures it has.\n"
                )
            }
        case "MALLOC-STATS":
            // Redis's reply when it is built with libc's malloc, as kvs is.
            c.verbatim("Stats not supported for the current allocator")
        default:  // PURGE
            _ = ckvs_heap_trim()  // hands free heap pages back to the system
            c.ok()
        }
    }

    /// MEMORY USAGE key [SAMPLES count]: SAMPLES is checked as Redis checks it (a
    /// non-negative 64-bit integer) and has nothing to sample: a string has no elements.
    static func usage(_ c: inout SessionCall) throws {
        var i = 3
        while i < c.count {
            guard c.option(i) == "SAMPLES", i + 1 < c.count else { throw CommandError.syntax }
            guard try c.integer(i + 1) >= 0 else { throw CommandError.syntax }
            i += 2
        }
        let key = c.call.key(2)
        let engine = c.database.engine
        guard let entry = try engine.readEntry(key, { entry, _ in entry }) else {
            c.null()
            return
        }
        c.integer(reply: usage(key: key, entry: entry))
    }

    /// The bytes `key` and its entry take, by MEMORY USAGE's estimate: the slot, the
    /// value's blocks, the key's own block if it is not inline, the deadline.
    ///
    /// - Complexity: O(1) for a string or a compact collection, O(n) for a large one.
    static func usage(key: ByteKey, entry: Entry<StoredValue>) -> Int {
        var total = slotBytes + entry.value.heapBytes
        if key.count > ByteKey.inlineCapacity {
            total += MallocSize.chunk(requesting: 32 + key.count)  // an array's 32-byte header, then the bytes
        }
        if entry.hasExpiry { total += deadlineBytes + expiryItemBytes }
        return total
    }

    /// MEMORY STATS, in Redis 7's field order. The totals, start-up, peak and dataset
    /// figures are the server's gauge (``MemoryReport``); the `allocator.*` ones are glibc's
    /// `mallinfo2`, as Redis gives its allocator's own figures there.
    static func stats(_ c: inout SessionCall) {
        let report = MemoryReport(c.server)
        let heap = Heap.current()
        let rss = InfoCommand.residentBytes()
        let databases = report.databases
        let keys = report.keys

        func ratio(_ a: Int, _ b: Int) -> Double { b == 0 ? 0 : Double(a) / Double(b) }
        c.mapHeader(27 + databases.count)
        func field(_ name: String, _ value: Int, _ c: inout SessionCall) {
            c.bulk(name)
            c.integer(reply: value)
        }
        func field(_ name: String, _ value: Double, _ c: inout SessionCall) {
            c.bulk(name)
            c.encoder.writeDouble(value, into: &c.call.out)
        }
        field("peak.allocated", report.peak, &c)
        field("total.allocated", report.used, &c)
        field("startup.allocated", report.startup, &c)
        field("replication.backlog", 0, &c)
        field("clients.slaves", 0, &c)
        field("clients.normal", 0, &c)
        field("cluster.links", 0, &c)
        field("aof.buffer", 0, &c)
        field("lua.caches", 0, &c)
        field("functions.caches", 0, &c)
        for db in databases {
            c.bulk("db.\(db.index)")
            c.mapHeader(3)
            field("overhead.hashtable.main", db.main, &c)
            field("overhead.hashtable.expires", db.expires, &c)
            field("overhead.hashtable.slot-to-keys", 0, &c)
        }
        field("overhead.total", report.overhead, &c)
        field("keys.count", keys, &c)
        // Redis: (total - startup) / keys.
        field("keys.bytes-per-key", keys == 0 ? 0 : max(0, report.used - report.startup) / keys, &c)
        field("dataset.bytes", report.dataset, &c)
        field("dataset.percentage", report.datasetPercentage, &c)
        field("peak.percentage", report.peakPercentage, &c)
        field("allocator.allocated", heap.allocated, &c)
        field("allocator.active", heap.active, &c)
        field("allocator.resident", rss, &c)
        field("allocator-fragmentation.ratio", ratio(heap.active, heap.allocated), &c)
        field("allocator-fragmentation.bytes", heap.active - heap.allocated, &c)
        field("allocator-rss.ratio", ratio(rss, heap.active), &c)
        field("allocator-rss.bytes", rss - heap.active, &c)
        field("rss-overhead.ratio", 1.0, &c)
        field("rss-overhead.bytes", 0, &c)
        field("fragmentation", ratio(rss, report.used), &c)
        field("fragmentation.bytes", rss - report.used, &c)
    }
}

/// The process's heap as glibc's malloc reports it (`mallinfo2`; zeros elsewhere).
struct Heap {
    /// Bytes in chunks handed out.
    var allocated: Int
    /// Bytes the heap holds from the system.
    var active: Int

    static func current() -> Heap {
        var allocated = 0
        var held = 0
        ckvs_heap_usage(&allocated, &held)
        return Heap(allocated: allocated, active: held)
    }
}
