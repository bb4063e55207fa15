import KVS
import NIOCore
import RESP
import Testing

@testable import KVSServer

/// Errors and option checks are Redis 7.0.15's, asked of a real server; payloads are kvs's
/// own, so they are checked as round trips.
@Suite("DUMP and RESTORE")
struct DumpCommandsTests {
    /// The payload of `key`, as bytes.
    private func dump(_ c: some RESPTestClient, _ key: String) throws -> [UInt8] {
        let reply = try c.call("DUMP", key)
        guard let buffer = reply.bufferValue else {
            Issue.record("DUMP \(key) answered \(reply)")
            return []
        }
        return Array(buffer.readableBytesView)
    }

    private func restore(
        _ c: some RESPTestClient,
        _ key: String,
        _ ttl: String,
        _ payload: [UInt8],
        _ options: String...
    )
        throws -> RESPValue
    {
        try c.callBytes(
            [Array("RESTORE".utf8), Array(key.utf8), Array(ttl.utf8), payload] + options.map { Array($0.utf8) }
        )
    }

    private static let wrongPayload = err("ERR DUMP payload version or checksum are wrong")

    @Test func crc64IsJones() {
        let check = Array("123456789".utf8).withUnsafeBytes { CRC64.checksum($0) }
        #expect(check == 0xe9c6_d914_c4b8_d9ca)
    }

