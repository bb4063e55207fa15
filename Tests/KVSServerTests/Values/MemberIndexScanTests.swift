import KVS
import KVSTestSupport
import Testing

@testable import KVSServer

/// The scan cursor of the member index under a set's table and a sorted set's skip list:
/// SCAN's guarantee through growth and shrinking between steps, as PairTable's tests check
/// it for hashes.
@Suite("MemberIndex scan")
struct MemberIndexScanTests {
    private func member(_ text: String) -> ValueBytes { ValueBytes(Array(text.utf8)) }

    private func text(_ member: ValueBytes) -> String { member.withUnsafeBytes { String(decoding: $0, as: UTF8.self) } }

    /// A full scan of a set, with `between` run after every step.
    private func scanSet(_ set: inout SetValue, between: (inout SetValue) -> Void) -> [String] {
        var seen: [String] = []
        var cursor: UInt64 = 0
        repeat {
            cursor = set.scan(from: cursor) { seen.append(text($0)) }
            between(&set)
        } while cursor != 0
        return seen
    }

    @Test func aSetScanReturnsEachMemberOnceWhenNothingChanges() {
        var set = SetValue()
        for i in 0..<5000 { set.insert(member("m\(i)"), limits: .redisDefaults) }
        let seen = scanSet(&set) { _ in }
        #expect(seen.count == 5000)
        #expect(Set(seen) == Set((0..<5000).map { "m\($0)" }))
    }

    /// SCAN's promise: a member present from the start of a scan to its end is returned,
    /// while others come and go and the index grows and shrinks between steps.
    @Test func aSetScanReturnsEveryMemberPresentThroughout() {
        var grew = 0
        var shrank = 0
        for seed in 0..<10 {
            var random = SplitMix64(seed: UInt64(seed))
            var set = SetValue()
            let stable = (0..<60).map { "stable\($0)" }
            for m in stable { set.insert(member(m), limits: .redisDefaults) }
            var made = 0
            var live: [String] = []
            let seen = scanSet(&set) { set in
                let slots = set.storage.positions.slots.count
                // A burst of inserts (growth) or the removal of them all (shrinking back).
                if random.next() % 2 == 0 {
                    for _ in 0..<Int(random.next() % 800) {
                        made += 1
                        live.append("t\(made)")
                        set.insert(member("t\(made)"), limits: .redisDefaults)
                    }
                } else {
                    for t in live { set.remove(member(t)) }
                    live.removeAll()
                }
                if set.storage.positions.slots.count > slots { grew += 1 }
                if set.storage.positions.slots.count < slots { shrank += 1 }
            }
            #expect(Set(stable).isSubset(of: Set(seen)), "seed \(seed)")
        }
        // The runs exercised both directions of resizing.
        #expect(grew > 0 && shrank > 0)
    }

    /// Removals between steps move members in the dense array (the last into the hole)
    /// and shift the index's runs back; neither hides a member that stays.
    @Test func aSetScanSurvivesRemovalsBetweenSteps() {
        var set = SetValue()
        for i in 0..<3000 { set.insert(member("m\(i)"), limits: .redisDefaults) }
        var next = 0
        let seen = scanSet(&set) { set in
            for _ in 0..<5 where next < 1500 {
                set.remove(member("m\(next * 2)"))
                next += 1
            }
        }
        let kept = Set((0..<3000).filter { $0 % 2 == 1 || $0 / 2 >= 1500 }.map { "m\($0)" })
        #expect(kept.isSubset(of: Set(seen)))
    }

    @Test func aSortedSetScanReturnsEveryMemberPresentThroughout() {
        // Fewer and smaller bursts than the set's: a scan takes as many steps as its index
        // has homes, and the sorted set's index does not shrink back.
        for seed in 0..<4 {
            var random = SplitMix64(seed: UInt64(seed))
            var zset = ZSetValue()
            let stable = (0..<150).map { "stable\($0)" }
            for (i, m) in stable.enumerated() { zset.set(member(m), score: Double(i), limits: .redisDefaults) }
            var seen: [String: Double] = [:]
            var cursor: UInt64 = 0
            var made = 0
            var live: [String] = []
            repeat {
                cursor = zset.scan(from: cursor) { m, score in seen[text(m)] = score }
                switch random.next() % 3 {
                case 0:
                    for _ in 0..<Int(random.next() % 300) {
                        made += 1
                        live.append("t\(made)")
                        zset.set(member("t\(made)"), score: Double(random.next() % 1000), limits: .redisDefaults)
                    }
                case 1:
                    for t in live { zset.remove(member(t)) }
                    live.removeAll()
                default:
                    // New scores move members to other nodes of the skip list.
                    for _ in 0..<20 {
                        let i = Int(random.next() % 150)
                        zset.set(member("stable\(i)"), score: Double(i) + 0.5, limits: .redisDefaults)
                    }
                }
            } while cursor != 0
            for (i, m) in stable.enumerated() {
                #expect(seen[m] == Double(i) || seen[m] == Double(i) + 0.5, "seed \(seed), \(m)")
            }
            // The index still finds every member at its node after the moves.
            for (i, m) in stable.enumerated() {
                let score = zset.score(of: member(m))
                #expect(score == Double(i) || score == Double(i) + 0.5)
            }
            #expect(zset.count == 150 + live.count)
        }
    }
}
