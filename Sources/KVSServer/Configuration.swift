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
    /// Event loop threads; 0 = one per core. Default 0.
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
