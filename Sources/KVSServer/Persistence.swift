import Dispatch
import KVS
import Logging
import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Saving and loading every database in one snapshot file (docs/server-snapshot-format.md),
/// the `save` policy's bookkeeping, and BGSAVE's background thread.
///
/// Thread-safety: thread-safe.
package final class Persistence: Sendable {
    package let path: String
    let logger: Logger
    /// Writes since the last successful save (Redis `rdb_changes_since_last_save`).
    package let dirty = Atomic<Int>(0)
    /// Unix time of the last successful save (or of start-up).
    package let lastSave = Atomic<Int64>(Int64(time(nil)))
    /// Whether a save is running; one at a time.
    package let saving = Atomic<Bool>(false)
    /// Whether the last background save succeeded.
    package let lastBackgroundSaveOK = Atomic<Bool>(true)
    package let saveCount = Atomic<Int>(0)

    static let magic: [UInt8] = Array("KVSSERV\0".utf8)
    /// The version written: 2 tags every value with its type. Version 1 (strings only,
    /// no tag) is still read.
    static let version: UInt32 = 2
    /// The type tags of version 2.
    static let stringTag: UInt8 = 0
    static let hashTag: UInt8 = 1
    static let zsetTag: UInt8 = 4
    static let endMarker: UInt32 = 0xFFFF_FFFF

    init(path: String, logger: Logger) {
        self.path = path
        self.logger = logger
    }

    /// The point-in-time contents of every database (each taken under all its shard locks).
    typealias Contents = [(index: Int, tables: [ShardTable<ByteKey, StoredValue>], now: Int64)]

    static func capture(_ databases: [Database]) -> Contents {
        databases.map { db in
            let (tables, now) = db.engine.pointInTimeTables()
            return (db.index, tables, now)
        }
    }

    /// Hands the copies of ``capture(_:)`` back once written (`databases` as given to it):
    /// see `StoreEngine.endReading(_:)`.
    static func endReading(_ contents: inout Contents, _ databases: [Database]) {
        for (db, position) in zip(databases, contents.indices) {
            db.engine.endReading(&contents[position].tables)
        }
    }

    /// Saves every database now, on the calling thread.
    ///
    /// - Throws: `CommandError` when a save is already running or the file cannot be written.
    package func save(_ databases: [Database]) throws(CommandError) {
        guard saving.compareExchange(expected: false, desired: true, ordering: .acquiringAndReleasing).exchanged else {
            throw CommandError("ERR Background save already in progress")
        }
        defer { saving.store(false, ordering: .releasing) }
        let before = dirty.load(ordering: .relaxed)
        var contents = Self.capture(databases)
        defer { Self.endReading(&contents, databases) }
        do {
            try write(contents)
        } catch {
            logger.error("save failed", metadata: ["path": "\(path)", "error": "\(error.message)"])
            throw CommandError("ERR \(error.message)")
        }
        finished(changesSaved: before)
    }

    /// Starts a save on a background thread; the point-in-time copy is taken before it
    /// returns (O(shards)), so the save holds exactly what was acknowledged before.
    ///
    /// - Returns: false when a save is already running.
    package func backgroundSave(_ databases: [Database]) -> Bool {
        guard saving.compareExchange(expected: false, desired: true, ordering: .acquiringAndReleasing).exchanged else {
            return false
        }
        let before = dirty.load(ordering: .relaxed)
        let contents = Self.capture(databases)
        DispatchQueue.global(qos: .utility).async { [self] in
            defer { saving.store(false, ordering: .releasing) }
            var contents = contents
            defer { Self.endReading(&contents, databases) }
            do {
                try write(contents)
                lastBackgroundSaveOK.store(true, ordering: .relaxed)
                finished(changesSaved: before)
                logger.info("background saving terminated with success")
            } catch {
                lastBackgroundSaveOK.store(false, ordering: .relaxed)
                logger.error("background save failed", metadata: ["path": "\(path)", "error": "\(error)"])
            }
        }
        return true
    }

    private func finished(changesSaved: Int) {
        dirty.subtract(changesSaved, ordering: .relaxed)
        lastSave.store(Int64(time(nil)), ordering: .relaxed)
        saveCount.add(1, ordering: .relaxed)
    }

    /// Writes `contents` crash-safely to ``path``.
    func write(_ contents: Contents) throws(KVSError) {
        try SnapshotFile.replace(path) { (sink) throws(KVSError) in
            sink.buffer.append(contentsOf: Self.magic)
            sink.buffer.appendLittleEndian(Self.version)
            sink.buffer.appendLittleEndian(UInt32(0))
            sink.buffer.appendLittleEndian(contents.first?.now ?? 0)
            var total: UInt64 = 0
            for (index, tables, now) in contents {
                var live: UInt64 = 0
                for table in tables { for (_, e) in table where !e.isExpired(at: now) { live += 1 } }
                if live == 0 { continue }
                sink.buffer.appendLittleEndian(UInt32(index))
                sink.buffer.appendLittleEndian(live)
                for table in tables {
                    for (key, entry) in table where !entry.isExpired(at: now) {
                        let tooLarge = KVSError(
                            .invalidArgument,
                            key: key.displayName,
                            message: "a key, value, field, member or collection over 4 GiB cannot be saved"
                        )
                        guard key.count <= UInt32.max else { throw tooLarge }
                        sink.buffer.appendLittleEndian(UInt32(truncatingIfNeeded: key.count))
                        key.withUnsafeBytes { sink.buffer.append(contentsOf: $0) }
                        sink.buffer.appendLittleEndian(entry.expiresAt)
                        try Self.appendValue(entry.value.payload, to: &sink, tooLarge: tooLarge)
                    }
                }
                total += live
            }
            sink.buffer.appendLittleEndian(Self.endMarker)
            sink.buffer.appendLittleEndian(total)
            try sink.flush()
            sink.buffer.appendLittleEndian(sink.crc.value)
        }
    }

    /// Whether a snapshot file exists at ``path``.
    package var fileExists: Bool { access(path, F_OK) == 0 }

    /// Loads the snapshot file into `databases` (replacing their contents), all or
    /// nothing: the whole file is checked before any database changes.
    ///
    /// - Returns: how many keys were loaded (0 when there is no file).
    /// - Throws: `KVSError` (`.io`, `.snapshotCorrupted`, `.snapshotUnsupportedVersion`)
    ///   for an unreadable, damaged or foreign file.
    package func load(
        into databases: [Database],
        now: Int64,
        hashLimits: HashLimits = .redisDefaults,
        listLimits: ListLimits = .redisDefaults,
        setLimits: SetLimits = .redisDefaults,
        zsetLimits: ZSetLimits = .redisDefaults
    ) throws(KVSError) -> Int {
        guard fileExists else { return 0 }
        let bytes = try SnapshotFile.readAll(path)
        let path = self.path
        let limits = ValueLimits(hash: hashLimits, list: listLimits, set: setLimits, zset: zsetLimits)
        func corrupt(_ why: String) -> KVSError { KVSError.snapshotCorrupted(path, why) }
        guard bytes.count >= 24 + 16 else { throw corrupt("the file is too short (\(bytes.count) bytes)") }
        guard Array(bytes[0..<8]) == Self.magic else { throw corrupt("it is not a kvs-server snapshot (bad magic)") }
        var reader = Reader(bytes: bytes)
        reader.offset = 8
        let version: UInt32 = reader.read() ?? 0
        guard version == 1 || version == Self.version else {
            throw KVSError(
                .snapshotUnsupportedVersion,
                message: "snapshot \(path) has version \(version); this server reads versions 1 and \(Self.version)"
            )
        }
        let tagged = version >= 2
        let stored = bytes.withUnsafeBytes { raw in raw.loadUnaligned(fromByteOffset: bytes.count - 4, as: UInt32.self)
        }
        let computed = bytes.withUnsafeBytes { raw in
            CRC32.checksum(UnsafeRawBufferPointer(rebasing: raw[0..<(bytes.count - 4)]))
        }
        guard UInt32(littleEndian: stored) == computed else { throw corrupt("checksum mismatch") }
        reader.offset = 24
        reader.end = bytes.count - 4
        var tables = databases.map { [ShardTable<ByteKey, StoredValue>](repeating: [:], count: $0.engine.shardCount) }
        var total: UInt64 = 0
        while true {
            guard let index: UInt32 = reader.read() else { throw corrupt("truncated section header") }
            if index == Self.endMarker { break }
            guard Int(index) < databases.count else {
                throw corrupt(
                    "it holds database \(index) but the server has \(databases.count) databases (use --databases)"
                )
            }
            guard let count: UInt64 = reader.read() else { throw corrupt("truncated section header") }
            let engine = databases[Int(index)].engine
            for n in 0..<count {
                let truncated = corrupt("record \(n) of database \(index) is truncated")
                guard let keyLength: UInt32 = reader.read(), let key = reader.take(Int(keyLength)),
                    let expiresAt: Int64 = reader.read()
                else { throw truncated }
                var tag = Self.stringTag
                if tagged {
                    guard let read: UInt8 = reader.read() else { throw truncated }
                    tag = read
                }
                let payload = try Self.readValue(tag: tag, &reader, limits: limits) {
                    corrupt("record \(n) of database \(index) \($0)")
                }
                let value = StoredValue(payload: payload, stamp: 0)
                total += 1
                if expiresAt != 0 && expiresAt <= now { continue }
                let k = ByteKey(key)
                guard let shard = engine.shardIndex(of: k) else { throw corrupt("a key cannot be placed") }
                tables[Int(index)][shard][k] = Entry(value: value, expiresAt: expiresAt)
            }
        }
        guard let trailerCount: UInt64 = reader.read(), trailerCount == total, reader.offset == reader.end else {
            throw corrupt("the record count in the trailer does not match the file")
        }
        var loaded = 0
        for (i, db) in databases.enumerated() {
            db.engine.replaceAll(with: tables[i])
            loaded += db.engine.count
        }
        return loaded
    }

    /// A bounds-checked little-endian reader.
    struct Reader {
        let bytes: [UInt8]
        var offset = 0
        var end: Int

        init(bytes: [UInt8]) {
            self.bytes = bytes
            self.end = bytes.count
        }

        mutating func read<T: FixedWidthInteger>() -> T? {
            let size = MemoryLayout<T>.size
            guard offset + size <= end else { return nil }
            let v = bytes.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: offset, as: T.self) }
            offset += size
            return T(littleEndian: v)
        }

        mutating func take(_ n: Int) -> [UInt8]? {
            guard n >= 0, offset + n <= end else { return nil }
            defer { offset += n }
            return Array(bytes[offset..<(offset + n)])
        }
    }
}
