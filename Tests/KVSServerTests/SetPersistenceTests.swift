import Foundation
import KVS
import KVSNetworkTestSupport
import KVSTestSupport
import RESP
import Testing

@testable import KVSServer

/// Sets in the snapshot file (type tag 3), and damaged set records, refused whole.
@Suite("Persistence of sets")
struct SetPersistenceTests {
    /// Loads the snapshot in `server`'s folder into its databases.
    func load(_ server: InProcessTestServer) throws -> Int {
        let state = server.serverState
        return try state.persistence.load(
            into: state.databases,
            now: StoreClock.system.now(),
            hashLimits: state.hashLimits,
            setLimits: state.setLimits
        )
    }

    /// `bytes` with its trailing checksum recomputed, so that only the structure is wrong.
    func resealed(_ bytes: [UInt8]) -> [UInt8] {
        var out = Array(bytes.dropLast(4))
        let crc = out.withUnsafeBytes { CRC32.checksum($0) }
        withUnsafeBytes(of: crc.littleEndian) { out.append(contentsOf: $0) }
        return out
    }

    /// Writes `bytes` as the snapshot of `dir`, then checks that loading it fails and leaves
    /// the server's key `keep` in place.
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

    @Test func setsSurviveASaveAndLoad() throws {
        let dir = try makeTemporaryDirectory()
        defer { removeDirectory(dir) }
        try withInProcessServer(directory: dir) { server throws in
            let c = try server.connect()
            #expect(try c.call("SADD", "ints", "3", "-70000", "99999999999") == int(3))
            #expect(try c.call("SADD", "small", "a", "", "1") == int(3))
            for i in 0..<600 { _ = try c.call("SADD", "big", "\(i)") }
            #expect(try c.call("SADD", "ttl", "x") == int(1))
            #expect(try c.call("EXPIRE", "ttl", "1000") == int(1))
            #expect(try c.call("SADD", "intttl", "1") == int(1))
            #expect(try c.call("PEXPIRE", "intttl", "1000000") == int(1))
            #expect(try c.call("SAVE") == OK)
        }
        try withInProcessServer(directory: dir) { server throws in
            #expect(try load(server) == 5)
            let c = try server.connect()
            #expect(try c.call("SMEMBERS", "ints") == .array(["-70000", "3", "99999999999"].map(bulk)))
            #expect(try c.call("OBJECT", "ENCODING", "ints") == bulk("intset"))
            #expect(sortedMembers(try c.call("SMEMBERS", "small")) == ["", "1", "a"])
            #expect(try c.call("OBJECT", "ENCODING", "small") == bulk("hashtable"))
            #expect(try c.call("SCARD", "big") == int(600))
            #expect(try c.call("SISMEMBER", "big", "599") == int(1))
            #expect(try c.call("OBJECT", "ENCODING", "big") == bulk("hashtable"))
            let ttl = Int(try c.call("TTL", "ttl").text) ?? 0
            #expect(ttl > 900 && ttl <= 1000)
            let pttl = Int(try c.call("PTTL", "intttl").text) ?? 0
            #expect(pttl > 900_000 && pttl <= 1_000_000)
            #expect(try c.call("OBJECT", "ENCODING", "intttl") == bulk("intset"))
        }
    }

    @Test func damagedSetRecordsAreRefusedWhole() throws {
        let dir = try makeTemporaryDirectory()
        defer { removeDirectory(dir) }
        try withInProcessServer(directory: dir) { server throws in
            let c = try server.connect()
            #expect(try c.call("SADD", "s", "a", "b") == int(2))
            #expect(try c.call("SAVE") == OK)
        }
        let good = try [UInt8](Data(contentsOf: URL(fileURLWithPath: dir + "/dump.kvs")))
        // Header (24), db index (4), count (8), key length (4), "s", deadline (8), then the
        // tag at 49, the member count at 50, the first member's length at 54, its byte at
        // 58, the second member's length at 59 and its byte at 63.
        try #require(good.count == 80 && good[49] == 3 && good[50] == 2 && good[54] == 1)
        var threeMembers = good
        threeMembers[50] = 3
        try expectRefused(resealed(threeMembers), in: dir, "a member count past the record")
        var noMembers = good
        noMembers[50] = 0
        try expectRefused(resealed(noMembers), in: dir, "an empty set")
        var repeated = good
        repeated[63] = repeated[58]
        try expectRefused(resealed(repeated), in: dir, "a member twice")
        var longMember = good
        longMember[54] = 200
        try expectRefused(resealed(longMember), in: dir, "a member longer than the file")
        for length in [50, 54, 58, 60, 64] {
            try expectRefused(resealed(Array(good.prefix(length)) + [0, 0, 0, 0]), in: dir, "cut at \(length)")
        }
        // The intact file loads.
        try Data(good).write(to: URL(fileURLWithPath: dir + "/dump.kvs"))
        try withInProcessServer(directory: dir) { server throws in
            #expect(try load(server) == 1)
            #expect(sortedMembers(try server.connect().call("SMEMBERS", "s")) == ["a", "b"])
        }
    }
}
