import KVS
import Testing

// Which overload of `update` and `transaction` Swift picks. The functions below throw
// `KVSError` only, so each compiles only if every call in it resolves to the overload that
// throws `KVSError`; the tests then run them. docs/design/typed-throws.md has the design.

private struct InsufficientFunds: Error, Equatable {}

/// Closures that do not throw, and closures declared `throws(KVSError)`, get the typed overloads.
private func typedCalls(_ store: KeyValueStore<Int>) throws(KVSError) -> Int {
    try store.update("n") { ($0 ?? 0) + 1 }
    try store.update("gone") { _ in nil }
    try store.update("n") { (value) throws(KVSError) -> Int? in
        guard let value else { throw KVSError(.notFound, key: "n", message: "n is not set") }
        return value + 1
    }
    try store.transaction { _ in }
    let five = try store.transaction { _ in 5 }
    try store.transaction { (tx) throws(KVSError) in try tx.set("m", try tx.get("n") + five) }
    let m = try store.transaction { (tx) throws(KVSError) -> Int in try tx.get("m") }
    return try store.transaction(maxAttempts: 3) { (tx) throws(KVSError) -> Int in
        try tx.get("n") + m
    }
}

/// The same through the `AsyncStore` protocol.
private func typedAsyncCalls(_ store: some AsyncStore<Int>) async throws(KVSError) -> Int? {
    try await store.update("a") { ($0 ?? 0) + 1 }
    return try await store.update("a") { (value) throws(KVSError) -> Int? in (value ?? 0) + 1 }
}

/// A closure that throws an error of its own gets the overload that throws `any Error`.
private func transfer(_ amount: Int, in store: KeyValueStore<Int>) throws {
    try store.transaction { tx in
        let from = try tx.get("alice")
        let to = try tx.get("bob")
        guard from >= amount else { throw InsufficientFunds() }
        try tx.set("alice", from - amount)
        try tx.set("bob", to + amount)
    }
}

/// An `AsyncStore` that implements only the typed `update`, so that the protocol's default
/// `update` for other errors is what runs.
private struct TypedOnlyStore: AsyncStore {
    let base: KeyValueStore<Int>

    func get(_ key: String) throws(KVSError) -> Int { try base.get(key) }
    func set(_ key: String, _ value: Int) throws(KVSError) { try base.set(key, value) }
    func set(_ key: String, _ value: Int, ttl: Duration) throws(KVSError) { try base.set(key, value, ttl: ttl) }
    func delete(_ key: String) throws(KVSError) { try base.delete(key) }
    func exists(_ key: String) -> Bool { base.exists(key) }
    func keys() throws(KVSError) -> [String] { try base.keys() }
    func batchGet(_ keys: [String]) throws(KVSError) -> BatchGetResult<Int> { try base.batchGet(keys) }
    func batchSet(_ items: [String: Int]) throws(KVSError) -> BatchSetResult { try base.batchSet(items) }
    func batchDelete(_ keys: [String]) throws(KVSError) -> BatchDeleteResult { try base.batchDelete(keys) }
    func setIfAbsent(_ key: String, _ value: Int, ttl: Duration) throws(KVSError) -> Bool {
        try base.setIfAbsent(key, value, ttl: ttl)
    }
    @discardableResult
    func update(_ key: String, _ transform: (Int?) throws(KVSError) -> Int?) throws(KVSError) -> Int? {
        try base.update(key, transform)
    }
    @discardableResult
    func update(_ key: String, ttl: TTLUpdate, _ transform: (Int?) throws(KVSError) -> Int?) throws(KVSError) -> Int? {
        try base.update(key, ttl: ttl, transform)
    }
}

@Suite("Typed throws of update and transaction")
struct TypedThrowsTests {
    @Test("non-throwing and throws(KVSError) closures resolve to the typed overloads")
    func typedOverloads() async throws {
        let store = try KeyValueStore<Int>(shardCount: 4)
        #expect(try typedCalls(store) == 2 + 2 + 5)
        #expect(!store.exists("gone"))
        #expect(try await typedAsyncCalls(store) == 2)
        let missing = #expect(throws: KVSError.self) {
            try store.update("missing") { (value) throws(KVSError) -> Int? in
                guard let value else { throw KVSError(.notFound, key: "missing", message: "absent") }
                return value
            }
        }
        #expect(missing?.code == .notFound)
    }

    @Test("a body's own error comes out unchanged, with nothing written")
    func ownErrors() async throws {
        let store = try KeyValueStore<Int>(shardCount: 4)
        try store.set("alice", 5)
        try store.set("bob", 0)
        #expect(throws: InsufficientFunds()) { try transfer(10, in: store) }
        #expect(try store.get("alice") == 5)
        try transfer(5, in: store)
        #expect(try store.get("bob") == 5)
        #expect(throws: InsufficientFunds()) {
            try store.update("alice") { _ in throw InsufficientFunds() }
        }
        #expect(throws: InsufficientFunds()) {
            try store.transaction(maxAttempts: 2) { _ in throw InsufficientFunds() }
        }
        await #expect(throws: InsufficientFunds()) {
            try await TypedOnlyStore(base: store).update("alice") { _ in throw InsufficientFunds() }
        }
        #expect(try store.get("alice") == 0)
    }

    @Test("the protocol's default update carries KVSError and values through the typed one")
    func defaultUpdate() async throws {
        let store = TypedOnlyStore(base: try KeyValueStore<Int>(shardCount: 4))
        let updated = try await store.update("k") { (value: Int?) throws -> Int? in (value ?? 0) + 1 }
        #expect(updated == 1)
        let error = await #expect(throws: KVSError.self) {
            try await store.update("k") { (_: Int?) throws -> Int? in
                throw KVSError(.invalidArgument, key: "k", message: "refused")
            }
        }
        #expect(error?.code == .invalidArgument)
        #expect(error?.message == "refused")
        // The default update(_:ttl:_:) likewise: values, the TTL, and both kinds of error.
        let persisted = try await store.update("k", ttl: .persist) { (value: Int?) throws -> Int? in (value ?? 0) + 1 }
        #expect(persisted == 2)
        #expect(try store.base.timeToLive("k") == nil)
        await #expect(throws: InsufficientFunds()) {
            try await store.update("k", ttl: .persist) { (_: Int?) throws -> Int? in throw InsufficientFunds() }
        }
        let ttlError = await #expect(throws: KVSError.self) {
            try await store.update("k", ttl: .expire(after: .seconds(-1))) { (value: Int?) throws -> Int? in value }
        }
        #expect(ttlError?.code == .invalidTTL)
        #expect(try store.base.get("k") == 2)
        store.base.shutdown()
        let closed = await #expect(throws: KVSError.self) {
            try await store.update("k") { (value: Int?) throws -> Int? in value }
        }
        #expect(closed?.code == .storeClosed)
    }
}
