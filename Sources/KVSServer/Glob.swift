/// Redis's glob matching (`stringmatchlen` in Redis's `util.c`): `*`, `?`, `[abc]`,
/// `[^a-z]`, `\x`, byte for byte as Redis matches, for KEYS, SCAN MATCH and CONFIG GET.
///
/// Work is bounded as Redis bounds it: once the rest of a pattern fails to match from every
/// position after a `*`, no earlier `*` tries a longer match (`skipLongerMatches`), so a
/// pattern such as `a*a*a*…b` costs O(pattern × string) instead of backtracking
/// exponentially; and recursion stops at 1,000 nested `*`, where Redis answers no match.
enum Glob {
    /// Redis's limit on nested `*` (`stringmatchlen_impl`'s `nesting`).
    static let maxNesting = 1000

    /// Whether `string` matches `pattern`, case-sensitively.
    ///
    /// - Complexity: O(`pattern.count` × `string.count`) at worst.
    static func matches(_ pattern: [UInt8], _ string: [UInt8]) -> Bool {
        pattern.withUnsafeBufferPointer { p in
            string.withUnsafeBufferPointer { s in
                var skipLongerMatches = false
                return match(p[...], s[...], skipLongerMatches: &skipLongerMatches, nesting: 0)
            }
        }
    }

    /// Compares as Redis's C code does, where a pattern byte is a signed `char`: a range
    /// such as `[a-\xff]` spans `-1…97`, not `97…255`.
    @inline(__always)
    private static func signed(_ byte: UInt8) -> Int { Int(Int8(bitPattern: byte)) }

    private static func match(
        _ pattern: Slice<UnsafeBufferPointer<UInt8>>,
        _ string: Slice<UnsafeBufferPointer<UInt8>>,
        skipLongerMatches: inout Bool,
        nesting: Int
    ) -> Bool {
        if nesting > maxNesting { return false }
        var p = pattern.startIndex
        let pEnd = pattern.endIndex
        var s = string.startIndex
        let sEnd = string.endIndex
        let base = pattern.base
        let text = string.base
        while p < pEnd && s < sEnd {
            switch base[p] {
            case UInt8(ascii: "*"):
                while p + 1 < pEnd && base[p + 1] == UInt8(ascii: "*") { p += 1 }
                if p + 1 == pEnd { return true }
                while s < sEnd {
                    if match(
                        base[(p + 1)..<pEnd],
                        text[s..<sEnd],
                        skipLongerMatches: &skipLongerMatches,
                        nesting: nesting + 1
                    ) {
                        return true
                    }
                    if skipLongerMatches { return false }
                    s += 1
                }
                // The rest fails from every later position: a longer match for an earlier `*`
                // would only start it later still.
                skipLongerMatches = true
                return false
            case UInt8(ascii: "?"):
                s += 1
            case UInt8(ascii: "["):
                p += 1
                let negated = p < pEnd && base[p] == UInt8(ascii: "^")
                if negated { p += 1 }
                var matched = false
                let c = signed(text[s])
                while true {
                    if p < pEnd && base[p] == UInt8(ascii: "\\") && pEnd - p >= 2 {
                        p += 1
                        if base[p] == text[s] { matched = true }
                    } else if p < pEnd && base[p] == UInt8(ascii: "]") {
                        break
                    } else if p >= pEnd {
                        p -= 1  // an unterminated class: its last byte ends it
                        break
                    } else if pEnd - p >= 3 && base[p + 1] == UInt8(ascii: "-") {
                        var start = signed(base[p])
                        var end = signed(base[p + 2])
                        if start > end { swap(&start, &end) }
                        p += 2
                        if c >= start && c <= end { matched = true }
                    } else if base[p] == text[s] {
                        matched = true
                    }
                    p += 1
                }
                if negated { matched = !matched }
                if !matched { return false }
                s += 1
            case UInt8(ascii: "\\"):
                if pEnd - p >= 2 { p += 1 }
                if base[p] != text[s] { return false }
                s += 1
            default:
                if base[p] != text[s] { return false }
                s += 1
            }
            p += 1
            if s == sEnd {
                while p < pEnd && base[p] == UInt8(ascii: "*") { p += 1 }
                break
            }
        }
        return p == pEnd && s == sEnd
    }
}
