import Foundation
import KVS
import Logging
import NIOCore
import RESP
import Synchronization

/// What every connection shares: the databases, the command table, settings that
/// CONFIG SET may change, statistics, and the persistence state.
///
/// Thread-safety: thread-safe (immutable references, atomics and mutexes).
package final class ServerState: Sendable {
    /// The configuration in effect: the start-up one, with what CONFIG SET changed since.
    private let live: Locked<ServerConfiguration>
    package let databases: [Database]
    package let commands: CommandTable
    package let stamps = StampSource()
    package let logger: Logger
    package let persistence: Persistence
    package let clients = ClientRegistry()
    /// Per-command calls, time and errors (INFO commandstats and errorstats).
    package let statistics: CommandStatistics
    /// SLOWLOG's entries and its `slowlog-log-slower-than` / `slowlog-max-len` settings.
    package let slowLog = SlowLog()
    /// LATENCY's events and its `latency-monitor-threshold` setting.
    package let latency = LatencyMonitor()
    /// `hash-max-listpack-entries` and `hash-max-listpack-value`, read by every hash write.
    private let hashMaxListpackEntries = Atomic<Int>(HashLimits.redisDefaults.maxListpackEntries)
    private let hashMaxListpackValue = Atomic<Int>(HashLimits.redisDefaults.maxListpackValue)
    /// `list-max-listpack-size`, read by every list write.
    private let listMaxListpackSize = Atomic<Int>(ListLimits.redisDefaults.fill)
    /// `set-max-intset-entries`, read by every set write.
    private let setMaxIntsetEntries = Atomic<Int>(SetLimits.redisDefaults.maxIntsetEntries)
    /// `zset-max-listpack-entries` and `zset-max-listpack-value`, read by every sorted-set write.
    private let zsetMaxListpackEntries = Atomic<Int>(ZSetLimits.redisDefaults.maxListpackEntries)
    private let zsetMaxListpackValue = Atomic<Int>(ZSetLimits.redisDefaults.maxListpackValue)
    /// `hll-sparse-max-bytes`, read by PFADD and PFMERGE.
    private let hllSparseMaxBytesSetting = Atomic<Int>(HyperLogLog.defaultSparseMaxBytes)
    /// `lazyfree-lazy-user-flush`, read by FLUSHDB and FLUSHALL.
    private let lazyUserFlushSetting = Atomic<Bool>(false)
    /// Whether anyone MONITORs or a CLIENT PAUSE is in force (checked once per command).
    package let observation: ObservationFlags
    /// The MONITOR connections.
    package let monitors: MonitorRegistry
    /// CLIENT PAUSE's state.
    package let pause: ClientPause
    /// `maxmemory`, its policy and the eviction it runs.
    package let maxMemory: MaxMemory
    /// The clients blocked by BLPOP and its kin.
    package let blocking = BlockingRegistry()
    /// Frees UNLINK's large values off the event loops.
    package let lazyFree = LazyFree()
    /// The heap bytes in use (INFO's `used_memory`), at start-up and at their peak.
    package let memory: ServerMemory
    /// INFO's `instantaneous_ops_per_sec`.
    package let operationsRate = OperationsRate()
    /// INFO's `run_id`: 40 random hex digits, fixed for the server's life.
    package let runID = ServerState.randomHexID()
    /// INFO's `master_replid`: 40 random hex digits, fixed for the server's life.
    package let replicationID = ServerState.randomHexID()

    /// The password (CONFIG SET requirepass may change it).
    package let password: Locked<String?>
    /// The save rules (CONFIG SET save may change them).
    package let savePoints: Locked<[ServerConfiguration.SavePoint]>
    /// The most connected clients, read at each accept (CONFIG SET maxclients may change it).
    package let maxClients: Atomic<Int>
    /// Set once the server stops: connections execute no further command.
    package let stopping = Atomic<Bool>(false)

    // Statistics.
    package let startedAt = Date()
    package let totalConnections = Atomic<Int>(0)
    package let connectedClients = Atomic<Int>(0)
    package let rejectedConnections = Atomic<Int>(0)
    package let totalCommands = Atomic<Int>(0)
    package let nextClientID = Atomic<Int>(1)
    /// Asks the ``Server`` to stop, saving as told (SHUTDOWN calls it; nil until the server
    /// watches for it).
    package let shutdownRequested = Locked<(@Sendable (_ save: FinalSave) -> Void)?>(nil)

    package init(
        configuration: ServerConfiguration,
        logger: Logger,
        extraCommands: [CommandSpec] = []
    ) throws(KVSError) {
        self.live = Locked(configuration)
        self.logger = logger
        let accessClock = AccessClock(unixSeconds: Int64(time(nil)))
        var databases: [Database] = []
        for i in 0..<max(1, configuration.databases) {
            databases.append(
                try Database(index: i, shardCount: configuration.shardsPerDatabase, accessClock: accessClock)
            )
        }
        self.databases = databases
        let commands = CommandTable(extra: extraCommands)
        self.commands = commands
        self.statistics = CommandStatistics(commandCount: commands.slotCount)
        let observation = ObservationFlags()
        self.observation = observation
        self.monitors = MonitorRegistry(flags: observation)
        self.pause = ClientPause(flags: observation)
        self.password = Locked(configuration.requirePassword.flatMap { $0.isEmpty ? nil : $0 })
        self.savePoints = Locked(configuration.savePoints)
        self.maxClients = Atomic(configuration.maxClients)
        self.persistence = Persistence(path: configuration.snapshotPath, logger: logger)
        // After the databases and the command table, so that the start-up figure holds them.
        let memory = ServerMemory(gauge: configuration.memoryGauge)
        self.memory = memory
        self.maxMemory = MaxMemory(clock: accessClock, usedBytes: { memory.usedBytes() })
        applyObservabilitySettings(configuration)
    }

    /// The configuration in effect. Connections read their limits from it when they open.
    package var configuration: ServerConfiguration { live.withLock { $0 } }

    /// Changes the configuration all or nothing: `change` edits a copy, and only when it
    /// returns is the copy put in effect (CONFIG SET of several parameters, as Redis 7).
    ///
    /// - Throws: what `change` throws; the configuration is then unchanged.
    package func reconfigure(_ change: (inout ServerConfiguration) throws(CommandError) -> Void) throws(CommandError) {
        try live.withLock { (current: inout ServerConfiguration) throws(CommandError) in
            var next = current
            try change(&next)
            current = next
            password.withLock { $0 = next.requirePassword.flatMap { $0.isEmpty ? nil : $0 } }
            savePoints.withLock { $0 = next.savePoints }
            maxClients.store(next.maxClients, ordering: .relaxed)
            applyObservabilitySettings(next)
        }
    }

    /// Records the port the server listens on, when it was configured with 0 (any free
    /// port): CONFIG GET port and INFO then give the port in use, as Redis does.
    package func recordBoundPort(_ port: Int) {
        live.withLock { $0.port = port }
    }

    /// Puts the slow-log and latency settings of `configuration` in effect.
    /// When a hash leaves the listpack encoding (CONFIG SET applies to the writes after it).
    package var hashLimits: HashLimits {
        HashLimits(
            maxListpackEntries: hashMaxListpackEntries.load(ordering: .relaxed),
            maxListpackValue: hashMaxListpackValue.load(ordering: .relaxed)
        )
    }

    /// A list's node limit (CONFIG SET applies to the writes after it).
    package var listLimits: ListLimits { ListLimits(fill: listMaxListpackSize.load(ordering: .relaxed)) }

    /// When a set leaves the intset encoding (CONFIG SET applies to the writes after it).
    package var setLimits: SetLimits {
        SetLimits(maxIntsetEntries: setMaxIntsetEntries.load(ordering: .relaxed))
    }

    /// When a sorted set leaves the listpack encoding (CONFIG SET applies to the writes
    /// after it).
    package var zsetLimits: ZSetLimits {
        ZSetLimits(
            maxListpackEntries: zsetMaxListpackEntries.load(ordering: .relaxed),
            maxListpackValue: zsetMaxListpackValue.load(ordering: .relaxed)
        )
    }

    /// The size past which a sparse HyperLogLog turns dense (CONFIG SET applies to the
    /// writes after it).
    package var hllSparseMaxBytes: Int { hllSparseMaxBytesSetting.load(ordering: .relaxed) }

    /// Whether FLUSHDB and FLUSHALL without an option free in the background
    /// (`lazyfree-lazy-user-flush`).
    package var lazyFreeLazyUserFlush: Bool { lazyUserFlushSetting.load(ordering: .relaxed) }

    private func applyObservabilitySettings(_ configuration: ServerConfiguration) {
        listMaxListpackSize.store(configuration.listMaxListpackSize, ordering: .relaxed)
        hashMaxListpackEntries.store(configuration.hashMaxListpackEntries, ordering: .relaxed)
        hashMaxListpackValue.store(configuration.hashMaxListpackValue, ordering: .relaxed)
        setMaxIntsetEntries.store(configuration.setMaxIntsetEntries, ordering: .relaxed)
        zsetMaxListpackEntries.store(configuration.zsetMaxListpackEntries, ordering: .relaxed)
        zsetMaxListpackValue.store(configuration.zsetMaxListpackValue, ordering: .relaxed)
        hllSparseMaxBytesSetting.store(configuration.hllSparseMaxBytes, ordering: .relaxed)
        lazyUserFlushSetting.store(configuration.lazyFreeLazyUserFlush, ordering: .relaxed)
        maxMemory.apply(configuration)
        slowLog.thresholdMicroseconds = configuration.slowLogThresholdMicroseconds
        slowLog.maxEntries = configuration.slowLogMaxEntries
        latency.thresholdMilliseconds = configuration.latencyMonitorThresholdMilliseconds
    }

    /// Whether clients must AUTH.
    package var requiresAuth: Bool { password.withLock { $0 != nil } }

    /// The total number of keys in all databases.
    package var totalKeys: Int { databases.reduce(0) { $0 + $1.engine.count } }

    /// Zeroes the statistics CONFIG RESETSTAT resets in Redis: commands processed,
    /// connections received and rejected, commandstats and errorstats (not the slow log
    /// nor the latency monitor, which have their own RESET).
    package func resetStatistics() {
        totalCommands.store(0, ordering: .relaxed)
        totalConnections.store(0, ordering: .relaxed)
        rejectedConnections.store(0, ordering: .relaxed)
        statistics.reset()
    }

    /// 40 random lowercase hex digits (Redis's run and replication ids).
    static func randomHexID() -> String {
        var g = SystemRandomNumberGenerator()
        let digits = Array("0123456789abcdef")
        return String((0..<40).map { _ in digits[Int(g.next() % 16)] })
    }
}

