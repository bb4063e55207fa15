import Foundation
import RESP

/// One parameter of CONFIG GET and CONFIG SET: its Redis name, how to read it from the
/// configuration in effect, and whether and how it changes at run time.
///
/// The table (``all``) holds exactly what the server implements: a parameter Redis has and
/// kvs does not (`appendonly`, `maxmemory`...) is absent, so CONFIG GET leaves it out and
/// CONFIG SET answers Redis's error for an unknown parameter. Adding one is one entry here.
struct ConfigParameter: Sendable {
    /// Why a value was refused: Redis's text after `CONFIG SET failed (...) - `.
    struct Refusal: Error {
        let reason: String
    }

    /// How a parameter changes at run time.
    enum Change: Sendable {
        /// CONFIG SET checks the text and applies it to a copy of the configuration.
        case runtime(@Sendable (inout ServerConfiguration, String) throws(Refusal) -> Void)
        /// Fixed at start-up (`can't set immutable config`).
        case immutable
        /// Fixed at start-up, as Redis fixes its protected parameters while
        /// `enable-protected-configs` is `no`, its default (`can't set protected config`).
        case protected
    }

    /// The lowercase name.
    let name: String
    /// The value in CONFIG GET's form.
    let value: @Sendable (ServerConfiguration) -> String
    /// Whether CONFIG SET may change it, and how.
    let change: Change

    /// The index in ``all`` of the parameter named `name` (any case), or nil.
    static func index(of name: String) -> Int? {
        let lower = name.lowercased()
        return all.firstIndex { $0.name == lower }
    }

