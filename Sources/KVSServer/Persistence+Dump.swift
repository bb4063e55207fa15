import KVS

/// DUMP payloads (docs/server-snapshot-format.md, "DUMP payloads"): one value's snapshot
/// record (type tag and body), then the payload format's version (UInt16) and the
/// CRC-64/Jones of everything before it (UInt64), both little-endian — the layout of
/// Redis's payloads, whose record is RDB instead.
extension Persistence {
    /// The DUMP payload format's version. Its high bit keeps it apart from every RDB
    /// version, so a payload that Redis made is refused by version, not misread.
    static let dumpVersion: UInt16 = 0x8001

    /// The DUMP payload of `payload`.
    ///
    /// - Throws: `KVSError` `.invalidArgument` when a count or a length of the value does
    ///   not fit 32 bits.
    /// - Complexity: O(size of the value).
    static func dumpPayload(of payload: StoredValue.Payload) throws(KVSError) -> [UInt8] {
        var sink = MemorySink()
        let tooLarge = KVSError(
            .invalidArgument,
            message: "a value, field, member or collection over 4 GiB cannot be dumped"
        )
        try appendValue(payload, to: &sink, tooLarge: tooLarge)
        sink.buffer.appendLittleEndian(dumpVersion)
        let crc = sink.buffer.withUnsafeBytes { CRC64.checksum($0) }
        sink.buffer.appendLittleEndian(crc)
        return sink.buffer
    }

    /// Why RESTORE refuses a payload.
    enum DumpPayloadError: Error {
        /// Too short, another version, or the checksum does not match (Redis's
        /// `verifyDumpPayload`).
        case versionOrChecksum
        /// The checksum matches but the record is not a valid value.
        case badFormat
    }

    /// The value of a DUMP payload, each collection encoded as `limits` choose.
    ///
    /// Checks the version and the checksum first, then reads the record, which must end
    /// exactly where the version begins. Never traps on any input.
    ///
    /// - Complexity: O(`bytes.count`).
    static func restorePayload(_ bytes: [UInt8], limits: ValueLimits) -> Result<StoredValue.Payload, DumpPayloadError> {
        // A tag, the shortest body (4 bytes), the version and the checksum.
        guard bytes.count >= 1 + 4 + 2 + 8 else { return .failure(.versionOrChecksum) }
        let body = bytes.count - 10
        let (version, stored, computed) = bytes.withUnsafeBytes { raw in
            (
                UInt16(littleEndian: raw.loadUnaligned(fromByteOffset: body, as: UInt16.self)),
                UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: body + 2, as: UInt64.self)),
                CRC64.checksum(UnsafeRawBufferPointer(rebasing: raw[0..<(body + 2)]))
            )
        }
        guard version == dumpVersion, stored == computed else { return .failure(.versionOrChecksum) }
        var reader = Reader(bytes: bytes)
        reader.end = body
        guard let tag: UInt8 = reader.read() else { return .failure(.badFormat) }
        let payload: StoredValue.Payload
        do {
            payload = try readValue(tag: tag, &reader, limits: limits) { _ in
                KVSError(.snapshotCorrupted, message: "bad DUMP payload")
            }
        } catch {
            return .failure(.badFormat)
        }
        guard reader.offset == body else { return .failure(.badFormat) }
        return .success(payload)
    }
}