/// The connected clients, for CLIENT LIST / INFO / KILL and the connection limit.
package final class ClientRegistry: Sendable {
    private struct Entry: Sendable {
        var info: ClientInfo
        var channel: (any Channel)?
    }

    private let clients = Locked<[Int: Entry]>([:])

    package init() {}

    /// Adds a connection with the channel CLIENT KILL closes.
    func register(_ info: ClientInfo, channel: any Channel) {
        clients.withLock { $0[info.id] = Entry(info: info, channel: channel) }
    }

    /// Refreshes what CLIENT LIST shows of a connection.
    package func update(_ info: ClientInfo) {
        clients.withLock { c in
            if c[info.id] != nil { c[info.id]?.info = info } else { c[info.id] = Entry(info: info, channel: nil) }
        }
    }

    package func remove(_ id: Int) { _ = clients.withLock { $0.removeValue(forKey: id) } }

    /// Every connection, by id.
    package var all: [ClientInfo] { clients.withLock { $0.values.map(\.info).sorted { $0.id < $1.id } } }

    /// The channel of connection `id`.
    func channel(of id: Int) -> (any Channel)? { clients.withLock { $0[id]?.channel } }
}

/// What CLIENT LIST / CLIENT INFO show of one connection.
package struct ClientInfo: Sendable {
    package var id: Int
    package var address: String
    package var localAddress: String
    package var name: String = ""
    package var database: Int = 0
    /// When the connection was made, on the monotonic clock in nanoseconds.
    package var createdAt = MonotonicClock.nanoseconds()
    /// Its last command and when it ran, kept current by its handler.
    package let activity = ClientActivity()
    package var protocolVersion: Int = 2
    package var inMulti: Int = -1
    package var watching: Int = 0
    /// Whether the connection ran MONITOR (flag `O`).
    package var isMonitor = false
    /// What CLIENT SETINFO recorded (Redis 7.2's `lib-name`, `lib-ver`; not shown by the
    /// Redis 7.0 CLIENT LIST format).
    package var libraryName = ""
    package var libraryVersion = ""

    /// Redis's flags field: `O` monitor, `x` in MULTI, `b` blocked, `N` none.
    package var flags: String {
        var f = ""
        if isMonitor { f += "O" }
        if inMulti >= 0 { f += "x" }
        if activity.blocked.load(ordering: .relaxed) { f += "b" }
        return f.isEmpty ? "N" : f
    }

    /// One line of CLIENT LIST, with Redis 7.0's fields in its order: `command` is the
    /// `cmd` field (`get`, `client|list`), and `current` says the connection is the one
    /// asking (idle 0). The buffer and memory figures are not tracked and show 0.
    package func line(now: Int = MonotonicClock.nanoseconds(), command: String, current: Bool = false) -> String {
        let age = max(0, (now - createdAt) / 1_000_000_000)
        let idle = current ? 0 : max(0, (now - activity.lastInteraction.load(ordering: .relaxed)) / 1_000_000_000)
        return
            "id=\(id) addr=\(address) laddr=\(localAddress) fd=8 name=\(name) age=\(age) idle=\(idle) flags=\(flags) "
            + "db=\(database) sub=0 psub=0 ssub=0 multi=\(inMulti) qbuf=0 qbuf-free=0 argv-mem=0 "
            + "multi-mem=0 rbs=0 rbp=0 obl=0 oll=0 omem=0 tot-mem=0 events=r cmd=\(command) user=default "
            + "redir=-1 resp=\(protocolVersion)"
    }
}

