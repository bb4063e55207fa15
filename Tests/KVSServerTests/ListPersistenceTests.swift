import Foundation
import KVS
import KVSNetworkTestSupport
import KVSTestSupport
import RESP
import Testing

@testable import KVSServer

/// Lists in the snapshot file (type tag 2), and damaged list records refused with the file.
@Suite("Persistence of lists")
struct ListPersistenceTests {
    let files = HashPersistenceTests()

    /// Loads the snapshot in `server`'s folder with the server's list limits.
    func load(_ server: InProcessTestServer) throws -> Int {
        let state = server.serverState
        return try state.persistence.load(
            into: state.databases,
            now: StoreClock.system.now(),
            hashLimits: state.hashLimits,
            listLimits: state.listLimits
        )
    }

    @Test func listsSurviveASaveAndLoad() throws {
        let dir = try makeTemporaryDirectory()
        defer { removeDirectory(dir) }
        let long = String(repeating: "x", count: 300)
        try withInProcessServer(directory: dir) { server throws in
            let c = try server.connect()
            #expect(try c.call("RPUSH", "small", "a", "", "c") == int(3))
            for i in 0..<3000 { _ = try c.call("RPUSH", "big", "element:\(i)") }
            _ = try c.call("LPUSH", "big", long)
            #expect(try c.call("OBJECT", "ENCODING", "big") == bulk("quicklist"))
            #expect(try c.call("RPUSH", "ttl", "v") == int(1))
            #expect(try c.call("EXPIRE", "ttl", "1000") == int(1))
            #expect(try c.call("SAVE") == OK)
        }
        try withInProcessServer(directory: dir) { server throws in
            #expect(try load(server) == 3)
            let c = try server.connect()
            #expect(try c.call("LRANGE", "small", "0", "-1") == .array(["a", "", "c"].map(bulk)))
            #expect(try c.call("OBJECT", "ENCODING", "small") == bulk("listpack"))
            #expect(try c.call("LLEN", "big") == int(3001))
            #expect(try c.call("LINDEX", "big", "0") == bulk(long))
            #expect(try c.call("LINDEX", "big", "-1") == bulk("element:2999"))
            #expect(try c.call("LINDEX", "big", "1500") == bulk("element:1499"))
            #expect(try c.call("OBJECT", "ENCODING", "big") == bulk("quicklist"))
            let ttl = Int(try c.call("TTL", "ttl").text) ?? 0
            #expect(ttl > 900 && ttl <= 1000)
        }
    }

    @Test func damagedListRecordsAreRefusedWhole() throws {
        let dir = try makeTemporaryDirectory()
        defer { removeDirectory(dir) }
        try withInProcessServer(directory: dir) { server throws in
            let c = try server.connect()
            #expect(try c.call("RPUSH", "l", "a") == int(1))
            #expect(try c.call("SAVE") == OK)
        }
        let good = try [UInt8](Data(contentsOf: URL(fileURLWithPath: dir + "/dump.kvs")))
        // Header (24), db index (4), count (8), key length (4), "l", deadline (8), then the
        // tag at 49, the element count at 50, the element's length at 54, "a" at 58.
        try #require(good.count == 75 && good[49] == 2 && good[50] == 1 && good[58] == UInt8(ascii: "a"))
        var twoElements = good
        twoElements[50] = 2
        try files.expectRefused(files.resealed(twoElements), in: dir, "an element count past the record")
        let empty = Array(good[0..<50]) + [0, 0, 0, 0] + Array(good[59...])
        try files.expectRefused(files.resealed(empty), in: dir, "an empty list")
        var longElement = good
        longElement[54] = 200
        try files.expectRefused(files.resealed(longElement), in: dir, "an element longer than the file")
        for length in [50, 54, 58, 59] {
            try files.expectRefused(
                files.resealed(Array(good.prefix(length)) + [0, 0, 0, 0]),
                in: dir,
                "cut at \(length)"
            )
        }
    }
}
