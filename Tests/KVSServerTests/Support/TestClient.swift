import Foundation
import NIOCore
import RESP

#if canImport(Glibc)
import Glibc
#endif

/// What a command test needs of a connection: send bytes, read the next reply. A
/// ``TestClient`` does it over a socket, an ``InProcessClient`` on an `EmbeddedChannel`.
protocol RESPTestClient: AnyObject {
    /// Sends raw bytes.
    func send(_ bytes: [UInt8]) throws
    /// Reads the next reply; throws if there is none.
    func read() throws -> RESPValue
}

extension RESPTestClient {
    func send(_ text: String) throws { try send(Array(text.utf8)) }

    /// Sends a command and reads its reply.
    @discardableResult
    func call(_ args: String...) throws -> RESPValue {
        try send(TestClient.encode(args))
        return try read()
    }

    @discardableResult
    func call(_ args: [String]) throws -> RESPValue {
        try send(TestClient.encode(args))
        return try read()
    }

    @discardableResult
    func callBytes(_ args: [[UInt8]]) throws -> RESPValue {
        try send(TestClient.encode(args))
        return try read()
    }
}

/// A tiny blocking RESP client over a POSIX socket, for driving the server in tests.
/// Every read has a 30-second timeout, so a missing reply fails the test instead of hanging.
final class TestClient: RESPTestClient {
    let fd: Int32
    private var decoder = RESPDecoder()
    private var input = ByteBuffer()

    struct Failure: Error, CustomStringConvertible { let description: String }

    init(port: Int) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw Failure(description: "socket") }
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_port = in_port_t(UInt16(port).bigEndian)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        let rc = withUnsafePointer(to: &addr) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        guard rc == 0 else {
            close(fd)
            throw Failure(description: "connect failed: \(errno)")
        }
        var tv = timeval(tv_sec: 30, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
        var one: Int32 = 1
        setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
    }

    deinit { close(fd) }

    /// Sends raw bytes.
    func send(_ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes {
                Glibc.send(fd, $0.baseAddress! + offset, bytes.count - offset, Int32(MSG_NOSIGNAL))
            }
            guard n > 0 else { throw Failure(description: "send failed: \(errno)") }
            offset += n
        }
    }

    /// Encodes a command as a RESP array of bulk strings.
    static func encode(_ args: [String]) -> [UInt8] {
        encode(args.map { Array($0.utf8) })
    }

    static func encode(_ args: [[UInt8]]) -> [UInt8] {
        var out = Array("*\(args.count)\r\n".utf8)
        for a in args {
            out += Array("$\(a.count)\r\n".utf8)
            out += a
            out += [13, 10]
        }
        return out
    }

    /// Reads the next reply.
    func read() throws -> RESPValue {
        while true {
            if let value = try decoder.next(from: &input) { return value }
            var chunk = [UInt8](repeating: 0, count: 65536)
            let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress!, $0.count, 0) }
            guard n > 0 else { throw Failure(description: n == 0 ? "connection closed" : "recv failed: \(errno)") }
            input.writeBytes(chunk[0..<n])
        }
    }

    /// Whether the server closed the connection (reads until EOF, up to the timeout).
    func isClosedByServer() -> Bool {
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress!, $0.count, 0) }
            if n == 0 { return true }
            if n < 0 { return errno == ECONNRESET }
        }
    }
}

extension RESPValue {
    /// The value as a short text for assertions: `+OK` → "OK", `$x` → "x", `:1` → "1",
    /// errors → "ERR …", nulls → "nil", arrays → "[a, b]".
    var text: String {
        switch self {
        case .simpleString(let s): return s
        case .error(let s): return s
        case .integer(let n): return String(n)
        case .bulkString(let b): return String(buffer: b)
        case .nullBulkString, .nullArray, .null: return "nil"
        case .array(let a), .set(let a), .push(let a): return "[" + a.map(\.text).joined(separator: ", ") + "]"
        case .map(let pairs):
            return "{" + pairs.map { "\($0.key.text): \($0.value.text)" }.joined(separator: ", ") + "}"
        case .double(let d): return "\(d)"
        case .boolean(let b): return b ? "true" : "false"
        case .bigNumber(let s): return s
        case .verbatimString(_, let t): return String(buffer: t)
        case .blobError(let b): return String(buffer: b)
        case .attribute(_, let v): return v.text
        }
    }
}
