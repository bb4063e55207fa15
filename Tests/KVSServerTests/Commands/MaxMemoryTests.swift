import KVS
import NIOCore
import RESP
import Synchronization
import Testing

@testable import KVSServer

/// `maxmemory`, its eight policies, the OOM refusals and OBJECT IDLETIME / FREQ. The memory
/// in use is a figure of the test's own (``Gauge``: 50 bytes a key, plus what a test
/// adds), so that what is evicted does not depend on the allocator; the access clock is
/// set by hand. Error texts are redis-server 7.0.15's.
@Suite("maxmemory")
struct MaxMemoryTests {
    /// The memory in use as the tests count it: 50 bytes per key of every database, plus
    /// ``extra``.
    final class Gauge: Sendable {
        let state = Locked<ServerState?>(nil)
        let extra = Atomic<Int>(0)

        var used: Int {
            let keys = state.withLock { $0?.totalKeys ?? 0 }
            return keys * 50 + extra.load(ordering: .relaxed)
        }
    }

    static let oom = err("OOM command not allowed when used memory > 'maxmemory'.")

    /// Runs `body` on a server whose memory in use is `gauge`'s, with `maxmemory` 500
    /// (10 keys) and `policy`.
    func withLimitedServer(
        policy: String,
        samples: Int = 64,
        _ body: (InProcessTestServer, InProcessClient, Gauge) throws -> Void
    ) throws {
        let gauge = Gauge()
        try withInProcessServer({ config in config.memoryGauge = MemoryGauge { gauge.used } }) { server in
            gauge.state.withLock { $0 = server.serverState }
            let c = try server.connect()
            #expect(try c.call("CONFIG", "SET", "maxmemory-policy", policy, "maxmemory-samples", "\(samples)") == OK)
            #expect(try c.call("CONFIG", "SET", "maxmemory", "500") == OK)
            try body(server, c, gauge)
        }
    }

    /// Moves the server's access clock `seconds` on.
    func advanceClock(_ server: InProcessTestServer, by seconds: Int64) {
        let clock = server.serverState.maxMemory.clock
        clock.tick(unixSeconds: clock.unixSeconds + seconds)
    }

    func evictedKeys(_ c: InProcessClient) throws -> Int {
        guard case .bulkString(let info) = try c.call("INFO", "stats") else { return -1 }
        let text = String(buffer: info)
        let line = text.split(separator: "\r\n").first { $0.hasPrefix("evicted_keys:") }
        return line.flatMap { Int($0.dropFirst("evicted_keys:".count)) } ?? -1
    }

    /// The keys of database 0, read without touching them.
    func keys(_ server: InProcessTestServer) -> Set<String> {
        let keys = (try? server.serverState.databases[0].engine.keys()) ?? []
        return Set(keys.map { String(decoding: $0.bytes, as: UTF8.self) })
    }

    // Eviction runs before a command: a write at the limit (10 keys) goes through, and the
    // next command, of any kind, evicts one key (the estimate of what a key frees is above
    // the 50 bytes the gauge counts).

