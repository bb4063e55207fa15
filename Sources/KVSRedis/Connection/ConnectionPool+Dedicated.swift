import KVS

extension ConnectionPool {
    /// Lends one connection of the node to `body` alone, for an exchange whose state belongs to
    /// the connection (`WATCH` … `MULTI` … `EXEC`), which must not be shared with the pool's
    /// pipelined traffic.
    ///
    /// `body` must leave the connection as it found it when it returns (end with `EXEC`,
    /// `DISCARD` or `UNWATCH`): the connection then goes back to a small idle set (at most
    /// ``RedisConfiguration/connectionsPerNode`` connections lent or idle). If `body` throws,
    /// the connection is closed rather than reused, whatever state it was left in.
    ///
    /// - Throws: what `body` throws; `.storeClosed` after ``shutdown()``; `.timeout` when every
    ///   dedicated connection stayed busy for the request timeout, or a new one did not connect
    ///   within the connect timeout; `.connectionFailed`. Messages name the node; `key` is left
    ///   for the caller to fill.
    /// - Complexity: O(1) plus opening a connection when none is idle.
    /// - Thread safety: callable from any task; the connection is the caller's alone until `body` ends.
    func withDedicatedConnection<R>(_ body: (RedisConnection) async throws(KVSError) -> R) async throws(KVSError) -> R {
        try await dedicated.withConnection(body)
    }
}
