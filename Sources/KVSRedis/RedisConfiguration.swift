import KVS

/// Where a `RedisStore` connects and how: the node, credentials, database, pool size and timeouts.
///
/// ```swift
/// let configuration = RedisConfiguration(endpoint: RedisEndpoint(host: "10.0.0.1", port: 6379), database: 2)
/// try configuration.validate()
/// ```
///
/// - Thread safety: a value type.
public struct RedisConfiguration: Sendable, Hashable {
    /// The node's host name or address (`"127.0.0.1"` by default).
    public var host: String
    /// The node's TCP port (6379 by default).
    public var port: Int
    /// The password sent with `AUTH` on every new connection, or `nil` for none.
    public var password: String?
    /// The ACL user name sent with `AUTH user password`, or `nil` for the default user.
    public var username: String?
    /// The database selected with `SELECT` on every new connection (0 by default: no `SELECT`).
    public var database: Int
    /// How many connections the store opens to the node at most (4 by default, at least 1); requests are
    /// spread over them round-robin and pipelined on each. Atomic operations (`update`,
    /// `compareAndSwap`, `transaction`) use as many again, each lent to one operation at a time,
    /// since `WATCH` state belongs to a connection: at most this many run at once.
    public var connectionsPerNode: Int
    /// The bound on opening a connection (5 s by default); past it an operation throws `.timeout`.
    public var connectTimeout: Duration
    /// The bound on each request's reply (5 s by default); past it the operation throws
    /// `.timeout` and the connection is replaced.
    public var requestTimeout: Duration
    /// The `COUNT` hint of each `SCAN` call in `keys()` (1000 by default).
    public var scanCount: Int

    /// Creates a configuration; every argument has the default its property describes.
    public init(
        host: String = "127.0.0.1",
        port: Int = 6379,
        password: String? = nil,
        username: String? = nil,
        database: Int = 0,
        connectionsPerNode: Int = 4,
        connectTimeout: Duration = .seconds(5),
        requestTimeout: Duration = .seconds(5),
        scanCount: Int = 1000
    ) {
        self.host = host
        self.port = port
        self.password = password
        self.username = username
        self.database = database
        self.connectionsPerNode = connectionsPerNode
        self.connectTimeout = connectTimeout
        self.requestTimeout = requestTimeout
        self.scanCount = scanCount
    }

    /// Creates a configuration for the node at `endpoint`; every other argument has the default
    /// its property describes.
    ///
    /// - Complexity: O(1); nothing is checked or connected here (see ``validate()``).
    public init(
        endpoint: RedisEndpoint,
        password: String? = nil,
        username: String? = nil,
        database: Int = 0,
        connectionsPerNode: Int = 4,
        connectTimeout: Duration = .seconds(5),
        requestTimeout: Duration = .seconds(5),
        scanCount: Int = 1000
    ) {
        self.init(
            host: endpoint.host,
            port: endpoint.port,
            password: password,
            username: username,
            database: database,
            connectionsPerNode: connectionsPerNode,
            connectTimeout: connectTimeout,
            requestTimeout: requestTimeout,
            scanCount: scanCount
        )
    }

    /// The node, as ``host`` and ``port`` together.
    public var endpoint: RedisEndpoint {
        get { RedisEndpoint(host: host, port: port) }
        set {
            host = newValue.host
            port = newValue.port
        }
    }

    /// Checks the configuration without connecting anywhere, as
    /// ``RedisClusterConfiguration/validate()`` does for a cluster.
    ///
    /// - Throws: `.invalidArgument` naming the first problem: an empty ``host``, a ``port``
    ///   outside 1...65535, a negative ``database``, a ``connectionsPerNode`` or ``scanCount``
    ///   below 1, a ``connectTimeout`` or ``requestTimeout`` that is not positive.
    /// - Complexity: O(1).
    public func validate() throws(KVSError) {
        try endpoint.validate(as: "node")
        guard database >= 0 else {
            throw KVSError(.invalidArgument, message: "database is \(database); use 0 or more")
        }
        guard connectionsPerNode >= 1 else {
            throw KVSError(.invalidArgument, message: "connectionsPerNode is \(connectionsPerNode); use 1 or more")
        }
        guard scanCount >= 1 else {
            throw KVSError(.invalidArgument, message: "scanCount is \(scanCount); use 1 or more")
        }
        guard connectTimeout > .zero, requestTimeout > .zero else {
            throw KVSError(
                .invalidArgument,
                message: "connectTimeout (\(connectTimeout)) and requestTimeout (\(requestTimeout)) must be positive"
            )
        }
    }

    /// `host:port`, as error messages name the node.
    var node: String { endpoint.description }
}
