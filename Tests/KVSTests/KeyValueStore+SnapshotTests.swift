import Foundation
import KVS
import KVSTestSupport
import Testing

@Suite("KeyValueStore: snapshots")
struct SnapshotTests {
    struct Profile: Codable, Equatable, Sendable {
        var name: String
        var age: Int
        var tags: [String]
        var score: Double?
    }

    /// Reads every entry with its remaining TTL, for comparing whole stores.
    func contents<V: Equatable>(_ store: KeyValueStore<V>) throws -> [String: V] {
        let keys = try store.keys()
        return try store.batchGet(keys).values
    }

    @Test(.dedicatedThread) func roundTripOf100kKeysWithTTLs() throws {
        let dir = try makeTemporaryDirectory()
        defer { removeDirectory(dir) }
        let clock = ManualClock()
        let store = try makeStore([UInt8].self, shards: 16, clock: clock, sweepInterval: .seconds(3600))
        for i in 0..<100_000 {
            let value = Array("value-\(i)".utf8)
            if i % 3 == 0 {
                try store.set("k\(i)", value, ttl: .seconds(Int64(10 + i % 100)))
            } else {
                try store.set("k\(i)", value)
            }
        }
        try store.saveSnapshot(to: dir + "/snap")
        let loaded = try makeStore([UInt8].self, shards: 5, clock: clock, sweepInterval: .seconds(3600))
        try loaded.loadSnapshot(from: dir + "/snap")
        #expect(loaded.count == 100_000)
        #expect(try contents(loaded) == contents(store))
        for i in stride(from: 0, to: 100_000, by: 3) {
            #expect(try loaded.timeToLive("k\(i)") == .seconds(Int64(10 + i % 100)), "absolute deadlines survive")
        }
        #expect(try loaded.timeToLive("k1") == nil)
        // Deadlines are absolute: after 60 s the keys with TTL 10..<60 are gone.
        clock.advance(by: .seconds(60))
        let expected = (0..<100_000).filter { $0 % 3 != 0 || 10 + $0 % 100 > 60 }.count
        #expect(try loaded.keys().count == expected)
        loaded.engine.checkInvariants()
    }

    @Test func expiredKeysAreSkippedOnSaveAndOnLoad() throws {
        let dir = try makeTemporaryDirectory()
        defer { removeDirectory(dir) }
        let clock = ManualClock()
        let store = try makeStore(String.self, clock: clock, sweepInterval: .seconds(3600))
        try store.set("gone", "x", ttl: .seconds(1))
        try store.set("later", "y", ttl: .seconds(10))
        try store.set("stay", "z")
        clock.advance(by: .seconds(2))
        try store.saveSnapshot(to: dir + "/s")
        let loaded = try makeStore(String.self, clock: clock)
        try loaded.loadSnapshot(from: dir + "/s")
        #expect(Set(try loaded.keys()) == ["later", "stay"])
        #expect(loaded.count == 2)
        clock.advance(by: .seconds(20))  // "later" expired between save and load
        let again = try makeStore(String.self, clock: clock)
        try again.loadSnapshot(from: dir + "/s")
        #expect(try again.keys() == ["stay"])
        #expect(again.count == 1)
    }

    @Test func valueBytesAreStoredAsTheirRawBytes() throws {
        let dir = try makeTemporaryDirectory()
        defer { removeDirectory(dir) }
        let store = try KeyValueStore<ValueBytes>(shardCount: 4)
        let values: [String: ValueBytes] = [
            "empty": [], "one": [0xFF], "binary": ValueBytes((0..<200).map { UInt8($0) }),
        ]
        for (key, value) in values { try store.set(key, value) }
        try store.saveSnapshot(to: dir + "/bytes")

        let loaded = try KeyValueStore<ValueBytes>(shardCount: 8)
        try loaded.loadSnapshot(from: dir + "/bytes")
        #expect(try contents(loaded) == values)

        // Raw bytes, not a tagged Codable encoding: a store of `[UInt8]`, which is stored
        // raw, reads the same file and gets the same bytes.
        let arrays = try KeyValueStore<[UInt8]>(shardCount: 4)
        try arrays.loadSnapshot(from: dir + "/bytes")
        #expect(try contents(arrays) == values.mapValues { Array($0) })
    }

