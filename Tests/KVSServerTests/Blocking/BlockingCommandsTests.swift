import Dispatch
import Foundation
import KVS
import KVSNetworkTestSupport
import RESP
import Testing

@testable import KVSServer

/// BLPOP and its kin over real connections, on a server with two event loops: a blocked
/// client is served by another connection's write, possibly on the other loop. One test at
/// a time: each runs a server and several clients, which under ThreadSanitizer would
/// otherwise crowd the machine's cores.
///
/// Waiting for a client to block is polled (``waitUntilBlocked(_:count:)``), never slept
/// for: each test proceeds once the server reports the clients blocked.
@Suite("Blocking list commands", .serialized)
struct BlockingCommandsTests {
    @Test func blockedPopIsServedByAPushFromAnotherClient() async throws {
        try await withKVSServer(blocking: true) { _, port in
            let waiter = try TestClient(port: port)
            let pusher = try TestClient(port: port)
            try waiter.send(TestClient.encode(["BLPOP", "a", "b", "0"]))
            try waitUntilBlocked(pusher, count: 1)
            #expect(try pusher.call("CLIENT", "LIST").text.contains("flags=b"))
            #expect(try pusher.call("RPUSH", "b", "x", "y") == int(2))
            #expect(try waiter.read().text == "[b, x]")
            #expect(try pusher.call("LRANGE", "b", "0", "-1").text == "[y]")
            #expect(try blockedClients(pusher) == 0)
        }
    }

    @Test func clientsAreServedInTheOrderTheyBlocked() async throws {
        try await withKVSServer(blocking: true) { _, port in
            let control = try TestClient(port: port)
            let waiters = try (0..<3).map { _ in try TestClient(port: port) }
            for (i, w) in waiters.enumerated() {
                try w.send(TestClient.encode(["BRPOP", "q", "0"]))
                try waitUntilBlocked(control, count: i + 1)
            }
            // One push of two elements serves the first two, in order; the third waits.
            #expect(try control.call("LPUSH", "q", "a", "b") == int(2))
            #expect(try waiters[0].read().text == "[q, a]")
            #expect(try waiters[1].read().text == "[q, b]")
            #expect(try blockedClients(control) == 1)
            #expect(try control.call("LPUSH", "q", "c") == int(1))
            #expect(try waiters[2].read().text == "[q, c]")
            #expect(try control.call("EXISTS", "q") == int(0))
        }
    }

    @Test func timeoutAnswersNullAndEmptyKeysDoNotBlockInsideMulti() async throws {
        try await withKVSServer(blocking: true) { _, port in
            let c = try TestClient(port: port)
            let start = ContinuousClock.now
            #expect(try c.call("BLPOP", "none", "0.05") == .nullArray)
            #expect(ContinuousClock.now - start >= .milliseconds(50))
            #expect(try c.call("BLMOVE", "none", "d", "LEFT", "RIGHT", "0.01") == .nullArray)
            #expect(try c.call("MULTI") == .simpleString("OK"))
            for command in [
                ["BLPOP", "k", "0"], ["BLMOVE", "k", "d", "LEFT", "RIGHT", "0"], ["BLMPOP", "0", "1", "k", "LEFT"],
            ] {
                #expect(try c.call(command) == .simpleString("QUEUED"))
            }
            #expect(try c.call("EXEC") == .array([.nullArray, .nullBulkString, .nullArray]))
            _ = try c.call("HELLO", "3")
            #expect(try c.call("BRPOP", "none", "0.01") == .null)
        }
    }

