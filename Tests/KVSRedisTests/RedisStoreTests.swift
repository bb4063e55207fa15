import Foundation
import KVS
import KVSNetworkTestSupport
import KVSRedis
import KVSTestSupport
import Logging
import NIOCore
import NIOPosix
import RESP
import ServiceLifecycle
import Testing

@Suite("RedisStore")
struct RedisStoreTests {
    @Test("many tasks share one store: every write is read back, over a pool of pipelined connections")
    func concurrentTasks() async throws {
        try await withKVSServer { _, port in
            // 64 tasks over 3 connections: under ThreadSanitizer on a busy machine a request
            // can wait longer than the default 5 s in its connection's queue.
            let store = RedisStore<String>(
                configuration: .init(port: port, connectionsPerNode: 3, requestTimeout: .seconds(60))
            )
            try await withThrowingTaskGroup(of: Void.self) { group in
                for task in 0..<64 {
                    group.addTask {
                        for i in 0..<25 {
                            let key = "t\(task):\(i)"
                            try await store.set(key, "\(task)-\(i)")
                            #expect(try await store.get(key) == "\(task)-\(i)")
                        }
                        let batch = try await store.batchGet((0..<25).map { "t\(task):\($0)" })
                        #expect(batch.values.count == 25 && batch.errors.isEmpty)
                    }
                }
                try await group.waitForAll()
            }
            #expect(try await store.keys().count == 64 * 25)
            // 64 tasks ran over at most 3 connections (pipelined), plus none for anyone else.
            let info = try await store.command(["INFO", "clients"]).stringValue ?? ""
            let clients = info.split(whereSeparator: \.isNewline)
                .first { $0.hasPrefix("connected_clients:") }
                .flatMap { Int($0.dropFirst("connected_clients:".count)) }
            #expect(clients.map { $0 >= 1 && $0 <= 3 } == true, "INFO clients: \(info)")
            await store.shutdown()
        }
    }

    @Test("a refused connection throws .connectionFailed naming host:port and the key")
    func connectionRefused() async throws {
        let refusing = try RefusingPort()
        let port = refusing.port
        let store = RedisStore<String>(port: port)
        do {
            _ = try await store.get("k1")
            Issue.record("get succeeded with no server")
        } catch {
            #expect(error.code == .connectionFailed)
            #expect(error.key == "k1")
            #expect(error.message.contains("127.0.0.1:\(port)"))
        }
        // The failed slot is retried, and fails the same way.
        await expectKVSError(.connectionFailed) { try await store.set("k2", "v") }
        await store.shutdown()
        withExtendedLifetime(refusing) {}
    }

    @Test("operations after shutdown() throw .storeClosed")
    func shutdownThenUse() async throws {
        try await withKVSServer { _, port in
            let store = RedisStore<String>(port: port)
            try await store.set("k", "v")
            await store.shutdown()
            await store.shutdown()  // idempotent
            await expectKVSError(.storeClosed) { try await store.get("k") }
            await expectKVSError(.storeClosed) { try await store.batchGet(["k"]) }
            await expectKVSError(.storeClosed) { try await store.keys() }
        }
    }

    @Test("as a Service in a ServiceGroup, the store shuts down on graceful shutdown")
    func serviceLifecycle() async throws {
        try await withKVSServer { _, port in
            let store = RedisStore<String>(port: port)
            var logger = Logger(label: "kvs-redis-test")
            logger.logLevel = .error
            let group = ServiceGroup(services: [store], logger: logger)
            try await withThrowingTaskGroup(of: Void.self) { tasks in
                tasks.addTask { try await group.run() }
                try await store.set("k", "v")
                #expect(try await store.get("k") == "v")
                await group.triggerGracefulShutdown()
                try await tasks.waitForAll()
            }
            await expectKVSError(.storeClosed) { try await store.get("k") }
        }
    }

    @Test("a node that accepts but never replies yields .timeout instead of waiting forever")
    func silentNodeTimesOut() async throws {
        let silent = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .childChannelInitializer { _ in MultiThreadedEventLoopGroup.singleton.any().makeSucceededVoidFuture() }
            .bind(host: "127.0.0.1", port: 0).get()
        let port = silent.localAddress?.port ?? 0
        let store = RedisStore<String>(configuration: .init(port: port, requestTimeout: .milliseconds(200)))
        let start = ContinuousClock.now
        do {
            _ = try await store.get("slow")
            Issue.record("get succeeded on a silent node")
        } catch {
            #expect(error.code == .timeout)
            #expect(error.key == "slow")
            #expect(error.message.contains("127.0.0.1:\(port)"))
        }
        // Not a speed check: the code above proves the timeout fired; this bound, far above
        // the 200 ms timeout, only catches a request left waiting forever.
        #expect(ContinuousClock.now - start < .seconds(60))
        await store.shutdown()
        try await silent.close()
    }

