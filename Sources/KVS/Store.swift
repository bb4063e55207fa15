/// The interface of a key-value store: the Go package `kvs`'s `Store`.
///
/// ``KeyValueStore`` conforms; so can your own stores or test doubles. Code written
/// against `some Store<Value>` works with any of them, and catches the one error type,
/// ``KVSError``, by its code.
///
/// Conformers must be safe to call from any thread or task at once (the protocol
/// refines `Sendable`).
public protocol Store<Value>: Sendable {
    /// The type of the values the store holds.
    associatedtype Value: Sendable

    /// Returns the value stored under `key`.
    ///
    /// - Returns: the value; a missing or expired key throws instead.
    /// - Throws: ``KVSError`` with code ``KVSError/Code/notFound`` when the key is absent
    ///   or has expired, ``KVSError/Code/storeClosed`` after the store was shut down.
    /// - Complexity: O(1) on average for ``KeyValueStore``.
    func get(_ key: String) throws(KVSError) -> Value

    /// Stores `value` under `key`, replacing any previous value (and its time-to-live).
    ///
    /// - Throws: ``KVSError``, such as ``KVSError/Code/storeClosed``.
    /// - Complexity: O(1) on average for ``KeyValueStore``.
    func set(_ key: String, _ value: Value) throws(KVSError)

    /// Removes `key` and its value.
    ///
    /// - Throws: ``KVSError`` with code ``KVSError/Code/notFound`` when the key is absent
    ///   or has expired, ``KVSError/Code/storeClosed`` after the store was shut down.
    /// - Complexity: O(1) on average for ``KeyValueStore``.
    func delete(_ key: String) throws(KVSError)

    /// Returns every key in the store that has not expired, in no particular order.
    ///
    /// - Throws: ``KVSError``, such as ``KVSError/Code/storeClosed``.
    /// - Complexity: O(n) for ``KeyValueStore``.
    func keys() throws(KVSError) -> [String]
}
