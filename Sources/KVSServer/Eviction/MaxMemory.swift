import KVS
import Synchronization

/// The server's `maxmemory`: its settings, the access clock every database stamps its keys
/// with, and the eviction that runs before a command when the memory in use passes the
/// limit (Redis's `performEvictions`).
///
/// ## How a victim is chosen
///
/// As in Redis, by sampling, not by keeping keys in order: for the LRU, LFU and TTL
/// policies each round samples `maxmemory-samples` keys from a random shard of every
/// database (with a TTL only, for the volatile policies), scores them (idle time;
/// 255 minus the decayed LFU counter; how soon it expires) into a pool of the 16 best
/// candidates kept between rounds, and evicts the best candidate that still exists. The
/// random policies take one key from a random slot of a random shard. An expired key
/// sampled is evicted first.
///
/// ## When
///
/// Before every command while `maxmemory` is set (the connection handler calls
/// ``performEvictions(_:)``), and at once when CONFIG SET lowers the limit. A call frees at
/// least the excess it saw, by the estimate MEMORY USAGE gives of each evicted key, or
/// stops after the time `maxmemory-eviction-tenacity` allows and lets the command go on,
/// the next commands evicting the rest; it fails, and
/// write commands get the OOM error, when the policy is `noeviction` or nothing is left
/// to evict.
///
/// Thread safety: the settings are atomics; evictions are serialized by one lock (the
/// candidate pool), so two event loops never evict the same excess twice.
package final class MaxMemory: Sendable {
    /// The clock of every key's access word (see ``AccessClock``).
    package let clock: AccessClock
    /// `maxmemory` in bytes; 0: no limit.
    private let limitBytes = Atomic<Int>(0)
    private let policyCode = Atomic<UInt8>(MaxMemoryPolicy.noEviction.code)
    private let sampleCount = Atomic<Int>(5)
    private let tenacityValue = Atomic<Int>(10)
    /// INFO's `evicted_keys`.
    package let evictedKeys = Atomic<Int>(0)
    /// The memory in use, in bytes (INFO's `used_memory`).
    private let usedBytes: @Sendable () -> Int
    /// A pthread lock, which ThreadSanitizer sees (it does not see `Mutex`'s futex).
    private let pool = Locked(EvictionPool())

    package init(clock: AccessClock, usedBytes: @escaping @Sendable () -> Int) {
        self.clock = clock
        self.usedBytes = usedBytes
    }

    /// `maxmemory`: the limit in bytes, 0 for none.
    package var limit: Int { limitBytes.load(ordering: .relaxed) }
    /// `maxmemory-policy`.
    package var policy: MaxMemoryPolicy { MaxMemoryPolicy(code: policyCode.load(ordering: .relaxed)) }
    /// `maxmemory-samples`.
    package var samples: Int { sampleCount.load(ordering: .relaxed) }
    /// `maxmemory-eviction-tenacity`, 0 to 100.
    package var tenacity: Int { tenacityValue.load(ordering: .relaxed) }

    /// How long one call may evict before it lets its command run, in nanoseconds; nil
    /// for no limit (Redis's `evictionTimeLimitUs`: 50 µs per unit of tenacity up to 10,
    /// then 15% more per unit, about 2 minutes at 99; none at 100).
    package static func evictionTimeLimit(tenacity: Int) -> Int? {
        if tenacity <= 10 { return 50_000 * max(0, tenacity) }
        if tenacity < 100 {
            var microseconds = 500.0
            for _ in 10..<tenacity { microseconds *= 1.15 }
            return Int(microseconds) * 1000
        }
        return nil
    }

    /// Puts `configuration`'s settings in effect (CONFIG SET, start-up).
    func apply(_ configuration: ServerConfiguration) {
        limitBytes.store(configuration.maxMemory, ordering: .relaxed)
        policyCode.store(configuration.maxMemoryPolicy.code, ordering: .relaxed)
        sampleCount.store(configuration.maxMemorySamples, ordering: .relaxed)
        tenacityValue.store(configuration.maxMemoryEvictionTenacity, ordering: .relaxed)
        clock.mode = configuration.maxMemoryPolicy.usesFrequency ? .frequency : .recency
        clock.logFactor = configuration.lfuLogFactor
        clock.decayMinutes = configuration.lfuDecayTime
    }

    /// Evicts keys by the policy until the memory in use is within `maxmemory`.
    ///
    /// - Returns: false when memory is over the limit and nothing (more) can be evicted:
    ///   the caller then refuses commands that may add data. True when within the limit,
    ///   when there is no limit, or when this call evicted its share and left the rest
    ///   to the next.
    /// - Complexity: O(1) without a limit or under it; otherwise O(samples × databases)
    ///   per evicted key, plus freeing it.
    package func performEvictions(_ server: ServerState) -> Bool {
        let limit = self.limit
        guard limit > 0, usedBytes() > limit else { return true }
        let policy = self.policy
        guard policy != .noEviction else { return false }
        return pool.withLock { pool in
            let used = usedBytes()  // again: another loop may have evicted meanwhile
            guard used > limit else { return true }
            let excess = used - limit
            let timeLimit = Self.evictionTimeLimit(tenacity: tenacity)
            let start = ContinuousClock.now
            var freed = 0
            var evicted = 0
            var misses = 0
            while freed < excess {
                // As Redis: the clock is read every 16 keys; past the time limit the
                // command runs, and the next ones evict the rest.
                if evicted > 0, evicted % 16 == 0, let timeLimit,
                    (ContinuousClock.now - start).nanosecondsRoundedUp > timeLimit
                {
                    return true
                }
                guard let (database, key) = victim(policy, server, &pool) else { return false }
                guard let bytes = evict(key, from: server.databases[database]) else {
                    // Deleted since it was sampled: sample again, a bounded number of times.
                    misses += 1
                    if misses > 64 { return false }
                    continue
                }
                freed += bytes
                evicted += 1
            }
            return true
        }
    }

    /// Deletes `key` and returns what MEMORY USAGE estimates it held, or nil when it is gone.
    private func evict(_ key: ByteKey, from database: Database) -> Int? {
        let bytes: Int?
        do {
            bytes = try database.engine.withEntry(key) { entry, _ in
                guard let stored = entry else { return nil }
                entry = nil
                return MemoryCommands.usage(key: key, entry: stored)
            }
        } catch {
            return nil
        }
        if bytes != nil { evictedKeys.add(1, ordering: .relaxed) }
        return bytes
    }

    /// The next key to evict and its database's index, or nil when there is none.
    private func victim(
        _ policy: MaxMemoryPolicy,
        _ server: ServerState,
        _ pool: inout EvictionPool
    ) -> (Int, ByteKey)? {
        var drawn: [AccessSample<ByteKey>] = []
        if policy.isRandom {
            let candidates = server.databases.indices.filter { index in
                let engine = server.databases[index].engine
                return policy.isVolatile ? engine.countWithExpiry > 0 : engine.count > 0
            }
            guard let database = candidates.randomElement() else { return nil }
            sample(server.databases[database].engine, count: 1, volatileOnly: policy.isVolatile, into: &drawn)
            return drawn.first.map { (database, $0.key) }
        }
        for attempt in 0..<2 {
            for (index, database) in server.databases.enumerated() {
                let engine = database.engine
                guard policy.isVolatile ? engine.countWithExpiry > 0 : engine.count > 0 else { continue }
                drawn.removeAll(keepingCapacity: true)
                sample(engine, count: sampleSize(round: attempt), volatileOnly: policy.isVolatile, into: &drawn)
                let now = engine.clock.now()
                for s in drawn { pool.insert(score: score(s, policy, now: now), database: index, key: s.key) }
            }
            if let best = pool.popBest() { return best }
        }
        return nil
    }

    /// How many keys a round samples: `maxmemory-samples`, more on a second round after
    /// the first found nothing.
    private func sampleSize(round: Int) -> Int {
        round == 0 ? samples : samples * 4
    }

    /// Appends up to `count` samples of `engine`'s keys: from a random shard, and from the
    /// shards after it while that one held fewer (a small keyspace spreads thin over the
    /// shards; Redis samples one dictionary).
    private func sample(
        _ engine: DatabaseEngine,
        count: Int,
        volatileOnly: Bool,
        into samples: inout [AccessSample<ByteKey>]
    ) {
        let shardCount = engine.shardCount
        let start = Int.random(in: 0..<shardCount)
        let goal = samples.count + count
        for step in 0..<shardCount where samples.count < goal {
            let shard = (start + step) % shardCount
            engine.sampleAccess(shard: shard, count: goal - samples.count, volatileOnly: volatileOnly, into: &samples)
        }
    }

    /// The score of a sampled key: higher is evicted first.
    private func score(_ sample: AccessSample<ByteKey>, _ policy: MaxMemoryPolicy, now: Int64) -> UInt64 {
        if sample.expiresAt != 0, sample.expiresAt <= now { return .max }  // expired: free to take
        switch policy {
        case .volatileTTL:
            return UInt64.max - 1 - UInt64(max(0, sample.expiresAt))
        case .allKeysLFU, .volatileLFU:
            return 255 - UInt64(clock.decayedFrequency(sample.word))
        default:
            return UInt64(clock.idleMilliseconds(sample.word))
        }
    }
}

/// Redis's eviction pool (`EVPOOL_SIZE` 16): the best candidates sampled so far, kept
/// between rounds so that each round refines the choice.
struct EvictionPool {
    struct Candidate {
        var score: UInt64
        var database: Int
        var key: ByteKey
    }

    static let capacity = 16
    /// In ascending order of score.
    private(set) var candidates: [Candidate] = []

    /// Adds a candidate if the pool has room or it beats the worst one; a key already in
    /// the pool is not added twice.
    mutating func insert(score: UInt64, database: Int, key: ByteKey) {
        if candidates.count == Self.capacity, let worst = candidates.first, worst.score >= score { return }
        if candidates.contains(where: { $0.database == database && $0.key == key }) { return }
        let position = candidates.firstIndex { $0.score > score } ?? candidates.count
        candidates.insert(Candidate(score: score, database: database, key: key), at: position)
        if candidates.count > Self.capacity { candidates.removeFirst() }
    }

    /// Takes the best candidate out.
    mutating func popBest() -> (Int, ByteKey)? {
        candidates.popLast().map { ($0.database, $0.key) }
    }
}
