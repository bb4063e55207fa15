import KVS
import KVSNetworkTestSupport
import KVSTestSupport
import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization
import Testing

/// A small web site served on 127.0.0.1 (an ephemeral port) for the crawler's tests,
/// with every kind of page a crawl meets: links (relative, absolute, with fragments and
/// character references), a cycle, a 404, a redirect, a redirect loop, a redirect to
/// another host, a binary file, a page that never answers, a link to a closed port and
/// a link that is not a valid URL.
///
/// Nothing beyond 127.0.0.1 is ever linked to: "another host" is `localhost`, which is
/// this same server, so a crawler that wrongly left the host would show up in
/// ``requestCount(_:)`` rather than reach the network.
///
/// ```
/// /            -> a, /b#section, http://127.0.0.1:<port>/a, #top, mailto:, http://localhost:<port>/offhost,
///                 /image.png, /slow
/// /a           -> / (cycle), b, /missing, /loop/1, http://[oops (invalid), http://127.0.0.1:<closed>/
/// /b           -> ./c?x=1&amp;y=2, /moved, /away, ../a
/// /c?x=1&y=2   -> /deep              (depth 3 from /)
/// /missing     -> 404 page linking /from-404
/// /moved       -> 301 to /moved-here (a page linking /deep)
/// /loop/1      -> 302 to /loop/2 -> 302 to /loop/1
/// /away        -> 302 to http://localhost:<port>/offhost
/// /image.png   -> 200 image/png, 4 KB of bytes
/// /slow        -> never answers
/// ```
final class FixtureSite: Sendable {
    /// The port the site listens on.
    let port: Int
    /// A port on 127.0.0.1 that nothing listens on: held by a socket that is bound but
    /// not listening, so a connection is refused and no other test's server can take it.
    var closedPort: Int { closed.port }
    private let closed: RefusingPort
    private let group: MultiThreadedEventLoopGroup
    private let channel: any Channel
    private let log: RequestLog

    /// `http://127.0.0.1:<port>` followed by `path`.
    func url(_ path: String) -> String { "http://127.0.0.1:\(port)\(path)" }

    /// How many requests the site has had for `path` (path and query, as sent).
    func requestCount(_ path: String) -> Int { log.count(of: path) }

    /// Every path requested so far, in order.
    var requests: [String] { log.all }

    private init(group: MultiThreadedEventLoopGroup, channel: any Channel, closed: RefusingPort, log: RequestLog) throws
    {
        self.group = group
        self.channel = channel
        self.closed = closed
        self.log = log
        self.port = try #require(channel.localAddress?.port)
    }

    /// Starts a site, runs `body` with it, and stops it (closing any connection left
    /// open, such as the one to `/slow`).
    static func with<R>(_ body: (FixtureSite) async throws -> R) async throws -> R {
        let site = try await start()
        do {
            let result = try await body(site)
            try await site.stop()
            return result
        } catch {
            try? await site.stop()
            throw error
        }
    }

    private static func start() async throws -> FixtureSite {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let log = RequestLog()
        let closed = try RefusingPort()
        let routes = FixtureRoutes(closedPort: closed.port)
        let channel = try await ServerBootstrap(group: group)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline()
                    try channel.pipeline.syncOperations.addHandler(FixtureHandler(routes: routes, log: log))
                }
            }
            .bind(host: "127.0.0.1", port: 0)
            .get()
        return try FixtureSite(group: group, channel: channel, closed: closed, log: log)
    }

    private func stop() async throws {
        try await channel.close()
        try await group.shutdownGracefully()
    }
}

/// The requests a site received, shared by its connections' handlers.
private final class RequestLog: Sendable {
    private let paths = Locked<[String]>([])

    func append(_ path: String) { paths.withLock { $0.append(path) } }
    func count(of path: String) -> Int { paths.withLock { $0.count { $0 == path } } }
    var all: [String] { paths.withLock { $0 } }
}

/// What the site answers to a request.
enum FixtureResponse: Equatable {
    case page(status: HTTPResponseStatus, contentType: String, body: [UInt8])
    case redirect(status: HTTPResponseStatus, location: String)
    case never

