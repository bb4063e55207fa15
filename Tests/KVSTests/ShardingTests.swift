import KVSTestSupport
import Foundation
import KVS
import Testing

@Suite("Sharding: FNV-1a, normalization, custom hashes")
struct ShardingTests {
    @Test func fnv1aMatchesPublishedVectors() {
        // FNV-1a 32-bit test vectors (Fowler/Noll/Vo).
        let vectors: [(String, UInt32)] = [("", 0x811C_9DC5), ("a", 0xE40C_292C), ("foobar", 0xBF9C_F968)]
        for (input, expected) in vectors {
            #expect(input.shardHash == expected, "\(input)")
            #expect(ByteKey(input).shardHash == expected)
        }
    }

    @Test func shardIndexAgreesWithTheGoSeed() throws {
        // The Go design computes fnv1a32(key) % numShards; compute it independently here.
        func goFNV(_ key: String, _ n: Int) -> Int {
            var h: UInt32 = 2_166_136_261
            for b in key.utf8 { h ^= UInt32(b); h = h &* 16_777_619 }
            return Int(h % UInt32(n))
        }
        let engine = try StoreEngine<String, Int>(shardCount: 256)
        for i in stride(from: 0, to: 1_000_000, by: 9_973) {
            let key = String(format: "key:%08d", i)
            #expect(engine.shardIndex(of: key) == goFNV(key, 256))
        }
    }

    @Test func nonASCIIKeysHashTheirNFCForm() {
        let pairs = [("\u{E9}", "e\u{301}"), ("\u{1E69}", "s\u{323}\u{307}"), ("\u{AC00}", "\u{1100}\u{1161}")]
        for (a, b) in pairs {
            #expect(a == b)
            #expect(a.shardHash == b.shardHash)
            var nfc = a.precomposedStringWithCanonicalMapping
            let expected = nfc.withUTF8 { FNV1a.hash(UnsafeRawBufferPointer($0)) }
            #expect(b.shardHash == expected)
        }
        // Byte keys are compared byte for byte: the two spellings are two keys.
        #expect(ByteKey("\u{E9}") != ByteKey("e\u{301}"))
    }

    @Test func customHashPlacesKeys() throws {
        let store = try KeyValueStore<Int>(shardCount: 4, hash: { key in key.hasPrefix("a") ? 0 : 3 })
        defer { store.close() }
        try store.set("apple", 1)
        try store.set("banana", 2)
        #expect(store.engine.shardIndex(of: "apple") == 0)
        #expect(store.engine.shards[0].withLock { $0.table.count } == 1)
        #expect(store.engine.shards[3].withLock { $0.table.count } == 1)
        #expect(try store.get("banana") == 2)
    }

    @Test func outOfRangeCustomHashFailsOnlyThatKey() throws {
        let store = try KeyValueStore<Int>(shardCount: 4, hash: { key in key == "bad" ? 4 : key == "neg" ? -1 : 1 })
        defer { store.close() }
        try store.set("good", 1)
        for key in ["bad", "neg"] {
            expectKVSError(.invalidShardIndex, key: key) { try store.set(key, 2) }
            expectKVSError(.invalidShardIndex, key: key) { try store.get(key) }
            expectKVSError(.invalidShardIndex, key: key) { try store.delete(key) }
            expectKVSError(.invalidShardIndex, key: key) { try store.set(key, 2, ttl: .seconds(1)) }
            #expect(!store.exists(key))
        }
        #expect(store.count == 1, "nothing was written for the bad keys")
        let set = try store.batchSet(["good": 5, "bad": 6, "other": 7])
        #expect(set.successful == 2)
        #expect(set.errors["bad"]?.code == .invalidShardIndex)
        let got = try store.batchGet(["good", "bad", "other"])
        #expect(got.values == ["good": 5, "other": 7])
        #expect(got.errors["bad"]?.code == .invalidShardIndex)
        let deleted = try store.batchDelete(["good", "neg"])
        #expect(deleted.deleted == 1)
        #expect(deleted.errors["neg"]?.code == .invalidShardIndex)
        #expect(store.count == 1)
        #expect(try store.keys() == ["other"])
    }

    @Test func loadingIntoADifferentShardCountReplacesKeys() throws {
        let dir = try makeTemporaryDirectory()
        defer { removeDirectory(dir) }
        let small = try KeyValueStore<Int>(shardCount: 3)
        for i in 0..<5000 { try small.set("k\(i)", i) }
        try small.saveSnapshot(to: dir + "/s")
        let big = try KeyValueStore<Int>(shardCount: 97)
        try big.loadSnapshot(from: dir + "/s")
        #expect(big.count == 5000)
        for i in stride(from: 0, to: 5000, by: 7) { #expect(try big.get("k\(i)") == i) }
        big.engine.checkInvariants()  // every key sits in its own shard
    }
}
