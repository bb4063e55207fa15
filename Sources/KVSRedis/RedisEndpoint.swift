import KVS

/// A node's address: a host name or IP address and a TCP port. ``RedisConfiguration`` names its
/// node with one, and ``RedisClusterConfiguration`` its seeds.
///
/// ```swift
/// let store = RedisClusterStore<String>(seeds: [RedisEndpoint(host: "10.0.0.1", port: 7000)])
/// ```
///
/// - Thread safety: a value type.
public struct RedisEndpoint: Sendable, Hashable, CustomStringConvertible {
    /// The node's host name or IP address.
    public var host: String
    /// The node's TCP port (the client port, not a cluster's bus port).
    public var port: Int

    /// Creates an endpoint; nothing is checked until a configuration holding it is validated.
    ///
    /// - Complexity: O(1).
    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    /// `host:port`, as error messages name nodes.
    public var description: String { "\(host):\(port)" }

    /// The TCP ports a node may have.
    static let validPorts = 1...65535

    /// Checks that the host is not empty and the port is one a node may have.
    ///
    /// - Parameter role: how messages name the endpoint, such as `"seed node"`.
    /// - Throws: `.invalidArgument` naming the endpoint and the problem.
    func validate(as role: String) throws(KVSError) {
        guard !host.isEmpty else {
            throw KVSError(.invalidArgument, message: "\(role) \(self) has an empty host")
        }
        guard Self.validPorts.contains(port) else {
            throw KVSError(.invalidArgument, message: "\(role) \(self) has port \(port), outside 1...65535")
        }
    }
}
