import Foundation
import KVS
import NIOCore
import RESP

/// How a value type is turned into the bytes of a Redis string and back.
///
/// Ready conformances: `String` (UTF-8), `[UInt8]`, `Data`, `ValueBytes` and `ByteBuffer` (the
/// bytes as they are). Any other `Codable` type conforms by declaring it, with no code:
///
/// ```swift
/// struct Session: Codable, Sendable { var user: String; var expires: Date }
/// extension Session: RedisValueCodec {}
/// ```
///
/// The encoding is the one snapshot files use for values (`docs/value-encoding.md`): raw bytes
/// for `String`, `[UInt8]`, `Data` and `ValueBytes`, a compact binary `Codable` encoding otherwise, so data
/// written by a `KeyValueStore` snapshot and by a `RedisStore` can move both ways.
///
/// - Thread safety: encoding and decoding are pure functions of their input.
public protocol RedisValueCodec: Sendable {
    /// Encodes `value` as the bytes of a Redis string.
    ///
    /// - Throws: `.invalidArgument` if the value cannot be encoded.
    /// - Complexity: O(size of the encoding).
    static func encodeRedisValue(_ value: Self) throws(KVSError) -> ByteBuffer

    /// Decodes a value from the whole of `buffer`.
    ///
    /// - Throws: `.protocolError` if the bytes are not a valid encoding of `Self`.
    /// - Complexity: O(buffer size).
    static func decodeRedisValue(_ buffer: ByteBuffer) throws(KVSError) -> Self
}

extension RedisValueCodec where Self: Codable {
    /// Encodes through the snapshot's value encoding (`ValueCoder`).
    ///
    /// - Throws: `.invalidArgument` if the value's `Encodable` implementation throws.
    /// - Complexity: O(size of the encoding).
    public static func encodeRedisValue(_ value: Self) throws(KVSError) -> ByteBuffer {
        var bytes: [UInt8] = []
        try ValueCoder<Self>().encode(value, into: &bytes)
        return ByteBuffer(bytes: bytes)
    }

    /// Decodes through the snapshot's value encoding (`ValueCoder`).
    ///
    /// - Throws: `.protocolError` if the bytes are malformed for `Self`.
    /// - Complexity: O(buffer size).
    public static func decodeRedisValue(_ buffer: ByteBuffer) throws(KVSError) -> Self {
        do {
            return try buffer.withUnsafeReadableBytes { (raw) throws(KVSError) -> Self in
                try ValueCoder<Self>().decode(from: raw)
            }
        } catch {
            throw KVSError(.protocolError, message: "a stored value does not decode as \(Self.self): \(error.message)")
        }
    }
}

/// A `String` is stored as its UTF-8 bytes; bytes that are not UTF-8 decode as `.protocolError`.
extension String: RedisValueCodec {}
/// A `[UInt8]` is stored as its bytes.
extension Array: RedisValueCodec where Element == UInt8 {}
/// `Data` is stored as its bytes.
extension Data: RedisValueCodec {}

/// A `ValueBytes` is stored as its bytes, so `KeyValueStore<ValueBytes>` moves to
/// `RedisStore<ValueBytes>` unchanged.
extension ValueBytes: RedisValueCodec {
    /// The bytes, copied once into a buffer.
    ///
    /// - Complexity: O(count).
    public static func encodeRedisValue(_ value: ValueBytes) throws(KVSError) -> ByteBuffer {
        value.withUnsafeBytes { ByteBuffer(bytes: $0) }
    }

    /// The readable bytes of `buffer`, copied once.
    ///
    /// - Complexity: O(buffer size).
    public static func decodeRedisValue(_ buffer: ByteBuffer) throws(KVSError) -> ValueBytes {
        buffer.withUnsafeReadableBytes { ValueBytes($0) }
    }
}

/// A `ByteBuffer` is stored as its readable bytes.
extension ByteBuffer: RedisValueCodec {
    /// Returns `value` itself (no copy).
    ///
    /// - Complexity: O(1).
    public static func encodeRedisValue(_ value: ByteBuffer) throws(KVSError) -> ByteBuffer { value }

    /// Returns `buffer` itself (no copy).
    ///
    /// - Complexity: O(1).
    public static func decodeRedisValue(_ buffer: ByteBuffer) throws(KVSError) -> ByteBuffer { buffer }
}

extension RedisValueCodec {
    /// One `SET key value` per item, for a pipelined `batchSet`: the keys and commands in
    /// one order, and the items whose value does not encode with their errors (not sent).
    static func setCommands(
        for items: [String: Self]
    ) -> (keys: [String], commands: [RESPValue], errors: [String: KVSError]) {
        var keys: [String] = []
        var commands: [RESPValue] = []
        var errors: [String: KVSError] = [:]
        keys.reserveCapacity(items.count)
        commands.reserveCapacity(items.count)
        for (key, value) in items {
            do {
                let bytes = try encode(value, key: key)
                keys.append(key)
                commands.append(.array([.bulk("SET"), .bulk(key), .bulkString(bytes)]))
            } catch {
                errors[key] = error
            }
        }
        return (keys, commands, errors)
    }

    /// Encodes `value` for `key`; a failure carries the key.
    ///
    /// - Throws: what ``encodeRedisValue(_:)`` throws, with ``KVSError/key`` set to `key`.
    static func encode(_ value: Self, key: String) throws(KVSError) -> ByteBuffer {
        do {
            return try encodeRedisValue(value)
        } catch {
            var error = error
            error.key = key
            throw error
        }
    }

    /// Decodes the bytes of `key` read from `node`; a failure names both.
    ///
    /// - Throws: what ``decodeRedisValue(_:)`` throws, with the key set and the node named.
    static func decode(_ bytes: ByteBuffer, key: String, node: String) throws(KVSError) -> Self {
        do {
            return try decodeRedisValue(bytes)
        } catch {
            var error = error
            error.key = key
            error.message += " (read from \(node))"
            throw error
        }
    }
}