    @Test func loadReplacesTheWholeContents() throws {
        let dir = try makeTemporaryDirectory()
        defer { removeDirectory(dir) }
        let store = try KeyValueStore<Profile>(shardCount: 4)
        let alice = Profile(name: "Alice", age: 30, tags: ["a", "b"], score: 1.5)
        try store.set("alice", alice)
        try store.saveSnapshot(to: dir + "/s")
        try store.set("bob", Profile(name: "Bob", age: 40, tags: [], score: nil))
        try store.delete("alice")
        try store.loadSnapshot(from: dir + "/s")
        #expect(try store.keys() == ["alice"])
        #expect(try store.get("alice") == alice)
        #expect(store.count == 1)
        store.engine.checkInvariants()
    }

    /// A store with known contents and a valid snapshot of other contents, for the
    /// rejection tests: after a failed load the store must hold exactly `before`.
    func fixture(_ dir: String) throws -> (store: KeyValueStore<String>, file: [UInt8], before: [String: String]) {
        let source = try KeyValueStore<String>(shardCount: 4)
        for i in 0..<200 { try source.set("s\(i)", "snapshot value \(i)") }
        try source.set("t", "with ttl", ttl: .seconds(3600))
        try source.saveSnapshot(to: dir + "/good")
        let store = try KeyValueStore<String>(shardCount: 8)
        for i in 0..<50 { try store.set("live\(i)", "live value \(i)") }
        try store.set("ttl", "x", ttl: .seconds(3600))
        let file = try [UInt8](Data(contentsOf: URL(fileURLWithPath: dir + "/good")))
        return (store, file, try contents(store))
    }

