import RESP

/// Argument descriptions for `COMMAND DOCS`, from which redis-cli builds its hints.
///
/// Each command's syntax is written as in Redis's documentation: `key` (a key),
/// lowercase names (values), UPPERCASE tokens, `[...]` optional, `a | b` alternatives,
/// `...` after an item for repetition. ``arguments(of:)`` turns it into Redis's
/// argument maps (`name`, `type`, `token`, `flags`, `arguments`).
enum CommandDocs {
    static let syntax: [String: String] = [
        "get": "key", "getdel": "key", "strlen": "key", "incr": "key", "decr": "key", "type": "key",
        "ttl": "key", "pttl": "key", "expiretime": "key", "pexpiretime": "key", "persist": "key",
        "set":
            "key value [NX | XX] [GET] [EX seconds | PX milliseconds | EXAT unix-time-seconds | PXAT unix-time-milliseconds | KEEPTTL]",
        "setnx": "key value", "setex": "key seconds value", "psetex": "key milliseconds value", "getset": "key value",
        "getex": "key [EX seconds | PX milliseconds | EXAT unix-time-seconds | PXAT unix-time-milliseconds | PERSIST]",
        "mget": "key ...", "mset": "data ...", "msetnx": "data ...", "append": "key value",
        "getrange": "key start end", "substr": "key start end", "setrange": "key offset value",
        "incrby": "key increment", "decrby": "key decrement", "incrbyfloat": "key increment",
        "del": "key ...", "unlink": "key ...", "exists": "key ...", "touch": "key ...",
        "keys": "pattern", "scan": "cursor [MATCH pattern] [COUNT count] [TYPE type]", "randomkey": "",
        "rename": "key newkey", "renamenx": "key newkey",
        "expire": "key seconds [NX | XX | GT | LT]", "pexpire": "key milliseconds [NX | XX | GT | LT]",
        "expireat": "key unix-time-seconds [NX | XX | GT | LT]",
        "pexpireat": "key unix-time-milliseconds [NX | XX | GT | LT]",
        "ping": "[message]", "echo": "message", "quit": "", "select": "index", "reset": "",
        "auth": "[username] password", "hello": "[protover [AUTH username password] [SETNAME clientname]]",
        "client": "subcommand [argument ...]", "command": "[subcommand [argument ...]]",
        "multi": "", "exec": "", "discard": "", "watch": "key ...", "unwatch": "",
        "info": "[section ...]", "dbsize": "", "flushdb": "[ASYNC | SYNC]", "flushall": "[ASYNC | SYNC]",
        "save": "", "bgsave": "[SCHEDULE]", "lastsave": "", "config": "subcommand [argument ...]",
        "shutdown": "[NOSAVE | SAVE] [NOW] [FORCE] [ABORT]", "time": "",
        "copy": "source destination [DB destination-db] [REPLACE]", "move": "key db", "swapdb": "index1 index2",
        "lcs": "key1 key2 [LEN] [IDX] [MINMATCHLEN min-match-len] [WITHMATCHLEN]",
        "hset": "key data ...", "hmset": "key data ...", "hsetnx": "key field value", "hget": "key field",
        "hmget": "key field ...", "hgetall": "key", "hkeys": "key", "hvals": "key", "hlen": "key",
        "hdel": "key field ...", "hexists": "key field", "hstrlen": "key field",
        "hincrby": "key field increment", "hincrbyfloat": "key field increment",
        "hrandfield": "key [count [WITHVALUES]]", "hscan": "key cursor [MATCH pattern] [COUNT count]",
        "lpush": "key element ...", "rpush": "key element ...", "lpushx": "key element ...",
        "rpushx": "key element ...", "lpop": "key [count]", "rpop": "key [count]",
        "lmpop": "numkeys key ... LEFT | RIGHT [COUNT count]",
        "lmove": "source destination LEFT | RIGHT LEFT | RIGHT", "rpoplpush": "source destination",
        "llen": "key", "lrange": "key start stop", "lindex": "key index", "lset": "key index element",
        "linsert": "key BEFORE | AFTER pivot element", "lrem": "key count element", "ltrim": "key start stop",
        "lpos": "key element [RANK rank] [COUNT num-matches] [MAXLEN len]",
        "sadd": "key member ...", "srem": "key member ...", "scard": "key", "sismember": "key member",
        "smismember": "key member ...", "smembers": "key", "spop": "key [count]", "srandmember": "key [count]",
        "smove": "source destination member", "sinter": "key ...", "sintercard": "numkeys key ... [LIMIT limit]",
        "sinterstore": "destination key ...", "sunion": "key ...", "sunionstore": "destination key ...",
        "sdiff": "key ...", "sdiffstore": "destination key ...", "sscan": "key cursor [MATCH pattern] [COUNT count]",
        "zadd": "key [NX | XX] [GT | LT] [CH] [INCR] data ...", "zincrby": "key increment member",
        "zscore": "key member", "zmscore": "key member ...", "zcard": "key", "zcount": "key min max",
        "zlexcount": "key min max",
        "zrange": "key start stop [BYSCORE | BYLEX] [REV] [LIMIT offset count] [WITHSCORES]",
        "zrangebyscore": "key min max [WITHSCORES] [LIMIT offset count]",
        "zrevrangebyscore": "key max min [WITHSCORES] [LIMIT offset count]",
        "zrangebylex": "key min max [LIMIT offset count]", "zrevrangebylex": "key max min [LIMIT offset count]",
        "zrevrange": "key start stop [WITHSCORES]", "zrank": "key member [WITHSCORE]",
        "zrevrank": "key member [WITHSCORE]", "zrem": "key member ...", "zpopmin": "key [count]",
        "zpopmax": "key [count]", "zremrangebyrank": "key start stop", "zremrangebyscore": "key min max",
        "zremrangebylex": "key min max", "zrandmember": "key [count [WITHSCORES]]",
        "zscan": "key cursor [MATCH pattern] [COUNT count]",
        "zrangestore": "dst src min max [BYSCORE | BYLEX] [REV] [LIMIT offset count]",
        "zmpop": "numkeys key ... MIN | MAX [COUNT count]",
        "zunion": "numkeys key ... [WEIGHTS weight ...] [AGGREGATE SUM | MIN | MAX] [WITHSCORES]",
        "zinter": "numkeys key ... [WEIGHTS weight ...] [AGGREGATE SUM | MIN | MAX] [WITHSCORES]",
        "zdiff": "numkeys key ... [WITHSCORES]", "zintercard": "numkeys key ... [LIMIT limit]",
        "zunionstore": "destination numkeys key ... [WEIGHTS weight ...] [AGGREGATE SUM | MIN | MAX]",
        "zinterstore": "destination numkeys key ... [WEIGHTS weight ...] [AGGREGATE SUM | MIN | MAX]",
        "zdiffstore": "destination numkeys key ...",
        "object": "subcommand [argument ...]", "memory": "subcommand [argument ...]",
        "setbit": "key offset value", "getbit": "key offset", "bitcount": "key [start end [BYTE | BIT]]",
        "bitpos": "key bit [start [end [BYTE | BIT]]]", "bitop": "operation destkey key ...",
        "bitfield":
            "key [GET encoding offset] [SET encoding offset value] [INCRBY encoding offset increment] [OVERFLOW overflow]",
        "bitfield_ro": "key [GET encoding offset]",
        "pfadd": "key [element ...]", "pfcount": "key ...", "pfmerge": "destkey [sourcekey ...]",
        "sort": "key [BY pattern] [LIMIT offset count] [GET pattern ...] [ASC | DESC] [ALPHA] [STORE destination]",
        "sort_ro": "key [BY pattern] [LIMIT offset count] [GET pattern ...] [ASC | DESC] [ALPHA]",
        "dump": "key",
        "restore": "key ttl serialized-value [REPLACE] [ABSTTL] [IDLETIME seconds] [FREQ frequency]",
    ]

