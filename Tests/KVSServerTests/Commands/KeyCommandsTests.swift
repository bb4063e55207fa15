import Foundation
import KVSNetworkTestSupport
import NIOCore
import RESP
import Testing

@testable import KVSServer

@Suite("Key commands")
struct KeyCommandsTests {
    @Test func delExistsTouchType() async throws {
        try withInProcessServer { server in
            let c = try server.connect()
            try c.call("MSET", "a", "1", "b", "2")
            #expect(try c.call("EXISTS", "a", "a", "b", "nope") == int(3))
            #expect(try c.call("TOUCH", "a", "nope") == int(1))
            // Each argument counts, repeated or not, as in Redis.
            #expect(try c.call("TOUCH", "a", "a", "b") == int(3))
            #expect(try c.call("TOUCH", "a", "a", "nope") == int(2))
            #expect(try c.call("TYPE", "a") == .simpleString("string"))
            #expect(try c.call("TYPE", "nope") == .simpleString("none"))
            #expect(try c.call("DEL", "a", "b", "c", "a") == int(2))
            #expect(try c.call("EXISTS", "a", "b") == int(0))
            try c.call("SET", "u", "1")
            #expect(try c.call("UNLINK", "u", "nope") == int(1))
            #expect(try c.call("DEL") == err("ERR wrong number of arguments for 'del' command"))
        }
    }

    /// UNLINK frees a value of more than 64 allocations on the background queue (INFO counts
    /// it there) and a small one at once; either way the keys are gone when it answers.
    @Test func unlinkFreesLargeValuesInTheBackground() async throws {
        try withInProcessServer { server in
            let c = try server.connect()
            // Past hash-max-listpack-entries (512): a table of 600 fields, 600 allocations.
            let fields = ["HSET", "big"] + (0..<600).flatMap { ["f\($0)", "v"] }
            try c.call(fields)
            try c.call("HSET", "small", "f", "v")
            try c.call("SET", "s", "v")
            #expect(try c.call("UNLINK", "big", "small", "s", "nope") == int(3))
            #expect(try c.call("EXISTS", "big", "small", "s") == int(0))
            // Bounded by the 30-second limit below, not timed: the queue runs when it runs.
            let end = ContinuousClock.now + .seconds(30)
            while try memoryField(c, "lazyfreed_objects") != 1, ContinuousClock.now < end {
                usleep(1000)
            }
            #expect(try memoryField(c, "lazyfreed_objects") == 1)
            #expect(try memoryField(c, "lazyfree_pending_objects") == 0)
            // Inside MULTI the same.
            try c.call(fields)
            try c.call("MULTI")
            try c.call("UNLINK", "big")
            #expect(try c.call("EXEC") == .array([int(1)]))
        }
    }

    /// A numeric field of INFO memory.
    private func memoryField(_ c: some RESPTestClient, _ name: String) throws -> Int? {
        let info = try c.call("INFO", "memory").text
        let line = info.split(whereSeparator: \.isNewline).first { $0.hasPrefix(name + ":") }
        return line.flatMap { Int($0.dropFirst(name.count + 1)) }
    }

    @Test func keysGlobPatterns() async throws {
        try withInProcessServer { server in
            let c = try server.connect()
            try c.call("MSET", "hello", "1", "hallo", "1", "hxllo", "1", "hllo", "1", "heeeello", "1", "h[a]llo", "1")
            func keys(_ p: String) throws -> Set<String> {
                guard case .array(let items) = try c.call("KEYS", p) else { return [] }
                return Set(items.map(\.text))
            }
            #expect(try keys("h?llo") == ["hello", "hallo", "hxllo"])
            #expect(try keys("h*llo") == ["hello", "hallo", "hxllo", "hllo", "heeeello", "h[a]llo"])
            #expect(try keys("h[ae]llo") == ["hello", "hallo"])
            #expect(try keys("h[^e]llo") == ["hallo", "hxllo"])
            #expect(try keys("h[a-b]llo") == ["hallo"])
            #expect(try keys("h\\[a\\]llo") == ["h[a]llo"])
            #expect(try keys("*").count == 6)
            #expect(try keys("nomatch*").isEmpty)
            #expect(Glob.matches(Array("a*b*c".utf8), Array("aXbYc".utf8)))
            #expect(!Glob.matches(Array("a*b*c".utf8), Array("aXbY".utf8)))
            #expect(Glob.matches(Array("[abc".utf8), Array("c".utf8)))
        }
    }

