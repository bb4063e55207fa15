import Foundation
import KVSNetworkTestSupport
import KVSTestSupport
import NIOCore
import RESP
import Testing

@testable import KVSServer

@Suite("Persistence")
struct PersistenceTests {
    @Test func dataSurvivesARestart() async throws {
        let dir = try makeTemporaryDirectory()
        try await withKVSServer(directory: dir, blocking: true) { server, port in
            let c = try TestClient(port: port)
            try c.call("SET", "plain", "v")
            try c.call("SET", "ttl", "v", "EX", "1000")
            try c.callBytes([Array("SET".utf8), [0xFF, 0x00], [0x00, 0x01, 0xFE]])
            try c.call("SELECT", "5")
            try c.call("SET", "in5", "five")
            try await server.shutdown(save: .save)
        }
        try await withKVSServer(directory: dir, blocking: true) { _, port in
            let c = try TestClient(port: port)
            #expect(try c.call("GET", "plain") == bulk("v"))
            let ttl = Int(try c.call("TTL", "ttl").text) ?? 0
            #expect(ttl > 900 && ttl <= 1000)  // the deadline is absolute: it kept running
            #expect(
                try c.callBytes([Array("GET".utf8), [0xFF, 0x00]])
                    == .bulkString(ByteBuffer(bytes: [0x00, 0x01, 0xFE]))
            )
            #expect(try c.call("DBSIZE") == int(3))
            try c.call("SELECT", "5")
            #expect(try c.call("GET", "in5") == bulk("five"))
        }
    }

    @Test func saveBgsaveAndLastsave() async throws {
        let dir = try makeTemporaryDirectory()
        try await withKVSServer(directory: dir, blocking: true) { _, port in
            let c = try TestClient(port: port)
            try c.call("SET", "a", "1")
            #expect(try c.call("SAVE") == OK)
            #expect(FileManager.default.fileExists(atPath: dir + "/dump.kvs"))
            #expect(try c.call("INFO", "persistence").text.contains("rdb_changes_since_last_save:0"))
            try c.call("SET", "b", "2")
            #expect(try c.call("BGSAVE") == .simpleString("Background saving started"))
            // Wait (bounded) for the background save to finish.
            let deadline = ContinuousClock.now + .seconds(60)
            while try c.call("INFO", "persistence").text.contains("rdb_bgsave_in_progress:1"),
                ContinuousClock.now < deadline
            {
                try await Task.sleep(for: .milliseconds(10))
            }
            try c.call("SET", "c", "3")  // after the BGSAVE: not in the file
        }
        try await withKVSServer(directory: dir, blocking: true) { _, port in
            let c = try TestClient(port: port)
            #expect(try c.call("MGET", "a", "b", "c") == .array([bulk("1"), bulk("2"), NIL]))
        }
    }

    @Test func savePolicyWritesInTheBackground() async throws {
        let dir = try makeTemporaryDirectory()
        try await withKVSServer(
            { $0.savePoints = [ServerConfiguration.SavePoint(seconds: 1, changes: 2)] },
            directory: dir,
            blocking: true
        ) { _, port in
            let c = try TestClient(port: port)
            try c.call("SET", "a", "1")
            try c.call("SET", "b", "2")
            // The policy is checked once a second; wait (bounded) for the file.
            let deadline = ContinuousClock.now + .seconds(60)
            while !FileManager.default.fileExists(atPath: dir + "/dump.kvs"), ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(20))
            }
            #expect(FileManager.default.fileExists(atPath: dir + "/dump.kvs"))
        }
        try await withKVSServer(directory: dir, blocking: true) { _, port in
            let c = try TestClient(port: port)
            #expect(try c.call("MGET", "a", "b") == .array([bulk("1"), bulk("2")]))
        }
    }

    @Test func saveParsing() {
        #expect(ServerConfiguration.parseSavePoints("") == [])
        #expect(
            ServerConfiguration.parseSavePoints("3600 1 300 100") == [
                .init(seconds: 3600, changes: 1), .init(seconds: 300, changes: 100),
            ]
        )
        #expect(ServerConfiguration.parseSavePoints("60:10") == [.init(seconds: 60, changes: 10)])
        #expect(ServerConfiguration.parseSavePoints("60") == nil)
        #expect(ServerConfiguration.parseSavePoints("x 1") == nil)
    }

    @Test func corruptSnapshotStopsStartupAndIsKept() async throws {
        let dir = try makeTemporaryDirectory()
        try await withKVSServer(directory: dir, blocking: true) { server, port in
            try TestClient(port: port).call("SET", "a", "1")
            try await server.shutdown(save: .save)
        }
        let path = dir + "/dump.kvs"
        var bytes = try [UInt8](Data(contentsOf: URL(fileURLWithPath: path)))
        bytes[30] ^= 0xFF
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        var config = ServerConfiguration()
        config.port = 0
        config.directory = dir
        let server = try Server(configuration: config)
        await #expect(throws: Server.StartupError.self) { try await server.start() }
        #expect(try [UInt8](Data(contentsOf: URL(fileURLWithPath: path))) == bytes)
        try Data("not a snapshot at all, not at all".utf8).write(to: URL(fileURLWithPath: path))
        let again = try Server(configuration: config)
        await #expect(throws: Server.StartupError.self) { try await again.start() }
    }

    @Test func shutdownCommandSavesAndStops() async throws {
        let dir = try makeTemporaryDirectory()
        var config = ServerConfiguration()
        config.port = 0
        config.directory = dir
        let server = try Server(configuration: config)
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await server.run() }
            // `run` binds first; wait (bounded) for the port.
            let deadline = ContinuousClock.now + .seconds(60)
            while server.boundPort == nil, ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(5))
            }
            let port = try #require(server.boundPort)
            let c = try TestClient(port: port)
            try c.call("SET", "k", "v")
            try c.send(TestClient.encode(["SHUTDOWN"]))
            #expect(c.isClosedByServer())
            try await group.waitForAll()  // run() returns
        }
        try await withKVSServer(directory: dir, blocking: true) { _, port in
            let c = try TestClient(port: port)
            #expect(try c.call("GET", "k") == bulk("v"))
        }
    }
}
