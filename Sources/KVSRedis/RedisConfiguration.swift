/// Where a `RedisStore` connects and how: the node, credentials, database, pool size and timeouts.
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

    /// `host:port`, as error messages name the node.
    var node: String { "\(host):\(port)" }
}
