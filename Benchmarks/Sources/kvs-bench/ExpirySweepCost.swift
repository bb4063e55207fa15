import Foundation
@_spi(Benchmarks) import KVS

// EXPSWEEP: the cost of the background sweep alone, with no waiting on the wall clock: the EXP keys and
// deadlines on an engine that reads a manual clock, swept by calling `sweepExpired` as the
// sweeper thread does, here every 25 ms of clock time with a 25 ms grace, until no key is left.
// Prints the sweep's thread CPU time per removed key; under
// `valgrind --tool=callgrind --toggle-collect='*sweepOnce*'` it gives instructions per key.

func expirySweepCost<V: BenchValue>(_ keys: [String], _: V.Type) {
    // Its sweeper thread never ticks; this thread sweeps instead.
    guard let engine = try? ManualSweepEngine<V>(shardCount: BenchData.shardCount) else {
        fail("cannot create the engine")
    }
    let spread: Int64 = 10_000_000_000
    let base: Int64 = 2_000_000_000
    var rng = SplitMix64(state: 777)
    let start = engine.now()
    for (i, key) in keys.enumerated() {
        let ttl = base + Int64(rng.next() % UInt64(spread))
        do { try engine.set(key, V.fresh(UInt64(i)), expiresAt: start + ttl) } catch { fail("set: \(error)") }
    }
    // The sweep runs on a thread of its own, as the sweeper does: the values it frees
    // belong to the main thread's malloc arena.
    let result = Locked((removed: 0, sweeps: 0, cpu: Int64(0)))
    let done = DispatchSemaphore(value: 0)
    let thread = Thread {
        let tick: Int64 = 25_000_000
        let grace: Int64 = 25_000_000
        var removed = 0
        var sweeps = 0
        let cpuStart = threadCPUNanos()
        while engine.count > 0 {
            engine.advance(by: .nanoseconds(tick))
            removed += sweepOnce(engine, grace: grace)
            sweeps += 1
        }
        let cpu = threadCPUNanos() - cpuStart
        result.withLock { $0 = (removed, sweeps, cpu) }
        done.signal()
    }
    thread.start()
    done.wait()
    let (removed, sweeps, cpu) = result.withLock { $0 }
    engine.close()
    print(
        "# \(program) EXPSWEEP: \(removed) keys removed in \(sweeps) sweeps; \(String(format: "%.1f", Double(cpu) / Double(max(removed, 1)))) ns CPU per key"
    )
    print("\(program) EXPSWEEP_ns_per_key 1 \(String(format: "%.1f", Double(cpu) / Double(max(removed, 1))))")
}

/// One sweep, kept out of line so that callgrind can collect exactly it.
@inline(never)
func sweepOnce<V: BenchValue>(_ engine: ManualSweepEngine<V>, grace: Int64) -> Int {
    engine.sweepExpired(grace: grace)
}

private func threadCPUNanos() -> Int64 {
    var ts = timespec()
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts)
    return Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec)
}
