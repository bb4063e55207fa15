import Dispatch
import Foundation
import Synchronization

/// The background thread that removes expired keys (active expiry).
///
/// It is started on the first write with a time-to-live, so a store that never uses
/// TTLs runs no thread. It calls `tick`, which sweeps the shards whose earliest deadline
/// has passed and says how long until the next one is due; the thread sleeps that long,
/// but never sweeps again within `interval` of the end of a sweep. A store whose
/// deadlines are all far away is therefore swept ten times a second (see ``maxSleep``),
/// not `1 / interval` times, which keeps an idle store's sweeper near zero CPU
/// (docs/design/expiry.md).
/// A writer that sets an earlier deadline wakes the thread with ``wakeEarly()``, and
/// `tick` is then called to plan again without sweeping.
///
/// The thread does not keep the store alive: `tick` holds the engine weakly and returns
/// `nil` once the engine is gone, which ends the thread, so a store that is dropped
/// without `shutdown()` leaks neither memory nor a thread for longer than one sleep (at
/// most ``maxSleep``).
@usableFromInline
package final class ExpirySweeper: Sendable {
    /// `stopped` is reached from `running`; `stoppedBeforeStart` from `idle`.
    private enum Phase: Sendable { case idle, running, stopped, stoppedBeforeStart }

    private let phase = Locked(Phase.idle)
    private let stopRequested = Atomic(false)
    /// Signalled to cut the current wait short (on stop, or by ``wakeEarly()``).
    private let wake = DispatchSemaphore(value: 0)
    /// Signalled by the thread as it exits; every waiter re-signals it for the next.
    private let exited = DispatchSemaphore(value: 0)
    private let hasExited = Atomic(false)
    private let sweeps = Atomic(0)
    private let ticks = Atomic(0)
    private let started = Atomic(false)
    private let interval: Duration

    /// - Parameter maxSleep: see ``maxSleep``; `nil` for 100 ms, or `interval` if that is
    ///   longer.
    package init(interval: Duration, maxSleep: Duration? = nil) {
        self.interval = interval
        let intervalNanos = Int64(clamping: interval.nanosecondsRoundedUp)
        self.maxSleep = Swift.max(
            intervalNanos,
            maxSleep.map { Int64(clamping: $0.nanosecondsRoundedUp) } ?? 100_000_000
        )
    }

    /// The longest the thread sleeps between two calls of `tick`, in nanoseconds, however
    /// far away the next deadline. It bounds how late a key expires after the store's
    /// clock jumps forward (a manual clock in tests, the system's clock being set), which
    /// no writer announces.
    @usableFromInline package let maxSleep: Int64

    /// Starts the thread unless it is running or the sweeper was stopped.
    ///
    /// - Parameter tick: called with `sweep` (whether to sweep, or only to plan after an
    ///   early wake-up) and `notBefore` (nanoseconds until the thread may sweep again);
    ///   returns how many nanoseconds the thread should sleep (at least `notBefore`), or
    ///   `nil` to end the thread.
    /// - Complexity: O(1); a single lock when the sweeper is already running.
    @usableFromInline
    package func startIfNeeded(_ tick: @escaping @Sendable (_ sweep: Bool, _ notBefore: Int64) -> Int64?) {
        let shouldStart = phase.withLock { phase in
            guard phase == .idle else { return false }
            phase = .running
            return true
        }
        guard shouldStart else { return }
        started.store(true, ordering: .releasing)
        let thread = Thread { [self] in run(tick) }
        thread.name = "kvs-expiry"
        thread.start()
    }

    private func run(_ tick: @Sendable (_ sweep: Bool, _ notBefore: Int64) -> Int64?) {
        let intervalNanos = UInt64(clamping: interval.nanosecondsRoundedUp)
        // Wait first, then sweep: a sweep right at start-up would find nothing due, and
        // tests that drive a manual clock with a long interval rely on the thread not
        // sweeping before they do. Times are the monotonic clock's (`DispatchTime`).
        var earliestSweep = DispatchTime.now().uptimeNanoseconds &+ intervalNanos
        var nextSweep = earliestSweep
        while true {
            let result = wake.wait(timeout: DispatchTime(uptimeNanoseconds: nextSweep))
            if stopRequested.load(ordering: .acquiring) { break }
            let woke = DispatchTime.now().uptimeNanoseconds
            // Woken early by a writer: plan again, but sweep only once the time is up.
            let sweep = woke >= earliestSweep && (result == .timedOut || woke >= nextSweep)
            // The next sweep comes `interval` after the end of this one at the earliest,
            // as when the thread swept every interval.
            let notBefore = sweep ? intervalNanos : (earliestSweep > woke ? earliestSweep - woke : 0)
            guard let sleep = tick(sweep, Int64(clamping: notBefore)) else { break }
            let now = DispatchTime.now().uptimeNanoseconds
            if sweep {
                earliestSweep = now &+ intervalNanos
                sweeps.add(1, ordering: .relaxed)
            }
            ticks.add(1, ordering: .relaxed)
            let wait = Swift.min(
                Swift.max(UInt64(clamping: sleep), earliestSweep > now ? earliestSweep - now : 0),
                UInt64(clamping: maxSleep)
            )
            nextSweep = now &+ wait
        }
        hasExited.store(true, ordering: .releasing)
        exited.signal()
    }

    /// Cuts the thread's current sleep short so that it plans again: for a writer that
    /// set a deadline earlier than the one the thread sleeps until.
    @usableFromInline
    package func wakeEarly() {
        wake.signal()
    }

    /// Asks the thread to stop and, if `timeout` is given, waits up to that long for it
    /// to exit. Idempotent; after it, ``startIfNeeded(_:)`` starts nothing.
    ///
    /// - Returns: `true` if no sweeper thread is running any more.
    @discardableResult
    package func stop(waitingUpTo timeout: Duration?) -> Bool {
        let started = phase.withLock { phase in
            defer { if phase == .idle { phase = .stoppedBeforeStart } else { phase = .stopped } }
            return phase == .running || phase == .stopped
        }
        guard started else { return true }
        stopRequested.store(true, ordering: .releasing)
        wake.signal()
        if hasExited.load(ordering: .acquiring) { return true }
        guard let timeout else { return false }
        let nanos = Int(clamping: timeout.nanosecondsRoundedUp)
        guard exited.wait(timeout: .now() + .nanoseconds(nanos)) == .success else { return false }
        exited.signal()  // let any other waiter through too
        return true
    }

    /// Whether ``startIfNeeded(_:)`` has started (or refused for good to start) the thread:
    /// one atomic load, so that every write with a TTL can ask.
    @usableFromInline
    package var hasStarted: Bool { started.load(ordering: .acquiring) }

    /// How many sweeps the thread has made (for tests).
    package var sweepCount: Int { sweeps.load(ordering: .relaxed) }

    /// How many calls of `tick` (sweeps, and plans after an early wake-up) have returned
    /// (for tests).
    package var tickCount: Int { ticks.load(ordering: .relaxed) }

    /// Whether the sweeper thread was started and has not exited.
    package var isRunning: Bool {
        let started = phase.withLock { $0 == .running || $0 == .stopped }
        return started && !hasExited.load(ordering: .acquiring)
    }
}
