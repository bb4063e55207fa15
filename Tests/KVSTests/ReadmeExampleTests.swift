import Foundation
import KVS
import KVSTestSupport
import Testing

/// The README's "Use it" example, verbatim apart from the snapshot path: if the README's
/// code stops compiling or behaving as its comments say, this fails.
@Suite("README example")
struct ReadmeExampleTests {
    @Test func theReadmeExampleWorksAsDocumented() throws {
        let dir = try makeTemporaryDirectory()
        defer { removeDirectory(dir) }

        let store = try KeyValueStore<String>(shardCount: 64)  // FNV-1a sharding
        defer { store.shutdown() }

        try store.set("greeting", "hello")
        try store.set("session:42", "token", ttl: .seconds(30))  // expires on its own
        let greeting = try store.get("greeting")  // "hello"
        #expect(greeting == "hello")
        let length = try store.withValue("greeting") { $0.count }  // 5: read in place, no copy
        #expect(length == 5)
        #expect(!store.exists("nope"))
        #expect(store.count == 2)
        #expect(store.size.hasSuffix("B"))

        var caught: KVSError?
        do {
            _ = try store.get("nope")
        } catch  where error.code == .notFound {
            print(error)
            caught = error
        } catch {
            Issue.record("unexpected \(error)")
        }
        #expect(
            caught?.description
                == "KVSError.notFound (key \"nope\"): no value is stored under this key, or it has expired"
        )

        let found = try store.batchGet(["greeting", "nope"])
        #expect(found.values == ["greeting": "hello"])
        #expect(found.errors["nope"]?.code == .notFound)
        _ = try store.batchSet(["a": "1", "b": "2"])
        let deleted = try store.batchDelete(["a", "b", "c"])
        #expect(deleted.deleted == 2)
        #expect(deleted.errors["c"]?.code == .notFound)

        try store.transaction { tx in
            let a = try tx.get("greeting")
            try tx.set("copy", a)
            try tx.delete("greeting")
        }
        #expect(try store.get("copy") == "hello")
        #expect(!store.exists("greeting"))
        try store.update("hits") { String((Int($0 ?? "0") ?? 0) + 1) }
        #expect(try store.get("hits") == "1")
        #expect(try store.setIfAbsent("lock", "me", ttl: .seconds(5)))
        #expect(try store.compareAndSwap("lock", expected: "me", new: nil))

        try store.saveSnapshot(to: dir + "/store.kvssnap")
        try store.loadSnapshot(from: dir + "/store.kvssnap")
        #expect(Set(try store.keys()) == ["session:42", "copy", "hits"])
    }
}
