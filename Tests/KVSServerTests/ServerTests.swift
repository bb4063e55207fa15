import Foundation
import KVSNetworkTestSupport
import KVSTestSupport
import NIOCore
import RESP
import Testing

@testable import KVSServer

@Suite("Server: connections, pipelining, limits")
struct ServerTests {
    @Test func pipelinedRepliesComeInOrder() async throws {
        try await withKVSServer(blocking: true) { _, port in
            let c = try TestClient(port: port)
            var batch: [UInt8] = []
            for i in 0..<1000 { batch += TestClient.encode(["SET", "k\(i)", "v\(i)"]) }
            for i in 0..<1000 { batch += TestClient.encode(["GET", "k\(i)"]) }
            batch += TestClient.encode(["INCR", "k0"])
            try c.send(batch)
            for _ in 0..<1000 { #expect(try c.read() == OK) }
            for i in 0..<1000 { #expect(try c.read() == bulk("v\(i)")) }
            #expect(try c.read() == err("ERR value is not an integer or out of range"))
        }
    }

    @Test func largeRepliesAndSlowReaders() async throws {
        try await withKVSServer(blocking: true) { _, port in
            let c = try TestClient(port: port)
            let big = String(repeating: "v", count: 200_000)
            #expect(try c.call("SET", "big", big) == OK)
            // 200 pipelined GETs of 200 kB (40 MB of replies) not read yet: the server stops
            // reading from this client, and others are served meanwhile.
            var batch: [UInt8] = []
            for _ in 0..<200 { batch += TestClient.encode(["GET", "big"]) }
            try c.send(batch)
            let other = try TestClient(port: port)
            #expect(try other.call("PING") == .simpleString("PONG"))
            for _ in 0..<200 { #expect(try c.read() == bulk(big)) }
            #expect(try c.call("PING") == .simpleString("PONG"))
        }
    }

    @Test func commandsSplitAcrossReads() async throws {
        try await withKVSServer(blocking: true) { _, port in
            let c = try TestClient(port: port)
            let bytes = TestClient.encode(["SET", "split", String(repeating: "x", count: 100)])
            for b in bytes { try c.send([b]) }
            #expect(try c.read() == OK)
            #expect(try c.call("STRLEN", "split") == int(100))
        }
    }

    @Test func inlineCommands() async throws {
        try await withKVSServer(blocking: true) { _, port in
            let c = try TestClient(port: port)
            try c.send("PING\r\n")
            #expect(try c.read() == .simpleString("PONG"))
            try c.send("set greeting \"hello world\"\n")
            #expect(try c.read() == OK)
            try c.send("get greeting\r\n")
            #expect(try c.read() == bulk("hello world"))
        }
    }

    @Test func malformedInputGetsProtocolErrorAndClose() async throws {
        try await withKVSServer(blocking: true) { _, port in
            let cases: [(String, String)] = [
                ("*1\r\n$x\r\n", "ERR Protocol error: invalid bulk length"),
                ("*a\r\n", "ERR Protocol error: invalid multibulk length"),
                ("*1\r\n:1\r\n", "ERR Protocol error: expected '$', got ':'"),
                ("set \"a b\r\n", "ERR Protocol error: unbalanced quotes in request"),
            ]
            for (input, expected) in cases {
                let c = try TestClient(port: port)
                try c.send(input)
                #expect(try c.read() == err(expected), "input \(input.debugDescription)")
                #expect(c.isClosedByServer())
            }
            // Other clients are unaffected.
            #expect(try TestClient(port: port).call("PING") == .simpleString("PONG"))
        }
    }

    @Test func limitsDisconnectTheOffender() async throws {
        try await withKVSServer(
            {
                $0.maxBulkLength = 1024
                $0.maxArguments = 8
            },
            blocking: true
        ) { _, port in
            let healthy = try TestClient(port: port)
            let big = try TestClient(port: port)
            try big.send("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$2000\r\n")
            #expect(try big.read() == err("ERR Protocol error: invalid bulk length"))
            #expect(big.isClosedByServer())
            let many = try TestClient(port: port)
            try many.send("*9\r\n")
            #expect(try many.read() == err("ERR Protocol error: invalid multibulk length"))
            #expect(many.isClosedByServer())
            let inline = try TestClient(port: port)
            try inline.send(String(repeating: "x", count: 70 * 1024))
            #expect(try inline.read() == err("ERR Protocol error: too big inline request"))
            #expect(inline.isClosedByServer())
            #expect(try healthy.call("PING") == .simpleString("PONG"))
        }
    }

    @Test func queryBufferLimit() async throws {
        try await withKVSServer(
            {
                $0.maxQueryBufferLength = 4096
                $0.maxBulkLength = 1 << 20
            },
            blocking: true
        ) { _, port in
            let c = try TestClient(port: port)
            try c.send("*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$100000\r\n" + String(repeating: "x", count: 8192))
            #expect(try c.read() == err("ERR Protocol error: query buffer limit exceeded"))
            #expect(c.isClosedByServer())
        }
    }

    @Test func maxClients() async throws {
        try await withKVSServer({ $0.maxClients = 2 }, blocking: true) { server, port in
            let a = try TestClient(port: port)
            let b = try TestClient(port: port)
            #expect(try a.call("PING") == .simpleString("PONG"))
            #expect(try b.call("PING") == .simpleString("PONG"))
            let c = try TestClient(port: port)
            #expect(try c.read() == err("ERR max number of clients reached"))
            #expect(c.isClosedByServer())
            #expect(try a.call("PING") == .simpleString("PONG"))
        }
    }

    @Test func protectedModeRefusesOpenBindWithoutPassword() async throws {
        var config = ServerConfiguration()
        config.bindAddresses = ["0.0.0.0"]
        config.port = 0
        config.directory = try makeTemporaryDirectory()
        let server = try Server(configuration: config)
        await #expect(throws: Server.StartupError.self) { try await server.start() }
    }

    /// A graceful shutdown (what SIGTERM and SIGINT start) while a command runs completes
    /// when that command ends: its reply is sent, nothing the client pipelined after it
    /// runs, and the server stops.
    @Test func gracefulShutdownWaitsForTheRunningCommandOnly() async throws {
        let gate = Gate()
        let ended = try await runServer(extraCommands: [gate.command]) { server, port, group in
            let c = try TestClient(port: port)
            try c.send(TestClient.encode(["TEST.BLOCK"]) + TestClient.encode(["SET", "after", "1"]))
            gate.started.wait()
            await group.triggerGracefulShutdown()
            // The stop has begun (bounded wait for the flag the connections read).
            let deadline = ContinuousClock.now + .seconds(30)
            while !server.serverState.stopping.load(ordering: .relaxed), ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(1))
            }
            let stopping = server.serverState.stopping.load(ordering: .relaxed)
            #expect(stopping)
            gate.release.signal()
            #expect(try c.read() == OK, "the running command's reply is sent")
            // The pipelined SET does not run: the next thing on the connection is its end.
            #expect(throws: TestClient.Failure.self) { try c.read() }
        }
        #expect(ended == nil)
    }

    /// Random and truncated frames (fixed seed, bounded): the server answers or closes,
    /// never crashes, and keeps serving others.
    @Test func fuzzRandomAndTruncatedFrames() async throws {
        try await withKVSServer(blocking: true) { _, port in
            var rng = SplitMix64(seed: 0x5EED)
            let valid: [[String]] = [["SET", "k", "v"], ["GET", "k"], ["INCR", "n"], ["MGET", "a", "b"], ["PING"]]
            let alphabet = Array("*$:+-\r\n0123456789abcSETGET ".utf8)
            for round in 0..<150 {
                var frame: [UInt8] = []
                for _ in 0..<Int(rng.next() % 4) {
                    frame += TestClient.encode(valid[Int(rng.next() % UInt64(valid.count))])
                }
                switch rng.next() % 3 {
                case 0:  // truncated
                    if !frame.isEmpty { frame = Array(frame.prefix(Int(rng.next() % UInt64(frame.count)))) }
                case 1:  // random bytes
                    for _ in 0..<Int(rng.next() % 64) {
                        frame.append(alphabet[Int(rng.next() % UInt64(alphabet.count))])
                    }
                default:  // random bit flips in a valid frame
                    for _ in 0..<3 where !frame.isEmpty {
                        let i = Int(rng.next() % UInt64(frame.count))
                        frame[i] ^= UInt8(truncatingIfNeeded: rng.next())
                    }
                }
                let c = try TestClient(port: port)
                try c.send(frame)
                shutdown(c.fd, Int32(SHUT_WR))
                _ = c.isClosedByServer()
                if round % 25 == 0 {
                    #expect(try TestClient(port: port).call("PING") == .simpleString("PONG"))
                }
            }
            #expect(try TestClient(port: port).call("PING") == .simpleString("PONG"))
        }
    }
}
