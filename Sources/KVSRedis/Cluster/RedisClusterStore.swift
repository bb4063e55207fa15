import KVS
import Logging
import NIOCore
import NIOPosix
import RESP
import ServiceLifecycle

/// A key-value store on a Redis Cluster (or Valkey Cluster), with the same API and error codes
/// as the embedded `KeyValueStore` and ``RedisStore`` through `AsyncStore`.
///
/// ```swift
/// let store = RedisClusterStore<String>(seeds: [RedisEndpoint(host: "10.0.0.1", port: 7000)])
/// try await store.set("{user:42}:name", "Ada", ttl: .seconds(60))   // SET … PX 60000 on the slot's primary
/// let name = try await store.get("{user:42}:name")
/// await store.shutdown()
/// ```
///
/// Routing is what mature cluster clients do. A key's hash slot is CRC16 of its UTF-8 bytes
/// modulo 16384, over its `{hash tag}` when it has one (keys with the same tag share a slot and
/// so a node). The slot map is read with `CLUSTER SHARDS` (`CLUSTER SLOTS` before Redis 7) from
/// a seed on first use; every command goes to its slot's primary, over a pool of at most
/// ``RedisClusterConfiguration/connectionsPerNode`` pipelined connections per node. A `MOVED`
/// reply updates that slot at once and starts one background refresh of the whole map; an
/// `ASK` reply is followed for that command only (`ASKING` and the command, pipelined on one
/// connection of the target); at most ``RedisClusterConfiguration/maxRedirects`` redirects
/// per command. A lost connection or a timeout marks the map stale: it is read again from the
/// known nodes (then the seeds) before the next attempt. `CLUSTERDOWN` and `TRYAGAIN` are
/// retried after a short backoff (5 ms doubling to 250 ms). Retries stop when
/// ``RedisClusterConfiguration/requestTimeout`` has passed since the operation began, so a dead
/// node costs a caller at most about the connect timeout plus twice the request timeout.
///
/// Errors: as ``RedisStore`` (a `nil` reply is `.notFound`; a refused or lost connection
/// `.connectionFailed`; no reply in time `.timeout`; an error reply `.serverError`), plus
/// `.clusterDown` when the slot has no primary, the cluster replied `CLUSTERDOWN` or
/// `TRYAGAIN` until time ran out, or a command was redirected more than `maxRedirects` times;
/// every network error names the node (`host:port`) in its message and the key in
/// `KVSError.key`. A configuration that fails ``RedisClusterConfiguration/validate()`` makes
/// every operation throw `.invalidArgument`. After a `.connectionFailed` or `.timeout` on a
/// write, the write may or may not have been applied. Commands that give the same reply when
/// run twice (`GET`, `SET`, `MGET`, `EXISTS`) are resent after a lost connection; `DEL` and
/// `SET … NX`, whose second run would misreport the first one's effect, only when the
/// connection could not even be opened.
///
/// Atomic operations (`setIfAbsent`, `update`, `compareAndSwap`, `transaction(on:)`) run on the
/// primary of their keys' slot; the keys of one operation must share a slot (a `{hash tag}`),
/// or it throws `.crossSlot`.
///
/// During a failover (a primary stops; a replica takes over after the cluster's node timeout
/// and an election) operations on the failed primary's slots throw `.connectionFailed`,
/// `.timeout` or `.clusterDown`, then succeed again once the cluster reports the new primary,
/// with the same store: there is nothing to recreate.
///
/// The store is a swift-service-lifecycle `Service`: run it in a `ServiceGroup` and it shuts
/// down on graceful shutdown.
///
/// - Thread safety: `Sendable`; share one store between any number of tasks. The slot table is
///   read under a lock that is never held across a suspension.
public final class RedisClusterStore<Value: RedisValueCodec>: AsyncStore, Service, Sendable {
    /// The seeds, credentials, pool size, timeouts and redirect bound the store was made with.
    public let configuration: RedisClusterConfiguration
    let router: ClusterRouter

    /// Creates a store for the cluster that `configuration`'s seeds belong to; no connection is
    /// opened until the first operation, which reads the slot map.
    ///
    /// - Parameters:
    ///   - configuration: the seeds, credentials, pool size per node, timeouts and redirect bound.
    ///     An invalid configuration does not crash: every operation throws `.invalidArgument`
    ///     (see ``RedisClusterConfiguration/validate()``).
    ///   - eventLoopGroup: the NIO event loops the connections run on (NIO's shared singleton
    ///     by default); the store does not shut the group down.
    /// - Complexity: O(number of seeds).
    public init(
        configuration: RedisClusterConfiguration,
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) {
        self.configuration = configuration
        self.router = ClusterRouter(configuration: configuration, group: eventLoopGroup)
    }

    /// Creates a store for the cluster that `seeds` belong to, with the default pool size,
    /// timeouts and redirect bound.
    ///
    /// - Parameters:
    ///   - seeds: one or more nodes of the cluster.
    ///   - password: sent with `AUTH` on each new connection, or `nil`.
    ///   - username: the ACL user for `AUTH`, or `nil` for the default user.
    /// - Complexity: O(number of seeds); connections open on first use.
    public convenience init(seeds: [RedisEndpoint], password: String? = nil, username: String? = nil) {
        self.init(configuration: RedisClusterConfiguration(seeds: seeds, password: password, username: username))
    }

