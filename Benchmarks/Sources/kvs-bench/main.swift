// kvs-bench: the workloads of ../shared/anchors/WORKLOADS.md on KeyValueStore.
//
//     kvs-bench WORKLOAD THREADS [OPS_PER_THREAD]
//
// WORKLOAD is L, R90, R50, Z90, B100 (as the anchors), R100 (R90 with reads only: the
// read path alone, for docs/design/read-path.md's experiments), T4 and T4Z (transactions of 4
// keys, 2 reads and 2 writes, uniform or Zipf; committed/s and % retried), SNAP (save and load a snapshot of
// the loaded store, keys/s), EXP (background expiry: 1,000,000 keys whose TTLs end over
// 10 s, 10% of them per second; the sweeper's CPU in % of one core and how late keys
// disappear, p99 in ms), EXPSWEEP (the same keys swept on a manual clock: CPU ns per
// expired key, no waiting on the wall clock; instructions per key under callgrind), EXPIDLE
// (the same keys with a TTL of one hour: the sweeper's CPU in % of one core with nothing due), CHECK
// (prints the shared inputs to compare with the other
// programs), HASH (ns per shard hash: the ASCII fast path against the NFC path) or FRESH
// (ns to make and free one fresh 64-byte value: the caller's share of a set).
// Values are `ValueBytes`; with KVS_BENCH_VALUE=array they are `[UInt8]` and the program
// name is kvs-swift-array. Prints "kvs-swift WORKLOAD THREADS FIGURE" lines; lines starting with
// "#" are diagnostics. Every timed round follows an untimed warm-up round, as in the
// references (L: three throwaway loads; others: OPS/5 per thread). KVS_BENCH_KEYS=N uses
// N keys instead of the anchors' 1,000,000 (for example `L 1` over a range of store sizes,
// as BENCHMARKS.md's memory row does). KVS_BENCH_READ=inplace makes the reads of R90, R50,
// R100 and Z90 `withValue` (the value read in place under the lock) instead of `get`;
// KVS_BENCH_CHAIN=1 makes each of their operations wait for the read before it (see
// `mixed`, and scripts/bench-chain.sh).
import Foundation
@_spi(Benchmarks) import KVS

/// `KVS_BENCH_VALUE=array` stores `[UInt8]` values instead of `ValueBytes`, under the
/// program name `kvs-swift-array`, so that both value types can be measured side by side.
let storesArrays = ProcessInfo.processInfo.environment["KVS_BENCH_VALUE"] == "array"
let program = storesArrays ? "kvs-swift-array" : "kvs-swift"

func report(_ workload: String, _ threads: Int, _ figure: Double) {
    print("\(program) \(workload) \(threads) \(String(format: "%.0f", figure))")
}

let arguments = CommandLine.arguments
guard arguments.count >= 3, let threads = Int(arguments[2]), threads > 0 else {
    FileHandle.standardError.write(Data("usage: kvs-bench WORKLOAD THREADS [OPS_PER_THREAD]\n".utf8))
    exit(2)
}
let workload = arguments[1]
let ops = arguments.count > 3 ? Int(arguments[3]) ?? 5_000_000 : 5_000_000
let keys = BenchData.makeKeys()

