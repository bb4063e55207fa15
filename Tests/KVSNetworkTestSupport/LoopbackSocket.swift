#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A blocking TCP socket connected to `port` on 127.0.0.1, whose reads time out after
/// `receiveTimeout` seconds; the caller closes it. For tests that talk to a server byte by
/// byte, outside any event loop.
///
/// - Throws: ``LoopbackSocketError`` if the system gives no socket or the connection fails
///   (the socket is closed then).
package func connectLoopbackSocket(port: Int, receiveTimeout: Int = 5) throws(LoopbackSocketError) -> Int32 {
    #if canImport(Glibc)
    let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    #else
    let descriptor = socket(AF_INET, SOCK_STREAM, 0)
    #endif
    guard descriptor >= 0 else { throw LoopbackSocketError(call: "socket()", port: port, errno: errno) }
    var timeout = timeval(tv_sec: receiveTimeout, tv_usec: 0)
    setsockopt(descriptor, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_port = in_port_t(UInt16(truncatingIfNeeded: port).bigEndian)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    let connected = withUnsafePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
            connect(descriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
        }
    }
    guard connected == 0 else {
        let failure = LoopbackSocketError(call: "connect()", port: port, errno: errno)
        close(descriptor)
        throw failure
    }
    return descriptor
}

/// Why ``connectLoopbackSocket(port:receiveTimeout:)`` failed.
package struct LoopbackSocketError: Error, CustomStringConvertible {
    /// The system call that failed.
    package let call: String
    /// The port it tried.
    package let port: Int
    /// The system's error number.
    package let errno: Int32

    package var description: String { "\(call) for 127.0.0.1:\(port) failed: errno \(errno)" }
}
