import KVS
import NIOCore
import RESP
import Testing

@testable import KVSServer

/// The replies here are Redis 7.0.15's, asked of a real server (OBJECT ENCODING follows
/// Redis 7.2's listpack and quicklist; see docs/design/server-value-types.md).
@Suite("List commands")
struct ListCommandsTests {
    func bulks(_ items: [String]) -> RESPValue { .array(items.map(bulk)) }

    @Test func pushesPopsAndRanges() throws {
        try withInProcessServer { server in
            let c = try server.connect()
            #expect(try c.call("RPUSH", "l", "a", "b", "c") == int(3))
            #expect(try c.call("LPUSH", "l", "x", "y") == int(5))
            #expect(try c.call("LRANGE", "l", "0", "-1") == bulks(["y", "x", "a", "b", "c"]))
            #expect(try c.call("LRANGE", "l", "-2", "100") == bulks(["b", "c"]))
            #expect(try c.call("LRANGE", "l", "3", "1") == bulks([]))
            #expect(try c.call("LRANGE", "l", "-9223372036854775808", "0") == bulks(["y"]))
            #expect(try c.call("LRANGE", "nokey", "0", "-1") == bulks([]))
            #expect(try c.call("LLEN", "l") == int(5))
            #expect(try c.call("LLEN", "nokey") == int(0))
            #expect(try c.call("LINDEX", "l", "-1") == bulk("c"))
            #expect(try c.call("LINDEX", "l", "5") == NIL)
            #expect(try c.call("LINDEX", "l", "x") == err("ERR value is not an integer or out of range"))
            #expect(try c.call("LINDEX", "nokey", "x") == NIL)  // the key is looked up first
            #expect(try c.call("LPUSHX", "nokey", "a") == int(0))
            #expect(try c.call("RPUSHX", "l", "z") == int(6))
            #expect(try c.call("EXISTS", "nokey") == int(0))
            #expect(try c.call("LPOP", "l") == bulk("y"))
            #expect(try c.call("RPOP", "l") == bulk("z"))
            #expect(try c.call("LPOP", "l", "2") == bulks(["x", "a"]))
            #expect(try c.call("RPOP", "l", "0") == bulks([]))
            #expect(try c.call("RPOP", "l", "10") == bulks(["c", "b"]))
            #expect(try c.call("EXISTS", "l") == int(0))  // the last element takes the key
            #expect(try c.call("LPOP", "l") == NIL)
            #expect(try c.call("LPOP", "l", "0") == .nullArray)
            #expect(try c.call("LPOP", "l", "-1") == err("ERR value is out of range, must be positive"))
            #expect(try c.call("LPOP", "l", "1", "2") == err("ERR wrong number of arguments for 'lpop' command"))
            #expect(try c.call("TYPE", "nokey") == .simpleString("none"))
            #expect(try c.call("RPUSH", "t", "v") == int(1))
            #expect(try c.call("TYPE", "t") == .simpleString("list"))
        }
    }

