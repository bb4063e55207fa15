import KVS
import NIOCore
import NIOEmbedded
import RESP
import Testing

@testable import KVSRedis

/// The connection handler on an EmbeddedChannel: pipelined requests get their replies in
/// order, replies may arrive a byte at a time, and a closed channel fails what is in flight.
@Suite("RedisClientHandler")
struct RedisClientHandlerTests {
    private func makeChannel() throws -> EmbeddedChannel {
        let channel = EmbeddedChannel()
        try channel.pipeline.syncOperations.addHandler(ByteToMessageHandler(RESPValueDecoder()))
        try channel.pipeline.syncOperations.addHandler(RedisClientHandler(node: "test:1", requestTimeout: .seconds(60)))
        return channel
    }

    @Test("pipelined requests are matched to replies in order, fed one byte at a time")
    func pipelinedInOrder() throws {
        let channel = try makeChannel()
        let first = channel.eventLoop.makePromise(of: [RESPValue].self)
        let second = channel.eventLoop.makePromise(of: [RESPValue].self)
        try channel.writeOutbound(
            RedisRequest(commands: [.command(["GET", "a"]), .command(["GET", "b"])], promise: first)
        )
        try channel.writeOutbound(RedisRequest(commands: [.command(["DEL", "c"])], promise: second))
        let written = try #require(try channel.readOutbound(as: ByteBuffer.self))
        #expect(String(buffer: written) == "*2\r\n$3\r\nGET\r\n$1\r\na\r\n*2\r\n$3\r\nGET\r\n$1\r\nb\r\n")
        var results: [[RESPValue]] = []
        first.futureResult.assumeIsolated().whenSuccess { results.append($0) }
        second.futureResult.assumeIsolated().whenSuccess { results.append($0) }
        for byte in Array("$1\r\nx\r\n$-1\r\n:0\r\n".utf8) {
            try channel.writeInbound(ByteBuffer(bytes: [byte]))
        }
        #expect(results.count == 2)
        #expect(results.first?.count == 2)
        #expect(results.first?.first?.stringValue == "x")
        #expect(results.first?.last?.isNull == true)
        #expect(results.last?.first?.intValue == 0)
        _ = try channel.finish()
    }

    @Test("closing the channel fails every request in flight with .connectionFailed naming the node")
    func closeFailsInFlight() throws {
        let channel = try makeChannel()
        let promise = channel.eventLoop.makePromise(of: [RESPValue].self)
        try channel.writeOutbound(RedisRequest(commands: [.command(["GET", "a"])], promise: promise))
        var failure: KVSError?
        promise.futureResult.assumeIsolated().whenFailure { failure = $0 as? KVSError }
        _ = try channel.finish()
        #expect(failure?.code == .connectionFailed)
        #expect(failure?.message.contains("test:1") == true)
    }

    @Test("a malformed reply fails the request with .protocolError")
    func malformedReply() throws {
        let channel = try makeChannel()
        let promise = channel.eventLoop.makePromise(of: [RESPValue].self)
        try channel.writeOutbound(RedisRequest(commands: [.command(["GET", "a"])], promise: promise))
        var failure: KVSError?
        promise.futureResult.assumeIsolated().whenFailure { failure = $0 as? KVSError }
        _ = try? channel.writeInbound(ByteBuffer(string: "?what\r\n"))  // the handler consumes the error
        #expect(failure?.code == .protocolError)
        _ = try? channel.finish()
    }
}
