// nio-floor-server: SwiftNIO's own cost per request, for comparing kvs-server with Redis at
// pipeline 1 (docs/design/server-request-path.md, "SwiftNIO's floor"; scripts/bench-server-floor.sh).
//
// It is kvs-server's network path with nothing behind it: the same bootstrap options (one
// event loop, TCP_NODELAY, 16 messages per read) and the same shape of handler (replies
// collected while a read is handled, written and flushed once when the read completes), but
// no RESP parsing, no store and no command table. Every request gets one constant reply,
// counted by the `*` that starts each RESP array in the read: a 64-byte bulk string (as a GET
// of redis-benchmark's `-d 64` keys) or `+OK` (as a SET). So the CPU it spends per request is
// what any server built on SwiftNIO spends before doing any work of its own.
//
//     nio-floor-server --port 7000 --reply get|set
//
// Not a server for anything else: it answers every command, PING included, with that reply.
import NIOCore
import NIOPosix

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Replies to every command of a read with the same constant, once the read completes.
final class ConstantReplyHandler: ChannelInboundHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let reply: StaticString
    private var out = ByteBuffer()

    init(reply: StaticString) { self.reply = reply }

    func handlerAdded(context: ChannelHandlerContext) {
        out = context.channel.allocator.buffer(capacity: 1024)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let input = unwrapInboundIn(data)
        // One reply per RESP array header. A value with a `*` in it would count twice;
        // redis-benchmark's values are all `x`.
        let commands = input.withUnsafeReadableBytes { $0.reduce(0) { $1 == UInt8(ascii: "*") ? $0 + 1 : $0 } }
        for _ in 0..<max(commands, 1) { out.writeStaticString(reply) }
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        guard out.readableBytes > 0 else { return }
        context.writeAndFlush(wrapOutboundOut(out), promise: nil)
        out.clear()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }
}

/// The command line: `--port N` (required) and `--reply get|set` (default `get`).
func parseArguments(_ arguments: [String]) -> (port: Int, reply: StaticString)? {
    var port: Int?
    var reply: StaticString = "$64\r\nxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx\r\n"
    var rest = arguments.dropFirst()
    while let option = rest.popFirst() {
        switch (option, rest.popFirst()) {
        case ("--port", let value?):
            guard let number = Int(value), (1...65535).contains(number) else { return nil }
            port = number
        case ("--reply", "get"?): break
        case ("--reply", "set"?): reply = "+OK\r\n"
        default: return nil
        }
    }
    guard let port else { return nil }
    return (port, reply)
}

guard let (port, reply) = parseArguments(CommandLine.arguments) else {
    print("usage: nio-floor-server --port N [--reply get|set]")
    exit(64)
}
let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
do {
    let channel = try await ServerBootstrap(group: group)
        .serverChannelOption(.backlog, value: 511)
        .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
        .childChannelOption(.socketOption(.tcp_nodelay), value: 1)
        .childChannelOption(.maxMessagesPerRead, value: 16)
        .childChannelInitializer { channel in
            channel.eventLoop.makeCompletedFuture {
                try channel.pipeline.syncOperations.addHandler(ConstantReplyHandler(reply: reply))
            }
        }
        .bind(host: "127.0.0.1", port: port).get()
    try await channel.closeFuture.get()
} catch {
    print("nio-floor-server: \(error)")
    exit(1)
}
