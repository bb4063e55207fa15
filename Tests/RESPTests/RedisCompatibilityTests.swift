import Foundation
import KVSNetworkTestSupport
import KVSTestSupport
import NIOCore
import RESP
import Testing

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Checks the decoder and encoder against a real `redis-server` when one is installed (CI installs
/// it): the same malformed bytes must get Redis's `-ERR Protocol error: …` text, inline lines must
/// split into the same arguments, and replies must be byte for byte what Redis sends.
@Suite(
    .enabled(if: RedisServer.executable != nil, "redis-server is not installed: Redis compatibility not checked"),
    .dedicatedThread
)
struct RedisCompatibilityTests {
    @Test func malformedCommandsGetRedisErrorText() throws {
        let redis = try RedisServer.start()
        defer { redis.stop() }
        var cases: [([UInt8], String)] = RESPDecoderCommandTests.malformed
            .filter { $0.code != .missingCRLF }  // Redis does not check those bytes
            .map { (bytes($0.input), $0.text) }
        cases.append((Array(repeating: UInt8(ascii: "x"), count: 70_000), "Protocol error: too big inline request"))
        cases.append(
            (
                bytes("*") + Array(repeating: UInt8(ascii: "1"), count: 70_000),
                "Protocol error: too big mbulk count string"
            )
        )
        cases.append(
            (
                bytes("*1\r\n$") + Array(repeating: UInt8(ascii: "1"), count: 70_000),
                "Protocol error: too big bulk count string"
            )
        )
        for (input, text) in cases {
            let connection = try LoopbackConnection(port: redis.port)
            try connection.send(input)
            let reply = try connection.readUntilClosed()
            let ours = decodeCommands(input).error.map { "-ERR \($0)\r\n" }
            #expect(String(decoding: reply, as: UTF8.self) == "-ERR \(text)\r\n", "\(input.prefix(40))")
            #expect(ours == "-ERR \(text)\r\n", "\(input.prefix(40))")
        }
    }

    @Test func inlineCommandsSplitAsRedisSplitsThem() throws {
        let redis = try RedisServer.start()
        defer { redis.stop() }
        let connection = try LoopbackConnection(port: redis.port)
        let lines =
            RESPDecoderCommandTests.inlineCases.map { bytes($0.line) } + [bytes("echo \"\\x00\\xfF\" '\\x41'\n")]
        for line in lines {
            // `EVAL "return ARGV" 0 <line>` answers the arguments Redis split the line into.
            try connection.send(bytes("eval \"return ARGV\" 0 ") + line)
            let reply = try connection.readValue()
            let ours = decodeCommands(line).frames.first ?? []
            #expect(reply == .array(ours.map { .bulkString($0) }), "\(line)")
        }
    }

    @Test func repliesAreByteForByteRedis() throws {
        let redis = try RedisServer.start()
        defer { redis.stop() }
        let types = [
            "string", "integer", "double", "bignum", "null", "array", "set", "map", "attrib", "verbatim", "true",
            "false",
        ]
        for version in RESPVersion.allCases {
            let connection = try LoopbackConnection(port: redis.port)
            try connection.send(bytes("HELLO \(version.rawValue)\r\n"))
            _ = try connection.readValue()
            for type in types {
                try connection.send(bytes("DEBUG PROTOCOL \(type)\r\n"))
                let (value, wire) = try connection.readValueAndBytes()
                #expect(encoded(value, version) == wire, "\(type) \(version)")
                let expected = RESPEncoderTests.redisDebugProtocol.first { encoded($0.value, .resp3) == wire }
                if version == .resp3 { #expect(expected != nil, "DEBUG PROTOCOL \(type) is in the encoder's table") }
            }
        }
    }
}

/// A `redis-server` on a free loopback port, without persistence.
struct RedisServer {
    static let executable: String? = {
        let paths = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/usr/local/bin").split(separator: ":")
        return paths.map { "\($0)/redis-server" }.first { FileManager.default.isExecutableFile(atPath: $0) }
    }()

    let process: Process
    let port: UInt16

    static func start() throws -> RedisServer {
        guard let executable else { throw CompatibilityError.noRedis }
        for _ in 0..<5 {
            let port = UInt16.random(in: 20_000...40_000)
            let process = Process()
            process.executableURL = URL(fileURLWithPath: executable)
            process.arguments = [
                "--port", "\(port)", "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
                "--enable-debug-command", "local", "--daemonize", "no", "--loglevel", "warning",
            ]
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            for _ in 0..<100 {
                if let connection = try? LoopbackConnection(port: port) {
                    // The port may belong to another test's server: make sure this one answers.
                    try connection.send(bytes("INFO server\r\n"))
                    let info = try connection.readValue().stringValue ?? ""
                    if info.contains("process_id:\(process.processIdentifier)\r\n") {
                        return RedisServer(process: process, port: port)
                    }
                    break
                }
                if !process.isRunning { break }
                usleep(20_000)
            }
            // Not ours, or not up: never send SHUTDOWN to whatever answers on that port.
            if process.isRunning { kill(process.processIdentifier, SIGKILL) }
            process.waitUntilExit()
        }
        throw CompatibilityError.redisDidNotStart
    }

    /// Stops the server with `SHUTDOWN NOSAVE`, or SIGKILL. Not SIGTERM: a child of a test process
    /// can inherit a signal mask (libdispatch's worker threads block signals) that blocks it.
    func stop() {
        if let connection = try? LoopbackConnection(port: self.port) {
            try? connection.send(bytes("SHUTDOWN NOSAVE\r\n"))
            _ = try? connection.readUntilClosed()
        }
        for _ in 0..<100 where self.process.isRunning { usleep(20_000) }
        if self.process.isRunning { kill(self.process.processIdentifier, SIGKILL) }
        self.process.waitUntilExit()
    }
}

enum CompatibilityError: Error {
    case noRedis, redisDidNotStart
    case socket(Int32)
    case timeout
}

/// A blocking TCP connection to 127.0.0.1, with a receive timeout so that a test never hangs.
final class LoopbackConnection {
    private let descriptor: Int32
    private var received = ByteBuffer()
    private var decoder = RESPDecoder()

    init(port: UInt16) throws {
        do { descriptor = try connectLoopbackSocket(port: Int(port)) } catch {
            throw CompatibilityError.socket(error.errno)
        }
    }

    deinit { close(self.descriptor) }

    func send(_ bytes: [UInt8]) throws {
        var sent = 0
        while sent < bytes.count {
            let count = bytes[sent...].withUnsafeBytes { write(self.descriptor, $0.baseAddress, $0.count) }
            guard count > 0 else { throw CompatibilityError.socket(errno) }
            sent += count
        }
    }

    /// Reads one chunk into `received`; false at end of stream.
    private func receive() throws -> Bool {
        var chunk = [UInt8](repeating: 0, count: 65536)
        let count = chunk.withUnsafeMutableBytes { read(self.descriptor, $0.baseAddress, $0.count) }
        if count < 0 {
            throw errno == EAGAIN || errno == EWOULDBLOCK
                ? CompatibilityError.timeout : CompatibilityError.socket(errno)
        }
        self.received.writeBytes(chunk[..<count])
        return count > 0
    }

    func readUntilClosed() throws -> [UInt8] {
        while try self.receive() {}
        return Array(self.received.readableBytesView)
    }

    func readValueAndBytes() throws -> (RESPValue, [UInt8]) {
        while true {
            let before = self.received
            if let value = try self.decoder.next(from: &self.received) {
                return (
                    value, Array(before.readableBytesView.prefix(before.readableBytes - self.received.readableBytes))
                )
            }
            guard try self.receive() else { throw CompatibilityError.timeout }
        }
    }

    func readValue() throws -> RESPValue { try self.readValueAndBytes().0 }
}
