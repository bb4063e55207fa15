import Foundation
import KVS

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data((message + "\n").utf8))
    exit(1)
}

/// `KVS_BENCH_BOUND=N` bounds the store of the mixed workloads at N entries (a cache
/// evicting all the time when N is below the key count), with the policy
/// `KVS_BENCH_POLICY` (lru, sieve, s3fifo, wtinylfu; the default policy otherwise). The
/// operations are the unbounded run's, so the two figures compare the same work; misses are
/// then expected, and reported rather than an error.
let benchBound: Int? = ProcessInfo.processInfo.environment["KVS_BENCH_BOUND"].flatMap { Int($0) }

func makeStore<V: BenchValue>(_: V.Type) -> KeyValueStore<V> {
    if let benchBound {
        let policy: CachePolicy
        switch ProcessInfo.processInfo.environment["KVS_BENCH_POLICY"] {
        case "lru": policy = .leastRecentlyUsed
        case "sieve": policy = .sieve
        case "s3fifo": policy = .s3FIFO
        case "wtinylfu": policy = .windowTinyLFU
        default: policy = .default
        }
        guard
            let store = try? KeyValueStore<V>(
                maximumCount: benchBound,
                policy: policy,
                shardCount: BenchData.shardCount
            )
        else { fail("cannot create the bounded store") }
        return store
    }
    guard let store = try? KeyValueStore<V>(shardCount: BenchData.shardCount) else { fail("cannot create the store") }
    return store
}

func load<V: BenchValue>(_ keys: [String], _: V.Type) -> (KeyValueStore<V>, Double) {
    let store = makeStore(V.self)
    let start = DispatchTime.now().uptimeNanoseconds
    for (i, key) in keys.enumerated() {
        try? store.set(key, V.fresh(UInt64(i)))
    }
    return (store, Double(DispatchTime.now().uptimeNanoseconds - start) / 1e9)
}

/// `ops` operations: `readPercent`% get (reading the value's first byte; `withValue` with
/// `KVS_BENCH_READ=inplace`), the rest set of a fresh value; keys uniform, or from
/// `samples` when given. Returns the misses.
///
/// With `KVS_BENCH_CHAIN=1` each read also adds the value's last byte (always 0) to the
/// generator's state, so the next operation's key depends on this read's value (uniform
/// keys only: Z90's keys come from `samples`, drawn before timing): the CPU
/// can no longer start the next lookup's cache misses before this one's are done, and the
/// figure is one operation's latency, not the throughput of overlapping ones.
/// `scripts/bench-chain.sh` runs it against references patched the same way.
func mixed<V: BenchValue>(
    _ store: KeyValueStore<V>,
    _ keys: [String],
    ops: Int,
    readPercent: UInt64,
    seed: UInt64,
    samples: [Int32]?
) -> Int {
    var rng = SplitMix64(state: seed)
    var misses = 0
    var sink = 0
    let inPlace = ProcessInfo.processInfo.environment["KVS_BENCH_READ"] == "inplace"
    let chained = ProcessInfo.processInfo.environment["KVS_BENCH_CHAIN"] == "1"
    for i in 0..<ops {
        let r = rng.next()
        let index = samples.map { Int($0[i]) } ?? uniformIndex(r, keys.count)
        let key = keys[index]
        if (r >> 32) % 100 < readPercent {
            if inPlace {
                if let read = try? store.withValue(key, { ($0.count &+ Int($0[0]), $0[$0.count - 1]) }) {
                    sink &+= read.0
                    if chained { rng.state &+= UInt64(read.1) }
                } else {
                    misses += 1
                }
            } else if let value = try? store.get(key) {
                sink &+= value.count &+ Int(value[0])  // read the value, as a caller would
                if chained { rng.state &+= UInt64(value[value.count - 1]) }
            } else {
                misses += 1
            }
        } else {
            try? store.set(key, V.fresh(r))
        }
    }
    if sink == -1 { print(sink) }
    return misses
}

/// `keyCount / 100` batchGet calls of 100 uniform keys, reading every value's first byte.
func batches<V: BenchValue>(_ store: KeyValueStore<V>, _ keys: [String], keyCount: Int, seed: UInt64) -> Int {
    var rng = SplitMix64(state: seed)
    var batch = [String](repeating: "", count: BenchData.batchSize)
    var misses = 0
    var sink = 0
    for _ in 0..<(keyCount / BenchData.batchSize) {
        for j in 0..<batch.count { batch[j] = keys[uniformIndex(rng.next(), keys.count)] }
        guard let result = try? store.batchGet(batch) else { return Int.max / 4 }
        for value in result.values.values { sink &+= Int(value[0]) }
        misses += result.errors.count
    }
    if sink == -1 { print(sink) }
    return misses
}

/// `ops` transactions of 4 distinct keys: read two, write two (each written key gets the
/// sum of the reads plus one, as a fresh value); keys uniform, or from `samples`.
/// Returns (commits, body runs): runs - commits is the number of retried attempts.
func transactions<V: BenchValue>(
    _ store: KeyValueStore<V>,
    _ keys: [String],
    ops: Int,
    seed: UInt64,
    samples: [Int32]?
) -> (commits: Int, runs: Int) {
    var rng = SplitMix64(state: seed)
    var runs = 0
    var commits = 0
    var cursor = 0
    func nextIndex() -> Int {
        if let samples {
            defer { cursor = (cursor + 1) % samples.count }
            return Int(samples[cursor])
        }
        return uniformIndex(rng.next(), keys.count)
    }
    for _ in 0..<ops {
        var chosen: [Int] = []
        while chosen.count < 4 {
            let i = nextIndex()
            if !chosen.contains(i) { chosen.append(i) }
        }
        let stamp = rng.next()
        do {
            try store.transaction { tx in
                runs += 1
                let a = try tx.get(keys[chosen[0]])
                let b = try tx.get(keys[chosen[1]])
                let value = V.fresh(stamp &+ UInt64(a[0]) &+ UInt64(b[0]))
                try tx.set(keys[chosen[2]], value)
                try tx.set(keys[chosen[3]], value)
            }
            commits += 1
        } catch {
            fail("transaction: \(error)")
        }
    }
    return (commits, runs)
}
