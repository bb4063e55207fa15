import KVS

/// Where a `RedisClusterStore` finds the cluster and how it talks to it: seed nodes,
/// credentials, pool size per node, timeouts and the redirect bound.
///
/// The seeds only bootstrap the store: it reads the cluster's slot map from one of them
/// (`CLUSTER SHARDS`) and from then on talks to the nodes the map names, going back to the
/// seeds only when no known node answers.
///
/// ```swift
/// let configuration = RedisClusterConfiguration(
///     seeds: [.init(host: "10.0.0.1", port: 7000), .init(host: "10.0.0.2", port: 7000)],
///     requestTimeout: .seconds(2))
/// ```
///
/// An empty seed list, a seed with an empty host or a port outside 1...65535, a negative
/// ``maxRedirects`` or a timeout that is not positive is reported by ``validate()``, and by
/// every operation of a store made with such a configuration, as `.invalidArgument`.
///
/// - Thread safety: a value type.
public struct RedisClusterConfiguration: Sendable, Hashable {
    /// A node's address: the former name of ``RedisEndpoint``.
    @available(*, deprecated, renamed: "RedisEndpoint")
    public typealias Endpoint = RedisEndpoint

    /// The nodes the store asks for the slot map when it has none, or when none of the nodes it
    /// knows answers; at least one. Any node of the cluster will do, primary or replica.
    public var seeds: [RedisEndpoint]
    /// The password sent with `AUTH` on every new connection to every node, or `nil` for none.
    public var password: String?
    /// The ACL user name sent with `AUTH user password`, or `nil` for the default user.
    public var username: String?
    /// How many connections the store opens to each node at most (4 by default, at least 1);
    /// requests for a node are spread over them round-robin and pipelined on each.
    public var connectionsPerNode: Int
    /// The bound on opening a connection to a node (5 s by default); past it the attempt fails
    /// with `.timeout`.
    public var connectTimeout: Duration
    /// The bound on each request's reply (5 s by default), and on the retries of one operation:
    /// no new attempt starts once this much time has passed since the operation began. A node
    /// that does not reply within it fails the request with `.timeout` and its connection is
    /// replaced. The slot map (`CLUSTER SHARDS`), which the first operation loads, is read
    /// within this bound too: with a bound of well under a second, a busy cluster can fail the
    /// first operation with `.timeout`, and the next one tries again.
    public var requestTimeout: Duration
    /// How many `MOVED`/`ASK` redirects one command may follow (5 by default, 0 or more); one
    /// more fails the command with `.clusterDown` naming the key and the nodes it was sent to.
    public var maxRedirects: Int
    /// The `COUNT` hint of each `SCAN` call in `keys()` (1000 by default).
    public var scanCount: Int

    /// Creates a configuration; every argument but `seeds` has the default its property describes.
    ///
    /// - Complexity: O(1); nothing is checked or connected here (see ``validate()``).
    public init(
        seeds: [RedisEndpoint],
        password: String? = nil,
        username: String? = nil,
        connectionsPerNode: Int = 4,
        connectTimeout: Duration = .seconds(5),
        requestTimeout: Duration = .seconds(5),
        maxRedirects: Int = 5,
        scanCount: Int = 1000
    ) {
        self.seeds = seeds
        self.password = password
        self.username = username
        self.connectionsPerNode = connectionsPerNode
        self.connectTimeout = connectTimeout
        self.requestTimeout = requestTimeout
        self.maxRedirects = maxRedirects
        self.scanCount = scanCount
    }

    /// Checks the configuration without connecting anywhere.
    ///
    /// - Throws: `.invalidArgument` naming the first problem: no seeds, a seed with an empty host
    ///   or a port outside 1...65535, a negative ``maxRedirects``, a ``connectTimeout`` or
    ///   ``requestTimeout`` that is not positive.
    /// - Complexity: O(number of seeds).
    public func validate() throws(KVSError) {
        guard !seeds.isEmpty else {
            throw KVSError(
                .invalidArgument,
                message:
                    "RedisClusterConfiguration.seeds is empty: give at least one host:port of a node of the cluster"
            )
        }
        for seed in seeds { try seed.validate(as: "seed node") }
        guard maxRedirects >= 0 else {
            throw KVSError(.invalidArgument, message: "maxRedirects is \(maxRedirects); use 0 or more")
        }
        guard connectTimeout > .zero, requestTimeout > .zero else {
            throw KVSError(
                .invalidArgument,
                message: "connectTimeout (\(connectTimeout)) and requestTimeout (\(requestTimeout)) must be positive"
            )
        }
    }

    /// The single-node configuration of one node's connection pool.
    func nodeConfiguration(for endpoint: RedisEndpoint) -> RedisConfiguration {
        RedisConfiguration(
            host: endpoint.host,
            port: endpoint.port,
            password: password,
            username: username,
            database: 0,
            connectionsPerNode: max(1, connectionsPerNode),
            connectTimeout: connectTimeout,
            requestTimeout: requestTimeout,
            scanCount: max(1, scanCount)
        )
    }
}
