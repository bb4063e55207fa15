import Foundation
import NIOCore
import RESP

/// How a ``Server`` listens, stores and limits, with Redis's defaults and option names.
public struct ServerConfiguration: Sendable {
    /// The addresses to listen on (Redis `bind`). Default `127.0.0.1`.
    public var bindAddresses: [String] = ["127.0.0.1"]
    /// The TCP port (Redis `port`), 0 to 65535; 0 picks a free one (see ``Server/boundPort``).
    /// Default 6379.
    public var port: Int = 6379
    /// The folder of the snapshot file (Redis `dir`). Default the working directory.
    public var directory: String = "."
    /// The snapshot file's name inside ``directory`` (Redis `dbfilename`). Default `dump.kvs`.
    public var snapshotFileName: String = "dump.kvs"
    /// The password every client must give with `AUTH` (Redis `requirepass`); nil: none.
    public var requirePassword: String?
    /// Automatic saves: save when at least `changes` writes happened within `seconds`
    /// (Redis `save`). Empty: never. Default Redis's `3600 1 300 100 60 10000`.
    public var savePoints: [SavePoint] = [
        SavePoint(seconds: 3600, changes: 1), SavePoint(seconds: 300, changes: 100),
        SavePoint(seconds: 60, changes: 10000),
    ]
    /// How many numbered databases (Redis `databases`), 1 to ``maxDatabases``. Default 16.
    public var databases: Int = 16
    /// The most connected clients (Redis `maxclients`), 1 to 4,294,967,295 as in Redis.
    /// Default 10,000.
    public var maxClients: Int = 10_000
    /// Whether a server on a non-loopback address without a password refuses to start
    /// (Redis `protected-mode`). Default true.
    public var protectedMode: Bool = true
    /// The longest bulk string a client may send (Redis `proto-max-bulk-len`). Default 512 MiB.
    public var maxBulkLength: Int = 512 * 1024 * 1024
    /// The most bytes of unprocessed input per client (Redis `client-query-buffer-limit`).
    /// Default 1 GiB.
    public var maxQueryBufferLength: Int = 1024 * 1024 * 1024
    /// The most arguments in one command. Default 1,048,576.
    public var maxArguments: Int = 1024 * 1024
    /// Event loop threads (Redis `io-threads`), 0 to ``maxEventLoopThreads``; 0 = one per
    /// core less one, and at least one. Default 0.
    public var eventLoopThreads: Int = 0
    /// Shards per database store. Default 64.
    public var shardsPerDatabase: Int = 64
    /// Redis `slowlog-log-slower-than`, in microseconds: a command that runs longer goes to
    /// the slow log; -1 turns it off, 0 logs every command. Default 10,000.
    public var slowLogThresholdMicroseconds: Int = 10_000
    /// Redis `slowlog-max-len`: the most slow-log entries kept. Default 128.
    public var slowLogMaxEntries: Int = 128
    /// Redis `latency-monitor-threshold`, in milliseconds: events that last longer are
    /// recorded for LATENCY; 0 turns the monitor off. Default 0.
    public var latencyMonitorThresholdMilliseconds: Int = 0
    /// Redis `hash-max-listpack-entries` (alias `hash-max-ziplist-entries`): a hash with
    /// more fields than this leaves the compact listpack encoding for a hash table.
    /// Default 512.
    public var hashMaxListpackEntries: Int = 512
    /// Redis `hash-max-listpack-value` (alias `hash-max-ziplist-value`): a hash that gets a
    /// field or value longer than this, in bytes, leaves the listpack encoding. Default 64.
    public var hashMaxListpackValue: Int = 64
    /// Redis `list-max-listpack-size` (alias `list-max-ziplist-size`): a list leaves the
    /// compact listpack encoding for a quicklist when one node cannot hold it, and this
    /// bounds each node: -1 to -5 for 4, 8, 16, 32 or 64 KiB, a positive N for N
    /// elements (and at most 8 KiB). Default -2.
    public var listMaxListpackSize: Int = -2
    /// Redis `list-compress-depth`: accepted and answered by CONFIG GET, but kvs-server
    /// never compresses list nodes, whatever its value. Default 0.
    public var listCompressDepth: Int = 0
    /// Redis `set-max-intset-entries`: a set of integers with more members than this
    /// leaves the compact intset encoding for a hash table. Default 512.
    public var setMaxIntsetEntries: Int = 512
    /// Redis `zset-max-listpack-entries` (alias `zset-max-ziplist-entries`): a sorted set
    /// with more members than this leaves the compact listpack encoding for a skip list.
    /// Default 128.
    public var zsetMaxListpackEntries: Int = 128
    /// Redis `zset-max-listpack-value` (alias `zset-max-ziplist-value`): a sorted set that
    /// gets a member longer than this, in bytes, leaves the listpack encoding. Default 64.
    public var zsetMaxListpackValue: Int = 64
    /// Redis `hll-sparse-max-bytes`: a HyperLogLog in the sparse representation that would
    /// grow past this many bytes turns dense (12 KB). Default 3000.
    public var hllSparseMaxBytes: Int = 3000
    /// Redis `lazyfree-lazy-user-flush`: whether FLUSHDB and FLUSHALL without `SYNC` or
    /// `ASYNC` free the old contents in the background, as with `ASYNC`. Default false.
    public var lazyFreeLazyUserFlush: Bool = false
    /// Redis `maxmemory`: the bytes of memory in use (INFO's `used_memory`) past which
    /// the server evicts keys by ``maxMemoryPolicy`` before each command, or refuses
    /// commands that add data when it cannot. 0, the default, sets no limit.
    public var maxMemory: Int = 0
    /// Redis `maxmemory-policy`: what is evicted past ``maxMemory``. Default
    /// ``MaxMemoryPolicy/noEviction``.
    public var maxMemoryPolicy: MaxMemoryPolicy = .noEviction
    /// Redis `maxmemory-samples`: how many keys each eviction round samples, 1 to 2^31 - 1.
    /// Default 5.
    public var maxMemorySamples: Int = 5
    /// Redis `maxmemory-eviction-tenacity`, 0 to 100: how long one command's eviction may
    /// run before the command goes on (50 µs per unit up to 10, then 15% more per unit;
    /// 100: until within the limit). Default 10.
    public var maxMemoryEvictionTenacity: Int = 10
    /// Redis `lfu-log-factor`: how many accesses it takes to raise a key's LFU counter
    /// (the counter reaches 255 after about a million accesses at 10). Default 10.
    public var lfuLogFactor: Int = 10
    /// Redis `lfu-decay-time`: the minutes after which an unused key's LFU counter drops
    /// by one; 0 never. Default 1.
    public var lfuDecayTime: Int = 1
    /// What counts the heap bytes in use: INFO's `used_memory`, and what a `maxmemory`
    /// limit is checked against. Default ``MemoryGauge/mallinfo`` (glibc's `mallinfo2`,
    /// cached for a millisecond); `kvs-server` sets its counting allocator's sum. The
    /// start-up figure is read when the server's state is made; a change after that (CONFIG
    /// SET has no such parameter) has no effect.
    public var memoryGauge: MemoryGauge = .mallinfo

