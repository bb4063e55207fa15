import KVS
import Logging
import NIOCore
import NIOPosix
import RESP
import ServiceLifecycle

/// A key-value store on one RESP server (`kvs-server`, Redis or Valkey), with the same API and
/// error codes as the embedded `KeyValueStore` through `AsyncStore`.
///
/// ```swift
/// let store = RedisStore<String>(host: "127.0.0.1", port: 6379)
/// try await store.set("greeting", "hello", ttl: .seconds(60))     // SET greeting hello PX 60000
/// let value = try await store.get("greeting")
/// await store.shutdown()
/// ```
///
/// Values are encoded with ``RedisValueCodec`` (the snapshot's value encoding). Connections are
/// opened on first use, at most ``RedisConfiguration/connectionsPerNode``, and requests from
/// concurrent tasks are pipelined on them. Errors: a `nil` reply is `.notFound`; a refused or
/// lost connection `.connectionFailed`; no reply within the configured bound `.timeout`; an
/// error reply `.serverError` with the server's text; every network error names `host:port` in
/// its message and the key in `KVSError.key`. After a `.connectionFailed` or `.timeout` on a
/// write, the write may or may not have been applied.
///
/// The store is a swift-service-lifecycle `Service`: run it in a `ServiceGroup` and it shuts
/// down on graceful shutdown.
///
/// - Thread safety: `Sendable`; share one store between any number of tasks.
public final class RedisStore<Value: RedisValueCodec>: AsyncStore, Service, Sendable {
    /// Where and how the store connects.
    public let configuration: RedisConfiguration
    let pool: ConnectionPool

    /// Creates a store for the node in `configuration`; no connection is opened until the
    /// first operation.
    ///
    /// - Parameters:
    ///   - configuration: the node, credentials, database, pool size and timeouts.
    ///   - eventLoopGroup: the NIO event loops the connections run on (NIO's shared singleton
    ///     by default); the store does not shut the group down.
    /// - Complexity: O(1).
    public init(
        configuration: RedisConfiguration,
        eventLoopGroup: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton
    ) {
        self.configuration = configuration
        self.pool = ConnectionPool(configuration: configuration, group: eventLoopGroup)
    }

    /// Creates a store for `host:port` with the default pool size and timeouts.
    ///
    /// - Parameters:
    ///   - host: the server's host name or address.
    ///   - port: the server's port.
    ///   - password: sent with `AUTH` on each new connection, or `nil`.
    ///   - database: selected with `SELECT` on each new connection when not 0.
    /// - Complexity: O(1); connections open on first use.
    public convenience init(host: String = "127.0.0.1", port: Int = 6379, password: String? = nil, database: Int = 0) {
        self.init(configuration: RedisConfiguration(host: host, port: port, password: password, database: database))
    }

    /// Closes every connection; later operations throw `.storeClosed`, and operations in
    /// flight fail with `.connectionFailed`. Idempotent.
    ///
    /// - Complexity: O(pool size).
    /// - Thread safety: may be called from any task, while others use the store.
    public func shutdown() async {
        await pool.shutdown()
    }

    /// Runs until graceful shutdown (or cancellation) of the surrounding `ServiceGroup`, then
    /// calls ``shutdown()``.
    public func run() async throws {
        try? await gracefulShutdown()
        await shutdown()
    }

    // MARK: - Single-key operations

    /// Returns the value stored under `key` (`GET`).
    ///
    /// - Returns: the decoded value; a missing or expired key throws instead.
    /// - Throws: `.notFound` (nil reply), `.storeClosed`, `.connectionFailed`, `.timeout`,
    ///   `.protocolError` (including a value that does not decode as `Value`), `.serverError`.
    /// - Complexity: one round trip; O(value size) to decode.
    public func get(_ key: String) async throws(KVSError) -> Value {
        let reply = try await single(.array([.bulk("GET"), .bulk(key)]), key: key)
        switch reply {
        case .bulkString(let bytes):
            return try decode(bytes, key: key)
        case .nullBulkString, .null:
            throw KVSError.notFound(key)
        default:
            throw unexpected(reply, command: "GET", key: key)
        }
    }

    /// Stores `value` under `key` with no expiry (`SET`), replacing any value and TTL.
    ///
    /// - Throws: `.invalidArgument` if the value cannot be encoded, the network codes of ``get(_:)``.
    /// - Complexity: one round trip.
    public func set(_ key: String, _ value: Value) async throws(KVSError) {
        let bytes = try encode(value, key: key)
        try expectOK(try await single(.array([.bulk("SET"), .bulk(key), .bulkString(bytes)]), key: key), key: key)
    }

    /// Stores `value` under `key`, expiring after `ttl` (`SET key value PX ms`, rounded up to
    /// whole milliseconds); `.zero` means no expiry (a plain `SET`).
    ///
    /// - Throws: `.invalidTTL` if `ttl` is negative or too large for milliseconds in 64 bits
    ///   (nothing is sent); otherwise as ``set(_:_:)``.
    /// - Complexity: one round trip.
    public func set(_ key: String, _ value: Value, ttl: Duration) async throws(KVSError) {
        guard ttl != .zero else { return try await set(key, value) }
        let milliseconds = try Self.milliseconds(ttl, key: key)
        let bytes = try encode(value, key: key)
        let command = RESPValue.array([
            .bulk("SET"), .bulk(key), .bulkString(bytes), .bulk("PX"), .bulk(String(milliseconds)),
        ])
        try expectOK(try await single(command, key: key), key: key)
    }

    /// Removes `key` (`DEL`).
    ///
    /// - Throws: `.notFound` if nothing was deleted, otherwise the network codes of ``get(_:)``.
    /// - Complexity: one round trip.
    public func delete(_ key: String) async throws(KVSError) {
        let reply = try await single(.array([.bulk("DEL"), .bulk(key)]), key: key)
        guard let removed = reply.intValue else { throw unexpected(reply, command: "DEL", key: key) }
        if removed == 0 { throw KVSError.notFound(key) }
    }

    /// Whether `key` holds a live value (`EXISTS`).
    ///
    /// - Returns: `false` for a missing or expired key.
    /// - Throws: the network codes of ``get(_:)``.
    /// - Complexity: one round trip.
    public func exists(_ key: String) async throws(KVSError) -> Bool {
        let reply = try await single(.array([.bulk("EXISTS"), .bulk(key)]), key: key)
        guard let count = reply.intValue else { throw unexpected(reply, command: "EXISTS", key: key) }
        return count > 0
    }

    /// Every key of the database, each once, walked with `SCAN` (never `KEYS`, which blocks the
    /// server). Keys that are not valid UTF-8 are repaired with U+FFFD.
    ///
    /// - Throws: the network codes of ``get(_:)``.
    /// - Complexity: O(n) keys; about n / ``RedisConfiguration/scanCount`` round trips.
    public func keys() async throws(KVSError) -> [String] {
        var seen = Set<String>()
        var cursor = "0"
        repeat {
            let command = RESPValue.command(["SCAN", cursor, "COUNT", String(max(1, configuration.scanCount))])
            let reply = try await single(command, key: nil)
            guard let parts = reply.elements, parts.count == 2, let next = parts[0].stringValue,
                let batch = parts[1].elements
            else { throw unexpected(reply, command: "SCAN", key: nil) }
            for element in batch {
                guard let bytes = element.bufferValue else { throw unexpected(reply, command: "SCAN", key: nil) }
                seen.insert(String(buffer: bytes))
            }
            cursor = next
        } while cursor != "0"
        return Array(seen)
    }
}
