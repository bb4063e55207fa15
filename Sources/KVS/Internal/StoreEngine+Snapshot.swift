extension StoreEngine {
    /// Writes every entry that has not expired to a snapshot file at `path`, as of one
    /// point in time, crash-safely (see ``SnapshotFile/replace(_:_:)``).
    ///
    /// The shards' tables are copied under every shard lock at once (O(shards), by
    /// copy-on-write) and then encoded with no lock held, so readers and writers are
    /// stopped only for that instant. A shard written during the save copies its table
    /// once, so memory may grow by up to the store's size while a save runs.
    ///
    /// - Parameter encode: appends a value's bytes to the buffer.
    /// - Throws: `.storeClosed`, `.io`, `.invalidArgument` (a key or value over 4 GiB,
    ///   or what `encode` throws).
    ///
    /// Inlinable so that it runs specialized for the store's key and value types: run
    /// generically, every table slot it reads or writes would look up type metadata
    /// (docs/design/single-key-path.md).
    @inlinable
    package func saveSnapshot(
        to path: String,
        encode: (Value, inout [UInt8]) throws(KVSError) -> Void
    ) throws(KVSError) {
        try checkOpen()
        var tables: [ShardTable<Key, Value>]
        let now: Int64
        (tables, now) = pointInTimeTables()
        defer { endReading(&tables) }
        try SnapshotFile.replace(path) { (sink) throws(KVSError) in
            SnapshotFormat.appendHeader(to: &sink.buffer, createdAt: now)
            var records: UInt64 = 0
            for table in tables {
                for (key, entry) in table where !entry.isExpired(at: now) {
                    let keyFits = key.withSnapshotBytes { bytes in
                        guard bytes.count <= UInt32.max else { return false }
                        sink.buffer.appendLittleEndian(UInt32(bytes.count))
                        sink.buffer.append(contentsOf: bytes)
                        return true
                    }
                    guard keyFits else {
                        throw KVSError(
                            .invalidArgument,
                            key: key.displayName,
                            message: "a key longer than 4 GiB cannot be saved"
                        )
                    }
                    sink.buffer.appendLittleEndian(entry.expiresAt)
                    let lengthAt = sink.buffer.count
                    sink.buffer.appendLittleEndian(UInt32(0))
                    try encode(entry.value, &sink.buffer)
                    let length = sink.buffer.count - lengthAt - 4
                    guard length <= UInt32.max else {
                        throw KVSError(
                            .invalidArgument,
                            key: key.displayName,
                            message: "a value larger than 4 GiB cannot be saved"
                        )
                    }
                    Swift.withUnsafeBytes(of: UInt32(length).littleEndian) { le in
                        for i in 0..<4 { sink.buffer[lengthAt + i] = le[i] }
                    }
                    records += 1
                    try sink.flushIfFull()
                }
            }
            sink.buffer.appendLittleEndian(records)
            try sink.flush()
            sink.buffer.appendLittleEndian(sink.crc.value)
        }
    }

    /// Replaces the whole contents with a snapshot file's, all or nothing: the file is
    /// read, checked (magic, version, checksum, every record) and decoded into new
    /// tables first; only when all of that succeeded are the tables swapped in, under
    /// every shard lock at once. Entries already expired are skipped. The file may come
    /// from a store with any shard count: keys are placed by this engine's sharding.
    ///
    /// - Parameter decode: makes a value from its bytes.
    /// - Throws: `.storeClosed`; `.io` (missing or unreadable file); `.snapshotCorrupted`
    ///   (short, damaged or foreign file); `.snapshotUnsupportedVersion`;
    ///   `.invalidShardIndex` (a custom hash rejected a key). The store is unchanged then.
    ///
    /// Inlinable for the same reason as ``saveSnapshot(to:encode:)``.
    @inlinable
    package func loadSnapshot(
        from path: String,
        decode: (UnsafeRawBufferPointer) throws(KVSError) -> Value
    ) throws(KVSError) {
        try checkOpen()
        let file = try SnapshotFile.readAll(path)
        let now = clock.now()
        let decoded = file.withUnsafeBytes { bytes in
            Result { () throws(KVSError) -> [ShardTable<Key, Value>] in
                let (records, count) = try SnapshotFormat.validate(bytes, path: path)
                var reader = SnapshotRecordReader(bytes, records: records, path: path)
                var tables = [ShardTable<Key, Value>](repeating: [:], count: shards.count)
                let perShard = Int(clamping: count) / max(shards.count, 1)
                if perShard > 0, count <= UInt64(records.count) {  // a sane count: reserve space up front
                    for i in tables.indices { tables[i].reserveCapacity(perShard + perShard / 8 + 1) }
                }
                var n = 0
                while !reader.isAtEnd {
                    let record = try reader.next(recordNumber: n)
                    guard let key = Key(snapshotBytes: record.key) else {
                        throw KVSError.snapshotCorrupted(path, "record \(n) has a key that is not valid for this store")
                    }
                    let value: Value
                    do throws(KVSError) { value = try decode(record.value) } catch {
                        throw KVSError.snapshotCorrupted(
                            path,
                            "record \(n) (key \(key.displayName.debugDescription)) has an undecodable value: \(error.message)"
                        )
                    }
                    n += 1
                    if record.expiresAt != 0 && record.expiresAt <= now { continue }
                    guard let index = shardIndex(of: key) else { throw invalidShardIndexError(key) }
                    tables[index][key] = Entry(value: value, expiresAt: record.expiresAt)
                }
                guard UInt64(n) == count else {
                    throw KVSError.snapshotCorrupted(path, "the trailer says \(count) records but the file holds \(n)")
                }
                return tables
            }
        }
        let tables = try decoded.get()
        try checkOpen()
        replaceAll(with: tables)
        #if KVS_INTERNAL_CHECKS
        checkInvariants()
        #endif
    }
}
