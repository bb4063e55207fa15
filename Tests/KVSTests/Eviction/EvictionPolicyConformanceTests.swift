import KVS
import Testing

@Suite("EvictionPolicy: the contract, for every policy")
struct EvictionPolicyConformanceTests {
    static let bounds = [0, 1, 7, 64, 1000]

    @Test("LRU", arguments: bounds)
    func lru(maximumWeight: Int) {
        checkEvictionPolicy(LRUPolicy.self, maximumWeight: maximumWeight)
        checkEvictionPolicy(LRUPolicy.self, maximumWeight: maximumWeight, weights: 1...5, seed: 2)
    }

    @Test("SIEVE", arguments: bounds)
    func sieve(maximumWeight: Int) {
        checkEvictionPolicy(SIEVEPolicy.self, maximumWeight: maximumWeight)
        checkEvictionPolicy(SIEVEPolicy.self, maximumWeight: maximumWeight, weights: 1...5, seed: 2)
    }

    @Test("S3-FIFO", arguments: bounds)
    func s3fifo(maximumWeight: Int) {
        checkEvictionPolicy(S3FIFOPolicy.self, maximumWeight: maximumWeight)
        checkEvictionPolicy(S3FIFOPolicy.self, maximumWeight: maximumWeight, weights: 1...5, seed: 2)
    }

    @Test("W-TinyLFU", arguments: bounds)
    func wtinylfu(maximumWeight: Int) {
        checkEvictionPolicy(WTinyLFUPolicy.self, maximumWeight: maximumWeight)
        checkEvictionPolicy(WTinyLFUPolicy.self, maximumWeight: maximumWeight, weights: 1...5, seed: 2)
        // Long enough for many climber samples (ten reads per entry of the bound each).
        checkEvictionPolicy(WTinyLFUPolicy.self, maximumWeight: maximumWeight, operations: 60_000, keys: 3000, seed: 3)
    }
}
