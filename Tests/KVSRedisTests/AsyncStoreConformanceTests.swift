import KVS
import KVSNetworkTestSupport
import KVSRedis
import KVSTestSupport
import Testing

/// The one AsyncStore suite (Support/AsyncStoreConformance.swift) against every back end.
@Suite("AsyncStore conformance")
struct AsyncStoreConformanceTests {
    @Test("embedded KeyValueStore")
    func embedded() async throws {
        let store = try KeyValueStore<String>(shardCount: 8)
        defer { store.shutdown() }
        try await checkAsyncStoreConformance(store)
    }

    @Test("RedisStore on an in-process kvs-server")
    func kvsServer() async throws {
        try await withKVSServer { _, port in
            let store = RedisStore<String>(port: port)
            try await checkAsyncStoreConformance(store)
            await store.shutdown()
        }
    }

    @Test(
        "RedisStore on redis-server",
        .enabled(if: redisServerPath != nil, "skipped: redis-server is not on the PATH")
    )
    func redisServer() async throws {
        try await withRedisServer { port in
            let store = RedisStore<String>(port: port)
            try await checkAsyncStoreConformance(store)
            await store.shutdown()
        }
    }

    @Test("RedisClusterStore on a 3-primary Redis Cluster", .enabled(if: redisClusterAvailable, redisClusterSkipReason))
    func redisCluster() async throws {
        try await withRedisCluster(primaries: 3) { cluster in
            let store = RedisClusterStore<String>(configuration: cluster.configuration())
            try await checkAsyncStoreConformance(store)
            await store.shutdown()
        }
    }
}
