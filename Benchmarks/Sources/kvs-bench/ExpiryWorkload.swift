import Foundation
import KVS

// EXP: background expiry under load (the benchmark target "1,000,000 keys carrying TTLs, 10% of
// them expiring per second: under 5% of one core; expired keys gone within 100 ms at the
// 99th percentile").
//
// The 1,000,000 keys get TTLs of 2 s plus a uniform share of 10 s, so that 100,000 expire
// per second for 10 s. The main thread then only watches `count` (one atomic load every
// millisecond) until every key is gone:
// - CPU: the process's CPU time minus the main thread's, i.e. the sweeper thread's, over
//   the steady part of the run (from 0.5 s after the first deadline to 0.5 s before the
//   last), divided by the wall time of that part.
// - Lateness: keys are taken to go in deadline order; when a poll at time t sees that r
//   keys are gone, every key among the first r deadlines not yet accounted for went by t,
//   so its lateness is at most t minus its deadline. The figure is therefore an upper
//   bound, by at most the poll interval (1 ms) plus the time a poll takes.

private func realtimeNanos() -> Int64 {
    var ts = timespec()
    clock_gettime(CLOCK_REALTIME, &ts)
    return Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec)
}

/// CPU time in nanoseconds on `clock` (CLOCK_PROCESS_CPUTIME_ID or CLOCK_THREAD_CPUTIME_ID).
private func cpuNanos(_ clock: clockid_t) -> Int64 {
    var ts = timespec()
    clock_gettime(clock, &ts)
    return Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec)
}

/// The sweeper's CPU so far: the process's CPU minus this (the main) thread's.
private func otherThreadsCPUNanos() -> Int64 {
    cpuNanos(CLOCK_PROCESS_CPUTIME_ID) - cpuNanos(CLOCK_THREAD_CPUTIME_ID)
}

func expiryWorkload<V: BenchValue>(_ keys: [String], _: V.Type) {
    guard let store = try? KeyValueStore<V>(shardCount: BenchData.shardCount) else { fail("cannot create the store") }
    let spread: Int64 = 10_000_000_000  // 10 s: 10% of the keys per second
    let base: Int64 = 2_000_000_000  // the first keys expire 2 s after their write
    var rng = SplitMix64(state: 777)
    var deadlines = [Int64](repeating: 0, count: keys.count)
    for (i, key) in keys.enumerated() {
        let ttl = base + Int64(rng.next() % UInt64(spread))
        deadlines[i] = realtimeNanos() + ttl
        do { try store.set(key, V.fresh(UInt64(i)), ttl: .nanoseconds(ttl)) } catch { fail("set: \(error)") }
    }
    deadlines.sort()
    guard let first = deadlines.first, let last = deadlines.last else { fail("no keys") }
    let steadyStart = first + 500_000_000
    let steadyEnd = last - 500_000_000

    var lateness = [Int64]()
    lateness.reserveCapacity(keys.count)
    var accounted = 0
    var cpuAtStart: (wall: Int64, cpu: Int64)?
    var cpuAtEnd: (wall: Int64, cpu: Int64)?
    let giveUp = last + 10_000_000_000
    while accounted < keys.count {
        usleep(1000)
        let now = realtimeNanos()
        let gone = keys.count - store.count
        while accounted < gone {
            lateness.append(max(0, now - deadlines[accounted]))
            accounted += 1
        }
        if cpuAtStart == nil, now >= steadyStart { cpuAtStart = (now, otherThreadsCPUNanos()) }
        if cpuAtEnd == nil, now >= steadyEnd { cpuAtEnd = (now, otherThreadsCPUNanos()) }
        if now > giveUp { fail("EXP: \(keys.count - accounted) keys still there 10 s after the last deadline") }
    }
    store.shutdown()
    guard let start = cpuAtStart, let end = cpuAtEnd, end.wall > start.wall else { fail("EXP: no steady window") }
    let cpuPercent = Double(end.cpu - start.cpu) * 100 / Double(end.wall - start.wall)
    lateness.sort()
    let p99 = Double(lateness[min(lateness.count - 1, lateness.count * 99 / 100)]) / 1e6
    let p50 = Double(lateness[lateness.count / 2]) / 1e6
    let maximum = Double(lateness[lateness.count - 1]) / 1e6
    print(
        "# \(program) EXP: sweeper CPU \(String(format: "%.2f", cpuPercent))% of one core over \(String(format: "%.1f", Double(end.wall - start.wall) / 1e9)) s; lateness p50 \(String(format: "%.1f", p50)) ms, p99 \(String(format: "%.1f", p99)) ms, max \(String(format: "%.1f", maximum)) ms"
    )
    print("\(program) EXP_cpu_pct 1 \(String(format: "%.2f", cpuPercent))")
    print("\(program) EXP_p99_ms 1 \(String(format: "%.1f", p99))")
}

// EXPIDLE: the sweeper's cost when nothing is due: the 1,000,000 keys get a TTL of one hour,
// and the main thread sleeps for 5 s; prints the sweeper's CPU over those 5 s, in % of one
// core (the process's CPU minus the main thread's, as EXP).
func expiryIdleWorkload<V: BenchValue>(_ keys: [String], _: V.Type) {
    guard let store = try? KeyValueStore<V>(shardCount: BenchData.shardCount) else { fail("cannot create the store") }
    for (i, key) in keys.enumerated() {
        do { try store.set(key, V.fresh(UInt64(i)), ttl: .seconds(3600)) } catch { fail("set: \(error)") }
    }
    usleep(500_000)  // let the sweeper settle after the writes
    let wallStart = realtimeNanos()
    let cpuStart = otherThreadsCPUNanos()
    usleep(5_000_000)
    let cpu = otherThreadsCPUNanos() - cpuStart
    let wall = realtimeNanos() - wallStart
    store.shutdown()
    let cpuPercent = Double(cpu) * 100 / Double(wall)
    print(
        "# \(program) EXPIDLE: sweeper CPU \(String(format: "%.3f", cpuPercent))% of one core over \(String(format: "%.1f", Double(wall) / 1e9)) s, nothing due"
    )
    print("\(program) EXPIDLE_cpu_pct 1 \(String(format: "%.3f", cpuPercent))")
}
