@_spi(Fuzzing) import RESP
import Testing

@Suite("RESPPipelinePeek: the keys of the next pipelined commands")
struct RESPPipelinePeekTests {
    private func peek(_ text: String, limit: Int = 64) -> [String] {
        var found: [String] = []
        Array(text.utf8).withUnsafeBytes { bytes in
            RESPPipelinePeek.forEachNextSecondArgument(in: bytes, limit: limit) {
                found.append(String(decoding: $0, as: UTF8.self))
            }
        }
        return found
    }

    private func command(_ words: String...) -> String {
        "*\(words.count)\r\n" + words.map { "$\($0.utf8.count)\r\n\($0)\r\n" }.joined()
    }

    @Test func yieldsTheSecondArgumentOfEveryCommandAfterTheFirst() {
        let input =
            command("GET", "first") + command("GET", "k1") + command("SET", "k2", "value with\r\nCRLF")
            + command("PING") + command("MGET", "k3", "k4") + command("GET", "")
        #expect(peek(input) == ["k1", "k2", "k3", ""])
    }

    @Test func stopsAtAPartialOrMalformedCommand() {
        let partial = command("GET", "a") + command("GET", "b") + "*2\r\n$3\r\nGET\r\n$5\r\nab"
        #expect(peek(partial) == ["b"])
        let inline = command("GET", "a") + "GET b\r\n" + command("GET", "c")
        #expect(peek(inline) == [], "an inline command ends the look-ahead")
        let badLength = command("GET", "a") + "*2\r\n$3\r\nGET\r\n$x\r\nb\r\n" + command("GET", "c")
        #expect(peek(badLength) == [])
        let lengthPastEnd = command("GET", "a") + "*2\r\n$3\r\nGET\r\n$99999999999\r\nb\r\n"
        #expect(peek(lengthPastEnd) == [])
        #expect(peek("") == [] && peek("*") == [] && peek("*1\r\n") == [])
    }

    @Test func looksAtMostLimitCommandsAfterTheFirst() {
        let input = (0..<10).map { command("GET", "k\($0)") }.joined()
        #expect(peek(input, limit: 3) == ["k1", "k2", "k3"])
        #expect(peek(input, limit: 0) == [])
    }
}
