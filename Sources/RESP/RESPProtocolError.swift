/// Malformed or over-limit RESP input.
///
/// `description` is the text Redis sends for the same input where Redis detects it, without the
/// leading `ERR ` (a server replies `-ERR \(error)` and then closes the connection, as Redis does).
/// Errors are compared by ``code`` and the offending ``byte``. New codes may be added in a minor
/// release, so switch over them with a `default` case.
///
/// After a decoder throws, the connection's byte stream is out of sync: discard the input and the
/// decoder (or call ``RESPDecoder/reset()`` before starting on a new stream).
public struct RESPProtocolError: Error, Hashable, Sendable, CustomStringConvertible {
    /// What was wrong with the input.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Base: Hashable, Sendable {
            case invalidMultibulkLength, invalidBulkLength, unexpectedArgumentType
            case unbalancedQuotes, tooBigInlineRequest, tooBigMultibulkCountString, tooBigBulkCountString
            case unauthenticatedMultibulkLength, unauthenticatedBulkLength
            case missingCRLF, invalidTypeByte, lineTooLong, nestingTooDeep
            case invalidInteger, invalidDouble, invalidBoolean, invalidBigNumber, invalidNull, invalidVerbatimString
        }

        private let base: Base
        private init(_ base: Base) { self.base = base }

        /// An array header (`*N`) whose count is not a number, or is over the argument limit.
        /// Redis: `Protocol error: invalid multibulk length`.
        public static let invalidMultibulkLength = Code(.invalidMultibulkLength)
        /// A bulk header (`$N`) whose length is not a number, is negative in a command, or is over
        /// the bulk limit. Redis: `Protocol error: invalid bulk length`.
        public static let invalidBulkLength = Code(.invalidBulkLength)
        /// A command argument that is not a bulk string. Redis: `Protocol error: expected '$', got 'x'`.
        public static let unexpectedArgumentType = Code(.unexpectedArgumentType)
        /// An inline command with an unterminated quote, or a closing quote not followed by a blank.
        /// Redis: `Protocol error: unbalanced quotes in request`.
        public static let unbalancedQuotes = Code(.unbalancedQuotes)
        /// An inline command line over the inline limit. Redis: `Protocol error: too big inline request`.
        public static let tooBigInlineRequest = Code(.tooBigInlineRequest)
        /// An array header line over the inline limit. Redis: `Protocol error: too big mbulk count string`.
        public static let tooBigMultibulkCountString = Code(.tooBigMultibulkCountString)
        /// A bulk header line over the inline limit. Redis: `Protocol error: too big bulk count string`.
        public static let tooBigBulkCountString = Code(.tooBigBulkCountString)
        /// More than 10 arguments before authentication.
        /// Redis: `Protocol error: unauthenticated multibulk length`.
        public static let unauthenticatedMultibulkLength = Code(.unauthenticatedMultibulkLength)
        /// An argument over 16,384 bytes before authentication.
        /// Redis: `Protocol error: unauthenticated bulk length`.
        public static let unauthenticatedBulkLength = Code(.unauthenticatedBulkLength)
        /// A `\r` not followed by `\n`, or bulk data not followed by `\r\n` (Redis skips those two
        /// bytes unchecked; kvs refuses, so that a wrong length cannot smuggle a second command).
        public static let missingCRLF = Code(.missingCRLF)
        /// A value that starts with a byte that is no RESP type (values only; commands fall back to
        /// inline).
        public static let invalidTypeByte = Code(.invalidTypeByte)
        /// A simple string, error, number or similar line over the line limit (values only).
        public static let lineTooLong = Code(.lineTooLong)
        /// Aggregates nested deeper than the depth limit (values only).
        public static let nestingTooDeep = Code(.nestingTooDeep)
        /// An integer (`:`) that is not a 64-bit decimal.
        public static let invalidInteger = Code(.invalidInteger)
        /// A double (`,`) that is not a decimal, `inf`, `-inf` or `nan`.
        public static let invalidDouble = Code(.invalidDouble)
        /// A boolean (`#`) other than `t` or `f`.
        public static let invalidBoolean = Code(.invalidBoolean)
        /// A big number (`(`) that is not an optionally signed run of digits.
        public static let invalidBigNumber = Code(.invalidBigNumber)
        /// A null (`_`) with text before its line end.
        public static let invalidNull = Code(.invalidNull)
        /// A verbatim string (`=`) without its three-byte format and `:`.
        public static let invalidVerbatimString = Code(.invalidVerbatimString)

        /// The case name, for logs.
        public var description: String { "\(self.base)" }
    }

    /// What was wrong.
    public let code: Code
    /// The unexpected byte, for ``Code/unexpectedArgumentType`` and ``Code/invalidTypeByte``; nil otherwise.
    public let byte: UInt8?

    /// Creates an error.
    ///
    /// - Parameters:
    ///   - code: what was wrong.
    ///   - byte: the unexpected byte, where the code has one.
    public init(code: Code, byte: UInt8? = nil) {
        self.code = code
        self.byte = byte
    }

    /// The message a server sends after `-ERR `: Redis's exact text where Redis reports the same
    /// problem. It never contains `\r` or `\n`; an unexpected byte that is not printable ASCII is
    /// shown as `\xHH` (where Redis would send the raw byte).
    public var description: String {
        switch self.code {
        case .invalidMultibulkLength: return "Protocol error: invalid multibulk length"
        case .invalidBulkLength: return "Protocol error: invalid bulk length"
        case .unexpectedArgumentType: return "Protocol error: expected '$', got '\(Self.show(self.byte))'"
        case .unbalancedQuotes: return "Protocol error: unbalanced quotes in request"
        case .tooBigInlineRequest: return "Protocol error: too big inline request"
        case .tooBigMultibulkCountString: return "Protocol error: too big mbulk count string"
        case .tooBigBulkCountString: return "Protocol error: too big bulk count string"
        case .unauthenticatedMultibulkLength: return "Protocol error: unauthenticated multibulk length"
        case .unauthenticatedBulkLength: return "Protocol error: unauthenticated bulk length"
        case .missingCRLF: return "Protocol error: expected CRLF line terminator"
        case .invalidTypeByte: return "Protocol error: invalid RESP type byte '\(Self.show(self.byte))'"
        case .lineTooLong: return "Protocol error: too long line"
        case .nestingTooDeep: return "Protocol error: nesting too deep"
        case .invalidInteger: return "Protocol error: invalid integer"
        case .invalidDouble: return "Protocol error: invalid double"
        case .invalidBoolean: return "Protocol error: invalid boolean"
        case .invalidBigNumber: return "Protocol error: invalid big number"
        case .invalidNull: return "Protocol error: invalid null"
        case .invalidVerbatimString: return "Protocol error: invalid verbatim string"
        default: return "Protocol error: \(self.code)"
        }
    }

    /// A byte as Redis's `%c` shows it, made safe for a one-line reply.
    private static func show(_ byte: UInt8?) -> String {
        guard let byte else { return "" }
        switch byte {
        case ASCII.cr, ASCII.lf: return " "  // Redis replaces newlines in error replies by spaces.
        case 0x20...0x7E: return String(UnicodeScalar(byte))
        default: return "\\x" + RESPValue.hexDigits(byte)
        }
    }
}
