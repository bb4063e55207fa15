import KVS

/// A `Clock` for tests that stands still until ``advance(by:)`` moves it, and tells a test
/// when a task has started to sleep on it, so that a periodic task runs one tick at a time
/// with no real waiting.
final class StepClock: Clock, Sendable {
    struct Instant: InstantProtocol {
        var offset: Duration

        func advanced(by duration: Duration) -> Instant { Instant(offset: offset + duration) }
        func duration(to other: Instant) -> Duration { other.offset - offset }
        static func < (left: Instant, right: Instant) -> Bool { left.offset < right.offset }
    }

    private struct Sleeper {
        let id: Int
        let deadline: Instant
        let continuation: CheckedContinuation<Void, any Error>
    }

    private struct State {
        var now = Instant(offset: .zero)
        var nextID = 0
        var sleepers: [Sleeper] = []
        /// Sleeps begun, counting those that ended.
        var sleepsBegun = 0
        var sleepWaiters: [(count: Int, continuation: CheckedContinuation<Void, Never>)] = []

        /// Removes and returns the waiters that the sleeps begun so far satisfy.
        mutating func takeSleepWaiters() -> [CheckedContinuation<Void, Never>] {
            let ready = sleepWaiters.filter { $0.count <= sleepsBegun }.map(\.continuation)
            sleepWaiters.removeAll { $0.count <= sleepsBegun }
            return ready
        }
    }

    /// KVS's pthread lock, which ThreadSanitizer sees (it cannot see `Synchronization.Mutex`).
    private let state = Locked(State())

    var now: Instant { state.withLock { $0.now } }
    var minimumResolution: Duration { .zero }

    /// Suspends until the clock reaches `deadline`; throws `CancellationError` as soon as
    /// the task is cancelled.
    func sleep(until deadline: Instant, tolerance: Duration? = nil) async throws {
        let id = state.withLock { state in
            state.nextID += 1
            return state.nextID
        }
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                register(id: id, deadline: deadline, continuation: continuation)
            }
        } onCancel: {
            let sleeper: Sleeper? = state.withLock { state in
                guard let index = state.sleepers.firstIndex(where: { $0.id == id }) else { return nil }
                return state.sleepers.remove(at: index)
            }
            sleeper?.continuation.resume(throwing: CancellationError())
        }
    }

    /// Counts a sleep begun and keeps its continuation until the clock reaches `deadline`,
    /// or resumes it at once if the deadline has passed or the task is cancelled. A
    /// cancellation before this point found no sleeper to wake: it is checked here, under the
    /// lock that the cancellation handler takes too.
    private func register(id: Int, deadline: Instant, continuation: CheckedContinuation<Void, any Error>) {
        var outcome: Result<Void, any Error>? = nil
        let waiters: [CheckedContinuation<Void, Never>] = state.withLock { state in
            state.sleepsBegun += 1
            if Task.isCancelled {
                outcome = .failure(CancellationError())
            } else if deadline <= state.now {
                outcome = .success(())
            } else {
                state.sleepers.append(Sleeper(id: id, deadline: deadline, continuation: continuation))
            }
            return state.takeSleepWaiters()
        }
        for waiter in waiters { waiter.resume() }
        if let outcome { continuation.resume(with: outcome) }
    }

    /// Moves the clock forward by `duration` and wakes the sleepers whose deadline it reaches.
    func advance(by duration: Duration) {
        let woken = state.withLock { state in
            state.now = state.now.advanced(by: duration)
            let now = state.now
            let woken = state.sleepers.filter { $0.deadline <= now }
            state.sleepers.removeAll { $0.deadline <= now }
            return woken
        }
        for sleeper in woken { sleeper.continuation.resume() }
    }

    /// Returns once `count` sleeps have begun on this clock since it was created.
    func waitForSleeps(_ count: Int) async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let ready = state.withLock { state in
                if state.sleepsBegun >= count { return true }
                state.sleepWaiters.append((count, continuation))
                return false
            }
            if ready { continuation.resume() }
        }
    }
}