    /// Every parameter, in CONFIG GET's order.
    static let all: [ConfigParameter] = [
        ConfigParameter(name: "bind", value: { $0.bindAddresses.joined(separator: " ") }, change: .immutable),
        ConfigParameter(name: "port", value: { String($0.port) }, change: .immutable),
        ConfigParameter(name: "dir", value: { absolutePath($0.directory) }, change: .protected),
        ConfigParameter(name: "dbfilename", value: { $0.snapshotFileName }, change: .protected),
        ConfigParameter(
            name: "requirepass",
            value: { $0.requirePassword ?? "" },
            change: .runtime { config, text in config.requirePassword = text.isEmpty ? nil : text }
        ),
        ConfigParameter(
            name: "save",
            value: { $0.savePointsDescription },
            change: .runtime { config, text throws(Refusal) in
                guard let points = strictSavePoints(text) else { throw Refusal(reason: "Invalid save parameters") }
                config.savePoints = points
            }
        ),
        ConfigParameter(name: "databases", value: { String($0.databases) }, change: .immutable),
        ConfigParameter(
            name: "maxclients",
            value: { String($0.maxClients) },
            change: .runtime { config, text throws(Refusal) in
                config.maxClients = try integer(text, in: 1...Int64(ServerConfiguration.maxClientsLimit))
            }
        ),
        // Checked only when the server binds: a change could not take effect.
        ConfigParameter(name: "protected-mode", value: { $0.protectedMode ? "yes" : "no" }, change: .immutable),
        // Read by each connection when it opens: a change applies to the connections opened after it.
        ConfigParameter(
            name: "proto-max-bulk-len",
            value: { String($0.maxBulkLength) },
            change: .runtime { config, text throws(Refusal) in
                config.maxBulkLength = try memory(text, in: 1024 * 1024...Int64.max)
            }
        ),
        ConfigParameter(
            name: "client-query-buffer-limit",
            value: { String($0.maxQueryBufferLength) },
            change: .runtime { config, text throws(Refusal) in
                config.maxQueryBufferLength = try memory(text, in: 1024 * 1024...Int64.max)
            }
        ),
        ConfigParameter(name: "io-threads", value: { String($0.resolvedEventLoopThreads) }, change: .immutable),
        ConfigParameter(
            name: "slowlog-log-slower-than",
            value: { String($0.slowLogThresholdMicroseconds) },
            change: .runtime { config, text throws(Refusal) in
                config.slowLogThresholdMicroseconds = try integer(text, in: -1...Int64.max)
            }
        ),
        ConfigParameter(
            name: "slowlog-max-len",
            value: { String($0.slowLogMaxEntries) },
            change: .runtime { config, text throws(Refusal) in
                config.slowLogMaxEntries = try integer(text, in: 0...Int64.max)
            }
        ),
        ConfigParameter(
            name: "latency-monitor-threshold",
            value: { String($0.latencyMonitorThresholdMilliseconds) },
            change: .runtime { config, text throws(Refusal) in
                config.latencyMonitorThresholdMilliseconds = try integer(text, in: 0...Int64.max)
            }
        ),
        // When a hash leaves the listpack encoding, each also under its older `ziplist` name
        // (CONFIG GET lists both names, as Redis does).
        hashMaxEntries("hash-max-listpack-entries"), hashMaxEntries("hash-max-ziplist-entries"),
        hashMaxValue("hash-max-listpack-value"), hashMaxValue("hash-max-ziplist-value"),
        // A list's node limit, also under its older `ziplist` name.
        listMaxSize("list-max-listpack-size"), listMaxSize("list-max-ziplist-size"),
        // Accepted for Redis's configuration files; nodes are never compressed.
        ConfigParameter(
            name: "list-compress-depth",
            value: { String($0.listCompressDepth) },
            change: .runtime { config, text throws(Refusal) in
                config.listCompressDepth = try integer(text, in: 0...Int64(Int32.max))
            }
        ),
        // When a set of integers leaves the intset encoding (Redis 7.0 has no set listpack,
        // so no `set-max-listpack-*`).
        ConfigParameter(
            name: "set-max-intset-entries",
            value: { String($0.setMaxIntsetEntries) },
            change: .runtime { config, text throws(Refusal) in
                config.setMaxIntsetEntries = try integer(text, in: 0...Int64.max)
            }
        ),
        // When a sorted set leaves the listpack encoding, under both names too.
        zsetMaxEntries("zset-max-listpack-entries"), zsetMaxEntries("zset-max-ziplist-entries"),
        zsetMaxValue("zset-max-listpack-value"), zsetMaxValue("zset-max-ziplist-value"),
        // When a sparse HyperLogLog turns dense (a memory amount up to a C `long`, as in Redis).
        ConfigParameter(
            name: "hll-sparse-max-bytes",
            value: { String($0.hllSparseMaxBytes) },
            change: .runtime { config, text throws(Refusal) in
                config.hllSparseMaxBytes = try memory(text, in: 0...Int64.max)
            }
        ),
        // Whether FLUSHDB and FLUSHALL without SYNC or ASYNC free in the background.
        ConfigParameter(
            name: "lazyfree-lazy-user-flush",
            value: { $0.lazyFreeLazyUserFlush ? "yes" : "no" },
            change: .runtime { config, text throws(Refusal) in config.lazyFreeLazyUserFlush = try yesNo(text) }
        ),
        // The memory limit and what is evicted past it (a lowered limit evicts at once).
        // Redis takes limits up to 2^64 - 1; past 2^63 - 1 (no limit, in effect) kvs refuses.
        ConfigParameter(
            name: "maxmemory",
            value: { String($0.maxMemory) },
            change: .runtime { config, text throws(Refusal) in
                config.maxMemory = try memory(text, in: 0...Int64.max)
            }
        ),
        ConfigParameter(
            name: "maxmemory-policy",
            value: { $0.maxMemoryPolicy.rawValue },
            change: .runtime { config, text throws(Refusal) in
                guard let policy = MaxMemoryPolicy(rawValue: text.lowercased()) else {
                    let names = MaxMemoryPolicy.redisOrder.map(\.rawValue).joined(separator: ", ")
                    throw Refusal(reason: "argument(s) must be one of the following: \(names)")
                }
                config.maxMemoryPolicy = policy
            }
        ),
        ConfigParameter(
            name: "maxmemory-samples",
            value: { String($0.maxMemorySamples) },
            change: .runtime { config, text throws(Refusal) in
                config.maxMemorySamples = try integer(text, in: 1...Int64(Int32.max))
            }
        ),
        ConfigParameter(
            name: "maxmemory-eviction-tenacity",
            value: { String($0.maxMemoryEvictionTenacity) },
            change: .runtime { config, text throws(Refusal) in
                config.maxMemoryEvictionTenacity = try integer(text, in: 0...100)
            }
        ),
        ConfigParameter(
            name: "lfu-log-factor",
            value: { String($0.lfuLogFactor) },
            change: .runtime { config, text throws(Refusal) in
                config.lfuLogFactor = try integer(text, in: 0...Int64(Int32.max))
            }
        ),
        ConfigParameter(
            name: "lfu-decay-time",
            value: { String($0.lfuDecayTime) },
            change: .runtime { config, text throws(Refusal) in
                config.lfuDecayTime = try integer(text, in: 0...Int64(Int32.max))
            }
        ),
    ]

