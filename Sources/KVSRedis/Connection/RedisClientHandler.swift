import KVS
import NIOCore
import RESP

/// The client side of one RESP connection: writes requests, and matches replies to them in the
/// order they were written, so any number of requests may be in flight at once (pipelining).
///
/// A request that gets no complete reply within `requestTimeout` fails with `.timeout`; the
/// connection is then closed, since the replies still owed on it could no longer be matched,
/// and every other request in flight fails with `.timeout` too. A closed connection or a
/// malformed reply fails every request in flight (`.connectionFailed`, `.protocolError`).
///
/// - Thread safety: used on its channel's event loop only, like every handler.
final class RedisClientHandler: ChannelDuplexHandler {
    typealias InboundIn = RESPValue
    typealias OutboundIn = RedisRequest
    typealias OutboundOut = ByteBuffer

    private struct Pending {
        var request: RedisRequest
        var replies: [RESPValue]
        var timeout: Scheduled<Void>?
        var id: UInt64
    }

    private let node: String
    private let requestTimeout: TimeAmount
    private var pending = CircularBuffer<Pending>()
    private var nextID: UInt64 = 0
    /// Set once the connection failed or closed: later requests fail at once.
    private var failure: KVSError?
    private let encoder = RESPEncoder()

    init(node: String, requestTimeout: TimeAmount) {
        self.node = node
        self.requestTimeout = requestTimeout
    }

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let request = unwrapOutboundIn(data)
        if let failure {
            request.promise.fail(failure)
            promise?.fail(failure)
            return
        }
        guard !request.commands.isEmpty else {
            request.promise.succeed([])
            promise?.succeed()
            return
        }
        var buffer = context.channel.allocator.buffer(capacity: 64 * request.commands.count)
        for command in request.commands { encoder.encode(command, into: &buffer) }
        let id = nextID
        nextID &+= 1
        var entry = Pending(request: request, replies: [], timeout: nil, id: id)
        entry.replies.reserveCapacity(request.commands.count)
        let loopBound = NIOLoopBound((self, context), eventLoop: context.eventLoop)
        entry.timeout = context.eventLoop.scheduleTask(in: requestTimeout) {
            let (handler, context) = loopBound.value
            handler.timedOut(id: id, context: context)
        }
        pending.append(entry)
        context.write(wrapOutboundOut(buffer), promise: promise)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let reply = unwrapInboundIn(data)
        guard !pending.isEmpty else {
            fail(
                KVSError(.protocolError, message: "\(node) sent a reply to no request; the connection was closed"),
                context: context
            )
            return
        }
        pending[pending.startIndex].replies.append(reply)
        let head = pending[pending.startIndex]
        if head.replies.count == head.request.commands.count {
            pending.removeFirst()
            head.timeout?.cancel()
            head.request.promise.succeed(head.replies)
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        let failure: KVSError
        if let error = error as? RESPProtocolError {
            failure = KVSError(
                .protocolError,
                message: "\(node) sent a malformed reply (\(error)); the connection was closed"
            )
        } else {
            failure = KVSError(.connectionFailed, message: "the connection to \(node) failed: \(error)")
        }
        fail(failure, context: context)
    }

    func channelInactive(context: ChannelHandlerContext) {
        failAll(KVSError(.connectionFailed, message: "the connection to \(node) was closed before the reply arrived"))
        context.fireChannelInactive()
    }

    private func timedOut(id: UInt64, context: ChannelHandlerContext) {
        guard pending.contains(where: { $0.id == id }) else { return }
        fail(
            KVSError(
                .timeout,
                message:
                    "no reply from \(node) within \(requestTimeout.nanoseconds / 1_000_000) ms; the connection was closed"
            ),
            context: context
        )
    }

    private func fail(_ error: KVSError, context: ChannelHandlerContext) {
        failAll(error)
        context.close(promise: nil)
    }

    private func failAll(_ error: KVSError) {
        if failure == nil { failure = error }
        while let entry = pending.popFirst() {
            entry.timeout?.cancel()
            entry.request.promise.fail(error)
        }
    }
}
