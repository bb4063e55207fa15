#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// One load in flight: the callers of `value(forKey:ttl:orLoad:)` that found the same key missing
/// wait here for the one loader's result, blocking (synchronous callers) or suspended (async
/// callers, each of which may be cancelled alone).
///
/// The result is set once, by ``finish(_:)``; every waiter gets that result, the loader's
/// error included.
// @unchecked Sendable is safe: `result`, `waiters`, `cancelled` and `nextWaiter` are touched only
// between `mutex.lock()` and `mutex.unlock()`, and `condition` is a pthread condition variable
// used only with that mutex.
package final class LoadFlight<Value: Sendable>: @unchecked Sendable {  // safe: see the proof above
    private let mutex = PThreadMutex()
    private let condition: UnsafeMutablePointer<pthread_cond_t>
    private var result: Result<Value, any Error>?
    /// Suspended async waiters, by id.
    private var waiters: [Int: CheckedContinuation<Value, any Error>] = [:]
    /// Async waiters cancelled before they registered their continuation.
    private var cancelled: Set<Int> = []
    private var nextWaiter = 0

    package init() {
        condition = .allocate(capacity: 1)
        condition.initialize(to: pthread_cond_t())
        pthread_cond_init(condition, nil)
    }

    deinit {
        pthread_cond_destroy(condition)
        condition.deinitialize(count: 1)
        condition.deallocate()
    }

    /// Sets the result and wakes every waiter. Call once.
    package func finish(_ result: Result<Value, any Error>) {
        mutex.lock()
        self.result = result
        let suspended = waiters
        waiters = [:]
        pthread_cond_broadcast(condition)
        mutex.unlock()
        for continuation in suspended.values { continuation.resume(with: result) }
    }

    /// Blocks the calling thread until the result is set, and returns it.
    package func wait() throws -> Value {
        mutex.lock()
        while result == nil { pthread_cond_wait(condition, mutex.mutex) }
        let result = self.result!  // set: the loop ended
        mutex.unlock()
        return try result.get()
    }

    /// Suspends until the result is set, and returns it; a cancelled task stops waiting at
    /// once with `CancellationError` (the load goes on for the others).
    package func value() async throws -> Value {
        mutex.lock()
        let id = nextWaiter
        nextWaiter += 1
        mutex.unlock()
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Value, any Error>) in
                mutex.lock()
                if let result {
                    mutex.unlock()
                    continuation.resume(with: result)
                } else if cancelled.remove(id) != nil {
                    mutex.unlock()
                    continuation.resume(throwing: CancellationError())
                } else {
                    waiters[id] = continuation
                    mutex.unlock()
                }
            }
        } onCancel: {
            mutex.lock()
            if let continuation = waiters.removeValue(forKey: id) {
                mutex.unlock()
                continuation.resume(throwing: CancellationError())
            } else {
                if result == nil { cancelled.insert(id) }
                mutex.unlock()
            }
        }
    }
}

/// The loads in flight of one store, by key, in stripes chosen by the key's shard so that
/// misses on different shards rarely share a lock. Touched only on a miss.
package final class LoadFlights<Value: Sendable>: Sendable {
    private let stripes: [Locked<[String: LoadFlight<Value>]>]

    /// - Parameter stripeCount: how many independently locked tables, at least 1.
    package init(stripeCount: Int) {
        stripes = (0..<max(1, stripeCount)).map { _ in Locked([:]) }
    }

    /// The stripe for a key of shard `shardIndex`.
    package func stripe(forShard shardIndex: Int) -> Locked<[String: LoadFlight<Value>]> {
        stripes[shardIndex % stripes.count]
    }
}

/// The loads running on the current thread or task, innermost first, across every store:
/// how a loader that asks for the key it is loading is told apart from a second caller.
package final class LoadingFrame: Sendable {
    package let store: ObjectIdentifier
    package let key: String
    package let parent: LoadingFrame?

    package init(store: ObjectIdentifier, key: String, parent: LoadingFrame?) {
        self.store = store
        self.key = key
        self.parent = parent
    }

    /// Whether this frame or an outer one loads `key` of `store`.
    package func contains(store: ObjectIdentifier, key: String) -> Bool {
        var frame: LoadingFrame? = self
        while let current = frame {
            if current.store == store && current.key == key { return true }
            frame = current.parent
        }
        return false
    }

    /// The innermost load of the current task, or of the current thread outside a task.
    /// Inherited by `Task {}`, so the unstructured task of an async load carries it.
    @TaskLocal package static var current: LoadingFrame?
}
