import KVS
import KVSTestSupport
import Testing

/// The part of ``checkAsyncStoreConformance(_:timeToLive:)`` about `setIfAbsent` and `update`,
/// which every back end must implement with the same meaning. Every key carries the hash tag
/// `{acct}`, so that on a cluster they all live on one slot. `store` must start empty.
func checkAtomicStoreConformance(
    _ store: some AsyncStore<String>,
    timeToLive: (String) async throws -> Duration?
) async throws {
    // setIfAbsent: writes only an absent key; a negative TTL writes nothing.
    #expect(try await store.setIfAbsent("{acct}:a", "1", ttl: .zero))
    #expect(try await store.setIfAbsent("{acct}:a", "2", ttl: .zero) == false)
    #expect(try await store.get("{acct}:a") == "1")
    #expect(try await store.setIfAbsent("{acct}:a", "3", ttl: .seconds(60)) == false)
    #expect(try await store.get("{acct}:a") == "1")
    await expectKVSError(.invalidTTL) { try await store.setIfAbsent("{acct}:b", "x", ttl: .milliseconds(-1)) }
    #expect(try await store.exists("{acct}:b") == false)
    // A key set with a TTL is absent again once the TTL has passed.
    #expect(try await store.setIfAbsent("{acct}:b", "short", ttl: .milliseconds(200)))
    try await Task.sleep(for: .milliseconds(700))  // past the 200 ms TTL whatever the load: not a timing bet
    #expect(try await store.setIfAbsent("{acct}:b", "after expiry", ttl: .zero))
    #expect(try await store.get("{acct}:b") == "after expiry")

    // update: insert, modify, delete; nil for an absent key writes nothing.
    var seen: [String?] = []
    let inserted = try await store.update("{acct}:n") { old in
        seen.append(old)
        return "1"
    }
    #expect(inserted == "1")
    #expect(seen.last == .some(nil))
    let modified = try await store.update("{acct}:n") { old in
        seen.append(old)
        return (old ?? "") + "+1"
    }
    #expect(modified == "1+1")
    #expect(seen.last == "1")
    #expect(try await store.get("{acct}:n") == "1+1")
    let removed = try await store.update("{acct}:n") { _ in nil }
    #expect(removed == nil)
    #expect(try await store.exists("{acct}:n") == false)
    let nothing = try await store.update("{acct}:never") { _ in nil }
    #expect(nothing == nil)
    #expect(try await store.exists("{acct}:never") == false)

    // A transform that throws leaves the value as it was, and its error comes out unchanged.
    do {
        try await store.update("{acct}:a") { _ in throw TransformRefused() }
        Issue.record("update with a throwing transform returned")
    } catch is TransformRefused {
        // expected
    }
    #expect(try await store.get("{acct}:a") == "1")

    // Concurrent updates of one key lose no increment.
    try await store.set("{acct}:counter", "0")
    let tasks = 8
    let increments = 25
    try await withThrowingTaskGroup(of: Void.self) { group in
        for _ in 0..<tasks {
            group.addTask {
                for _ in 0..<increments {
                    // Eight writers of one key: a network store's update can lose every one
                    // of its optimistic attempts to the others and give up with
                    // `.transactionConflict`, having written nothing (RedisStore after 64,
                    // which happens under ThreadSanitizer in `.ci/run`). Such an update is
                    // made again, a bounded number of times; the count below still shows
                    // that no increment was lost or applied twice.
                    var conflicts = 0
                    while true {
                        do {
                            try await store.update("{acct}:counter") { old in String((old.flatMap { Int($0) } ?? 0) + 1)
                            }
                            break
                        } catch let error as KVSError where error.code == .transactionConflict && conflicts < 16 {
                            conflicts += 1
                        }
                    }
                }
            }
        }
        try await group.waitForAll()
    }
    #expect(try await store.get("{acct}:counter") == String(tasks * increments))
    #expect(Set(try await store.keys()) == ["{acct}:a", "{acct}:b", "{acct}:counter"])

    try await checkUpdateWithTTL(store, timeToLive: timeToLive)
    for key in try await store.keys() where key.hasPrefix("{acct}:ttl") { try await store.delete(key) }
}

