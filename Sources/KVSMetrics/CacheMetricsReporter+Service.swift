import ServiceLifecycle

extension CacheMetricsReporter: Service {
    /// Reports at once, then every ``interval`` by the reporter's clock until graceful
    /// shutdown begins or the task is cancelled; then reports once more, so that the counts
    /// since the last tick reach the backend, and returns.
    ///
    /// Add the reporter to the `ServiceGroup` of a Hummingbird or Vapor application, or run
    /// it in a task of its own. It never throws: a stop is a normal return, so it does not
    /// fail a group that is shutting down.
    ///
    /// - Complexity: one ``report()`` per interval; sleeps in between.
    /// - Thread safety: safe to run while other tasks call ``report()``; running it twice at
    ///   once reports more often, never a count twice.
    public func run() async {
        await cancelWhenGracefulShutdown { [self] in
            report()
            while await sleep(for: interval, on: clock) {
                report()
            }
        }
        report()
    }
}

/// Sleeps for `duration` on `clock`; returns `false` at once if the task is cancelled.
private func sleep<C: Clock<Duration>>(for duration: Duration, on clock: C) async -> Bool {
    do {
        try await clock.sleep(for: duration)
        return true
    } catch {
        return false
    }
}
