extension KeyValueStore {
    /// Calls `listener` with every entry that leaves the store from now on: its key, its
    /// value and why it left (expired, evicted, replaced, removed, cleared).
    ///
    /// ```swift
    /// let token = cache.addRemovalListener { removal in
    ///     if removal.cause == .evicted { logger.debug("evicted \(removal.key)") }
    /// }
    /// ```
    ///
    /// The contract:
    /// - The listener runs after the shard lock of the write is released, on the thread of a
    ///   writer of that shard (or of the background expiry thread), never under a lock of
    ///   the store: it may call the store.
    /// - Events of one key arrive in the order of the writes that caused them. One thread at
    ///   a time delivers a shard's events; a writer that finds another delivering returns
    ///   at once and leaves its events to that thread, which delivers until the shard's
    ///   queue is empty. So a slow listener delays only the thread delivering its shard's
    ///   events, never a writer of another shard, nor a writer of the same shard beyond
    ///   queueing.
    /// - A listener added while writes run may miss the removals those writes make.
    ///
    /// - Returns: a token for ``removeRemovalListener(_:)``.
    /// - Complexity: O(listeners). While any listener is registered, every removal costs a
    ///   queue append under its shard lock and a delivery after it; with none, one atomic
    ///   load per write.
    /// - Thread safety: may be called from any thread at any time.
    @discardableResult
    public func addRemovalListener(_ listener: @escaping @Sendable (Removal<Value>) -> Void) -> RemovalListenerToken {
        RemovalListenerToken(
            id: engine.removalListeners.add { key, value, cause in
                listener(Removal(key: key, value: value, cause: cause))
            }
        )
    }

    /// Stops calling the listener that `token` names; events already handed to it may
    /// still arrive from a delivery under way.
    ///
    /// - Returns: whether the listener was registered.
    /// - Complexity: O(listeners).
    @discardableResult
    public func removeRemovalListener(_ token: RemovalListenerToken) -> Bool {
        engine.removalListeners.remove(token.id)
    }

    /// The entries that leave the store from now on, as an asynchronous sequence: a
    /// removal listener (see ``addRemovalListener(_:)`` for the order and the timing)
    /// that feeds an `AsyncStream`, unregistered when the stream ends or its consumer's
    /// task is cancelled.
    ///
    /// ```swift
    /// for await removal in cache.removals() where removal.cause == .expired {
    ///     await session.close(removal.key)
    /// }
    /// ```
    ///
    /// - Parameter bufferingPolicy: what the stream keeps while its consumer is behind;
    ///   unbounded unless given (`.bufferingNewest(n)` keeps the last n).
    /// - Complexity: O(1) per event, plus the buffer.
    /// - Thread safety: may be called from any thread; iterate the stream from one task.
    public func removals(
        bufferingPolicy: AsyncStream<Removal<Value>>.Continuation.BufferingPolicy = .unbounded
    ) -> AsyncStream<Removal<Value>> {
        let (stream, continuation) = AsyncStream.makeStream(of: Removal<Value>.self, bufferingPolicy: bufferingPolicy)
        let token = addRemovalListener { removal in continuation.yield(removal) }
        continuation.onTermination = { [engine] _ in engine.removalListeners.remove(token.id) }
        return stream
    }
}

/// Names a removal listener registered with ``KeyValueStore/addRemovalListener(_:)``.
public struct RemovalListenerToken: Hashable, Sendable {
    let id: Int
}
