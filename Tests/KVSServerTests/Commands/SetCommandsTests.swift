import NIOCore
import RESP
import Testing

@testable import KVSServer

/// The members of a set reply (RESP2 array or RESP3 set), sorted, for order-free checks.
func sortedMembers(_ reply: RESPValue) -> [String] {
    switch reply {
    case .array(let items), .set(let items): return items.map(\.text).sorted()
    default: return []
    }
}

/// The replies here are Redis 7.0.15's, asked of a real server.
@Suite("Set commands")
struct SetCommandsTests {
    @Test func addRemoveAndMembership() throws {
        try withInProcessServer { server in
            let c = try server.connect()
            #expect(try c.call("SADD", "s", "a", "b", "a", "c") == int(3))
            #expect(try c.call("SADD", "s", "a") == int(0))
            #expect(try c.call("SCARD", "s") == int(3))
            #expect(try c.call("SCARD", "nokey") == int(0))
            #expect(try c.call("SISMEMBER", "s", "a") == int(1))
            #expect(try c.call("SISMEMBER", "s", "z") == int(0))
            #expect(try c.call("SISMEMBER", "nokey", "a") == int(0))
            #expect(try c.call("SMISMEMBER", "s", "a", "z", "c") == .array([int(1), int(0), int(1)]))
            #expect(try c.call("SMISMEMBER", "nokey", "a") == .array([int(0)]))
            #expect(sortedMembers(try c.call("SMEMBERS", "s")) == ["a", "b", "c"])
            #expect(try c.call("SMEMBERS", "nokey") == .array([]))
            #expect(try c.call("SREM", "s", "a", "z", "a") == int(1))
            #expect(try c.call("SREM", "nokey", "a") == int(0))
            #expect(try c.call("TYPE", "s") == .simpleString("set"))
            #expect(try c.call("SREM", "s", "b", "c") == int(2))
            #expect(try c.call("EXISTS", "s") == int(0))  // the last member takes the key
            #expect(try c.call("SADD", "s", "") == int(1))
            #expect(try c.call("SISMEMBER", "s", "") == int(1))
        }
    }

