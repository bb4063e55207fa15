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
        #expect(table.count * 20 <= table.capacity * 17, "at most 85% full")
    }

    @Test func growsAlongTheCapacityLadder() {
        // The ladder 8, 12, 16, 24, …, 3,072, 4,096, then quarter steps 5,120, 6,144,
        // 7,168, 8,192, 10,240: a table that just grew is at least half full, and never
        // more than 85% full.
        var table = ShardTable<String, Int>()
        var capacities: [Int] = []
        for i in 0..<8_500 {
            table["k\(i)"] = Entry(value: i, expiresAt: 0)
            if capacities.last != table.capacity {
                capacities.append(table.capacity)
                if capacities.count > 1 {
                    #expect(table.count * 2 >= table.capacity, "just grew to \(table.capacity) with \(table.count)")
                }
            }
            #expect(table.count * 20 <= table.capacity * 17)
        }
        #expect(Array(capacities.prefix(8)) == [8, 12, 16, 24, 32, 48, 64, 96])
        #expect(Array(capacities.suffix(6)) == [4_096, 5_120, 6_144, 7_168, 8_192, 10_240])
        for (smaller, larger) in zip(capacities, capacities.dropFirst()) {
            if smaller < 4_096 {
                #expect(larger == smaller + smaller / 2 || larger == smaller / 3 * 4, "\(smaller) → \(larger)")
            } else {
                #expect(
                    larger - smaller == 1 << (Int.bitWidth - 1 - smaller.leadingZeroBitCount) / 4,
                    "\(smaller) → \(larger)"
                )
            }
        }
        for i in 0..<8_500 { #expect(table["k\(i)"]?.value == i) }
        // The anchors' 1,000,000 keys over 256 shards: 3,519 to 4,285 keys a shard, all
        // of them in 5,120 slots (4,352 at 85%), where a 3/4 limit would take 6,144.
        #expect(ShardTable<String, Int>(minimumCapacity: 3_519).capacity == 5_120)
        #expect(ShardTable<String, Int>(minimumCapacity: 4_285).capacity == 5_120)
        #expect(ShardTable<String, Int>(minimumCapacity: 4_353).capacity == 6_144)
    }

    @Test func tagsAreNeverZeroAndKeepTheHashsLowSevenBits() {
        for hash: UInt64 in [0, 1, 0x7F, 0x80, 0xFF, 0x1234_5678_9ABC_DE00, .max] {
            let tag = ShardTableStorage<String, Int>.tag(of: hash)
            #expect(tag != 0, "0 marks an empty slot")
            #expect(tag & 0x7F == UInt8(hash & 0x7F))
        }
    }

    @Test func keysWithTheSameTagAndHomeAreStillToldApart() {
        // Two keys whose tags agree and whose home slot in an 8-slot table is the same:
        // the probe must compare the keys, not stop at the first equal tag.
        let table8 = ShardTableStorage<String, Int>.self
        var byTagAndHome: [Int: String] = [:]
        var pair: (String, String)?
        for i in 0..<100_000 where pair == nil {
            let key = "t\(i)"
            let hash = key.tableHash
            let slotKey = Int(table8.tag(of: hash)) << 8 | table8.home(of: hash, capacity: 8)
            if let other = byTagAndHome[slotKey] { pair = (other, key) } else { byTagAndHome[slotKey] = key }
        }
        guard let (first, second) = pair else {
            Issue.record("no two keys with the same tag and home among 100,000")
            return
        }
        var table = ShardTable<String, Int>(minimumCapacity: 2)
        #expect(table.capacity == 8)
        table[first] = Entry(value: 1, expiresAt: 0)
        table[second] = Entry(value: 2, expiresAt: 0)
        #expect(table[first]?.value == 1)
        #expect(table[second]?.value == 2)
        table.checkLayoutInvariants()
        #expect(table.removeValue(forKey: first)?.value == 1)
        #expect(table[first] == nil)
        #expect(table[second]?.value == 2, "the second key shifted back into the first's slot")
        table.checkLayoutInvariants()
    }

    @Test func prefetchingAValueIsOnlyAHint() {
        // Whatever the value's first word is (a pointer, a small integer, zero) and
        // whether the key is there or not, a prefetch changes nothing and never faults.
        var arrays = ShardTable<String, [UInt8]>()
        arrays["a"] = Entry(value: [1, 2, 3], expiresAt: 0)
        var integers = ShardTable<String, Int>()
        integers["zero"] = Entry(value: 0, expiresAt: 0)
        integers["odd"] = Entry(value: 0x1234_5678_9ABC_DEF1, expiresAt: 0)
        var bytes = ShardTable<String, UInt8>()  // narrower than a word: skipped
        bytes["b"] = Entry(value: 7, expiresAt: 0)
        for key in ["a", "missing"] { arrays.prefetchValue(forKey: key, hash: key.tableHash) }
        for key in ["zero", "odd", "missing"] { integers.prefetchValue(forKey: key, hash: key.tableHash) }
        bytes.prefetchValue(forKey: "b", hash: "b".tableHash)
        ShardTable<String, Int>().prefetchValue(forKey: "x", hash: "x".tableHash)  // no storage yet
        #expect(arrays["a"]?.value == [1, 2, 3] && arrays.count == 1)
        #expect(integers["odd"]?.value == 0x1234_5678_9ABC_DEF1 && integers.count == 2)
        #expect(bytes["b"]?.value == 7)
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
            // Keys too long to be stored inline: their heap storage is released with the
            // values (the deinit releases key and value separately, at their offsets).
            for i in 0..<100 { table["a key long enough to live on the heap \(i)"] = Entry(value: value, expiresAt: 0) }
            table.reserveCapacity(10_000)
            #expect(table.count == 200)
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
