import KVS
import Testing

@testable import KVSServer

/// ``SetValue`` against a Swift `Set` model: random adds, removals and pops on both
/// encodings, with the table's index checked after each step.
@Suite("Set values")
struct SetValueTests {
    /// Checks that `set` holds exactly `model`, by count, membership and enumeration.
    func expectSame(_ set: SetValue, _ model: Set<String>, _ comment: Comment) {
        #expect(set.count == model.count, comment)
        let members = set.members.map { String(decoding: Array($0), as: UTF8.self) }
        #expect(Set(members) == model, comment)
        #expect(members.count == model.count, comment)
        for member in model { #expect(set.contains(ValueBytes(Array(member.utf8))), comment) }
    }

    @Test func matchesASetModel() {
        var generator = SystemRandomNumberGenerator()
        for round in 0..<4 {
            var set = SetValue()
            var model = Set<String>()
            let limits = SetLimits(maxIntsetEntries: round * 40)
            // Integers first (an intset while the limit allows), then strings too.
            for step in 0..<6000 {
                let useStrings = step > 1500 || round == 3
                let n = Int.random(in: 0..<700, using: &generator)
                let name = useStrings && n % 3 == 0 ? "m\(n)" : String(n - 350)
                let member = ValueBytes(Array(name.utf8))
                switch Int.random(in: 0..<10, using: &generator) {
                case 0..<6:
                    let added = set.insert(member, limits: limits)
                    #expect(added == model.insert(name).inserted)
                case 6..<8:
                    let removed = set.remove(member)
                    #expect(removed == (model.remove(name) != nil))
                default:
                    guard !set.isEmpty else { continue }
                    let popped = set.removeMember(at: Int.random(in: 0..<set.count, using: &generator))
                    #expect(model.remove(String(decoding: Array(popped), as: UTF8.self)) != nil)
                }
                if step % 500 == 0 { expectSame(set, model, "round \(round), step \(step)") }
            }
            expectSame(set, model, "round \(round)")
            // Emptying a large table shrinks it and keeps it right.
            while !set.isEmpty {
                let popped = set.removeMember(at: set.count - 1)
                model.remove(String(decoding: Array(popped), as: UTF8.self))
            }
            #expect(model.isEmpty)
        }
    }

    @Test func aSharedSetIsCopiedBeforeAChange() {
        var a = SetValue()
        for i in 0..<100 { a.insert(ValueBytes(Array("m\(i)".utf8)), limits: .redisDefaults) }
        let b = a
        let added = a.insert(ValueBytes(Array("m5".utf8)), limits: .redisDefaults)
        #expect(!added)
        #expect(a.storage === b.storage)  // no copy for a member already there
        a.remove(ValueBytes(Array("m5".utf8)))
        #expect(a.count == 99 && b.count == 100)
        #expect(b.contains(ValueBytes(Array("m5".utf8))) && !a.contains(ValueBytes(Array("m5".utf8))))
    }

    @Test func aBatchGrowsTheTableOnce() {
        var set = SetValue()
        let batch = (0..<10).map { ValueBytes(Array("member:\($0)".utf8)) } + [ValueBytes(Array("member:3".utf8))]
        #expect(set.insert(contentsOf: batch, limits: .redisDefaults) == 10)
        #expect(set.count == 10 && set.encodingName == "hashtable")
        // Doubling through the batch would leave 16 member slots.
        #expect(set.storage.members.capacity < 16)
        #expect(set.insert(contentsOf: [ValueBytes(Array("x".utf8))], limits: .redisDefaults) == 1)
        #expect(set.contains(ValueBytes(Array("member:9".utf8))) && set.count == 11)
    }
}