    @Test func badTimeoutsAndWrongTypesAnswerRedisErrors() async throws {
        try await withKVSServer(blocking: true) { _, port in
            let c = try TestClient(port: port)
            #expect(try c.call("BLPOP", "k", "abc").text == "ERR timeout is not a float or out of range")
            #expect(try c.call("BLPOP", "k", "nan").text == "ERR timeout is not a float or out of range")
            #expect(try c.call("BLPOP", "k", "-1").text == "ERR timeout is negative")
            #expect(try c.call("BLPOP", "k", "inf").text == "ERR timeout is negative")
            #expect(try c.call("BLPOP", "k", "1e20").text == "ERR timeout is negative")
            #expect(try c.call("BLMOVE", "k", "d", "UP", "RIGHT", "1").text == "ERR syntax error")
            #expect(try c.call("BLMPOP", "0", "0", "k", "LEFT").text == "ERR numkeys should be greater than 0")
            // BLMPOP and BZMPOP read their timeout after the other arguments.
            #expect(try c.call("BLMPOP", "abc", "1", "k", "UP").text == "ERR syntax error")
            #expect(
                try c.call("BZMPOP", "nan", "1", "k", "MIN", "COUNT", "0").text == "ERR count should be greater than 0"
            )
            #expect(try c.call("BZMPOP", "nan", "1", "k", "MIN").text == "ERR timeout is not a float or out of range")
            _ = try c.call("SET", "s", "x")
            #expect(try c.call("BLPOP", "s", "k", "0").text.hasPrefix("WRONGTYPE"))
            #expect(try c.call("BRPOPLPUSH", "s", "d", "0").text.hasPrefix("WRONGTYPE"))
            _ = try c.call("RPUSH", "k", "a")
            #expect(try c.call("BLPOP", "k", "s", "0").text == "[k, a]")
        }
    }

    @Test func pushesInsideExecServeWaitersAfterExec() async throws {
        try await withKVSServer(blocking: true) { _, port in
            let waiter = try TestClient(port: port)
            let writer = try TestClient(port: port)
            try waiter.send(TestClient.encode(["BLPOP", "k", "0"]))
            try waitUntilBlocked(writer, count: 1)
            _ = try writer.call("MULTI")
            _ = try writer.call("RPUSH", "k", "x")
            _ = try writer.call("LLEN", "k")
            // The waiter is served after EXEC: inside it, LLEN still sees the element.
            #expect(try writer.call("EXEC") == .array([int(1), int(1)]))
            #expect(try waiter.read().text == "[k, x]")
            #expect(try writer.call("LLEN", "k") == int(0))
        }
    }

    @Test func aMoveServesTheClientsBlockedOnItsDestination() async throws {
        try await withKVSServer(blocking: true) { _, port in
            let onDestination = try TestClient(port: port)
            let mover = try TestClient(port: port)
            let writer = try TestClient(port: port)
            try onDestination.send(TestClient.encode(["BLPOP", "dst", "0"]))
            try waitUntilBlocked(writer, count: 1)
            try mover.send(TestClient.encode(["BLMOVE", "src", "dst", "LEFT", "RIGHT", "0"]))
            try waitUntilBlocked(writer, count: 2)
            #expect(try writer.call("RPUSH", "src", "v") == int(1))
            #expect(try mover.read() == bulk("v"))
            #expect(try onDestination.read().text == "[dst, v]")
            #expect(try writer.call("EXISTS", "src", "dst") == int(0))
        }
    }

    @Test func sortedSetPopsWaitForAZAdd() async throws {
        try await withKVSServer(blocking: true) { _, port in
            let min = try TestClient(port: port)
            let multi = try TestClient(port: port)
            let writer = try TestClient(port: port)
            try min.send(TestClient.encode(["BZPOPMIN", "z1", "z2", "0"]))
            try waitUntilBlocked(writer, count: 1)
            try multi.send(TestClient.encode(["BZMPOP", "0", "1", "z2", "MAX", "COUNT", "5"]))
            try waitUntilBlocked(writer, count: 2)
            // The first waiter takes the lowest; the second what remains, highest first.
            #expect(try writer.call("ZADD", "z2", "1", "a", "2", "b", "3", "c") == int(3))
            #expect(try min.read().text == "[z2, a, 1]")
            #expect(try multi.read().text == "[z2, [[c, 3], [b, 2]]]")
            #expect(try writer.call("EXISTS", "z2") == int(0))
            #expect(try writer.call("BZPOPMAX", "z2", "0.01") == .nullArray)
        }
    }

    /// Keys that get data by RENAME, MOVE or SWAPDB serve their waiters too; a key that
    /// gets a value of another type than a waiter pops serves no one (it waits on).
    @Test func renameMoveSwapdbServeAndOtherTypesDoNot() async throws {
        try await withKVSServer(blocking: true) { _, port in
            let waiter = try TestClient(port: port)
            let writer = try TestClient(port: port)
            try waiter.send(TestClient.encode(["BLPOP", "dst", "0"]))
            try waitUntilBlocked(writer, count: 1)
            _ = try writer.call("RPUSH", "src", "a")
            _ = try writer.call("RENAME", "src", "dst")
            #expect(try waiter.read().text == "[dst, a]")

            _ = try waiter.call("SELECT", "1")
            try waiter.send(TestClient.encode(["BLPOP", "k", "0"]))
            try waitUntilBlocked(writer, count: 1)
            _ = try writer.call("RPUSH", "k", "moved")
            #expect(try writer.call("MOVE", "k", "1") == int(1))
            #expect(try waiter.read().text == "[k, moved]")

            try waiter.send(TestClient.encode(["BLPOP", "k", "0"]))  // still in database 1
            try waitUntilBlocked(writer, count: 1)
            _ = try writer.call("RPUSH", "k", "swapped")  // database 0
            #expect(try writer.call("SWAPDB", "0", "1") == .simpleString("OK"))
            #expect(try waiter.read().text == "[k, swapped]")

            _ = try waiter.call("SELECT", "0")
            try waiter.send(TestClient.encode(["BZPOPMIN", "z", "0"]))
            try waitUntilBlocked(writer, count: 1)
            _ = try writer.call("LPUSH", "z", "a list")
            #expect(try writer.call("LLEN", "z") == int(1))
            #expect(try blockedClients(writer) == 1)
            _ = try writer.call("DEL", "z")
            _ = try writer.call("ZADD", "z", "1", "m")
            #expect(try waiter.read().text == "[z, m, 1]")
        }
    }

    @Test func commandsPipelinedBehindABlockedOneRunAfterIt() async throws {
        try await withKVSServer(blocking: true) { _, port in
            let waiter = try TestClient(port: port)
            let writer = try TestClient(port: port)
            try waiter.send(TestClient.encode(["BLPOP", "k", "0"]) + TestClient.encode(["LLEN", "k"]))
            try waitUntilBlocked(writer, count: 1)
            _ = try writer.call("RPUSH", "k", "a", "b")
            #expect(try waiter.read().text == "[k, a]")
            #expect(try waiter.read() == int(1))
        }
    }

    @Test func clientUnblockEndsAWaitWithNullOrAnError() async throws {
        try await withKVSServer(blocking: true) { _, port in
            let waiter = try TestClient(port: port)
            let control = try TestClient(port: port)
            let id = try waiter.call("CLIENT", "ID").text
            try waiter.send(TestClient.encode(["BLPOP", "k", "0"]))
            try waitUntilBlocked(control, count: 1)
            #expect(try control.call("CLIENT", "UNBLOCK", id) == int(1))
            #expect(try waiter.read() == .nullArray)
            try waiter.send(TestClient.encode(["BRPOP", "k", "0"]))
            try waitUntilBlocked(control, count: 1)
            #expect(try control.call("CLIENT", "UNBLOCK", id, "ERROR") == int(1))
            #expect(try waiter.read().text == "UNBLOCKED client unblocked via CLIENT UNBLOCK")
            #expect(try control.call("CLIENT", "UNBLOCK", id) == int(0))
            // The connection goes on as before.
            #expect(try waiter.call("PING") == .simpleString("PONG"))
        }
    }

    @Test func aDisconnectedWaiterLeavesNothingBehind() async throws {
        try await withKVSServer(blocking: true) { _, port in
            let control = try TestClient(port: port)
            do {
                let waiter = try TestClient(port: port)
                try waiter.send(TestClient.encode(["BLPOP", "k", "0"]))
                try waitUntilBlocked(control, count: 1)
            }  // closed here
            try waitUntilBlocked(control, count: 0)
            // No one takes the element: it stays.
            #expect(try control.call("RPUSH", "k", "x") == int(1))
            #expect(try control.call("LLEN", "k") == int(1))
        }
    }

    /// Producers push and consumers pop with BLPOP, on several connections spread over the
    /// server's event loops: every element is popped exactly once, and every consumer ends
    /// (a lost wake-up would leave one blocked until the test's read timeout fails it).
    @Test func pushesRacingBlockedPopsLoseNothing() async throws {
        try await withKVSServer(blocking: true) { _, port in
            let producers = 3
            let consumers = 3
            let perProducer = 200
            let total = producers * perProducer
            let popped = Locked<[String]>([])
            DispatchQueue.concurrentPerform(iterations: producers + consumers) { worker in
                do {
                    let c = try TestClient(port: port)
                    if worker < producers {
                        for i in 0..<perProducer {
                            // Two keys, so that a consumer waiting on both is served by either.
                            try c.call("RPUSH", i % 2 == 0 ? "q1" : "q2", "\(worker)-\(i)")
                        }
                    } else {
                        var mine: [String] = []
                        for _ in 0..<(total / consumers) {
                            let reply = try c.call("BLPOP", "q1", "q2", "0")
                            guard case .array(let pair) = reply, pair.count == 2 else {
                                Issue.record("BLPOP answered \(reply.text)")
                                return
                            }
                            mine.append(pair[1].text)
                        }
                        popped.withLock { $0 += mine }
                    }
                } catch {
                    Issue.record("worker \(worker): \(error)")
                }
            }
            let all = popped.withLock { $0 }
            #expect(all.count == total)
            #expect(Set(all).count == total)
            let control = try TestClient(port: port)
            #expect(try control.call("EXISTS", "q1", "q2") == int(0))
            #expect(try blockedClients(control) == 0)
        }
    }
}

/// INFO's `blocked_clients`.
private func blockedClients(_ c: TestClient) throws -> Int {
    let info = try c.call("INFO", "clients").text
    let line = info.split(whereSeparator: \.isNewline).first { $0.hasPrefix("blocked_clients:") }
    return line.flatMap { Int($0.dropFirst("blocked_clients:".count)) } ?? -1
}

/// Polls INFO every 10 ms until `count` clients are blocked. Bounded at 30 s (the clients'
/// read timeout), so a client that never blocks fails the test instead of hanging it.
private func waitUntilBlocked(_ c: TestClient, count: Int) throws {
    let end = ContinuousClock.now + .seconds(30)
    while try blockedClients(c) != count {
        guard ContinuousClock.now < end else {
            Issue.record("\(count) blocked clients never seen")
            return
        }
        usleep(10_000)
    }
}
