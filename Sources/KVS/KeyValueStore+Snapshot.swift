extension KeyValueStore where Value: Codable {
    /// Writes the store's contents to a snapshot file at `path`, as of one point in time.
    ///
    /// The file (format: `docs/snapshot-format.md`) holds every key that has not expired,
    /// its value and its absolute expiry time, with a CRC-32 over the whole file. It is
    /// written to a temporary file beside `path`, flushed to disk and renamed over
    /// `path`, so a crash or a full disk at any moment leaves the previous snapshot
    /// intact. Values are encoded through `Codable` in a compact binary form; `String`,
    /// `[UInt8]` and `Data` values are stored as their raw bytes.
    ///
    /// - Throws: ``KVSError/Code/io`` when the file cannot be written (the previous file
    ///   is left as it was), ``KVSError/Code/invalidArgument`` when a value's `encode(to:)`
    ///   throws, ``KVSError/Code/storeClosed``.
    /// - Complexity: O(n). Every shard lock is held together only while the tables are
    ///   copied, which is O(shards) (copy-on-write); encoding and writing hold no lock,
    ///   so readers and writers go on meanwhile. A shard written during the save copies
    ///   its table once.
    @inlinable
    public func saveSnapshot(to path: String) throws(KVSError) {
        let coder = ValueCoder<Value>()
        try engine.saveSnapshot(to: path) { (value, buffer) throws(KVSError) in
            try coder.encode(value, into: &buffer)
        }
    }

    /// Replaces the store's whole contents with a snapshot file's (replace semantics).
    ///
    /// All or nothing: the file is read, checked and decoded completely before anything
    /// changes, then swapped in under every shard lock at once; any failure leaves the
    /// store exactly as it was. Keys that expired before the load are skipped. The file
    /// may come from a store with a different shard count.
    ///
    /// - Throws: ``KVSError/Code/io`` for a missing or unreadable file,
    ///   ``KVSError/Code/snapshotCorrupted`` for a truncated, damaged or foreign file,
    ///   ``KVSError/Code/snapshotUnsupportedVersion`` for a file of an unknown format
    ///   version, ``KVSError/Code/invalidShardIndex`` when a custom hash rejects a key,
    ///   ``KVSError/Code/storeClosed``.
    /// - Complexity: O(n) in the file's entries; holds every shard lock only for the swap.
    @inlinable
    public func loadSnapshot(from path: String) throws(KVSError) {
        let coder = ValueCoder<Value>()
        try engine.loadSnapshot(from: path) { (bytes) throws(KVSError) in
            try coder.decode(from: bytes)
        }
    }
}
