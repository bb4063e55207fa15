import NIOCore

/// Splits an inline command line into arguments exactly as Redis's `sdssplitargs` does:
///
/// - arguments are separated by blanks (`isspace`: space, `\t`, `\n`, `\v`, `\f`, `\r`), but an
///   unquoted argument ends only at a space, `\t`, `\n` or `\r`;
/// - `"double quotes"` take the escapes `\xHH`, `\n`, `\r`, `\t`, `\b`, `\a`, and `\c` for any
///   other `c`; `'single quotes'` take only `\'`;
/// - a quote may start in the middle of an argument (`a"b c"` is `ab c`), but a closing quote must
///   be followed by a blank or the end of the line, and every quote must close: otherwise
///   `Protocol error: unbalanced quotes in request`.
///
/// One difference: a NUL byte is an ordinary byte here (Redis stops reading the request at it).
enum InlineCommandSplitter {
    /// Splits `bytes[0..<end]`.
    ///
    /// - Parameters:
    ///   - input: the buffer `bytes` are the readable bytes of; unquoted arguments are slices of
    ///     it, quoted ones are copied.
    ///   - arguments: receives the arguments; nothing for a blank line.
    /// - Throws: ``RESPProtocolError/Code/unbalancedQuotes``.
    /// - Complexity: O(`end`).
    static func split(
        _ bytes: UnsafeRawBufferPointer,
        end: Int,
        in input: ByteBuffer,
        into arguments: inout [ByteBuffer]
    ) throws(RESPProtocolError) {
        var index = 0
        while true {
            while index < end && ASCII.isSpace(bytes[index]) { index += 1 }
            guard index < end else { return }

            let tokenStart = index
            var tokenEnd = end
            var quoted: [UInt8]? = nil  // the argument's bytes, once a quote made it differ from the input
            var inDoubleQuotes = false
            var inSingleQuotes = false
            scanning: while true {
                if inDoubleQuotes {
                    guard index < end else { throw RESPProtocolError(code: .unbalancedQuotes) }
                    let byte = bytes[index]
                    if byte == ASCII.backslash, index + 3 < end, bytes[index + 1] == UInt8(ascii: "x"),
                        let high = ASCII.hexValue(bytes[index + 2]), let low = ASCII.hexValue(bytes[index + 3])
                    {
                        quoted?.append(high << 4 | low)
                        index += 4
                    } else if byte == ASCII.backslash, index + 1 < end {
                        let escaped: UInt8
                        switch bytes[index + 1] {
                        case UInt8(ascii: "n"): escaped = ASCII.lf
                        case UInt8(ascii: "r"): escaped = ASCII.cr
                        case UInt8(ascii: "t"): escaped = ASCII.tab
                        case UInt8(ascii: "b"): escaped = 0x08
                        case UInt8(ascii: "a"): escaped = 0x07
                        case let other: escaped = other
                        }
                        quoted?.append(escaped)
                        index += 2
                    } else if byte == ASCII.doubleQuote {
                        if index + 1 < end && !ASCII.isSpace(bytes[index + 1]) {
                            throw RESPProtocolError(code: .unbalancedQuotes)
                        }
                        index += 1
                        break scanning
                    } else {
                        quoted?.append(byte)
                        index += 1
                    }
                } else if inSingleQuotes {
                    guard index < end else { throw RESPProtocolError(code: .unbalancedQuotes) }
                    let byte = bytes[index]
                    if byte == ASCII.backslash, index + 1 < end, bytes[index + 1] == ASCII.singleQuote {
                        quoted?.append(ASCII.singleQuote)
                        index += 2
                    } else if byte == ASCII.singleQuote {
                        if index + 1 < end && !ASCII.isSpace(bytes[index + 1]) {
                            throw RESPProtocolError(code: .unbalancedQuotes)
                        }
                        index += 1
                        break scanning
                    } else {
                        quoted?.append(byte)
                        index += 1
                    }
                } else {
                    guard index < end else { break scanning }
                    let byte = bytes[index]
                    switch byte {
                    case ASCII.space, ASCII.lf, ASCII.cr, ASCII.tab:
                        tokenEnd = index
                        index += 1
                        break scanning
                    case ASCII.doubleQuote, ASCII.singleQuote:
                        if quoted == nil { quoted = Array(bytes[tokenStart..<index]) }
                        inDoubleQuotes = byte == ASCII.doubleQuote
                        inSingleQuotes = byte == ASCII.singleQuote
                        index += 1
                    default:
                        quoted?.append(byte)
                        index += 1
                    }
                }
            }
            if let quoted {
                arguments.append(ByteBuffer(bytes: quoted))
            } else {
                // Cannot fail: the token lies within the readable bytes.
                guard let slice = input.getSlice(at: input.readerIndex + tokenStart, length: tokenEnd - tokenStart)
                else { throw RESPProtocolError(code: .tooBigInlineRequest) }
                arguments.append(slice)
            }
        }
    }
}