    @Test(
        "an error reply becomes .serverError with the server's text",
        .enabled(if: redisServerPath != nil, "skipped: redis-server is not on the PATH")
    )
    func errorReply() async throws {
        try await withRedisServer { port in
            let store = RedisStore<String>(port: port)
            _ = try await store.command(["LPUSH", "list", "x"])
            do {
                _ = try await store.get("list")
                Issue.record("GET on a list succeeded")
            } catch let error as KVSError {
                #expect(error.code == .serverError)
                #expect(error.key == "list")
                #expect(error.message.contains("WRONGTYPE"))
                #expect(error.message.contains("127.0.0.1:\(port)"))
            }
            let batch = try await store.batchSet(["list": "now a string", "other": "v"])
            #expect(batch.successful == 2)
            await store.shutdown()
        }
    }

    @Test(
        "a connection the server closed is replaced on the next use",
        .enabled(if: redisServerPath != nil, "skipped: redis-server is not on the PATH")
    )
    func closedConnectionIsReplaced() async throws {
        try await withRedisServer { port in
            let store = RedisStore<String>(configuration: .init(port: port, connectionsPerNode: 1))
            try await store.set("k", "v")
            let admin = RedisStore<String>(port: port)
            _ = try await admin.command(["CLIENT", "KILL", "TYPE", "normal", "SKIPME", "yes"])
            // The close reaches the client at some point; a request that raced it may fail,
            // but within a generous bound a request must succeed on a new connection.
            let deadline = ContinuousClock.now + .seconds(10)
            var value: String?
            while value == nil, ContinuousClock.now < deadline {
                value = try? await store.get("k")
                if value == nil { try await Task.sleep(for: .milliseconds(10)) }
            }
            #expect(value == "v", "a new connection replaced the killed one")
            await store.shutdown()
            await admin.shutdown()
        }
    }

    @Test("a failed AUTH at connection set-up is .connectionFailed with the server's text")
    func authFailure() async throws {
        try await withKVSServer { _, port in
            let store = RedisStore<String>(port: port, database: 0)
            let wrong = RedisStore<String>(port: port, password: "not-the-password")
            // kvs-server has no password set: AUTH fails, and the connection set-up reports it.
            await expectKVSError(.connectionFailed) { try await wrong.get("k") }
            let reply = try await store.command(["NOSUCHCOMMAND"])
            #expect(reply.errorMessage != nil)
            await store.shutdown()
            await wrong.shutdown()
        }
    }

    @Test("Codable values use the snapshot's encoding; [UInt8], ValueBytes and ByteBuffer pass bytes through")
    func codableValues() async throws {
        struct Point: Codable, Sendable, Equatable, RedisValueCodec {
            var x: Int
            var label: String
        }
        try await withKVSServer { _, port in
            let points = RedisStore<Point>(port: port)
            let raw = RedisStore<[UInt8]>(port: port)
            let buffers = RedisStore<ByteBuffer>(port: port)
            try await points.set("p", Point(x: -3, label: "ok"))
            #expect(try await points.get("p") == Point(x: -3, label: "ok"))
            // The bytes on the server are exactly the snapshot's value encoding.
            let bytes = try await raw.get("p")
            #expect(bytes == Array(buffer: try Point.encodeRedisValue(Point(x: -3, label: "ok"))))
            try await buffers.set("b", ByteBuffer(bytes: [0, 255, 13, 10]))
            #expect(try await raw.get("b") == [0, 255, 13, 10])
            // ValueBytes pass their bytes through, both ways.
            let compact = RedisStore<ValueBytes>(port: port)
            try await compact.set("c", [1, 0, 254])
            #expect(try await raw.get("c") == [1, 0, 254])
            #expect(try await compact.get("b") == [0, 255, 13, 10])
            await compact.shutdown()
            // Bytes that are not a Point decode as .protocolError naming the key.
            try await raw.set("junk", [0xFF, 0xFF, 0xFF])
            await expectKVSError(.protocolError) { try await points.get("junk") }
            for store in [points] as [RedisStore<Point>] { await store.shutdown() }
            await raw.shutdown()
            await buffers.shutdown()
        }
    }
}
