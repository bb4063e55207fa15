#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The monotonic clock the handler reads once per command (`clock_gettime(CLOCK_MONOTONIC)`,
/// served by the vDSO on Linux without a system call), in nanoseconds.
enum MonotonicClock {
    @inline(__always)
    static func nanoseconds() -> Int {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Int(ts.tv_sec) &* 1_000_000_000 &+ Int(ts.tv_nsec)
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
