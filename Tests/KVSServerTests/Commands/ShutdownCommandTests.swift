import Foundation
import KVSNetworkTestSupport
import KVSTestSupport
import NIOCore
import RESP
import Testing

@testable import KVSServer

/// SHUTDOWN's options as Redis 7 gives them meaning; every error text is redis-server
/// 7.0.15's.
@Suite("SHUTDOWN")
struct ShutdownCommandTests {
    /// ABORT with no shutdown in progress answers Redis's error and never stops the server.
    @Test func abortWithNoShutdownInProgressIsAnError() async throws {
        try await withKVSServer(blocking: true) { _, port in
            let c = try TestClient(port: port)
            #expect(try c.call("SHUTDOWN", "ABORT") == err("ERR No shutdown in progress."))
            #expect(try c.call("shutdown", "abort", "abort") == err("ERR No shutdown in progress."))
            #expect(try c.call("PING") == .simpleString("PONG"))
            #expect(try TestClient(port: port).call("PING") == .simpleString("PONG"))
        }
    }

    @Test func conflictingOrUnknownOptionsAreSyntaxErrors() async throws {
        try await withKVSServer(blocking: true) { _, port in
            let c = try TestClient(port: port)
            for options in [
                ["SAVE", "NOSAVE"], ["NOSAVE", "SAVE"], ["ABORT", "NOW"], ["NOW", "ABORT"], ["ABORT", "FORCE"],
                ["ABORT", "SAVE"], ["NOSAVE", "ABORT"], ["FOO"], ["NOW", "LATER"],
            ] {
                #expect(try c.call(["SHUTDOWN"] + options) == err("ERR syntax error"), "SHUTDOWN \(options)")
            }
            #expect(try c.call("PING") == .simpleString("PONG"))
        }
    }

    @Test func refusedInsideMulti() async throws {
        try await withKVSServer(blocking: true) { _, port in
            let c = try TestClient(port: port)
            #expect(try c.call("MULTI") == OK)
            #expect(try c.call("SHUTDOWN") == err("ERR Command not allowed inside a transaction"))
            #expect(try c.call("SHUTDOWN", "ABORT") == err("ERR Command not allowed inside a transaction"))
            #expect(try c.call("EXEC") == err("EXECABORT Transaction discarded because of previous errors."))
            #expect(try c.call("PING") == .simpleString("PONG"))
        }
    }

    /// A save that fails answers Redis's error and keeps the server running; with FORCE the
    /// server stops all the same.
    @Test func failedSaveKeepsRunningUnlessForced() async throws {
        let dir = try makeTemporaryDirectory()
        let ended = try await runServer(directory: dir) { _, port, _ in
            let c = try TestClient(port: port)
            #expect(try c.call("SET", "k", "v") == OK)
            try FileManager.default.removeItem(atPath: dir)  // the save cannot create its file
            #expect(try c.call("SHUTDOWN", "SAVE") == err("ERR Errors trying to SHUTDOWN. Check logs."))
            #expect(try c.call("SHUTDOWN", "SAVE", "NOW") == err("ERR Errors trying to SHUTDOWN. Check logs."))
            #expect(try c.call("PING") == .simpleString("PONG"))
            try c.send(TestClient.encode(["SHUTDOWN", "SAVE", "FORCE"]))
            #expect(c.isClosedByServer())
        }
        #expect(ended == nil, "FORCE stops without a final save to fail")
    }

    /// A graceful shutdown (SIGTERM) whose final save fails still stops, and ends with an
    /// error that says so in a sentence (kvs-server prints it and exits 1).
    @Test func failedFinalSaveOnGracefulShutdownIsReported() async throws {
        let dir = try makeTemporaryDirectory()
        let ended = try await runServer({ $0.savePoints = [.init(seconds: 3600, changes: 1)] }, directory: dir) {
            _,
            port,
            group in
            try TestClient(port: port).call("SET", "k", "v")
            try FileManager.default.removeItem(atPath: dir)
            await group.triggerGracefulShutdown()
        }
        let error = try #require(ended as? Server.ShutdownError, "\(String(describing: ended))")
        #expect(error.description.hasPrefix("The final save to \(dir)/dump.kvs failed ("))
        #expect(error.description.hasSuffix("): the changes since the last save are lost."))
    }

