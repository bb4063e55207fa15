import NIOCore
import RESP
import Testing

@testable import KVSServer

/// The replies here are Redis 7.0.15's, asked of a real server.
@Suite("SORT and SORT_RO")
struct SortCommandTests {
    /// Keys most tests sort: a list, sets of words and of numbers, a sorted set, and the
    /// strings and hashes that BY and GET patterns name.
    private func fill(_ c: some RESPTestClient) throws {
        #expect(try c.call("RPUSH", "l", "3", "1", "2", "10", "-1.5") == int(5))
        #expect(try c.call("SADD", "s", "c", "a", "b") == int(3))
        #expect(try c.call("SADD", "si", "3", "1", "2") == int(3))
        #expect(try c.call("ZADD", "z", "1", "x", "2", "y", "3", "w", "0", "v") == int(4))
        let strings = [
            "w_3", "30", "w_1", "10", "w_2", "5", "w_10", "1", "w_-1.5", "7", "n_1", "one", "n_2", "two", "n_3",
            "three",
        ]
        #expect(try c.call(["MSET"] + strings) == OK)
        #expect(try c.call("HSET", "h_1", "f", "9", "g", "a") == int(2))
        #expect(try c.call("HSET", "h_2", "f", "8") == int(1))
        #expect(try c.call("HSET", "h_3", "f", "7") == int(1))
        #expect(try c.call("SET", "str", "v") == OK)
    }

    @Test func sortsNumericallyAndAlphabetically() throws {
        try withInProcessServer { server in
            let c = try server.connect()
            try fill(c)
            #expect(try c.call("SORT", "l").text == "[-1.5, 1, 2, 3, 10]")
            #expect(try c.call("SORT", "l", "DESC").text == "[10, 3, 2, 1, -1.5]")
            #expect(try c.call("SORT", "l", "ALPHA").text == "[-1.5, 1, 10, 2, 3]")
            #expect(try c.call("SORT", "l", "alpha", "desc").text == "[3, 2, 10, 1, -1.5]")
            #expect(try c.call("SORT", "l", "DESC", "ASC").text == "[-1.5, 1, 2, 3, 10]")
            #expect(try c.call("SORT", "s", "ALPHA").text == "[a, b, c]")
            #expect(try c.call("SORT", "si").text == "[1, 2, 3]")
            #expect(try c.call("SORT", "z", "ALPHA").text == "[v, w, x, y]")
            #expect(try c.call("SORT_RO", "l", "DESC", "LIMIT", "0", "2").text == "[10, 3]")
            #expect(try c.call("SORT", "missing") == .array([]))
            // The list is unchanged.
            #expect(try c.call("LRANGE", "l", "0", "-1").text == "[3, 1, 2, 10, -1.5]")
        }
    }