    /// Every type in each of its encodings survives DUMP and RESTORE with its TTL, and is
    /// encoded again as the restoring server's settings choose.
    @Test func roundTripsEveryTypeAndEncoding() throws {
        try withInProcessServer { server in
            let c = try server.connect()
            let many = (0..<300).map { "member-\($0)" }
            #expect(try c.call("SET", "str", "hello") == OK)
            #expect(try c.call("SET", "int", "12345") == OK)
            #expect(try c.call("SET", "raw", String(repeating: "x", count: 100)) == OK)
            #expect(try c.call("SET", "empty", "") == OK)
            #expect(try c.call("PFADD", "hll", "a", "b", "c") == int(1))
            #expect(try c.call("SETBIT", "bits", "1000", "1") == int(0))
            #expect(try c.call("HSET", "hsmall", "f", "v", "g", "w") == int(2))
            #expect(try c.call(["HSET", "hbig"] + many.flatMap { [$0, $0] }) == int(300))
            #expect(try c.call("RPUSH", "lsmall", "a", "", "c") == int(3))
            #expect(try c.call(["RPUSH", "lbig"] + many) == int(300))
            #expect(try c.call("SADD", "sint", "1", "2", "-3") == int(3))
            #expect(try c.call("SADD", "ssmall", "a", "b") == int(2))
            #expect(try c.call(["SADD", "sbig"] + many) == int(300))
            #expect(try c.call("ZADD", "zsmall", "1", "a", "-inf", "b", "2.5", "c") == int(3))
            #expect(
                try c.call(["ZADD", "zbig"] + many.enumerated().flatMap { [String($0.offset), $0.element] }) == int(300)
            )
            let reads: [(key: String, read: [String], encoding: String)] = [
                ("str", ["GET"], "embstr"), ("int", ["GET"], "int"), ("raw", ["GET"], "raw"),
                ("empty", ["GET"], "embstr"),
                ("hll", ["PFCOUNT"], "raw"), ("bits", ["BITCOUNT"], "raw"),
                ("hsmall", ["HGETALL"], "listpack"), ("hbig", ["HLEN"], "hashtable"),
                ("lsmall", ["LRANGE", "0", "-1"], "listpack"), ("lbig", ["LRANGE", "0", "-1"], "quicklist"),
                ("sint", ["SORT"], "intset"), ("ssmall", ["SORT", "ALPHA"], "listpack"),
                ("sbig", ["SORT", "ALPHA"], "hashtable"),
                ("zsmall", ["ZRANGE", "0", "-1", "WITHSCORES"], "listpack"),
                ("zbig", ["ZRANGE", "0", "-1", "WITHSCORES"], "skiplist"),
            ]
            for (key, read, _) in reads {
                let before = try c.call([read[0], key] + read.dropFirst())
                let encoding = try c.call("OBJECT", "ENCODING", key)
                let payload = try dump(c, key)
                #expect(try restore(c, key, "0", payload) == err("BUSYKEY Target key name already exists."))
                #expect(try restore(c, key + "-copy", "100000", payload) == OK)
                #expect(try c.call([read[0], key + "-copy"] + read.dropFirst()) == before, "\(key)")
                #expect(try c.call("TYPE", key + "-copy") == c.call("TYPE", key))
                #expect(try c.call("OBJECT", "ENCODING", key + "-copy") == encoding, "\(key)")
                let ttl = try c.call("PTTL", key + "-copy").intValue ?? 0
                #expect(ttl > 99_000 && ttl <= 100_000)
                #expect(try dump(c, key + "-copy") == payload)
                // REPLACE over the original, with no TTL.
                #expect(try restore(c, key, "0", payload, "REPLACE") == OK)
                #expect(try c.call("PTTL", key) == int(-1))
                #expect(try c.call([read[0], key] + read.dropFirst()) == before)
            }
            #expect(try c.call("DUMP", "missing") == .nullBulkString)
        }
    }

    @Test func ttlOptions() throws {
        try withInProcessServer { server in
            let c = try server.connect()
            #expect(try c.call("SET", "s", "v") == OK)
            let payload = try dump(c, "s")
            // ABSTTL is a Unix time in milliseconds.
            let future = try c.call("TIME").elements.map { Int64($0[0].text)! * 1000 + 60_000 } ?? 0
            #expect(try restore(c, "a", String(future), payload, "ABSTTL") == OK)
            let ttl = try c.call("PTTL", "a").intValue ?? 0
            #expect(ttl > 50_000 && ttl <= 61_000)
            // A deadline already past creates nothing, and deletes what REPLACE replaces.
            #expect(try restore(c, "b", "1", payload, "ABSTTL") == OK)
            #expect(try c.call("EXISTS", "b") == int(0))
            #expect(try restore(c, "a", "1", payload, "ABSTTL", "REPLACE") == OK)
            #expect(try c.call("EXISTS", "a") == int(0))
            // A relative TTL past the clock's range wraps in Redis: already past.
            #expect(try restore(c, "c", "9223372036854775807", payload) == OK)
            #expect(try c.call("EXISTS", "c") == int(0))
            #expect(try restore(c, "d", "9223372036854775000", payload, "ABSTTL") == OK)
            #expect((try c.call("PTTL", "d").intValue ?? 0) > 1_000_000_000)
            // IDLETIME and FREQ are checked, then ignored.
            #expect(try restore(c, "e", "0", payload, "IDLETIME", "5", "IDLETIME", "6") == OK)
            #expect(try restore(c, "f", "0", payload, "FREQ", "255") == OK)
            #expect(try c.call("GET", "f") == bulk("v"))
        }
    }

    @Test func errorsInRedisOrder() throws {
        try withInProcessServer { server in
            let c = try server.connect()
            #expect(try c.call("SET", "s", "v") == OK)
            let payload = try dump(c, "s")
            #expect(try c.call("DUMP") == err("ERR wrong number of arguments for 'dump' command"))
            #expect(try c.call("DUMP", "a", "b") == err("ERR wrong number of arguments for 'dump' command"))
            #expect(try c.call("RESTORE", "a", "0") == err("ERR wrong number of arguments for 'restore' command"))
            let busy = err("BUSYKEY Target key name already exists.")
            #expect(try restore(c, "s", "0", payload) == busy)
            #expect(try restore(c, "s", "-1", payload) == busy)
            #expect(try restore(c, "s", "x", Array("xx".utf8)) == busy)
            #expect(try restore(c, "n", "-1", payload) == err("ERR Invalid TTL value, must be >= 0"))
            #expect(try restore(c, "n", "x", payload) == err("ERR value is not an integer or out of range"))
            #expect(try restore(c, "n", "-1", Array("garbage".utf8)) == err("ERR Invalid TTL value, must be >= 0"))
            #expect(try restore(c, "n", "0", Array("garbage-payload".utf8)) == Self.wrongPayload)
            #expect(
                try restore(c, "n", "0", payload, "IDLETIME", "-1") == err("ERR Invalid IDLETIME value, must be >= 0")
            )
            #expect(
                try restore(c, "n", "0", payload, "FREQ", "256")
                    == err("ERR Invalid FREQ value, must be >= 0 and <= 255")
            )
            #expect(
                try restore(c, "n", "0", payload, "FREQ", "-1")
                    == err("ERR Invalid FREQ value, must be >= 0 and <= 255")
            )
            #expect(
                try restore(c, "n", "0", payload, "FREQ", "x") == err("ERR value is not an integer or out of range")
            )
            for options in [["IDLETIME", "5", "FREQ", "3"], ["FREQ", "3", "IDLETIME", "5"], ["IDLETIME"], ["FOO"]] {
                #expect(
                    try c.callBytes(
                        [Array("RESTORE".utf8), Array("n".utf8), [0x30], payload] + options.map { Array($0.utf8) }
                    ) == err("ERR syntax error")
                )
            }
            // Options are read before the key is checked.
            #expect(try restore(c, "s", "0", payload, "FOO") == err("ERR syntax error"))
            #expect(try c.call("EXISTS", "n") == int(0))
            // A payload from Redis (RDB, version 10) is refused by version.
            let redisPayload: [UInt8] = [0x00, 0x01, 0x76, 0x0A, 0x00, 0x91, 0x08, 0xCE, 0xB2, 0x19, 0x38, 0x8A, 0xCE]
            #expect(try restore(c, "n", "0", redisPayload) == Self.wrongPayload)
            // A record with a good checksum that is not a value.
            var crafted: [UInt8] = [9, 0, 0, 0, 0]
            crafted.appendLittleEndian(Persistence.dumpVersion)
            crafted.appendLittleEndian(crafted.withUnsafeBytes { CRC64.checksum($0) })
            #expect(try restore(c, "n", "0", crafted) == err("ERR Bad data format"))
            #expect(try c.call("EXISTS", "n") == int(0))
        }
    }

    /// Truncations, bit flips and random bytes are refused, and change nothing.
    @Test func damagedPayloadsAreRefused() throws {
        try withInProcessServer { server in
            let c = try server.connect()
            #expect(try c.call("HSET", "h", "field", "value", "f2", "v2") == int(2))
            #expect(try c.call("SET", "keep", "old") == OK)
            let payload = try dump(c, "h")
            for length in 0..<payload.count {
                #expect(try restore(c, "keep", "0", Array(payload[..<length]), "REPLACE") == Self.wrongPayload)
            }
            for bit in 0..<(payload.count * 8) {
                var flipped = payload
                flipped[bit / 8] ^= 1 << (bit % 8)
                #expect(try restore(c, "keep", "0", flipped, "REPLACE") == Self.wrongPayload)
            }
            var generator = SystemRandomNumberGenerator()
            for _ in 0..<200 {
                let random = (0..<Int.random(in: 0..<64, using: &generator)).map { _ in UInt8.random(in: 0...255) }
                #expect(try restore(c, "keep", "0", random, "REPLACE") == Self.wrongPayload)
            }
            #expect(try c.call("GET", "keep") == bulk("old"))
            #expect(try restore(c, "keep", "0", payload + [0], "REPLACE") == Self.wrongPayload)
            #expect(try restore(c, "keep", "0", payload, "REPLACE") == OK)
            #expect(try c.call("HGET", "keep", "f2") == bulk("v2"))
        }
    }

    /// Records with a valid checksum but random contents never trap the loader.
    @Test func loaderRefusesMalformedRecordsWithoutTrapping() {
        let limits = ValueLimits(hash: .redisDefaults, list: .redisDefaults, set: .redisDefaults, zset: .redisDefaults)
        var generator = SystemRandomNumberGenerator()
        func sealed(_ body: [UInt8]) -> [UInt8] {
            var bytes = body
            bytes.appendLittleEndian(Persistence.dumpVersion)
            bytes.appendLittleEndian(bytes.withUnsafeBytes { CRC64.checksum($0) })
            return bytes
        }
        var refused = 0
        for _ in 0..<3000 {
            let length = Int.random(in: 0..<48, using: &generator)
            var body = (0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) }
            if !body.isEmpty { body[0] = UInt8.random(in: 0...5, using: &generator) }
            // Small counts and lengths, so that some records are whole.
            for i in stride(from: 1, to: body.count, by: 4) where Bool.random(using: &generator) {
                body[i] = UInt8.random(in: 0...3, using: &generator)
                for k in 1..<4 where i + k < body.count { body[i + k] = 0 }
            }
            if case .failure = Persistence.restorePayload(sealed(body), limits: limits) { refused += 1 }
        }
        #expect(refused > 0)
        // Valid records of every type, then each cut short inside a sealed payload.
        let payloads: [StoredValue.Payload] = [
            .string(ValueBytes(Array("v".utf8))),
            .list(
                {
                    var l = ListValue()
                    l.push([ValueBytes(Array("a".utf8)), ValueBytes([])], atHead: false, limits: .redisDefaults)
                    return l
                }()
            ),
        ]
        for payload in payloads {
            guard let dumped = try? Persistence.dumpPayload(of: payload) else {
                Issue.record("dump failed")
                continue
            }
            let record = Array(dumped.dropLast(10))
            guard case .success = Persistence.restorePayload(dumped, limits: limits) else {
                Issue.record("a valid payload was refused")
                continue
            }
            for cut in 0..<record.count {
                // Shorter than a tag and a count, the payload is too short to hold any value.
                let expected: Persistence.DumpPayloadError = cut < 5 ? .versionOrChecksum : .badFormat
                guard
                    case .failure(expected) = Persistence.restorePayload(sealed(Array(record[..<cut])), limits: limits)
                else {
                    Issue.record("a record cut at \(cut) was not refused as bad data")
                    continue
                }
            }
            guard case .failure(.badFormat) = Persistence.restorePayload(sealed(record + [0]), limits: limits) else {
                Issue.record("trailing bytes were not refused")
                continue
            }
        }
    }

    @Test func insideMultiAndWatch() throws {
        try withInProcessServer { server in
            let a = try server.connect()
            let b = try server.connect()
            #expect(try a.call("RPUSH", "l", "x", "y") == int(2))
            let payload = try dump(a, "l")
            #expect(try a.call("MULTI") == OK)
            #expect(try a.call("DUMP", "l") == .simpleString("QUEUED"))
            #expect(
                try a.callBytes([Array("RESTORE".utf8), Array("m".utf8), [0x30], payload]) == .simpleString("QUEUED")
            )
            #expect(
                try a.callBytes([Array("RESTORE".utf8), Array("m".utf8), [0x30], payload]) == .simpleString("QUEUED")
            )
            #expect(try a.call("LRANGE", "m", "0", "-1") == .simpleString("QUEUED"))
            let replies = try a.call("EXEC").elements ?? []
            #expect(replies.count == 4)
            #expect(replies.first?.bufferValue.map { Array($0.readableBytesView) } == payload)
            #expect(replies.dropFirst().first == OK)
            #expect(replies.dropFirst(2).first == err("BUSYKEY Target key name already exists."))
            #expect(replies.last?.text == "[x, y]")
            // RESTORE is a write WATCH sees.
            #expect(try a.call("WATCH", "n") == OK)
            #expect(try restore(b, "n", "0", payload) == OK)
            #expect(try a.call("MULTI") == OK)
            #expect(try a.call("LLEN", "n") == .simpleString("QUEUED"))
            #expect(try a.call("EXEC") == .nullArray)
        }
    }
}
