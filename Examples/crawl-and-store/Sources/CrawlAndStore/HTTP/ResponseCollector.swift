import NIOCore
import NIOHTTP1

/// The channel handler behind ``HTTPClient``: sends one request when the connection is
/// up, gathers the response, and completes a promise with it exactly once: on the end
/// of the response, on an error, on the connection closing, or when the timeout fires,
/// whichever comes first. Then it closes the connection.
///
/// Like every NIO handler, it lives on its channel's event loop; all its state is
/// touched only there, so it needs no lock.
final class ResponseCollector: ChannelInboundHandler {
    typealias InboundIn = HTTPClientResponsePart
    typealias OutboundOut = HTTPClientRequestPart

    private let request: HTTPRequestHead
    private let timeout: Duration
    private let maxBodyBytes: Int
    private let wantsBody: @Sendable (HTTPResponseHead) -> Bool

    /// `nil` once the outcome is known, so later events (the close that follows, a late
    /// timeout) change nothing.
    private var promise: EventLoopPromise<HTTPResponse>?
    private var head: HTTPResponseHead?
    private var body: [UInt8] = []
    private var timeoutTask: Scheduled<Void>?

    init(
        request: HTTPRequestHead,
        timeout: Duration,
        maxBodyBytes: Int,
        wantsBody: @escaping @Sendable (HTTPResponseHead) -> Bool,
        promise: EventLoopPromise<HTTPResponse>
    ) {
        self.request = request
        self.timeout = timeout
        self.maxBodyBytes = maxBodyBytes
        self.wantsBody = wantsBody
        self.promise = promise
    }

    func channelActive(context: ChannelHandlerContext) {
        timeoutTask = context.eventLoop.assumeIsolated().scheduleTask(in: TimeAmount(timeout)) {
            self.finish(context, .failure(.timedOut(self.timeout)))
        }
        context.write(wrapOutboundOut(.head(request)), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        context.fireChannelActive()
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let responseHead):
            head = responseHead
            if !wantsBody(responseHead) {  // say, an image: its head is all the crawler needs
                finish(context, .success(response(responseHead)))
            }
        case .body(let buffer):
            guard promise != nil else { return }
            guard body.count + buffer.readableBytes <= maxBodyBytes else {
                return finish(context, .failure(.bodyTooLarge(limit: maxBodyBytes)))
            }
            body.append(contentsOf: buffer.readableBytesView)
        case .end:
            if let head { finish(context, .success(response(head))) }
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        finish(context, .failure(.closedEarly))
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        finish(context, .failure(.invalidResponse("\(error)")))
    }

    private func response(_ head: HTTPResponseHead) -> HTTPResponse {
        HTTPResponse(status: Int(head.status.code), headers: head.headers, body: body)
    }

    /// Completes the promise if nothing has yet, and closes the connection.
    private func finish(_ context: ChannelHandlerContext, _ result: Result<HTTPResponse, HTTPClientError>) {
        guard let promise else { return }
        self.promise = nil
        timeoutTask?.cancel()
        promise.completeWith(result.mapError { $0 as any Error })
        context.close(promise: nil)
    }
}
