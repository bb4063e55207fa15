import KVS
import KVSTestSupport
import Testing

/// The part of ``checkAsyncStoreConformance(_:)`` about `setIfAbsent` and `update`, which
/// every back end must implement with the same meaning. Every key carries the hash tag
/// `{acct}`, so that on a cluster they all live on one slot. `store` must start empty.
func checkAtomicStoreConformance(_ store: some AsyncStore<String>) async throws {
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
}

/// What the throwing transform of ``checkAtomicStoreConformance(_:)`` throws.
private struct TransformRefused: Error {}
