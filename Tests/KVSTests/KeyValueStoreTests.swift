import KVS
import KVSTestSupport
import Testing

@Suite("KeyValueStore: single-key operations")
struct KeyValueStoreTests {
    @Test func setGetDeleteRoundTrip() throws {
        let store = try KeyValueStore<String>(shardCount: 4)
        defer { store.shutdown() }
        try store.set("a", "1")
        try store.set("b", "2")
        #expect(try store.get("a") == "1")
        #expect(try store.get("b") == "2")
        #expect(store.count == 2)
        try store.set("a", "one")
        #expect(try store.get("a") == "one")
        #expect(store.count == 2, "overwriting does not add a key")
        try store.delete("a")
        #expect(store.count == 1)
        #expect(!store.exists("a"))
        #expect(store.exists("b"))
    }

    @Test func missingKeysThrowNotFoundNamingTheKey() throws {
        let store = try KeyValueStore<Int>(shardCount: 4)
        defer { store.shutdown() }
        let error = expectKVSError(.notFound, key: "nope") { try store.get("nope") }
        #expect(error?.description.contains("nope") == true)
        expectKVSError(.notFound, key: "nope") { try store.delete("nope") }
        try store.set("x", 1)
        try store.delete("x")
        expectKVSError(.notFound, key: "x") { try store.delete("x") }
        #expect(store.count == 0)
    }

    @Test func withValueLendsTheStoredValue() throws {
        let store = try KeyValueStore<ValueBytes>(shardCount: 4)
        defer { store.shutdown() }
        try store.set("k", ValueBytes([1, 2, 3]))
        #expect(try store.withValue("k") { $0.count } == 3)
        #expect(try store.withValue("k") { Array($0) } == [1, 2, 3])
        try store.set("k", ValueBytes([9]))
        #expect(try store.withValue("k") { $0[0] } == 9, "the current value, not an earlier one")
        var calls = 0
        expectKVSError(.notFound, key: "nope") { try store.withValue("nope") { _ in calls += 1 } }
        #expect(calls == 0, "body is not called for an absent key")
        store.shutdown()
        expectKVSError(.storeClosed) { try store.withValue("k") { _ in calls += 1 } }
        #expect(calls == 0)
    }

    @Test func withValueNeitherCopiesNorRetainsTheValue() throws {
        // A class value lent in place is still uniquely referenced by the table inside
        // `body`: `get` returns a second reference, `withValue` must not make one.
        final class Box: Sendable {
            let n: Int
            init(_ n: Int) { self.n = n }
        }
        let store = try KeyValueStore<Box>(shardCount: 1)
        defer { store.shutdown() }
        try store.set("k", Box(7))
        let countInside = try store.withValue("k") { box in
            strongReferenceCount(Unmanaged.passUnretained(box).toOpaque())
        }
        #expect(countInside == 1, "only the table's reference: the lent value was not retained")
        let held = try store.get("k")
        #expect(try store.withValue("k") { box in strongReferenceCount(Unmanaged.passUnretained(box).toOpaque()) } == 2)
        #expect(try store.withValue("k") { box in box === held })
    }

    @Test func withValueOnAnExpiredKeyRemovesIt() throws {
        let clock = ManualClock()
        let store = try makeStore(Int.self, clock: clock, sweepInterval: .seconds(3600))
        defer { store.shutdown() }
        try store.set("t", 5, ttl: .seconds(1))
        #expect(try store.withValue("t") { $0 + 1 } == 6)
        clock.advance(by: .seconds(1))
        var calls = 0
        expectKVSError(.notFound, key: "t") { try store.withValue("t") { _ in calls += 1 } }
        #expect(calls == 0)
        #expect(store.count == 0, "withValue removed the expired entry (passive expiry)")
        store.engine.checkInvariants()
    }

    @Test func withValueRejectsAnOutOfRangeCustomHash() throws {
        let store = try KeyValueStore<Int>(shardCount: 4, hash: { _ in 4 })
        defer { store.shutdown() }
        expectKVSError(.invalidShardIndex) { try store.withValue("k") { $0 } }
    }

    @Test func replacedAndRemovedValuesAreReleasedAfterTheUnlock() throws {
        // A value's last release (its deinit, its `free`) must not lengthen the shard's
        // critical section: each replaced or removed value checks, as it goes, that the
        // shard's lock is free.
        final class Witness: Sendable {
            let onRelease: @Sendable () -> Void
            init(_ onRelease: @escaping @Sendable () -> Void) { self.onRelease = onRelease }
            deinit { onRelease() }
        }
        let store = try KeyValueStore<Witness>(shardCount: 1)
        defer { store.shutdown() }
        let lockWasFree = Locked<[Bool]>([])
        let shard = store.engine.shards[0]
        let witness: @Sendable () -> Witness = {
            Witness {
                let free = shard.tryLock()
                if free { shard.unlock() }
                lockWasFree.withLock { $0.append(free) }
            }
        }
        try store.set("k", witness())  // the test's own reference goes after the call
        try store.set("k", witness())  // replaces the first
        try store.delete("k")  // removes the second
        try store.set("u", witness())
        _ = try store.update("u") { _ in witness() }  // the read-modify-write path
        _ = try store.update("u") { _ in nil }
        _ = try store.batchSet(["b1": witness(), "b2": witness()])
        _ = try store.batchSet(["b1": witness(), "b2": witness()])  // replaces both
        _ = try store.batchDelete(["b1", "b2"])  // removes both
        #expect(lockWasFree.withLock { $0 } == Array(repeating: true, count: 8))
    }

