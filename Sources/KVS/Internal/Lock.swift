#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A `pthread_mutex_t` that owns its storage.
///
/// Why not `Synchronization.Mutex`: on Linux it is built on raw futex calls, which
/// ThreadSanitizer cannot see, so every access it protects is reported as a race (four
/// threads on a `Mutex<[Int: Int]>` are enough to show it), which would hide real ones in
/// `.ci/run`'s sanitizer run. ThreadSanitizer intercepts pthread mutexes, and
/// glibc's uncontended lock/unlock is a pair of atomic instructions, as fast as a futex
/// word. On glibc it is an adaptive mutex (see `init`). The mutex lives in its own
/// allocation because a pthread mutex must not move.
@usableFromInline
package struct PThreadMutex: ~Copyable {
    @usableFromInline let mutex: UnsafeMutablePointer<pthread_mutex_t>

    package init() {
        mutex = .allocate(capacity: 1)
        mutex.initialize(to: pthread_mutex_t())
        var attributes = pthread_mutexattr_t()
        pthread_mutexattr_init(&attributes)
        #if canImport(Glibc)
        // Adaptive: a thread that finds the lock taken spins briefly before it sleeps in
        // the kernel. A shard's critical section is a few hundred instructions, so the
        // holder is nearly always about to release it; glibc's default mutex goes straight
        // to `futex` wait, and its owner then to `futex` wake. Skewed keys make that common;
        // docs/design/single-key-path.md has the measurement.
        pthread_mutexattr_settype(&attributes, Int32(PTHREAD_MUTEX_ADAPTIVE_NP))
        #endif
        let status = pthread_mutex_init(mutex, &attributes)
        pthread_mutexattr_destroy(&attributes)
        precondition(status == 0, "pthread_mutex_init failed: \(status)")  // only with no memory left
    }

    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deinitialize(count: 1)
        mutex.deallocate()
    }

    @inlinable
    package func lock() { pthread_mutex_lock(mutex) }

    @inlinable
    package func unlock() { pthread_mutex_unlock(mutex) }

    /// Takes the lock if it is free and returns whether it did (for tests that check
    /// that something runs outside a critical section).
    package func tryLock() -> Bool { pthread_mutex_trylock(mutex) == 0 }
}

/// A value that is only ever read or written with its lock held.
// @unchecked Sendable is safe: `state` is private and touched only inside `withLock`,
// between `lock()` and `unlock()` of `mutex`, so no two threads ever access it at once,
// and the mutex orders every access after the previous one.
package final class Locked<State: Sendable>: @unchecked Sendable {  // safe: see the proof above
    private let mutex = PThreadMutex()
    private var state: State

    package init(_ state: State) { self.state = state }

    /// Runs `body` with exclusive access to the value.
    @inline(__always)
    package func withLock<R, E: Error>(_ body: (inout State) throws(E) -> R) throws(E) -> R {
        mutex.lock()
        defer { mutex.unlock() }
        return try body(&state)
    }
}
