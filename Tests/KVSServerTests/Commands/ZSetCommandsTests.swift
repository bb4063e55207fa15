import KVS
import NIOCore
import RESP
import Testing

@testable import KVSServer

/// `texts` as an array of bulk strings.
func bulks(_ texts: String...) -> RESPValue { .array(texts.map(bulk)) }

/// The replies here are Redis 7.0.15's, asked of a real server (ZRANK WITHSCORE: 7.2's).
@Suite("Sorted-set commands")
struct ZSetCommandsTests {
    @Test func storedValueStaysTwoWords() {
        #expect(MemoryLayout<StoredValue>.size == 16)
    }

    @Test func addScoreRankAndRange() throws {
        try withInProcessServer { server in
            let c = try server.connect()
            #expect(try c.call("ZADD", "z", "1", "a", "2", "b", "3", "c") == int(3))
            #expect(try c.call("ZADD", "z", "1", "a", "5", "b") == int(0))
            #expect(try c.call("TYPE", "z") == .simpleString("zset"))
            #expect(try c.call("ZCARD", "z") == int(3))
            #expect(try c.call("ZCARD", "nokey") == int(0))
            #expect(try c.call("ZSCORE", "z", "b") == bulk("5"))
            #expect(try c.call("ZSCORE", "z", "x") == NIL)
            #expect(try c.call("ZMSCORE", "z", "a", "x") == .array([bulk("1"), NIL]))
            #expect(try c.call("ZMSCORE", "nokey", "a") == .array([NIL]))
            #expect(try c.call("ZRANGE", "z", "0", "-1") == bulks("a", "c", "b"))
            #expect(try c.call("ZRANGE", "z", "0", "-1", "WITHSCORES") == bulks("a", "1", "c", "3", "b", "5"))
            #expect(try c.call("ZREVRANGE", "z", "0", "0", "WITHSCORES") == bulks("b", "5"))
            #expect(try c.call("ZRANK", "z", "c") == int(1))
            #expect(try c.call("ZREVRANK", "z", "c") == int(1))
            #expect(try c.call("ZREVRANK", "z", "a") == int(2))
            #expect(try c.call("ZRANK", "z", "x") == NIL)
            #expect(try c.call("ZRANK", "z", "b", "WITHSCORE") == .array([int(2), bulk("5")]))
            #expect(try c.call("ZRANK", "z", "x", "WITHSCORE") == .nullArray)
            #expect(try c.call("ZRANK", "z", "b", "WITHSCORES") == err("ERR syntax error"))
            #expect(
                try c.call("ZRANK", "z", "b", "WITHSCORE", "x")
                    == err("ERR wrong number of arguments for 'zrank' command")
            )
            #expect(try c.call("ZCOUNT", "z", "(1", "5") == int(2))
            #expect(try c.call("ZCOUNT", "z", "-inf", "+inf") == int(3))
            #expect(try c.call("ZCOUNT", "z", "5", "1") == int(0))
            #expect(try c.call("ZREM", "z", "a", "x") == int(1))
            #expect(try c.call("ZREM", "z", "b", "c") == int(2))
            #expect(try c.call("EXISTS", "z") == int(0))  // the last member takes the key
        }
    }

    @Test func zaddOptionsAndTheirConflicts() throws {
        try withInProcessServer { server in
            let c = try server.connect()
            #expect(try c.call("ZADD", "z", "1", "a", "2", "b") == int(2))
            #expect(try c.call("ZADD", "z", "NX", "9", "a", "3", "c") == int(1))
            #expect(try c.call("ZSCORE", "z", "a") == bulk("1"))
            #expect(try c.call("ZADD", "z", "XX", "CH", "9", "a", "4", "d") == int(1))
            #expect(try c.call("EXISTS", "z") == int(1))
            #expect(try c.call("ZSCORE", "z", "d") == NIL)
            #expect(try c.call("ZADD", "z", "GT", "CH", "1", "a", "10", "b") == int(1))
            #expect(try c.call("ZADD", "z", "LT", "CH", "20", "b", "0", "c") == int(1))
            #expect(try c.call("ZADD", "z", "CH", "0", "c", "5", "e") == int(1))
            #expect(try c.call("ZADD", "z", "INCR", "1.5", "a") == bulk("10.5"))
            #expect(try c.call("ZADD", "z", "NX", "INCR", "1", "a") == NIL)
            #expect(try c.call("ZADD", "z", "XX", "INCR", "1", "nope") == NIL)
            #expect(try c.call("ZADD", "nokey", "XX", "1", "a") == int(0))
            #expect(try c.call("EXISTS", "nokey") == int(0))
            #expect(try c.call("ZINCRBY", "z", "-1", "new") == bulk("-1"))
            #expect(try c.call("ZINCRBY", "z", "inf", "new") == bulk("inf"))
            #expect(try c.call("ZINCRBY", "z", "-inf", "new") == err("ERR resulting score is not a number (NaN)"))
            #expect(try c.call("ZSCORE", "z", "new") == bulk("inf"))
            #expect(try c.call("ZINCRBY", "z", "nx", "a") == err("ERR syntax error"))
            let conflicts: [([String], String)] = [
                (["NX", "XX"], "ERR XX and NX options at the same time are not compatible"),
                (["GT", "LT"], "ERR GT, LT, and/or NX options at the same time are not compatible"),
                (["NX", "GT"], "ERR GT, LT, and/or NX options at the same time are not compatible"),
                (["NX", "LT"], "ERR GT, LT, and/or NX options at the same time are not compatible"),
            ]
            for (options, error) in conflicts {
                #expect(try c.call(["ZADD", "z"] + options + ["1", "a"]) == err(error))
            }
            #expect(
                try c.call("ZADD", "z", "INCR", "1", "a", "2", "b")
                    == err("ERR INCR option supports a single increment-element pair")
            )
            #expect(try c.call("ZADD", "z", "1", "a", "2") == err("ERR syntax error"))
            #expect(try c.call("ZADD", "z", "XX", "CH") == err("ERR syntax error"))
            #expect(try c.call("ZADD", "z") == err("ERR wrong number of arguments for 'zadd' command"))
        }
    }

    @Test func badScoresAreRefused() throws {
        try withInProcessServer { server in
            let c = try server.connect()
            for bad in ["nan", "abc", " 1", "1 ", "", "1e400", "-1e400", "1e-400", "1\u{0}"] {
                #expect(try c.call("ZADD", "z", bad, "a") == err("ERR value is not a valid float"), "\(bad)")
            }
            #expect(try c.call("EXISTS", "z") == int(0))
            for (good, reply) in [("0x10", "16"), ("infinity", "inf"), ("+inf", "inf"), ("-inf", "-inf")] {
                _ = try c.call("ZADD", "z", good, "a")
                #expect(try c.call("ZSCORE", "z", "a") == bulk(reply), "\(good)")
            }
            // Range ends are read more loosely, as Redis's zslParseRange reads them.
            #expect(try c.call("ZADD", "r", "0", "zero", "1", "one") == int(2))
            #expect(try c.call("ZRANGEBYSCORE", "r", "", "") == bulks("zero"))
            #expect(try c.call("ZRANGEBYSCORE", "r", " 1", "1e400") == bulks("one"))
            #expect(try c.call("ZRANGEBYSCORE", "r", "(", "(") == bulks())
            for bad in ["abc", "nan", "(nan", "1 "] {
                #expect(try c.call("ZCOUNT", "r", bad, "1") == err("ERR min or max is not a float"), "\(bad)")
            }
            #expect(try c.call("ZCOUNT", "str", "x", "1") == err("ERR min or max is not a float"))
            for bad in ["a", "", "+x", "-x"] {
                #expect(
                    try c.call("ZLEXCOUNT", "r", bad, "+") == err("ERR min or max not valid string range item"),
                    "\(bad)"
                )
            }
        }
    }

    /// Scores are written as Redis 7.0 writes them (`%.17g`), and in RESP3 as doubles.
    @Test func scoresAreFormattedAsRedisDoes() throws {
        try withInProcessServer { server in
            let c = try server.connect()
            let cases: [(String, String)] = [
                ("0.1", "0.10000000000000001"), ("1e20", "1e+20"), ("1.5e-7", "1.4999999999999999e-07"),
                ("inf", "inf"), ("-inf", "-inf"), ("3.0", "3"), ("1e16", "10000000000000000"),
                ("123456789012345678", "1.2345678901234568e+17"), ("-0.0", "0"),
                ("2.5e-310", "2.5000000000000171e-310"),
                ("-12.5", "-12.5"), ("1e17", "1e+17"),
            ]
            for (given, reply) in cases {
                _ = try c.call("ZADD", "z", given, "m")
                #expect(try c.call("ZSCORE", "z", "m") == bulk(reply), "\(given)")
            }
            // -0.0 keeps its sign in a skip list, not in a listpack (stored as integer 0).
            #expect(try c.call("CONFIG", "SET", "zset-max-listpack-entries", "0") == OK)
            #expect(try c.call("ZADD", "s", "-0.0", "m") == int(1))
            #expect(try c.call("OBJECT", "ENCODING", "s") == bulk("skiplist"))
            #expect(try c.call("ZSCORE", "s", "m") == bulk("-0"))
            #expect(try c.call("ZADD", "big", "123456789012345678", "m") == int(1))
            // ZSCAN answers the score as the encoding holds it.
            #expect(try c.call("ZSCAN", "big", "0") == .array([bulk("0"), bulks("m", "1.2345678901234568e+17")]))
            #expect(try c.call("ZADD", "z", "123456789012345678", "m") == int(0))
            #expect(try c.call("ZSCAN", "z", "0") == .array([bulk("0"), bulks("m", "123456789012345680")]))
            _ = try c.call("HELLO", "3")
            #expect(try c.call("ZSCORE", "z", "m") == .double(123_456_789_012_345_680))
            #expect(try c.call("ZSCORE", "z", "nope") == .null)
            #expect(try c.call("ZINCRBY", "z", "1", "m") == .double(123_456_789_012_345_680))
        }
    }

    @Test func resp3PairsAndDoubles() throws {
        try withInProcessServer { server in
            let c = try server.connect()
            _ = try c.call("HELLO", "3")
            #expect(try c.call("ZADD", "z", "1", "a", "2.5", "b") == int(2))
            let pairs = RESPValue.array([.array([bulk("a"), .double(1)]), .array([bulk("b"), .double(2.5)])])
            #expect(try c.call("ZRANGE", "z", "0", "-1", "WITHSCORES") == pairs)
            #expect(try c.call("ZRANGEBYSCORE", "z", "-inf", "+inf", "WITHSCORES") == pairs)
            #expect(try c.call("ZUNION", "1", "z", "WITHSCORES") == pairs)
            #expect(try c.call("ZRANDMEMBER", "z", "5", "WITHSCORES") == .array(pairs.arrayItems.reversed()))
            #expect(try c.call("ZMSCORE", "z", "a", "x") == .array([.double(1), .null]))
            #expect(try c.call("ZRANK", "z", "b", "WITHSCORE") == .array([int(1), .double(2.5)]))
            // A plain pop is flat; with a count, pairs.
            #expect(try c.call("ZPOPMIN", "z") == .array([bulk("a"), .double(1)]))
            #expect(try c.call("ZPOPMAX", "z", "1") == .array([.array([bulk("b"), .double(2.5)])]))
            #expect(try c.call("ZPOPMIN", "z") == .array([]))
            #expect(try c.call("ZMPOP", "1", "z", "MIN") == .null)
            // ZSCAN answers scores as strings, in RESP3 too.
            #expect(try c.call("ZADD", "z", "1.5", "a") == int(1))
            #expect(try c.call("ZSCAN", "z", "0") == .array([bulk("0"), bulks("a", "1.5")]))
        }
    }

    @Test func rangesByScoreLexAndLimit() throws {
        try withInProcessServer { server in
            let c = try server.connect()
            #expect(try c.call("ZADD", "z", "1", "a", "2", "b", "3", "c", "4", "d", "5", "e") == int(5))
            #expect(try c.call("ZRANGE", "z", "(1", "+inf", "BYSCORE", "LIMIT", "1", "2") == bulks("c", "d"))
            #expect(try c.call("ZRANGE", "z", "+inf", "(1", "BYSCORE", "REV", "LIMIT", "1", "2") == bulks("d", "c"))
            #expect(try c.call("ZRANGE", "z", "-inf", "+inf", "BYSCORE", "LIMIT", "-1", "2") == bulks())
            #expect(try c.call("ZRANGE", "z", "-inf", "+inf", "BYSCORE", "LIMIT", "3", "-1") == bulks("d", "e"))
            #expect(
                try c.call("ZRANGE", "z", "-inf", "+inf", "BYSCORE", "LIMIT", "9223372036854775807", "1") == bulks()
            )
            #expect(try c.call("ZRANGEBYSCORE", "z", "2", "(4", "WITHSCORES") == bulks("b", "2", "c", "3"))
            #expect(try c.call("ZREVRANGEBYSCORE", "z", "4", "2", "LIMIT", "0", "1") == bulks("d"))
            #expect(try c.call("ZRANGEBYSCORE", "z", "-inf", "+inf", "REV") == err("ERR syntax error"))
            #expect(try c.call("ZRANGEBYSCORE", "z", "-inf", "+inf", "LIMIT", "1") == err("ERR syntax error"))
            #expect(
                try c.call("ZRANGE", "z", "0", "-1", "LIMIT", "0", "1")
                    == err("ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX")
            )
            #expect(try c.call("ZRANGE", "z", "0", "-1", "BYSCORE", "BYLEX") == err("ERR syntax error"))
            #expect(
                try c.call("ZRANGE", "z", "-", "+", "BYLEX", "WITHSCORES")
                    == err("ERR syntax error, WITHSCORES not supported in combination with BYLEX")
            )
            #expect(try c.call("ZRANGE", "z", "0", "x") == err("ERR value is not an integer or out of range"))
            // Ranks near the ends of Int64.
            #expect(
                try c.call("ZRANGE", "z", "-9223372036854775808", "9223372036854775807")
                    == bulks("a", "b", "c", "d", "e")
            )
            #expect(try c.call("ZRANGE", "z", "-9223372036854775808", "-9223372036854775808") == bulks())
            #expect(try c.call("ZRANGE", "z", "9223372036854775807", "-1") == bulks())
            #expect(try c.call("ZRANGE", "z", "-2", "-1", "REV") == bulks("b", "a"))
            #expect(try c.call("ZREMRANGEBYRANK", "z", "-9223372036854775808", "9223372036854775807") == int(5))
            #expect(try c.call("ZADD", "l", "0", "a", "0", "b", "0", "c", "0", "d") == int(4))
            #expect(try c.call("ZRANGEBYLEX", "l", "[b", "(d") == bulks("b", "c"))
            #expect(try c.call("ZRANGEBYLEX", "l", "-", "+", "LIMIT", "1", "2") == bulks("b", "c"))
            #expect(try c.call("ZREVRANGEBYLEX", "l", "+", "(b") == bulks("d", "c"))
            #expect(try c.call("ZRANGE", "l", "[d", "[b", "BYLEX", "REV") == bulks("d", "c", "b"))
            #expect(try c.call("ZRANGEBYLEX", "l", "+", "-") == bulks())
            #expect(try c.call("ZLEXCOUNT", "l", "(a", "[c") == int(2))
            #expect(try c.call("ZREMRANGEBYLEX", "l", "[b", "[c") == int(2))
            #expect(try c.call("ZRANGE", "l", "0", "-1") == bulks("a", "d"))
            #expect(try c.call("ZRANGEBYLEX", "l", "a", "b") == err("ERR min or max not valid string range item"))
        }
    }

    @Test func removalsAndPops() throws {
        try withInProcessServer { server in
            let c = try server.connect()
            #expect(try c.call("ZADD", "z", "1", "a", "2", "b", "3", "c", "4", "d", "5", "e", "6", "f") == int(6))
            #expect(try c.call("ZREMRANGEBYSCORE", "z", "(5", "+inf") == int(1))
            #expect(try c.call("ZREMRANGEBYRANK", "z", "-1", "-1") == int(1))
            #expect(try c.call("ZREMRANGEBYRANK", "z", "3", "1") == int(0))
            #expect(try c.call("ZREMRANGEBYRANK", "nokey", "0", "-1") == int(0))
            #expect(try c.call("ZPOPMIN", "z") == bulks("a", "1"))
            #expect(try c.call("ZPOPMAX", "z", "2") == bulks("d", "4", "c", "3"))
            #expect(try c.call("ZPOPMIN", "z", "0") == bulks())
            #expect(try c.call("ZPOPMIN", "z", "-1") == err("ERR value is out of range, must be positive"))
            #expect(try c.call("ZPOPMIN", "z", "abc") == err("ERR value is out of range, must be positive"))
            #expect(try c.call("ZPOPMIN", "z", "1", "2") == err("ERR syntax error"))
            #expect(try c.call("ZPOPMIN", "z", "9223372036854775807") == bulks("b", "2"))
            #expect(try c.call("EXISTS", "z") == int(0))
            #expect(try c.call("ZPOPMIN", "z") == bulks())
            #expect(try c.call("ZADD", "a", "1", "x", "2", "y") == int(2))
            #expect(try c.call("ZADD", "b", "3", "z") == int(1))
            #expect(
                try c.call("ZMPOP", "3", "nokey", "a", "b", "MAX", "COUNT", "5")
                    == .array([bulk("a"), .array([bulks("y", "2"), bulks("x", "1")])])
            )
            #expect(try c.call("ZMPOP", "2", "a", "b", "MIN") == .array([bulk("b"), .array([bulks("z", "3")])]))
            #expect(try c.call("ZMPOP", "1", "b", "MIN") == .nullArray)
            #expect(try c.call("ZMPOP", "0", "b", "MIN") == err("ERR numkeys should be greater than 0"))
            #expect(try c.call("ZMPOP", "x", "b", "MIN") == err("ERR numkeys should be greater than 0"))
            #expect(try c.call("ZMPOP", "1", "b", "MIN", "COUNT", "x") == err("ERR count should be greater than 0"))
            #expect(try c.call("ZMPOP", "9223372036854775807", "b", "MIN") == err("ERR syntax error"))
            #expect(try c.call("ZMPOP", "1", "b", "MIN", "COUNT", "0") == err("ERR count should be greater than 0"))
            #expect(try c.call("ZMPOP", "1", "b", "MIN", "COUNT", "1", "COUNT", "1") == err("ERR syntax error"))
            #expect(try c.call("ZMPOP", "1", "b", "FOO") == err("ERR syntax error"))
        }
    }

    @Test func randomMembersAndScan() throws {
        try withInProcessServer { server in
            let c = try server.connect()
            #expect(try c.call("ZADD", "z", "1", "a", "2", "b", "3", "c") == int(3))
            #expect(["a", "b", "c"].contains(try c.call("ZRANDMEMBER", "z").text))
            #expect(try c.call("ZRANDMEMBER", "nokey") == NIL)
            #expect(try c.call("ZRANDMEMBER", "nokey", "3") == bulks())
            #expect(try c.call("ZRANDMEMBER", "z", "0") == bulks())
            #expect(try c.call("ZRANDMEMBER", "z", "10", "WITHSCORES") == bulks("c", "3", "b", "2", "a", "1"))
            #expect(Set(try c.call("ZRANDMEMBER", "z", "2").arrayItems.map(\.text)).count == 2)
            #expect(try c.call("ZRANDMEMBER", "z", "-5").arrayItems.count == 5)
            #expect(try c.call("ZRANDMEMBER", "z", "1", "x") == err("ERR syntax error"))
            #expect(
                try c.call("ZRANDMEMBER", "z", "-9223372036854775808")
                    == err("ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807")
            )
            #expect(try c.call("ZRANDMEMBER", "z", "-9223372036854775807") == err("ERR value is out of range"))
            #expect(
                try c.call("ZRANDMEMBER", "z", "-4611686018427387904", "WITHSCORES") == err("ERR value is out of range")
            )
            #expect(try c.call("ZSCAN", "z", "0", "MATCH", "[ab]") == .array([bulk("0"), bulks("a", "1", "b", "2")]))
            #expect(try c.call("ZSCAN", "z", "0", "COUNT", "0") == err("ERR syntax error"))
            #expect(try c.call("ZSCAN", "z", "x") == err("ERR invalid cursor"))
            #expect(try c.call("ZSCAN", "nokey", "0") == .array([bulk("0"), bulks()]))
        }
    }

    /// A skip list is scanned with a real cursor, as SSCAN scans a set's table; a listpack
    /// is answered whole with cursor 0.
    @Test func scanWithACursor() throws {
        try withInProcessServer { server in
            let c = try server.connect()
            var args = ["ZADD", "big"]
            for i in 0..<1000 { args += ["\(i).5", "m\(i)"] }
            #expect(try c.call(args) == int(1000))
            #expect(try c.call("OBJECT", "ENCODING", "big") == bulk("skiplist"))
            let first = try c.call("ZSCAN", "big", "0", "COUNT", "1").arrayItems
            #expect(first[0] != bulk("0"))
            #expect(first[1].arrayItems.count < 20)
            var seen: [String: String] = [:]
            var cursor = "0"
            var steps = 0
            repeat {
                let reply = try c.call("ZSCAN", "big", cursor, "COUNT", "20").arrayItems
                cursor = reply[0].text
                let flat = reply[1].arrayItems.map(\.text)
                for i in stride(from: 0, to: flat.count, by: 2) {
                    #expect(seen.updateValue(flat[i + 1], forKey: flat[i]) == nil, "\(flat[i]) twice")
                }
                steps += 1
            } while cursor != "0"
            #expect(steps > 10)
            #expect(seen.count == 1000)
            #expect(seen["m7"] == "7.5" && seen["m999"] == "999.5")
            let matched = try c.call("ZSCAN", "big", "0", "MATCH", "m5", "COUNT", "100000").arrayItems
            #expect(matched == [bulk("0"), bulks("m5", "5.5")])
            for valid in ["-1", "+1", "", "18446744073709551615"] {
                #expect(try c.call("ZSCAN", "big", valid).arrayItems.count == 2, "\(valid)")
            }
            for invalid in [" 1", "1x", "18446744073709551616", "-"] {
                #expect(try c.call("ZSCAN", "big", invalid) == err("ERR invalid cursor"), "\(invalid)")
            }
            #expect(try c.call("ZSCAN", "big", "0", "NOVALUES") == err("ERR syntax error"))
            #expect(try c.call("ZADD", "small", "1", "a", "2", "b") == int(2))
            #expect(try c.call("ZSCAN", "small", "9", "COUNT", "1") == .array([bulk("0"), bulks("a", "1", "b", "2")]))
        }
    }

    @Test func unionInterDiffAndStore() throws {
        try withInProcessServer { server in
            let c = try server.connect()
            #expect(try c.call("ZADD", "a", "1", "x", "2", "y", "3", "z") == int(3))
            #expect(try c.call("ZADD", "b", "10", "y", "20", "z", "30", "w") == int(3))
            #expect(try c.call("ZADD", "i", "inf", "x") == int(1))
            #expect(try c.call("ZADD", "j", "-inf", "x") == int(1))
            #expect(
                try c.call("ZUNION", "2", "a", "b", "WITHSCORES") == bulks("x", "1", "y", "12", "z", "23", "w", "30")
            )
            #expect(
                try c.call("ZUNION", "2", "a", "b", "WEIGHTS", "2", "-1", "AGGREGATE", "MAX", "WITHSCORES")
                    == bulks("w", "-30", "x", "2", "y", "4", "z", "6")
            )
            #expect(try c.call("ZINTER", "2", "a", "b", "AGGREGATE", "MIN", "WITHSCORES") == bulks("y", "2", "z", "3"))
            #expect(try c.call("ZINTER", "2", "a", "nokey") == bulks())
            #expect(try c.call("ZDIFF", "2", "a", "b", "WITHSCORES") == bulks("x", "1"))
            #expect(try c.call("ZDIFF", "2", "a", "b", "WEIGHTS", "1", "2") == err("ERR syntax error"))
            // inf + -inf is 0 in a sum, as in Redis.
            #expect(try c.call("ZUNION", "2", "i", "j", "WITHSCORES") == bulks("x", "0"))
            #expect(try c.call("ZINTERCARD", "2", "a", "b") == int(2))
            #expect(try c.call("ZINTERCARD", "2", "a", "b", "LIMIT", "1") == int(1))
            #expect(try c.call("ZINTERCARD", "2", "a", "b", "LIMIT", "-1") == err("ERR LIMIT can't be negative"))
            #expect(try c.call("ZINTERCARD", "2", "a", "b", "LIMIT", "x") == err("ERR LIMIT can't be negative"))
            #expect(
                try c.call("ZINTERCARD", "0", "a") == err("ERR at least 1 input key is needed for 'zintercard' command")
            )
            #expect(try c.call("ZUNION", "3", "a", "b") == err("ERR syntax error"))
            #expect(try c.call("ZUNION", "2", "a", "b", "WEIGHTS", "1") == err("ERR syntax error"))
            #expect(try c.call("ZUNION", "2", "a", "b", "WEIGHTS", "1", "x") == err("ERR weight value is not a float"))
            #expect(try c.call("ZUNION", "2", "a", "b", "AGGREGATE", "AVG") == err("ERR syntax error"))
            #expect(try c.call("ZUNIONSTORE", "d", "2", "a", "b") == int(4))
            #expect(
                try c.call("ZRANGE", "d", "0", "-1", "WITHSCORES") == bulks("x", "1", "y", "12", "z", "23", "w", "30")
            )
            #expect(try c.call("ZUNIONSTORE", "d", "2", "a", "b", "WITHSCORES") == err("ERR syntax error"))
            #expect(try c.call("ZINTERSTORE", "d", "2", "a", "nokey") == int(0))
            #expect(try c.call("EXISTS", "d") == int(0))
            #expect(try c.call("ZDIFFSTORE", "d", "2", "b", "a") == int(1))
            #expect(try c.call("ZRANGE", "d", "0", "-1", "WITHSCORES") == bulks("w", "30"))
            // The destination is replaced whatever it held, and loses its deadline.
            #expect(try c.call("SET", "s", "v", "EX", "100") == OK)
            #expect(try c.call("ZUNIONSTORE", "s", "1", "a") == int(3))
            #expect(try c.call("TTL", "s") == int(-1))
            #expect(try c.call("ZRANGESTORE", "r", "a", "(1", "+inf", "BYSCORE", "LIMIT", "0", "1") == int(1))
            #expect(try c.call("ZRANGE", "r", "0", "-1") == bulks("y"))
            #expect(try c.call("ZRANGESTORE", "r", "nokey", "0", "-1") == int(0))
            #expect(try c.call("EXISTS", "r") == int(0))
            #expect(try c.call("ZRANGESTORE", "r", "a", "0", "-1", "WITHSCORES") == err("ERR syntax error"))
        }
    }

    @Test func wrongTypeEverywhere() throws {
        try withInProcessServer { server in
            let c = try server.connect()
            #expect(try c.call("SET", "s", "v") == OK)
            #expect(try c.call("ZADD", "z", "1", "a") == int(1))
            let commands: [[String]] = [
                ["ZADD", "s", "1", "a"], ["ZINCRBY", "s", "1", "a"], ["ZSCORE", "s", "a"], ["ZMSCORE", "s", "a"],
                ["ZCARD", "s"], ["ZCOUNT", "s", "0", "1"], ["ZLEXCOUNT", "s", "-", "+"], ["ZRANGE", "s", "0", "-1"],
                ["ZRANGEBYSCORE", "s", "0", "1"], ["ZREVRANGEBYLEX", "s", "+", "-"], ["ZRANK", "s", "a"],
                ["ZREM", "s", "a"], ["ZPOPMIN", "s"], ["ZPOPMAX", "s", "0"], ["ZREMRANGEBYRANK", "s", "0", "1"],
                ["ZREMRANGEBYSCORE", "s", "0", "1"], ["ZREMRANGEBYLEX", "s", "-", "+"], ["ZRANDMEMBER", "s"],
                ["ZRANDMEMBER", "s", "2"], ["ZSCAN", "s", "0"], ["ZMPOP", "2", "nokey", "s", "MIN"],
                ["ZRANGESTORE", "d", "s", "0", "-1"], ["ZUNION", "2", "z", "s"], ["ZINTERSTORE", "d", "2", "z", "s"],
                ["ZDIFF", "1", "s"], ["ZINTERCARD", "1", "s"], ["ZUNION", "2", "z", "s", "BADOPTION"],
            ]
            for command in commands { #expect(try c.call(command) == WRONGTYPE, "\(command)") }
            #expect(try c.call("GET", "s") == bulk("v"))
            #expect(try c.call("GET", "z") == WRONGTYPE)
            #expect(try c.call("HSET", "z", "f", "v") == WRONGTYPE)
        }
    }

    /// The same operations answer the same on both encodings, and the conversion is one
    /// way.
    @Test(arguments: ["128", "0"])
    func bothEncodingsAnswerAlike(maxEntries: String) throws {
        try withInProcessServer { server in
            let c = try server.connect()
            #expect(try c.call("CONFIG", "SET", "zset-max-listpack-entries", maxEntries) == OK)
            #expect(try c.call("ZADD", "z", "3", "c", "1", "a", "2", "b", "2", "bb", "-1", "m") == int(5))
            #expect(try c.call("OBJECT", "ENCODING", "z") == bulk(maxEntries == "0" ? "skiplist" : "listpack"))
            #expect(try c.call("ZRANGE", "z", "0", "-1") == bulks("m", "a", "b", "bb", "c"))
            #expect(try c.call("ZRANK", "z", "bb") == int(3))
            #expect(try c.call("ZREVRANK", "z", "bb") == int(1))
            #expect(try c.call("ZINCRBY", "z", "10", "a") == bulk("11"))
            #expect(try c.call("ZRANGE", "z", "1", "2", "REV", "WITHSCORES") == bulks("c", "3", "bb", "2"))
            #expect(try c.call("ZCOUNT", "z", "(2", "11") == int(2))
            #expect(try c.call("ZREMRANGEBYSCORE", "z", "2", "2") == int(2))
            #expect(try c.call("ZRANGE", "z", "0", "-1", "WITHSCORES") == bulks("m", "-1", "c", "3", "a", "11"))
            #expect(try c.call("ZPOPMAX", "z") == bulks("a", "11"))
            #expect(try c.call("ZCARD", "z") == int(2))
        }
    }

    @Test func encodingsFollowTheLimits() throws {
        try withInProcessServer { server in
            let c = try server.connect()
            #expect(try c.call("ZADD", "small", "1", "a") == int(1))
            #expect(try c.call("OBJECT", "ENCODING", "small") == bulk("listpack"))
            #expect(try c.call("ZADD", "long", "1", String(repeating: "x", count: 65)) == int(1))
            #expect(try c.call("OBJECT", "ENCODING", "long") == bulk("skiplist"))
            #expect(try c.call("CONFIG", "SET", "zset-max-ziplist-entries", "2") == OK)
            #expect(try c.call("CONFIG", "GET", "zset-max-listpack-entries") == bulks("zset-max-listpack-entries", "2"))
            #expect(try c.call("ZADD", "many", "1", "a", "2", "b") == int(2))
            #expect(try c.call("OBJECT", "ENCODING", "many") == bulk("listpack"))
            #expect(try c.call("ZADD", "many", "3", "c") == int(1))
            #expect(try c.call("OBJECT", "ENCODING", "many") == bulk("skiplist"))
            #expect(try c.call("ZREM", "many", "a", "b") == int(2))
            #expect(try c.call("OBJECT", "ENCODING", "many") == bulk("skiplist"))  // never back
            #expect(try c.call("CONFIG", "SET", "zset-max-listpack-value", "1kb") == OK)
            #expect(try c.call("CONFIG", "GET", "zset-max-ziplist-value") == bulks("zset-max-ziplist-value", "1024"))
            let usage = try c.call("MEMORY", "USAGE", "many")
            #expect((Int(usage.text) ?? 0) > 0)
        }
    }

    @Test func watchTransactionsAndKeyCommands() throws {
        try withInProcessServer { server in
            let a = try server.connect()
            let b = try server.connect()
            #expect(try a.call("ZADD", "z", "1", "m") == int(1))
            #expect(try a.call("WATCH", "z") == OK)
            #expect(try b.call("ZADD", "z", "1", "m") == int(0))  // no change: the watch holds
            #expect(try b.call("ZREM", "z", "nope") == int(0))
            #expect(try a.call("MULTI") == OK)
            #expect(try a.call("ZSCORE", "z", "m") == .simpleString("QUEUED"))
            #expect(try a.call("EXEC") == .array([bulk("1")]))
            #expect(try a.call("WATCH", "z") == OK)
            #expect(try b.call("ZINCRBY", "z", "1", "m") == bulk("2"))
            #expect(try a.call("MULTI") == OK)
            #expect(try a.call("ZCARD", "z") == .simpleString("QUEUED"))
            #expect(try a.call("EXEC") == .nullArray)
            #expect(try a.call("MULTI") == OK)
            for command in [
                ["ZADD", "z", "5", "n"], ["ZINCRBY", "z", "1", "n"], ["ZPOPMIN", "z"], ["ZUNIONSTORE", "u", "1", "z"],
                ["ZRANGE", "u", "0", "-1", "WITHSCORES"], ["GET", "z"],
            ] {
                #expect(try a.call(command) == .simpleString("QUEUED"))
            }
            #expect(
                try a.call("EXEC") == .array([int(1), bulk("6"), bulks("m", "2"), int(1), bulks("n", "6"), WRONGTYPE])
            )
            #expect(try a.call("RENAME", "u", "v") == OK)
            #expect(try a.call("ZSCORE", "v", "n") == bulk("6"))
            #expect(try a.call("COPY", "v", "w") == int(1))
            #expect(try a.call("ZADD", "w", "1", "o") == int(1))
            #expect(try a.call("ZCARD", "v") == int(1))
            #expect(try a.call("SCAN", "0", "TYPE", "zset").arrayItems.last?.arrayItems.count == 3)
        }
    }

    /// The skip list against a sorted array, through many random changes.
    @Test func skipListKeepsRanksAndOrder() {
        var zset = ZSetValue()
        let limits = ZSetLimits(maxListpackEntries: 16, maxListpackValue: 64)
        var model: [String: Double] = [:]
        var generator = SystemRandomNumberGenerator()
        for step in 0..<4000 {
            let member = "m\(Int.random(in: 0..<300, using: &generator))"
            let bytes = ValueBytes(Array(member.utf8))
            if Int.random(in: 0..<3, using: &generator) == 0 {
                #expect(zset.remove(bytes) == (model.removeValue(forKey: member) != nil))
            } else {
                let score = Double(Int.random(in: -20...20, using: &generator)) / 4
                #expect(zset.set(bytes, score: score, limits: limits) == model[member])
                model[member] = score
            }
            if step % 200 == 0 || step == 3999 {
                let sorted = model.sorted { a, b in
                    a.value != b.value
                        ? a.value < b.value : Array(a.key.utf8).lexicographicallyPrecedes(Array(b.key.utf8))
                }
                let got = zset.elements(inRanks: 0..<zset.count).map {
                    (String(decoding: Array($0.member), as: UTF8.self), $0.score)
                }
                #expect(got.map(\.0) == sorted.map(\.key))
                for (rank, (member, score)) in sorted.enumerated() where rank % 7 == 0 {
                    let found = zset.rank(of: ValueBytes(Array(member.utf8)))
                    #expect(found?.rank == rank && found?.score == score)
                }
                #expect(
                    zset.elements(inRanks: 3..<6, reverse: true).map(\.score)
                        == sorted.dropFirst(3).prefix(3).reversed().map(\.value)
                )
            }
        }
        #expect(!zset.isPacked)
    }
}

extension RESPValue {
    /// The items of an array reply (empty for anything else).
    var arrayItems: [RESPValue] {
        if case .array(let items) = self { return items }
        return []
    }
}