/// Runs `workload` on a store of `V` values. (The inputs are parameters, not the globals
/// above: a global read inside the timed loops costs a dynamic exclusivity check per read.)
func run<V: BenchValue>(_: V.Type, workload: String, threads: Int, ops: Int, keys: [String]) {
    switch workload {
    case "CHECK":
        var rng = SplitMix64(state: 12345)
        let indices = (0..<5).map { _ in uniformIndex(rng.next(), BenchData.keyCount) }
        let shard = Int(Benchmarking.shardHash("key:00000042") % UInt32(BenchData.shardCount))
        print(
            "# check keys \(keys[0]) \(keys[keys.count - 1]) shard(key:00000042)=\(shard) uniform \(indices) zipf \(Zipf.samples(Zipf.cdf(), count: 5, seed: 424_242))"
        )

    case "HASH":
        // The shard hash of ASCII keys (one pass, no allocation) against keys that need NFC.
        let ascii = Array(keys.prefix(100_000))
        let accented = ascii.map { $0 + "\u{E9}" }
        for (name, sample) in [("HASH_ascii_ns", ascii), ("HASH_nfc_ns", accented)] {
            var sink: UInt32 = 0
            let rounds = max(1, ops / sample.count)
            let start = DispatchTime.now().uptimeNanoseconds
            for _ in 0..<rounds {
                for key in sample { sink &+= Benchmarking.shardHash(key) }
            }
            let nanos = Double(DispatchTime.now().uptimeNanoseconds - start) / Double(rounds * sample.count)
            if sink == 1 { print(sink) }
            print("\(program) \(name) 1 \(String(format: "%.1f", nanos))")
        }

    case "L":
        let heap0 = liveHeapBytes()
        trimHeap()
        let rss0 = residentBytes()
        var (store, cold) = load(keys, V.self)
        let rss1 = residentBytes()
        let heap1 = liveHeapBytes()
        guard store.count == BenchData.keyCount else { fail("load: wrong count \(store.count)") }
        store.shutdown()
        for _ in 0..<3 {
            (store, _) = load(keys, V.self)
            store.shutdown()
        }
        let (warmStore, warm) = load(keys, V.self)
        warmStore.shutdown()
        report("L", 1, Double(BenchData.keyCount) / warm)
        report("L_cold", 1, Double(BenchData.keyCount) / cold)
        report("L_rss", 1, Double(rss1 - rss0) / Double(BenchData.keyCount))
        report("L_heap", 1, Double(heap1 - heap0) / Double(BenchData.keyCount))

    case "R90", "R50", "Z90", "R100":
        let (store, _) = load(keys, V.self)
        let readPercent: UInt64
        switch workload {
        case "R50": readPercent = 50
        case "R100": readPercent = 100
        default: readPercent = 90  // R90, Z90
        }
        let warmOps = ops / 5
        var samples: [[Int32]?] = Array(repeating: nil, count: threads)
        if workload == "Z90" {
            let cdf = Zipf.cdf()
            for t in 0..<threads { samples[t] = Zipf.samples(cdf, count: ops, seed: 424_242 + UInt64(t)) }
        }
        let frozenSamples = samples
        _ = runThreads(threads) { t in
            mixed(
                store,
                keys,
                ops: warmOps,
                readPercent: readPercent,
                seed: 67890 + UInt64(t),
                samples: frozenSamples[t].map { Array($0.prefix(warmOps)) }
            )
        }
        let (seconds, misses) = runThreads(threads) { t in
            mixed(store, keys, ops: ops, readPercent: readPercent, seed: 12345 + UInt64(t), samples: frozenSamples[t])
        }
        guard misses == 0 || benchBound != nil else { fail("misses: \(misses)") }
        let done = ops * threads
        if benchBound != nil {
            print("# bounded at \(benchBound ?? 0): \(store.count) keys, misses \(misses) of \(done) operations")
        }
        print("# \(program) \(workload) \(threads): \(done) ops in \(String(format: "%.3f", seconds)) s")
        report(workload, threads, Double(done) / seconds)

    case "B100":
        let (store, _) = load(keys, V.self)
        _ = runThreads(threads) { t in batches(store, keys, keyCount: ops / 5, seed: 67890 + UInt64(t)) }
        let (seconds, misses) = runThreads(threads) { t in batches(store, keys, keyCount: ops, seed: 12345 + UInt64(t))
        }
        guard misses == 0 else { fail("misses: \(misses)") }
        let done = ops / BenchData.batchSize * BenchData.batchSize * threads
        print("# \(program) \(workload) \(threads): \(done) keys in \(String(format: "%.3f", seconds)) s")
        report(workload, threads, Double(done) / seconds)

    case "T4", "T4Z":
        // Transactions of 4 keys (2 reads, 2 writes), uniform or Zipf-skewed keys.
        let (store, _) = load(keys, V.self)
        var samples: [[Int32]?] = Array(repeating: nil, count: threads)
        if workload == "T4Z" {
            let cdf = Zipf.cdf()
            for t in 0..<threads { samples[t] = Zipf.samples(cdf, count: 4 * ops, seed: 424_242 + UInt64(t)) }
        }
        let frozenSamples = samples
        _ = runThreads(threads) { t in
            transactions(store, keys, ops: ops / 5, seed: 67890 + UInt64(t), samples: frozenSamples[t]).commits
        }
        let runCounts = Locked([Int](repeating: 0, count: threads))
        let (seconds, commits) = runThreads(threads) { t in
            let (commits, runs) = transactions(
                store,
                keys,
                ops: ops,
                seed: 12345 + UInt64(t),
                samples: frozenSamples[t]
            )
            runCounts.withLock { $0[t] = runs }
            return commits
        }
        let runs = runCounts.withLock { $0.reduce(0, +) }
        let retryPercent = Double(runs - commits) * 100 / Double(max(commits, 1))
        print(
            "# \(program) \(workload) \(threads): \(commits) commits, \(runs) runs (\(String(format: "%.3f", retryPercent))% retried) in \(String(format: "%.3f", seconds)) s"
        )
        report(workload, threads, Double(commits) / seconds)
        report(workload + "_retry_pct", threads, retryPercent)

    case "SNAP":
        // Save and load a snapshot of the 1,000,000 keys with 64-byte values (keys/s each).
        let (store, _) = load(keys, V.self)
        let path = NSTemporaryDirectory() + "kvs-bench-\(getpid()).kvssnap"
        defer { try? FileManager.default.removeItem(atPath: path) }
        let saveStart = DispatchTime.now().uptimeNanoseconds
        do { try store.saveSnapshot(to: path) } catch { fail("save: \(error)") }
        let saveSeconds = Double(DispatchTime.now().uptimeNanoseconds - saveStart) / 1e9
        guard let fresh = try? KeyValueStore<V>(shardCount: BenchData.shardCount) else {
            fail("cannot create the store")
        }
        let loadStart = DispatchTime.now().uptimeNanoseconds
        do { try fresh.loadSnapshot(from: path) } catch { fail("load: \(error)") }
        let loadSeconds = Double(DispatchTime.now().uptimeNanoseconds - loadStart) / 1e9
        guard fresh.count == BenchData.keyCount else { fail("load: wrong count \(fresh.count)") }
        let bytes = (try? FileManager.default.attributesOfItem(atPath: path)[.size] as? Int) ?? 0
        print(
            "# \(program) SNAP: \(bytes) bytes; save \(String(format: "%.3f", saveSeconds)) s, load \(String(format: "%.3f", loadSeconds)) s"
        )
        report("SNAP_save", 1, Double(BenchData.keyCount) / saveSeconds)
        report("SNAP_load", 1, Double(BenchData.keyCount) / loadSeconds)

    case "FRESH":
        // The caller's cost of a set's fresh value: make a 64-byte value and free it.
        // Each value is kept in a ring of 1,024 and freed when its slot is reused, as a
        // store frees a replaced value (a value dropped at once is optimized away).
        var ring = [V?](repeating: nil, count: 1024)
        let start = DispatchTime.now().uptimeNanoseconds
        for i in 0..<ops {
            ring[i & 1023] = V.fresh(UInt64(i))
        }
        let nanos = Double(DispatchTime.now().uptimeNanoseconds - start) / Double(ops)
        if ring.contains(where: { $0?.count != BenchData.valueSize }) { fail("FRESH: a wrong value") }
        print("\(program) FRESH_ns 1 \(String(format: "%.1f", nanos))")

    case "EXP":
        expiryWorkload(keys, V.self)

    case "EXPSWEEP":
        expirySweepCost(keys, V.self)

    case "EXPIDLE":
        expiryIdleWorkload(keys, V.self)

    default:
        FileHandle.standardError.write(Data("unknown workload \(workload)\n".utf8))
        exit(2)
    }
}

if storesArrays {
    run([UInt8].self, workload: workload, threads: threads, ops: ops, keys: keys)
} else {
    run(ValueBytes.self, workload: workload, threads: threads, ops: ops, keys: keys)
}