    @Test func numericSortReadsValuesAsStrtod() throws {
        try withInProcessServer { server in
            let c = try server.connect()
            #expect(try c.call("RPUSH", "n", "", " 1", "0x10", "inf", "-inf", "1e5") == int(6))
            #expect(try c.call("SORT", "n").text == "[-inf, ,  1, 0x10, 1e5, inf]")
            for bad in ["1 ", "1e-400", "1e-310", "1e400", "nan", "-", "1.5e", "x"] {
                #expect(try c.call("DEL", "b") != int(2))
                #expect(try c.call("RPUSH", "b", "1", bad) == int(2))
                #expect(try c.call("SORT", "b") == err("ERR One or more scores can't be converted into double"))
                #expect(try c.call("SORT", "b", "ALPHA").text.hasPrefix("["))
                #expect(try c.call("SORT", "b", "BY", "nosort").text.hasPrefix("["))
            }
            // `strtod` stops at a NUL byte: what follows is not read.
            #expect(try c.callBytes([Array("RPUSH".utf8), [0x62, 0x6E], [0x32, 0, 0x78], [0x31]]) == int(2))
            #expect(
                try c.callBytes([Array("SORT".utf8), [0x62, 0x6E]]) == .array([.bulk("1"), .bulk([0x32, 0, 0x78])])
            )
            // A failed numeric sort stores nothing.
            #expect(try c.call("SET", "d", "keep") == OK)
            #expect(
                try c.call("SORT", "b", "STORE", "d") == err("ERR One or more scores can't be converted into double")
            )
            #expect(try c.call("GET", "d") == bulk("keep"))
        }
    }

    @Test func byNosortKeepsOrder() throws {
        try withInProcessServer { server in
            let c = try server.connect()
            try fill(c)
            #expect(try c.call("SORT", "z").text == "ERR One or more scores can't be converted into double")
            #expect(try c.call("SORT", "z", "BY", "nosort").text == "[v, x, y, w]")
            #expect(try c.call("SORT", "z", "BY", "nosort", "DESC").text == "[w, y, x, v]")
            #expect(try c.call("SORT", "z", "BY", "nosort", "DESC", "LIMIT", "1", "2").text == "[y, x]")
            #expect(try c.call("SORT", "z", "BY", "nosort", "LIMIT", "1", "2").text == "[x, y]")
            #expect(try c.call("SORT", "l", "BY", "nosort").text == "[3, 1, 2, 10, -1.5]")
            #expect(try c.call("SORT", "l", "BY", "nosort", "DESC", "LIMIT", "1", "10").text == "[10, 2, 1, 3]")
            #expect(
                try c.call("SORT", "l", "BY", "nosort", "LIMIT", "2", "9223372036854775807").text == "[2, 10, -1.5]"
            )
            #expect(try c.call("SORT", "l", "BY", "nosort", "LIMIT", "9223372036854775807", "1") == .array([]))
            // A set left unsorted answers its members in no defined order...
            #expect(sortedMembers(try c.call("SORT", "s", "BY", "nosort")) == ["a", "b", "c"])
            // ...but a stored one is sorted with ALPHA, DESC honoured, so the list is defined.
            #expect(try c.call("SORT", "s", "BY", "nosort", "STORE", "d", "DESC") == int(3))
            #expect(try c.call("LRANGE", "d", "0", "-1").text == "[c, b, a]")
            #expect(try c.call("SORT", "si", "BY", "nosort", "GET", "#", "STORE", "d") == int(3))
            #expect(try c.call("LRANGE", "d", "0", "-1").text == "[1, 2, 3]")
        }
    }

    @Test func limitIsClamped() throws {
        try withInProcessServer { server in
            let c = try server.connect()
            try fill(c)
            #expect(try c.call("SORT", "l", "LIMIT", "1", "2").text == "[1, 2]")
            #expect(try c.call("SORT", "l", "LIMIT", "2", "9223372036854775807").text == "[2, 3, 10]")
            #expect(try c.call("SORT", "l", "LIMIT", "-5", "2").text == "[-1.5, 1]")
            #expect(try c.call("SORT", "l", "LIMIT", "3", "-1").text == "[3, 10]")
            #expect(try c.call("SORT", "l", "LIMIT", "10", "2") == .array([]))
            #expect(try c.call("SORT", "l", "LIMIT", "0", "0") == .array([]))
            #expect(try c.call("SORT", "l", "LIMIT", "0", "-9223372036854775808").text == "[-1.5, 1, 2, 3, 10]")
            #expect(
                try c.call("SORT", "l", "LIMIT", "9223372036854775807", "9223372036854775807") == .array([])
            )
            #expect(try c.call("SORT", "l", "LIMIT", "-9223372036854775808", "1").text == "[-1.5]")
            #expect(try c.call("SORT", "missing", "LIMIT", "5", "5") == .array([]))
            #expect(try c.call("SORT", "si", "BY", "h_*->f", "LIMIT", "1", "1").text == "[2]")
        }
    }

    @Test func byAndGetPatterns() throws {
        try withInProcessServer { server in
            let c = try server.connect()
            try fill(c)
            #expect(try c.call("SORT", "l", "BY", "w_*").text == "[10, 2, -1.5, 1, 3]")
            #expect(try c.call("SORT", "l", "BY", "w_*", "DESC").text == "[3, 1, -1.5, 2, 10]")
            #expect(try c.call("SORT", "si", "BY", "h_*->f").text == "[3, 2, 1]")
            #expect(
                try c.call("SORT", "si", "BY", "h_*->f", "GET", "#", "GET", "n_*", "GET", "h_*->g").text
                    == "[3, three, nil, 2, two, nil, 1, one, a]"
            )
            #expect(try c.call("SORT", "si", "BY", "n_*", "ALPHA").text == "[1, 3, 2]")
            #expect(
                try c.call("SORT", "si", "BY", "n_*") == err("ERR One or more scores can't be converted into double")
            )
            #expect(
                try c.call("SORT", "si", "GET", "n_*", "GET", "missing_*", "GET", "nostar").text
                    == "[one, nil, nil, two, nil, nil, three, nil, nil]"
            )
            // `->` at the end is part of the key name; a second `*` is literal.
            #expect(try c.call("SORT", "si", "BY", "w_*->").text == "[1, 2, 3]")
            #expect(try c.call("SORT", "si", "GET", "n_*->").text == "[nil, nil, nil]")
            #expect(try c.call("SORT", "si", "GET", "h_*->f", "GET", "h_*->").text == "[9, nil, 8, nil, 7, nil]")
            #expect(try c.call("SORT", "si", "GET", "**").text == "[nil, nil, nil]")
            #expect(try c.call("SORT", "si", "GET", "").text == "[nil, nil, nil]")
            #expect(try c.call("SORT", "si", "GET", "*").text == "[nil, nil, nil]")
            #expect(try c.call("SET", "2", "two") == OK)
            #expect(try c.call("SORT", "si", "GET", "*").text == "[nil, two, nil]")
            // A pattern naming a key of another type finds nothing (no WRONGTYPE).
            #expect(try c.call("SORT", "si", "GET", "h_*").text == "[nil, nil, nil]")
            #expect(try c.call("SORT", "si", "GET", "w_*->f").text == "[nil, nil, nil]")
            // ALPHA with BY: elements whose key is missing sort first.
            #expect(try c.call("DEL", "n_2") == int(1))
            #expect(try c.call("SORT", "si", "BY", "n_*", "ALPHA").text == "[2, 1, 3]")
            // A numeric BY with a missing key sorts it as 0.
            #expect(try c.call("SORT", "si", "BY", "w_*", "GET", "#", "GET", "w_*").text == "[2, 5, 1, 10, 3, 30]")
            #expect(try c.call("DEL", "w_2") == int(1))
            #expect(try c.call("SORT", "si", "BY", "w_*").text == "[2, 1, 3]")
        }
    }

    @Test func storeWritesAList() throws {
        try withInProcessServer { server in
            let c = try server.connect()
            try fill(c)
            #expect(try c.call("SORT", "si", "GET", "n_*", "GET", "zz_*", "STORE", "d") == int(6))
            #expect(try c.call("LRANGE", "d", "0", "-1").text == "[one, , two, , three, ]")
            // STORE replaces any type and drops the old deadline.
            #expect(try c.call("SET", "str", "x", "EX", "100") == OK)
            #expect(try c.call("SORT", "l", "STORE", "str") == int(5))
            #expect(try c.call("TYPE", "str") == .simpleString("list"))
            #expect(try c.call("TTL", "str") == int(-1))
            #expect(try c.call("LRANGE", "str", "0", "-1").text == "[-1.5, 1, 2, 3, 10]")
            // The destination may be the source.
            #expect(try c.call("SORT", "l", "DESC", "STORE", "l") == int(5))
            #expect(try c.call("LRANGE", "l", "0", "-1").text == "[10, 3, 2, 1, -1.5]")
            // An empty result deletes the destination.
            #expect(try c.call("SORT", "missing", "STORE", "d") == int(0))
            #expect(try c.call("EXISTS", "d") == int(0))
            #expect(try c.call("SORT", "l", "LIMIT", "0", "0", "STORE", "str") == int(0))
            #expect(try c.call("EXISTS", "str") == int(0))
            // The last STORE wins.
            #expect(try c.call("SORT", "si", "STORE", "a", "STORE", "b") == int(3))
            #expect(try c.call("EXISTS", "a", "b") == int(1))
            #expect(try c.call("LRANGE", "b", "0", "-1").text == "[1, 2, 3]")
        }
    }

    @Test func errors() throws {
        try withInProcessServer { server in
            let c = try server.connect()
            try fill(c)
            #expect(try c.call("SORT") == err("ERR wrong number of arguments for 'sort' command"))
            #expect(try c.call("SORT_RO") == err("ERR wrong number of arguments for 'sort_ro' command"))
            #expect(try c.call("SORT", "str") == WRONGTYPE)
            #expect(try c.call("SORT", "h_1") == WRONGTYPE)
            #expect(try c.call("SORT_RO", "str") == WRONGTYPE)
            #expect(try c.call("SORT", "str", "STORE", "d") == WRONGTYPE)
            // Options are read before the key's type.
            #expect(try c.call("SORT", "str", "foo") == err("ERR syntax error"))
            #expect(try c.call("SORT", "l", "foo") == err("ERR syntax error"))
            #expect(try c.call("SORT", "l", "LIMIT", "x", "1") == err("ERR value is not an integer or out of range"))
            #expect(try c.call("SORT", "l", "LIMIT", "1", "x") == err("ERR value is not an integer or out of range"))
            #expect(try c.call("SORT", "l", "LIMIT", "1") == err("ERR syntax error"))
            #expect(try c.call("SORT", "l", "BY") == err("ERR syntax error"))
            #expect(try c.call("SORT", "l", "GET") == err("ERR syntax error"))
            #expect(try c.call("SORT", "l", "STORE") == err("ERR syntax error"))
            #expect(try c.call("SORT_RO", "l", "STORE", "x") == err("ERR syntax error"))
            #expect(try c.call("EXISTS", "x") == int(0))
        }
    }

    @Test func insideMultiAndWatch() throws {
        try withInProcessServer { server in
            let a = try server.connect()
            let b = try server.connect()
            try fill(a)
            #expect(try a.call("MULTI") == OK)
            #expect(try a.call("RPUSH", "m", "2", "1") == .simpleString("QUEUED"))
            #expect(try a.call("SET", "w_9", "0") == .simpleString("QUEUED"))
            #expect(try a.call("RPUSH", "m", "9") == .simpleString("QUEUED"))
            #expect(try a.call("SORT", "m", "BY", "w_*", "GET", "#", "GET", "w_*") == .simpleString("QUEUED"))
            #expect(try a.call("SORT", "m", "STORE", "md") == .simpleString("QUEUED"))
            #expect(try a.call("LRANGE", "md", "0", "-1") == .simpleString("QUEUED"))
            #expect(try a.call("SORT_RO", "str") == .simpleString("QUEUED"))
            #expect(
                try a.call("EXEC").text
                    == "[2, OK, 3, [9, 0, 2, 5, 1, 10], 3, [1, 2, 9], WRONGTYPE Operation against a key holding the wrong kind of value]"
            )
            // SORT … STORE is a write that WATCH sees.
            #expect(try a.call("WATCH", "md") == OK)
            #expect(try b.call("SORT", "si", "STORE", "md") == int(3))
            #expect(try a.call("MULTI") == OK)
            #expect(try a.call("LLEN", "md") == .simpleString("QUEUED"))
            #expect(try a.call("EXEC") == .nullArray)
            // A SORT that stores nothing over a missing destination writes nothing.
            #expect(try a.call("WATCH", "none") == OK)
            #expect(try b.call("SORT", "missing", "STORE", "none") == int(0))
            #expect(try a.call("MULTI") == OK)
            #expect(try a.call("EXISTS", "none") == .simpleString("QUEUED"))
            #expect(try a.call("EXEC") == .array([int(0)]))
        }
    }

    @Test func resp3NullsAndCommandInfo() throws {
        try withInProcessServer { server in
            let c = try server.connect()
            try fill(c)
            _ = try c.call("HELLO", "3")
            #expect(
                try c.call("SORT", "si", "GET", "n_*", "GET", "x_*", "LIMIT", "0", "1")
                    == .array([.bulk("one"), .null])
            )
            let info = try c.call("COMMAND", "INFO", "sort", "sort_ro")
            #expect(info.text.hasPrefix("[[sort, -2, [write, denyoom, movablekeys], 1, 1, 1,"))
            #expect(info.text.contains("[sort_ro, -2, [readonly, movablekeys], 1, 1, 1,"))
            #expect(try c.call("COMMAND", "GETKEYS", "sort", "a").text == "[a]")
            #expect(try c.call("COMMAND", "GETKEYS", "sort", "a", "STORE", "b").text == "[a, b]")
            #expect(try c.call("COMMAND", "GETKEYS", "sort", "a", "BY", "x", "GET", "y", "STORE", "b").text == "[a, b]")
            #expect(try c.call("COMMAND", "GETKEYS", "sort", "a", "STORE", "b", "STORE", "c").text == "[a, c]")
            #expect(try c.call("COMMAND", "GETKEYS", "sort", "a", "LIMIT", "STORE", "b", "c").text == "[a]")
            #expect(try c.call("COMMAND", "GETKEYS", "sort", "a", "STORE").text == "[a]")
            #expect(try c.call("COMMAND", "GETKEYS", "sort_ro", "a", "STORE", "b").text == "[a]")
            #expect(try c.call("COMMAND", "DOCS", "restore").text.contains("{name: ttl, type: integer}"))
            #expect(try c.call("COMMAND", "DOCS", "sort").text.contains("{name: destination, type: key"))
            #expect(try c.call("COMMAND", "GETKEYS", "dump", "k").text == "[k]")
            #expect(try c.call("COMMAND", "GETKEYS", "restore", "k", "0", "x").text == "[k]")
        }
    }

    @Test func largeInputsStayBounded() throws {
        try withInProcessServer { server in
            let c = try server.connect()
            let values = (0..<2000).map { String((1999 - $0) * 7 % 2003) }
            #expect(try c.call(["RPUSH", "big"] + values) == int(2000))
            let sorted = try c.call("SORT", "big", "LIMIT", "1990", "9223372036854775807")
            #expect(
                sorted.text == "["
                    + values.map { Int($0)! }.sorted().suffix(10).map(String.init).joined(separator: ", ") + "]"
            )
            #expect(try c.call("SORT", "big", "BY", "nosort", "DESC", "LIMIT", "1999", "5").text == "[\(values[0])]")
            #expect(try c.call("SORT", "big", "BY", "k_*_*->->", "GET", "#->x", "LIMIT", "0", "1").text == "[nil]")
            #expect(try c.call("ZADD", "zz", "1", "a", "2", "b") == int(2))
            #expect(try c.call("SORT", "zz", "BY", "nosort", "DESC", "LIMIT", "-3", "-7").text == "[b, a]")
        }
    }
}
