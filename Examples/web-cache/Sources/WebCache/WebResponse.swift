/// What the server answers to one request: a status code, a content type and a body.
package struct WebResponse: Sendable, Equatable {
    /// The HTTP status code, such as 200.
    package var status: Int
    /// The `Content-Type` header.
    package var contentType: String
    /// The body.
    package var body: [UInt8]

    /// A response with the given parts.
    package init(status: Int, contentType: String, body: [UInt8]) {
        self.status = status
        self.contentType = contentType
        self.body = body
    }

    /// A JSON response.
    static func json(_ body: [UInt8], status: Int = 200) -> Self {
        WebResponse(status: status, contentType: "application/json", body: body)
    }

    /// A plain-text error response, its body `message` and a newline.
    static func error(_ status: Int, _ message: String) -> Self {
        WebResponse(status: status, contentType: "text/plain; charset=utf-8", body: Array((message + "\n").utf8))
    }
}
