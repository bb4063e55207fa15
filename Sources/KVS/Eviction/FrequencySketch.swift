import CKVSPrefetch

/// A count-min sketch of 4-bit counters that estimates how often a key hash was seen
/// recently: the frequency filter of ``WTinyLFUPolicy``, after Caffeine's
/// `FrequencySketch` (Einziger, Friedman and Manes, "TinyLFU: A Highly Efficient Cache
/// Admission Policy").
///
/// Each 64-bit word holds sixteen counters; a hash picks four words and, by its two low
/// bits, one group of four counters in them, so an increment touches four counters with one
/// seed each. A counter saturates at 15. After `sampleSize` increments every counter is
/// halved (the "reset" that ages old popularity away), and the count of increments is
/// corrected for the odd counters' lost halves.
struct FrequencySketch {
    private var table: [UInt64] = []
    private var mask = 0
    /// Increments since the last reset.
    private var size = 0
    /// The increments between resets: ten per key of capacity, as Caffeine.
    private(set) var sampleSize = 0

    private static let seeds: (UInt64, UInt64, UInt64, UInt64) = (
        0xc3a5_c85c_97cb_3127, 0xb492_b66f_be98_f273, 0x9ae1_6a3b_2f90_404f, 0xcbf2_9ce4_8422_2325
    )
    private static let resetMask: UInt64 = 0x7777_7777_7777_7777
    private static let oneMask: UInt64 = 0x1111_1111_1111_1111

    /// Whether the sketch has no table yet.
    var isEmpty: Bool { table.isEmpty }

    /// How many keys the table is sized for.
    var capacity: Int { table.count }

    /// Sizes the table for `capacity` keys (a power of two of words, at least one word per
    /// key), starting the counts over if it grows.
    ///
    /// - Complexity: O(capacity) when it grows, else O(1).
    mutating func ensureCapacity(_ capacity: Int) {
        var words = 8
        while words < capacity && words < 1 << 26 { words *= 2 }
        guard words > table.count else { return }
        table = Array(repeating: 0, count: words)
        mask = words - 1
        size = 0
        sampleSize = 10 * max(1, min(capacity, words))
    }

    /// Spreads the caller's hash: the store's hashes may share their low bits with the shard
    /// index, which would crowd one shard's keys into a corner of the table.
    @inline(__always)
    private static func spread(_ hash: UInt64) -> UInt64 {
        var x = hash ^ (hash >> 31)
        x &*= 0x7fb5_d329_728e_a185
        x ^= x >> 27
        x &*= 0x81da_def4_bc2d_d44d
        return x ^ (x >> 33)
    }

    @inline(__always)
    private static func index(_ item: UInt64, _ seed: UInt64, _ mask: Int) -> Int {
        var x = (item &+ seed) &* seed
        x &+= x >> 32
        return Int(truncatingIfNeeded: x) & mask
    }

    /// The estimated frequency of `hash`, from 0 to 15.
    ///
    /// - Complexity: O(1).
    func frequency(_ hash: UInt64) -> Int {
        guard !table.isEmpty else { return 0 }
        let item = Self.spread(hash)
        let start = UInt64(item & 3) << 4
        let s = Self.seeds
        let mask = mask
        return table.withUnsafeBufferPointer { words in
            @inline(__always) func count(_ seed: UInt64, _ shift: UInt64) -> UInt64 {
                (words[Self.index(item, seed, mask)] >> shift) & 0xf
            }
            let result = min(
                min(count(s.0, start), count(s.1, start + 4)),
                min(count(s.2, start + 8), count(s.3, start + 12))
            )
            return Int(result)
        }
    }

    /// Starts loading the four words ``increment(_:)`` of `hash` writes.
    ///
    /// - Complexity: O(1); it reads nothing.
    func prefetch(_ hash: UInt64) {
        guard !table.isEmpty else { return }
        let item = Self.spread(hash)
        let s = Self.seeds
        let mask = mask
        table.withUnsafeBufferPointer { words in
            guard let base = words.baseAddress else { return }
            ckvs_prefetch_for_write(base + Self.index(item, s.0, mask))
            ckvs_prefetch_for_write(base + Self.index(item, s.1, mask))
            ckvs_prefetch_for_write(base + Self.index(item, s.2, mask))
            ckvs_prefetch_for_write(base + Self.index(item, s.3, mask))
        }
    }

    /// Counts one occurrence of `hash`, halving every counter once per `sampleSize`.
    ///
    /// - Complexity: O(1) amortized (the halving walks the table once per `sampleSize`
    ///   increments, ten per word).
    mutating func increment(_ hash: UInt64) {
        guard !table.isEmpty else { return }
        let item = Self.spread(hash)
        let start = UInt64(item & 3) << 4
        let s = Self.seeds
        let mask = mask
        let added = table.withUnsafeMutableBufferPointer { words in
            @inline(__always) func incrementAt(_ seed: UInt64, _ shift: UInt64) -> Bool {
                let word = Self.index(item, seed, mask)
                let counter: UInt64 = 0xf << shift
                let value = words[word]
                guard value & counter != counter else { return false }
                words[word] = value &+ (1 << shift)
                return true
            }
            // Four loads with no dependency between them, so that their misses overlap.
            let a = incrementAt(s.0, start)
            let b = incrementAt(s.1, start + 4)
            let c = incrementAt(s.2, start + 8)
            let d = incrementAt(s.3, start + 12)
            return a || b || c || d
        }
        if added {
            size += 1
            if size >= sampleSize { reset() }
        }
    }

    /// Halves every counter.
    private mutating func reset() {
        var odd = 0
        for word in table.indices {
            odd += (table[word] & Self.oneMask).nonzeroBitCount
            table[word] = (table[word] >> 1) & Self.resetMask
        }
        size = (size >> 1) - (odd >> 2)
    }

    /// Zeroes every counter; keeps the table.
    mutating func clear() {
        for word in table.indices { table[word] = 0 }
        size = 0
    }
}