    @Test func invalidShardCounts() {
        for count in [0, -1, Int.min, (1 << 20) + 1] {
            expectKVSError(.invalidShardCount) { try KeyValueStore<Int>(shardCount: count) }
            expectKVSError(.invalidShardCount) { try KeyValueStore<Int>(shardCount: count, hash: { _ in 0 }) }
        }
        #expect(throws: Never.self) { try KeyValueStore<Int>(shardCount: 1).shutdown() }
    }

    @Test("the default shard count is a power of two, at least 4 per processor, 64...4096")
    func defaultShardCount() throws {
        #expect(KeyValueStore<Int>.defaultShardCount(processorCount: 1) == 64)
        #expect(KeyValueStore<Int>.defaultShardCount(processorCount: 16) == 64)
        #expect(KeyValueStore<Int>.defaultShardCount(processorCount: 17) == 128)
        #expect(KeyValueStore<Int>.defaultShardCount(processorCount: 96) == 512)
        #expect(KeyValueStore<Int>.defaultShardCount(processorCount: 10_000) == 4096)
        let store = KeyValueStore<Int>()
        defer { store.shutdown() }
        #expect(store.shardCount == KeyValueStore<Int>.defaultShardCount)
        #expect(store.shardCount.nonzeroBitCount == 1)
        try store.set("a", 1)
        #expect(try store.get("a") == 1)
    }

    @Test func emptyAndUnusualKeys() throws {
        let store = try KeyValueStore<Int>(shardCount: 16)
        defer { store.shutdown() }
        let keys = ["", " ", "\0", "key with spaces", "ключ", "🔑", String(repeating: "k", count: 10_000)]
        for (i, key) in keys.enumerated() { try store.set(key, i) }
        for (i, key) in keys.enumerated() { #expect(try store.get(key) == i) }
        #expect(Set(try store.keys()) == Set(keys))
        #expect(store.count == keys.count)
    }

    @Test func canonicallyEquivalentKeysAreOneKey() throws {
        let composed = "caf\u{E9}"
        let decomposed = "cafe\u{301}"
        #expect(composed == decomposed)
        for shards in [1, 7, 64, 256] {
            let store = try KeyValueStore<Int>(shardCount: shards)
            defer { store.shutdown() }
            try store.set(composed, 1)
            #expect(try store.get(decomposed) == 1)
            try store.set(decomposed, 2)
            #expect(store.count == 1)
            #expect(try store.get(composed) == 2)
            try store.delete(decomposed)
            #expect(!store.exists(composed))
        }
    }

    @Test func removeAllEmptiesTheStore() throws {
        let store = try KeyValueStore<Int>(shardCount: 8)
        for i in 0..<1000 { try store.set("k\(i)", i) }
        try store.set("t", 1, ttl: .seconds(60))
        try store.removeAll()
        #expect(store.count == 0)
        #expect(try store.keys().isEmpty)
        #expect(!store.exists("k1"))
        store.engine.checkInvariants()
        try store.set("k1", 2)
        #expect(store.count == 1)
        store.shutdown()
        expectKVSError(.storeClosed) { try store.removeAll() }
    }

    @Test func keysListsEveryLiveKeyOnce() throws {
        let store = try KeyValueStore<Int>(shardCount: 32)
        defer { store.shutdown() }
        for i in 0..<1000 { try store.set("k\(i)", i) }
        for i in stride(from: 0, to: 1000, by: 2) { try store.delete("k\(i)") }
        let keys = try store.keys()
        #expect(keys.count == 500)
        #expect(Set(keys) == Set(stride(from: 1, to: 1000, by: 2).map { "k\($0)" }))
    }

    @Test func worksThroughTheStoreProtocol() throws {
        func roundTrip(_ store: some Store<String>) throws -> [String] {
            try store.set("p", "q")
            #expect(try store.get("p") == "q")
            try store.delete("p")
            #expect(throws: KVSError.self) { try store.get("p") }
            try store.set("r", "s")
            return try store.keys()
        }
        let store = try KeyValueStore<String>(shardCount: 2)
        defer { store.shutdown() }
        #expect(try roundTrip(store) == ["r"])
    }

    @Test func sizeIsHumanReadableAndGrows() throws {
        let store = try KeyValueStore<[UInt8]>(shardCount: 4)
        defer { store.shutdown() }
        #expect(store.size == "0 B")
        for i in 0..<10_000 { try store.set("key:\(i)", [UInt8](repeating: 1, count: 100)) }
        #expect(store.estimatedByteCount >= 10_000 * 100)
        #expect(store.size.hasSuffix(" MB"))
        #expect(KeyValueStore<Int>.formatBytes(999) == "999 B")
        #expect(KeyValueStore<Int>.formatBytes(1_500) == "1.5 KB")
        #expect(KeyValueStore<Int>.formatBytes(12_345_678) == "12.3 MB")
        #expect(KeyValueStore<Int>.formatBytes(999_990) == "1.0 MB")
    }

    @Test func errorDescriptionsAreActionable() {
        let e = KVSError.notFound("user:1")
        #expect(
            e.description == "KVSError.notFound (key \"user:1\"): no value is stored under this key, or it has expired"
        )
        #expect(KVSError.Code.storeClosed.description == "storeClosed")
        #expect(KVSError.storeClosed().key == nil)
    }
}

/// The strong reference count of a native Swift object (the runtime's own debugging entry
/// point), for checking that a value is lent without a retain.
@_silgen_name("swift_retainCount")
private func strongReferenceCount(_ object: UnsafeMutableRawPointer) -> Int
