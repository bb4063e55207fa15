import KVSTestSupport
import Testing

@testable import KVSServer

/// The hash table of large hashes, against a `Dictionary` model: contents through growth
/// and shrinking, copies that do not share, and the scan cursor's guarantee.
@Suite("PairTable")
struct PairTableTests {
    /// A table owned for the test's span (freed at the end).
    final class Owned {
        var table = PairTable()
        deinit { table.deallocate() }
    }

    private func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

    private func value(_ table: PairTable, _ field: String) -> String? {
        bytes(field).withUnsafeBytes { f in table.withValue(of: f) { $0.map { String(decoding: $0, as: UTF8.self) } } }
    }

    private func contents(_ table: PairTable) -> [String: String] {
        var out: [String: String] = [:]
        table.forEachPair { f, v in out[String(decoding: f, as: UTF8.self)] = String(decoding: v, as: UTF8.self) }
        return out
    }

    @Test func matchesADictionaryThroughGrowthAndShrinking() {
        let owned = Owned()
        var model: [String: String] = [:]
        var random = SplitMix64(seed: 7)
        for step in 0..<20_000 {
            let field = "f\(random.next() % 3000)"
            // Grow for the first half, then mostly remove, so the table shrinks too.
            if random.next() % 10 < (step < 10_000 ? 7 : 2) {
                let v = String(repeating: "v", count: Int(random.next() % 40))
                let new = bytes(field).withUnsafeBytes { f in bytes(v).withUnsafeBytes { owned.table.set(f, to: $0) } }
                #expect(new == (model.updateValue(v, forKey: field) == nil))
            } else {
                let removed = bytes(field).withUnsafeBytes { owned.table.remove($0) }
                #expect(removed == (model.removeValue(forKey: field) != nil))
            }
            #expect(owned.table.count == model.count)
        }
        #expect(contents(owned.table) == model)
        #expect(owned.table.bucketCount >= owned.table.count)
        #expect(owned.table.count * 10 >= owned.table.bucketCount || owned.table.bucketCount == 4)
        for (field, v) in model.prefix(100) { #expect(value(owned.table, field) == v) }
        #expect(value(owned.table, "absent") == nil)
    }

    @Test func aCopySharesNothing() {
        let owned = Owned()
        for i in 0..<100 {
            _ = bytes("f\(i)").withUnsafeBytes { f in bytes("v").withUnsafeBytes { owned.table.set(f, to: $0) } }
        }
        let copy = Owned()
        copy.table.deallocate()
        copy.table = owned.table.copied()
        _ = bytes("f1").withUnsafeBytes { f in bytes("changed").withUnsafeBytes { copy.table.set(f, to: $0) } }
        _ = bytes("f2").withUnsafeBytes { copy.table.remove($0) }
        #expect(value(owned.table, "f1") == "v")
        #expect(value(owned.table, "f2") == "v")
        #expect(value(copy.table, "f1") == "changed")
        #expect(value(copy.table, "f2") == nil)
        // Same buckets: a full scan visits the copy's entries in the original's order.
        var first: [String] = []
        var second: [String] = []
        var cursor: UInt64 = 0
        repeat {
            cursor = owned.table.scan(from: cursor) { f, _ in first.append(String(decoding: f, as: UTF8.self)) }
        } while cursor != 0
        repeat {
            cursor = copy.table.scan(from: cursor) { f, _ in second.append(String(decoding: f, as: UTF8.self)) }
        } while cursor != 0
        #expect(first.filter { $0 != "f1" && $0 != "f2" } == second.filter { $0 != "f1" })
    }

    /// SCAN's promise: an entry present from the start of a scan to its end is returned,
    /// while other entries come and go and the table grows and shrinks between steps.
    @Test func scanReturnsEveryEntryPresentThroughout() {
        for seed in 0..<10 {
            let owned = Owned()
            var random = SplitMix64(seed: UInt64(seed))
            let stable = (0..<200).map { "stable\($0)" }
            for f in stable {
                _ = bytes(f).withUnsafeBytes { f in bytes("x").withUnsafeBytes { owned.table.set(f, to: $0) } }
            }
            var seen: Set<String> = []
            var cursor: UInt64 = 0
            var made = 0
            var live: [String] = []
            repeat {
                cursor = owned.table.scan(from: cursor) { f, _ in seen.insert(String(decoding: f, as: UTF8.self)) }
                // Between steps: a burst of inserts (growth) or the removal of them all
                // (shrinking back).
                if random.next() % 2 == 0 {
                    for _ in 0..<Int(random.next() % 300) {
                        made += 1
                        live.append("t\(made)")
                        _ = bytes("t\(made)").withUnsafeBytes { f in
                            bytes("y").withUnsafeBytes { owned.table.set(f, to: $0) }
                        }
                    }
                } else {
                    for t in live { _ = bytes(t).withUnsafeBytes { owned.table.remove($0) } }
                    live.removeAll()
                }
            } while cursor != 0
            #expect(Set(stable).isSubset(of: seen), "seed \(seed)")
        }
    }

    @Test func randomEntriesAreEntries() {
        let owned = Owned()
        for i in 0..<50 {
            _ = bytes("f\(i)").withUnsafeBytes { f in bytes("v\(i)").withUnsafeBytes { owned.table.set(f, to: $0) } }
        }
        var generator = SplitMix64(seed: 1)
        var picked: Set<String> = []
        for _ in 0..<2000 {
            let (f, v) = owned.table.withRandomEntry(using: &generator) {
                (String(decoding: $0, as: UTF8.self), String(decoding: $1, as: UTF8.self))
            }
            #expect("v" + f.dropFirst() == v)
            picked.insert(f)
        }
        // 2,000 picks of 50: each is missed with probability (49/50)^2000, about 3e-18.
        #expect(picked.count == 50)
    }
}