    @Test func setInsertRemoveTrim() throws {
        try withInProcessServer { server in
            let c = try server.connect()
            #expect(try c.call("RPUSH", "l", "a", "b", "a", "c", "a") == int(5))
            #expect(try c.call("LSET", "l", "1", "B") == OK)
            #expect(try c.call("LSET", "l", "-1", "A") == OK)
            #expect(try c.call("LSET", "l", "5", "x") == err("ERR index out of range"))
            #expect(try c.call("LSET", "nokey", "x", "x") == err("ERR no such key"))
            #expect(try c.call("LSET", "l", "x", "x") == err("ERR value is not an integer or out of range"))
            #expect(try c.call("LINSERT", "l", "BEFORE", "c", "1") == int(6))
            #expect(try c.call("LINSERT", "l", "after", "c", "2") == int(7))
            #expect(try c.call("LINSERT", "l", "after", "zz", "2") == int(-1))
            #expect(try c.call("LINSERT", "nokey", "after", "zz", "2") == int(0))
            #expect(try c.call("LINSERT", "l", "middle", "c", "2") == err("ERR syntax error"))
            #expect(try c.call("LRANGE", "l", "0", "-1") == bulks(["a", "B", "a", "1", "c", "2", "A"]))
            #expect(try c.call("RPUSH", "l", "a", "a") == int(9))
            #expect(try c.call("LREM", "l", "-2", "a") == int(2))
            #expect(try c.call("LRANGE", "l", "0", "-1") == bulks(["a", "B", "a", "1", "c", "2", "A"]))
            #expect(try c.call("LREM", "l", "1", "a") == int(1))
            #expect(try c.call("LRANGE", "l", "0", "-1") == bulks(["B", "a", "1", "c", "2", "A"]))
            #expect(try c.call("LREM", "l", "0", "nope") == int(0))
            #expect(try c.call("LREM", "nokey", "0", "a") == int(0))
            #expect(try c.call("LTRIM", "l", "1", "-2") == OK)
            #expect(try c.call("LRANGE", "l", "0", "-1") == bulks(["a", "1", "c", "2"]))
            #expect(try c.call("LTRIM", "nokey", "0", "1") == OK)
            #expect(try c.call("LTRIM", "l", "5", "1") == OK)
            #expect(try c.call("EXISTS", "l") == int(0))
            #expect(try c.call("RPUSH", "l", "a", "a", "a") == int(3))
            #expect(try c.call("LREM", "l", "-9223372036854775808", "a") == int(3))
            #expect(try c.call("EXISTS", "l") == int(0))
        }
    }

