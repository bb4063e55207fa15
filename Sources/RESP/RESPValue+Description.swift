import NIOCore

extension RESPValue: CustomStringConvertible {
    /// A one-line, debug-friendly rendering in the spirit of `redis-cli`: bulk strings quoted with
    /// binary bytes escaped as `redis-cli` escapes them (`\n`, `\r`, `\t`, `\a`, `\b`, `\\`, `\"`,
    /// `\xHH`), `(integer) 5`, `(nil)`, `["a", "b"]`, `{"k": "v"}`, `~{…}` for sets, `>[…]` for
    /// pushes, `|{…} value` for attributes.
    ///
    /// - Complexity: O(size of the value).
    public var description: String {
        var out = ""
        self.describe(into: &out)
        return out
    }

    private func describe(into out: inout String) {
        switch self {
        case .simpleString(let text): out += Self.quoted(Array(text.utf8))
        case .error(let text): out += "(error) " + Self.escaped(Array(text.utf8))
        case .integer(let value): out += "(integer) \(value)"
        case .bulkString(let bytes): out += Self.quoted(Array(bytes.readableBytesView))
        case .nullBulkString: out += "(nil)"
        case .nullArray: out += "(nil array)"
        case .null: out += "(null)"
        case .double(let value): out += "(double) \(value)"
        case .boolean(let value): out += value ? "(true)" : "(false)"
        case .bigNumber(let text): out += "(big number) " + text
        case .verbatimString(let format, let text):
            out += "(verbatim \(format)) " + Self.quoted(Array(text.readableBytesView))
        case .array(let values): Self.describe(values, open: "[", close: "]", into: &out)
        case .set(let values): Self.describe(values, open: "~{", close: "}", into: &out)
        case .push(let values): Self.describe(values, open: ">[", close: "]", into: &out)
        case .map(let pairs): Self.describe(pairs, open: "{", into: &out)
        case .attribute(let pairs, let value):
            Self.describe(pairs, open: "|{", into: &out)
            out += " "
            value.describe(into: &out)
        case .blobError(let bytes): out += "(error) " + Self.quoted(Array(bytes.readableBytesView))
        }
    }

    private static func describe(_ values: [RESPValue], open: String, close: String, into out: inout String) {
        out += open
        for (index, value) in values.enumerated() {
            if index > 0 { out += ", " }
            value.describe(into: &out)
        }
        out += close
    }

    private static func describe(_ pairs: [(key: RESPValue, value: RESPValue)], open: String, into out: inout String) {
        out += open
        for (index, pair) in pairs.enumerated() {
            if index > 0 { out += ", " }
            pair.key.describe(into: &out)
            out += ": "
            pair.value.describe(into: &out)
        }
        out += "}"
    }

    /// `bytes` in double quotes, escaped like `redis-cli`'s `sdscatrepr`.
    static func quoted(_ bytes: [UInt8]) -> String {
        "\"" + escaped(bytes) + "\""
    }

    /// `bytes` escaped like `redis-cli`'s `sdscatrepr`, without the quotes.
    static func escaped(_ bytes: [UInt8]) -> String {
        var out = ""
        out.reserveCapacity(bytes.count)
        for byte in bytes {
            switch byte {
            case ASCII.backslash: out += "\\\\"
            case ASCII.doubleQuote: out += "\\\""
            case ASCII.lf: out += "\\n"
            case ASCII.cr: out += "\\r"
            case ASCII.tab: out += "\\t"
            case 0x07: out += "\\a"
            case 0x08: out += "\\b"
            case 0x20...0x7E: out.unicodeScalars.append(UnicodeScalar(byte))
            default: out += "\\x" + hexDigits(byte)
            }
        }
        return out
    }

    /// Two lowercase hexadecimal digits.
    static func hexDigits(_ byte: UInt8) -> String {
        let digits = Array("0123456789abcdef".unicodeScalars)
        var out = String.UnicodeScalarView()
        out.append(digits[Int(byte >> 4)])
        out.append(digits[Int(byte & 0x0F)])
        return String(out)
    }
}