    /// One described argument.
    indirect enum Argument {
        case value(name: String, type: String, token: String?, optional: Bool, multiple: Bool)
        case pureToken(String, optional: Bool)
        case oneOf(name: String, optional: Bool, [Argument])
        case block(name: String, optional: Bool, [Argument])
    }

    static func arguments(of command: String) -> [Argument] {
        guard let text = syntax[command] else { return [] }
        var words = tokenize(text)[...]
        return parseSequence(&words, optional: false)
    }

    private static func tokenize(_ text: String) -> [String] {
        var out: [String] = []
        var current = ""
        for ch in text {
            if ch == "[" || ch == "]" || ch == "|" {
                if !current.isEmpty { out.append(current) }
                current = ""
                out.append(String(ch))
            } else if ch == " " {
                if !current.isEmpty { out.append(current) }
                current = ""
            } else {
                current.append(ch)
            }
        }
        if !current.isEmpty { out.append(current) }
        return out
    }

    private static func isToken(_ w: String) -> Bool { w.uppercased() == w && w.lowercased() != w }

    private static func type(of name: String) -> String {
        if ["key", "newkey", "source", "destination", "key1", "key2", "destkey", "sourcekey"].contains(name) {
            return "key"
        }
        if name.hasPrefix("unix-time") { return "unix-time" }
        let integers = [
            "seconds", "milliseconds", "start", "end", "offset",
            "increment", "decrement", "cursor", "count", "index", "protover",
            "db", "destination-db", "index1", "index2", "min-match-len", "ttl", "frequency",
        ]
        return integers.contains(name) ? "integer" : "string"
    }

