import NIOCore
import NIOHTTP1

/// Serves one connection: gathers a request, has the ``UserService`` answer it in a task,
/// and writes the answer back on the connection's event loop.
///
/// Like every NIO handler it lives on its channel's event loop: the service's answer comes
/// back through an `EventLoopFuture` of that loop, so the handler's state and the channel
/// are touched only there and need no lock. The server's pipelining assistance hands it
/// one request at a time; it keeps the connection open if the client asked for keep-alive.
final class WebCacheHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let service: UserService
    private var head: HTTPRequestHead?

    init(service: UserService) {
        self.service = service
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let requestHead):
            head = requestHead
        case .body:
            break  // the routes take no body
        case .end:
            guard let request = head else { return }
            head = nil
            let service = self.service
            let method = request.method.rawValue
            let uri = request.uri
            context.eventLoop.makeFutureWithTask {
                await service.respond(method: method, uri: uri)
            }
            .assumeIsolated()
            .whenSuccess { response in
                self.write(response, keepAlive: request.isKeepAlive, version: request.version, context: context)
            }
        }
    }

    private func write(_ response: WebResponse, keepAlive: Bool, version: HTTPVersion, context: ChannelHandlerContext) {
        var headers = HTTPHeaders()
        headers.add(name: "Content-Type", value: response.contentType)
        headers.add(name: "Content-Length", value: String(response.body.count))
        headers.add(name: "Connection", value: keepAlive ? "keep-alive" : "close")
        let status = HTTPResponseStatus(statusCode: response.status)
        context.write(
            wrapOutboundOut(.head(HTTPResponseHead(version: version, status: status, headers: headers))),
            promise: nil
        )
        context.write(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(bytes: response.body)))), promise: nil)
        let written = context.writeAndFlush(wrapOutboundOut(.end(nil)))
        if !keepAlive {
            written.assumeIsolated().whenComplete { _ in context.close(promise: nil) }
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)  // a malformed request or a reset connection: drop it
    }
}
