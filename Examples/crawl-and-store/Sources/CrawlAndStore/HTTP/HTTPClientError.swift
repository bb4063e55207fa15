/// Why an HTTP request got no complete response.
package enum HTTPClientError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The URL is not one this client can fetch (not `http`, or without a host).
    case unsupportedURL(String)
    /// Connecting failed: the host name did not resolve, or nothing listens on the port.
    case unreachable(String)
    /// Connecting, or the response after it, took longer than the timeout.
    case timedOut(Duration)
    /// The server closed the connection before the response was complete.
    case closedEarly
    /// The body was longer than the client accepts.
    case bodyTooLarge(limit: Int)
    /// The bytes received were not valid HTTP.
    case invalidResponse(String)

    package var description: String {
        switch self {
        case .unsupportedURL(let detail): "unsupported URL: \(detail)"
        case .unreachable(let detail): "unreachable: \(detail)"
        case .timedOut(let limit): "no answer within \(limit)"
        case .closedEarly: "the server closed the connection before the response was complete"
        case .bodyTooLarge(let limit): "the body is larger than \(limit) bytes"
        case .invalidResponse(let detail): "invalid HTTP response: \(detail)"
        }
    }
}
