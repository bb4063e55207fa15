import KVSTestSupport
import NIOCore
import NIOEmbedded
import NIOTestUtils
import RESP
import Testing

@Suite struct RESPByteToMessageDecoderTests {
    @Test func commandDecoderPassesNIOsDecoderVerifier() throws {
        let pairs: [(ByteBuffer, [[ByteBuffer]])] = [
            (ByteBuffer(string: "*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5\r\nvalue\r\n"), [args("SET", "k", "value")]),
            (ByteBuffer(string: "PING\r\n"), [args("PING")]),
            (ByteBuffer(string: "set a \"b c\"\n"), [args("set", "a", "b c")]),
            (
                ByteBuffer(string: "*2\r\n$3\r\nGET\r\n$1\r\nk\r\n*1\r\n$4\r\nQUIT\r\n"),
                [args("GET", "k"), args("QUIT")]
            ),
            (ByteBuffer(string: "*1\r\n$0\r\n\r\n"), [[ByteBuffer()]]),
        ]
        try ByteToMessageDecoderVerifier.verifyDecoder(inputOutputPairs: pairs) { RESPCommandDecoder() }
    }

    @Test(.dedicatedThread) func valueDecoderPassesNIOsDecoderVerifier() throws {
        let pairs: [(ByteBuffer, [RESPValue])] = everyKindOfValue.map { value in
            (ByteBuffer(bytes: encoded(value, .resp3)), [degraded(value, .resp3)])
        }
        try ByteToMessageDecoderVerifier.verifyDecoder(inputOutputPairs: pairs) { RESPValueDecoder() }
    }

    @Test func malformedRequestReachesErrorCaughtWithRedisText() throws {
        let channel = EmbeddedChannel(handler: ByteToMessageHandler(RESPCommandDecoder()))
        try channel.writeInbound(ByteBuffer(string: "*1\r\n$4\r\nPING\r\n*1\r"))
        #expect(try channel.readInbound(as: [ByteBuffer].self) == args("PING"))
        let error = #expect(throws: RESPProtocolError.self) {
            try channel.writeInbound(ByteBuffer(string: "\nx4\r\n"))
        }
        #expect(error?.code == .unexpectedArgumentType)
        #expect(error.map { "ERR \($0)" } == "ERR Protocol error: expected '$', got 'x'")
        _ = try? channel.finish()
    }
}
