/// What kvs-bench measures below the public API: the shard hash, and the expiry sweep on a
/// clock that stands still. SPI (`@_spi(Benchmarks) import KVS`), because the benchmarks are a
/// package of their own (`Benchmarks/`), which sees no `package` symbol; not API.
///
/// Thread-safety: the functions are thread-safe; ``ManualSweepEngine`` is as the store is.
@_spi(Benchmarks) public enum Benchmarking {
    /// The shard hash the store computes for `key` (FNV-1a over its UTF-8 in NFC), inlined
    /// as in the store.
    ///
    /// - Complexity: O(n) in the key's UTF-8 length; ASCII keys in one pass, no allocation.
    @inlinable
    public static func shardHash(_ key: String) -> UInt32 { key.shardHash }
}

/// A store engine whose expiry reads a manual clock and whose sweeper never wakes: the
/// caller moves the clock and sweeps, as the sweeper thread would (kvs-bench's EXPSWEEP).
/// `set` and `sweepExpired` are inlinable, so that the benchmark gets the engine's code
/// specialized for its value type, as a store's client does.
///
/// Thread-safety: thread-safe, as the store.
@_spi(Benchmarks) public final class ManualSweepEngine<Value: Sendable>: Sendable {
    @usableFromInline let clock = ManualClock()
    @usableFromInline let engine: StoreEngine<String, Value>

    /// An empty engine of `shardCount` shards.
    ///
    /// - Throws: ``KVSError/Code/invalidShardCount`` unless `1 <= shardCount <= 1<<20`.
    public init(shardCount: Int) throws(KVSError) {
        // A sweep interval of an hour: the sweeper thread never ticks in a benchmark's time.
        engine = try StoreEngine(shardCount: shardCount, clock: .manual(clock), sweepInterval: .seconds(3600))
    }

    /// The manual clock's time, in nanoseconds since the Unix epoch.
    @inlinable
    public func now() -> Int64 { clock.now() }

    /// Moves the clock forward by `duration`.
    public func advance(by duration: Duration) { clock.advance(by: duration) }

    /// Stores `value` under `key`, expiring at `expiresAt` (nanoseconds since the epoch; 0:
    /// never).
    ///
    /// - Throws: ``KVSError/Code/storeClosed`` after ``close()``.
    @inlinable
    public func set(_ key: String, _ value: Value, expiresAt: Int64) throws(KVSError) {
        try engine.set(key, value, expiresAt: expiresAt)
    }

    /// One sweep, as the sweeper thread makes it: removes the keys whose deadline is at least
    /// `grace` nanoseconds past.
    ///
    /// - Returns: how many keys it removed.
    @inlinable
    public func sweepExpired(grace: Int64) -> Int { engine.sweepExpired(grace: grace) }

    /// The number of keys, expired ones not yet swept included.
    public var count: Int { engine.count }

    /// Closes the engine and stops its sweeper thread.
    public func close() { engine.close() }
}
