/// How a bounded ``KeyValueStore`` chooses the entries to evict when a write takes it over
/// its bound.
///
/// ```swift
/// let cache = try KeyValueStore<String>(maximumCount: 10_000, policy: .sieve)
/// ```
///
/// A struct with static members rather than an enum, so that policies can be added without
/// breaking a `switch` in your code. The hit ratios behind ``default`` are in the package's
/// BENCHMARKS.md ("Hit ratio against Caffeine").
///
/// - Thread safety: a value type.
public struct CachePolicy: Hashable, Sendable, CustomStringConvertible {
    package enum Base: Hashable, Sendable {
        case leastRecentlyUsed, sieve, s3FIFO, windowTinyLFU
    }

    package let base: Base
    private init(_ base: Base) { self.base = base }

    /// Exact least-recently-used: evicts the entry read or written longest ago. Every hit
    /// moves its entry in a list.
    public static let leastRecentlyUsed = CachePolicy(.leastRecentlyUsed)

    /// SIEVE (Zhang et al., NSDI 2024): a FIFO queue with a visited bit and a moving hand; a
    /// hit only sets a bit. Close to LRU or better on web traces, at a lower cost per hit.
    public static let sieve = CachePolicy(.sieve)

    /// S3-FIFO (Yang et al., SOSP 2023): a small FIFO that filters one-hit wonders, a main
    /// FIFO, and a ghost queue of recently evicted keys.
    public static let s3FIFO = CachePolicy(.s3FIFO)

    /// Window TinyLFU, Caffeine's policy: an LRU admission window, a segmented LRU main
    /// region, a frequency sketch that admits an entry to main only if it is used more often
    /// than main's next victim, and a hill climber that sizes the window to the workload.
    public static let windowTinyLFU = CachePolicy(.windowTinyLFU)

    /// The policy a bounded store uses unless told otherwise: ``windowTinyLFU``, which has the
    /// best hit ratio over the traces in the benchmarks, recency-heavy and frequency-heavy
    /// alike.
    public static let `default` = windowTinyLFU

    public var description: String {
        switch base {
        case .leastRecentlyUsed: "leastRecentlyUsed"
        case .sieve: "sieve"
        case .s3FIFO: "s3FIFO"
        case .windowTinyLFU: "windowTinyLFU"
        }
    }

    /// A new policy of this kind for a region of `maximumWeight`.
    package func make(maximumWeight: Int) -> any EvictionPolicy {
        switch base {
        case .leastRecentlyUsed: LRUPolicy(maximumWeight: maximumWeight)
        case .sieve: SIEVEPolicy(maximumWeight: maximumWeight)
        case .s3FIFO: S3FIFOPolicy(maximumWeight: maximumWeight)
        case .windowTinyLFU: WTinyLFUPolicy(maximumWeight: maximumWeight)
        }
    }
}