    @Test func allKeysLRUEvictsTheLeastRecentlyUsed() async throws {
        try withLimitedServer(policy: "allkeys-lru") { (server, c, _) throws in
            for i in 0..<10 { #expect(try c.call("SET", "k\(i)", "v") == OK) }
            advanceClock(server, by: 100)
            for i in 5..<10 { #expect(try c.call("GET", "k\(i)") == bulk("v")) }  // used 100 s later
            advanceClock(server, by: 100)
            for i in 10..<15 { #expect(try c.call("SET", "k\(i)", "v") == OK) }
            #expect(try c.call("PING") == .simpleString("PONG"))
            #expect(keys(server) == Set((5..<15).map { "k\($0)" }))
            #expect(try evictedKeys(c) == 5)
        }
    }

    @Test func allKeysLFUEvictsTheLeastFrequentlyUsed() async throws {
        try withLimitedServer(policy: "allkeys-lfu") { (server, c, _) throws in
            // A log factor of 0 raises the counter on every access: the counts are exact.
            #expect(try c.call("CONFIG", "SET", "lfu-log-factor", "0") == OK)
            for i in 0..<10 { #expect(try c.call("SET", "k\(i)", "v") == OK) }
            for i in 0..<10 where i % 2 == 1 {
                for _ in 0..<3 { #expect(try c.call("GET", "k\(i)") == bulk("v")) }
            }
            #expect(try c.call("OBJECT", "FREQ", "k1") == int(8))  // 5 for a new key, then 3 hits
            #expect(try c.call("OBJECT", "FREQ", "k0") == int(5))
            for i in 10..<15 { #expect(try c.call("SET", "k\(i)", "v") == OK) }
            #expect(try c.call("PING") == .simpleString("PONG"))
            // Five keys with a count of 5 went; every key used more stayed.
            let left = keys(server)
            #expect(left.count == 10)
            for i in 0..<10 where i % 2 == 1 { #expect(left.contains("k\(i)")) }
            #expect(try evictedKeys(c) == 5)
        }
    }

    @Test func lfuCountersDecayWithTime() async throws {
        try withLimitedServer(policy: "allkeys-lfu") { (server, c, _) throws in
            #expect(try c.call("CONFIG", "SET", "lfu-log-factor", "0", "lfu-decay-time", "2") == OK)
            #expect(try c.call("SET", "k", "v") == OK)
            for _ in 0..<5 { _ = try c.call("GET", "k") }
            #expect(try c.call("OBJECT", "FREQ", "k") == int(10))
            advanceClock(server, by: 6 * 60)  // three periods of 2 minutes
            #expect(try c.call("OBJECT", "FREQ", "k") == int(7))
            #expect(try c.call("CONFIG", "SET", "lfu-decay-time", "0") == OK)  // 0: no decay
            #expect(try c.call("OBJECT", "FREQ", "k") == int(10))
        }
    }

    @Test func volatileTTLEvictsTheSoonestToExpireAndSparesKeysWithoutTTL() async throws {
        try withLimitedServer(policy: "volatile-ttl") { (server, c, _) throws in
            for i in 0..<5 { #expect(try c.call("SET", "p\(i)", "v") == OK) }
            for i in 0..<5 { #expect(try c.call("SET", "t\(i)", "v", "EX", "\(1000 + i)") == OK) }
            #expect(try c.call("SET", "x0", "v") == OK)  // 11 keys
            for i in 0..<5 {
                #expect(try c.call("SET", "x\(i + 1)", "v") == OK)
                let left = keys(server)
                #expect(!left.contains("t\(i)"), "t\(i) expires first")
                if i < 4 { #expect(left.contains("t\(i + 1)")) }
            }
            // Over the limit with only keys without a TTL: nothing to evict, writes refused.
            #expect(try c.call("SET", "y", "v") == Self.oom)
            #expect(keys(server) == Set((0..<5).map { "p\($0)" } + (0..<6).map { "x\($0)" }))
        }
    }

    @Test func volatilePoliciesEvictOnlyKeysWithATTL() async throws {
        for policy in ["volatile-lru", "volatile-lfu", "volatile-random"] {
            try withLimitedServer(policy: policy) { (server, c, _) throws in
                for i in 0..<5 { #expect(try c.call("SET", "p\(i)", "v") == OK) }
                for i in 0..<5 { #expect(try c.call("SET", "t\(i)", "v", "EX", "1000") == OK) }
                for i in 0..<6 { #expect(try c.call("SET", "x\(i)", "v") == OK, "\(policy)") }
                #expect(try c.call("SET", "y", "v") == Self.oom, "\(policy)")
                #expect(keys(server) == Set((0..<5).map { "p\($0)" } + (0..<6).map { "x\($0)" }), "\(policy)")
            }
        }
    }

    @Test func allKeysRandomKeepsWithinTheLimit() async throws {
        try withLimitedServer(policy: "allkeys-random") { (server, c, _) throws in
            for i in 0..<100 {
                #expect(try c.call("SET", "k\(i)", "v") == OK)
                #expect(server.serverState.totalKeys <= 11)
            }
            #expect(try evictedKeys(c) >= 89)
        }
    }

    @Test func noEvictionRefusesWritesThatAddDataAndEveryCommandInMulti() async throws {
        try withLimitedServer(policy: "noeviction") { (_, c, gauge) throws in
            for i in 0..<11 { #expect(try c.call("SET", "k\(i)", "v") == OK) }  // the 11th at the limit
            #expect(try c.call("SET", "k11", "v") == Self.oom)
            #expect(try c.call("LPUSH", "l", "a") == Self.oom)
            #expect(try c.call("INCR", "k0") == Self.oom)  // denyoom even on an existing key
            #expect(try c.call("GET", "k0") == bulk("v"))
            #expect(try c.call("DEL", "k0", "k1") == int(2))  // not denyoom: frees memory
            #expect(try c.call("SET", "k0", "v") == OK)
            #expect(try c.call("SET", "k1", "v") == OK)
            #expect(try c.call("SET", "k11", "v") == Self.oom)
            // Inside MULTI, every command is refused while out of memory; EXEC then aborts.
            #expect(try c.call("MULTI") == OK)
            #expect(try c.call("GET", "k1") == Self.oom)
            #expect(try c.call("PING") == Self.oom)
            #expect(try c.call("EXEC") == err("EXECABORT Transaction discarded because of previous errors."))
            // A transaction queued before memory ran out, with a denyoom command in it.
            gauge.extra.store(-1000, ordering: .relaxed)
            #expect(try c.call("MULTI") == OK)
            #expect(try c.call("SET", "a", "1") == .simpleString("QUEUED"))
            gauge.extra.store(0, ordering: .relaxed)
            #expect(
                try c.call("EXEC")
                    == err(
                        "EXECABORT Transaction discarded because of: OOM command not allowed when used memory > 'maxmemory'."
                    )
            )
            #expect(try c.call("MULTI") == OK)
            #expect(try c.call("DISCARD") == OK)  // never refused
            #expect(try c.call("EXISTS", "a") == int(0))
        }
    }

    @Test func execOfReadsOnlyRunsWhileOutOfMemory() async throws {
        try withLimitedServer(policy: "noeviction") { (_, c, gauge) throws in
            #expect(try c.call("SET", "k", "v") == OK)
            #expect(try c.call("MULTI") == OK)
            #expect(try c.call("GET", "k") == .simpleString("QUEUED"))
            gauge.extra.store(10_000, ordering: .relaxed)
            #expect(try c.call("EXEC") == .array([bulk("v")]))
        }
    }

    @Test func loweringMaxmemoryEvictsAtOnce() async throws {
        try withLimitedServer(policy: "allkeys-lru") { (server, c, _) throws in
            for i in 0..<10 { #expect(try c.call("SET", "k\(i)", "v") == OK) }
            #expect(try c.call("CONFIG", "SET", "maxmemory", "250") == OK)
            #expect(server.serverState.totalKeys < 10)  // evicted by CONFIG SET itself, before any other command
            #expect(try c.call("CONFIG", "SET", "maxmemory", "0") == OK)  // no limit
            for i in 0..<50 { #expect(try c.call("SET", "n\(i)", "v") == OK) }
        }
    }

    @Test func objectIdletimeCountsSecondsSinceTheLastAccess() async throws {
        try withLimitedServer(policy: "allkeys-lru") { (server, c, _) throws in
            #expect(try c.call("SET", "k", "v") == OK)
            advanceClock(server, by: 42)
            #expect(try c.call("OBJECT", "IDLETIME", "k") == int(42))
            #expect(try c.call("OBJECT", "IDLETIME", "k") == int(42))  // OBJECT itself is no access
            #expect(try c.call("TYPE", "k") == .simpleString("string"))
            #expect(try c.call("GET", "k") == bulk("v"))
            #expect(try c.call("OBJECT", "IDLETIME", "k") == int(0))
            // Inside a transaction too.
            advanceClock(server, by: 7)
            #expect(try c.call("MULTI") == OK)
            #expect(try c.call("OBJECT", "IDLETIME", "k") == .simpleString("QUEUED"))
            #expect(try c.call("EXEC") == .array([int(7)]))
            #expect(
                try c.call("OBJECT", "FREQ", "k")
                    == err(
                        "ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust."
                    )
            )
            #expect(try c.call("CONFIG", "SET", "maxmemory-policy", "allkeys-lfu") == OK)
            #expect(
                try c.call("OBJECT", "IDLETIME", "k")
                    == err(
                        "ERR An LFU maxmemory policy is selected, idle time not tracked. Please note that when switching between policies at runtime LRU and LFU data will take some time to adjust."
                    )
            )
        }
    }

    @Test func restoreSetsIdleTimeOrFrequency() async throws {
        try withLimitedServer(policy: "allkeys-lru") { (_, c, _) throws in
            #expect(try c.call("SET", "k", "v") == OK)
            guard case .bulkString(let dumped) = try c.call("DUMP", "k") else {
                Issue.record("DUMP")
                return
            }
            let payload = Array(dumped.readableBytesView)
            func restore(_ key: String, _ options: String...) throws -> RESPValue {
                try c.callBytes(
                    [Array("RESTORE".utf8), Array(key.utf8), [0x30], payload] + options.map { Array($0.utf8) }
                )
            }
            #expect(try restore("idle", "IDLETIME", "1000") == OK)
            #expect(try c.call("OBJECT", "IDLETIME", "idle") == int(1000))
            #expect(try restore("fresh", "FREQ", "200") == OK)  // FREQ means nothing to LRU
            #expect(try c.call("OBJECT", "IDLETIME", "fresh") == int(0))
            #expect(try c.call("CONFIG", "SET", "maxmemory-policy", "volatile-lfu") == OK)
            #expect(try restore("hot", "FREQ", "200") == OK)
            #expect(try c.call("OBJECT", "FREQ", "hot") == int(200))
            #expect(try restore("warm", "IDLETIME", "5") == OK)  // IDLETIME means nothing to LFU
            #expect(try c.call("OBJECT", "FREQ", "warm") == int(5))
        }
    }

    @Test func settingsAreCheckedAndReported() async throws {
        try withInProcessServer { server in
            let c = try server.connect()
            #expect(try c.call("CONFIG", "GET", "maxmemory") == .array([bulk("maxmemory"), bulk("0")]))
            #expect(try c.call("CONFIG", "SET", "maxmemory", "1gb") == OK)
            #expect(try c.call("CONFIG", "GET", "maxmemory") == .array([bulk("maxmemory"), bulk("1073741824")]))
            #expect(
                try c.call("CONFIG", "SET", "maxmemory-policy", "lru")
                    == ConfigCommandsTests.failed(
                        "maxmemory-policy",
                        "argument(s) must be one of the following: volatile-lru, volatile-lfu, volatile-random, volatile-ttl, allkeys-lru, allkeys-lfu, allkeys-random, noeviction"
                    )
            )
            #expect(try c.call("CONFIG", "SET", "maxmemory-policy", "ALLKEYS-LRU") == OK)
            #expect(
                try c.call("CONFIG", "GET", "maxmemory-policy")
                    == .array([bulk("maxmemory-policy"), bulk("allkeys-lru")])
            )
            #expect(
                try c.call("CONFIG", "SET", "maxmemory-samples", "0")
                    == ConfigCommandsTests.failed(
                        "maxmemory-samples",
                        "argument must be between 1 and 2147483647 inclusive"
                    )
            )
            #expect(
                try c.call("CONFIG", "SET", "maxmemory", "-1")
                    == ConfigCommandsTests.failed("maxmemory", "argument must be a memory value")
            )
            guard case .bulkString(let info) = try c.call("INFO", "memory") else {
                Issue.record("INFO")
                return
            }
            let text = String(buffer: info)
            #expect(text.contains("maxmemory:1073741824\r\n"))
            #expect(text.contains("maxmemory_human:1.00G\r\n"))
            #expect(text.contains("maxmemory_policy:allkeys-lru\r\n"))
            // COMMAND INFO flags the commands that may add data, as Redis does.
            #expect(String(describing: try c.call("COMMAND", "INFO", "set")).contains("denyoom"))
            #expect(!String(describing: try c.call("COMMAND", "INFO", "del")).contains("denyoom"))
        }
    }

    @Test func startupParametersTakeRedisUnits() throws {
        var config = ServerConfiguration()
        try config.set(parameter: "maxmemory", to: "100mb")
        try config.set(parameter: "MAXMEMORY-POLICY", to: "volatile-lfu")
        #expect(config.maxMemory == 100 * 1024 * 1024)
        #expect(config.maxMemoryPolicy == .volatileLFU)
        #expect(throws: ServerConfiguration.ParameterError.self) { try config.set(parameter: "maxmemory", to: "lots") }
        #expect(throws: ServerConfiguration.ParameterError.self) { try config.set(parameter: "port", to: "1") }
        #expect(throws: ServerConfiguration.ParameterError.self) { try config.set(parameter: "nothing", to: "1") }
        #expect(config.maxMemory == 100 * 1024 * 1024)
    }
}
