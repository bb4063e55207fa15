import KVS
import Testing

@Suite("EvictionPolicy: the contract, for every policy")
struct EvictionPolicyConformanceTests {
    static let bounds = [0, 1, 7, 64, 1000]

    @Test("LRU", arguments: bounds)
    func lru(maximumWeight: Int) {
        checkEvictionPolicy(LRUPolicy.init, maximumWeight: maximumWeight)
        checkEvictionPolicy(LRUPolicy.init, maximumWeight: maximumWeight, weights: 1...5, seed: 2)
    }

    @Test("SIEVE", arguments: bounds)
    func sieve(maximumWeight: Int) {
        checkEvictionPolicy(SIEVEPolicy.init, maximumWeight: maximumWeight)
        checkEvictionPolicy(SIEVEPolicy.init, maximumWeight: maximumWeight, weights: 1...5, seed: 2)
    }

    @Test("S3-FIFO", arguments: bounds)
    func s3fifo(maximumWeight: Int) {
        checkEvictionPolicy(S3FIFOPolicy.init, maximumWeight: maximumWeight)
        checkEvictionPolicy(S3FIFOPolicy.init, maximumWeight: maximumWeight, weights: 1...5, seed: 2)
    }

    @Test("W-TinyLFU", arguments: bounds)
    func wtinylfu(maximumWeight: Int) {
        checkEvictionPolicy(WTinyLFUPolicy.init, maximumWeight: maximumWeight)
        checkEvictionPolicy(WTinyLFUPolicy.init, maximumWeight: maximumWeight, weights: 1...5, seed: 2)
        // Long enough for many ghost hits and climber samples (ten reads per entry of the
        // bound each).
        checkEvictionPolicy(WTinyLFUPolicy.init, maximumWeight: maximumWeight, operations: 60_000, keys: 3000, seed: 3)
        let climbing = { WTinyLFUPolicy(maximumWeight: $0, adaptation: .hillClimbing) }
        checkEvictionPolicy(climbing, maximumWeight: maximumWeight, weights: 1...5, seed: 4)
        checkEvictionPolicy(climbing, maximumWeight: maximumWeight, operations: 60_000, keys: 3000, seed: 5)
    }
}
