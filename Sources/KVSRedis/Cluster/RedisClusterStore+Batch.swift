import KVS
import NIOCore
import RESP

extension RedisClusterStore {
    /// Reads several keys: one `MGET` per hash slot, the `MGET`s of one node pipelined in one
    /// write, the nodes in parallel, merged into one result.
    ///
    /// A slot being migrated answers `MGET` with `TRYAGAIN` while its keys are split between
    /// the two nodes; that slot's keys are then read with one `GET` each (each following its
    /// own `ASK`). A redirect re-routes only the `MGET` it answered.
    ///
    /// - Returns: the values found; each missing or expired key (a nil in `MGET`'s reply) gets a
    ///   `.notFound` error, a value that does not decode a `.protocolError`, and the keys of a
    ///   node that failed that node's error (`.connectionFailed`, `.timeout`, `.clusterDown`), in
    ///   `BatchGetResult.errors`. An empty `keys` sends nothing.
    /// - Throws: `.storeClosed`; the network codes of ``get(_:)`` when every node of the batch
    ///   failed (`key` is then the batch's first key).
    /// - Complexity: one round trip per node, in parallel (plus redirects and retries); O(total size).
    public func batchGet(_ keys: [String]) async throws(KVSError) -> BatchGetResult<Value> {
        var result = BatchGetResult<Value>()
        guard let first = keys.first else { return result }
        // Keys grouped by slot, in order of first appearance (a repeated key stays in its group).
        var slotOrder: [Int] = []
        var groups: [Int: [String]] = [:]
        for key in keys {
            let slot = HashSlot.slot(for: key)
            if groups[slot] == nil { slotOrder.append(slot) }
            groups[slot, default: []].append(key)
        }
        let commands = slotOrder.map { slot in
            let slotKeys = groups[slot] ?? []
            return ClusterCommand(
                .array([.bulk("MGET")] + slotKeys.map { .bulk($0) }),
                key: slotKeys[0],
                slot: slot,
                returnsTryAgain: slotKeys.count > 1
            )
        }
        let outcomes = await router.execute(commands)
        try throwIfWhollyFailed(outcomes, firstKey: first)

        var split: [String] = []  // keys of slots that answered TRYAGAIN: read one by one
        for (slot, outcome) in zip(slotOrder, outcomes) {
            let slotKeys = groups[slot] ?? []
            switch outcome {
            case .failure(let error):
                for key in slotKeys { result.errors[key] = Self.error(error, naming: key) }
            case .success(let reply):
                if let message = reply.value.errorMessage {
                    if message.hasPrefix("TRYAGAIN") {
                        split += slotKeys
                    } else {
                        for key in slotKeys {
                            result.errors[key] = ClusterRouter.replyError(message, node: reply.node, key: key)
                        }
                    }
                    continue
                }
                guard let elements = reply.value.elements, elements.count == slotKeys.count else {
                    for key in slotKeys { result.errors[key] = unexpected(reply, command: "MGET", key: key) }
                    continue
                }
                for (key, element) in zip(slotKeys, elements) {
                    record(element, for: key, node: reply.node, command: "MGET", into: &result)
                }
            }
        }
        guard !split.isEmpty else { return result }
        let singles = await router.execute(split.map { ClusterCommand(.array([.bulk("GET"), .bulk($0)]), key: $0) })
        for (key, outcome) in zip(split, singles) {
            if let reply = Self.reply(of: outcome, for: key, errors: &result.errors) {
                record(reply.value, for: key, node: reply.node, command: "GET", into: &result)
            }
        }
        return result
    }

    /// Records one key's reply element the way ``RedisStore/batchGet(_:)`` does: a value wins
    /// over a nil seen for the same key earlier in the batch.
    private func record(
        _ element: RESPValue,
        for key: String,
        node: RedisEndpoint,
        command: String,
        into result: inout BatchGetResult<Value>
    ) {
        switch element {
        case .bulkString(let bytes):
            do {
                result.values[key] = try decode(bytes, key: key, node: node)
                result.errors[key] = nil
            } catch {
                result.errors[key] = error
            }
        case .nullBulkString, .null:
            if result.values[key] == nil { result.errors[key] = KVSError.notFound(key) }
        default:
            result.errors[key] = unexpected(ClusterReply(value: element, node: node), command: command, key: key)
        }
    }