    @Test func lposOptions() throws {
        try withInProcessServer { server in
            let c = try server.connect()
            #expect(try c.call("RPUSH", "l", "a", "b", "c", "1", "2", "3", "c", "c") == int(8))
            #expect(try c.call("LPOS", "l", "c") == int(2))
            #expect(try c.call("LPOS", "l", "c", "RANK", "2") == int(6))
            #expect(try c.call("LPOS", "l", "c", "RANK", "-1") == int(7))
            #expect(try c.call("LPOS", "l", "c", "COUNT", "0") == .array([int(2), int(6), int(7)]))
            #expect(try c.call("LPOS", "l", "c", "COUNT", "2", "RANK", "-1") == .array([int(7), int(6)]))
            #expect(try c.call("LPOS", "l", "c", "COUNT", "0", "MAXLEN", "7") == .array([int(2), int(6)]))
            #expect(try c.call("LPOS", "l", "zz") == NIL)
            #expect(try c.call("LPOS", "l", "zz", "COUNT", "1") == .array([]))
            #expect(try c.call("LPOS", "nokey", "a", "COUNT", "1") == .array([]))
            #expect(try c.call("LPOS", "nokey", "a") == NIL)
            #expect(
                try c.call("LPOS", "l", "c", "RANK", "0")
                    == err(
                        "ERR RANK can't be zero: use 1 to start from the first match, 2 from the second ... or use negative to start from the end of the list"
                    )
            )
            #expect(
                try c.call("LPOS", "l", "c", "RANK", "-9223372036854775808")
                    == err(
                        "ERR value is out of range, value must between -9223372036854775807 and 9223372036854775807"
                    )
            )
            #expect(try c.call("LPOS", "l", "c", "COUNT", "-1") == err("ERR COUNT can't be negative"))
            #expect(try c.call("LPOS", "l", "c", "MAXLEN", "x") == err("ERR MAXLEN can't be negative"))
            #expect(try c.call("LPOS", "l", "c", "RANK") == err("ERR syntax error"))
        }
    }

    @Test func lmpopAndMoves() throws {
        try withInProcessServer { server in
            let c = try server.connect()
            #expect(try c.call("RPUSH", "b", "1", "2", "3") == int(3))
            #expect(try c.call("LMPOP", "2", "a", "b", "LEFT") == .array([bulk("b"), bulks(["1"])]))
            #expect(
                try c.call("LMPOP", "2", "a", "b", "right", "COUNT", "5") == .array([bulk("b"), bulks(["3", "2"])])
            )
            #expect(try c.call("LMPOP", "2", "a", "b", "LEFT") == .nullArray)
            #expect(try c.call("LMPOP", "0", "a", "LEFT") == err("ERR numkeys should be greater than 0"))
            #expect(try c.call("LMPOP", "3", "a", "LEFT") == err("ERR syntax error"))
            #expect(try c.call("LMPOP", "1", "a", "LEFT", "COUNT", "0") == err("ERR count should be greater than 0"))
            #expect(try c.call("LMPOP", "1", "a", "LEFT", "COUNT", "1", "COUNT", "1") == err("ERR syntax error"))
            #expect(try c.call("RPUSH", "src", "a", "b", "c") == int(3))
            #expect(try c.call("LMOVE", "src", "dst", "LEFT", "RIGHT") == bulk("a"))
            #expect(try c.call("RPOPLPUSH", "src", "dst") == bulk("c"))
            #expect(try c.call("LRANGE", "dst", "0", "-1") == bulks(["c", "a"]))
            #expect(try c.call("LMOVE", "dst", "dst", "LEFT", "RIGHT") == bulk("c"))  // a rotation
            #expect(try c.call("LRANGE", "dst", "0", "-1") == bulks(["a", "c"]))
            #expect(try c.call("EXPIRE", "src", "100") == int(1))
            #expect(try c.call("LMOVE", "src", "src", "LEFT", "LEFT") == bulk("b"))
            #expect(try c.call("TTL", "src") != int(-2))  // one element rotated keeps its key
            #expect(try c.call("LMOVE", "src", "dst", "up", "LEFT") == err("ERR syntax error"))
            #expect(try c.call("LMOVE", "nokey", "dst", "LEFT", "LEFT") == NIL)
            #expect(try c.call("RPOPLPUSH", "src", "new") == bulk("b"))
            #expect(try c.call("EXISTS", "src") == int(0))
            #expect(try c.call("LRANGE", "new", "0", "-1") == bulks(["b"]))
        }
    }

    @Test func wrongTypeEverywhere() throws {
        try withInProcessServer { server in
            let c = try server.connect()
            #expect(try c.call("SET", "s", "v") == OK)
            #expect(try c.call("RPUSH", "l", "v") == int(1))
            for command in [
                ["LPUSH", "s", "a"], ["RPUSH", "s", "a"], ["LPUSHX", "s", "a"], ["RPUSHX", "s", "a"], ["LPOP", "s"],
                ["RPOP", "s", "0"], ["LLEN", "s"], ["LRANGE", "s", "0", "1"], ["LINDEX", "s", "0"],
                ["LINDEX", "s", "x"],
                ["LSET", "s", "0", "a"], ["LSET", "s", "x", "a"], ["LINSERT", "s", "BEFORE", "a", "b"],
                ["LREM", "s", "0", "a"], ["LTRIM", "s", "0", "1"], ["LPOS", "s", "a"],
                ["LMPOP", "2", "nokey", "s", "LEFT"],
                ["LMOVE", "s", "l", "LEFT", "LEFT"], ["LMOVE", "l", "s", "LEFT", "LEFT"], ["RPOPLPUSH", "l", "s"],
                ["GET", "l"], ["APPEND", "l", "x"], ["HGET", "l", "f"], ["HSET", "l", "f", "v"], ["INCR", "l"],
            ] {
                #expect(try c.call(command) == WRONGTYPE, "\(command)")
            }
            #expect(try c.call("LRANGE", "l", "0", "-1") == bulks(["v"]))  // nothing moved
            #expect(try c.call("MGET", "l") == .array([NIL]))
            #expect(try c.call("SET", "l", "x") == OK)  // SET overwrites a list
        }
    }

    @Test func resp3Replies() throws {
        try withInProcessServer { server in
            let c = try server.connect()
            _ = try c.call("HELLO", "3")
            #expect(try c.call("LPOP", "nokey") == .null)
            #expect(try c.call("LPOP", "nokey", "2") == .null)
            #expect(try c.call("LMPOP", "1", "nokey", "LEFT") == .null)
            #expect(try c.call("LINDEX", "nokey", "0") == .null)
            #expect(try c.call("LPOS", "nokey", "a") == .null)
            #expect(try c.call("RPUSH", "l", "a") == int(1))
            #expect(try c.call("LPOP", "l", "0") == .array([]))
            #expect(try c.call("LMOVE", "nokey", "l", "LEFT", "LEFT") == .null)
        }
    }

    @Test func encodingsFollowTheLimit() throws {
        try withInProcessServer { server in
            let c = try server.connect()
            #expect(try c.call("RPUSH", "l", "a", "b") == int(2))
            #expect(try c.call("OBJECT", "ENCODING", "l") == bulk("listpack"))
            #expect(try c.call("RPUSH", "big", String(repeating: "x", count: 9000)) == int(1))
            #expect(try c.call("OBJECT", "ENCODING", "big") == bulk("quicklist"))
            #expect(
                try c.call("CONFIG", "GET", "list-max-listpack-size") == bulks(["list-max-listpack-size", "-2"])
            )
            #expect(try c.call("CONFIG", "SET", "list-max-ziplist-size", "4") == OK)
            #expect(try c.call("CONFIG", "GET", "list-max-listpack-size") == bulks(["list-max-listpack-size", "4"]))
            #expect(try c.call("RPUSH", "n", "1", "2", "3", "4") == int(4))
            #expect(try c.call("OBJECT", "ENCODING", "n") == bulk("listpack"))
            #expect(try c.call("RPUSH", "n", "5") == int(5))
            #expect(try c.call("OBJECT", "ENCODING", "n") == bulk("quicklist"))
            #expect(try c.call("RPOP", "n", "2") == bulks(["5", "4"]))
            #expect(try c.call("OBJECT", "ENCODING", "n") == bulk("quicklist"))  // 3 > 4 / 2
            #expect(try c.call("RPOP", "n") == bulk("3"))
            #expect(try c.call("OBJECT", "ENCODING", "n") == bulk("listpack"))  // back under half
            #expect(try c.call("CONFIG", "SET", "list-compress-depth", "1") == OK)
            #expect(try c.call("CONFIG", "GET", "list-compress-depth") == bulks(["list-compress-depth", "1"]))
            // A long quicklist of small nodes: every position reads back, from either end.
            for i in 0..<100 { _ = try c.call("RPUSH", "q", "\(i)") }
            for i in 0..<50 { _ = try c.call("LPUSH", "q", "-\(i + 1)") }
            #expect(try c.call("LLEN", "q") == int(150))
            for i in stride(from: 0, to: 150, by: 7) {
                #expect(try c.call("LINDEX", "q", "\(i)") == bulk("\(i - 50)"))
                #expect(try c.call("LINDEX", "q", "\(i - 150)") == bulk("\(i - 50)"))
            }
            #expect(try c.call("LRANGE", "q", "48", "52") == bulks(["-2", "-1", "0", "1", "2"]))
            #expect(try c.call("LSET", "q", "75", "x") == OK)
            #expect(try c.call("LINSERT", "q", "BEFORE", "x", "y") == int(151))
            #expect(try c.call("LRANGE", "q", "74", "77") == bulks(["24", "y", "x", "26"]))
            #expect(try c.call("LREM", "q", "0", "y") == int(1))
            #expect(try c.call("LTRIM", "q", "10", "-11") == OK)
            #expect(try c.call("LLEN", "q") == int(130))
            #expect(try c.call("LINDEX", "q", "0") == bulk("-40"))
            #expect(try c.call("LINDEX", "q", "-1") == bulk("89"))
            #expect(try c.call("LPOS", "q", "89") == int(129))
            #expect(try c.call("LPOP", "q", "129") != NIL)
            #expect(try c.call("LRANGE", "q", "0", "-1") == bulks(["89"]))
            #expect(try c.call("OBJECT", "ENCODING", "q") == bulk("listpack"))
        }
    }

    @Test func transactionsAndWatch() throws {
        try withInProcessServer { server in
            let a = try server.connect()
            let b = try server.connect()
            #expect(try a.call("RPUSH", "l", "a", "b") == int(2))
            #expect(try a.call("WATCH", "l") == OK)
            #expect(try b.call("LREM", "l", "0", "nope") == int(0))  // no change: the watch holds
            #expect(try a.call("MULTI") == OK)
            #expect(try a.call("LLEN", "l") == .simpleString("QUEUED"))
            #expect(try a.call("EXEC") == .array([int(2)]))
            #expect(try a.call("WATCH", "l") == OK)
            #expect(try b.call("RPUSH", "l", "c") == int(3))
            #expect(try a.call("MULTI") == OK)
            #expect(try a.call("LLEN", "l") == .simpleString("QUEUED"))
            #expect(try a.call("EXEC") == .nullArray)
            #expect(try a.call("MULTI") == OK)
            #expect(try a.call("RPUSH", "l", "d") == .simpleString("QUEUED"))
            #expect(try a.call("LPOP", "l", "2") == .simpleString("QUEUED"))
            #expect(try a.call("LMOVE", "l", "m", "LEFT", "LEFT") == .simpleString("QUEUED"))
            #expect(try a.call("LMPOP", "2", "x", "m", "LEFT") == .simpleString("QUEUED"))
            #expect(try a.call("LRANGE", "l", "0", "-1") == .simpleString("QUEUED"))
            #expect(try a.call("GET", "l") == .simpleString("QUEUED"))
            #expect(
                try a.call("EXEC")
                    == .array([
                        int(4), bulks(["a", "b"]), bulk("c"), .array([bulk("m"), bulks(["c"])]), bulks(["d"]),
                        WRONGTYPE,
                    ])
            )
        }
    }

    @Test func commandInfoAsRedis() throws {
        try withInProcessServer { server in
            let c = try server.connect()
            // Name, arity, flags, first key, last key, step: Redis 7.0.15's (without denyoom,
            // which the table does not model).
            let expected: [String: (Int64, [String], Int64, Int64, Int64)] = [
                "lpush": (-3, ["write", "denyoom", "fast"], 1, 1, 1), "rpop": (-2, ["write", "fast"], 1, 1, 1),
                "llen": (2, ["readonly", "fast"], 1, 1, 1), "lrange": (4, ["readonly"], 1, 1, 1),
                "lpos": (-3, ["readonly"], 1, 1, 1), "lset": (4, ["write", "denyoom"], 1, 1, 1),
                "lmove": (5, ["write", "denyoom"], 1, 2, 1), "rpoplpush": (3, ["write", "denyoom"], 1, 2, 1),
                "lmpop": (-4, ["write"], 0, 0, 0),
            ]
            for (name, (arity, flags, first, last, step)) in expected {
                guard case .array(let infos) = try c.call("COMMAND", "INFO", name), case .array(let info) = infos[0]
                else {
                    Issue.record("COMMAND INFO \(name)")
                    continue
                }
                #expect(info[1] == int(arity), "\(name)")
                #expect(
                    info[2] == .array(flags.map { .simpleString($0) })
                        || info[2] == .set(flags.map { .simpleString($0) }),
                    "\(name)"
                )
                #expect(info[3] == int(first) && info[4] == int(last) && info[5] == int(step), "\(name)")
            }
        }
    }

    @Test func keyCommandsOnLists() throws {
        try withInProcessServer { server in
            let c = try server.connect()
            #expect(try c.call("RPUSH", "l", "a", "b") == int(2))
            #expect(try c.call("COPY", "l", "l2") == int(1))
            #expect(try c.call("RPUSH", "l2", "c") == int(3))
            #expect(try c.call("LLEN", "l") == int(2))  // the copy is its own
            #expect(try c.call("RENAME", "l2", "l3") == OK)
            #expect(try c.call("EXPIRE", "l3", "100") == int(1))
            #expect(try c.call("RPUSH", "l3", "d") == int(4))
            #expect(try c.call("TTL", "l3") != int(-1))  // a push keeps the TTL
            #expect(
                try c.call("SCAN", "0", "TYPE", "list", "COUNT", "1000")
                    == .array([bulk("0"), .array([bulk("l"), bulk("l3")])])
                    || c.call("SCAN", "0", "TYPE", "list", "COUNT", "1000")
                        == .array([bulk("0"), .array([bulk("l3"), bulk("l")])])
            )
            guard case .integer(let usage) = try c.call("MEMORY", "USAGE", "l") else {
                Issue.record("MEMORY USAGE answers an integer")
                return
            }
            #expect(usage > 32 && usage < 1024)
        }
    }
}

