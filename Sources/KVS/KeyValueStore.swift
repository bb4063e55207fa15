#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// An in-memory key-value store, split into shards, safe to share between threads and
/// tasks: the Swift version of the Go package `kvs`.
///
/// ```swift
/// let store = KeyValueStore<String>()
/// defer { store.shutdown() }
/// try store.set("greeting", "hello")
/// try store.set("session:42", "token", ttl: .seconds(30))
/// let greeting = try store.get("greeting")        // "hello"
/// ```
///
/// ## Sharding
/// A key's shard is 32-bit FNV-1a over the key's UTF-8 in Unicode Normalization Form C,
/// modulo the shard count (the same index as the Go package's for ASCII keys), or what a
/// custom hash function returns. Keys follow Swift's `String` equality: canonically
/// equivalent keys such as `"\u{E9}"` and `"e\u{301}"` are the same key.
///
/// ## Thread safety
/// Every method may be called from any thread or task at once. An operation on one key
/// locks only that key's shard, so operations on different shards run in parallel.
/// Batches lock each shard they touch once. ``keys()`` and snapshots see one point in
/// time of the whole store. ``count`` is an atomic read.
///
/// ## Expiry
/// A key set with a time-to-live is invisible from the moment it expires (passive
/// expiry) and is removed by a background thread within about 50 ms after that (active
/// expiry), which is started by the first write with a TTL and stopped by ``shutdown()``.
/// The background work grows with the number of keys that carry a TTL, not with the
/// size of the store.
public final class KeyValueStore<Value: Sendable>: Store, Sendable {
    @usableFromInline package let engine: StoreEngine<String, Value>
    /// The loads of `value(forKey:ttl:orLoad:)` in flight, touched only on a miss.
    let loads: LoadFlights<Value>

    /// Creates an empty store with ``defaultShardCount`` shards, which suits this machine, that
    /// places keys by FNV-1a.
    ///
    /// - Complexity: O(``defaultShardCount``).
    /// - Thread safety: the new store may be shared at once.
    public convenience init() {
        let engine: StoreEngine<String, Value>
        do {
            engine = try StoreEngine(shardCount: Self.defaultShardCount)
        } catch {
            preconditionFailure("the default shard count \(Self.defaultShardCount) is out of range: \(error)")
        }
        self.init(engine: engine)
    }

    /// The shard count of ``init()``: the smallest power of two that is at least four times
    /// the processors online, and at least 64, at most 4,096.
    ///
    /// Four or more shards per processor keep low the chance that threads running at once
    /// want the same shard's lock; 64 is the floor because it is what the benchmarks and the
    /// server's databases use; the cap bounds the memory of an empty store on a very large
    /// machine. A power of two lets a
    /// key's shard be found with a mask instead of a division.
    ///
    /// - Complexity: O(1); asks the operating system once per call.
    public static var defaultShardCount: Int {
        defaultShardCount(processorCount: onlineProcessorCount())
    }

    /// ``defaultShardCount`` on a machine with `processorCount` processors online.
    package static func defaultShardCount(processorCount: Int) -> Int {
        let wanted = min(max(4 * processorCount, 64), 4096)
        var count = 64
        while count < wanted { count <<= 1 }
        return count
    }

    /// Creates an empty store with `shardCount` shards that places keys by FNV-1a.
    ///
    /// - Parameter shardCount: how many shards, from 1 to 1,048,576. More shards mean
    ///   less contention between threads; 64 to 256 suit most machines, and ``init()``
    ///   chooses ``defaultShardCount``.
    /// - Throws: ``KVSError/Code/invalidShardCount`` if `shardCount` is out of range.
    /// - Complexity: O(shardCount).
    public convenience init(shardCount: Int) throws(KVSError) {
        try self.init(engine: StoreEngine(shardCount: shardCount))
    }

    /// Creates an empty store with `shardCount` shards that places keys by `hash`.
    ///
    /// - Parameters:
    ///   - shardCount: how many shards, from 1 to 1,048,576.
    ///   - hash: returns the shard index of a key, in `0..<shardCount`. It must be
    ///     deterministic, safe to call from several threads at once, and return the same
    ///     index for keys that compare equal (`"\u{E9}" == "e\u{301}"`), as `Hashable`
    ///     requires: hash a normalized form such as the key's NFC UTF-8, or its ASCII
    ///     bytes when keys are ASCII. An index out of range fails only the operation on
    ///     that key, with ``KVSError/Code/invalidShardIndex``; nothing is written.
    /// - Throws: ``KVSError/Code/invalidShardCount`` if `shardCount` is out of range.
    public convenience init(shardCount: Int, hash: @escaping @Sendable (String) -> Int) throws(KVSError) {
        try self.init(engine: StoreEngine(shardCount: shardCount, hash: hash))
    }

    /// Creates a store over an engine (tests inject a clock this way).
    package init(engine: StoreEngine<String, Value>) {
        self.engine = engine
        loads = LoadFlights(stripeCount: min(engine.shardCount, 64))
    }

