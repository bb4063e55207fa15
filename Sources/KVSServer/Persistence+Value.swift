import KVS

/// One value's record, as the snapshot file and DUMP payloads hold it: its type tag, then
/// the type's body (docs/server-snapshot-format.md). The encoders write to a
/// ``RecordSink``: the snapshot file, or a DUMP payload in memory.
extension Persistence {
    /// Appends the record of `payload` (type tag included) to `sink`.
    ///
    /// - Throws: `tooLarge` when a count or a length does not fit 32 bits; `.io` when the
    ///   sink fails to write.
    /// - Complexity: O(size of the value).
    static func appendValue(
        _ payload: StoredValue.Payload,
        to sink: inout some RecordSink,
        tooLarge: KVSError
    ) throws(KVSError) {
        switch payload {
        case .string(let bytes):
            guard bytes.count <= UInt32.max else { throw tooLarge }
            sink.buffer.append(stringTag)
            sink.buffer.appendLittleEndian(UInt32(truncatingIfNeeded: bytes.count))
            bytes.withUnsafeBytes { sink.buffer.append(contentsOf: $0) }
        case .hash(let hash):
            guard hash.count <= UInt32.max else { throw tooLarge }
            sink.buffer.append(hashTag)
            sink.buffer.appendLittleEndian(UInt32(truncatingIfNeeded: hash.count))
            var fits = true
            hash.forEachPair { field, value in
                guard field.count <= UInt32.max, value.count <= UInt32.max else {
                    fits = false
                    return
                }
                sink.buffer.appendLittleEndian(UInt32(truncatingIfNeeded: field.count))
                sink.buffer.append(contentsOf: field)
                sink.buffer.appendLittleEndian(UInt32(truncatingIfNeeded: value.count))
                sink.buffer.append(contentsOf: value)
            }
            guard fits else { throw tooLarge }
        case .list(let list):
            try writeList(list, into: &sink, tooLarge: tooLarge)
        case .set(let set):
            guard appendSet(set, to: &sink) else { throw tooLarge }
        case .zset(let zset):
            try append(zset, to: &sink.buffer, tooLarge: tooLarge)
        case .vacant:
            preconditionFailure("a vacant value is never stored")
        }
        try sink.flushIfFull()
    }

    /// Reads the body of a record whose type tag is `tag`, encoding a collection as
    /// `limits` choose.
    ///
    /// - Throws: `corrupt(why)` (`why` reads as the end of a sentence about the record)
    ///   for a truncated or empty record, a repeated field or member, a NaN score or an
    ///   unknown tag.
    /// - Complexity: O(size of the record).
    static func readValue(
        tag: UInt8,
        _ reader: inout Reader,
        limits: ValueLimits,
        corrupt: (String) -> KVSError
    ) throws(KVSError) -> StoredValue.Payload {
        switch tag {
        case stringTag:
            guard let length: UInt32 = reader.read(), let bytes = reader.take(Int(length)) else {
                throw corrupt("is truncated")
            }
            return .string(ValueBytes(bytes))
        case hashTag:
            guard let fieldCount: UInt32 = reader.read(), fieldCount > 0 else {
                throw corrupt("is an empty or truncated hash")
            }
            var hash = HashValue()
            for _ in 0..<fieldCount {
                guard let fieldLength: UInt32 = reader.read(), let field = reader.take(Int(fieldLength)),
                    let valueLength: UInt32 = reader.read(), let bytes = reader.take(Int(valueLength))
                else { throw corrupt("is truncated") }
                guard hash.set(ValueBytes(field), to: ValueBytes(bytes), limits: limits.hash) else {
                    throw corrupt("repeats a hash field")
                }
            }
            return .hash(hash)
        case listTag:
            guard let list = readList(&reader, limits: limits.list) else {
                throw corrupt("is an empty or truncated list")
            }
            return .list(list)
        case setTag:
            switch readSet(&reader, limits: limits.set) {
            case .success(let set): return .set(set)
            case .failure(.truncated): throw corrupt("is truncated")
            case .failure(.empty): throw corrupt("is an empty set")
            case .failure(.duplicate): throw corrupt("repeats a set member")
            }
        case zsetTag:
            return .zset(try readZSet(&reader, limits: limits.zset, corrupt: corrupt))
        default:
            throw corrupt("has an unknown type tag \(tag)")
        }
    }
}

/// The encoding thresholds a loaded collection is built with.
struct ValueLimits {
    var hash: HashLimits
    var list: ListLimits
    var set: SetLimits
    var zset: ZSetLimits
}

/// Where value records are written: the snapshot file, flushed as its buffer fills, or a
/// buffer in memory (``MemorySink``).
protocol RecordSink {
    /// Bytes not yet written; encoders append to it.
    var buffer: [UInt8] { get set }
    /// Writes the buffer out if the sink writes anywhere and the buffer is full.
    ///
    /// - Throws: `KVSError` `.io` when the write fails.
    mutating func flushIfFull() throws(KVSError)
}

extension FileSink: RecordSink {}

/// A record sink that keeps everything in memory (a DUMP payload).
struct MemorySink: RecordSink {
    var buffer: [UInt8] = []

    /// Does nothing: the whole record stays in ``buffer``.
    mutating func flushIfFull() throws(KVSError) {}
}
