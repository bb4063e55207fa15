import NIOCore
import RESP
import Testing

@testable import KVSServer

let WRONGTYPE = err("WRONGTYPE Operation against a key holding the wrong kind of value")

/// The pairs of an HGETALL reply (RESP2 array or RESP3 map), sorted, for order-free checks.
func sortedPairs(_ reply: RESPValue) -> [String] {
    switch reply {
    case .array(let items):
        return stride(from: 0, to: items.count, by: 2).map { "\(items[$0].text)=\(items[$0 + 1].text)" }.sorted()
    case .map(let pairs):
        return pairs.map { "\($0.key.text)=\($0.value.text)" }.sorted()
    default:
        return []
    }
}

/// The replies here are Redis 7.0.15's, asked of a real server.
@Suite("Hash commands")
struct HashCommandsTests {
    @Test func setGetAndDelete() throws {
        try withInProcessServer { server in
            let c = try server.connect()
            #expect(try c.call("HSET", "h", "f", "v", "g", "w") == int(2))
            #expect(try c.call("HSET", "h", "f", "v2") == int(0))
            #expect(try c.call("HGET", "h", "f") == bulk("v2"))
            #expect(try c.call("HGET", "h", "nope") == NIL)
            #expect(try c.call("HGET", "nokey", "f") == NIL)
            #expect(try c.call("HMSET", "h", "a", "1", "b", "2") == OK)
            #expect(try c.call("HSETNX", "h", "a", "x") == int(0))
            #expect(try c.call("HSETNX", "h", "n", "1") == int(1))
            #expect(try c.call("HLEN", "h") == int(5))
            #expect(try c.call("HLEN", "nokey") == int(0))
            #expect(try c.call("HEXISTS", "h", "a") == int(1))
            #expect(try c.call("HEXISTS", "h", "zz") == int(0))
            #expect(try c.call("HSTRLEN", "h", "f") == int(2))
            #expect(try c.call("HSTRLEN", "h", "zz") == int(0))
            #expect(try c.call("HMGET", "h", "f", "zz") == .array([bulk("v2"), NIL]))
            #expect(try c.call("HMGET", "nokey", "a") == .array([NIL]))
            // A listpack keeps insertion order, as Redis's does.
            #expect(try c.call("HKEYS", "h") == .array(["f", "g", "a", "b", "n"].map(bulk)))
            #expect(try c.call("HVALS", "h") == .array(["v2", "w", "1", "2", "1"].map(bulk)))
            #expect(
                try c.call("HGETALL", "h")
                    == .array(["f", "v2", "g", "w", "a", "1", "b", "2", "n", "1"].map(bulk))
            )
            #expect(try c.call("HDEL", "h", "zz", "f", "g", "a", "b") == int(4))
            #expect(try c.call("TYPE", "h") == .simpleString("hash"))
            #expect(try c.call("HDEL", "h", "n") == int(1))
            #expect(try c.call("EXISTS", "h") == int(0))  // the last field takes the key
            #expect(try c.call("TYPE", "h") == .simpleString("none"))
            #expect(try c.call("HDEL", "h", "n") == int(0))
            #expect(try c.call("HSETNX", "h", "a", "1") == int(1))
            #expect(try c.call("HGETALL", "nokey") == .array([]))
        }
    }

    @Test func arityErrors() throws {
        try withInProcessServer { server in
            let c = try server.connect()
            #expect(try c.call("HSET", "h") == err("ERR wrong number of arguments for 'hset' command"))
            #expect(try c.call("HSET", "h", "f") == err("ERR wrong number of arguments for 'hset' command"))
            #expect(try c.call("HSET", "h", "f", "v", "g") == err("ERR wrong number of arguments for 'hset' command"))
            #expect(try c.call("HMSET", "h", "f", "v", "g") == err("ERR wrong number of arguments for 'hmset' command"))
            #expect(try c.call("HDEL", "h") == err("ERR wrong number of arguments for 'hdel' command"))
        }
    }

    @Test func resp3RepliesAMap() throws {
        try withInProcessServer { server in
            let c = try server.connect()
            _ = try c.call("HELLO", "3")
            #expect(try c.call("HSET", "h", "f", "v") == int(1))
            #expect(try c.call("HGETALL", "h") == .map([(key: bulk("f"), value: bulk("v"))]))
            #expect(try c.call("HGETALL", "nokey") == .map([]))
            #expect(try c.call("HGET", "h", "x") == .null)
            #expect(
                try c.call("HRANDFIELD", "h", "-2", "WITHVALUES")
                    == .array([.array([bulk("f"), bulk("v")]), .array([bulk("f"), bulk("v")])])
            )
        }
    }

    @Test func wrongTypeEverywhere() throws {
        try withInProcessServer { server in
            let c = try server.connect()
            #expect(try c.call("HSET", "h", "f", "v") == int(1))
            #expect(try c.call("SET", "s", "v") == OK)
            for command in [
                ["GET", "h"], ["SET", "h", "x", "GET"], ["GETSET", "h", "x"], ["GETDEL", "h"], ["GETEX", "h"],
                ["GETEX", "h", "PX", "100"], ["GETEX", "h", "EX", "abc"], ["GETEX", "h", "PERSIST"],
                ["APPEND", "h", "x"], ["STRLEN", "h"], ["GETRANGE", "h", "0", "1"], ["SUBSTR", "h", "0", "1"],
                ["SETRANGE", "h", "0", "x"], ["SETRANGE", "h", "0", ""], ["INCR", "h"], ["DECRBY", "h", "1"],
                ["INCRBYFLOAT", "h", "1"], ["INCRBYFLOAT", "h", "abc"],
                ["HSET", "s", "f", "v"], ["HGET", "s", "f"], ["HGETALL", "s"], ["HKEYS", "s"], ["HVALS", "s"],
                ["HSTRLEN", "s", "a"], ["HEXISTS", "s", "a"], ["HRANDFIELD", "s"], ["HRANDFIELD", "s", "0"],
                ["HMGET", "s", "a"], ["HLEN", "s"], ["HDEL", "s", "a"], ["HSETNX", "s", "a", "b"],
                ["HINCRBY", "s", "a", "1"], ["HINCRBYFLOAT", "s", "a", "1"], ["HSCAN", "s", "0"],
                ["HMSET", "s", "a", "b"],
            ] {
                #expect(try c.call(command) == WRONGTYPE, "\(command)")
            }
            #expect(try c.call("MGET", "h", "s") == .array([NIL, bulk("v")]))
            #expect(try c.call("SETNX", "h", "1") == int(0))
            #expect(try c.call("MSETNX", "h", "1", "z", "2") == int(0))
            #expect(try c.call("LCS", "h", "s") == err("ERR The specified keys must contain string values"))
            #expect(try c.call("INCRBY", "h", "abc") == err("ERR value is not an integer or out of range"))
            #expect(try c.call("SETRANGE", "h", "-1", "x") == err("ERR offset is out of range"))
            #expect(try c.call("HGET", "h", "f") == bulk("v"))  // none of the above changed it
            #expect(try c.call("SET", "h", "x") == OK)  // SET overwrites any type
            #expect(try c.call("GET", "h") == bulk("x"))
        }
    }

    @Test func counters() throws {
        try withInProcessServer { server in
            let c = try server.connect()
            #expect(try c.call("HINCRBY", "h", "a", "5") == int(5))
            #expect(try c.call("HINCRBY", "h", "a", "-7") == int(-2))
            #expect(try c.call("HINCRBY", "h", "a", "abc") == err("ERR value is not an integer or out of range"))
            #expect(try c.call("HSET", "h", "big", "9223372036854775807", "str", "abc") == int(2))
            #expect(try c.call("HINCRBY", "h", "big", "1") == err("ERR increment or decrement would overflow"))
            #expect(try c.call("HINCRBY", "h", "str", "1") == err("ERR hash value is not an integer"))
            #expect(try c.call("HINCRBYFLOAT", "h", "str", "1") == err("ERR hash value is not a float"))
            #expect(try c.call("HINCRBYFLOAT", "h", "a", "1.5") == bulk("-0.5"))
            #expect(try c.call("HINCRBYFLOAT", "h", "a", "nan") == err("ERR value is not a valid float"))
            #expect(try c.call("HINCRBYFLOAT", "h", "a", "inf") == err("ERR value is NaN or Infinity"))
            #expect(try c.call("HINCRBYFLOAT", "h", "x", "3.0e3") == bulk("3000"))
            #expect(try c.call("HINCRBYFLOAT", "h", "y", "0.1") == bulk("0.1"))
            #expect(try c.call("HINCRBYFLOAT", "h", "y", "0.2") == bulk("0.3"))
            #expect(try c.call("HGET", "h", "y") == bulk("0.3"))
            #expect(try c.call("HINCRBY", "new", "f", "abc") == err("ERR value is not an integer or out of range"))
            #expect(try c.call("EXISTS", "new") == int(0))  // a refused first write creates nothing
            #expect(try c.call("HINCRBYFLOAT", "h", "huge", "1e4932") != NIL)
            #expect(
                try c.call("HINCRBYFLOAT", "h", "huge", "1e4932") == err("ERR increment would produce NaN or Infinity")
            )
        }
    }

    @Test func randomFields() throws {
        try withInProcessServer { server in
            let c = try server.connect()
            #expect(try c.call("HRANDFIELD", "nokey") == NIL)
            #expect(try c.call("HRANDFIELD", "nokey", "5") == .array([]))
            #expect(try c.call("HSET", "h", "a", "1", "b", "2", "c", "3") == int(3))
            #expect(try c.call("HRANDFIELD", "h", "0") == .array([]))
            #expect(try c.call("HRANDFIELD", "h", "abc") == err("ERR value is not an integer or out of range"))
            #expect(try c.call("HRANDFIELD", "h", "1", "WITHVALUES", "x") == err("ERR syntax error"))
            #expect(try c.call("HRANDFIELD", "h", "1", "foo") == err("ERR syntax error"))
            #expect(
                try c.call("HRANDFIELD", "h", "-9223372036854775808")
                    == err(
                        "ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807"
                    )
            )
            #expect(
                try c.call("HRANDFIELD", "h", "-4611686018427387904", "WITHVALUES") == err("ERR value is out of range")
            )
            // Past the reply bound: refused (Redis would start sending 2^60 elements).
            #expect(try c.call("HRANDFIELD", "h", "-1152921504606846976") == err("ERR value is out of range"))
            guard case .bulkString = try c.call("HRANDFIELD", "h") else {
                Issue.record("HRANDFIELD without a count answers a bulk string")
                return
            }
            guard case .array(let five) = try c.call("HRANDFIELD", "h", "-5", "WITHVALUES") else { return }
            #expect(five.count == 10)
            guard case .array(let two) = try c.call("HRANDFIELD", "h", "2") else { return }
            #expect(Set(two.map(\.text)).count == 2)
            #expect(sortedPairs(try c.call("HRANDFIELD", "h", "10", "WITHVALUES")) == ["a=1", "b=2", "c=3"])
        }
    }

    @Test func scan() throws {
        try withInProcessServer { server in
            let c = try server.connect()
            #expect(try c.call("HSCAN", "nokey", "0") == .array([bulk("0"), .array([])]))
            #expect(try c.call("HSCAN", "nokey", "0", "COUNT", "0") == .array([bulk("0"), .array([])]))
            #expect(try c.call("HSET", "h", "a", "1", "ab", "2", "b", "3") == int(3))
            #expect(try c.call("HSCAN", "h", "abc") == err("ERR invalid cursor"))
            #expect(try c.call("HSCAN", "h", "0", "COUNT", "0") == err("ERR syntax error"))
            #expect(try c.call("HSCAN", "h", "0", "NOVALUES") == err("ERR syntax error"))
            #expect(try c.call("HSCAN", "h", "0", "TYPE", "hash") == err("ERR syntax error"))
            #expect(
                try c.call("HSCAN", "h", "0", "MATCH", "a*")
                    == .array([bulk("0"), .array(["a", "1", "ab", "2"].map(bulk))])
            )
        }
    }

    @Test func encodingsFollowTheLimits() throws {
        try withInProcessServer { server in
            let c = try server.connect()
            #expect(try c.call("HSET", "small", "f", "v", "g", "w") == int(2))
            #expect(try c.call("OBJECT", "ENCODING", "small") == bulk("listpack"))
            #expect(try c.call("HSET", "long", "f", String(repeating: "v", count: 65)) == int(1))
            #expect(try c.call("OBJECT", "ENCODING", "long") == bulk("hashtable"))
            #expect(try c.call("HINCRBYFLOAT", "float", "a", "1e100") != NIL)
            #expect(try c.call("OBJECT", "ENCODING", "float") == bulk("hashtable"))
            #expect(try c.call("CONFIG", "SET", "hash-max-ziplist-entries", "2") == OK)
            #expect(
                try c.call("CONFIG", "GET", "hash-max-listpack-entries")
                    == .array([bulk("hash-max-listpack-entries"), bulk("2")])
            )
            #expect(try c.call("HSET", "many", "a", "1", "b", "2") == int(2))
            #expect(try c.call("OBJECT", "ENCODING", "many") == bulk("listpack"))
            #expect(try c.call("HSET", "many", "c", "3") == int(1))
            #expect(try c.call("OBJECT", "ENCODING", "many") == bulk("hashtable"))
            #expect(try c.call("HDEL", "many", "a", "b") == int(2))
            #expect(try c.call("OBJECT", "ENCODING", "many") == bulk("hashtable"))  // never back
            #expect(
                try c.call("CONFIG", "SET", "hash-max-listpack-entries", "-1")
                    == err(
                        "ERR CONFIG SET failed (possibly related to argument 'hash-max-listpack-entries') - argument must be between 0 and 9223372036854775807 inclusive"
                    )
            )
            #expect(try c.call("CONFIG", "SET", "hash-max-listpack-value", "1kb") == OK)
            #expect(
                try c.call("CONFIG", "GET", "hash-max-ziplist-value")
                    == .array([bulk("hash-max-ziplist-value"), bulk("1024")])
            )
            // A large hash: fields, values, deletions, counters stay right in the table.
            for i in 0..<300 { _ = try c.call("HSET", "table", "f\(i)", "\(i)") }
            #expect(try c.call("HLEN", "table") == int(300))
            #expect(try c.call("HGET", "table", "f299") == bulk("299"))
            #expect(try c.call("HINCRBY", "table", "f10", "5") == int(15))
            #expect(try c.call("HDEL", "table", "f0", "f1") == int(2))
            #expect(try c.call("HLEN", "table") == int(298))
            for _ in 0..<20 {
                #expect(try c.call("HRANDFIELD", "table").text.hasPrefix("f"))
                #expect(["f", "g"].contains(try c.call("HRANDFIELD", "small").text))
            }
            // HSCAN on a table resumes from its cursor: several steps, each about COUNT
            // pairs, together every field once or more.
            var cursor = "0"
            var steps = 0
            var fields: Set<String> = []
            repeat {
                guard case .array(let reply) = try c.call("HSCAN", "table", cursor, "COUNT", "10"), reply.count == 2,
                    case .array(let pairs) = reply[1]
                else {
                    Issue.record("HSCAN answers an array")
                    return
                }
                cursor = reply[0].text
                for i in stride(from: 0, to: pairs.count, by: 2) { fields.insert(pairs[i].text) }
                steps += 1
            } while cursor != "0" && steps < 10_000
            #expect(fields.count == 298)
            #expect(steps > 10)
            // MATCH filters each step; the cursor still goes through every bucket.
            let matched = try c.call("HSCAN", "table", "0", "MATCH", "f29?", "COUNT", "1000")
            #expect(matched.text.hasPrefix("[0, ["))
            if case .array(let reply) = matched, case .array(let pairs) = reply[1] { #expect(pairs.count == 20) }
        }
    }

    @Test func keyCommandsOnHashes() throws {
        try withInProcessServer { server in
            let c = try server.connect()
            #expect(try c.call("HSET", "h", "f", "v") == int(1))
            #expect(try c.call("SET", "s", "v") == OK)
            #expect(try c.call("COPY", "h", "h2") == int(1))
            #expect(try c.call("HSET", "h2", "g", "w") == int(1))
            #expect(try c.call("HLEN", "h") == int(1))  // the copy is its own
            #expect(try c.call("RENAME", "h2", "h3") == OK)
            #expect(try c.call("HGET", "h3", "g") == bulk("w"))
            #expect(try c.call("EXPIRE", "h3", "100") == int(1))
            #expect(try c.call("HSET", "h3", "x", "y") == int(1))
            #expect(try c.call("TTL", "h3") != int(-1))  // a field write keeps the TTL
            #expect(try c.call("MOVE", "h3", "1") == int(1))
            #expect(try c.call("SELECT", "1") == OK)
            #expect(try c.call("HLEN", "h3") == int(3))
            #expect(try c.call("SELECT", "0") == OK)
            #expect(
                try c.call("SCAN", "0", "TYPE", "hash", "COUNT", "1000") == .array([bulk("0"), .array([bulk("h")])])
            )
            #expect(
                try c.call("SCAN", "0", "TYPE", "string", "COUNT", "1000") == .array([bulk("0"), .array([bulk("s")])])
            )
            #expect(try c.call("SCAN", "0", "TYPE", "foo", "COUNT", "1000") == .array([bulk("0"), .array([])]))
            guard case .integer(let usage) = try c.call("MEMORY", "USAGE", "h") else {
                Issue.record("MEMORY USAGE answers an integer")
                return
            }
            #expect(usage > 32 && usage < 1024)
            #expect(try c.call("DEL", "h") == int(1))
            #expect(try c.call("EXISTS", "h") == int(0))
        }
    }

    @Test func watchSeesAFieldWrite() throws {
        try withInProcessServer { server in
            let a = try server.connect()
            let b = try server.connect()
            #expect(try a.call("HSET", "h", "f", "v") == int(1))
            #expect(try a.call("WATCH", "h") == OK)
            #expect(try b.call("HDEL", "h", "nope") == int(0))  // no change: the watch holds
            #expect(try a.call("MULTI") == OK)
            #expect(try a.call("HGET", "h", "f") == .simpleString("QUEUED"))
            #expect(try a.call("EXEC") == .array([bulk("v")]))
            #expect(try a.call("WATCH", "h") == OK)
            #expect(try b.call("HSET", "h", "g", "w") == int(1))
            #expect(try a.call("MULTI") == OK)
            #expect(try a.call("HGET", "h", "f") == .simpleString("QUEUED"))
            #expect(try a.call("EXEC") == .nullArray)
            // Inside a transaction hashes read and write as outside it.
            #expect(try a.call("MULTI") == OK)
            #expect(try a.call("HSET", "h", "t", "1") == .simpleString("QUEUED"))
            #expect(try a.call("HINCRBY", "h", "t", "2") == .simpleString("QUEUED"))
            #expect(try a.call("HDEL", "h", "f") == .simpleString("QUEUED"))
            #expect(try a.call("HLEN", "h") == .simpleString("QUEUED"))
            #expect(try a.call("GET", "h") == .simpleString("QUEUED"))
            #expect(try a.call("EXEC") == .array([int(1), int(3), int(1), int(2), WRONGTYPE]))
        }
    }
}
