import Synchronization

/// A stand-in for a slow database: every query waits a fixed delay, then makes up the
/// user, and counts itself, so that a test or `/stats` can see how many queries the cache
/// let through.
///
/// - Thread safety: any number of queries may run at once; the count is atomic.
package final class UserDatabase: Sendable {
    /// How long each query takes.
    package let delay: Duration
    private let queries = Atomic<Int>(0)

    /// A database whose queries each take `delay`.
    package init(delay: Duration) {
        self.delay = delay
    }

    /// How many queries have started.
    package var queryCount: Int { queries.load(ordering: .relaxed) }

    /// Looks up user `id`: waits ``delay``, then returns the user.
    ///
    /// - Throws: `CancellationError` if the task is cancelled during the delay.
    /// - Complexity: O(1) after the delay.
    package func user(_ id: Int) async throws -> User {
        queries.add(1, ordering: .relaxed)
        if delay > .zero { try await Task.sleep(for: delay) }
        return User(id: id, name: "User \(id)", email: "user\(id)@example.com")
    }
}
