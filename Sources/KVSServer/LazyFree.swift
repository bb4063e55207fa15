import Dispatch
import Synchronization

/// Frees large values off the event loops, as UNLINK (and FLUSHALL/FLUSHDB ASYNC) promise:
/// the command takes its keys out of the table at once, and the values' memory is given
/// back on a background queue, so a client does not wait for the free of a collection of
/// millions of elements, and neither do the other clients of its event loop.
///
/// As Redis's lazyfree.c decides, a value goes to the background when freeing it is more
/// than ``threshold`` allocations (``StoredValue/freeEffort``); a smaller one is freed at
/// once, which costs less than the hand-off.
///
/// Thread-safety: thread-safe.
package final class LazyFree: Sendable {
    /// Redis's `LAZYFREE_THRESHOLD`.
    static let threshold = 64

    private let queue = DispatchQueue(label: "kvs.lazyfree", qos: .utility)
    /// Values handed off and not yet freed (INFO's `lazyfree_pending_objects`).
    private let pending = Atomic<Int>(0)
    /// Values freed in the background since the start (INFO's `lazyfreed_objects`).
    private let freed = Atomic<Int>(0)

    package init() {}

    /// INFO's `lazyfree_pending_objects`.
    package var pendingObjects: Int { pending.load(ordering: .relaxed) }
    /// INFO's `lazyfreed_objects`.
    package var freedObjects: Int { freed.load(ordering: .relaxed) }

    /// Frees `values` on the background queue. The caller must hold no other reference
    /// to their storage (they were just taken out of the table), so the last release
    /// happens there.
    func release(_ values: consuming [StoredValue]) {
        let count = values.count
        release(values, objects: count)
    }

    /// Frees `contents` on the background queue, counted as `objects` in INFO (a flushed
    /// database counts its keys, as Redis's `emptyDbAsync` does). The caller must hold no
    /// other reference to its storage, so the last release happens there.
    func release<Contents: Sendable>(_ contents: consuming Contents, objects count: Int) {
        let batch = contents
        guard count > 0 else { return }
        pending.add(count, ordering: .relaxed)
        queue.async { [self] in
            withExtendedLifetime(batch) {}
            pending.subtract(count, ordering: .relaxed)
            freed.add(count, ordering: .relaxed)
        }
    }
}
