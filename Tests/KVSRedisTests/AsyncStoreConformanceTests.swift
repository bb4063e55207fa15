import KVS
import KVSNetworkTestSupport
import KVSRedis
import KVSTestSupport
import RESP
import Testing

/// The one AsyncStore suite (Support/AsyncStoreConformance.swift) against every back end.
@Suite("AsyncStore conformance")
struct AsyncStoreConformanceTests {
    /// The network stores' request timeout here. The suite's eight concurrent updaters share
    /// four connections, so an update waits for a slot through up to seven others' whole
    /// optimistic loops; under ThreadSanitizer, on a loaded two-core machine, that has taken
    /// more than the default 5 seconds. The bound only stops a hung test, so it is generous.
    static let requestTimeout = Duration.seconds(60)

    @Test("embedded KeyValueStore")
    func embedded() async throws {
        let store = try KeyValueStore<String>(shardCount: 8)
        defer { store.shutdown() }
        try await checkAsyncStoreConformance(store) { key in try store.timeToLive(key) }
    }

    @Test("RedisStore on an in-process kvs-server")
    func kvsServer() async throws {
        try await withKVSServer { _, port in
            let store = RedisStore<String>(configuration: .init(port: port, requestTimeout: Self.requestTimeout))
            try await checkAsyncStoreConformance(store) { key in
                try Self.timeToLive(pttl: try await store.command(["PTTL", key]), key: key)
            }
            await store.shutdown()
        }
    }

    @Test(
        "RedisStore on redis-server",
        .enabled(if: redisServerPath != nil, "skipped: redis-server is not on the PATH")
    )
    func redisServer() async throws {
        try await withRedisServer { port in
            let store = RedisStore<String>(configuration: .init(port: port, requestTimeout: Self.requestTimeout))
            try await checkAsyncStoreConformance(store) { key in
                try Self.timeToLive(pttl: try await store.command(["PTTL", key]), key: key)
            }
            await store.shutdown()
        }
    }

    @Test("RedisClusterStore on a 3-primary Redis Cluster", .enabled(if: redisClusterAvailable, redisClusterSkipReason))
    func redisCluster() async throws {
        try await withRedisCluster(primaries: 3) { cluster in
            let store = RedisClusterStore<String>(
                configuration: cluster.configuration(requestTimeout: Self.requestTimeout)
            )
            try await checkAsyncStoreConformance(store) { key in
                let owner = try await cluster.primary(forSlot: HashSlot.slot(for: key))
                return try Self.timeToLive(pttl: try await cluster.command(owner, ["PTTL", key]), key: key)
            }
            await store.shutdown()
        }
    }

    /// The time-to-live a `PTTL` reply gives: `nil` for -1 (none).
    ///
    /// - Throws: `.notFound` for -2 (no such key), `.protocolError` for another reply.
    static func timeToLive(pttl reply: RESPValue, key: String) throws -> Duration? {
        switch reply.intValue {
        case -1: return nil
        case -2: throw KVSError.notFound(key)
        case let milliseconds? where milliseconds >= 0: return .milliseconds(milliseconds)
        default: throw KVSError(.protocolError, key: key, message: "PTTL replied \(reply)")
        }
    }
}
