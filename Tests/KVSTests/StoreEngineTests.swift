import Foundation
import KVS
import Testing

/// The engine's building blocks for the Redis-protocol server: binary keys, per-shard
/// scans, random keys.
@Suite("StoreEngine: byte keys, scans, random keys")
struct StoreEngineTests {
    @Test func byteKeysAreComparedByteForByte() throws {
        let engine = try StoreEngine<ByteKey, [UInt8]>(shardCount: 16)
        defer { engine.close() }
        let invalidUTF8 = ByteKey([0xFF, 0xFE, 0x00, 0x80])
        try engine.set(invalidUTF8, [1])
        try engine.set(ByteKey("\u{E9}"), [2])
        try engine.set(ByteKey("e\u{301}"), [3])  // canonically equivalent, but other bytes
        #expect(try engine.get(invalidUTF8) == [1])
        #expect(try engine.get(ByteKey("\u{E9}")) == [2])
        #expect(try engine.get(ByteKey("e\u{301}")) == [3])
        #expect(engine.count == 3)
        #expect(invalidUTF8.displayName == "\\xff\\xfe\\x00\\x80")
        let error = #expect(throws: KVSError.self) { try engine.get(ByteKey([0x01])) }
        #expect(error?.key == "\\x01")
    }

    /// `keys()` and a snapshot save leave no point-in-time copy behind (`endReading` drops
    /// them after taking each shard's lock once): the next write to a shard finds its
    /// storage unshared and writes in place, where a copy still held would make it copy the
    /// table first. (The ordering `endReading` adds for ThreadSanitizer is checked by the
    /// sanitizer run of `ConcurrencyTests` in `.ci/run`, not here.)
    @Test func pointInTimeReadsDropTheirCopies() throws {
        let engine = try StoreEngine<String, Int>(shardCount: 1)
        defer { engine.close() }
        for i in 0..<100 { try engine.set("k\(i)", i) }
        let slots = { engine.withLockedShard(at: 0) { _, state in state.table.slotsAddress } }
        let before = slots()
        #expect(try engine.keys().count == 100)
        try engine.set("k0", -1)  // an overwrite: no growth
        #expect(slots() == before, "the write copied the table: keys() still held a copy")

        let path = NSTemporaryDirectory() + "kvs-endreading-\(UInt64.random(in: 0...UInt64.max)).snapshot"
        defer { unlink(path) }
        try engine.saveSnapshot(to: path) { value, bytes in bytes.appendLittleEndian(Int64(value)) }
        try engine.set("k1", -1)
        #expect(slots() == before, "the write copied the table: the save still held a copy")

        // A copy that is still held does make the write copy (what the two checks rely on).
        let (held, _) = engine.pointInTimeTables()
        try engine.set("k2", -1)
        #expect(slots() != before)
        #expect(held[0]["k2"]?.value == 2)
    }

    @Test func shardScansCoverEveryKeyOnce() throws {
        let engine = try StoreEngine<String, Int>(shardCount: 8)
        defer { engine.close() }
        for i in 0..<500 { try engine.set("k\(i)", i) }
        let scanned = (0..<engine.shardCount).flatMap { engine.keys(inShard: $0) }
        #expect(scanned.count == 500)
        #expect(Set(scanned).count == 500)
        #expect(engine.keys(inShard: 99).isEmpty)
    }

    @Test func randomKeyReturnsALiveKey() throws {
        let clock = ManualClock()
        let engine = try StoreEngine<String, Int>(shardCount: 8, clock: .manual(clock))
        defer { engine.close() }
        #expect(engine.randomKey() == nil)
        try engine.set("gone", 0, expiresAt: clock.now() + 1)
        clock.advance(by: .seconds(1))
        #expect(engine.randomKey() == nil, "an expired key is never returned")
        for i in 0..<20 { try engine.set("k\(i)", i) }
        var seen = Set<String>()
        for _ in 0..<200 {
            let key = try #require(engine.randomKey())
            #expect(key.hasPrefix("k"))
            seen.insert(key)
        }
        #expect(seen.count > 1)
    }
}
