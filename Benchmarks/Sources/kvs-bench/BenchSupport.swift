import CKVSBenchSupport
import Dispatch
import Foundation
import KVS
import Synchronization

/// The anchors' data: `key:%08d` for 0..<1,000,000 (or `KVS_BENCH_KEYS`), 64-byte values,
/// 256 shards.
enum BenchData {
    /// 1,000,000, or `KVS_BENCH_KEYS` (1 to 100,000,000) to measure another store size.
    static let keyCount: Int = {
        guard let text = ProcessInfo.processInfo.environment["KVS_BENCH_KEYS"] else { return 1_000_000 }
        guard let count = Int(text), (1...100_000_000).contains(count) else {
            fail("kvs-bench: KVS_BENCH_KEYS must be a whole number from 1 to 100000000, not \(text)")
        }
        return count
    }()
    static let shardCount = 256
    static let valueSize = 64
    static let batchSize = 100
    static let zipfS = 0.99

    /// `key:00000000` ... `key:00999999`, made before any timing.
    static func makeKeys() -> [String] {
        (0..<keyCount).map { i in
            var digits = [UInt8](repeating: UInt8(ascii: "0"), count: 8)
            var n = i
            for p in stride(from: 7, through: 0, by: -1) {
                digits[p] = UInt8(ascii: "0") + UInt8(n % 10)
                n /= 10
            }
            return "key:" + String(decoding: digits, as: UTF8.self)
        }
    }
}

/// The type of the stored values: `ValueBytes` (the library's byte string, the default)
/// or `[UInt8]` (with `KVS_BENCH_VALUE=array`), so that both can be measured.
protocol BenchValue: Codable, Sendable, RandomAccessCollection where Element == UInt8, Index == Int {
    /// A fresh 64-byte value whose first 8 bytes are `x`, little-endian, the rest zero.
    static func fresh(_ x: UInt64) -> Self
}

extension ValueBytes: BenchValue {
    @inline(__always)
    static func fresh(_ x: UInt64) -> ValueBytes {
        ValueBytes(count: BenchData.valueSize) { buffer in
            buffer.initializeMemory(as: UInt8.self, repeating: 0)
            buffer.storeBytes(of: x.littleEndian, as: UInt64.self)
        }
    }
}

extension Array: BenchValue where Element == UInt8 {
    @inline(__always)
    static func fresh(_ x: UInt64) -> [UInt8] {
        [UInt8](unsafeUninitializedCapacity: BenchData.valueSize) { buffer, count in
            buffer.initialize(repeating: 0)
            Swift.withUnsafeBytes(of: x.littleEndian) { le in
                for i in 0..<8 { buffer[i] = le[i] }
            }
            count = BenchData.valueSize
        }
    }
}

/// splitmix64, the per-thread generator (identical in the Go and Java programs). A copy of the
/// tests' `SplitMix64`: this package sees only the root package's products, and the
/// test-support targets are none; and this one must stay inlinable into the workload loops.
struct SplitMix64 {
    var state: UInt64

    @inline(__always)
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Maps the low 32 bits of `r` onto `0..<n`.
@inline(__always)
func uniformIndex(_ r: UInt64, _ n: Int) -> Int {
    Int(((r & 0xFFFF_FFFF) &* UInt64(n)) >> 32)
}

enum Zipf {
    /// The cumulative weights of ranks 1...n with weight k^-s.
    static func cdf() -> [Double] {
        var cdf = [Double](repeating: 0, count: BenchData.keyCount)
        var sum = 0.0
        for k in 1...BenchData.keyCount {
            sum += pow(Double(k), -BenchData.zipfS)
            cdf[k - 1] = sum
        }
        return cdf
    }

    /// `n` key indices by inverse CDF; rank r (0-based) maps to (r * 2654435761) % keys.
    static func samples(_ cdf: [Double], count n: Int, seed: UInt64) -> [Int32] {
        var rng = SplitMix64(state: seed)
        let total = cdf[cdf.count - 1]
        return (0..<n).map { _ in
            let u = Double(rng.next() >> 11) * (1.0 / 9_007_199_254_740_992.0) * total
            var lo = 0
            var hi = cdf.count - 1
            while lo < hi {
                let mid = (lo + hi) / 2
                if cdf[mid] < u { lo = mid + 1 } else { hi = mid }
            }
            return Int32((UInt64(lo) &* 2_654_435_761) % UInt64(BenchData.keyCount))
        }
    }
}

/// Runs `work` on `threads` threads at once and returns the elapsed time and the sum of
/// what they returned.
func runThreads(_ threads: Int, _ work: @Sendable @escaping (Int) -> Int) -> (seconds: Double, total: Int) {
    let results = UnsafeMutableBufferPointer<Int>.allocate(capacity: threads)
    defer { results.deallocate() }
    results.initialize(repeating: 0)
    nonisolated(unsafe) let out = results  // each thread writes only its own slot
    let start = DispatchTime.now().uptimeNanoseconds
    DispatchQueue.concurrentPerform(iterations: threads) { t in
        out[t] = work(t)
    }
    let elapsed = Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9
    return (elapsed, results.reduce(0, +))
}

/// Resident memory of this process, from /proc/self/status (VmRSS), in bytes.
func residentBytes() -> Int {
    guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return -1 }
    for line in status.split(separator: "\n") where line.hasPrefix("VmRSS:") {
        let fields = line.split(separator: " ", omittingEmptySubsequences: true)
        if fields.count >= 2, let kb = Int(fields[1]) { return kb * 1024 }
    }
    return -1
}

func liveHeapBytes() -> Int { Int(kvs_bench_live_heap()) }
func trimHeap() { kvs_bench_trim_heap() }

/// A value behind a lock, for what the worker threads hand back outside the timed loops
/// (the store's own `Locked` is internal to it).
final class Locked<State: Sendable>: Sendable {
    private let mutex: Mutex<State>

    init(_ state: State) { mutex = Mutex(state) }

    func withLock<R: Sendable>(_ body: (inout State) -> R) -> R {
        mutex.withLock { body(&$0) }
    }
}