/// What a connection's handler records after each read burst for CLIENT LIST: its last
/// command (a statistics slot of the command table, -1 before the first) and when it ran.
///
/// Thread-safety: thread-safe; only the connection's event loop writes it (relaxed stores).
package final class ClientActivity: Sendable {
    /// The statistics slot of the last command run (see ``CommandTable/statisticsName(ofSlot:)``).
    package let lastCommand = Atomic<Int>(-1)
    /// When the last command ran, on the monotonic clock in nanoseconds.
    package let lastInteraction = Atomic<Int>(MonotonicClock.nanoseconds())
    /// Whether the connection waits in a blocking command (flag `b`).
    package let blocked = Atomic<Bool>(false)

    /// Creates it for a new connection.
    package init() {}
}

/// One key a connection WATCHes: where, and what it saw.
package struct WatchedKey: Sendable {
    package let database: Int
    package let key: ByteKey
    /// The stamp seen, or nil if the key was absent.
    package let stamp: UInt64?
    /// For an absent key: its creation count in the registry.
    package let creations: UInt64
}

/// The state of one connection that commands read and change.
package struct Session: Sendable {
    package var id: Int
    package var database = 0
    package var protocolVersion: RESPVersion = .resp2
    package var authenticated: Bool
    package var name = ""
    /// The queued commands while in MULTI; nil outside.
    package var queued: [[ByteBuffer]]?
    /// Set when a command failed to queue: EXEC answers EXECABORT.
    package var queueFailed = false
    package var watched: [WatchedKey] = []
    /// Set by QUIT (and by a protocol error): close after the reply.
    package var closeAfterReply = false
    /// CLIENT REPLY's mode.
    package var replyMode = ReplyMode.on
    package var info: ClientInfo

    package init(id: Int, authenticated: Bool, info: ClientInfo) {
        self.id = id
        self.authenticated = authenticated
        self.info = info
    }

    /// Forgets every WATCH (unregistering absent keys).
    package mutating func unwatchAll(server: ServerState) {
        for w in watched where w.stamp == nil {
            server.databases[w.database].watches.unwatch(w.key)
        }
        watched.removeAll()
    }
}