    /// The pattern that backtracked exponentially before matching followed Redis's
    /// `skipLongerMatches`: KEYS and SCAN MATCH answer at once, and the server stays responsive.
    @Test(.timeLimit(.minutes(1))) func pathologicalPatternAnswers() async throws {
        try withInProcessServer { server in
            let c = try server.connect()
            try c.call("SET", String(repeating: "a", count: 40), "1")
            let pattern = String(repeating: "a*", count: 16) + "b"
            #expect(try c.call("KEYS", pattern) == .array([]))
            #expect(try c.call("SCAN", "0", "MATCH", pattern, "COUNT", "1000") == .array([bulk("0"), .array([])]))
            #expect(try c.call("PING") == .simpleString("PONG"))
        }
    }

    /// Options come before the number, as Redis reads them; option text stops at a NUL byte.
    @Test func expireOptionOrder() async throws {
        try withInProcessServer { server in
            let c = try server.connect()
            try c.call("SET", "k", "v")
            #expect(try c.call("EXPIRE", "k", "abc", "BOGUS") == err("ERR Unsupported option BOGUS"))
            #expect(try c.call("EXPIRE", "k", "abc", "NX") == err("ERR value is not an integer or out of range"))
            let nxThenJunk = Array("NX".utf8) + [0] + Array("junk".utf8)
            #expect(try c.callBytes([Array("EXPIRE".utf8), Array("k".utf8), Array("100".utf8), nxThenJunk]) == int(1))
            #expect(try c.callBytes([Array("EXPIRE".utf8), Array("k".utf8), Array("200".utf8), nxThenJunk]) == int(0))
        }
    }

    /// The pattern `*` is no pattern: the empty key, which the matcher itself never
    /// matches, is still returned, as Redis returns it.
    @Test func starMatchesTheEmptyKey() async throws {
        try withInProcessServer { server in
            let c = try server.connect()
            try c.call("SET", "", "1")
            try c.call("SET", "a", "2")
            func names(_ reply: RESPValue) -> Set<String> {
                guard case .array(let items) = reply else { return [] }
                return Set(items.map(\.text))
            }
            #expect(names(try c.call("KEYS", "*")) == ["", "a"])
            #expect(names(try c.call("KEYS", "**")) == ["a"])
            guard case .array(let scan) = try c.call("SCAN", "0", "MATCH", "*", "COUNT", "1000"), scan.count == 2 else {
                Issue.record("SCAN did not answer a cursor and a page")
                return
            }
            #expect(names(scan[1]) == ["", "a"])
        }
    }

    @Test func scanCursorsAsStrtoul() {
        #expect(KeyCommands.parseCursor(Array("".utf8)) == 0)
        #expect(KeyCommands.parseCursor(Array("+0".utf8)) == 0)
        #expect(KeyCommands.parseCursor(Array("00".utf8)) == 0)
        #expect(KeyCommands.parseCursor(Array("-1".utf8)) == UInt64.max)
        #expect(KeyCommands.parseCursor(Array("18446744073709551615".utf8)) == UInt64.max)
        #expect(KeyCommands.parseCursor(Array("18446744073709551616".utf8)) == nil)
        #expect(KeyCommands.parseCursor(Array(" 1".utf8)) == nil)
        #expect(KeyCommands.parseCursor(Array("1 ".utf8)) == nil)
        #expect(KeyCommands.parseCursor(Array("0x1".utf8)) == nil)
        #expect(KeyCommands.parseCursor(Array("+".utf8)) == nil)
    }

    @Test func scanReturnsEveryKeyOnce() async throws {
        try withInProcessServer { server in
            let c = try server.connect()
            var expected = Set<String>()
            for i in 0..<500 {
                try c.call("SET", "key:\(i)", "v")
                expected.insert("key:\(i)")
            }
            try c.call("SET", "other", "v")
            var cursor = "0"
            var seen: [String] = []
            var calls = 0
            repeat {
                let reply = try c.call("SCAN", cursor, "MATCH", "key:*", "COUNT", "50")
                guard case .array(let parts) = reply, parts.count == 2, case .array(let keys) = parts[1] else {
                    Issue.record("bad SCAN reply \(reply)")
                    return
                }
                cursor = parts[0].text
                seen += keys.map(\.text)
                calls += 1
            } while cursor != "0" && calls < 1000
            #expect(seen.count == expected.count)
            #expect(Set(seen) == expected)
            #expect(try c.call("SCAN", "0", "TYPE", "hash").text.hasSuffix("[]]"))
            #expect(try c.call("SCAN", "x") == err("ERR invalid cursor"))
            #expect(try c.call("SCAN", "0", "COUNT", "0") == err("ERR syntax error"))
            #expect(try c.call("SCAN", "0", "BOGUS", "1") == err("ERR syntax error"))
        }
    }

    @Test func randomKey() async throws {
        try withInProcessServer { server in
            let c = try server.connect()
            #expect(try c.call("RANDOMKEY") == NIL)
            try c.call("SET", "only", "v")
            #expect(try c.call("RANDOMKEY") == bulk("only"))
        }
    }