    /// `list-max-listpack-size` under `name` (Redis's range: a C `int`).
    static func listMaxSize(_ name: String) -> ConfigParameter {
        ConfigParameter(
            name: name,
            value: { String($0.listMaxListpackSize) },
            change: .runtime { config, text throws(Refusal) in
                config.listMaxListpackSize = try integer(text, in: Int64(Int32.min)...Int64(Int32.max))
            }
        )
    }

    /// `hash-max-listpack-entries` under `name`.
    static func hashMaxEntries(_ name: String) -> ConfigParameter {
        ConfigParameter(
            name: name,
            value: { String($0.hashMaxListpackEntries) },
            change: .runtime { config, text throws(Refusal) in
                config.hashMaxListpackEntries = try integer(text, in: 0...Int64.max)
            }
        )
    }

    /// `hash-max-listpack-value` under `name` (a memory amount, as in Redis).
    static func hashMaxValue(_ name: String) -> ConfigParameter {
        ConfigParameter(
            name: name,
            value: { String($0.hashMaxListpackValue) },
            change: .runtime { config, text throws(Refusal) in
                config.hashMaxListpackValue = try memory(text, in: 0...Int64.max)
            }
        )
    }

    /// `zset-max-listpack-entries` under `name`.
    static func zsetMaxEntries(_ name: String) -> ConfigParameter {
        ConfigParameter(
            name: name,
            value: { String($0.zsetMaxListpackEntries) },
            change: .runtime { config, text throws(Refusal) in
                config.zsetMaxListpackEntries = try integer(text, in: 0...Int64.max)
            }
        )
    }

    /// `zset-max-listpack-value` under `name` (a memory amount, as in Redis).
    static func zsetMaxValue(_ name: String) -> ConfigParameter {
        ConfigParameter(
            name: name,
            value: { String($0.zsetMaxListpackValue) },
            change: .runtime { config, text throws(Refusal) in
                config.zsetMaxListpackValue = try memory(text, in: 0...Int64.max)
            }
        )
    }

    // MARK: Value parsers, with Redis's refusals (config.c)

    /// `yes` or `no`, in any case.
    static func yesNo(_ text: String) throws(Refusal) -> Bool {
        switch text.lowercased() {
        case "yes": return true
        case "no": return false
        default: throw Refusal(reason: "argument must be 'yes' or 'no'")
        }
    }

    /// A strict decimal integer in `range`.
    static func integer(_ text: String, in range: ClosedRange<Int64>) throws(Refusal) -> Int {
        guard let n = RedisNumber.parseInt64(text.utf8) else {
            throw Refusal(reason: "argument couldn't be parsed into an integer")
        }
        guard range.contains(n) else {
            throw Refusal(reason: "argument must be between \(range.lowerBound) and \(range.upperBound) inclusive")
        }
        // Int is 64 bits on every platform the server builds for.
        return Int(n)
    }

