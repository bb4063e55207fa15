import KVS
import NIOCore
import RESP
import Synchronization

/// The clients blocked by BLPOP, BRPOP, BLMOVE, BRPOPLPUSH, BLMPOP, BZPOPMIN, BZPOPMAX and
/// BZMPOP, per key, in the order they blocked; and the serving of them when a write makes
/// one of their keys able to answer.
///
/// How a client is served, as Redis serves it (`handleClientsBlockedOnKeys`): a write that
/// may have given a key data (LPUSH, ZADD, LMOVE's destination, …) names the key
/// (``Call/signalReady(_:)``); after the writing command ends (after EXEC, for a write in
/// a transaction), its connection calls ``serve(_:stamps:server:)`` on its own thread,
/// which runs the waiting clients' commands again, first blocked first, each as the
/// non-blocking command it stands for, until one finds nothing. Each reply goes to its
/// client's event loop. A command served this way may make another key ready (BLMOVE
/// pushes to its destination), which is served in the same call.
///
/// No wake-up is lost: a blocking command that found nothing registers and then tries
/// once more under the registry's lock (``block(_:stamps:server:)``), and a writer looks
/// for waiters after its write (``hasWaiters``). Both the second try and the write hold
/// the key's shard lock, which orders them: if the write came first, the second try
/// sees its data; if the try came first, the registration happened before the write,
/// and the writer's load of the waiter count sees it.
///
/// Thread-safety: thread-safe. Serving runs the waiters' commands under the registry's
/// lock, which is taken before any shard lock and never while one is held.
package final class BlockingRegistry: Sendable {
    /// One blocked client.
    ///
    /// Its fields never change; whether it is still waiting is known only to the
    /// registry, under its lock.
    package final class Waiter: Sendable {
        /// The client's id (CLIENT UNBLOCK names it).
        let clientID: Int
        /// The database its keys are in.
        let database: Int
        /// The keys it waits on, in the command's order.
        let keys: [ByteKey]
        /// The blocking command, as the client sent it.
        let args: [ByteBuffer]
        /// The client's reply encoder (its protocol version).
        let encoder: RESPEncoder
        /// Runs the command without blocking: writes its reply and returns true, or
        /// returns false having written nothing when every key is empty.
        let attempt: BlockingAttempt
        /// Hands the outcome to the client, on its event loop.
        let deliver: @Sendable (Outcome) -> Void

        init(
            clientID: Int,
            database: Int,
            keys: [ByteKey],
            args: [ByteBuffer],
            encoder: RESPEncoder,
            attempt: @escaping BlockingAttempt,
            deliver: @escaping @Sendable (Outcome) -> Void
        ) {
            self.clientID = clientID
            self.database = database
            self.keys = keys
            self.args = args
            self.encoder = encoder
            self.attempt = attempt
            self.deliver = deliver
        }
    }

    /// How a blocked client's wait ended.
    package enum Outcome: Sendable {
        /// Its command ran: the reply (which may be an error, such as WRONGTYPE), and the
        /// writes it made (for the `save` policy).
        case served(ByteBuffer, writes: Int)
        /// The timeout passed, or CLIENT UNBLOCK … TIMEOUT: the null reply.
        case timedOut
        /// CLIENT UNBLOCK … ERROR.
        case unblockedWithError
    }

    /// A key of one database.
    struct WaitKey: Hashable, Sendable {
        let database: Int
        let key: ByteKey
    }

    private struct State: Sendable {
        /// The waiters of each key, first blocked first.
        var queues: [WaitKey: [Waiter]] = [:]
        /// Every waiter, by client id.
        var byClient: [Int: Waiter] = [:]
    }

    private let state = Locked(State())
    /// How many clients are blocked; read without the lock by every write that may make a
    /// key ready.
    private let waiterCount = Atomic<Int>(0)

    package init() {}

    /// Whether any client is blocked (a relaxed load: see the type's note on lost wake-ups).
    @inline(__always)
    package var hasWaiters: Bool { waiterCount.load(ordering: .relaxed) > 0 }

    /// How many clients are blocked (INFO's `blocked_clients`).
    package var count: Int { waiterCount.load(ordering: .relaxed) }

    /// Whether client `id` is blocked (CLIENT LIST's `b` flag).
    package func isBlocked(clientID id: Int) -> Bool {
        hasWaiters && state.withLock { $0.byClient[id] != nil }
    }

    /// Blocks `waiter`, after one more try of its command under the lock.
    ///
    /// - Returns: the outcome when that try served it (it is then not registered), or nil
    ///   when it now waits. Keys that the try made ready are served before this returns.
    package func block(_ waiter: Waiter, stamps: StampAllocator, server: ServerState) -> Outcome? {
        var ready: [WaitKey] = []
        let outcome: Outcome? = state.withLock { s in
            waiterCount.add(1, ordering: .relaxed)
            if let served = Self.run(waiter, stamps: stamps, server: server, ready: &ready) {
                waiterCount.subtract(1, ordering: .relaxed)
                return served
            }
            for key in waiter.keys {
                s.queues[WaitKey(database: waiter.database, key: key), default: []].append(waiter)
            }
            s.byClient[waiter.clientID] = waiter
            return nil
        }
        if !ready.isEmpty { serve(ready, stamps: stamps, server: server) }
        return outcome
    }

    /// Serves the clients blocked on `keys`, in the order they blocked, while their
    /// commands find data, and delivers each reply.
    ///
    /// - Complexity: one run of a waiting command per client served, plus one per key
    ///   for the first that finds nothing.
    package func serve(_ keys: [ReadyKey], stamps: StampAllocator, server: ServerState) {
        serve(keys.map { WaitKey(database: $0.database, key: $0.key) }, stamps: stamps, server: server)
    }

    private func serve(_ keys: [WaitKey], stamps: StampAllocator, server: ServerState) {
        var deliveries: [(Waiter, Outcome)] = []
        state.withLock { s in
            var pending = keys
            var next = 0
            // Bounded: a key is served again only when a served command pushed to it, and
            // every served command takes one waiter out for good.
            while next < pending.count {
                let key = pending[next]
                next += 1
                while let waiter = s.queues[key]?.first {
                    guard let outcome = Self.run(waiter, stamps: stamps, server: server, ready: &pending) else {
                        break
                    }
                    Self.remove(waiter, from: &s)
                    waiterCount.subtract(1, ordering: .relaxed)
                    deliveries.append((waiter, outcome))
                }
            }
        }
        for (waiter, outcome) in deliveries { waiter.deliver(outcome) }
    }

    /// Takes `waiter` out (its timeout passed, or its connection closed).
    ///
    /// - Returns: whether it was still waiting; false when it was served or unblocked
    ///   meanwhile, whose outcome is on its way to the client.
    package func cancel(_ waiter: Waiter) -> Bool {
        state.withLock { s in
            guard s.byClient[waiter.clientID] === waiter else { return false }
            Self.remove(waiter, from: &s)
            waiterCount.subtract(1, ordering: .relaxed)
            return true
        }
    }

    /// Every key some client waits on in the databases `indexes` (SWAPDB gives them new
    /// contents).
    package func waitingKeys(inDatabases indexes: Set<Int>) -> [ReadyKey] {
        guard hasWaiters else { return [] }
        return state.withLock { s in
            s.queues.keys.filter { indexes.contains($0.database) }.map { ReadyKey(database: $0.database, key: $0.key) }
        }
    }

    /// CLIENT UNBLOCK: ends the wait of client `id` with `outcome`.
    ///
    /// - Returns: whether that client was blocked.
    package func unblock(clientID id: Int, with outcome: Outcome) -> Bool {
        let waiter: Waiter? = state.withLock { s in
            guard let waiter = s.byClient[id] else { return nil }
            Self.remove(waiter, from: &s)
            waiterCount.subtract(1, ordering: .relaxed)
            return waiter
        }
        waiter?.deliver(outcome)
        return waiter != nil
    }

    /// Runs `waiter`'s command once, without blocking; nil when it found nothing. Keys the
    /// command made ready are appended to `ready`.
    private static func run(
        _ waiter: Waiter,
        stamps: StampAllocator,
        server: ServerState,
        ready: inout [WaitKey]
    ) -> Outcome? {
        var call = Call(
            args: waiter.args,
            access: DirectAccess(database: server.databases[waiter.database], stamps: stamps),
            out: ByteBufferAllocator().buffer(capacity: 64),
            encoder: waiter.encoder,
            server: server
        )
        let served: Bool
        do {
            served = try waiter.attempt(&call)
        } catch let error as CommandError where error == .wrongType {
            // A key of another type serves no one: the client waits on, as Redis's
            // serveClientsBlockedOnKey serves only a waiter of the key's type.
            return nil
        } catch let error as CommandError {
            call.out.clear()
            call.error(error)
            served = true
        } catch {
            call.out.clear()
            call.error("ERR \(error)")
            served = true
        }
        guard served else { return nil }
        for key in call.readyKeys { ready.append(WaitKey(database: key.database, key: key.key)) }
        return .served(call.out, writes: call.writes)
    }

    private static func remove(_ waiter: Waiter, from s: inout State) {
        s.byClient[waiter.clientID] = nil
        for key in waiter.keys {
            let waitKey = WaitKey(database: waiter.database, key: key)
            guard var queue = s.queues[waitKey] else { continue }
            queue.removeAll { $0 === waiter }
            s.queues[waitKey] = queue.isEmpty ? nil : queue
        }
    }
}

/// A blocking command run without blocking: writes its reply and returns true, or returns
/// false having written nothing when every key it waits on is empty.
package typealias BlockingAttempt = @Sendable (inout Call<DirectAccess>) throws -> Bool

/// A key that a write may have given data for a blocked client.
package struct ReadyKey: Hashable, Sendable {
    /// The database's number.
    package let database: Int
    /// The key.
    package let key: ByteKey
}

/// What a blocking command that found nothing asks of its connection.
package struct BlockRequest: Sendable {
    /// The keys to wait on, in the command's order.
    package var keys: [ByteKey]
    /// When to give up, or nil to wait until served, unblocked or disconnected.
    package var deadline: NIODeadline?
    /// The command run without blocking, for each try.
    package var attempt: BlockingAttempt

    package init(keys: [ByteKey], deadline: NIODeadline?, attempt: @escaping BlockingAttempt) {
        self.keys = keys
        self.deadline = deadline
        self.attempt = attempt
    }
}
