import KVS
import KVSTestSupport
import Testing

/// The AsyncStore contract, written once and run against every implementation: the embedded
/// store, RedisStore on kvs-server, RedisStore on redis-server. `store` must start empty.
/// `timeToLive` reads a live key's remaining time-to-live from the store (`nil`: none), which
/// the protocol does not offer.
package func checkAsyncStoreConformance(
    _ store: some AsyncStore<String>,
    timeToLive: (String) async throws -> Duration?
) async throws {
    // get / set / exists / delete, and the error codes for a missing key.
    await expectKVSError(.notFound) { try await store.get("missing") }
    #expect(try await store.exists("missing") == false)
    await expectKVSError(.notFound) { try await store.delete("missing") }
    try await store.set("a", "1")
    #expect(try await store.get("a") == "1")
    #expect(try await store.exists("a"))
    try await store.set("a", "2")
    #expect(try await store.get("a") == "2")
    try await store.set("empty", "")
    #expect(try await store.get("empty") == "")
    try await store.set("unicode ключ", "värde ✓")
    #expect(try await store.get("unicode ключ") == "värde ✓")
    try await store.delete("a")
    await expectKVSError(.notFound) { try await store.get("a") }
    #expect(try await store.exists("a") == false)

    // TTL: .zero is no expiry, negative is .invalidTTL and keeps the old value, positive expires.
    try await store.set("forever", "x", ttl: .zero)
    try await store.set("kept", "old")
    await expectKVSError(.invalidTTL) { try await store.set("kept", "new", ttl: .milliseconds(-1)) }
    #expect(try await store.get("kept") == "old")
    let start = ContinuousClock.now
    try await store.set("short", "gone soon", ttl: .milliseconds(500))
    let early = try? await store.get("short")
    // Checked only when the read surely came before the TTL ran out, so a slow machine
    // (a sanitizer run) skips this check instead of failing it.
    if ContinuousClock.now - start < .milliseconds(400) {
        #expect(early == "gone soon")
    }
    // update keeps the TTL (Redis's INCR, SET KEEPTTL): the updated key expires with the old one.
    try await store.set("counted", "1", ttl: .milliseconds(500))
    let updated = try await store.update("counted") { old in String((old.flatMap { Int($0) } ?? 0) + 1) }
    let updatedInTime = ContinuousClock.now - start < .milliseconds(400)
    if updatedInTime { #expect(updated == "2") }
    try await store.set("long", "stays", ttl: .seconds(60))
    try await Task.sleep(for: .milliseconds(1200))  // past the 500 ms TTL whatever the load: not a timing bet
    await expectKVSError(.notFound) { try await store.get("short") }
    #expect(try await store.exists("short") == false)
    if updatedInTime {  // else the update may have created a new key, with no TTL
        await expectKVSError(.notFound) { try await store.get("counted") }
    }
    _ = try? await store.delete("counted")
    #expect(try await store.get("long") == "stays")
    #expect(try await store.get("forever") == "x")
    try await store.set("long", "no ttl now")  // a plain set clears the TTL
    #expect(try await store.get("long") == "no ttl now")

    // keys: every live key once.
    #expect(Set(try await store.keys()) == ["empty", "unicode ключ", "forever", "kept", "long"])

    // Batches with per-key results.
    let items = Dictionary(uniqueKeysWithValues: (0..<250).map { ("b\($0)", "v\($0)") })
    let written = try await store.batchSet(items)
    #expect(written.successful == 250)
    #expect(written.errors.isEmpty)
    let found = try await store.batchGet(["b0", "b249", "nope", "b17"])
    #expect(found.values == ["b0": "v0", "b249": "v249", "b17": "v17"])
    #expect(found.errors.keys.sorted() == ["nope"])
    #expect(found.errors["nope"]?.code == .notFound)
    #expect(found.errors["nope"]?.key == "nope")
    let empty = try await store.batchGet([])
    #expect(empty.values.isEmpty && empty.errors.isEmpty)
    let deleted = try await store.batchDelete(["b0", "b1", "nope", "b2"])
    #expect(deleted.deleted == 3)
    #expect(deleted.errors.keys.sorted() == ["nope"])
    #expect(deleted.errors["nope"]?.code == .notFound)
    await expectKVSError(.notFound) { try await store.get("b1") }
    #expect(Set(try await store.keys()).count == 5 + 247)
    let rest = try await store.batchDelete(try await store.keys())
    #expect(rest.deleted == 252)
    #expect(try await store.keys().isEmpty)

    // Atomic operations (AtomicStoreConformance.swift).
    try await checkAtomicStoreConformance(store, timeToLive: timeToLive)
}
