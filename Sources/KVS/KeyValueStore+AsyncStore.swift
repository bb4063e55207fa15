// The embedded store is an AsyncStore as it is: its synchronous methods satisfy the protocol's
// async requirements (a synchronous function may witness an `async` one), so code written
// against `some AsyncStore<Value>` runs on it with no wrapper and no hop off the caller's task.

/// `KeyValueStore` conforms to ``AsyncStore`` with its own synchronous methods: each call runs
/// on the caller's task, holds a shard lock only for the operation, never suspends, and throws
/// exactly what the synchronous call throws.
///
/// - Thread safety: as ``KeyValueStore``: safe from any number of tasks at once.
extension KeyValueStore: AsyncStore {}
