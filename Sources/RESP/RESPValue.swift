import NIOCore

/// A RESP2 or RESP3 value: a reply a server sends, or a command a client sends (an array of bulk
/// strings).
///
/// The decoder produces exactly the case it reads; the encoder writes each case the way Redis does
/// for the connection's protocol version (see ``RESPEncoder``), so a RESP3-only case sent to a RESP2
/// client degrades as Redis degrades it.
///
/// Bulk payloads are `ByteBuffer`s: binary-safe, and slices of the input when decoded (no copy).
/// Simple strings and errors are `String`s; they are text lines by protocol (bytes that are not
/// UTF-8 are repaired with U+FFFD when decoded).
public enum RESPValue: Sendable {
    /// `+text` — a short status reply such as `OK`.
    case simpleString(String)
    /// `-CODE message` — an error reply; by convention the first word is an error code (`ERR`, `WRONGTYPE`).
    case error(String)
    /// `:n` — a signed 64-bit integer.
    case integer(Int64)
    /// `$n` — a binary-safe string.
    case bulkString(ByteBuffer)
    /// `$-1` — RESP2's null (a missing key).
    case nullBulkString
    /// `*n` — an ordered list of values.
    case array([RESPValue])
    /// `*-1` — RESP2's null array (for example, an aborted `EXEC`).
    case nullArray
    /// `_` — RESP3's null.
    case null
    /// `,` — RESP3's double (`inf`, `-inf` and `nan` included).
    case double(Double)
    /// `#t` / `#f` — RESP3's boolean.
    case boolean(Bool)
    /// `(` — RESP3's big number: an optionally signed decimal of any length, as text.
    case bigNumber(String)
    /// `=` — RESP3's verbatim string: a three-character format (`txt`, `mkd`) and the text.
    case verbatimString(format: String, text: ByteBuffer)
    /// `%` — RESP3's map, in wire order (keys may repeat; nothing is deduplicated).
    case map([(key: RESPValue, value: RESPValue)])
    /// `~` — RESP3's set, in wire order.
    case set([RESPValue])
    /// `|` — RESP3's attribute: out-of-band key-value pairs, and the value they annotate (the next
    /// value on the wire).
    indirect case attribute([(key: RESPValue, value: RESPValue)], RESPValue)
    /// `>` — RESP3's push: an out-of-band message (Pub/Sub, client-side caching invalidations).
    case push([RESPValue])
    /// `!` — RESP3's blob error: a binary-safe error.
    case blobError(ByteBuffer)
}

// MARK: - Constructors

extension RESPValue {
    /// The `+OK` reply.
    public static let ok = RESPValue.simpleString("OK")

    /// A bulk string holding the UTF-8 bytes of `text`.
    ///
    /// - Complexity: O(`text.utf8.count`): allocates a buffer and copies.
    public static func bulk(_ text: String) -> RESPValue {
        .bulkString(ByteBuffer(string: text))
    }

    /// A bulk string holding `bytes`.
    ///
    /// - Complexity: O(`bytes.count`): allocates a buffer and copies.
    public static func bulk(_ bytes: [UInt8]) -> RESPValue {
        .bulkString(ByteBuffer(bytes: bytes))
    }

    /// An array of bulk strings: the shape of a command.
    ///
    /// - Complexity: O(total length): one buffer per argument.
    public static func command(_ arguments: [String]) -> RESPValue {
        .array(arguments.map { .bulkString(ByteBuffer(string: $0)) })
    }
}

// MARK: - Accessors

extension RESPValue {
    /// The text of a simple string, bulk string, verbatim string or big number; nil for other cases
    /// and for bytes that are not valid UTF-8.
    ///
    /// - Complexity: O(length): validates and copies.
    public var stringValue: String? {
        switch self {
        case .simpleString(let text), .bigNumber(let text): return text
        case .bulkString(let bytes), .verbatimString(_, let bytes):
            return bytes.withUnsafeReadableBytes { String(validating: $0, as: UTF8.self) }
        default: return nil
        }
    }

    /// The bytes of a bulk string, verbatim string (without its format) or blob error; nil otherwise.
    ///
    /// - Complexity: O(1): shares storage.
    public var bufferValue: ByteBuffer? {
        switch self {
        case .bulkString(let bytes), .verbatimString(_, let bytes), .blobError(let bytes): return bytes
        default: return nil
        }
    }

    /// The value of an integer; nil otherwise (a RESP2 boolean arrives as an integer already).
    public var intValue: Int64? {
        if case .integer(let value) = self { return value }
        return nil
    }

    /// The value of a double; nil otherwise (a RESP2 double arrives as a bulk string).
    public var doubleValue: Double? {
        if case .double(let value) = self { return value }
        return nil
    }

    /// The value of a boolean; nil otherwise.
    public var boolValue: Bool? {
        if case .boolean(let value) = self { return value }
        return nil
    }

    /// The elements of an array, set or push; nil otherwise (null arrays included).
    public var elements: [RESPValue]? {
        switch self {
        case .array(let values), .set(let values), .push(let values): return values
        default: return nil
        }
    }

    /// The pairs of a map, in wire order; nil otherwise.
    public var pairs: [(key: RESPValue, value: RESPValue)]? {
        if case .map(let pairs) = self { return pairs }
        return nil
    }

    /// True for every null: RESP3's `_`, RESP2's `$-1` and `*-1`.
    public var isNull: Bool {
        switch self {
        case .null, .nullBulkString, .nullArray: return true
        default: return false
        }
    }

    /// The message of an error or blob error (lossily decoded as UTF-8); nil otherwise.
    public var errorMessage: String? {
        switch self {
        case .error(let message): return message
        case .blobError(let bytes): return String(buffer: bytes)
        default: return nil
        }
    }

    /// The value an attribute annotates, or the value itself: what a caller that ignores attributes
    /// wants.
    public var withoutAttributes: RESPValue {
        var value = self
        while case .attribute(_, let inner) = value { value = inner }
        return value
    }
}
