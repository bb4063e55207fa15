import Foundation  // trimmingCharacters
import KVSRedis

/// Where the program keeps its keys: in this process, on one RESP server, or on a Redis Cluster.
package enum Backend: Sendable, Equatable, CustomStringConvertible {
    /// The embedded `KeyValueStore`, with this many shards.
    case embedded(shards: Int)
    /// `RedisStore` on one server: `kvs-server`, Redis or Valkey.
    case server(host: String, port: Int)
    /// `RedisClusterStore` on the cluster these seed nodes belong to.
    case cluster(seeds: [RedisEndpoint])

    /// `embedded KeyValueStore (64 shards)`, `RedisStore on 127.0.0.1:6379`, ...
    package var description: String {
        switch self {
        case .embedded(let shards): "embedded KeyValueStore (\(shards) shards)"
        case .server(let host, let port): "RedisStore on \(host):\(port)"
        case .cluster(let seeds): "RedisClusterStore on \(seeds.map(\.description).joined(separator: ","))"
        }
    }

    /// Parses `host:port,host:port,...` (an IPv6 host in brackets: `[::1]:7000`).
    ///
    /// - Returns: the endpoints, or nil when one of them is not `host:port` with a port from 1
    ///   to 65535 or the list is empty.
    package static func parseSeeds(_ text: String) -> [RedisEndpoint]? {
        var seeds: [RedisEndpoint] = []
        for item in text.split(separator: ",", omittingEmptySubsequences: true) {
            let item = item.trimmingCharacters(in: .whitespaces)
            guard let colon = item.lastIndex(of: ":"), let port = Int(item[item.index(after: colon)...]),
                (1...65_535).contains(port)
            else { return nil }
            var host = String(item[..<colon])
            if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
            guard !host.isEmpty else { return nil }
            seeds.append(.init(host: host, port: port))
        }
        return seeds.isEmpty ? nil : seeds
    }
}
