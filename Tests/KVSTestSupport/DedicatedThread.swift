import Foundation
import KVS
import Testing

/// Runs `body` on threads of its own, outside Swift's cooperative thread pool, while the
/// calling task waits for it without holding a pool thread.
///
/// Why: `swift test` runs every test as a task on the cooperative pool, which has one
/// thread per core: two on a 2-core machine. A test that computes for a second, or blocks
/// (`DispatchQueue.concurrentPerform`, joining threads, polling with `usleep`, a blocking
/// socket read), holds one of them all that time; with two such tests at once no other
/// task runs at all, and an async test waiting for a server's reply resumes seconds late
/// and misses its time bound. Every test that computes or blocks for long runs its body
/// through this function, usually by way of the `.dedicatedThread` trait.
///
/// How: `body` runs in a child task that prefers ``DedicatedThreadExecutor``, so it starts
/// on a new thread, and every stretch after a suspension point, and every child task it
/// makes (a task group's), runs on a new thread too. The child task inherits the caller's
/// task-local values (Swift Testing's current test among them: an `#expect` in `body` is
/// recorded for the test that called it) and its cancellation. The operating system shares
/// the cores between these threads and the pool's, so a pool thread is free whenever an
/// async test has something to do.
package func onDedicatedThread<R: Sendable>(_ body: @Sendable () async throws -> R) async throws -> R {
    try await withTaskExecutorPreference(DedicatedThreadExecutor.shared) {
        // A child task made under the preference starts on the preferred executor.
        async let result = body()
        return try await result
    }
}

/// A task executor that runs each job it is given on a new `Thread`, never on a thread of
/// the cooperative pool. A job runs until its task next suspends, so a synchronous body runs
/// start to end on one thread.
///
/// - Thread safety: `Sendable`; it has no state. One shared instance, never freed, because
///   a job holds its executor unowned.
package final class DedicatedThreadExecutor: TaskExecutor {
    /// The one instance.
    package static let shared = DedicatedThreadExecutor()

    private init() {}

    package func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        let executor = asUnownedTaskExecutor()
        Thread {
            pthread_setspecific(Self.marker, UnsafeRawPointer(bitPattern: 1))
            job.runSynchronously(on: executor)
        }.start()
    }

    /// Whether the calling thread is one this executor made (for tests of this executor).
    package static var isCurrentThreadDedicated: Bool { pthread_getspecific(marker) != nil }

    /// Set, on each thread this executor makes, to a non-nil value.
    private static let marker: pthread_key_t = {
        var key = pthread_key_t()
        pthread_key_create(&key, nil)
        return key
    }()
}

/// A trait that runs a test's body with ``onDedicatedThread(_:)``: `@Test(.dedicatedThread)`
/// on one test, or `@Suite(.dedicatedThread)` on every test of a suite (and of its nested
/// suites). The test's own code is unchanged: a synchronous test stays synchronous and
/// runs, start to end, on a thread of its own.
///
/// For every test that computes or blocks for long; see ``onDedicatedThread(_:)`` for why.
/// At most one such test per core runs at a time (the others wait, suspended, holding no
/// thread): that many was all the pool let run before, and more would only share the cores
/// more thinly, with the pool's threads among those squeezed.
package struct DedicatedThreadTrait: TestTrait, SuiteTrait, TestScoping {
    package var isRecursive: Bool { true }

    /// Each test case (each set of arguments of a parameterized test) is one scope; a suite
    /// itself has nothing to run.
    package func scopeProvider(for test: Test, testCase: Test.Case?) -> Self? {
        testCase == nil ? nil : self
    }

    package func provideScope(
        for test: Test,
        testCase: Test.Case?,
        performing function: @Sendable () async throws -> Void
    ) async throws {
        // Applied twice (to a test and to its suite), it takes one turn, not two: a second
        // wait for a turn could wait for its own.
        if Self.isInScope {
            try await function()
            return
        }
        await Self.turns.wait()
        defer { Self.turns.signal() }
        try await Self.$isInScope.withValue(true) {
            try await onDedicatedThread(function)
        }
    }

    @TaskLocal private static var isInScope = false

    /// One turn per core.
    private static let turns = AsyncTurns(count: ProcessInfo.processInfo.activeProcessorCount)
}

extension Trait where Self == DedicatedThreadTrait {
    /// Runs the test (each test of the suite) on a thread of its own, outside Swift's
    /// cooperative pool: see ``DedicatedThreadTrait``.
    package static var dedicatedThread: Self { DedicatedThreadTrait() }
}

/// A counting semaphore whose `wait()` suspends the task instead of blocking its thread.
/// Turns are handed out first come, first served.
///
/// - Thread safety: `Sendable`; its state is behind a pthread mutex (`Locked`), which
///   ThreadSanitizer sees, unlike `Synchronization.Mutex` on Linux.
final class AsyncTurns: Sendable {
    private struct State: Sendable {
        var free: Int
        var waiting: [CheckedContinuation<Void, Never>] = []
    }

    private let state: Locked<State>

    init(count: Int) {
        state = Locked(State(free: max(count, 1)))
    }

    /// Takes a turn, waiting (suspended) for one to be free.
    func wait() async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let granted = state.withLock { state in
                guard state.free > 0 else {
                    state.waiting.append(continuation)
                    return false
                }
                state.free -= 1
                return true
            }
            if granted { continuation.resume() }
        }
    }

    /// Gives a turn back: to the longest waiter, if any.
    func signal() {
        let next = state.withLock { state -> CheckedContinuation<Void, Never>? in
            guard !state.waiting.isEmpty else {
                state.free += 1
                return nil
            }
            return state.waiting.removeFirst()
        }
        next?.resume()
    }
}