    /// One `save` rule: save when `changes` writes happened in `seconds`.
    public struct SavePoint: Sendable, Hashable {
        /// The window, in seconds.
        public var seconds: Int
        /// The writes needed within the window.
        public var changes: Int
        /// Creates a rule.
        public init(seconds: Int, changes: Int) {
            self.seconds = seconds
            self.changes = changes
        }
    }

    /// A configuration with every default.
    public init() {}

    /// The snapshot file's path.
    public var snapshotPath: String {
        directory.hasSuffix("/") ? directory + snapshotFileName : directory + "/" + snapshotFileName
    }

    /// Parses Redis's `save` syntax: `""` (never) or pairs `"SECONDS CHANGES ..."`
    /// (`SECONDS:CHANGES` is accepted too).
    ///
    /// - Returns: the rules, or nil when the text is not such pairs.
    package static func parseSavePoints(_ text: String) -> [SavePoint]? {
        let words = text.split(whereSeparator: { $0 == " " || $0 == ":" || $0 == "," }).map(String.init)
        guard words.count % 2 == 0 else { return nil }
        var points: [SavePoint] = []
        var i = 0
        while i < words.count {
            guard let s = Int(words[i]), let c = Int(words[i + 1]), s > 0, c >= 0 else { return nil }
            points.append(SavePoint(seconds: s, changes: c))
            i += 2
        }
        return points
    }

    /// The save rules in Redis's `CONFIG GET save` form (`3600 1 300 100`).
    package var savePointsDescription: String {
        savePoints.map { "\($0.seconds) \($0.changes)" }.joined(separator: " ")
    }

    var decoderLimits: RESPDecoder.Limits {
        RESPDecoder.Limits(maxBulkLength: maxBulkLength, maxArgumentCount: maxArguments)
    }
}

extension ServerConfiguration {
    /// The event loops a server with this configuration runs: ``eventLoopThreads`` when it
    /// is positive, otherwise one per core less one, and at least one.
    public var resolvedEventLoopThreads: Int {
        eventLoopThreads > 0 ? eventLoopThreads : Self.defaultEventLoopThreads(coreCount: System.coreCount)
    }

