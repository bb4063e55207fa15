import Synchronization

/// The random numbers of SPOP and SRANDMEMBER: SplitMix64 over one server-wide atomic
/// counter, seeded once from the system's generator.
///
/// `SystemRandomNumberGenerator` makes a `getrandom` system call per number on Linux
/// (about a microsecond on a loaded machine, as much as the rest of an SPOP); these
/// commands need a fair pick, not a secret, as Redis's `random()` gives them.
///
/// Thread-safety: thread-safe; each call is one relaxed atomic add.
struct CommandRandom: RandomNumberGenerator {
    /// The shared counter (SplitMix64's state).
    private static let state = Atomic<UInt64>(UInt64.random(in: 0...UInt64.max))

    init() {}

    /// The next number: the counter advanced by the golden ratio, then mixed.
    mutating func next() -> UInt64 {
        var z = Self.state.wrappingAdd(0x9E37_79B9_7F4A_7C15, ordering: .relaxed).newValue
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A uniformly random integer in `range`.
    static func int(in range: Range<Int>) -> Int {
        var generator = CommandRandom()
        return Int.random(in: range, using: &generator)
    }
}