    /// A memory amount (`memtoull`): digits, then an optional unit `b`, `k` (1000), `kb`
    /// (1024), `m`, `mb`, `g` or `gb`, any case; in `range`.
    static func memory(_ text: String, in range: ClosedRange<Int64>) throws(Refusal) -> Int {
        let notMemory = Refusal(reason: "argument must be a memory value")
        let outOfRange = Refusal(
            reason: "argument must be between \(range.lowerBound) and \(range.upperBound) inclusive"
        )
        let bytes = Array(text.utf8)
        let digitCount = bytes.prefix { $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }.count
        let unit: UInt64
        switch String(decoding: bytes[digitCount...], as: UTF8.self).lowercased() {
        case "", "b": unit = 1
        case "k": unit = 1000
        case "kb": unit = 1024
        case "m": unit = 1000 * 1000
        case "mb": unit = 1024 * 1024
        case "g": unit = 1000 * 1000 * 1000
        case "gb": unit = 1024 * 1024 * 1024
        default: throw notMemory
        }
        var value: UInt64 = 0
        for digit in bytes[..<digitCount] {
            let (times10, o1) = value.multipliedReportingOverflow(by: 10)
            let (sum, o2) = times10.addingReportingOverflow(UInt64(digit - UInt8(ascii: "0")))
            guard !o1, !o2 else { throw outOfRange }
            value = sum
        }
        let (total, overflow) = value.multipliedReportingOverflow(by: unit)
        guard !overflow, total <= UInt64(Int64.max), range.contains(Int64(total)) else { throw outOfRange }
        return Int(total)
    }

    /// Redis's `save` syntax for CONFIG SET: `""`, or pairs of integers separated by single
    /// spaces, each `SECONDS CHANGES` with SECONDS at least 1 and CHANGES at least 0.
    static func strictSavePoints(_ text: String) -> [ServerConfiguration.SavePoint]? {
        if text.isEmpty { return [] }
        let words = text.split(separator: " ", omittingEmptySubsequences: false)
        guard words.count % 2 == 0 else { return nil }
        var points: [ServerConfiguration.SavePoint] = []
        var i = 0
        while i < words.count {
            guard let seconds = Int(words[i]), let changes = Int(words[i + 1]), seconds >= 1, changes >= 0 else {
                return nil
            }
            points.append(ServerConfiguration.SavePoint(seconds: seconds, changes: changes))
            i += 2
        }
        return points
    }

    /// `path` made absolute, as Redis answers CONFIG GET dir (its working directory).
    static func absolutePath(_ path: String) -> String {
        guard let resolved = realpath(path, nil) else { return path }
        defer { free(resolved) }
        return String(cString: resolved)
    }
}

extension ServerConfiguration {
    /// Why ``set(parameter:to:)`` refused a value: Redis's reason.
    public struct ParameterError: Error, CustomStringConvertible {
        /// The reason, as CONFIG SET words it.
        public let description: String
    }

    /// Sets the parameter Redis names `name` (any case) from `text`, as `CONFIG SET` would
    /// (`maxmemory 100mb`, `maxmemory-policy allkeys-lru`): how `kvs-server` takes the
    /// parameters that have no option of their own.
    ///
    /// - Throws: ``ParameterError`` for an unknown parameter, one fixed at start-up that
    ///   has its own property, or a value CONFIG SET refuses; the configuration is then
    ///   unchanged.
    public mutating func set(parameter name: String, to text: String) throws(ParameterError) {
        guard let index = ConfigParameter.index(of: name) else {
            throw ParameterError(description: "unknown parameter '\(name)'")
        }
        guard case .runtime(let apply) = ConfigParameter.all[index].change else {
            throw ParameterError(description: "'\(name)' is set by its own option")
        }
        do {
            try apply(&self, text)
        } catch {
            throw ParameterError(description: "'\(name)' \(error.reason)")
        }
    }
}
