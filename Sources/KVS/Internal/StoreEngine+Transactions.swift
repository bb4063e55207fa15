#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

extension StoreEngine {
    /// Runs `body` as one serializable transaction (see ``TransactionState`` for the
    /// design and why it is correct) and returns what the committed run returned.
    ///
    /// - Parameters:
    ///   - maxAttempts: `nil` to retry optimistically a few times and then run in locking
    ///     mode, which always commits; a number to make only that many optimistic
    ///     attempts and then throw `.transactionConflict`.
    ///   - body: may run more than once; only the writes of the run that commits take
    ///     effect.
    /// - Throws: `.storeClosed`; `.transactionConflict` (only with `maxAttempts`); or what
    ///   `body` threw, unchanged, if it threw from a consistent view (nothing is written).
    @inlinable
    package func runTransaction<R>(
        maxAttempts: Int? = nil,
        _ body: (inout TransactionState<Key, Value>) throws -> R
    ) throws -> R {
        do {
            return try runTypedTransaction(maxAttempts: maxAttempts, body)
        } catch {
            switch error {
            case .store(let error): throw error
            case .body(let error): throw error
            }
        }
    }

    /// ``runTransaction(maxAttempts:_:)`` for a body with a typed error: the store's own errors
    /// and the body's come apart, so that a caller can throw them as one type.
    ///
    /// - Throws: `.store` with `.storeClosed`, `.transactionConflict` (only with `maxAttempts`)
    ///   or what the commit threw; `.body` with what `body` threw, unchanged, if it threw from a
    ///   consistent view (nothing is written).
    @inlinable
    package func runTypedTransaction<R, E: Error>(
        maxAttempts: Int? = nil,
        _ body: (inout TransactionState<Key, Value>) throws(E) -> R
    ) throws(KVSEngineError<E>) -> R {
        var attempt = 0
        var lockSet: Set<Int>? = nil
        while true {
            do { try checkOpen() } catch { throw .store(error) }
            attempt += 1
            if let maxAttempts, attempt > maxAttempts {
                throw .store(
                    KVSError(
                        .transactionConflict,
                        message:
                            "the transaction conflicted with concurrent writers \(maxAttempts) times in a row and was not applied"
                    )
                )
            }
            let held = lockSet?.sorted() ?? []
            for index in held { shards[index].lock() }
            var state = TransactionState(engine: self, holding: lockSet)
            var outcome: Result<R, KVSEngineError<E>>?  // nil: run again
            // An error thrown from a consistent view is the caller's (nothing was written);
            // one thrown from a stale or torn view may be an artefact of it, so the body runs
            // again instead.
            do throws(E) {
                let result = try body(&state)
                do {
                    outcome = try state.commit() ? .success(result) : nil
                } catch {
                    outcome = !state.doomed && state.readsAreCurrent() ? .failure(.store(error)) : nil
                }
            } catch {
                outcome = !state.doomed && state.readsAreCurrent() ? .failure(.body(error)) : nil
            }
            for index in held.reversed() { shards[index].unlock() }
            if state.queuedRemovals { for index in state.writtenShards { deliverRemovals(ofShard: index) } }
            if let outcome { return try outcome.get() }

            // Conflict: run again, optimistically for a few attempts, then holding locks.
            if maxAttempts == nil, lockSet != nil || attempt >= TransactionState<Key, Value>.optimisticAttempts {
                var grown = lockSet ?? []
                grown.formUnion(state.touchedShards)
                if let missing = state.missingShard { grown.insert(missing) }
                lockSet = grown
            } else if attempt > 2 {
                sched_yield()  // let the writer we collided with finish
            }
        }
    }
}
