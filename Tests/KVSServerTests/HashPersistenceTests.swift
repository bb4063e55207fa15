import Foundation
import KVS
import KVSNetworkTestSupport
import KVSTestSupport
import RESP
import Testing

@testable import KVSServer

/// Hashes in the snapshot file (format version 2: a type tag per record), and files that
/// are refused as a whole.
@Suite("Persistence of hashes")
struct HashPersistenceTests {
    /// Loads the snapshot in `server`'s folder into its databases.
    func load(_ server: InProcessTestServer) throws -> Int {
        let state = server.serverState
        return try state.persistence.load(
            into: state.databases,
            now: StoreClock.system.now(),
            hashLimits: state.hashLimits
        )
    }

    /// The file of one database holding the hash `h` = {f: v}, as SAVE writes it.
    func savedSingleHash(in dir: String) throws -> [UInt8] {
        try withInProcessServer(directory: dir) { server throws in
            let c = try server.connect()
            #expect(try c.call("HSET", "h", "f", "v") == int(1))
            #expect(try c.call("SAVE") == OK)
        }
        return try [UInt8](Data(contentsOf: URL(fileURLWithPath: dir + "/dump.kvs")))
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

    @Test func hashesSurviveASaveAndLoad() throws {
        let dir = try makeTemporaryDirectory()
        defer { removeDirectory(dir) }
        try withInProcessServer(directory: dir) { server throws in
            let c = try server.connect()
            #expect(try c.call("HSET", "small", "f", "v", "g", "") == int(2))
            for i in 0..<600 { _ = try c.call("HSET", "big", "field:\(i)", "\(i)") }
            #expect(try c.call("HSET", "long", "f", String(repeating: "x", count: 100)) == int(1))
            #expect(try c.call("HSET", "ttl", "f", "v") == int(1))
            #expect(try c.call("EXPIRE", "ttl", "1000") == int(1))
            #expect(try c.call("SET", "s", "v") == OK)
            #expect(try c.call("SELECT", "3") == OK)
            #expect(try c.call("HSET", "in3", "a", "1") == int(1))
            #expect(try c.call("SAVE") == OK)
        }
        try withInProcessServer(directory: dir) { server throws in
            #expect(try load(server) == 6)
            let c = try server.connect()
            #expect(sortedPairs(try c.call("HGETALL", "small")) == ["f=v", "g="])
            #expect(try c.call("OBJECT", "ENCODING", "small") == bulk("listpack"))
            #expect(try c.call("HLEN", "big") == int(600))
            #expect(try c.call("HGET", "big", "field:599") == bulk("599"))
            #expect(try c.call("OBJECT", "ENCODING", "big") == bulk("hashtable"))
            #expect(try c.call("OBJECT", "ENCODING", "long") == bulk("hashtable"))
            let ttl = Int(try c.call("TTL", "ttl").text) ?? 0
            #expect(ttl > 900 && ttl <= 1000)
            #expect(try c.call("GET", "s") == bulk("v"))
            #expect(try c.call("SELECT", "3") == OK)
            #expect(try c.call("HGET", "in3", "a") == bulk("1"))
        }
    }

    @Test func damagedHashRecordsAreRefusedWhole() throws {
        let dir = try makeTemporaryDirectory()
        defer { removeDirectory(dir) }
        let good = try savedSingleHash(in: dir)
        // Header (24), db index (4), count (8), key length (4), "h", deadline (8), then the
        // tag at 49, the field count at 50, the field's length at 54.
        try #require(good.count == 80 && good[49] == 1 && good[50] == 1)
        var twoFields = good
        twoFields[50] = 2
        try expectRefused(resealed(twoFields), in: dir, "a field count past the record")
        var noFields = good
        noFields[50] = 0
        try expectRefused(resealed(noFields), in: dir, "an empty hash")
        var unknownTag = good
        unknownTag[49] = 7
        try expectRefused(resealed(unknownTag), in: dir, "an unknown type tag")
        var longField = good
        longField[54] = 200
        try expectRefused(resealed(longField), in: dir, "a field longer than the file")
        var flipped = good
        flipped[58] ^= 0xFF
        try expectRefused(flipped, in: dir, "a checksum that does not match")
        for length in [0, 24, 49, 50, 60, 63, 64, 76, 79] {
            try expectRefused(Array(good.prefix(length)), in: dir, "truncated to \(length) bytes")
            // Cut and sealed again (76 bytes and a new checksum would be the whole file).
            if length != 76 {
                try expectRefused(resealed(Array(good.prefix(length)) + [0, 0, 0, 0]), in: dir, "cut at \(length)")
            }
        }
    }

    @Test func versionOneFilesStillLoad() throws {
        let dir = try makeTemporaryDirectory()
        defer { removeDirectory(dir) }
        var bytes = Array("KVSSERV\0".utf8)
        func append<T: FixedWidthInteger>(_ value: T) { withUnsafeBytes(of: value.littleEndian) { bytes += $0 } }
        append(UInt32(1))  // version 1: no type tags
        append(UInt32(0))
        append(Int64(0))
        append(UInt32(0))  // database 0
        append(UInt64(1))
        append(UInt32(1))
        bytes += Array("k".utf8)
        append(Int64(0))
        append(UInt32(2))
        bytes += Array("v1".utf8)
        append(UInt32.max)
        append(UInt64(1))
        append(UInt32(0))
        try Data(resealed(bytes)).write(to: URL(fileURLWithPath: dir + "/dump.kvs"))
        try withInProcessServer(directory: dir) { server throws in
            #expect(try load(server) == 1)
            #expect(try server.connect().call("GET", "k") == bulk("v1"))
        }
    }
}
