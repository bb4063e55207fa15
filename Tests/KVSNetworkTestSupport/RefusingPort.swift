#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A TCP port on 127.0.0.1 that refuses connections for as long as this value lives: a
/// socket is bound to it and never listens, so a connection gets a reset and no other
/// server (another test's, running in parallel) can bind the port meanwhile.
///
/// ``freeLoopbackPort()`` binds a port and closes it again: right for a server about to
/// start on it, wrong for a test that needs the port to stay closed: another test's server
/// may take such a port between the close and the connection, and a test that expects
/// "unreachable" then gets a "bad response".
package final class RefusingPort: Sendable {
    /// The port number.
    package let port: Int
    private let descriptor: Int32

    /// Binds a socket to a free port on 127.0.0.1.
    ///
    /// - Throws: ``RefusingPortError`` if the system gives no socket or no port.
    package init() throws {
        #if canImport(Glibc)
        let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        #else
        let descriptor = socket(AF_INET, SOCK_STREAM, 0)
        #endif
        guard descriptor >= 0 else { throw RefusingPortError() }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { generic in
                bind(descriptor, generic, length) == 0 && getsockname(descriptor, generic, &length) == 0
            }
        }
        guard bound else {
            close(descriptor)
            throw RefusingPortError()
        }
        self.descriptor = descriptor
        self.port = Int(UInt16(bigEndian: address.sin_port))
    }

    deinit { close(descriptor) }
}

/// The system gave no socket or no port on 127.0.0.1.
package struct RefusingPortError: Error, CustomStringConvertible {
    package var description: String { "could not bind a socket to a port on 127.0.0.1" }
}