    func expectRejected(
        _ store: KeyValueStore<String>,
        _ bytes: [UInt8],
        _ dir: String,
        before: [String: String],
        codes: Set<KVSError.Code>,
        sourceLocation: SourceLocation = #_sourceLocation
    ) throws {
        let path = dir + "/bad"
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        let error = #expect(throws: KVSError.self, sourceLocation: sourceLocation) {
            try store.loadSnapshot(from: path)
        }
        #expect(
            error.map { codes.contains($0.code) } == true,
            "\(String(describing: error))",
            sourceLocation: sourceLocation
        )
        #expect(try contents(store) == before, "the store is unchanged", sourceLocation: sourceLocation)
        #expect(store.count == before.count, sourceLocation: sourceLocation)
        #expect(try store.timeToLive("ttl") != nil, sourceLocation: sourceLocation)
    }

    @Test(.dedicatedThread) func corruptionAtAnyByteIsRejected() throws {
        let dir = try makeTemporaryDirectory()
        defer { removeDirectory(dir) }
        let (store, file, before) = try fixture(dir)
        var rng = SystemRandomNumberGenerator()
        // Every byte of the header and trailer, and 200 random bytes of the body.
        let offsets =
            Array(0..<24) + Array((file.count - 12)..<file.count)
            + (0..<200).map { _ in Int.random(in: 24..<(file.count - 12), using: &rng) }
        for offset in offsets {
            var bad = file
            bad[offset] ^= UInt8.random(in: 1...255, using: &rng)
            let codes: Set<KVSError.Code> =
                (8..<12).contains(offset) ? [.snapshotUnsupportedVersion] : [.snapshotCorrupted]
            try expectRejected(store, bad, dir, before: before, codes: codes)
        }
    }

    @Test func truncatedFilesAreRejected() throws {
        let dir = try makeTemporaryDirectory()
        defer { removeDirectory(dir) }
        let (store, file, before) = try fixture(dir)
        for length in [0, 1, 7, 8, 12, 23, 24, 35, 36, file.count / 2, file.count - 5, file.count - 1] {
            try expectRejected(store, Array(file.prefix(length)), dir, before: before, codes: [.snapshotCorrupted])
        }
        try expectRejected(store, file + [0], dir, before: before, codes: [.snapshotCorrupted])
    }

    @Test func wrongVersionAndForeignFilesAreRejected() throws {
        let dir = try makeTemporaryDirectory()
        defer { removeDirectory(dir) }
        let (store, file, before) = try fixture(dir)
        var future = file
        future[8] = 2
        // Even with a correct checksum for version 2, version 1 code must refuse it.
        let crc = future.prefix(future.count - 4).withUnsafeBytes { CRC32.checksum($0) }
        withUnsafeBytes(of: crc.littleEndian) { for i in 0..<4 { future[future.count - 4 + i] = $0[i] } }
        try expectRejected(store, future, dir, before: before, codes: [.snapshotUnsupportedVersion])
        try expectRejected(
            store,
            Array("{\"this is\": \"json\"}".utf8),
            dir,
            before: before,
            codes: [.snapshotCorrupted]
        )
        try expectRejected(store, [UInt8](repeating: 0, count: 4096), dir, before: before, codes: [.snapshotCorrupted])
    }

    @Test func ioErrorsNameTheProblem() throws {
        let dir = try makeTemporaryDirectory()
        defer { removeDirectory(dir) }
        let store = try KeyValueStore<String>(shardCount: 2)
        try store.set("k", "v")
        let missing = expectKVSError(.io) { try store.loadSnapshot(from: dir + "/does-not-exist") }
        #expect(missing?.message.contains("does-not-exist") == true)
        expectKVSError(.io) { try store.loadSnapshot(from: dir) }  // a directory
        expectKVSError(.io) { try store.saveSnapshot(to: dir + "/no/such/dir/snap") }
        #expect(try store.get("k") == "v")
    }

    @Test func aFailedSaveLeavesThePreviousSnapshotIntact() throws {
        struct Flaky: Codable, Sendable, Equatable {
            var fail: Bool
            func encode(to encoder: any Encoder) throws {
                if fail { throw EncodingError.invalidValue(fail, .init(codingPath: [], debugDescription: "refused")) }
                var c = encoder.singleValueContainer()
                try c.encode(fail)
            }
            init(fail: Bool) { self.fail = fail }
            init(from decoder: any Decoder) throws { fail = try decoder.singleValueContainer().decode(Bool.self) }
        }
        let dir = try makeTemporaryDirectory()
        defer { removeDirectory(dir) }
        let store = try KeyValueStore<Flaky>(shardCount: 2)
        try store.set("ok", Flaky(fail: false))
        try store.saveSnapshot(to: dir + "/s")
        let good = try Data(contentsOf: URL(fileURLWithPath: dir + "/s"))
        try store.set("bad", Flaky(fail: true))
        expectKVSError(.invalidArgument) { try store.saveSnapshot(to: dir + "/s") }
        #expect(try Data(contentsOf: URL(fileURLWithPath: dir + "/s")) == good)
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir) == ["s"], "no temporary file is left behind")
    }

    @Test(.dedicatedThread) func saveRunsWhileOthersWrite() async throws {
        let dir = try makeTemporaryDirectory()
        defer { removeDirectory(dir) }
        let store = try KeyValueStore<Int>(shardCount: 16)
        for i in 0..<20_000 { try store.set("k\(i)", 0) }
        // A writer bumps the keys from 0 to 1 in index order while the save runs; the
        // snapshot must be one point in time across all shards: every key present, and
        // the keys already at 1 a prefix of the writer's order.
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { for i in 0..<20_000 { try store.set("k\(i)", 1) } }
            group.addTask { try store.saveSnapshot(to: dir + "/s") }
            try await group.waitForAll()
        }
        let loaded = try KeyValueStore<Int>(shardCount: 3)
        try loaded.loadSnapshot(from: dir + "/s")
        #expect(loaded.count == 20_000)
        let values = try contents(loaded)
        #expect(values.values.allSatisfy { $0 == 0 || $0 == 1 })
        let ones = (0..<20_000).filter { values["k\($0)"] == 1 }
        #expect(ones == Array(0..<ones.count), "the snapshot saw a prefix of the writes")
        #expect(try contents(store).values.allSatisfy { $0 == 1 })
    }
}