/// The list value itself, on both encodings, against an array model.
@Suite("List value")
struct ListValueTests {
    func v(_ s: String) -> ValueBytes { ValueBytes(Array(s.utf8)) }
    func strings(_ list: ListValue) -> [String] { list.elements.map { String(decoding: Array($0), as: UTF8.self) } }

    @Test func randomOperationsMatchAnArray() {
        var generator = SystemRandomNumberGenerator()
        for fill in [-1, 3, 1, -2] {
            let limits = ListLimits(fill: fill)
            var list = ListValue()
            var model: [String] = []
            for step in 0..<3000 {
                let element = String(repeating: "e", count: Int.random(in: 0..<300, using: &generator)) + "\(step % 13)"
                switch Int.random(in: 0..<10, using: &generator) {
                case 0, 1:
                    list.push([v(element)], atHead: true, limits: limits)
                    model.insert(element, at: 0)
                case 2, 3:
                    list.push([v(element)], atHead: false, limits: limits)
                    model.append(element)
                case 4:
                    let n = Int.random(in: 1..<4, using: &generator)
                    let popped = list.pop(n, atHead: true, limits: limits).map {
                        String(decoding: Array($0), as: UTF8.self)
                    }
                    #expect(popped == Array(model.prefix(n)))
                    model.removeFirst(min(n, model.count))
                case 5:
                    let popped = list.pop(2, atHead: false, limits: limits).map {
                        String(decoding: Array($0), as: UTF8.self)
                    }
                    #expect(popped == Array(model.suffix(2).reversed()))
                    model.removeLast(min(2, model.count))
                case 6 where !model.isEmpty:
                    let i = Int.random(in: 0..<model.count, using: &generator)
                    let done = list.set(i, to: v(element), limits: limits)
                    #expect(done)
                    model[i] = element
                case 7 where !model.isEmpty:
                    let pivot = model[Int.random(in: 0..<model.count, using: &generator)]
                    let at = model.firstIndex(of: pivot)!
                    let length = list.insert(v(element), before: step % 2 == 0, pivot: v(pivot), limits: limits)
                    #expect(length == model.count + 1)
                    model.insert(element, at: step % 2 == 0 ? at : at + 1)
                case 8 where !model.isEmpty:
                    let target = model[Int.random(in: 0..<model.count, using: &generator)]
                    let fromTail = step % 2 == 0
                    let removed = list.remove(v(target), limit: 1, fromTail: fromTail, limits: limits)
                    #expect(removed == 1)
                    if fromTail {
                        model.remove(at: model.lastIndex(of: target)!)
                    } else {
                        model.remove(at: model.firstIndex(of: target)!)
                    }
                case 9 where model.count > 4:
                    list.trim(head: 1, tail: 1, limits: limits)
                    model.removeFirst()
                    model.removeLast()
                default:
                    break
                }
                #expect(list.count == model.count)
                if step % 97 == 0 {
                    #expect(strings(list) == model, "fill \(fill) step \(step)")
                    for (i, element) in model.enumerated() where i % 5 == 0 {
                        #expect(list.element(at: i) == v(element))
                    }
                    var reversed: [String] = []
                    list.forEachReversed {
                        reversed.append(String(decoding: Array($0), as: UTF8.self))
                        return true
                    }
                    #expect(reversed == model.reversed())
                }
            }
            #expect(strings(list) == model)
        }
    }

    @Test func aCopyIsIndependent() {
        let limits = ListLimits.redisDefaults
        var a = ListValue()
        a.push((0..<5000).map { v("\($0)") }, atHead: false, limits: limits)
        #expect(a.isQuicklist)
        #expect(a.nodeCount > 1)
        var b = a
        b.push([v("new")], atHead: true, limits: limits)
        _ = b.pop(10, atHead: false, limits: limits)
        #expect(a.count == 5000)
        #expect(a.element(at: 0) == v("0"))
        #expect(a.element(at: -1) == v("4999"))
        #expect(b.count == 4991)
        #expect(b.element(at: 0) == v("new"))
    }
}
