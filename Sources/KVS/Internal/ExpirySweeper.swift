import Dispatch
import Foundation
import Synchronization

/// The background thread that removes expired keys (active expiry).
///
/// It is started on the first write with a time-to-live, so a store that never uses
/// TTLs runs no thread. Every `interval` it calls `tick`, which sweeps the shards whose
/// earliest deadline has passed. The thread does not keep the store alive: `tick` holds
/// the engine weakly and returns `false` once the engine is gone, which ends the thread,
/// so a store that is dropped without `close()` leaks neither memory nor a thread for
/// longer than one interval.
@usableFromInline
package final class ExpirySweeper: Sendable {
    /// `stopped` is reached from `running`; `stoppedBeforeStart` from `idle`.
    private enum Phase: Sendable { case idle, running, stopped, stoppedBeforeStart }

    private let phase = Locked(Phase.idle)
    private let stopRequested = Atomic(false)
    /// Signalled to cut the current wait short (on stop).
    private let wake = DispatchSemaphore(value: 0)
    /// Signalled by the thread as it exits; every waiter re-signals it for the next.
    private let exited = DispatchSemaphore(value: 0)
    private let hasExited = Atomic(false)
    private let started = Atomic(false)
    private let interval: Duration

    package init(interval: Duration) {
        self.interval = interval
    }

    /// Starts the thread unless it is running or the sweeper was stopped.
    ///
    /// - Parameter tick: one sweep; returns `false` to end the thread.
    /// - Complexity: O(1); a single lock when the sweeper is already running.
    @usableFromInline
    package func startIfNeeded(_ tick: @escaping @Sendable () -> Bool) {
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

    private func run(_ tick: @Sendable () -> Bool) {
        let intervalNanos = Int(clamping: interval.nanosecondsRoundedUp)
        // Wait first, then sweep: a sweep right at start-up would find nothing due, and
        // tests that drive a manual clock with a long interval rely on the thread not
        // sweeping before they do.
        while true {
            _ = wake.wait(timeout: .now() + .nanoseconds(intervalNanos))
            if stopRequested.load(ordering: .acquiring) { break }
            guard tick() else { break }
        }
        hasExited.store(true, ordering: .releasing)
        exited.signal()
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

    /// Whether the sweeper thread was started and has not exited.
    /// Whether ``startIfNeeded(_:)`` has started (or refused for good to start) the thread:
    /// one atomic load, so that every write with a TTL can ask.
    @usableFromInline
    package var hasStarted: Bool { started.load(ordering: .acquiring) }

    package var isRunning: Bool {
        let started = phase.withLock { $0 == .running || $0 == .stopped }
        return started && !hasExited.load(ordering: .acquiring)
    }
}
