/// The interface of a key-value store: the Go package `kvs`'s `Store`.
///
/// ``KeyValueStore`` conforms; so can your own stores or test doubles. Code written
/// against `some Store<Value>` works with any of them.
///
/// Conformers must be safe to call from any thread or task at once (the protocol
/// refines `Sendable`).
public protocol Store<Value>: Sendable {
    /// The type of the values the store holds.
    associatedtype Value: Sendable

    /// Returns the value stored under `key`.
    ///
    /// - Throws: ``KVSError`` with code ``KVSError/Code/notFound`` when the key is absent
    ///   or has expired.
    func get(_ key: String) throws -> Value

    /// Stores `value` under `key`, replacing any previous value (and its time-to-live).
    func set(_ key: String, _ value: Value) throws

    /// Removes `key` and its value.
    ///
    /// - Throws: ``KVSError`` with code ``KVSError/Code/notFound`` when the key is absent
    ///   or has expired.
    func delete(_ key: String) throws

    /// Returns every key in the store that has not expired, in no particular order.
    func keys() throws -> [String]
}
