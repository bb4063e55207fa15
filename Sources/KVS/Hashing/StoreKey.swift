import Foundation

/// A key type the storage engine can hold: hashable for the shard's table, with a
/// stable shard hash that agrees with `==`, and a byte form for snapshots.
///
/// `String` keys (the public API) follow Swift's `String` equality, so their shard
/// hash is FNV-1a over the key's UTF-8 in Normalization Form C; ``ByteKey`` (the
/// server's binary keys) compares and hashes byte for byte, as Redis does.
@usableFromInline
package protocol StoreKey: Hashable, Sendable {
    /// 32-bit FNV-1a over the key's canonical bytes: equal keys give equal hashes.
    var shardHash: UInt32 { get }
    /// The seeded hash that places the key in its shard's table (``TableHash``); equal
    /// keys give equal hashes.
    var tableHash: UInt64 { get }
    /// ``shardHash`` and ``tableHash`` together, in one pass over the key where it can.
    var hashes: KeyHashes { get }
    /// The key as a person reads it, for error messages.
    var displayName: String { get }
    /// Calls `body` with the bytes a snapshot stores for this key.
    func withSnapshotBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R
    /// Re-creates a key from its snapshot bytes, or returns `nil` if they are not a valid key.
    init?(snapshotBytes: UnsafeRawBufferPointer)
}

/// A key's two hashes: ``StoreKey/shardHash`` picks the shard, ``StoreKey/tableHash`` the
/// slot in the shard's table.
@usableFromInline
package struct KeyHashes: Sendable {
    @usableFromInline package var shard: UInt32
    @usableFromInline package var table: UInt64

    @inlinable
    package init(shard: UInt32, table: UInt64) {
        self.shard = shard
        self.table = table
    }
}

extension String: StoreKey {
    /// Both hashes from one view of the key's bytes (one ASCII check for both).
    ///
    /// Inlined into the caller (``StoreEngine/locate(_:)``) with the two hashes inlined
    /// into it: `withContiguousStorageIfAvailable` then specializes its small-string path
    /// (bytes copied to the stack, at most 15) and its native path separately, with no
    /// closure call and no `Optional<Optional<_>>` in between. (`var copy = self;
    /// copy.withUTF8` instead would cost a retain and a release of the copy.) Measured in
    /// docs/design/key-hashing.md.
    @inlinable @inline(__always)
    package var hashes: KeyHashes {
        let fast = utf8.withContiguousStorageIfAvailable { bytes -> (hashes: KeyHashes, isASCII: Bool) in
            let (table, isASCII) = TableHash.hashCheckingASCII(UnsafeRawBufferPointer(bytes))
            return (KeyHashes(shard: isASCII ? FNV1a.hash(UnsafeRawBufferPointer(bytes)) : 0, table: table), isASCII)
        }
        if let fast, fast.isASCII { return fast.hashes }
        return KeyHashes(shard: Self.nfcShardHash(self), table: Self.nfcTableHash(self))
    }

    /// FNV-1a over the UTF-8 of the key in Normalization Form C.
    ///
    /// ASCII keys (the common case) are already in NFC, so they are hashed in one pass
    /// over their bytes with no allocation; only a key with a non-ASCII byte is
    /// normalized, and hashed again. Canonically equivalent keys such as `"\u{E9}"` and
    /// `"e\u{301}"`, which `==` says are equal, thus get the same hash.
    @inlinable
    package var shardHash: UInt32 {
        let fast = utf8.withContiguousStorageIfAvailable { FNV1a.hashCheckingASCII($0) }
        if let fast, fast.isASCII {
            return fast.hash
        }
        return Self.nfcShardHash(self)
    }

    /// The slow path of ``shardHash``: normalize to NFC, then hash.
    /// ``TableHash`` over the UTF-8 of the key in Normalization Form C (ASCII keys in one
    /// pass with no allocation, as ``shardHash``).
    @inlinable
    package var tableHash: UInt64 {
        let fast = utf8.withContiguousStorageIfAvailable { TableHash.hashCheckingASCII(UnsafeRawBufferPointer($0)) }
        if let fast, fast.isASCII { return fast.hash }
        return Self.nfcTableHash(self)
    }

    @inline(never) @usableFromInline
    package static func nfcTableHash(_ key: String) -> UInt64 {
        var nfc = key.precomposedStringWithCanonicalMapping
        return nfc.withUTF8 { TableHash.hash(UnsafeRawBufferPointer($0)) }
    }

    @inline(never) @usableFromInline
    package static func nfcShardHash(_ key: String) -> UInt32 {
        var nfc = key.precomposedStringWithCanonicalMapping
        return nfc.withUTF8 { FNV1a.hash(UnsafeRawBufferPointer($0)) }
    }

    @inlinable
    package var displayName: String { self }

    @usableFromInline
    package func withSnapshotBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        var copy = self
        return try copy.withUTF8 { try body(UnsafeRawBufferPointer($0)) }
    }

    @usableFromInline
    package init?(snapshotBytes: UnsafeRawBufferPointer) {
        guard let s = String(validating: snapshotBytes, as: UTF8.self) else { return nil }
        self = s
    }
}

