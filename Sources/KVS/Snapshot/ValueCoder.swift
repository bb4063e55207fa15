// Turns stored values into bytes and back, for snapshot files and the network.
// The byte format is described in docs/value-encoding.md.

import Foundation

/// Encodes and decodes values of one type to bytes. Decides once, at init, whether V has a raw fast path.
///
/// - `String` is stored as its UTF-8 bytes, `[UInt8]`, `Data` and ``ValueBytes`` as their bytes, with nothing
///   added: the type is known from `V`, and the length from the buffer the value occupies.
/// - Every other type goes through its `Codable` implementation into the tagged binary format
///   of docs/value-encoding.md: LEB128 varints for integers (zigzag for signed ones), IEEE
///   bits for floating point, length-prefixed UTF-8 strings, count-prefixed containers, keyed
///   containers as (key, value) pairs.
///
/// - Thread safety: a value type holding no mutable state; one coder can be used from any
///   number of threads at once.
@usableFromInline
package struct ValueCoder<V: Codable>: Sendable {
    /// How values of `V` are represented, decided once from `V`'s type.
    private enum Representation: Sendable {
        case string
        case byteArray
        case data
        case valueBytes
        case codable
    }

    private let representation: Representation

    /// Creates a coder for `V`, choosing the raw representation if `V` is `String`,
    /// `[UInt8]`, `Data` or ``ValueBytes``. Cost: O(1).
    @usableFromInline
    package init() {
        if V.self == String.self {
            representation = .string
        } else if V.self == [UInt8].self {
            representation = .byteArray
        } else if V.self == Data.self {
            representation = .data
        } else if V.self == ValueBytes.self {
            representation = .valueBytes
        } else {
            representation = .codable
        }
    }

    /// Appends the encoding of `value` to `buffer`. Throws KVSError code .invalidArgument if the value's Encodable implementation throws (message says why).
    ///
    /// On a throw, `buffer` is left as it was. Cost: O(size of the encoding), amortized; the raw
    /// representations are a single copy, and the Codable path allocates a couple of small
    /// objects per value plus one per nested value whose type the format has no tag for.
    @usableFromInline
    package func encode(_ value: V, into buffer: inout [UInt8]) throws(KVSError) {
        switch representation {
        case .string:
            // `init` chose `.string` only after `V.self == String.self` proved V is String.
            var string = unsafeBitCast(value, to: String.self)
            string.withUTF8 { buffer.append(contentsOf: $0) }
        case .byteArray:
            // `init` chose `.byteArray` only after `V.self == [UInt8].self` proved V is [UInt8].
            buffer.append(contentsOf: unsafeBitCast(value, to: [UInt8].self))
        case .data:
            // `init` chose `.data` only after `V.self == Data.self` proved V is Data.
            unsafeBitCast(value, to: Data.self).withUnsafeBytes { buffer.append(contentsOf: $0) }
        case .valueBytes:
            // `init` chose `.valueBytes` only after `V.self == ValueBytes.self` proved V is ValueBytes.
            unsafeBitCast(value, to: ValueBytes.self).withUnsafeBytes { buffer.append(contentsOf: $0) }
        case .codable:
            try encodeCodable(value, into: &buffer)
        }
    }

    /// Decodes one value from exactly `bytes` (the whole buffer is the value). Throws KVSError code .snapshotCorrupted (message says what was wrong) on any malformed, truncated or trailing input; never crashes, never traps, never reads out of bounds, whatever the bytes.
    ///
    /// A `String` is rejected if `bytes` is not valid UTF-8. Errors thrown by `V`'s own
    /// `init(from:)` are reported as `.snapshotCorrupted` too. Cost: O(bytes) in the usual
    /// cases (keys in encoded order); a keyed container read out of order is indexed once, and
    /// each out-of-order key costs O(pairs in that container).
    @usableFromInline
    package func decode(from bytes: UnsafeRawBufferPointer) throws(KVSError) -> V {
        switch representation {
        case .string:
            let string = bytes.withMemoryRebound(to: UInt8.self) { utf8 in
                // Once validated, `String(decoding:)` takes the bytes as they are.
                BinaryUTF8Validation.isValid(utf8) ? String(decoding: utf8, as: UTF8.self) : nil
            }
            guard let string else {
                throw Self.corrupted("the bytes of a String value are not valid UTF-8")
            }
            // `init` chose `.string` only after `V.self == String.self` proved V is String.
            return unsafeBitCast(string, to: V.self)
        case .byteArray:
            // `init` chose `.byteArray` only after `V.self == [UInt8].self` proved V is [UInt8].
            return unsafeBitCast([UInt8](bytes), to: V.self)
        case .data:
            // `init` chose `.data` only after `V.self == Data.self` proved V is Data.
            return unsafeBitCast(Data(bytes), to: V.self)
        case .valueBytes:
            // `init` chose `.valueBytes` only after `V.self == ValueBytes.self` proved V is ValueBytes.
            return unsafeBitCast(ValueBytes(bytes), to: V.self)
        case .codable:
            return try decodeCodable(from: bytes)
        }
    }

    // MARK: Codable path

    private func encodeCodable(_ value: V, into buffer: inout [UInt8]) throws(KVSError) {
        let sink = BinaryEncodingSink()
        let root = BinaryEncoder(sink: sink, parent: nil, key: nil, depth: 0)
        sink.innermost = root
        do {
            try root.encodeSingle(value)
            try sink.finish(root)
        } catch {
            sink.innermost = nil
            throw KVSError(
                .invalidArgument,
                message: "a value of type \(V.self) cannot be encoded: \(Self.describe(error))"
            )
        }
        sink.writer.withBytes { buffer.append(contentsOf: $0) }
    }

    private func decodeCodable(from bytes: UnsafeRawBufferPointer) throws(KVSError) -> V {
        guard let base = bytes.baseAddress, !bytes.isEmpty else {
            throw Self.corrupted("the value is empty")
        }
        let session = BinaryDecodingSession(reader: BinaryValueReader(base: base, count: bytes.count))
        let root = BinaryDecoder(session: session, parent: nil, key: nil, depth: 0, start: 0)
        do {
            let value = try root.decodeSingle(V.self)
            let end: Int
            do throws(BinaryFormatError) {
                end = try root.endOffset()
            } catch {
                throw root.decodingError(error)
            }
            if let deferred = session.deferredError { throw deferred }
            guard end == bytes.count else {
                throw DecodingError.dataCorrupted(
                    DecodingError.Context(
                        codingPath: [],
                        debugDescription: "\(bytes.count - end) bytes follow the value (at byte \(end))"
                    )
                )
            }
            return value
        } catch {
            throw Self.corrupted(Self.describe(error))
        }
    }

    private static func corrupted(_ detail: String) -> KVSError {
        KVSError(.snapshotCorrupted, message: "stored bytes are not a valid value of type \(V.self): \(detail)")
    }

    /// A one-line description of an error thrown while encoding or decoding.
    private static func describe(_ error: any Error) -> String {
        if let error = error as? DecodingError {
            switch error {
            case .typeMismatch(_, let context), .valueNotFound(_, let context), .dataCorrupted(let context):
                return "\(context.debugDescription), at \(BinaryCodingKey.describe(context.codingPath))"
            case .keyNotFound(let key, let context):
                return "no value for key \"\(key.stringValue)\", at \(BinaryCodingKey.describe(context.codingPath))"
            @unknown default:
                return "\(error)"
            }
        }
        if let error = error as? EncodingError {
            switch error {
            case .invalidValue(_, let context):
                return "\(context.debugDescription), at \(BinaryCodingKey.describe(context.codingPath))"
            @unknown default:
                return "\(error)"
            }
        }
        return "\(error)"
    }
}
