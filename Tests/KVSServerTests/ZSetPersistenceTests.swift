import Foundation
import KVS
import KVSNetworkTestSupport
import KVSTestSupport
import RESP
import Testing

@testable import KVSServer

/// Sorted sets in the snapshot file (type tag 4), and damaged records refused whole.
@Suite("Persistence of sorted sets")
struct ZSetPersistenceTests {
    func load(_ server: InProcessTestServer) throws -> Int {
        let state = server.serverState
        return try state.persistence.load(
            into: state.databases,
            now: StoreClock.system.now(),
            hashLimits: state.hashLimits,
            zsetLimits: state.zsetLimits
        )
    }

    func resealed(_ bytes: [UInt8]) -> [UInt8] {
        var out = Array(bytes.dropLast(4))
        let crc = out.withUnsafeBytes { CRC32.checksum($0) }
        withUnsafeBytes(of: crc.littleEndian) { out.append(contentsOf: $0) }
        return out
    }

    func expectRefused(_ bytes: [UInt8], in dir: String, _ comment: Comment) throws {
        try Data(bytes).write(to: URL(fileURLWithPath: dir + "/dump.kvs"))
        try withInProcessServer(directory: dir) { server throws in
            let c = try server.connect()
            #expect(try c.call("SET", "keep", "1") == OK)
            #expect(throws: KVSError.self, comment) { try load(server) }
            #expect(try c.call("GET", "keep") == bulk("1"), comment)
            #expect(try c.call("DBSIZE") == int(1), comment)
        }
    }

    @Test func sortedSetsSurviveASaveAndLoad() throws {
        let dir = try makeTemporaryDirectory()
        defer { removeDirectory(dir) }
        try withInProcessServer(directory: dir) { server throws in
            let c = try server.connect()
            #expect(try c.call("ZADD", "small", "1.5", "a", "-inf", "b", "0.1", "c") == int(3))
            for i in 0..<300 { _ = try c.call("ZADD", "big", "\(i % 17)", "member:\(i)") }
            #expect(try c.call("CONFIG", "SET", "zset-max-listpack-entries", "0") == OK)
            #expect(try c.call("ZADD", "negzero", "-0.0", "m") == int(1))
            #expect(try c.call("CONFIG", "SET", "zset-max-listpack-entries", "128") == OK)
            #expect(try c.call("ZADD", "ttl", "1", "m") == int(1))
            #expect(try c.call("EXPIRE", "ttl", "1000") == int(1))
            #expect(try c.call("SAVE") == OK)
        }
        try withInProcessServer(directory: dir) { server throws in
            #expect(try load(server) == 4)
            let c = try server.connect()
            #expect(
                try c.call("ZRANGE", "small", "0", "-1", "WITHSCORES")
                    == bulks("b", "-inf", "c", "0.10000000000000001", "a", "1.5")
            )
            #expect(try c.call("OBJECT", "ENCODING", "small") == bulk("listpack"))
            #expect(try c.call("ZCARD", "big") == int(300))
            #expect(try c.call("ZRANK", "big", "member:84") == int(299))
            #expect(try c.call("OBJECT", "ENCODING", "big") == bulk("skiplist"))
            // Loaded with the limits in force: one member fits a listpack (and -0 becomes 0).
            #expect(try c.call("OBJECT", "ENCODING", "negzero") == bulk("listpack"))
            #expect(try c.call("ZSCORE", "negzero", "m") == bulk("0"))
            let ttl = Int(try c.call("TTL", "ttl").text) ?? 0
            #expect(ttl > 900 && ttl <= 1000)
        }
    }

    @Test func damagedSortedSetRecordsAreRefusedWhole() throws {
        let dir = try makeTemporaryDirectory()
        defer { removeDirectory(dir) }
        try withInProcessServer(directory: dir) { server throws in
            let c = try server.connect()
            #expect(try c.call("ZADD", "z", "2", "a", "1", "b") == int(2))
            #expect(try c.call("SAVE") == OK)
        }
        let good = try [UInt8](Data(contentsOf: URL(fileURLWithPath: dir + "/dump.kvs")))
        // Header (24), db index (4), count (8), key length (4), "z", deadline (8), then the
        // tag at 49, the count at 50, "b" (length at 54, byte at 58, score at 59), "a"
        // (length at 67, byte at 71, score at 72).
        try #require(good.count == 80 + 12 + 4 && good[49] == 4 && good[50] == 2 && good[58] == UInt8(ascii: "b"))
        var empty = good
        empty[50] = 0
        try expectRefused(resealed(empty), in: dir, "an empty sorted set")
        var three = good
        three[50] = 3
        try expectRefused(resealed(three), in: dir, "a count past the record")
        var repeated = good
        repeated[71] = UInt8(ascii: "b")
        try expectRefused(resealed(repeated), in: dir, "a repeated member")
        var nan = good
        withUnsafeBytes(of: Double.nan.bitPattern.littleEndian) { nan.replaceSubrange(59..<67, with: $0) }
        try expectRefused(resealed(nan), in: dir, "a NaN score")
        var longMember = good
        longMember[54] = 200
        try expectRefused(resealed(longMember), in: dir, "a member longer than the file")
        for length in [50, 54, 60, 70, 79] {
            try expectRefused(resealed(Array(good.prefix(length)) + [0, 0, 0, 0]), in: dir, "cut at \(length)")
        }
    }
}
