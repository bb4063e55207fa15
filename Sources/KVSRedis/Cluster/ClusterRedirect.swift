/// The error replies by which a cluster node says "not here" or "not now", parsed from the
/// reply's text: `MOVED slot host:port`, `ASK slot host:port`, `TRYAGAIN …`, `CLUSTERDOWN …`.
///
/// In a redirect an empty host (`MOVED 3999 :6380`) means the node's endpoint is unknown: the
/// client sends to the host it just used, with the given port (cluster specification).
///
/// - Thread safety: a value type.
enum ClusterRedirect: Sendable, Equatable {

    /// The slot is served by another node for good: update the map and resend there.
    case moved(slot: Int, to: RedisEndpoint)
    /// The slot is migrating and the key is not here: resend there once, after `ASKING`.
    case ask(slot: Int, to: RedisEndpoint)
    /// A multi-key command during a slot migration, or a key the node cannot serve yet: retry later.
    case tryAgain
    /// The cluster (or the slot) is not served now, for example during a failover.
    case clusterDown

    /// Parses an error reply's text; `nil` for every other error.
    ///
    /// - Parameter node: the node that replied, whose host an empty redirect host stands for.
    init?(message: String, from node: RedisEndpoint) {
        if message.hasPrefix("TRYAGAIN") {
            self = .tryAgain
            return
        }
        if message.hasPrefix("CLUSTERDOWN") {
            self = .clusterDown
            return
        }
        let isMoved = message.hasPrefix("MOVED ")
        guard isMoved || message.hasPrefix("ASK ") else { return nil }
        let parts = message.split(separator: " ", omittingEmptySubsequences: true)
        guard parts.count >= 3, let slot = Int(parts[1]), (0..<HashSlot.count).contains(slot),
            let colon = parts[2].lastIndex(of: ":"), let port = Int(parts[2][parts[2].index(after: colon)...]),
            RedisEndpoint.validPorts.contains(port)
        else { return nil }
        var host = String(parts[2][..<colon])
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }  // [::1]:7000
        if host.isEmpty || host == "?" { host = node.host }
        let target = RedisEndpoint(host: host, port: port)
        self = isMoved ? .moved(slot: slot, to: target) : .ask(slot: slot, to: target)
    }
}