    /// Writes several keys with one `SET` per key, the `SET`s of one node pipelined in one
    /// write, the nodes in parallel (not atomic: a reader may see some of the keys before the
    /// others). A redirect re-routes only the `SET` it answered.
    ///
    /// - Returns: how many were written, and per key that failed its error (a value that does
    ///   not encode: `.invalidArgument`, not sent; an error reply: `.serverError`; the keys of a
    ///   node that failed: that node's error).
    /// - Throws: `.storeClosed`; the network codes of ``get(_:)`` when every node of the batch
    ///   failed; then any subset of the keys may have been written.
    /// - Complexity: one round trip per node, in parallel (plus redirects and retries); O(total size).
    public func batchSet(_ items: [String: Value]) async throws(KVSError) -> BatchSetResult {
        let (keys, sets, unencodable) = Value.setCommands(for: items)
        var result = BatchSetResult()
        result.errors = unencodable
        guard let first = keys.first else { return result }
        let outcomes = await router.execute(zip(keys, sets).map { ClusterCommand($1, key: $0) })
        try throwIfWhollyFailed(outcomes, firstKey: first)
        for (key, outcome) in zip(keys, outcomes) {
            do throws(KVSError) {
                try expectOK(try outcome.get(), key: key)
                result.successful += 1
            } catch {
                result.errors[key] = Self.error(error, naming: key)
            }
        }
        return result
    }

    /// Deletes several keys with one `DEL` per key, the `DEL`s of one node pipelined in one
    /// write, the nodes in parallel, so that each key reports on its own: a key that was absent
    /// (reply 0) gets `.notFound`. Not atomic; a key listed twice is deleted once and reported
    /// `.notFound` the second time, as on the embedded store.
    ///
    /// - Returns: how many keys were deleted, and per missing key `.notFound` (per key of a node
    ///   that failed, that node's error).
    /// - Throws: `.storeClosed`; the network codes of ``get(_:)`` when every node of the batch failed.
    /// - Complexity: one round trip per node, in parallel (plus redirects and retries); O(k).
    public func batchDelete(_ keys: [String]) async throws(KVSError) -> BatchDeleteResult {
        var result = BatchDeleteResult()
        guard let first = keys.first else { return result }
        let outcomes = await router.execute(keys.map { ClusterCommand(.array([.bulk("DEL"), .bulk($0)]), key: $0) })
        try throwIfWhollyFailed(outcomes, firstKey: first)
        for (key, outcome) in zip(keys, outcomes) {
            guard let reply = Self.reply(of: outcome, for: key, errors: &result.errors) else { continue }
            if let removed = reply.value.intValue {
                result.recordDelete(removed: removed, key: key)
            } else {
                result.errors[key] = unexpected(reply, command: "DEL", key: key)
            }
        }
        return result
    }

    /// Every key of the cluster, each once: `SCAN` walked on every primary of the slot map in
    /// parallel, the results merged (never `KEYS`, which blocks a node). Keys that are not valid
    /// UTF-8 are repaired with U+FFFD. If a node fails during the walk, the map is read again
    /// and the walk restarted while the request timeout allows.
    ///
    /// - Throws: the network codes of ``get(_:)``.
    /// - Complexity: O(n) keys; about n / ``RedisClusterConfiguration/scanCount`` round trips,
    ///   spread over the primaries in parallel.
    public func keys() async throws(KVSError) -> [String] {
        Array(try await router.scanPrimaries(count: configuration.scanCount))
    }

    /// Throws the first failure when no command of a batch got a reply: the whole batch failed.
    /// `.storeClosed` is thrown whenever it occurs.
    private func throwIfWhollyFailed(_ outcomes: [Result<ClusterReply, KVSError>], firstKey: String) throws(KVSError) {
        var firstFailure: KVSError?
        for outcome in outcomes {
            switch outcome {
            case .success:
                return
            case .failure(let error):
                if error.code == .storeClosed { throw KVSError.storeClosed(key: firstKey) }
                if firstFailure == nil { firstFailure = error }
            }
        }
        if let firstFailure { throw Self.error(firstFailure, naming: firstKey) }
    }
}

extension RedisClusterStore {
    /// The reply of `key`'s command, or nil after recording in `errors` why there is none: the
    /// node's failure, or the error reply the command got.
    static func reply(
        of outcome: Result<ClusterReply, KVSError>,
        for key: String,
        errors: inout [String: KVSError]
    ) -> ClusterReply? {
        switch outcome {
        case .failure(let error):
            errors[key] = Self.error(error, naming: key)
            return nil
        case .success(let reply):
            if let message = reply.value.errorMessage {
                errors[key] = ClusterRouter.replyError(message, node: reply.node, key: key)
                return nil
            }
            return reply
        }
    }

    /// `error`, naming `key`.
    static func error(_ error: KVSError, naming key: String) -> KVSError {
        var error = error
        error.key = key
        return error
    }
}
