import NIOCore
import RESP
import Testing

@testable import KVSServer

/// LCS; the replies are those of redis-server 7.0.15 (the examples of its documentation
/// and the cases checked against it).
@Suite("LCS")
struct LCSCommandTests {
    /// One IDX match: the ranges in the first and second string, and with WITHMATCHLEN
    /// the length.
    static func match(_ a: (Int64, Int64), _ b: (Int64, Int64), length: Int64? = nil) -> RESPValue {
        var parts: [RESPValue] = [.array([int(a.0), int(a.1)]), .array([int(b.0), int(b.1)])]
        if let length { parts.append(int(length)) }
        return .array(parts)
    }

    @Test func stringLengthAndIndexes() async throws {
        try withInProcessServer { server in
            let c = try server.connect()
            try c.call("MSET", "key1", "ohmytext", "key2", "mynewtext")
            #expect(try c.call("LCS", "key1", "key2") == bulk("mytext"))
            #expect(try c.call("LCS", "key1", "key2", "LEN") == int(6))
            #expect(try c.call("LCS", "key1", "key2", "len", "LEN") == int(6))
            #expect(try c.call("LCS", "key1", "key2", "WITHMATCHLEN") == bulk("mytext"))
            #expect(try c.call("LCS", "key1", "key2", "MINMATCHLEN", "4") == bulk("mytext"))
            #expect(
                try c.call("LCS", "key1", "key2", "IDX")
                    == .array([
                        bulk("matches"), .array([Self.match((4, 7), (5, 8)), Self.match((2, 3), (0, 1))]), bulk("len"),
                        int(6),
                    ])
            )
            #expect(
                try c.call("LCS", "key1", "key2", "IDX", "MINMATCHLEN", "4", "WITHMATCHLEN")
                    == .array([bulk("matches"), .array([Self.match((4, 7), (5, 8), length: 4)]), bulk("len"), int(6)])
            )
            #expect(
                try c.call("LCS", "key1", "key2", "IDX", "WITHMATCHLEN")
                    == .array([
                        bulk("matches"),
                        .array([Self.match((4, 7), (5, 8), length: 4), Self.match((2, 3), (0, 1), length: 2)]),
                        bulk("len"), int(6),
                    ])
            )
            // A negative MINMATCHLEN is 0; the last one given counts.
            #expect(
                try c.call("LCS", "key1", "key2", "IDX", "MINMATCHLEN", "-5")
                    == .array([
                        bulk("matches"), .array([Self.match((4, 7), (5, 8)), Self.match((2, 3), (0, 1))]), bulk("len"),
                        int(6),
                    ])
            )
            #expect(
                try c.call("LCS", "key1", "key2", "IDX", "MINMATCHLEN", "9", "MINMATCHLEN", "3")
                    == .array([bulk("matches"), .array([Self.match((4, 7), (5, 8))]), bulk("len"), int(6)])
            )
            #expect(
                try c.call("LCS", "key1", "key2", "IDX", "MINMATCHLEN", "9223372036854775807")
                    == .array([bulk("matches"), .array([]), bulk("len"), int(6)])
            )
        }
    }

    @Test func walkOrderMatchesRedis() async throws {
        try withInProcessServer { server in
            let c = try server.connect()
            try c.call("MSET", "a", "ABCBDAB", "b", "BDCABA")
            #expect(try c.call("LCS", "a", "b") == bulk("BDAB"))
            #expect(
                try c.call("LCS", "a", "b", "IDX", "WITHMATCHLEN")
                    == .array([
                        bulk("matches"),
                        .array([Self.match((5, 6), (3, 4), length: 2), Self.match((3, 4), (0, 1), length: 2)]),
                        bulk("len"), int(4),
                    ])
            )
            try c.call("MSET", "a", "xxabcxxdefxx", "b", "abcdef")
            #expect(
                try c.call("LCS", "a", "b", "IDX", "WITHMATCHLEN", "MINMATCHLEN", "2")
                    == .array([
                        bulk("matches"),
                        .array([Self.match((7, 9), (3, 5), length: 3), Self.match((2, 4), (0, 2), length: 3)]),
                        bulk("len"), int(6),
                    ])
            )
        }
    }

    @Test func missingKeysReadAsEmpty() async throws {
        try withInProcessServer { server in
            let c = try server.connect()
            try c.call("SET", "a", "abc")
            #expect(try c.call("LCS", "no1", "no2") == bulk(""))
            #expect(try c.call("LCS", "no1", "no2", "LEN") == int(0))
            #expect(try c.call("LCS", "a", "no2", "IDX") == .array([bulk("matches"), .array([]), bulk("len"), int(0)]))
            #expect(try c.call("LCS", "a", "a") == bulk("abc"))
        }
    }

    @Test func optionErrors() async throws {
        try withInProcessServer { server in
            let c = try server.connect()
            try c.call("MSET", "a", "abc", "b", "abd")
            #expect(
                try c.call("LCS", "a", "b", "LEN", "IDX")
                    == err("ERR If you want both the length and indexes, please just use IDX.")
            )
            #expect(
                try c.call("LCS", "a", "b", "MINMATCHLEN", "x") == err("ERR value is not an integer or out of range")
            )
            #expect(
                try c.call("LCS", "a", "b", "MINMATCHLEN", "99999999999999999999")
                    == err("ERR value is not an integer or out of range")
            )
            #expect(try c.call("LCS", "a", "b", "MINMATCHLEN") == err("ERR syntax error"))
            #expect(try c.call("LCS", "a", "b", "FOO") == err("ERR syntax error"))
            #expect(try c.call("LCS", "a", "b", "c") == err("ERR syntax error"))
            #expect(try c.call("LCS", "a") == err("ERR wrong number of arguments for 'lcs' command"))
        }
    }

    @Test func idxIsAMapInRESP3() async throws {
        try withInProcessServer { server in
            let c = try server.connect()
            try c.call("HELLO", "3")
            try c.call("MSET", "key1", "ohmytext", "key2", "mynewtext")
            let reply = try c.call("LCS", "key1", "key2", "IDX", "MINMATCHLEN", "4", "WITHMATCHLEN")
            guard let pairs = reply.pairs, pairs.count == 2 else {
                Issue.record("LCS IDX in RESP3 should answer a map of two, got \(reply)")
                return
            }
            #expect(pairs[0].key == bulk("matches"))
            #expect(pairs[0].value == .array([Self.match((4, 7), (5, 8), length: 4)]))
            #expect(pairs[1].key == bulk("len"))
            #expect(pairs[1].value == int(6))
        }
    }

    /// Redis refuses a pair whose (n+1)·(m+1) 32-bit table would exceed
    /// proto-max-bulk-len (512 MiB), whatever the option, before allocating it.
    @Test func hugeTablesAreRefusedAsRedisRefusesThem() async throws {
        try withInProcessServer { server in
            let c = try server.connect()
            let tooLarge = err("ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len")
            let big = [UInt8](repeating: UInt8(ascii: "a"), count: 100_000)
            try c.callBytes([Array("SET".utf8), Array("x".utf8), big])
            try c.callBytes([Array("SET".utf8), Array("y".utf8), big])
            #expect(try c.call("LCS", "x", "y") == tooLarge)
            #expect(try c.call("LCS", "x", "y", "LEN") == tooLarge)
            #expect(try c.call("LCS", "x", "y", "IDX") == tooLarge)
            #expect(try c.call("LCS", "x", "y", "FOO") == err("ERR syntax error"))  // options first
            // The boundary: 11,585² cells of 4 bytes fit in 512 MiB, 11,586² do not.
            let side = [UInt8](repeating: UInt8(ascii: "b"), count: 11_585)
            try c.callBytes([Array("SET".utf8), Array("y".utf8), side])
            try c.callBytes([Array("SET".utf8), Array("x".utf8), Array(side.dropLast())])
            #expect(try c.call("LCS", "x", "y", "LEN") == tooLarge)
            // An empty string against a long one needs only m+1 cells.
            try c.call("SET", "x", "")
            #expect(try c.call("LCS", "x", "y", "LEN") == int(0))
        }
    }

    /// The boundary of ``LCSCommand``'s limit, against a small proto-max-bulk-len so the
    /// accepted side stays cheap: 4·(n+1)·(m+1) bytes must fit.
    @Test func limitFollowsProtoMaxBulkLen() async throws {
        try withInProcessServer({ $0.maxBulkLength = 4 * 11 * 11 }) { server in
            let c = try server.connect()
            try c.call("MSET", "x", "aaaaaaaaaa", "y", "aaaaaaaaaa", "z", "aaaaaaaaaaa")
            #expect(try c.call("LCS", "x", "y", "LEN") == int(10))
            #expect(
                try c.call("LCS", "x", "z", "LEN")
                    == err("ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len")
            )
        }
    }
}
