import KVS
import KVSTestSupport
import Testing

@Suite("ShardTable: the shards' hash table")
struct ShardTableTests {
    /// The table's entries as a dictionary (checking that iteration yields each key once).
    private func contents(_ table: ShardTable<String, Int>) -> [String: Int] {
        var seen: [String: Int] = [:]
        for (key, entry) in table {
            #expect(seen.updateValue(entry.value, forKey: key) == nil, "iteration yields \(key) once")
        }
        return seen
    }

    @Test(.dedicatedThread, arguments: [8, 64, 1000])
    func randomOperationsAgreeWithDictionary(keySpace: Int) {
        // A small key space packs the table, so probe runs wrap around its end and
        // removals shift long runs back: every path of the table gets exercised.
        var rng = SplitMix64(seed: UInt64(keySpace))
        var table = ShardTable<String, Int>()
        var model: [String: Int] = [:]
        for step in 0..<20_000 {
            let key = "k\(Int.random(in: 0..<keySpace, using: &rng))"
            switch Int.random(in: 0..<10, using: &rng) {
            case 0..<5:
                let old = table.updateValue(Entry(value: step, expiresAt: Int64(step % 3)), forKey: key)
                #expect(old?.value == model.updateValue(step, forKey: key))
            case 5..<8:
                #expect(table.removeValue(forKey: key)?.value == model.removeValue(forKey: key))
            case 8:
                let removed = table.removeValue(forKey: key, where: { $0.value % 2 == 0 })
                let expected = model[key].map { $0 % 2 == 0 } ?? false
                #expect(removed == expected)
                if expected { model[key] = nil }
            default:
                #expect(table[key]?.value == model[key])
            }
            #expect(table.count == model.count)
            if step % 1000 == 0 { #expect(contents(table) == model) }
        }
        #expect(contents(table) == model)
        for key in model.keys { #expect(table[key]?.value == model[key]) }
        #expect(table.count <= table.capacity - table.capacity / 4, "at most 3/4 full")
    }

    @Test func copiesAreIndependent() {
        var original = ShardTable<String, Int>()
        for i in 0..<100 { original["k\(i)"] = Entry(value: i, expiresAt: 0) }
        let snapshot = original  // what a point-in-time read keeps
        for i in 0..<50 { original.removeValue(forKey: "k\(i)") }
        original["new"] = Entry(value: -1, expiresAt: 0)
        for i in 100..<400 { original["k\(i)"] = Entry(value: i, expiresAt: 0) }  // grows
        #expect(snapshot.count == 100)
        #expect(contents(snapshot) == Dictionary(uniqueKeysWithValues: (0..<100).map { ("k\($0)", $0) }))
        #expect(original.count == 351)
        #expect(original["k10"] == nil && original["k60"]?.value == 60 && original["new"]?.value == -1)
        var copy = snapshot
        #expect(copy.removeValue(forKey: "k5")?.value == 5)
        #expect(snapshot["k5"]?.value == 5, "removing from a copy leaves the original")
    }

    @Test func canonicallyEquivalentKeysAreOneKey() {
        // String == is canonical equivalence, so the table hash must agree with it.
        var table = ShardTable<String, Int>()
        table["caf\u{E9}"] = Entry(value: 1, expiresAt: 0)
        #expect(table["cafe\u{301}"]?.value == 1)
        table["cafe\u{301}"] = Entry(value: 2, expiresAt: 0)
        #expect(table.count == 1)
        #expect(table.removeValue(forKey: "caf\u{E9}")?.value == 2)
    }

    @Test func valuesAreReleasedWhenTheTableGoes() {
        final class Tracked: Sendable {}
        weak var probe: Tracked?
        do {
            var table = ShardTable<String, Tracked>()
            let value = Tracked()
            probe = value
            for i in 0..<100 { table["k\(i)"] = Entry(value: value, expiresAt: 0) }
            table.reserveCapacity(10_000)
            #expect(table.count == 100)
        }
        #expect(probe == nil, "no entry leaked through growth or deallocation")
    }

    @Test func byteKeysHashTheirBytes() {
        var table = ShardTable<ByteKey, Int>()
        table[ByteKey([0, 1, 2])] = Entry(value: 1, expiresAt: 0)
        table[ByteKey([0, 1, 2, 0])] = Entry(value: 2, expiresAt: 0)
        #expect(table[ByteKey([0, 1, 2])]?.value == 1)
        #expect(table[ByteKey([0, 1, 2, 0])]?.value == 2)
        #expect(table.count == 2)
    }
}