    @Test func renameAndRenamenx() async throws {
        try withInProcessServer { server in
            let c = try server.connect()
            #expect(try c.call("RENAME", "nope", "x") == err("ERR no such key"))
            #expect(try c.call("RENAMENX", "nope", "x") == err("ERR no such key"))
            try c.call("SET", "a", "1", "EX", "100")
            #expect(try c.call("RENAME", "a", "a") == OK)
            #expect(try c.call("RENAME", "a", "b") == OK)
            #expect(try c.call("GET", "a") == NIL)
            #expect(try c.call("GET", "b") == bulk("1"))
            #expect(try ttlNear(c, "b", 100))
            try c.call("SET", "c", "3")
            #expect(try c.call("RENAMENX", "b", "c") == int(0))
            #expect(try c.call("RENAMENX", "b", "b") == int(0))
            #expect(try c.call("RENAMENX", "b", "d") == int(1))
            #expect(try c.call("GET", "d") == bulk("1"))
        }
    }

    @Test func expireFamily() async throws {
        try withInProcessServer { server in
            let c = try server.connect()
            #expect(try c.call("EXPIRE", "nope", "10") == int(0))
            try c.call("SET", "k", "v")
            #expect(try c.call("TTL", "k") == int(-1))
            #expect(try c.call("TTL", "nope") == int(-2))
            #expect(try c.call("PTTL", "nope") == int(-2))
            #expect(try c.call("EXPIRETIME", "k") == int(-1))
            #expect(try c.call("EXPIRE", "k", "100", "XX") == int(0))
            #expect(try c.call("EXPIRE", "k", "100", "GT") == int(0))
            #expect(try c.call("EXPIRE", "k", "100", "LT") == int(1))
            #expect(try c.call("EXPIRE", "k", "200", "NX") == int(0))
            #expect(try c.call("EXPIRE", "k", "50", "GT") == int(0))
            #expect(try c.call("EXPIRE", "k", "200", "GT") == int(1))
            #expect(try ttlNear(c, "k", 200))
            #expect(try c.call("PEXPIRE", "k", "50000") == int(1))
            let pttl = try c.call("PTTL", "k")
            if case .integer(let n) = pttl { #expect(n > 49000 && n <= 50000) } else { Issue.record("PTTL \(pttl)") }
            #expect(try c.call("EXPIREAT", "k", "4102444800") == int(1))
            #expect(try c.call("EXPIRETIME", "k") == int(4_102_444_800))
            #expect(try c.call("PEXPIREAT", "k", "4102444800999") == int(1))
            #expect(try c.call("PEXPIRETIME", "k") == int(4_102_444_800_999))
            #expect(try c.call("EXPIRETIME", "k") == int(4_102_444_800))
            #expect(try c.call("PERSIST", "k") == int(1))
            #expect(try c.call("PERSIST", "k") == int(0))
            #expect(try c.call("PERSIST", "nope") == int(0))
            #expect(
                try c.call("EXPIRE", "k", "10", "NX", "XX")
                    == err("ERR NX and XX, GT or LT options at the same time are not compatible")
            )
            #expect(
                try c.call("EXPIRE", "k", "10", "GT", "LT")
                    == err("ERR GT and LT options at the same time are not compatible")
            )
            #expect(try c.call("EXPIRE", "k", "10", "FOO") == err("ERR Unsupported option FOO"))
            #expect(try c.call("EXPIRE", "k", "x") == err("ERR value is not an integer or out of range"))
            #expect(
                try c.call("EXPIRE", "k", "9223372036854775807") == err("ERR invalid expire time in 'expire' command")
            )
            // A deadline in the past deletes the key.
            #expect(try c.call("EXPIRE", "k", "-1") == int(1))
            #expect(try c.call("EXISTS", "k") == int(0))
            try c.call("SET", "k", "v")
            #expect(try c.call("PEXPIREAT", "k", "1") == int(1))
            #expect(try c.call("GET", "k") == NIL)
        }
    }

    @Test func expiredKeysDisappear() async throws {
        try await withKVSServer(blocking: true) { _, port in
            let c = try TestClient(port: port)
            try c.call("SET", "k", "v", "PX", "20")
            // Poll (bounded) until the deadline has passed; the key must then be gone.
            let deadline = ContinuousClock.now + .seconds(60)
            while try c.call("EXISTS", "k") == int(1), ContinuousClock.now < deadline {
                try await Task.sleep(for: .milliseconds(10))
            }
            #expect(try c.call("GET", "k") == NIL)
            #expect(try c.call("TTL", "k") == int(-2))
        }
    }
}
