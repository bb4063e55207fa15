import KVS
import Testing

/// A shard hands its policy the reads it buffered in batches (``EvictionPolicy/recordReads(_:)``)
/// before every write; each policy must then choose exactly the victims it chooses when it
/// hears of every read at once, so that the hit ratios measured one read at a time hold for
/// the store.
@Suite("EvictionPolicy: batched reads evict as single reads do")
struct PolicyReadBatchTests {
    /// Drives two copies of a policy with the same seeded mix of hits, misses, inserts,
    /// updates and removals, one told of each read at once, the other through a buffer of
    /// `batch` reads flushed when full and before every other call, and returns the two
    /// sequences of evicted hashes.
    static func evictions<P: EvictionPolicy>(
        _ make: (Int) -> P,
        maximumWeight: Int,
        batch: Int,
        operations: Int = 30_000,
        keys: UInt64 = 2_000,
        seed: UInt64
    ) -> (direct: [UInt64], batched: [UInt64]) {
        var direct = make(maximumWeight)
        var batched = make(maximumWeight)
        var buffer: [PolicyRead] = []
        var random = SeededGenerator(seed: seed)
        // The two copies hand out the same nodes, since they see the same calls in order.
        var nodeOfKey: [UInt64: PolicyNode] = [:]
        var keyOfNode: [PolicyNode: UInt64] = [:]
        var directEvictions: [UInt64] = []
        var batchedEvictions: [UInt64] = []

        func hash(_ key: UInt64) -> UInt64 { key &* 0x9E37_79B9_7F4A_7C15 ^ 0x5555 }
        func flush() {
            buffer.withUnsafeBufferPointer { batched.recordReads($0) }
            buffer.removeAll(keepingCapacity: true)
        }
        func read(_ read: PolicyRead) {
            buffer.append(read)
            if buffer.count == batch { flush() }
        }
        func evictWhileOver() {
            while direct.totalWeight > direct.maximumWeight {
                guard let (node, evictedHash) = direct.evict() else { return }
                directEvictions.append(evictedHash)
                if let key = keyOfNode.removeValue(forKey: node) { nodeOfKey[key] = nil }
            }
            flush()
            while batched.totalWeight > batched.maximumWeight {
                guard let (_, evictedHash) = batched.evict() else { return }
                batchedEvictions.append(evictedHash)
            }
        }

        for _ in 0..<operations {
            // Skewed keys: a few hot ones, a long tail, as a cache sees.
            let key = random.next() % 4 == 0 ? random.next() % 16 : random.next() % keys
            switch random.next() % 20 {
            case 0:
                guard let node = nodeOfKey.removeValue(forKey: key) else { continue }
                keyOfNode[node] = nil
                direct.remove(node)
                flush()
                batched.remove(node)
            case 1:
                guard let node = nodeOfKey[key] else { continue }
                direct.update(node, weight: 1)
                flush()
                batched.update(node, weight: 1)
                evictWhileOver()
            default:
                if let node = nodeOfKey[key] {
                    direct.recordHit(node, hash: hash(key))
                    read(PolicyRead(node: node, hash: hash(key)))
                } else {
                    direct.recordMiss(hash: hash(key))
                    read(PolicyRead(node: PolicyRead.miss, hash: hash(key)))
                    // One miss in two inserts, as a cache whose caller does not always load.
                    guard random.next() % 2 == 0 else { continue }
                    let node = direct.insert(hash: hash(key), weight: 1)
                    flush()
                    let twin = batched.insert(hash: hash(key), weight: 1)
                    if twin != node { return (directEvictions, batchedEvictions + [.max]) }
                    nodeOfKey[key] = node
                    keyOfNode[node] = key
                    evictWhileOver()
                }
            }
        }
        return (directEvictions, batchedEvictions)
    }

    static let batches = [1, 7, 32]

    @Test("LRU", arguments: batches)
    func lru(batch: Int) {
        let (direct, batched) = Self.evictions(LRUPolicy.init, maximumWeight: 200, batch: batch, seed: 11)
        #expect(direct.count > 1_000, "the workload evicts")
        #expect(direct == batched)
    }

    @Test("SIEVE", arguments: batches)
    func sieve(batch: Int) {
        let (direct, batched) = Self.evictions(SIEVEPolicy.init, maximumWeight: 200, batch: batch, seed: 12)
        #expect(direct.count > 1_000, "the workload evicts")
        #expect(direct == batched)
    }

    @Test("S3-FIFO", arguments: batches)
    func s3fifo(batch: Int) {
        let (direct, batched) = Self.evictions(S3FIFOPolicy.init, maximumWeight: 200, batch: batch, seed: 13)
        #expect(direct.count > 1_000, "the workload evicts")
        #expect(direct == batched)
    }

    @Test("W-TinyLFU, both adaptations", arguments: batches)
    func wtinylfu(batch: Int) {
        let ghosts = Self.evictions(WTinyLFUPolicy.init, maximumWeight: 200, batch: batch, seed: 14)
        #expect(ghosts.direct.count > 1_000, "the workload evicts")
        #expect(ghosts.direct == ghosts.batched)
        let climbing = Self.evictions(
            { WTinyLFUPolicy(maximumWeight: $0, adaptation: .hillClimbing) },
            maximumWeight: 200,
            batch: batch,
            seed: 15
        )
        #expect(climbing.direct == climbing.batched)
    }
}
