import KVS
import Testing

/// The contract every ``EvictionPolicy`` keeps, checked by driving it as the store does with
/// a seeded random mix of hits, misses, inserts, updates and removals, against a model of the
/// live entries (in the manner of swift-collections' conformance checkers).
///
/// After every call it checks that the policy's count and weight match the model; after
/// every write it evicts while the policy is over its bound and checks that each eviction
/// names a live node with its own hash, exactly once, and that the bound then holds. At the
/// end it evicts everything and checks that every remaining node comes back once. Every 97
/// operations, the policy checks its own lists (``CheckedEvictionPolicy``).
func checkEvictionPolicy<P: CheckedEvictionPolicy>(
    _ make: (Int) -> P,
    maximumWeight: Int,
    weights: ClosedRange<Int> = 1...1,
    operations: Int = 20_000,
    keys: UInt64 = 400,
    seed: UInt64 = 1,
    sourceLocation: SourceLocation = #_sourceLocation
) {
    var policy = make(maximumWeight)
    var random = SeededGenerator(seed: seed)
    var nodeOfKey: [UInt64: PolicyNode] = [:]
    var live: [PolicyNode: (key: UInt64, weight: Int)] = [:]
    var peakCount = 0
    var largestNode: PolicyNode = 0

    func hash(_ key: UInt64) -> UInt64 { key &* 0x9E37_79B9_7F4A_7C15 ^ 0x5555 }

    func checkTotals() {
        #expect(policy.count == live.count, "count", sourceLocation: sourceLocation)
        #expect(
            policy.totalWeight == live.values.reduce(0) { $0 + $1.weight },
            "weight",
            sourceLocation: sourceLocation
        )
    }

    func evictWhileOver() {
        while policy.totalWeight > policy.maximumWeight {
            guard let (node, evictedHash) = policy.evict() else {
                Issue.record("evict() returned nil over the bound", sourceLocation: sourceLocation)
                return
            }
            guard let entry = live.removeValue(forKey: node) else {
                Issue.record("evict() named node \(node), which is not live", sourceLocation: sourceLocation)
                return
            }
            #expect(evictedHash == hash(entry.key), sourceLocation: sourceLocation)
            nodeOfKey[entry.key] = nil
        }
        #expect(policy.totalWeight <= policy.maximumWeight, sourceLocation: sourceLocation)
    }

    for operation in 0..<operations {
        // Skewed keys: a few hot ones, a long tail, as a cache sees.
        let key = random.next() % 4 == 0 ? random.next() % 8 : random.next() % keys
        let weight = Int.random(in: weights, using: &random)
        switch random.next() % 10 {
        case 0:
            if let node = nodeOfKey[key] {
                policy.remove(node)
                live[node] = nil
                nodeOfKey[key] = nil
            }
        case 1:
            if let node = nodeOfKey[key] {
                policy.update(node, weight: weight)
                live[node]!.weight = weight
                evictWhileOver()
            }
        default:
            if let node = nodeOfKey[key] {
                policy.recordHit(node)
            } else {
                policy.recordMiss(hash: hash(key))
                let node = policy.insert(hash: hash(key), weight: weight)
                #expect(live[node] == nil, "insert() returned live node \(node)", sourceLocation: sourceLocation)
                live[node] = (key, weight)
                nodeOfKey[key] = node
                peakCount = max(peakCount, live.count)
                largestNode = max(largestNode, node)
                evictWhileOver()
            }
        }
        checkTotals()
        if operation % 97 == 0, let violation = policy.invariantViolation() {
            Issue.record("after operation \(operation): \(violation)", sourceLocation: sourceLocation)
            return
        }
    }
    #expect(policy.invariantViolation() == nil, sourceLocation: sourceLocation)
    // Node ids are reused: they never outnumber the most entries held at once.
    #expect(Int(largestNode) < peakCount, "node ids are not reused", sourceLocation: sourceLocation)

    while let (node, _) = policy.evict() {
        #expect(live.removeValue(forKey: node) != nil, "node \(node) evicted twice", sourceLocation: sourceLocation)
    }
    #expect(live.isEmpty, "evict() left \(live.count) entries", sourceLocation: sourceLocation)
    #expect(policy.count == 0 && policy.totalWeight == 0, sourceLocation: sourceLocation)

    let node = policy.insert(hash: 1, weight: 1)
    policy.removeAll()
    #expect(policy.count == 0 && policy.totalWeight == 0, sourceLocation: sourceLocation)
    #expect(policy.evict() == nil, sourceLocation: sourceLocation)
    _ = node
}

/// SplitMix64: a seeded generator, so a failing check repeats.
struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
