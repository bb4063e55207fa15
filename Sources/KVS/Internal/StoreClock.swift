import Synchronization

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The wall clock the store reads for expiry: nanoseconds since the Unix epoch.
///
/// Wall time (not a monotonic clock) because deadlines are absolute: they are saved in
/// snapshots and compared with times given by other processes (as Redis's `EXPIREAT`
/// does). Tests inject a ``ManualClock`` so that time moves only when they say.
@usableFromInline
package struct StoreClock: Sendable {
    @usableFromInline let manual: ManualClock?

    /// The system's real-time clock.
    package static let system = StoreClock(manual: nil)

    /// A clock that reads `manual`.
    package static func manual(_ manual: ManualClock) -> StoreClock { StoreClock(manual: manual) }

    private init(manual: ManualClock?) { self.manual = manual }

    /// Now, in nanoseconds since the Unix epoch.
    ///
    /// - Complexity: O(1); one vDSO call for the system clock (about 20 ns).
    @inlinable
    package func now() -> Int64 {
        if let manual { return manual.now() }
        var ts = timespec()
        clock_gettime(CLOCK_REALTIME, &ts)
        return Int64(ts.tv_sec) &* 1_000_000_000 &+ Int64(ts.tv_nsec)
    }
}

/// A clock for tests: it stands still until ``advance(by:)`` moves it.
@usableFromInline
package final class ManualClock: Sendable {
    private let nanos: Atomic<Int64>

    /// Starts at `start` nanoseconds since the Unix epoch (by default 2026-01-01).
    package init(startingAt start: Int64 = 1_767_225_600_000_000_000) {
        nanos = Atomic(start)
    }

    @usableFromInline
    package func now() -> Int64 { nanos.load(ordering: .acquiring) }

    /// Moves the clock forward by `duration`.
    package func advance(by duration: Duration) {
        nanos.add(duration.nanosecondsRoundedUp, ordering: .releasing)
    }
}

extension Duration {
    /// This time-to-live in nanoseconds (`0` for `.zero`, meaning no expiry), the one
    /// place a TTL is validated.
    ///
    /// - Throws: ``KVSError/Code/invalidTTL`` naming `key` if the duration is negative.
    @inlinable
    package func ttlNanoseconds(for key: String?) throws(KVSError) -> Int64 {
        guard self >= .zero else { throw KVSError.invalidTTL(key, self) }
        return nanosecondsRoundedUp
    }

    /// This duration in whole nanoseconds, rounded up (so a positive duration is never
    /// zero) and clamped to `Int64`'s range.
    @inlinable
    package var nanosecondsRoundedUp: Int64 {
        let (seconds, attoseconds) = components
        let (whole, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        if overflow { return seconds < 0 ? .min : .max }
        // attoseconds has the sign of the duration; round towards +infinity.
        let fraction = attoseconds >= 0 ? (attoseconds + 999_999_999) / 1_000_000_000 : attoseconds / 1_000_000_000
        let (sum, overflow2) = whole.addingReportingOverflow(fraction)
        if overflow2 { return whole < 0 ? .min : .max }
        return sum
    }
}
