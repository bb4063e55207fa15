import NIOCore
import RESP

/// How a ``Server`` listens, stores and limits, with Redis's defaults and option names.
public struct ServerConfiguration: Sendable {
    /// The addresses to listen on (Redis `bind`). Default `127.0.0.1`.
    public var bindAddresses: [String] = ["127.0.0.1"]
    /// The TCP port (Redis `port`); 0 picks a free one (see ``Server/boundPort``). Default 6379.
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
        SavePoint(seconds: 3600, changes: 1), SavePoint(seconds: 300, changes: 100), SavePoint(seconds: 60, changes: 10000),
    ]
    /// How many numbered databases (Redis `databases`). Default 16.
    public var databases: Int = 16
    /// The most connected clients (Redis `maxclients`). Default 10,000.
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
    /// Event loop threads (Redis `io-threads`); 0 = one per core less one, and at least
    /// one (``defaultEventLoopThreads(coreCount:)``). Default 0.
    public var eventLoopThreads: Int = 0
    /// Shards per database store. Default 64.
    public var shardsPerDatabase: Int = 64

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
    public static func parseSavePoints(_ text: String) -> [SavePoint]? {
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
    public var savePointsDescription: String {
        savePoints.map { "\($0.seconds) \($0.changes)" }.joined(separator: " ")
    }

    var decoderLimits: RESPDecoder.Limits {
        RESPDecoder.Limits(maxBulkLength: maxBulkLength, maxArgumentCount: maxArguments)
    }
}

extension ServerConfiguration {
    /// The event loops a server with this configuration runs: ``eventLoopThreads`` when it
    /// is positive, otherwise ``defaultEventLoopThreads(coreCount:)`` for this machine.
    public var resolvedEventLoopThreads: Int {
        eventLoopThreads > 0 ? eventLoopThreads : Self.defaultEventLoopThreads(coreCount: System.coreCount)
    }

    /// The default number of event loops on a machine with `coreCount` cores: one per core
    /// less one, and at least one, so that a core is left for the kernel's network work
    /// and for the clients when they run on the same machine (Redis gives the same advice
    /// for its `io-threads`).
    ///
    /// Measured on a 2-core machine with `redis-benchmark` on it (`scripts/bench-server.sh`,
    /// 3 alternating rounds): one loop met all four throughput rows against `redis-server`
    /// (pipeline 1: SET 1.01-1.07×, GET 1.02-1.09×; pipeline 16: SET 1.01-1.06×, GET
    /// 1.23-1.28×), two loops met a pipeline-1 row once in the three rounds (SET
    /// 0.97-1.01×, GET 0.88-0.97×; pipeline 16: SET 1.18-1.24×, GET 1.11-1.12×). Two loops
    /// spend more time waking up in `epoll_wait` on two cores shared with the client (see
    /// BENCHMARKS.md, "Event loops"). Where other processes keep the cores busy, or the
    /// clients are elsewhere and the load is heavily pipelined, `--io-threads` with the
    /// core count can do better.
    public static func defaultEventLoopThreads(coreCount: Int) -> Int {
        max(1, coreCount - 1)
    }
}