/// CLIENT REPLY: whether replies are sent.
package enum ReplyMode: Sendable {
    /// Every reply is sent.
    case on
    /// No reply is sent (CLIENT REPLY OFF).
    case off
    /// CLIENT REPLY SKIP just ran: the next command's reply is dropped.
    case skipNext
    /// This command's reply is dropped, then replies are sent again.
    case skipThis
}

/// A session command being executed: the connection's session and its keyed call (the
/// arguments, the selected database and the reply buffer), owned by the connection's
/// handler and reused for every command so nothing is copied per command.
package struct SessionCall {
    package var session: Session
    package var call: Call<DirectAccess>
    /// Set when running inside EXEC.
    package var insideExec = false

    package init(session: Session, call: Call<DirectAccess>) {
        self.session = session
        self.call = call
    }

    var server: ServerState { call.server }
    var stamps: StampAllocator { call.access.stamps }
    var args: [ByteBuffer] { call.args }
    var encoder: RESPEncoder { call.encoder }
    var count: Int { call.args.count }
    var name: String { call.name }
    var database: Database { server.databases[session.database] }

    /// Selects database `index` (checked by the caller).
    mutating func select(_ index: Int) {
        session.database = index
        session.info.database = index
        call.access = DirectAccess(database: server.databases[index], stamps: stamps)
    }

    /// Switches the reply protocol.
    mutating func setProtocol(_ version: RESPVersion) {
        session.protocolVersion = version
        session.info.protocolVersion = version.rawValue
        call.encoder = RESPEncoder(version: version)
    }

    func string(_ i: Int) -> String { String(buffer: args[i]) }
    func option(_ i: Int) -> String { Call<DirectAccess>.optionName(args[i]) }
    func bytes(_ i: Int) -> [UInt8] { Array(args[i].readableBytesView) }
    func integer(_ i: Int) throws(CommandError) -> Int64 { try call.integer(i) }

    mutating func ok() { call.ok() }
    mutating func integer(reply n: Int) { call.integer(reply: n) }
    mutating func bulk(_ text: String) { call.bulk(text) }
    mutating func bulk(_ bytes: [UInt8]) { call.bulk(bytes) }
    mutating func null() { call.null() }
    mutating func nullArray() { encoder.writeNullArray(into: &call.out) }
    mutating func simple(_ text: String) { call.simple(text) }
    mutating func error(_ message: String) { call.error(message) }
    mutating func error(_ error: CommandError) { call.error(error) }
    mutating func arrayHeader(_ n: Int) { call.arrayHeader(n) }
    mutating func mapHeader(_ n: Int) { encoder.writeMapHeader(count: n, into: &call.out) }
    mutating func value(_ v: RESPValue) { call.value(v) }
    /// A verbatim string in RESP3 (`=txt:`), a bulk string in RESP2 (INFO, CLIENT INFO).
    mutating func verbatim(_ text: String) {
        value(.verbatimString(format: "txt", text: ByteBuffer(string: text)))
    }
}