    /// The former ``init(seeds:password:username:)``, with `(host:, port:)` tuples.
    ///
    /// - Complexity: O(number of seeds); connections open on first use.
    @available(*, deprecated, message: "pass the seeds as [RedisEndpoint]")
    public convenience init(seeds: [(host: String, port: Int)], password: String? = nil, username: String? = nil) {
        self.init(
            seeds: seeds.map { RedisEndpoint(host: $0.host, port: $0.port) },
            password: password,
            username: username
        )
    }

    /// Closes every connection to every node; later operations throw `.storeClosed`, and
    /// operations in flight fail with `.connectionFailed` or `.storeClosed`. Idempotent.
    ///
    /// - Complexity: O(nodes × pool size).
    /// - Thread safety: may be called from any task, while others use the store.
    public func shutdown() async {
        await router.shutdown()
    }

    /// Runs until graceful shutdown (or cancellation) of the surrounding `ServiceGroup`, then
    /// calls ``shutdown()``.
    public func run() async throws {
        try? await gracefulShutdown()
        await shutdown()
    }

    // MARK: - Single-key operations

    /// Returns the value stored under `key` (`GET` on the primary of the key's slot).
    ///
    /// - Returns: the decoded value; a missing or expired key throws instead.
    /// - Throws: `.notFound` (nil reply), `.storeClosed`, `.connectionFailed`, `.timeout`,
    ///   `.clusterDown`, `.protocolError` (including a value that does not decode as `Value`),
    ///   `.serverError`, `.invalidArgument` (invalid configuration).
    /// - Complexity: one round trip, plus one per redirect or retry; O(value size) to decode.
    public func get(_ key: String) async throws(KVSError) -> Value {
        let reply = try await router.send(ClusterCommand(.array([.bulk("GET"), .bulk(key)]), key: key))
        switch reply.value {
        case .bulkString(let bytes):
            return try decode(bytes, key: key, node: reply.node)
        case .nullBulkString, .null:
            throw KVSError.notFound(key)
        default:
            throw unexpected(reply, command: "GET", key: key)
        }
    }

    /// Stores `value` under `key` with no expiry (`SET`), replacing any value and TTL.
    ///
    /// - Throws: `.invalidArgument` if the value cannot be encoded (nothing is sent), the
    ///   network codes of ``get(_:)``.
    /// - Complexity: one round trip, plus one per redirect or retry.
    public func set(_ key: String, _ value: Value) async throws(KVSError) {
        let bytes = try encode(value, key: key)
        let reply = try await router.send(
            ClusterCommand(.array([.bulk("SET"), .bulk(key), .bulkString(bytes)]), key: key)
        )
        try expectOK(reply, key: key)
    }

    /// Stores `value` under `key`, expiring after `ttl` (`SET key value PX ms`, rounded up to
    /// whole milliseconds); `.zero` means no expiry (a plain `SET`).
    ///
    /// - Throws: `.invalidTTL` if `ttl` is negative or too large for milliseconds in 64 bits
    ///   (nothing is sent); otherwise as ``set(_:_:)``.
    /// - Complexity: one round trip, plus one per redirect or retry.
    public func set(_ key: String, _ value: Value, ttl: Duration) async throws(KVSError) {
        guard ttl != .zero else { return try await set(key, value) }
        let milliseconds = try RedisStore<Value>.milliseconds(ttl, key: key)
        let bytes = try encode(value, key: key)
        let command = RESPValue.array([
            .bulk("SET"), .bulk(key), .bulkString(bytes), .bulk("PX"), .bulk(String(milliseconds)),
        ])
        try expectOK(try await router.send(ClusterCommand(command, key: key)), key: key)
    }

    /// Removes `key` (`DEL`).
    ///
    /// - Throws: `.notFound` if nothing was deleted, otherwise the network codes of ``get(_:)``.
    /// - Complexity: one round trip, plus one per redirect or retry.
    public func delete(_ key: String) async throws(KVSError) {
        let reply = try await router.send(ClusterCommand(.array([.bulk("DEL"), .bulk(key)]), key: key))
        guard let removed = reply.value.intValue else { throw unexpected(reply, command: "DEL", key: key) }
        if removed == 0 { throw KVSError.notFound(key) }
    }

    /// Whether `key` holds a live value (`EXISTS`).
    ///
    /// - Returns: `false` for a missing or expired key.
    /// - Throws: the network codes of ``get(_:)``.
    /// - Complexity: one round trip, plus one per redirect or retry.
    public func exists(_ key: String) async throws(KVSError) -> Bool {
        let reply = try await router.send(ClusterCommand(.array([.bulk("EXISTS"), .bulk(key)]), key: key))
        guard let count = reply.value.intValue else { throw unexpected(reply, command: "EXISTS", key: key) }
        return count > 0
    }
}

extension RedisClusterStore {
    /// The node the store's slot table routes `slot` to now, as `host:port`, or `nil` before
    /// the first map is read (for tests).
    package func node(forSlot slot: Int) -> String? { router.node(forSlot: slot) }
}
