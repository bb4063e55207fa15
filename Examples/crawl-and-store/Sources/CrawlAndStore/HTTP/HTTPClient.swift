import Foundation  // URL, URLComponents
import NIOCore
import NIOHTTP1
import NIOPosix

/// A minimal HTTP/1.1 client over SwiftNIO: one `GET` per connection, a timeout, a
/// limit on the body, and no TLS (`http` URLs only).
///
/// It does not follow redirects; ``PageFetcher`` does, so that it can stay on one host
/// and recognise a redirect loop.
///
/// - Thread safety: a value with no mutable state; any number of requests may run at once.
package struct HTTPClient: Sendable {
    /// The event loops the connections run on.
    package let group: any EventLoopGroup
    /// How long connecting may take, and then how long the response may take.
    package let timeout: Duration
    /// The largest body accepted.
    package let maxBodyBytes: Int

    /// A client on `group` (by default NIO's shared event loops).
    package init(
        group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton,
        timeout: Duration,
        maxBodyBytes: Int
    ) {
        self.group = group
        self.timeout = timeout
        self.maxBodyBytes = maxBodyBytes
    }

    /// Sends `GET url` and returns the response.
    ///
    /// - Parameter wantsBody: called with the response head; returning `false` stops
    ///   there (the returned body is empty) and closes the connection, so a large file
    ///   the caller does not want is never downloaded.
    /// - Throws: ``HTTPClientError``; never any other error.
    package func get(
        _ url: URL,
        readBodyIf wantsBody: @escaping @Sendable (HTTPResponseHead) -> Bool = { _ in true }
    ) async throws(HTTPClientError) -> HTTPResponse {
        let target = try RequestTarget(url)
        var headers = HTTPHeaders()
        headers.add(name: "Host", value: target.hostHeader)
        headers.add(name: "User-Agent", value: "kvs-crawl-and-store/1.0")
        headers.add(name: "Accept", value: "text/html, application/xhtml+xml;q=0.9, */*;q=0.1")
        headers.add(name: "Connection", value: "close")
        let request = HTTPRequestHead(version: .http1_1, method: .GET, uri: target.pathAndQuery, headers: headers)

        let eventLoop = group.next()
        let promise = eventLoop.makePromise(of: HTTPResponse.self)
        let bootstrap = ClientBootstrap(group: eventLoop)
            .connectTimeout(TimeAmount(timeout))
            .channelInitializer { [timeout, maxBodyBytes] channel in
                channel.eventLoop.makeCompletedFuture {
                    let collector = ResponseCollector(
                        request: request,
                        timeout: timeout,
                        maxBodyBytes: maxBodyBytes,
                        wantsBody: wantsBody,
                        promise: promise
                    )
                    try channel.pipeline.syncOperations.addHTTPClientHandlers()
                    try channel.pipeline.syncOperations.addHandler(collector)
                }
            }
        do {
            _ = try await bootstrap.connect(host: target.host, port: target.port).get()
        } catch {
            let failure: HTTPClientError =
                if case ChannelError.connectTimeout = error { .timedOut(timeout) } else {
                    .unreachable(Self.describe(error))
                }
            promise.fail(failure)  // no handler will: NIO requires every promise to be completed
            throw failure
        }
        do {
            return try await promise.futureResult.get()
        } catch let error as HTTPClientError {
            throw error
        } catch {
            throw .invalidResponse("\(error)")
        }
    }

    /// A short description of a connection error: NIO's lists every address tried.
    private static func describe(_ error: any Error) -> String {
        if let error = error as? NIOConnectionError, let first = error.connectionErrors.first {
            return "\(error.host):\(error.port): \(first.error)"
        }
        return "\(error)"
    }
}

/// The parts of a URL a request needs.
struct RequestTarget {
    var host: String
    var port: Int
    var pathAndQuery: String
    /// The `Host` header: the host (in brackets if an IPv6 address), and the port if not 80.
    var hostHeader: String

    init(_ url: URL) throws(HTTPClientError) {
        guard let components = URLComponents(url: url, resolvingAgainstBaseURL: true),
            components.scheme?.lowercased() == "http"
        else {
            throw .unsupportedURL("\(url.absoluteString) (only http:// URLs; this example has no TLS)")
        }
        guard let host = components.host, !host.isEmpty else {
            throw .unsupportedURL("\(url.absoluteString) has no host")
        }
        let port = components.port ?? 80
        guard (1...65_535).contains(port) else { throw .unsupportedURL("\(url.absoluteString): port out of range") }
        self.host = host
        self.port = port
        let path = components.percentEncodedPath.isEmpty ? "/" : components.percentEncodedPath
        self.pathAndQuery = components.percentEncodedQuery.map { "\(path)?\($0)" } ?? path
        let bracketed = host.contains(":") ? "[\(host)]" : host
        self.hostHeader = port == 80 ? bracketed : "\(bracketed):\(port)"
    }
}