/// `update(_:ttl:_:)` through the protocol: `.keep` keeps the deadline (none for a new key),
/// `.expire(after:)` sets one, `.persist` and `.expire(after: .zero)` remove it; a negative TTL
/// throws `.invalidTTL` before `transform` runs; a throwing `transform` changes nothing. The TTLs
/// are long and checked within ranges, so the load of the machine does not matter.
func checkUpdateWithTTL(
    _ store: some AsyncStore<String>,
    timeToLive: (String) async throws -> Duration?
) async throws {
    func increment(_ old: String?) -> String? { String((old.flatMap { Int($0) } ?? 0) + 1) }
    func expectTTL(_ key: String, in range: ClosedRange<Duration>, _ comment: Comment) async throws {
        let ttl = try await timeToLive(key)
        #expect(ttl.map(range.contains) == true, "\(comment): \(String(describing: ttl))")
    }

    try await store.set("{acct}:ttl", "1", ttl: .seconds(60))
    #expect(try await store.update("{acct}:ttl", ttl: .keep, increment) == "2")
    try await expectTTL("{acct}:ttl", in: .milliseconds(1)...(.seconds(60)), ".keep keeps the TTL")
    #expect(try await store.update("{acct}:ttl", ttl: .expire(after: .seconds(600)), increment) == "3")
    try await expectTTL("{acct}:ttl", in: .seconds(61)...(.seconds(600)), ".expire(after:) sets a new one")
    #expect(try await store.update("{acct}:ttl", ttl: .persist, increment) == "4")
    #expect(try await timeToLive("{acct}:ttl") == nil, ".persist removes it")
    try await store.set("{acct}:ttl", "4", ttl: .seconds(60))
    #expect(try await store.update("{acct}:ttl", ttl: .expire(after: .zero), increment) == "5")
    #expect(try await timeToLive("{acct}:ttl") == nil, ".expire(after: .zero) is no expiry")

    // A key the update creates: none with .keep, the given one with .expire(after:).
    #expect(try await store.update("{acct}:ttl-new", ttl: .keep, increment) == "1")
    #expect(try await timeToLive("{acct}:ttl-new") == nil)
    #expect(try await store.update("{acct}:ttl-timed", ttl: .expire(after: .seconds(60)), increment) == "1")
    try await expectTTL("{acct}:ttl-timed", in: .milliseconds(1)...(.seconds(60)), "a new key with a TTL")
    // nil deletes whatever `ttl` says.
    #expect(try await store.update("{acct}:ttl-timed", ttl: .expire(after: .seconds(5))) { _ in nil } == nil)
    #expect(try await store.exists("{acct}:ttl-timed") == false)

    // A negative TTL: .invalidTTL before `transform` runs; value and TTL as they were.
    try await store.set("{acct}:ttl", "5", ttl: .seconds(60))
    var ran = false
    await expectKVSError(.invalidTTL) {
        try await store.update("{acct}:ttl", ttl: .expire(after: .milliseconds(-1))) { old in
            ran = true
            return old
        }
    }
    #expect(!ran)
    #expect(try await store.get("{acct}:ttl") == "5")
    try await expectTTL("{acct}:ttl", in: .milliseconds(1)...(.seconds(60)), "a refused update keeps the TTL")

    // The overload whose transform throws `any Error`: its error comes out unchanged, nothing
    // written; its result as the typed one's.
    do {
        try await store.update("{acct}:ttl", ttl: .persist) { _ in throw TransformRefused() }
        Issue.record("update(_:ttl:_:) with a throwing transform returned")
    } catch is TransformRefused {
        // expected
    }
    #expect(try await store.get("{acct}:ttl") == "5")
    try await expectTTL("{acct}:ttl", in: .milliseconds(1)...(.seconds(60)), "a throwing transform keeps the TTL")
    let untyped = try await store.update("{acct}:ttl", ttl: .persist) { old in
        guard let old else { throw TransformRefused() }
        return old + "!"
    }
    #expect(untyped == "5!")
    #expect(try await timeToLive("{acct}:ttl") == nil)
}

/// What the throwing transform of ``checkAtomicStoreConformance(_:)`` throws.
private struct TransformRefused: Error {}