    @Test func arityAndArgumentErrors() throws {
        try withInProcessServer { server in
            let c = try server.connect()
            #expect(try c.call("SADD", "s") == err("ERR wrong number of arguments for 'sadd' command"))
            #expect(try c.call("SMISMEMBER", "s") == err("ERR wrong number of arguments for 'smismember' command"))
            #expect(try c.call("SMOVE", "a", "b") == err("ERR wrong number of arguments for 'smove' command"))
            #expect(try c.call("SINTERCARD", "1") == err("ERR wrong number of arguments for 'sintercard' command"))
            #expect(try c.call("SADD", "s", "a", "b", "c") == int(3))
            #expect(try c.call("SPOP", "s", "-1") == err("ERR value is out of range, must be positive"))
            #expect(try c.call("SPOP", "s", "x") == err("ERR value is out of range, must be positive"))
            #expect(try c.call("SPOP", "s", "1", "2") == err("ERR syntax error"))
            #expect(try c.call("SRANDMEMBER", "s", "1", "2") == err("ERR syntax error"))
            #expect(try c.call("SRANDMEMBER", "s", "x") == err("ERR value is not an integer or out of range"))
            #expect(
                try c.call("SRANDMEMBER", "s", "-9223372036854775808")
                    == err(
                        "ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807"
                    )
            )
            for bad in ["0", "-1", "x", ""] {
                #expect(try c.call("SINTERCARD", bad, "s") == err("ERR numkeys should be greater than 0"))
            }
            #expect(
                try c.call("SINTERCARD", "3", "s")
                    == err("ERR Number of keys can't be greater than number of args")
            )
            #expect(
                try c.call("SINTERCARD", "9223372036854775807", "s")
                    == err("ERR Number of keys can't be greater than number of args")
            )
            #expect(try c.call("SINTERCARD", "1", "s", "LIMIT", "-1") == err("ERR LIMIT can't be negative"))
            #expect(try c.call("SINTERCARD", "1", "s", "LIMIT", "x") == err("ERR LIMIT can't be negative"))
            #expect(try c.call("SINTERCARD", "1", "s", "LIMIT") == err("ERR syntax error"))
            #expect(try c.call("SINTERCARD", "1", "s", "FOO", "1") == err("ERR syntax error"))
        }
    }

    @Test func popAndRandomMembers() throws {
        try withInProcessServer { server in
            let c = try server.connect()
            #expect(try c.call("SPOP", "nokey") == NIL)
            #expect(try c.call("SPOP", "nokey", "3") == .array([]))
            #expect(try c.call("SRANDMEMBER", "nokey") == NIL)
            #expect(try c.call("SRANDMEMBER", "nokey", "3") == .array([]))
            #expect(try c.call("SRANDMEMBER", "nokey", "-3") == .array([]))
            #expect(try c.call("SADD", "s", "a", "b", "c", "d", "e") == int(5))
            #expect(try c.call("SPOP", "s", "0") == .array([]))
            #expect(try c.call("SRANDMEMBER", "s", "0") == .array([]))
            #expect(["a", "b", "c", "d", "e"].contains(try c.call("SRANDMEMBER", "s").text))
            let popped = sortedMembers(try c.call("SPOP", "s", "2"))
            #expect(popped.count == 2 && Set(popped).count == 2)
            #expect(try c.call("SCARD", "s") == int(3))
            for member in popped { #expect(try c.call("SISMEMBER", "s", member) == int(0)) }
            let one = try c.call("SPOP", "s").text
            #expect(try c.call("SISMEMBER", "s", one) == int(0))
            guard case .array(let two) = try c.call("SRANDMEMBER", "s", "2") else {
                Issue.record("SRANDMEMBER with a count answers an array")
                return
            }
            #expect(Set(two.map(\.text)).count == 2)
            guard case .array(let repeats) = try c.call("SRANDMEMBER", "s", "-7") else { return }
            #expect(repeats.count == 7)
            #expect(sortedMembers(try c.call("SRANDMEMBER", "s", "10")).count == 2)
            // Past the reply bound: refused (Redis would start sending 2^60 members).
            #expect(try c.call("SRANDMEMBER", "s", "-1152921504606846976") == err("ERR value is out of range"))
            #expect(sortedMembers(try c.call("SPOP", "s", "9223372036854775807")).count == 2)
            #expect(try c.call("EXISTS", "s") == int(0))  // the whole set popped takes the key
            // A big table: random picks and pops stay members, and counts stay right.
            for i in 0..<1000 { _ = try c.call("SADD", "big", "m\(i)") }
            #expect(try c.call("OBJECT", "ENCODING", "big") == bulk("hashtable"))
            #expect(sortedMembers(try c.call("SPOP", "big", "990")).count == 990)
            let rest = sortedMembers(try c.call("SMEMBERS", "big"))
            #expect(rest.count == 10)
            for member in rest { #expect(try c.call("SISMEMBER", "big", member) == int(1)) }
            guard case .array(let sample) = try c.call("SRANDMEMBER", "big", "3") else { return }
            #expect(Set(sample.map(\.text)).count == 3 && sample.allSatisfy { rest.contains($0.text) })
        }
    }

    @Test func moveBetweenSets() throws {
        try withInProcessServer { server in
            let c = try server.connect()
            #expect(try c.call("SADD", "a", "x", "1") == int(2))
            #expect(try c.call("SET", "str", "v") == OK)
            #expect(try c.call("SMOVE", "nokey", "str", "x") == int(0))  // no source: no type check
            #expect(try c.call("SMOVE", "a", "str", "x") == WRONGTYPE)
            #expect(try c.call("SMOVE", "str", "a", "x") == WRONGTYPE)
            #expect(try c.call("SMOVE", "a", "a", "x") == int(1))
            #expect(try c.call("SMOVE", "a", "a", "zz") == int(0))
            #expect(try c.call("SMOVE", "a", "b", "zz") == int(0))
            #expect(try c.call("EXISTS", "b") == int(0))
            #expect(try c.call("SMOVE", "a", "b", "1") == int(1))
            #expect(try c.call("OBJECT", "ENCODING", "b") == bulk("intset"))
            #expect(try c.call("SMOVE", "a", "b", "x") == int(1))
            #expect(try c.call("EXISTS", "a") == int(0))
            #expect(sortedMembers(try c.call("SMEMBERS", "b")) == ["1", "x"])
            #expect(try c.call("OBJECT", "ENCODING", "b") == bulk("hashtable"))
        }
    }

    @Test func algebra() throws {
        try withInProcessServer { server in
            let c = try server.connect()
            #expect(try c.call("SADD", "a", "1", "2", "3", "x") == int(4))
            #expect(try c.call("SADD", "b", "2", "3", "4") == int(3))
            #expect(try c.call("SADD", "c", "3", "y") == int(2))
            #expect(sortedMembers(try c.call("SINTER", "a", "b")) == ["2", "3"])
            #expect(sortedMembers(try c.call("SINTER", "a", "b", "c")) == ["3"])
            #expect(try c.call("SINTER", "a", "nokey") == .array([]))
            #expect(sortedMembers(try c.call("SUNION", "a", "nokey", "c")) == ["1", "2", "3", "x", "y"])
            #expect(sortedMembers(try c.call("SDIFF", "a", "b", "nokey")) == ["1", "x"])
            #expect(try c.call("SDIFF", "nokey", "a") == .array([]))
            #expect(try c.call("SINTERCARD", "2", "a", "b") == int(2))
            #expect(try c.call("SINTERCARD", "2", "a", "b", "LIMIT", "1") == int(1))
            #expect(try c.call("SINTERCARD", "2", "a", "b", "LIMIT", "0") == int(2))
            #expect(try c.call("SINTERCARD", "1", "a", "LIMIT", "3") == int(3))
            #expect(try c.call("SINTERCARD", "2", "a", "nokey") == int(0))
            // The STORE forms overwrite any type, drop the TTL, and delete on an empty result.
            #expect(try c.call("SET", "d", "v") == OK)
            #expect(try c.call("EXPIRE", "d", "100") == int(1))
            #expect(try c.call("SINTERSTORE", "d", "a", "b") == int(2))
            #expect(try c.call("TYPE", "d") == .simpleString("set"))
            #expect(try c.call("TTL", "d") == int(-1))
            #expect(try c.call("OBJECT", "ENCODING", "d") == bulk("intset"))
            #expect(try c.call("SUNIONSTORE", "d", "a", "c") == int(5))
            #expect(try c.call("OBJECT", "ENCODING", "d") == bulk("hashtable"))
            #expect(try c.call("SDIFFSTORE", "d", "d", "a") == int(1))
            #expect(try c.call("SMEMBERS", "d") == .array([bulk("y")]))
            #expect(try c.call("SINTERSTORE", "d", "a", "nokey") == int(0))
            #expect(try c.call("EXISTS", "d") == int(0))
            #expect(try c.call("SET", "str", "v") == OK)
            // Every key's type is checked, even after an absent one.
            for command in [
                ["SINTER", "nokey", "str"], ["SUNION", "a", "str"], ["SDIFF", "nokey", "str"],
                ["SINTERCARD", "2", "nokey", "str"], ["SINTERSTORE", "d", "nokey", "str"],
                ["SUNIONSTORE", "d", "a", "str"], ["SDIFFSTORE", "d", "a", "str"],
            ] {
                #expect(try c.call(command) == WRONGTYPE, "\(command)")
            }
            #expect(try c.call("EXISTS", "d") == int(0))  // a refused STORE writes nothing
        }
    }

    @Test func resp3ReplyTypes() throws {
        try withInProcessServer { server in
            let c = try server.connect()
            _ = try c.call("HELLO", "3")
            #expect(try c.call("SADD", "s", "a") == int(1))
            #expect(try c.call("SMEMBERS", "s") == .set([bulk("a")]))
            #expect(try c.call("SMEMBERS", "nokey") == .set([]))
            #expect(try c.call("SINTER", "s") == .set([bulk("a")]))
            #expect(try c.call("SUNION", "s", "nokey") == .set([bulk("a")]))
            #expect(try c.call("SDIFF", "s") == .set([bulk("a")]))
            #expect(try c.call("SISMEMBER", "s", "a") == int(1))
            #expect(try c.call("SMISMEMBER", "s", "a") == .array([int(1)]))
            #expect(try c.call("SRANDMEMBER", "s", "5") == .array([bulk("a")]))  // an array, as 7.0 answers
            #expect(try c.call("SRANDMEMBER", "nokey") == .null)
            #expect(try c.call("SPOP", "nokey", "1") == .set([]))
            #expect(try c.call("SPOP", "s", "1") == .set([bulk("a")]))
            #expect(try c.call("SPOP", "nokey") == .null)
            #expect(try c.call("SSCAN", "nokey", "0") == .array([bulk("0"), .array([])]))
        }
    }

    @Test func wrongTypeEverywhere() throws {
        try withInProcessServer { server in
            let c = try server.connect()
            #expect(try c.call("SADD", "set", "a") == int(1))
            #expect(try c.call("SET", "str", "v") == OK)
            for command in [
                ["SADD", "str", "a"], ["SREM", "str", "a"], ["SCARD", "str"], ["SISMEMBER", "str", "a"],
                ["SMISMEMBER", "str", "a"], ["SMEMBERS", "str"], ["SPOP", "str"], ["SPOP", "str", "0"],
                ["SRANDMEMBER", "str"], ["SRANDMEMBER", "str", "0"], ["SRANDMEMBER", "str", "-3"],
                ["SSCAN", "str", "0"], ["SSCAN", "str", "0", "COUNT", "0"],
                ["GET", "set"], ["APPEND", "set", "x"], ["HGET", "set", "f"], ["HSET", "set", "f", "v"],
            ] {
                #expect(try c.call(command) == WRONGTYPE, "\(command)")
            }
            #expect(try c.call("SSCAN", "str", "x") == err("ERR invalid cursor"))
            #expect(try c.call("SMEMBERS", "set") == .array([bulk("a")]))  // unchanged
        }
    }

    @Test func scan() throws {
        try withInProcessServer { server in
            let c = try server.connect()
            #expect(try c.call("SSCAN", "nokey", "0", "COUNT", "0") == .array([bulk("0"), .array([])]))
            #expect(try c.call("SADD", "s", "a", "ab", "b") == int(3))
            #expect(try c.call("SSCAN", "s", "abc") == err("ERR invalid cursor"))
            #expect(try c.call("SSCAN", "s", "0", "COUNT", "0") == err("ERR syntax error"))
            #expect(try c.call("SSCAN", "s", "0", "NOVALUES") == err("ERR syntax error"))
            #expect(try c.call("SSCAN", "s", "0", "TYPE", "set") == err("ERR syntax error"))
            guard case .array(let reply) = try c.call("SSCAN", "s", "0", "MATCH", "a*", "COUNT", "10") else {
                Issue.record("SSCAN answers an array")
                return
            }
            #expect(reply.first == bulk("0") && sortedMembers(reply[1]) == ["a", "ab"])
            #expect(try c.call("SADD", "i", "10", "2", "-3") == int(3))
            #expect(try c.call("SSCAN", "i", "0") == .array([bulk("0"), .array(["-3", "2", "10"].map(bulk))]))
            #expect(try c.call("SSCAN", "i", "0", "MATCH", "1*") == .array([bulk("0"), .array([bulk("10")])]))
        }
    }

    /// A table is scanned with a real cursor: COUNT bounds a step, a full loop returns every
    /// member once, and cursors are read as Redis's strtoul reads them.
    @Test func scanWithACursor() throws {
        try withInProcessServer { server in
            let c = try server.connect()
            let all = (0..<1000).map { "m\($0)" }
            #expect(try c.call(["SADD", "big"] + all) == int(1000))
            let first = try c.call("SSCAN", "big", "0", "COUNT", "1").arrayItems
            #expect(first[0] != bulk("0"))
            #expect(first[1].arrayItems.count < 10)
            var seen: [String] = []
            var cursor = "0"
            var steps = 0
            repeat {
                let reply = try c.call("SSCAN", "big", cursor, "COUNT", "20").arrayItems
                cursor = reply[0].text
                seen += reply[1].arrayItems.map(\.text)
                steps += 1
            } while cursor != "0"
            #expect(steps > 10)
            #expect(seen.sorted() == all.sorted())  // each once: nothing changed meanwhile
            // MATCH filters what a step found; a step may find nothing and go on.
            var matched: [String] = []
            cursor = "0"
            repeat {
                let reply = try c.call("SSCAN", "big", cursor, "MATCH", "m99*", "COUNT", "5").arrayItems
                cursor = reply[0].text
                matched += reply[1].arrayItems.map(\.text)
            } while cursor != "0"
            #expect(
                matched.sorted() == [
                    "m99", "m990", "m991", "m992", "m993", "m994", "m995", "m996", "m997", "m998", "m999",
                ]
            )
            // Any cursor strtoul reads is valid: a sign, nothing, up to 2^64 - 1, past the table.
            for valid in ["-1", "+1", "", "18446744073709551615", "99999999999"] {
                #expect(try c.call("SSCAN", "big", valid).arrayItems.count == 2, "\(valid)")
            }
            for invalid in [" 1", "1x", "18446744073709551616", "-", "0x10", "1.5"] {
                #expect(try c.call("SSCAN", "big", invalid) == err("ERR invalid cursor"), "\(invalid)")
            }
            // An intset is answered whole with cursor 0, whatever the cursor.
            #expect(try c.call("SADD", "i", "3", "1", "2") == int(3))
            #expect(
                try c.call("SSCAN", "i", "77", "COUNT", "1") == .array([bulk("0"), .array(["1", "2", "3"].map(bulk))])
            )
        }
    }

    @Test func encodingsFollowTheLimits() throws {
        try withInProcessServer { server in
            let c = try server.connect()
            #expect(try c.call("SADD", "i", "3", "1", "2", "-5", "99999999999") == int(5))
            #expect(try c.call("OBJECT", "ENCODING", "i") == bulk("intset"))
            // An intset answers in ascending order, as Redis's does, at every width.
            #expect(try c.call("SMEMBERS", "i") == .array(["-5", "1", "2", "3", "99999999999"].map(bulk)))
            #expect(try c.call("SADD", "i", "-9223372036854775808", "9223372036854775807", "70000") == int(3))
            #expect(
                try c.call("SMEMBERS", "i")
                    == .array(
                        [
                            "-9223372036854775808", "-5", "1", "2", "3", "70000", "99999999999",
                            "9223372036854775807",
                        ]
                        .map(bulk)
                    )
            )
            #expect(try c.call("SISMEMBER", "i", "70000") == int(1))
            #expect(try c.call("SISMEMBER", "i", "070000") == int(0))
            for member in ["01", "-0", "+1", " 1", "1.0", "9223372036854775808"] {
                #expect(try c.call("SADD", "s\(member)", member) == int(1))
                #expect(try c.call("OBJECT", "ENCODING", "s\(member)") == bulk("hashtable"), "\(member)")
            }
            #expect(try c.call("SADD", "i", "x") == int(1))
            #expect(try c.call("OBJECT", "ENCODING", "i") == bulk("hashtable"))
            #expect(try c.call("SREM", "i", "x") == int(1))
            #expect(try c.call("OBJECT", "ENCODING", "i") == bulk("hashtable"))  // never back
            #expect(try c.call("SISMEMBER", "i", "70000") == int(1))
            #expect(try c.call("CONFIG", "GET", "set-max-*") == .array([bulk("set-max-intset-entries"), bulk("512")]))
            #expect(try c.call("CONFIG", "SET", "set-max-intset-entries", "2") == OK)
            #expect(try c.call("SADD", "n", "1", "2") == int(2))
            #expect(try c.call("OBJECT", "ENCODING", "n") == bulk("intset"))
            #expect(try c.call("SADD", "n", "3") == int(1))
            #expect(try c.call("OBJECT", "ENCODING", "n") == bulk("hashtable"))
            #expect(try c.call("CONFIG", "SET", "set-max-intset-entries", "512") == OK)
            // 512 integers stay an intset; the 513th makes a table.
            let numbers = (0..<512).map { String($0 * 7 - 1000) }
            #expect(try c.call(["SADD", "wide"] + numbers) == int(512))
            #expect(try c.call("OBJECT", "ENCODING", "wide") == bulk("intset"))
            #expect(try c.call("SCARD", "wide") == int(512))
            #expect(try c.call("SADD", "wide", "100000") == int(1))
            #expect(try c.call("OBJECT", "ENCODING", "wide") == bulk("hashtable"))
            #expect(sortedMembers(try c.call("SMEMBERS", "wide")) == (numbers + ["100000"]).sorted())
            guard case .integer(let usage) = try c.call("MEMORY", "USAGE", "wide") else {
                Issue.record("MEMORY USAGE answers an integer")
                return
            }
            #expect(usage > 513 * 32)
        }
    }

    @Test func keyCommandsOnSets() throws {
        try withInProcessServer { server in
            let c = try server.connect()
            #expect(try c.call("SADD", "s", "a", "1") == int(2))
            #expect(try c.call("COPY", "s", "s2") == int(1))
            #expect(try c.call("SADD", "s2", "b") == int(1))
            #expect(try c.call("SCARD", "s") == int(2))  // the copy is its own
            #expect(try c.call("RENAME", "s2", "s3") == OK)
            #expect(try c.call("EXPIRE", "s3", "100") == int(1))
            #expect(try c.call("SADD", "s3", "c") == int(1))
            #expect(try c.call("TTL", "s3") != int(-1))  // a member write keeps the TTL
            #expect(
                try c.call("SCAN", "0", "TYPE", "set", "COUNT", "1000").text == "[0, [s, s3]]"
                    || c.call("SCAN", "0", "TYPE", "set", "COUNT", "1000").text == "[0, [s3, s]]"
            )
            #expect(try c.call("OBJECT", "ENCODING", "s3") == bulk("hashtable"))
        }
    }

    @Test func transactionsAndWatch() throws {
        try withInProcessServer { server in
            let a = try server.connect()
            let b = try server.connect()
            #expect(try a.call("SADD", "s", "a") == int(1))
            #expect(try a.call("WATCH", "s") == OK)
            #expect(try b.call("SADD", "s", "a") == int(0))  // no change: the watch holds
            #expect(try b.call("SREM", "s", "zz") == int(0))
            #expect(try a.call("MULTI") == OK)
            #expect(try a.call("SCARD", "s") == .simpleString("QUEUED"))
            #expect(try a.call("EXEC") == .array([int(1)]))
            #expect(try a.call("WATCH", "s") == OK)
            #expect(try b.call("SADD", "s", "b") == int(1))
            #expect(try a.call("MULTI") == OK)
            #expect(try a.call("SCARD", "s") == .simpleString("QUEUED"))
            #expect(try a.call("EXEC") == .nullArray)
            #expect(try a.call("WATCH", "d") == OK)
            #expect(try b.call("SUNIONSTORE", "d", "s") == int(2))
            #expect(try a.call("MULTI") == OK)
            #expect(try a.call("SCARD", "d") == .simpleString("QUEUED"))
            #expect(try a.call("EXEC") == .nullArray)
            // Inside a transaction sets read and write as outside it.
            #expect(try a.call("MULTI") == OK)
            #expect(try a.call("SADD", "s", "c", "d") == .simpleString("QUEUED"))
            #expect(try a.call("SREM", "s", "a") == .simpleString("QUEUED"))
            #expect(try a.call("SMOVE", "s", "t", "b") == .simpleString("QUEUED"))
            #expect(try a.call("SINTERSTORE", "u", "s", "s") == .simpleString("QUEUED"))
            #expect(try a.call("SCARD", "s") == .simpleString("QUEUED"))
            #expect(try a.call("GET", "s") == .simpleString("QUEUED"))
            #expect(try a.call("EXEC") == .array([int(2), int(1), int(1), int(2), int(2), WRONGTYPE]))
            #expect(sortedMembers(try a.call("SMEMBERS", "u")) == ["c", "d"])
            #expect(try a.call("SMEMBERS", "t") == .array([bulk("b")]))
        }
    }

    @Test func setsAreSortedSetInputsWithScoresOfOne() throws {
        try withInProcessServer { server in
            let c = try server.connect()
            #expect(try c.call("SADD", "s", "a", "b") == int(2))
            #expect(try c.call("ZADD", "z", "5", "a") == int(1))
            #expect(try c.call("ZUNIONSTORE", "u", "2", "s", "z") == int(2))
            #expect(try c.call("ZRANGE", "u", "0", "-1", "WITHSCORES") == .array(["b", "1", "a", "6"].map(bulk)))
            #expect(try c.call("ZINTER", "2", "s", "z", "WITHSCORES") == .array(["a", "6"].map(bulk)))
            #expect(try c.call("ZDIFF", "2", "s", "z") == .array([bulk("b")]))
            #expect(try c.call("ZINTERCARD", "2", "s", "z") == int(1))
            #expect(try c.call("SET", "str", "v") == OK)
            #expect(try c.call("ZUNION", "2", "s", "str") == WRONGTYPE)
        }
    }
}
