import Testing

@testable import KVSServer

/// Redis's `stringmatchlen`, case by case, including its bounds on work.
@Suite("Glob")
struct GlobTests {
    private func matches(_ pattern: [UInt8], _ string: [UInt8]) -> Bool { Glob.matches(pattern, string) }
    private func matches(_ pattern: String, _ string: String) -> Bool {
        Glob.matches(Array(pattern.utf8), Array(string.utf8))
    }

    @Test func basics() {
        #expect(matches("a*b*c", "aXbYc"))
        #expect(!matches("a*b*c", "aXbY"))
        // Redis's matcher needs a byte to start on: `*` does not match the empty key (KEYS
        // and SCAN treat the pattern `*` as no pattern at all, so they still return it).
        #expect(!matches("*", ""))
        #expect(matches("", ""))
        #expect(!matches("", "a"))
        #expect(matches("h?llo", "hello"))
        #expect(!matches("h?llo", "hllo"))
        #expect(matches("h\\*", "h*"))
        #expect(!matches("h\\*", "hx"))
        #expect(matches("a\\", "a\\"))  // a trailing backslash stands for itself
        #expect(matches("a**", "a"))
    }

    @Test func classes() {
        #expect(matches("[abc", "c"))  // an unterminated class: its last byte ends it
        #expect(matches("[^", "x"))
        #expect(matches("[z-a]", "m"))  // reversed ranges are swapped
        #expect(matches("[\\]]", "]"))
        #expect(matches("[^a-c]", "d"))
        #expect(!matches("[^a-c]", "b"))
    }

    /// Redis compares range bounds as signed C `char`s: `[a-\xff]` is -1…97.
    @Test func rangesCompareSignedBytes() {
        let aToFF: [UInt8] = Array("[a-".utf8) + [0xFF, UInt8(ascii: "]")]
        #expect(!matches(aToFF, Array("b".utf8)))
        #expect(!matches(aToFF, [0xF0]))
        #expect(matches(aToFF, Array("A".utf8)))
        #expect(matches(aToFF, [0xFF]))
    }

    /// Without Redis's `skipLongerMatches` this pattern backtracks through about 40^16
    /// splits of the key; with it the match fails after a few thousand steps. The time
    /// limit only catches a hang: the work is bounded by construction, not by a clock.
    @Test(.timeLimit(.minutes(1))) func pathologicalPatternIsPolynomial() {
        let key = [UInt8](repeating: UInt8(ascii: "a"), count: 40)
        let pattern = Array(String(repeating: "a*", count: 16).utf8) + [UInt8(ascii: "b")]
        #expect(!matches(pattern, key))
        let long = [UInt8](repeating: UInt8(ascii: "a"), count: 5000)
        #expect(!matches(Array(String(repeating: "*a", count: 900).utf8) + [UInt8(ascii: "b")], long))
    }

    /// Past 1,000 nested `*` Redis answers no match (and the recursion stays shallow).
    @Test func nestingLimit() {
        let key = [UInt8](repeating: UInt8(ascii: "a"), count: 1200)
        #expect(matches(Array(String(repeating: "*a", count: 999).utf8), key))
        #expect(!matches(Array(String(repeating: "*a", count: 1001).utf8), key))
        #expect(matches(Array(String(repeating: "a*", count: 1001).utf8), key))
    }
}
