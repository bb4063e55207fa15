import KVS
import NIOCore
import RESP

/// The cluster's slot map as one node reported it: which primary serves each slot range, and
/// every node the report names (primaries and replicas), read from `CLUSTER SHARDS` (Redis 7+)
/// or, on an error reply to it, from `CLUSTER SLOTS`.
///
/// Addresses follow the specification: a node's preferred endpoint is used; an empty endpoint
/// (or a NULL one in `CLUSTER SLOTS`) means "unknown, use the host you asked", and `?` (a
/// misconfigured hostname) falls back to the node's IP, then to that host.
///
/// - Thread safety: a value type.
struct ClusterSlotMap: Sendable, Equatable {

    /// One slot range and the primary serving it.
    struct Range: Sendable, Equatable {
        var slots: ClosedRange<Int>
        var primary: RedisEndpoint
    }

    /// The served ranges; slots in none of them have no primary.
    var ranges: [Range]
    /// Every node named in the report, primaries first, each once.
    var nodes: [RedisEndpoint]

    /// How many slots the ranges cover (a slot listed twice counts twice).
    var coveredSlots: Int { ranges.reduce(0) { $0 + $1.slots.count } }

    // MARK: - CLUSTER SHARDS

    /// Parses a `CLUSTER SHARDS` reply (RESP2 flat field lists or RESP3 maps).
    ///
    /// - Parameter askedHost: the host the command was sent to, for nodes whose endpoint is unknown.
    /// - Throws: `.protocolError` when the reply does not have the documented shape.
    static func parseShards(_ reply: RESPValue, askedHost: String) throws(KVSError) -> ClusterSlotMap {
        guard let shards = reply.elements else { throw malformed("CLUSTER SHARDS", reply) }
        var ranges: [Range] = []
        var primaries: [RedisEndpoint] = []
        var others: [RedisEndpoint] = []
        for shard in shards {
            guard let fields = fields(of: shard), let slotValues = fields["slots"]?.elements,
                let nodeValues = fields["nodes"]?.elements, slotValues.count % 2 == 0
            else { throw malformed("CLUSTER SHARDS", shard) }
            var primary: (endpoint: RedisEndpoint, online: Bool)?
            for nodeValue in nodeValues {
                guard let node = Self.fields(of: nodeValue) else { throw malformed("CLUSTER SHARDS", nodeValue) }
                guard let port = integer(node["port"]), RedisEndpoint.validPorts.contains(port) else {
                    continue  // a TLS-only node, or a port this client cannot use
                }
                let endpoint = RedisEndpoint(
                    host: host(endpoint: node["endpoint"]?.stringValue, ip: node["ip"]?.stringValue, asked: askedHost),
                    port: port
                )
                let online = node["health"]?.stringValue.map { $0 == "online" } ?? true
                if node["role"]?.stringValue == "master", primary == nil || (online && primary?.online == false) {
                    primary = (endpoint, online)
                }
                if online || node["role"]?.stringValue == "master" { others.append(endpoint) }
            }
            guard let primary else { continue }  // no primary: the shard's slots are unserved
            primaries.append(primary.endpoint)
            var index = 0
            while index < slotValues.count {
                guard let start = integer(slotValues[index]), let end = integer(slotValues[index + 1]),
                    start <= end, start >= 0, end < HashSlot.count
                else { throw malformed("CLUSTER SHARDS", shard) }
                ranges.append(Range(slots: start...end, primary: primary.endpoint))
                index += 2
            }
        }
        return ClusterSlotMap(ranges: ranges, nodes: unique(primaries + others))
    }

    // MARK: - CLUSTER SLOTS

    /// Parses a `CLUSTER SLOTS` reply: `[start, end, [host, port, id, …], replica…]` per range.
    ///
    /// - Parameter askedHost: the host the command was sent to, for nodes whose endpoint is unknown.
    /// - Throws: `.protocolError` when the reply does not have the documented shape.
    static func parseSlots(_ reply: RESPValue, askedHost: String) throws(KVSError) -> ClusterSlotMap {
        guard let entries = reply.elements else { throw malformed("CLUSTER SLOTS", reply) }
        var ranges: [Range] = []
        var primaries: [RedisEndpoint] = []
        var others: [RedisEndpoint] = []
        for entry in entries {
            guard let parts = entry.elements, parts.count >= 3, let start = integer(parts[0]),
                let end = integer(parts[1]),
                start <= end, start >= 0, end < HashSlot.count
            else { throw malformed("CLUSTER SLOTS", entry) }
            var endpoints: [RedisEndpoint] = []
            for nodeValue in parts[2...] {
                guard let node = nodeValue.elements, node.count >= 2 else {
                    throw malformed("CLUSTER SLOTS", nodeValue)
                }
                guard let port = integer(node[1]), RedisEndpoint.validPorts.contains(port) else {
                    endpoints.append(RedisEndpoint(host: "", port: 0))  // unusable; keeps the primary at index 0
                    continue
                }
                let reported = node[0].isNull ? "" : node[0].stringValue
                endpoints.append(RedisEndpoint(host: host(endpoint: reported, ip: nil, asked: askedHost), port: port))
            }
            guard let primary = endpoints.first, primary.port != 0 else { continue }
            primaries.append(primary)
            others.append(contentsOf: endpoints.dropFirst().filter { $0.port != 0 })
            ranges.append(Range(slots: start...end, primary: primary))
        }
        return ClusterSlotMap(ranges: ranges, nodes: unique(primaries + others))
    }

    // MARK: - Helpers

    /// The host to connect to for a node: its preferred endpoint; the asked host when the
    /// endpoint is unknown (empty); its IP, then the asked host, when the endpoint is `?`.
    static func host(endpoint: String?, ip: String?, asked: String) -> String {
        switch endpoint {
        case .some(let endpoint) where !endpoint.isEmpty && endpoint != "?":
            return endpoint
        case .some("?"):
            if let ip, !ip.isEmpty, ip != "?" { return ip }
            return asked
        default:
            return asked
        }
    }

    /// The field list of a RESP2 flat array (`[name, value, name, value, …]`) or a RESP3 map.
    private static func fields(of value: RESPValue) -> [String: RESPValue]? {
        var result: [String: RESPValue] = [:]
        if let pairs = value.withoutAttributes.pairs {
            for (key, value) in pairs {
                guard let name = key.stringValue else { return nil }
                result[name] = value
            }
            return result
        }
        guard let elements = value.withoutAttributes.elements, elements.count % 2 == 0 else { return nil }
        var index = 0
        while index < elements.count {
            guard let name = elements[index].stringValue else { return nil }
            result[name] = elements[index + 1]
            index += 2
        }
        return result
    }

    /// An integer reply, or a decimal in a string (some versions send slot numbers as strings).
    private static func integer(_ value: RESPValue?) -> Int? {
        guard let value = value?.withoutAttributes else { return nil }
        if let number = value.intValue { return Int(exactly: number) }
        return value.stringValue.flatMap { Int($0) }
    }

    private static func unique(_ endpoints: [RedisEndpoint]) -> [RedisEndpoint] {
        var seen = Set<RedisEndpoint>()
        return endpoints.filter { seen.insert($0).inserted }
    }

    private static func malformed(_ command: String, _ value: RESPValue) -> KVSError {
        KVSError(.protocolError, message: "unexpected \(command) reply: \(value)")
    }
}