    static func html(_ body: String, status: HTTPResponseStatus = .ok) -> Self {
        .page(status: status, contentType: "text/html; charset=utf-8", body: Array(body.utf8))
    }
}

/// The site's pages (see ``FixtureSite``).
struct FixtureRoutes: Sendable {
    let closedPort: Int

    func respond(to path: String, port: Int) -> FixtureResponse {
        switch path {
        case "/":
            .html(
                """
                <html><head><title>Home</title><style>a { color: red }</style></head><body>
                <a href="a">A</a> <A HREF='/b#section'>B</A>
                <a class="x" href=http://127.0.0.1:\(port)/a>A again</a> <a href="#top">top</a>
                <a href="mailto:someone@example.com">mail</a> <a href="http://localhost:\(port)/offhost">elsewhere</a>
                <!-- <a href="/commented-out">no</a> -->
                <a href="/image.png">picture</a> <a href="/slow">slow</a>
                </body></html>
                """
            )
        case "/a":
            .html(
                """
                <a href="/">home</a> <a href="b">B</a> <a href="/missing">gone</a> <a href="/loop/1">loop</a>
                <a href="http://[oops">broken</a> <a href="http://127.0.0.1:\(closedPort)/">closed port</a>
                """
            )
        case "/b":
            .html(
                #"<a href="./c?x=1&amp;y=2">C</a> <a href="/moved">moved</a> <a href="/away">away</a> <a href="../a">A</a>"#
            )
        case "/c?x=1&y=2":
            .html(#"<a href="/deep">deeper</a>"#)
        case "/moved-here":
            .html(#"<p>The new place.</p> <a href="/deep">deeper</a>"#)
        case "/deep", "/from-404", "/commented-out":
            .html("<p>A crawl limited to depth 2 from / never gets here.</p>")
        case "/moved":
            .redirect(status: .movedPermanently, location: "/moved-here")
        case "/loop/1":
            .redirect(status: .found, location: "/loop/2")
        case "/loop/2":
            .redirect(status: .found, location: "http://127.0.0.1:\(port)/loop/1")
        case "/away":
            .redirect(status: .found, location: "http://localhost:\(port)/offhost")
        case "/image.png":
            .page(status: .ok, contentType: "image/png", body: (0..<4_096).map { UInt8(truncatingIfNeeded: $0 &* 31) })
        case "/slow":
            .never
        default:
            .html(#"<h1>Not found</h1> <a href="/from-404">a link on an error page</a>"#, status: .notFound)
        }
    }
}

/// Serves ``FixtureRoutes`` on one connection, logging each request. Lives on the
/// connection's event loop, as NIO handlers do.
private final class FixtureHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let routes: FixtureRoutes
    private let log: RequestLog
    private var path = "/"

    init(routes: FixtureRoutes, log: RequestLog) {
        self.routes = routes
        self.log = log
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            path = head.uri
            log.append(head.uri)
        case .body:
            break
        case .end:
            let port = context.channel.localAddress?.port ?? 0
            respond(context, routes.respond(to: path, port: port))
        }
    }

    private func respond(_ context: ChannelHandlerContext, _ response: FixtureResponse) {
        var headers = HTTPHeaders([("Connection", "close")])
        let status: HTTPResponseStatus
        var body: [UInt8] = []
        switch response {
        case .never:
            return  // hold the connection open, answering nothing, until the client gives up
        case .redirect(let redirectStatus, let location):
            status = redirectStatus
            headers.add(name: "Location", value: location)
        case .page(let pageStatus, let contentType, let pageBody):
            status = pageStatus
            headers.add(name: "Content-Type", value: contentType)
            body = pageBody
        }
        headers.add(name: "Content-Length", value: String(body.count))
        context.write(
            wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: status, headers: headers))),
            promise: nil
        )
        context.write(wrapOutboundOut(.body(.byteBuffer(ByteBuffer(bytes: body)))), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil))).assumeIsolated().whenComplete { _ in
            context.close(promise: nil)
        }
    }
}
