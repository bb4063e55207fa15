/// The one error type that every throwing API of this package throws.
///
/// A `KVSError` carries a ``code`` that says what kind of failure it is, the ``key``
/// it concerns where there is one, and a ``message`` in words a person can act on.
/// Match on the code:
///
/// ```swift
/// do {
///     let value = try store.get("user:42")
/// } catch where error.code == .notFound {    // typed throws: `error` is a KVSError
///     // absent or expired
/// }
/// ```
///
/// Codes are a struct with static members rather than an enum, so that new codes
/// can be added without breaking a `switch` in your code.
///
/// - Thread safety: a value type; safe to send between threads and tasks.
public struct KVSError: Error, Hashable, Sendable, CustomStringConvertible {
    /// What kind of failure an error is.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: Hashable, Sendable {
            case notFound, storeClosed, invalidTTL, invalidShardCount, invalidShardIndex
            case snapshotCorrupted, snapshotUnsupportedVersion, io, invalidArgument
            case transactionConflict, recursiveLoad
            case connectionFailed, timeout, protocolError, serverError, crossSlot, clusterDown
        }

        private let base: Base
        private init(_ base: Base) { self.base = base }

        /// The key is absent, or present but expired.
        public static let notFound = Code(.notFound)
        /// The store was shut down (`shutdown()`); it accepts no more operations.
        public static let storeClosed = Code(.storeClosed)
        /// A time-to-live was negative (or too large to represent).
        public static let invalidTTL = Code(.invalidTTL)
        /// The shard count given to an initializer was zero or negative.
        public static let invalidShardCount = Code(.invalidShardCount)
        /// A custom hash function returned an index outside `0..<shardCount`.
        public static let invalidShardIndex = Code(.invalidShardIndex)
        /// A snapshot file is truncated, damaged (its checksum does not match) or not a snapshot.
        public static let snapshotCorrupted = Code(.snapshotCorrupted)
        /// A snapshot file was written in a format version this build cannot read.
        public static let snapshotUnsupportedVersion = Code(.snapshotUnsupportedVersion)
        /// Reading or writing a file failed (missing file, permissions, full disk, ...).
        public static let io = Code(.io)
        /// An argument was outside what the operation accepts (for example a value too large to encode).
        public static let invalidArgument = Code(.invalidArgument)
        /// A transaction kept conflicting with concurrent writers and gave up after its retry bound.
        public static let transactionConflict = Code(.transactionConflict)
        /// A loader given to ``KeyValueStore``'s `value(forKey:ttl:orLoad:)` or
        /// `value(forKey:orLoadWithTTL:)` asked the same store to load the key it is loading, directly or through
        /// the loaders of other keys on the same thread or task: waiting for its own load would
        /// never end, so the inner call throws this instead.
        public static let recursiveLoad = Code(.recursiveLoad)
        /// A network store could not connect to a node, or lost its connection before the reply
        /// arrived; the message names the node (`host:port`). A write may or may not have happened.
        public static let connectionFailed = Code(.connectionFailed)
        /// A network store got no reply within its configured bound (connect or request timeout);
        /// the message names the node. A write may or may not have happened.
        public static let timeout = Code(.timeout)
        /// A node sent a reply that is not valid RESP, not the shape the command expects, or a value
        /// that does not decode as the store's value type.
        public static let protocolError = Code(.protocolError)
        /// A node answered with an error reply (`-ERR ...`, `-WRONGTYPE ...`, `-NOAUTH ...`); the
        /// message holds the server's text and names the node.
        public static let serverError = Code(.serverError)
        /// The keys of a multi-key operation that must be atomic map to more than one cluster hash
        /// slot; put them in one slot with a `{hash tag}`.
        public static let crossSlot = Code(.crossSlot)
        /// The cluster cannot serve the key's slot now (no primary for it, or failover under way).
        public static let clusterDown = Code(.clusterDown)

        /// The code's name, such as `"notFound"`.
        public var description: String {
            switch base {
            case .notFound: "notFound"
            case .storeClosed: "storeClosed"
            case .invalidTTL: "invalidTTL"
            case .invalidShardCount: "invalidShardCount"
            case .invalidShardIndex: "invalidShardIndex"
            case .snapshotCorrupted: "snapshotCorrupted"
            case .snapshotUnsupportedVersion: "snapshotUnsupportedVersion"
            case .io: "io"
            case .invalidArgument: "invalidArgument"
            case .transactionConflict: "transactionConflict"
            case .recursiveLoad: "recursiveLoad"
            case .connectionFailed: "connectionFailed"
            case .timeout: "timeout"
            case .protocolError: "protocolError"
            case .serverError: "serverError"
            case .crossSlot: "crossSlot"
            case .clusterDown: "clusterDown"
            }
        }
    }

    /// What kind of failure this is.
    public var code: Code
    /// The key the failure concerns, or `nil` when it concerns no single key (closing, snapshots).
    public var key: String?
    /// What went wrong, in words a person can act on.
    public var message: String

    /// Creates an error with a code, an optional key and a message.
    public init(_ code: Code, key: String? = nil, message: String) {
        self.code = code
        self.key = key
        self.message = message
    }

    /// `"KVSError.notFound (key \"user:42\"): no value is stored under this key, or it has expired"`.
    public var description: String {
        if let key {
            return "KVSError.\(code) (key \(key.debugDescription)): \(message)"
        }
        return "KVSError.\(code): \(message)"
    }
}

extension KVSError {
    @usableFromInline
    package static func notFound(_ key: String) -> KVSError {
        KVSError(.notFound, key: key, message: "no value is stored under this key, or it has expired")
    }

    @usableFromInline
    package static func storeClosed(key: String? = nil) -> KVSError {
        KVSError(.storeClosed, key: key, message: "the store has been closed; create a new store to continue")
    }

    @usableFromInline
    package static func invalidTTL(_ key: String?, _ ttl: Duration) -> KVSError {
        KVSError(
            .invalidTTL,
            key: key,
            message: "time-to-live \(ttl) is negative; use .zero for no expiry or a positive duration"
        )
    }

    package static func invalidShardIndex(_ key: String, index: Int, shardCount: Int) -> KVSError {
        KVSError(
            .invalidShardIndex,
            key: key,
            message:
                "the custom hash function returned \(index), outside 0..<\(shardCount); nothing was read or written"
        )
    }

    package static func recursiveLoad(_ key: String) -> KVSError {
        KVSError(
            .recursiveLoad,
            key: key,
            message: "a loader asked for the key it is loading; it would wait for itself forever, so nothing was loaded"
        )
    }

    package static func io(_ message: String) -> KVSError {
        KVSError(.io, message: message)
    }

    @usableFromInline
    package static func snapshotCorrupted(_ path: String, _ detail: String) -> KVSError {
        KVSError(
            .snapshotCorrupted,
            message: "snapshot \(path) is not a valid snapshot: \(detail); the store was left unchanged"
        )
    }
}
