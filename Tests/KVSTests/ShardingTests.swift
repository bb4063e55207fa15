import Foundation
import KVS
import KVSTestSupport
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
            for b in key.utf8 {
                h ^= UInt32(b)
                h = h &* 16_777_619
            }
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

    /// FNV-1a by the book, one byte at a time: the reference for the shard hash.
    static func referenceFNV(_ bytes: [UInt8]) -> UInt32 {
        var h: UInt32 = 2_166_136_261
        for b in bytes { h = (h ^ UInt32(b)) &* 16_777_619 }
        return h
    }

    /// Checks a key's `hashes`, `shardHash` and `tableHash` against FNV-1a and
    /// `TableHash.hash` over `nfcBytes`, computed here without `String`'s fast paths.
    static func expectHashes(
        _ key: String,
        nfcBytes: [UInt8],
        _ what: String,
        sourceLocation: SourceLocation = #_sourceLocation
    ) {
        let shard = referenceFNV(nfcBytes)
        let table = nfcBytes.withUnsafeBytes { TableHash.hash($0) }
        let hashes = key.hashes
        #expect(hashes.shard == shard, "\(what): shard hash of \(nfcBytes.count) bytes", sourceLocation: sourceLocation)
        #expect(hashes.table == table, "\(what): table hash of \(nfcBytes.count) bytes", sourceLocation: sourceLocation)
        #expect(key.shardHash == shard, "\(what)", sourceLocation: sourceLocation)
        #expect(key.tableHash == table, "\(what)", sourceLocation: sourceLocation)
    }

    /// The same characters in every representation a `String` can have here give the same
    /// hashes: small (up to 15 UTF-8 bytes, inline), native (heap) even when short, a
    /// copy of a slice, a bridged `NSString`; and each hash equals the reference over the
    /// NFC bytes. The lengths cover every branch of both hashes (FNV-1a's 8-byte blocks
    /// and its 0-to-7-byte tail, the table hash's short, 8-byte and multi-word paths).
    @Test func hashesAgreeAcrossRepresentations() {
        let alphabet = Array("key:0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJ".utf8)
        for n in 0...40 {
            let bytes = Array(alphabet.prefix(n))
            let small = String(decoding: bytes, as: UTF8.self)  // small when n <= 15
            var native = String()
            native.reserveCapacity(64)  // a heap buffer even for a short key
            native.append(small)
            let padded = String(decoding: [UInt8](repeating: 0x2D, count: 20) + bytes + [0x2D], as: UTF8.self)
            let sliced = String(padded.dropFirst(20).dropLast())
            let bridged = NSString(string: padded).substring(with: NSRange(location: 20, length: n))
            for (key, what) in [(small, "small"), (native, "native"), (sliced, "sliced"), (bridged, "NSString")] {
                #expect(key == small)
                Self.expectHashes(key, nfcBytes: bytes, "\(what), length \(n)")
            }
        }
    }

    /// Canonically equivalent non-ASCII keys (precomposed and decomposed, short and
    /// long) hash as their NFC bytes do, in every representation.
    @Test func nonASCIIHashesAgreeAcrossRepresentations() {
        let pairs = [
            ("\u{E9}", "e\u{301}"),
            ("caf\u{E9}:key-long-enough-for-the-heap", "cafe\u{301}:key-long-enough-for-the-heap"),
            ("\u{1E69}\u{AC00}", "s\u{323}\u{307}\u{1100}\u{1161}"),
        ]
        for (composed, decomposed) in pairs {
            let nfc = Array(composed.precomposedStringWithCanonicalMapping.utf8)
            var native = String()
            native.reserveCapacity(64)
            native.append(decomposed)
            let bridged = NSString(string: decomposed) as String
            for (key, what) in [
                (composed, "composed"), (decomposed, "decomposed"), (native, "native"), (bridged, "NSString"),
            ] {
                #expect(key == composed)
                Self.expectHashes(
                    key,
                    nfcBytes: nfc,
                    "\(what) \(composed.unicodeScalars.map { String($0.value, radix: 16) })"
                )
            }
        }
    }

    /// Every byte of a key counts in its table hash, at every length (the whole words, the
    /// 4-to-8-byte tail read as two halves, the 1-to-3-byte tail read as three bytes), and
    /// the hash depends only on the bytes, not on where they sit in memory. A tail read
    /// that skipped a byte, or read one past the key, fails here.
    @Test func everyByteCountsInTheTableHashWhereverTheKeySits() {
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 64, alignment: 16)
        defer { buffer.deallocate() }
        for n in 1...40 {
            let bytes = (0..<n).map { UInt8(truncatingIfNeeded: 0x61 &+ $0 &* 7) }
            let reference = bytes.withUnsafeBytes { TableHash.hash($0) }
            for shift in 0..<8 {
                buffer.initializeMemory(as: UInt8.self, repeating: 0xFF)  // a read past the key would see 0xFF
                let key = UnsafeMutableRawBufferPointer(rebasing: buffer[shift..<(shift + n)])
                key.copyBytes(from: bytes)
                #expect(TableHash.hash(UnsafeRawBufferPointer(key)) == reference, "\(n) bytes at offset \(shift)")
                buffer.initializeMemory(as: UInt8.self, repeating: 0x00)
                key.copyBytes(from: bytes)
                #expect(
                    TableHash.hash(UnsafeRawBufferPointer(key)) == reference,
                    "\(n) bytes at offset \(shift), zeros around"
                )
            }
            for position in 0..<n {
                var changed = bytes
                changed[position] ^= 0x01
                #expect(changed.withUnsafeBytes { TableHash.hash($0) } != reference, "byte \(position) of \(n)")
            }
            // One byte more or less (a zero byte) is another key.
            #expect((bytes + [0]).withUnsafeBytes { TableHash.hash($0) } != reference, "\(n) bytes and a zero")
        }
    }

    /// A second draw of the table-hash secret returns the one already drawn (every
    /// thread that races to draw it first agrees on one secret).
    @Test func theTableHashSecretIsDrawnOnce() {
        let before = "key:00000001".tableHash
        let secret = TableHash.secret
        let again = TableHash.drawSecret()
        #expect(again.0 == secret.0 && again.1 == secret.1)
        #expect(secret.0 & 1 == 1 && secret.1 & 1 == 1)
        #expect("key:00000001".tableHash == before)
    }

    @Test func customHashPlacesKeys() throws {
        let store = try KeyValueStore<Int>(shardCount: 4, hash: { key in key.hasPrefix("a") ? 0 : 3 })
        defer { store.shutdown() }
        try store.set("apple", 1)
        try store.set("banana", 2)
        #expect(store.engine.shardIndex(of: "apple") == 0)
        #expect(store.engine.shards[0].withLock { $0.table.count } == 1)
        #expect(store.engine.shards[3].withLock { $0.table.count } == 1)
        #expect(try store.get("banana") == 2)
    }

    @Test func outOfRangeCustomHashFailsOnlyThatKey() throws {
        let store = try KeyValueStore<Int>(shardCount: 4, hash: { key in key == "bad" ? 4 : key == "neg" ? -1 : 1 })
        defer { store.shutdown() }
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
