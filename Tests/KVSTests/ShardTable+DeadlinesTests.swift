import KVS
import KVSTestSupport
import Testing

/// The deadlines live outside the slots (a control bit per slot says which entries have
/// one, and a per-slot deadline array exists only while some do): every move of an entry
/// must carry its deadline along, and every entry without one must read as "no deadline".
@Suite("ShardTable: deadlines beside the slots")
struct ShardTableDeadlineTests {
    /// The table's entries as a dictionary of (value, deadline), checking the layout.
    private func contents(_ table: ShardTable<String, Int>) -> [String: Pair] {
        table.checkLayoutInvariants()
        var seen: [String: Pair] = [:]
        for (key, entry) in table {
            #expect(seen.updateValue(Pair(entry), forKey: key) == nil, "iteration yields \(key) once")
        }
        return seen
    }

    private struct Pair: Equatable, CustomStringConvertible {
        var value: Int
        var deadline: Int64
        init(_ value: Int, _ deadline: Int64) {
            self.value = value
            self.deadline = deadline
        }
        init(_ entry: Entry<Int>) { self.init(entry.value, entry.expiresAt) }
        var description: String { "(\(value), \(deadline))" }
    }

    @Test(.dedicatedThread, arguments: [8, 64, 1000])
    func randomOperationsKeepEachEntrysDeadline(keySpace: Int) {
        // Sets with and without deadlines, removals, sweeps by deadline and copies, on
        // packed tables (small key spaces) whose removals shift long runs of entries with
        // and without deadlines; every entry must keep exactly its own deadline.
        var rng = SplitMix64(seed: 0xDEAD_0000 &+ UInt64(keySpace))
        var table = ShardTable<String, Int>()
        var model: [String: Pair] = [:]
        var copies: [(ShardTable<String, Int>, [String: Pair])] = []
        for step in 0..<20_000 {
            let key = "k\(Int.random(in: 0..<keySpace, using: &rng))"
            // Deadlines from a small set, so sweeps find several entries sharing one; 0
            // (none) half the time.
            let deadline = Bool.random(using: &rng) ? 0 : Int64.random(in: 1...4, using: &rng)
            switch Int.random(in: 0..<20, using: &rng) {
            case 0..<10:
                let old = table.updateValue(Entry(value: step, expiresAt: deadline), forKey: key)
                #expect(old.map(Pair.init) == model.updateValue(Pair(step, deadline), forKey: key))
            case 10..<14:
                #expect(table.removeValue(forKey: key).map(Pair.init) == model.removeValue(forKey: key))
            case 14:
                // The sweep's path: remove the entries of this key's probe run that have
                // this deadline (with several keys per deadline, that may be others too).
                let removed = table.removeEntries(expiring: [.init(deadline: deadline, key: key.tableHash)])
                let gone = model.keys.filter { table[$0] == nil }
                #expect(removed == gone.count)
                #expect(
                    gone.allSatisfy { model[$0]?.deadline == deadline && deadline != 0 },
                    "only entries with that deadline go"
                )
                if deadline != 0 && model[key]?.deadline == deadline {
                    #expect(gone.contains(key), "the item's own entry goes")
                }
                for other in gone { model[other] = nil }
            case 15:
                if copies.count < 8 { copies.append((table, model)) }
            default:
                #expect(table[key].map(Pair.init) == model[key])
            }
            #expect(table.count == model.count)
            if step % 500 == 0 { #expect(contents(table) == model) }
        }
        #expect(contents(table) == model)
        for (copy, expected) in copies { #expect(contents(copy) == expected, "a copy keeps what it held") }
    }

    @Test func aFirstDeadlineRecordsEveryEntrysHomeDistance() {
        // Entries stored before the table had deadlines get their home distances when the
        // first deadline allocates the block; removals then shift runs by those distances
        // (a wrong one would strand an entry behind an empty slot, or before its home).
        var table = ShardTable<String, Int>()
        var model: [String: Pair] = [:]
        for i in 0..<3_000 {
            table["d\(i)"] = Entry(value: i, expiresAt: 0)
            model["d\(i)"] = Pair(i, 0)
        }
        #expect(!table.holdsDeadlineStorage)
        table["d7"] = Entry(value: 7, expiresAt: 70)  // replaces in place: the first deadline
        model["d7"] = Pair(7, 70)
        #expect(table.holdsDeadlineStorage)
        #expect(contents(table) == model)  // checks every recorded distance
        for i in stride(from: 0, to: 3_000, by: 2) where i != 7 {
            #expect(table.removeValue(forKey: "d\(i)")?.value == i)
            model["d\(i)"] = nil
        }
        #expect(contents(table) == model)
        for (key, pair) in model { #expect(table[key].map(Pair.init) == pair, "\(key)") }
    }

    @Test func aSetWithoutDeadlineRemovesTheDeadline() {
        var table = ShardTable<String, Int>()
        table["a"] = Entry(value: 1, expiresAt: 500)
        table["b"] = Entry(value: 2, expiresAt: 600)
        #expect(table.holdsDeadlineStorage)
        #expect(table.updateValue(Entry(value: 3, expiresAt: 0), forKey: "a").map(Pair.init) == Pair(1, 500))
        #expect(table["a"].map(Pair.init) == Pair(3, 0), "persisted")
        #expect(table.updateValue(Entry(value: 4, expiresAt: 700), forKey: "b").map(Pair.init) == Pair(2, 600))
        #expect(table["b"].map(Pair.init) == Pair(4, 700), "changed")
        #expect(table.updateValue(Entry(value: 5, expiresAt: 0), forKey: "b").map(Pair.init) == Pair(4, 700))
        #expect(table["b"].map(Pair.init) == Pair(5, 0))
        #expect(
            table.removeEntries(expiring: [
                .init(deadline: 500, key: "a".tableHash), .init(deadline: 700, key: "b".tableHash),
            ]) == 0,
            "no stale deadline is left to sweep"
        )
        #expect(table.count == 2)
        table.checkLayoutInvariants()
    }

    @Test(arguments: [9, 12, 18])
    func removalsShiftDeadlinesWithTheirEntries(keyCount: Int) {
        // Tables of 12, 16 and 24 slots up to 85% full: long runs that wrap. Remove each key
        // in turn from a fresh copy; the entries shifted back keep their own deadlines,
        // and those without one still have none.
        var full = ShardTable<String, Int>(minimumCapacity: keyCount)
        var model: [String: Pair] = [:]
        for i in 0..<keyCount {
            let deadline: Int64 = i % 3 == 0 ? 0 : Int64(1000 + i)
            full["k\(i)"] = Entry(value: i, expiresAt: deadline)
            model["k\(i)"] = Pair(i, deadline)
        }
        #expect(contents(full) == model)
        for i in 0..<keyCount {
            var table = full
            #expect(table.removeValue(forKey: "k\(i)").map(Pair.init) == model["k\(i)"])
            var expected = model
            expected["k\(i)"] = nil
            #expect(contents(table) == expected, "after removing k\(i)")
        }
        #expect(contents(full) == model, "the removals were on copies")
    }

    @Test func growthKeepsDeadlines() {
        var table = ShardTable<String, Int>()
        for i in 0..<5_000 {
            table["k\(i)"] = Entry(value: i, expiresAt: i % 2 == 0 ? Int64(i + 1) : 0)
        }
        table.reserveCapacity(20_000)
        for i in 0..<5_000 {
            #expect(table["k\(i)"].map(Pair.init) == Pair(i, i % 2 == 0 ? Int64(i + 1) : 0))
        }
        table.checkLayoutInvariants()
    }

    @Test func copiesKeepTheirOwnDeadlines() {
        var original = ShardTable<String, Int>()
        for i in 0..<100 { original["k\(i)"] = Entry(value: i, expiresAt: Int64(i + 1)) }
        let snapshot = original
        original["k1"] = Entry(value: 1, expiresAt: 0)  // persisted in the original only
        original["k2"] = Entry(value: 2, expiresAt: 99)  // changed in the original only
        original.removeValue(forKey: "k3")
        #expect(snapshot["k1"].map(Pair.init) == Pair(1, 2))
        #expect(snapshot["k2"].map(Pair.init) == Pair(2, 3))
        #expect(snapshot["k3"].map(Pair.init) == Pair(3, 4))
        #expect(original["k1"].map(Pair.init) == Pair(1, 0))
        #expect(original["k2"].map(Pair.init) == Pair(2, 99))
        var other = snapshot
        #expect(other.removeEntries(expiring: [.init(deadline: 6, key: "k5".tableHash)]) == 1)
        #expect(snapshot["k5"] != nil, "a sweep of a copy leaves the original")
        snapshot.checkLayoutInvariants()
        original.checkLayoutInvariants()
    }

    @Test func aTableWithoutDeadlinesHasNoDeadlineStorage() {
        // The point of keeping deadlines out of the slots: a table whose entries have no
        // deadline pays nothing for them, and one whose deadlines are all gone drops them
        // when it next grows.
        var table = ShardTable<String, Int>()
        for i in 0..<1_000 { table["k\(i)"] = Entry(value: i, expiresAt: 0) }
        #expect(!table.holdsDeadlineStorage)
        table["k1"] = Entry(value: 1, expiresAt: 42)
        #expect(table.holdsDeadlineStorage)
        table["k1"] = Entry(value: 1, expiresAt: 0)
        table.reserveCapacity(table.capacity * 2)
        #expect(!table.holdsDeadlineStorage, "dropped at the resize: no entry had a deadline")
        #expect(table.count == 1_000)
        table.checkLayoutInvariants()
    }

    @Test func byteKeysKeepTheirDeadlinesToo() {
        // The server's keys: a 24-byte key beside a value, a different slot stride.
        var table = ShardTable<ByteKey, Int>()
        var model: [Int: Int64] = [:]
        for i in 0..<3_000 {
            let deadline: Int64 = i % 2 == 1 ? Int64(10_000 + i) : 0
            table[ByteKey("key:\(i)")] = Entry(value: i, expiresAt: deadline)
            model[i] = deadline
        }
        for i in stride(from: 0, to: 3_000, by: 3) {
            #expect(table.removeValue(forKey: ByteKey("key:\(i)"))?.expiresAt == model[i])
            model[i] = nil
        }
        table.reserveCapacity(10_000)
        table.checkLayoutInvariants()
        #expect(table.count == model.count)
        for (i, deadline) in model {
            let entry = table[ByteKey("key:\(i)")]
            #expect(entry?.value == i && entry?.expiresAt == deadline, "key:\(i)")
        }
    }
}
