/// The snapshot file format, version 1 (documented in `docs/snapshot-format.md`).
///
/// ```
/// header   magic "KVSSNAP\0" (8 bytes) | version u32 | flags u32 | created-at i64 (ns since epoch)
/// records  key-length u32 | key bytes | expires-at i64 (ns since epoch, 0 = never) | value-length u32 | value bytes
/// trailer  record-count u64 | CRC-32 u32 of every byte before it
/// ```
/// All integers are little-endian.
@usableFromInline
package enum SnapshotFormat {
    package static let magic: [UInt8] = Array("KVSSNAP\0".utf8)
    package static let version: UInt32 = 1
    package static let headerSize = 24
    package static let trailerSize = 12

    /// Appends the header.
    @usableFromInline
    package static func appendHeader(to buffer: inout [UInt8], createdAt: Int64) {
        buffer.append(contentsOf: magic)
        buffer.appendLittleEndian(version)
        buffer.appendLittleEndian(UInt32(0))
        buffer.appendLittleEndian(createdAt)
    }

    /// Checks header, version and checksum of a whole file and returns the range of its
    /// records and the record count the trailer claims.
    ///
    /// - Throws: `.snapshotCorrupted` for a short file, a wrong magic or a checksum
    ///   mismatch; `.snapshotUnsupportedVersion` for a version other than 1.
    @usableFromInline
    package static func validate(
        _ bytes: UnsafeRawBufferPointer,
        path: String
    ) throws(KVSError) -> (records: Range<Int>, count: UInt64) {
        guard bytes.count >= magic.count, magic.elementsEqual(bytes.prefix(magic.count)) else {
            throw KVSError.snapshotCorrupted(
                path,
                "it does not start with the snapshot magic bytes (a foreign or damaged file)"
            )
        }
        guard bytes.count >= headerSize + trailerSize else {
            throw KVSError.snapshotCorrupted(
                path,
                "the file is truncated (\(bytes.count) bytes, shorter than a header and trailer)"
            )
        }
        let fileVersion = bytes.loadUnaligned(fromByteOffset: 8, as: UInt32.self).littleEndian
        guard fileVersion == version else {
            throw KVSError(
                .snapshotUnsupportedVersion,
                message:
                    "snapshot \(path) has format version \(fileVersion); this build reads version \(version) only; the store was left unchanged"
            )
        }
        let crcOffset = bytes.count - 4
        let stored = bytes.loadUnaligned(fromByteOffset: crcOffset, as: UInt32.self).littleEndian
        let actual = CRC32.checksum(UnsafeRawBufferPointer(rebasing: bytes[..<crcOffset]))
        guard stored == actual else {
            throw KVSError.snapshotCorrupted(path, "checksum mismatch (the file is truncated or damaged)")
        }
        let count = bytes.loadUnaligned(fromByteOffset: bytes.count - trailerSize, as: UInt64.self).littleEndian
        return (headerSize..<(bytes.count - trailerSize), count)
    }
}

/// Reads records from the body of a validated snapshot, checking every length against
/// the bytes left, so that no input can make it read out of bounds.
@usableFromInline
package struct SnapshotRecordReader {
    private let bytes: UnsafeRawBufferPointer
    private var offset: Int
    private let end: Int
    private let path: String

    @usableFromInline
    package init(_ bytes: UnsafeRawBufferPointer, records: Range<Int>, path: String) {
        self.bytes = bytes
        self.offset = records.lowerBound
        self.end = records.upperBound
        self.path = path
    }

    @usableFromInline
    package var isAtEnd: Bool { offset == end }

    /// Reads the next record; `recordNumber` is for the error message.
    @usableFromInline
    package mutating func next(
        recordNumber: Int
    ) throws(KVSError) -> (key: UnsafeRawBufferPointer, expiresAt: Int64, value: UnsafeRawBufferPointer) {
        let keyLength = try readUInt32(recordNumber)
        let key = try take(Int(keyLength), recordNumber)
        let expiresAt = Int64(bitPattern: try readUInt64(recordNumber))
        let valueLength = try readUInt32(recordNumber)
        let value = try take(Int(valueLength), recordNumber)
        return (key, expiresAt, value)
    }

    private mutating func take(_ n: Int, _ record: Int) throws(KVSError) -> UnsafeRawBufferPointer {
        guard n <= end - offset else {
            throw KVSError.snapshotCorrupted(path, "record \(record) runs past the end of the data")
        }
        defer { offset += n }
        return UnsafeRawBufferPointer(rebasing: bytes[offset..<(offset + n)])
    }

    private mutating func readUInt32(_ record: Int) throws(KVSError) -> UInt32 {
        try take(4, record).loadUnaligned(as: UInt32.self).littleEndian
    }

    private mutating func readUInt64(_ record: Int) throws(KVSError) -> UInt64 {
        try take(8, record).loadUnaligned(as: UInt64.self).littleEndian
    }
}

extension Array where Element == UInt8 {
    @inline(__always)
    @usableFromInline
    package mutating func appendLittleEndian<T: FixedWidthInteger>(_ value: T) {
        Swift.withUnsafeBytes(of: value.littleEndian) { append(contentsOf: $0) }
    }
}
