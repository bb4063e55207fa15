/// What ``KeyValueStore/batchGet(_:)`` found: every distinct key asked for is in exactly
/// one of ``values`` or ``errors``.
public struct BatchGetResult<Value> {
    /// The values found, by key.
    public var values: [String: Value]
    /// The keys that could not be read, with why: ``KVSError/Code/notFound`` for an absent
    /// or expired key, ``KVSError/Code/invalidShardIndex`` when a custom hash misbehaved.
    public var errors: [String: KVSError]

    /// Creates a result from its parts.
    @inlinable
    public init(values: [String: Value] = [:], errors: [String: KVSError] = [:]) {
        self.values = values
        self.errors = errors
    }
}

extension BatchGetResult: Sendable where Value: Sendable {}

/// What ``KeyValueStore/batchSet(_:)`` did: `successful + errors.count` equals the number
/// of items given.
public struct BatchSetResult: Sendable, Hashable {
    /// How many items were stored.
    public var successful: Int
    /// The items that could not be stored, by key, with why.
    public var errors: [String: KVSError]

    /// Creates a result from its parts.
    @inlinable
    public init(successful: Int = 0, errors: [String: KVSError] = [:]) {
        self.successful = successful
        self.errors = errors
    }
}

/// What ``KeyValueStore/batchDelete(_:)`` did: `deleted + errors.count` equals the number
/// of distinct keys given.
public struct BatchDeleteResult: Sendable, Hashable {
    /// How many keys were removed.
    public var deleted: Int
    /// The keys that could not be removed, with why: ``KVSError/Code/notFound`` for a key
    /// that was absent or expired.
    public var errors: [String: KVSError]

    /// Creates a result from its parts.
    @inlinable
    public init(deleted: Int = 0, errors: [String: KVSError] = [:]) {
        self.deleted = deleted
        self.errors = errors
    }
}