    /// With no `save` rules, SHUTDOWN does not save; SAVE saves; NOSAVE does not, even with rules.
    @Test func saveAndNosave() async throws {
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let snapshot = dir + "/dump.kvs"
        _ = try await runServer(directory: dir) { _, port, _ in
            let c = try TestClient(port: port)
            try c.call("SET", "k", "1")
            try c.send(TestClient.encode(["SHUTDOWN", "NOW"]))
            #expect(c.isClosedByServer())
        }
        #expect(!FileManager.default.fileExists(atPath: snapshot), "no rules, no SAVE: nothing saved")
        _ = try await runServer({ $0.savePoints = [.init(seconds: 3600, changes: 1)] }, directory: dir) { _, port, _ in
            let c = try TestClient(port: port)
            try c.call("SET", "k", "2")
            try c.send(TestClient.encode(["SHUTDOWN", "NOSAVE"]))
            #expect(c.isClosedByServer())
        }
        #expect(!FileManager.default.fileExists(atPath: snapshot), "NOSAVE overrides the rules")
        _ = try await runServer(directory: dir) { _, port, _ in
            let c = try TestClient(port: port)
            try c.call("SET", "k", "3")
            try c.send(TestClient.encode(["SHUTDOWN", "SAVE", "NOW", "FORCE"]))
            #expect(c.isClosedByServer())
        }
        try await withKVSServer(directory: dir, blocking: true) { _, port in
            let k = try TestClient(port: port).call("GET", "k")
            #expect(k == bulk("3"))
        }
    }

    /// Writes another connection makes after SHUTDOWN's save and before the server stops
    /// are saved too: the server saves again when anything changed meanwhile.
    @Test func writesAfterTheShutdownSaveAreSaved() async throws {
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        // Runs on b's loop from before SHUTDOWN until after SHUTDOWN saved, then empties the
        // database: a write the SHUTDOWN save could not hold.
        let gate = Gate { c in
            c.database.flush()
            c.call.writes += 1
        }
        let ended = try await runServer(directory: dir, extraCommands: [gate.command]) { _, port, _ in
            let a = try TestClient(port: port)
            let b = try TestClient(port: port)  // on the other event loop (two, taken in turn)
            try a.call("SET", "k", "v")
            try b.send(TestClient.encode(["TEST.BLOCK"]))
            gate.started.wait()
            try a.send(TestClient.encode(["SHUTDOWN", "SAVE"]))
            #expect(a.isClosedByServer(), "SHUTDOWN saved (with k) and asked the server to stop")
            gate.release.signal()
            #expect(try b.read() == OK)
            #expect(b.isClosedByServer())
        }
        #expect(ended == nil)
        try await withKVSServer(directory: dir, blocking: true) { _, port in
            let k = try TestClient(port: port).call("GET", "k")
            #expect(k == .nullBulkString, "the later flush was saved")
        }
    }
}

/// A test command, `TEST.BLOCK`, that blocks its connection's event loop until the test
/// lets it go: ``started`` is signalled when it begins, it ends (answering OK) when
/// ``release`` is signalled.
final class Gate: Sendable {
    let started = DispatchSemaphore(value: 0)
    let release = DispatchSemaphore(value: 0)
    /// What the command does once released, before answering OK.
    let then: @Sendable (inout SessionCall) -> Void

    init(then: @escaping @Sendable (inout SessionCall) -> Void = { _ in }) {
        self.then = then
    }

    var command: CommandSpec {
        .session("test.block", arity: 1, flags: [], group: "server", summary: "Blocks until the test releases it.") {
            [started, release, then] c in
            started.signal()
            release.wait()
            then(&c)
            c.ok()
        }
    }
}
