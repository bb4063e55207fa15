import Foundation
import KVS
import KVSTestSupport
import Testing

/// The README's Swift snippets, compiled and run in the three places users put them: the body
/// of a test, an ordinary `throws` function and an `async throws` function.
///
/// Each copy below is the README's text line for line (apart from `import KVS`, which this
/// file has at its top, and indentation); `theReadmeSnippetsAreCopiedHereVerbatim` fails when
/// the two drift apart, so edit both together. The `Package.swift` snippet is a manifest
/// fragment, which no test can compile, and the `KVSMetrics` snippet is
/// `Tests/KVSMetricsTests/ReadmeExampleTests.swift`'s: those two are left out.
///
/// The snippets save `store.kvssnap` in the working folder, as the README shows, so the
/// tests run one at a time and remove the file afterwards.
@Suite("README example", .serialized)
struct ReadmeExampleTests {
    private static let snapshotPath = FileManager.default.currentDirectoryPath + "/store.kvssnap"

    /// Checks what the snippets leave behind: the snapshot holds the keys the README says.
    private static func checkSnapshotAndRemoveIt() throws {
        defer { try? FileManager.default.removeItem(atPath: snapshotPath) }
        let loaded = try KeyValueStore<String>(shardCount: 8)
        defer { loaded.shutdown() }
        try loaded.loadSnapshot(from: snapshotPath)
        #expect(Set(try loaded.keys()) == ["session:42", "copy"])
        #expect(try loaded.get("copy") == "hello")
    }

    @Test func theSnippetsRunAtTheTopLevelOfATest() throws {
        let store = KeyValueStore<String>()
        defer { store.shutdown() }

        try store.set("greeting", "hello")
        try store.set("session:42", "token", ttl: .seconds(30))  // expires on its own
        print(try store.get("greeting"))  // hello

        let found = try store.batchGet(["greeting", "nope"])  // one lock per shard touched
        print(found.values, found.errors.keys)  // ["greeting": "hello"] ["nope"]

        try store.transaction { tx in  // all or nothing, serializable across shards
            try tx.set("copy", try tx.get("greeting"))
            try tx.delete("greeting")
        }
        try store.saveSnapshot(to: "store.kvssnap")  // crash-safe; loadSnapshot(from:) reads it

        do {
            _ = try store.get("nope")
        } catch  where error.code == .notFound {  // `error` is a KVSError: get throws nothing else
            print("absent: \(error)")
        } catch {
            throw error  // .storeClosed after shutdown()
        }

        #expect(found.values == ["greeting": "hello"])
        #expect(Array(found.errors.keys) == ["nope"])
        #expect(found.errors["nope"]?.code == .notFound)
        #expect(!store.exists("greeting"))
        try Self.checkSnapshotAndRemoveIt()
    }

    @Test func theSnippetsRunInAThrowingFunction() throws {
        func readmeSnippets() throws {
            let store = KeyValueStore<String>()
            defer { store.shutdown() }

            try store.set("greeting", "hello")
            try store.set("session:42", "token", ttl: .seconds(30))  // expires on its own
            print(try store.get("greeting"))  // hello

            let found = try store.batchGet(["greeting", "nope"])  // one lock per shard touched
            print(found.values, found.errors.keys)  // ["greeting": "hello"] ["nope"]

            try store.transaction { tx in  // all or nothing, serializable across shards
                try tx.set("copy", try tx.get("greeting"))
                try tx.delete("greeting")
            }
            try store.saveSnapshot(to: "store.kvssnap")  // crash-safe; loadSnapshot(from:) reads it

            do {
                _ = try store.get("nope")
            } catch  where error.code == .notFound {  // `error` is a KVSError: get throws nothing else
                print("absent: \(error)")
            } catch {
                throw error  // .storeClosed after shutdown()
            }
        }
        try readmeSnippets()
        try Self.checkSnapshotAndRemoveIt()
    }

    @Test func theSnippetsRunInAnAsyncFunction() async throws {
        func readmeSnippets() async throws {
            let store = KeyValueStore<String>()
            defer { store.shutdown() }

            try store.set("greeting", "hello")
            try store.set("session:42", "token", ttl: .seconds(30))  // expires on its own
            print(try store.get("greeting"))  // hello

            let found = try store.batchGet(["greeting", "nope"])  // one lock per shard touched
            print(found.values, found.errors.keys)  // ["greeting": "hello"] ["nope"]

            try store.transaction { tx in  // all or nothing, serializable across shards
                try tx.set("copy", try tx.get("greeting"))
                try tx.delete("greeting")
            }
            try store.saveSnapshot(to: "store.kvssnap")  // crash-safe; loadSnapshot(from:) reads it

            do {
                _ = try store.get("nope")
            } catch  where error.code == .notFound {  // `error` is a KVSError: get throws nothing else
                print("absent: \(error)")
            } catch {
                throw error  // .storeClosed after shutdown()
            }
        }
        try await readmeSnippets()
        try Self.checkSnapshotAndRemoveIt()
    }

    /// Every Swift snippet of the README (but the manifest fragment) appears in each of the
    /// three tests above, line for line, ignoring `import` lines and runs of spaces (swift-format
    /// indents the copies and writes `catch  where` with two).
    @Test func theReadmeSnippetsAreCopiedHereVerbatim() throws {
        let readme = try ReadmeSnippets.readme(besideTestFile: #filePath)
        let snippets = ReadmeSnippets.swiftBlocks(in: readme) { lines in
            lines.first != "// Package.swift" && !lines.contains("import KVSMetrics")
        }
        #expect(snippets.count == 2)
        let body = try ReadmeSnippets.normalizedSource(of: #filePath)
        for snippet in snippets {
            #expect(body.components(separatedBy: snippet).count - 1 >= 3, "not copied three times:\n\(snippet)")
        }
    }
}