    /// The default number of event loops on a machine with `coreCount` cores: one per core
    /// less one, and at least one, so that a core is left for the kernel's network work
    /// and for the clients when they run on the same machine (Redis gives the same advice
    /// for its `io-threads`). On two cores shared with the client, a second loop spends its
    /// gain waking up in `epoll_wait` (docs/design/server-request-path.md has the
    /// measurement). Where other processes keep the cores busy, or the
    /// clients are elsewhere and the load is heavily pipelined, `--io-threads` with the
    /// core count can do better.
    package static func defaultEventLoopThreads(coreCount: Int) -> Int {
        max(1, coreCount - 1)
    }
}

extension ServerConfiguration {
    /// The most databases a server may have: each is a sharded store allocated at start-up,
    /// so a mistyped count (`--databases 1000000`) would take the machine's memory before
    /// the first connection.
    public static let maxDatabases = 1024

    /// The most event loop threads, as Redis bounds `io-threads` (1 to 128).
    public static let maxEventLoopThreads = 128

    /// The largest `maxclients`, as in Redis (an unsigned 32-bit count).
    static let maxClientsLimit = 4_294_967_295

    /// Checks every setting before the server binds: ranges, the bind addresses' syntax, the
    /// snapshot file's name, and that ``directory`` exists and can be written (by creating
    /// and removing a file in it, so that a save cannot be the first to find out).
    ///
    /// - Throws: ``Server/StartupError`` naming the setting (``Server/StartupError/parameter``)
    ///   and the problem.
    public func validate() throws(Server.StartupError) {
        func refuse(_ parameter: String, _ problem: String) -> Server.StartupError {
            Server.StartupError(parameter: parameter, description: problem)
        }
        guard (0...65535).contains(port) else {
            throw refuse("port", "port \(port) is out of range: give a port from 0 to 65535 (0 picks a free one)")
        }
        guard !bindAddresses.isEmpty else { throw refuse("bind", "bind names no address to listen on") }
        for address in bindAddresses where !Self.isAddress(address) {
            throw refuse("bind", "bind address '\(address)' is not an IPv4 or IPv6 address")
        }
        guard (1...Self.maxDatabases).contains(databases) else {
            throw refuse(
                "databases",
                "databases \(databases) is out of range: give a count from 1 to \(Self.maxDatabases)"
            )
        }
        guard (1...Self.maxClientsLimit).contains(maxClients) else {
            throw refuse(
                "maxclients",
                "maxclients \(maxClients) is out of range: give a count from 1 to \(Self.maxClientsLimit)"
            )
        }
        guard maxBulkLength >= 1 else {
            throw refuse(
                "proto-max-bulk-len",
                "proto-max-bulk-len \(maxBulkLength) is not a length: give at least 1 byte"
            )
        }
        guard maxQueryBufferLength >= 1 else {
            throw refuse(
                "client-query-buffer-limit",
                "client-query-buffer-limit \(maxQueryBufferLength) is not a length: give at least 1 byte"
            )
        }
        guard maxArguments >= 1 else {
            throw refuse("max-arguments", "the argument limit \(maxArguments) must be at least 1")
        }
        guard (0...Self.maxEventLoopThreads).contains(eventLoopThreads) else {
            throw refuse(
                "io-threads",
                "io-threads \(eventLoopThreads) is out of range: give a count from 1 to \(Self.maxEventLoopThreads), "
                    + "or 0 for one per core less one"
            )
        }
        if let bad = savePoints.first(where: { $0.seconds < 1 || $0.changes < 0 }) {
            throw refuse(
                "save",
                "save rule '\(bad.seconds) \(bad.changes)' is invalid: the seconds must be at least 1 "
                    + "and the changes at least 0"
            )
        }
        guard !snapshotFileName.isEmpty, !snapshotFileName.contains("/") else {
            throw refuse("dbfilename", "dbfilename '\(snapshotFileName)' must be a file name, not empty and not a path")
        }
        if let problem = Self.writableDirectoryProblem(directory) {
            throw refuse("dir", problem)
        }
    }

    /// Whether `text` is an IPv4 or IPv6 address literal, or `localhost`.
    static func isAddress(_ text: String) -> Bool {
        if text == "localhost" { return true }
        var v4 = in_addr()
        var v6 = in6_addr()
        return inet_pton(AF_INET, text, &v4) == 1 || inet_pton(AF_INET6, text, &v6) == 1
    }

    /// Why `path` cannot hold the snapshot (it is missing, not a folder, or a file cannot be
    /// created in it), or nil when it can.
    static func writableDirectoryProblem(_ path: String) -> String? {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            return "dir '\(path)' does not exist"
        }
        guard isDirectory.boolValue else { return "dir '\(path)' is not a folder" }
        let probe = (path.hasSuffix("/") ? path : path + "/") + ".kvs-write-test-\(getpid())"
        let fd = open(probe, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        guard fd >= 0 else {
            return "dir '\(path)' cannot be written: \(String(cString: strerror(errno)))"
        }
        close(fd)
        unlink(probe)
        return nil
    }
}
