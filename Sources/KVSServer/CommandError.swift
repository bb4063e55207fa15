import NIOCore

/// An error reply: the text after `-`, starting with its code (`ERR syntax error`).
package struct CommandError: Error, Sendable, Equatable {
    /// The reply's bytes, code first, as they go on the wire: a client's argument quoted in
    /// it is copied byte for byte, as Redis copies it.
    package let text: [UInt8]

    /// The reply's text (a byte that is not UTF-8 reads as U+FFFD).
    package var message: String { String(decoding: text, as: UTF8.self) }

    /// An error with a fixed text.
    package init(_ message: String) { text = Array(message.utf8) }

    /// An error of these bytes, code first, already one line.
    package init(text: [UInt8]) { self.text = text }

    /// An error that quotes a client's bytes, built as Redis's `addReplyErrorFormat` builds
    /// one: CR and LF at either end are trimmed (unless `trimmingNewlines` is false, as in
    /// Redis's `rejectCommandFormat`) and those inside become spaces, so the reply stays one
    /// line.
    package init(formatting text: ErrorText, trimmingNewlines: Bool = true) {
        func isNewline(_ b: UInt8) -> Bool { b == 0x0D || b == 0x0A }
        var bytes = text.bytes[...]
        if trimmingNewlines {
            while let first = bytes.first, isNewline(first) { bytes = bytes.dropFirst() }
            while let last = bytes.last, isNewline(last) { bytes = bytes.dropLast() }
        }
        self.text = bytes.map { isNewline($0) ? 0x20 : $0 }
    }

    static let syntax = CommandError("ERR syntax error")
    static let notInteger = CommandError("ERR value is not an integer or out of range")
    static let notFloat = CommandError("ERR value is not a valid float")
    static let noSuchKey = CommandError("ERR no such key")
    static let overflow = CommandError("ERR increment or decrement would overflow")
    static let wrongType = CommandError("WRONGTYPE Operation against a key holding the wrong kind of value")
    /// Redis's refusal of a command that may add data while memory is over `maxmemory`.
    static let outOfMemory = CommandError("OOM command not allowed when used memory > 'maxmemory'.")

    static func wrongArity(_ name: String) -> CommandError {
        CommandError("ERR wrong number of arguments for '\(name)' command")
    }

    static func invalidExpire(_ name: String) -> CommandError {
        CommandError("ERR invalid expire time in '\(name)' command")
    }
}

/// The text of an error that quotes a client's arguments: `"ERR Unsupported option
/// \(argument: args[3])"`. An argument is copied as C's `%s` (or `%.Ns`) copies it: byte
/// for byte, up to its first NUL byte (and at most `limit` bytes).
package struct ErrorText: ExpressibleByStringInterpolation, Sendable {
    /// The bytes so far.
    package var bytes: [UInt8] = []

    package init(stringLiteral value: String) { bytes = Array(value.utf8) }

    package init(stringInterpolation: Interpolation) { bytes = stringInterpolation.bytes }

    /// Builds an ``ErrorText`` piece by piece.
    package struct Interpolation: StringInterpolationProtocol {
        var bytes: [UInt8] = []

        package init(literalCapacity: Int, interpolationCount: Int) {
            bytes.reserveCapacity(literalCapacity + 32 * interpolationCount)
        }

        package mutating func appendLiteral(_ literal: String) { bytes.append(contentsOf: literal.utf8) }

        /// Our own text, such as a command's name.
        package mutating func appendInterpolation(_ text: String) { bytes.append(contentsOf: text.utf8) }

        /// Text built before, as it is.
        package mutating func appendInterpolation(_ text: ErrorText) { bytes.append(contentsOf: text.bytes) }

        /// A client's argument, as `%s` (or `%.<limit>s`) copies it.
        package mutating func appendInterpolation(argument: ByteBuffer, limit: Int = Int.max) {
            var taken = 0
            for byte in argument.readableBytesView {
                if byte == 0 || taken == limit { break }
                bytes.append(byte)
                taken += 1
            }
        }
    }
}
