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
