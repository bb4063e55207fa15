import CKVSCycleCounter

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The monotonic clock (`clock_gettime(CLOCK_MONOTONIC)`, served by the vDSO on Linux
/// without a system call), in nanoseconds: the time of connections (CLIENT LIST `age` and
/// `idle`), of the read bursts, and of the commands where ``CommandClock`` has no cycle counter.
enum MonotonicClock {
    @inline(__always)
    static func nanoseconds() -> Int {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Int(ts.tv_sec) &* 1_000_000_000 &+ Int(ts.tv_nsec)
    }
}

/// The clock the handler reads at the end of every command to time it (INFO commandstats,
/// the slow log, the latency monitor): the CPU's time-stamp counter where Linux keeps its
/// own time with it, otherwise ``MonotonicClock``.
///
/// A counter read is one `rdtsc`, about 10 ns on the benchmark machine against 24 ns for the
/// vDSO's `clock_gettime`, which reads the counter with `rdtscp` (it waits for the
/// instructions before it) and converts it; per command, at pipeline 16, that is
/// measurable (docs/design/command-clock.md). Ticks become nanoseconds at a rate measured
/// once against ``MonotonicClock`` (within 0.001% there); the kernel's later rate
/// corrections (NTP, at most 0.05%) are not followed.
///
/// Thread-safety: a value type; ``shared`` is measured once, on first use.
struct CommandClock: Sendable {
    /// Whether ticks are the time-stamp counter's; if not, they are ``MonotonicClock``'s nanoseconds.
    let countsCycles: Bool
    /// The length of a tick (1 without the cycle counter).
    let nanosecondsPerTick: Double

    /// The process's clock, measured on first use (a 2 ms wait where the counter is used):
    /// ``Server/start()`` uses it first, before it accepts connections.
    static let shared = CommandClock.measured()

    /// ``MonotonicClock``: ticks are nanoseconds.
    static let monotonic = CommandClock(countsCycles: false, nanosecondsPerTick: 1)

    /// Now, in ticks.
    @inline(__always)
    func ticks() -> Int {
        countsCycles ? Int(truncatingIfNeeded: ckvs_cycle_counter()) : MonotonicClock.nanoseconds()
    }

    /// Now, in ticks, when ``MonotonicClock`` has just read `nanoseconds` (then its
    /// ticks without a second read).
    @inline(__always)
    func ticks(monotonic nanoseconds: Int) -> Int {
        countsCycles ? Int(truncatingIfNeeded: ckvs_cycle_counter()) : nanoseconds
    }

    /// The nanoseconds of `ticks` ticks; 0 for a negative count (counters of two cores a
    /// few ticks apart).
    @inline(__always)
    func nanoseconds(ticks: Int) -> Int {
        guard countsCycles else { return ticks }
        return ticks > 0 ? Int(Double(ticks) * nanosecondsPerTick) : 0
    }

    /// The cycle counter, measured against ``MonotonicClock`` over 2 ms, when it counts at
    /// a constant rate and agrees across cores: Linux checks both before it takes the
    /// counter as its clock source (`tsc`), so it is used only then; otherwise ``monotonic``.
    static func measured() -> CommandClock {
        guard ckvs_cycle_counter_exists() != 0, kernelClockSourceIsCycleCounter() else { return .monotonic }
        let start = simultaneousReads()
        var sleep = timespec(tv_sec: 0, tv_nsec: 2_000_000)
        var left = timespec()
        while nanosleep(&sleep, &left) != 0 { sleep = left }  // interrupted by a signal: sleeps the rest
        let end = simultaneousReads()
        let ticks = end.ticks &- start.ticks
        let nanoseconds = end.nanoseconds &- start.nanoseconds
        guard ticks > 0, nanoseconds > 0 else { return .monotonic }
        return CommandClock(countsCycles: true, nanosecondsPerTick: Double(nanoseconds) / Double(ticks))
    }

    /// A cycle counter read and the monotonic time at that moment: the counter read
    /// between two clock reads, their midpoint, from the closest of a few tries (a try
    /// interrupted between its reads is a wide one).
    private static func simultaneousReads() -> (ticks: Int, nanoseconds: Int) {
        var best = (ticks: 0, nanoseconds: 0)
        var narrowest = Int.max
        for _ in 0..<8 {
            let before = MonotonicClock.nanoseconds()
            let ticks = Int(truncatingIfNeeded: ckvs_cycle_counter())
            let after = MonotonicClock.nanoseconds()
            if after &- before < narrowest {
                narrowest = after &- before
                best = (ticks, before &+ (after &- before) / 2)
            }
        }
        return best
    }

    /// Whether Linux's current clock source is the time-stamp counter
    /// (`/sys/devices/system/clocksource/clocksource0/current_clocksource` reads `tsc`).
    private static func kernelClockSourceIsCycleCounter() -> Bool {
        #if os(Linux)
        guard let file = fopen("/sys/devices/system/clocksource/clocksource0/current_clocksource", "r") else {
            return false
        }
        defer { fclose(file) }
        var line = [CChar](repeating: 0, count: 32)
        guard fgets(&line, Int32(line.count), file) != nil else { return false }
        let name = String(decoding: line.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        return name == "tsc\n" || name == "tsc"
        #else
        return false
        #endif
    }
}

/// The wall clock in microseconds since 1970 (MONITOR lines, SLOWLOG and LATENCY timestamps).
enum WallClock {
    static func microseconds() -> Int {
        var tv = timeval()
        gettimeofday(&tv, nil)
        return Int(tv.tv_sec) &* 1_000_000 &+ Int(tv.tv_usec)
    }
}
