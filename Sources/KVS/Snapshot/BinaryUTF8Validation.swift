// Strict UTF-8 validation of bytes read from untrusted input.

/// Checks that bytes are well-formed UTF-8 as defined by Unicode (Table 3-7 of the standard):
/// no overlong forms, no surrogate code points (U+D800...U+DFFF), nothing above U+10FFFF, no
/// truncated sequences.
///
/// The standard library's `String(validating:as:)` does the same, but through unspecialized
/// generic code that costs more than the check itself for the short strings typical of
/// stored values.
enum BinaryUTF8Validation {
    /// Whether `bytes` is well-formed UTF-8. Cost: O(bytes); ASCII runs 8 bytes at a time.
    static func isValid(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        guard let base = bytes.baseAddress else { return true }
        let count = bytes.count
        var index = 0
        while index < count {
            // Skip ASCII 8 bytes at a time.
            while count - index >= 8 {
                let word = UnsafeRawPointer(base + index).loadUnaligned(as: UInt64.self)
                if word & 0x8080_8080_8080_8080 != 0 { break }
                index += 8
            }
            guard index < count else { return true }
            let lead = base[index]
            if lead < 0x80 {
                index += 1
                continue
            }
            let length: Int
            var low: UInt8 = 0x80
            var high: UInt8 = 0xBF
            switch lead {
            case 0xC2...0xDF:
                length = 2
            case 0xE0:
                length = 3
                low = 0xA0  // below is overlong
            case 0xED:
                length = 3
                high = 0x9F  // above is a surrogate
            case 0xE1...0xEC, 0xEE...0xEF:
                length = 3
            case 0xF0:
                length = 4
                low = 0x90  // below is overlong
            case 0xF1...0xF3:
                length = 4
            case 0xF4:
                length = 4
                high = 0x8F  // above is beyond U+10FFFF
            default:
                return false  // a continuation byte, an overlong lead (C0, C1), or F5...FF
            }
            guard count - index >= length else { return false }
            let second = base[index + 1]
            guard second >= low && second <= high else { return false }
            for offset in 2..<length where base[index + offset] & 0xC0 != 0x80 {
                return false
            }
            index += length
        }
        return true
    }
}
