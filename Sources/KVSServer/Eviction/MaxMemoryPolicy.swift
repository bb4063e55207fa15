/// Redis's `maxmemory-policy`: what the server evicts when the memory in use passes
/// `maxmemory`. The raw values are Redis's names.
public enum MaxMemoryPolicy: String, CaseIterable, Sendable {
    /// Evict nothing: write commands get the OOM error.
    case noEviction = "noeviction"
    /// The least recently used of sampled keys.
    case allKeysLRU = "allkeys-lru"
    /// The least frequently used of sampled keys.
    case allKeysLFU = "allkeys-lfu"
    /// A random key.
    case allKeysRandom = "allkeys-random"
    /// The least recently used of sampled keys with a TTL.
    case volatileLRU = "volatile-lru"
    /// The least frequently used of sampled keys with a TTL.
    case volatileLFU = "volatile-lfu"
    /// A random key with a TTL.
    case volatileRandom = "volatile-random"
    /// Of sampled keys with a TTL, the one that expires first.
    case volatileTTL = "volatile-ttl"

    /// Whether only keys with a TTL may be evicted.
    var isVolatile: Bool {
        switch self {
        case .volatileLRU, .volatileLFU, .volatileRandom, .volatileTTL: true
        default: false
        }
    }

    /// Whether keys' access words count accesses (LFU) rather than time (LRU).
    var usesFrequency: Bool { self == .allKeysLFU || self == .volatileLFU }

    /// Whether it picks at random instead of from sampled keys' scores.
    var isRandom: Bool { self == .allKeysRandom || self == .volatileRandom }

    /// The index of the policy in ``allCases`` (what the server keeps in an atomic).
    var code: UInt8 { UInt8(Self.allCases.firstIndex(of: self) ?? 0) }

    /// The policy at `code` in ``allCases``.
    init(code: UInt8) {
        let all = Self.allCases
        self = Int(code) < all.count ? all[Int(code)] : .noEviction
    }

    /// The names in the order of Redis's refusal of an unknown one.
    static let redisOrder: [MaxMemoryPolicy] = [
        .volatileLRU, .volatileLFU, .volatileRandom, .volatileTTL, .allKeysLRU, .allKeysLFU, .allKeysRandom,
        .noEviction,
    ]
}
