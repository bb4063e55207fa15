import KVS
import Testing

// Every form the documentation shows for catching a KVSError by its code, compiled and run in
// the places users put them: a `throws` function, a `throws(KVSError)` function, an
// `async throws` function and a closure. The keys are local variables on purpose: swiftc 6.3.1
// crashes (or hangs) on a `do` without a final catch-all inside a function that throws
// `any Error` when a local variable is alive across it, and the forms below are the ones that
// compile there. docs/design/typed-throws.md lists the forms that crash.

/// `catch where` then a catch-all, in a function that throws `any Error`.
private func lookUpCatchWhere(_ store: KeyValueStore<String>, id: Int) throws -> String? {
    let key = "user:\(id)"
    do {
        return try store.get(key)
    } catch  where error.code == .notFound {
        return nil
    } catch {
        throw error
    }
}

/// `catch let error as KVSError where` then a catch-all, in a function that throws `any Error`
/// and whose `do` can throw other errors too.
private func lookUpCatchAs(_ store: KeyValueStore<String>, id: Int) throws -> String? {
    let key = "user:\(id)"
    do {
        try checkID(id)
        return try store.get(key)
    } catch let error as KVSError where error.code == .notFound {
        return nil
    } catch {
        throw error
    }
}

/// One catch-all that tests the code, in a function that throws `any Error`.
private func lookUpGuard(_ store: KeyValueStore<String>, id: Int) throws -> String? {
    let key = "user:\(id)"
    do {
        return try store.get(key)
    } catch {
        guard error.code == .notFound else { throw error }
        return nil
    }
}

/// `catch where` with no catch-all, in a function that throws `KVSError`: the other codes
/// propagate as they are.
private func lookUpTyped(_ store: KeyValueStore<String>, id: Int) throws(KVSError) -> String? {
    let key = "user:\(id)"
    do {
        return try store.get(key)
    } catch  where error.code == .notFound {
        return nil
    }
}

/// `catch where` then a catch-all, in an `async throws` function over any ``AsyncStore``.
private func lookUpAsync(_ store: some AsyncStore<String>, id: Int) async throws -> String? {
    let key = "user:\(id)"
    do {
        return try await store.get(key)
    } catch  where error.code == .notFound {
        return nil
    } catch {
        throw error
    }
}

/// `catch where` with no catch-all, in an `async throws(KVSError)` function.
private func lookUpAsyncTyped(_ store: some AsyncStore<String>, id: Int) async throws(KVSError) -> String? {
    let key = "user:\(id)"
    do {
        return try await store.get(key)
    } catch  where error.code == .notFound {
        return nil
    }
}

private struct InvalidID: Error {}

private func checkID(_ id: Int) throws {
    if id < 0 { throw InvalidID() }
}

@Suite("Catching KVSError by its code")
struct ErrorHandlingPatternTests {
    let store: KeyValueStore<String>

    init() throws {
        store = try KeyValueStore<String>(shardCount: 4)
        try store.set("user:1", "Ada")
    }

    @Test("in a function that throws any Error")
    func untypedFunction() throws {
        #expect(try lookUpCatchWhere(store, id: 1) == "Ada")
        #expect(try lookUpCatchWhere(store, id: 2) == nil)
        #expect(try lookUpCatchAs(store, id: 1) == "Ada")
        #expect(try lookUpCatchAs(store, id: 2) == nil)
        #expect(throws: InvalidID.self) { try lookUpCatchAs(store, id: -1) }
        #expect(try lookUpGuard(store, id: 1) == "Ada")
        #expect(try lookUpGuard(store, id: 2) == nil)
        store.shutdown()
        let closed = #expect(throws: KVSError.self) { try lookUpCatchWhere(store, id: 1) }
        #expect(closed?.code == .storeClosed)
        #expect(throws: KVSError.self) { try lookUpGuard(store, id: 1) }
    }

    @Test("in a function that throws KVSError")
    func typedFunction() throws {
        #expect(try lookUpTyped(store, id: 1) == "Ada")
        #expect(try lookUpTyped(store, id: 2) == nil)
        store.shutdown()
        let closed = #expect(throws: KVSError.self) { try lookUpTyped(store, id: 1) }
        #expect(closed?.code == .storeClosed)
    }

    @Test("in an async function")
    func asyncFunction() async throws {
        #expect(try await lookUpAsync(store, id: 1) == "Ada")
        #expect(try await lookUpAsync(store, id: 2) == nil)
        #expect(try await lookUpAsyncTyped(store, id: 1) == "Ada")
        #expect(try await lookUpAsyncTyped(store, id: 2) == nil)
    }

    @Test("in a closure")
    func closure() throws {
        let store = self.store
        // Swift 6.3 does not infer a `do` block's error type inside a closure: match with
        // `as KVSError`, or declare the `do` as `do throws(KVSError)`.
        let found = try [1, 2].compactMap { id -> String? in
            let key = "user:\(id)"
            do {
                return try store.get(key)
            } catch let error as KVSError where error.code == .notFound {
                return nil
            }
        }
        #expect(found == ["Ada"])
        let typed = try [1, 2].compactMap { (id) throws(KVSError) -> String? in
            let key = "user:\(id)"
            do throws(KVSError) {
                return try store.get(key)
            } catch  where error.code == .notFound {
                return nil
            }
        }
        #expect(typed == ["Ada"])
    }

    @Test("after a typed transaction or update, catch where compiles")
    func afterTypedTransaction() throws {
        var caught: KVSError.Code?
        store.shutdown()
        do {
            try store.transaction { (tx) throws(KVSError) in try tx.set("user:2", "Grace") }
        } catch  where error.code == .storeClosed {
            caught = error.code
        } catch {
            Issue.record("unexpected \(error)")
        }
        #expect(caught == .storeClosed)
        caught = nil
        do {
            try store.update("hits") { String((Int($0 ?? "0") ?? 0) + 1) }
        } catch  where error.code == .storeClosed {
            caught = error.code
        } catch {
            Issue.record("unexpected \(error)")
        }
        #expect(caught == .storeClosed)
    }
}