    /// The number of shards.
    public var shardCount: Int { engine.shardCount }

    /// Returns the value stored under `key`.
    ///
    /// - Returns: the value; an expired key is treated as absent (and removed).
    /// - Throws: ``KVSError/Code/notFound`` when the key is absent or expired,
    ///   ``KVSError/Code/storeClosed`` after ``shutdown()``, ``KVSError/Code/invalidShardIndex``
    ///   when a custom hash returns an index out of range.
    /// - Complexity: O(1) on average, plus O(k) to hash a key of k bytes.
    /// - Thread safety: locks the key's shard.
    @inlinable
    public func get(_ key: String) throws(KVSError) -> Value {
        try engine.get(key)
    }

    /// Runs `body` on the value stored under `key`, in place: the value is neither copied
    /// nor retained.
    ///
    /// `body` runs with the key's shard locked, so keep it short, and do not call the
    /// store from inside it: an operation on a key of the same shard would deadlock.
    ///
    /// - Returns: what `body` returns.
    /// - Throws: ``KVSError/Code/notFound`` when the key is absent or expired (`body` is
    ///   not called), ``KVSError/Code/storeClosed`` after ``shutdown()``,
    ///   ``KVSError/Code/invalidShardIndex`` when a custom hash returns an index out of range.
    /// - Complexity: O(1) on average, plus O(k) to hash a key of k bytes, plus `body`.
    /// - Thread safety: locks the key's shard for the duration of `body`.
    @inlinable
    public func withValue<R>(_ key: String, _ body: (borrowing Value) -> R) throws(KVSError) -> R {
        try engine.withValue(key, body)
    }

    /// Stores `value` under `key`, replacing any previous value. A time-to-live the key
    /// had is cleared: the key no longer expires.
    ///
    /// - Throws: ``KVSError/Code/storeClosed``, ``KVSError/Code/invalidShardIndex``.
    /// - Complexity: O(1) on average.
    /// - Thread safety: locks the key's shard.
    @inlinable
    public func set(_ key: String, _ value: Value) throws(KVSError) {
        try engine.set(key, value)
    }

    /// Removes `key` and its value.
    ///
    /// - Throws: ``KVSError/Code/notFound`` when the key is absent or expired,
    ///   ``KVSError/Code/storeClosed``, ``KVSError/Code/invalidShardIndex``.
    /// - Complexity: O(1) on average.
    /// - Thread safety: locks the key's shard.
    @inlinable
    public func delete(_ key: String) throws(KVSError) {
        try engine.delete(key)
    }

    /// Whether `key` holds a value that has not expired. Never throws: returns `false` on
    /// a closed store and for a key whose custom hash is out of range.
    ///
    /// - Complexity: O(1) on average.
    /// - Thread safety: locks the key's shard.
    @inlinable
    public func exists(_ key: String) -> Bool {
        engine.exists(key)
    }

    /// Every key that has not expired, in no particular order, as of one point in time.
    ///
    /// - Throws: ``KVSError/Code/storeClosed``.
    /// - Complexity: O(n). Every shard lock is held together only while the shards'
    ///   tables are copied, which is O(shards) (copy-on-write); the keys are collected
    ///   with no lock held.
    public func keys() throws(KVSError) -> [String] {
        try engine.keys()
    }

    /// The number of keys, including expired keys that have not been removed yet
    /// (they are, within about 50 ms of expiring). The Go package's `Len`.
    ///
    /// - Complexity: O(1): an atomic counter kept by every path that adds or removes a key.
    /// - Thread safety: an atomic load.
    public var count: Int { engine.count }

    /// Removes every key, atomically: a concurrent reader sees the store either as it was
    /// or empty.
    ///
    /// - Throws: ``KVSError/Code/storeClosed``.
    /// - Complexity: O(shards) under every shard lock; the old entries are freed after
    ///   the locks are released, in O(n).
    public func removeAll() throws(KVSError) {
        try engine.checkOpen()
        engine.replaceAll(with: Array(repeating: [:], count: engine.shardCount))
    }

    /// Shuts the store down: stops the background expiry and waits for its thread to exit
    /// (at most 5 seconds). Afterwards every operation throws
    /// ``KVSError/Code/storeClosed`` (batches and snapshots included) and ``exists(_:)``
    /// returns `false`. Calling it again does nothing.
    ///
    /// A store that is never shut down is still freed with its expiry machinery once the
    /// last reference to it goes away.
    ///
    /// - Complexity: O(1), plus the wait for the expiry thread when it runs.
    /// - Thread safety: may race with any operation; an operation that started before
    ///   `shutdown()` may complete.
    public func shutdown() {
        engine.close()
    }

    /// The former name of ``shutdown()``.
    @available(*, deprecated, renamed: "shutdown()")
    public func close() {
        shutdown()
    }

    /// Whether ``shutdown()`` has been called: the store is closed to every operation.
    public var isClosed: Bool { engine.isClosed }
}

/// The processors online, as the operating system reports them; at least 1.
private func onlineProcessorCount() -> Int {
    max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))))
}