/// A binary key, compared and hashed byte for byte (as Redis does): any bytes, valid
/// UTF-8 or not, and two different byte strings are always two different keys.
///
/// **Short keys are stored inline.** A key of up to ``inlineCapacity`` (22) bytes lives in
/// the key value itself (24 bytes, the size of the table slot's key field), with no
/// allocation; a longer key holds a `[UInt8]`. Every key of the server's benchmarks
/// (`key:000000123456`, 16 bytes) is short. This saves a 64-byte heap block per key, and
/// the lookup follows no pointer to compare keys, a cache miss that would otherwise
/// dominate a GET (docs/design/value-storage.md). The representation is
/// canonical (a key is inline exactly when it is short), so equal keys have equal
/// storage.
@usableFromInline
package struct ByteKey: StoreKey, CustomStringConvertible {
    /// The bytes of a short key, zero-padded, then their count (23 bytes in all).
    @usableFromInline
    struct InlineBytes: Hashable, Sendable {
        @usableFromInline var word0: UInt64 = 0
        @usableFromInline var word1: UInt64 = 0
        @usableFromInline var word2: UInt32 = 0
        @usableFromInline var word3: UInt16 = 0
        @usableFromInline var count: UInt8 = 0

        @inlinable init() {}
    }

    @usableFromInline
    enum Storage: Sendable {
        case inline(InlineBytes)
        case heap([UInt8])
    }

    /// The longest key stored inline.
    @inlinable package static var inlineCapacity: Int { 22 }

    @usableFromInline var storage: Storage

    /// A key with a copy of `bytes`.
    @inlinable
    package init(_ bytes: UnsafeRawBufferPointer) {
        if bytes.count <= Self.inlineCapacity {
            var inline = InlineBytes()
            inline.count = UInt8(truncatingIfNeeded: bytes.count)
            withUnsafeMutableBytes(of: &inline) { target in
                if let source = bytes.baseAddress, let base = target.baseAddress {
                    base.copyMemory(from: source, byteCount: bytes.count)
                }
            }
            storage = .inline(inline)
        } else {
            storage = .heap(Array(bytes))
        }
    }

    /// A key with the bytes of `bytes`.
    @inlinable
    package init(_ bytes: [UInt8]) {
        if bytes.count <= Self.inlineCapacity {
            self = bytes.withUnsafeBytes { ByteKey($0) }
        } else {
            storage = .heap(bytes)
        }
    }

    /// A key with the UTF-8 bytes of `string`.
    package init(_ string: String) {
        var string = string
        self = string.withUTF8 { ByteKey(UnsafeRawBufferPointer($0)) }
    }

    /// The key's bytes (a new array for a short key).
    @inlinable
    package var bytes: [UInt8] {
        switch storage {
        case .inline: return withUnsafeBytes { Array($0) }
        case .heap(let bytes): return bytes
        }
    }

    /// How many bytes the key has.
    @inlinable
    package var count: Int {
        switch storage {
        case .inline(let inline): return Int(inline.count)
        case .heap(let bytes): return bytes.count
        }
    }

    /// Calls `body` with the key's bytes, valid only for the call.
    @inlinable
    package func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        switch storage {
        case .inline(let inline):
            return try Swift.withUnsafeBytes(of: inline) { all in
                try body(UnsafeRawBufferPointer(rebasing: all[..<Int(inline.count)]))
            }
        case .heap(let bytes):
            return try bytes.withUnsafeBytes(body)
        }
    }

    /// Byte-for-byte equality: five integer compares for short keys (the representation
    /// is canonical and zero-padded), one `memcmp` for long ones (the synthesized
    /// element-by-element loop is a large share of a GET's CPU: docs/design/value-storage.md).
    @inlinable
    package static func == (a: ByteKey, b: ByteKey) -> Bool {
        switch (a.storage, b.storage) {
        case (.inline(let x), .inline(let y)):
            return x == y
        case (.heap(let x), .heap(let y)):
            guard x.count == y.count else { return false }
            return x.withUnsafeBytes { x in
                y.withUnsafeBytes { y in
                    guard let p = x.baseAddress, let q = y.baseAddress else { return true }  // both empty
                    return memcmp(p, q, x.count) == 0
                }
            }
        default:
            return false  // one is short, the other long
        }
    }

    /// Hashes the bytes in one call rather than one `combine` per byte.
    @inlinable
    package func hash(into hasher: inout Hasher) {
        withUnsafeBytes { hasher.combine(bytes: $0) }
    }

    @inlinable
    package var shardHash: UInt32 {
        withUnsafeBytes { FNV1a.hash($0) }
    }

    @inlinable
    package var tableHash: UInt64 {
        withUnsafeBytes { TableHash.hash($0) }
    }

    @inlinable
    package var hashes: KeyHashes {
        withUnsafeBytes { KeyHashes(shard: FNV1a.hash($0), table: TableHash.hash($0)) }
    }

    /// The key as text when it is valid UTF-8 without control characters; otherwise its
    /// printable ASCII bytes as they are and every other byte as `\xNN`.
    @usableFromInline
    package var displayName: String {
        let bytes = self.bytes
        let hasControl = bytes.contains { $0 < 0x20 || $0 == 0x7F || $0 == UInt8(ascii: "\\") }
        if !hasControl, let s = String(validating: bytes, as: UTF8.self) { return s }
        let hex = Array("0123456789abcdef".utf8)
        var out = ""
        for byte in bytes {
            if byte >= 0x20 && byte < 0x7F && byte != UInt8(ascii: "\\") {
                out.unicodeScalars.append(UnicodeScalar(byte))
            } else {
                out += "\\x"
                out.unicodeScalars.append(UnicodeScalar(hex[Int(byte >> 4)]))
                out.unicodeScalars.append(UnicodeScalar(hex[Int(byte & 0xF)]))
            }
        }
        return out
    }

    @usableFromInline package var description: String { displayName }

    @usableFromInline
    package func withSnapshotBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try withUnsafeBytes(body)
    }

    @usableFromInline
    package init?(snapshotBytes: UnsafeRawBufferPointer) {
        self.init(snapshotBytes)
    }
}