    /// Parses items until `]`, `|` or the end.
    private static func parseSequence(_ words: inout ArraySlice<String>, optional: Bool) -> [Argument] {
        var items: [Argument] = []
        while let w = words.first, w != "]", w != "|" {
            words.removeFirst()
            if w == "[" {
                var alternatives: [[Argument]] = [parseSequence(&words, optional: false)]
                while words.first == "|" {
                    words.removeFirst()
                    alternatives.append(parseSequence(&words, optional: false))
                }
                if words.first == "]" { words.removeFirst() }
                if words.first == "..." { words.removeFirst() }
                let parts = alternatives.map { alt -> Argument in
                    alt.count == 1 ? alt[0] : .block(name: blockName(alt), optional: false, alt)
                }
                if parts.count == 1 {
                    items.append(makeOptional(parts[0]))
                } else {
                    items.append(.oneOf(name: oneOfName(parts), optional: true, parts))
                }
            } else if w == "..." {
                if case .value(let n, let t, let tok, let o, _) = items.last {
                    items[items.count - 1] = .value(name: n, type: t, token: tok, optional: o, multiple: true)
                }
            } else if isToken(w) {
                if let next = words.first, !isToken(next), !["[", "]", "|", "..."].contains(next) {
                    words.removeFirst()
                    items.append(
                        .value(name: next, type: type(of: next), token: w, optional: optional, multiple: false)
                    )
                } else {
                    items.append(.pureToken(w, optional: optional))
                }
            } else {
                items.append(.value(name: w, type: type(of: w), token: nil, optional: optional, multiple: false))
            }
        }
        return items
    }

    private static func makeOptional(_ a: Argument) -> Argument {
        switch a {
        case .value(let n, let t, let tok, _, let m):
            return .value(name: n, type: t, token: tok, optional: true, multiple: m)
        case .pureToken(let t, _): return .pureToken(t, optional: true)
        case .oneOf(let n, _, let args): return .oneOf(name: n, optional: true, args)
        case .block(let n, _, let args): return .block(name: n, optional: true, args)
        }
    }

    private static func name(_ a: Argument) -> String {
        switch a {
        case .value(let n, _, _, _, _), .oneOf(let n, _, _), .block(let n, _, _): return n
        case .pureToken(let t, _): return t.lowercased()
        }
    }

    private static func blockName(_ args: [Argument]) -> String { args.map(name).joined(separator: "-") }

    private static func oneOfName(_ args: [Argument]) -> String {
        let names = args.map(name)
        if names.contains("nx") && names.contains("xx") { return "condition" }
        if names.contains("seconds") { return "expiration" }
        return names.joined(separator: "-")
    }

    /// Writes `args` as Redis's argument maps.
    static func write(_ args: [Argument], _ c: inout SessionCall) {
        c.arrayHeader(args.count)
        for a in args {
            switch a {
            case .value(let n, let t, let token, let optional, let multiple):
                var fields: [(String, (inout SessionCall) -> Void)] = [
                    ("name", { $0.bulk(n) }), ("type", { $0.bulk(t) }),
                ]
                if t == "key" { fields.append(("key_spec_index", { $0.integer(reply: 0) })) }
                if let token { fields.append(("token", { $0.bulk(token) })) }
                let flags = (optional ? ["optional"] : []) + (multiple ? ["multiple"] : [])
                if !flags.isEmpty { fields.append(("flags", { c in writeFlags(flags, &c) })) }
                writeMap(fields, &c)
            case .pureToken(let t, let optional):
                var fields: [(String, (inout SessionCall) -> Void)] = [
                    ("name", { $0.bulk(t.lowercased()) }), ("type", { $0.bulk("pure-token") }),
                    ("token", { $0.bulk(t) }),
                ]
                if optional { fields.append(("flags", { c in writeFlags(["optional"], &c) })) }
                writeMap(fields, &c)
            case .oneOf(let n, let optional, let inner), .block(let n, let optional, let inner):
                let kind: String
                if case .oneOf = a { kind = "oneof" } else { kind = "block" }
                var fields: [(String, (inout SessionCall) -> Void)] = [
                    ("name", { $0.bulk(n) }), ("type", { $0.bulk(kind) }),
                ]
                if optional { fields.append(("flags", { c in writeFlags(["optional"], &c) })) }
                fields.append(("arguments", { c in write(inner, &c) }))
                writeMap(fields, &c)
            }
        }
    }

    private static func writeFlags(_ flags: [String], _ c: inout SessionCall) {
        c.encoder.writeSetHeader(count: flags.count, into: &c.call.out)
        for f in flags { c.simple(f) }
    }

    private static func writeMap(_ fields: [(String, (inout SessionCall) -> Void)], _ c: inout SessionCall) {
        c.mapHeader(fields.count)
        for (key, write) in fields {
            c.bulk(key)
            write(&c)
        }
    }
}
