import Synchronization

/// What a store records of each key's use, the way Redis records it in the 24 bits of
/// `robj.lru`: for least-recently-used eviction the time of the last access, for
/// least-frequently-used eviction a logarithmic access counter with the minute it was
/// last decremented.
///
/// A store made with an access clock keeps one 32-bit *access word* per entry, in a
/// per-slot array that moves with the entries (as a bounded store keeps its policy
/// nodes); each lookup of a key updates its word with ``touch(_:random:)``, each new
/// entry starts with ``newEntryWord()``. The server samples the words to choose what to
/// evict under `maxmemory` (Redis's approximated LRU and LFU), and `OBJECT IDLETIME` and
/// `OBJECT FREQ` read them.
///
/// The clock does not read the time: ``tick(unixSeconds:)`` sets it, as Redis's cron
/// caches `server.lruclock` and `server.unixtime`, so that a lookup costs two relaxed
/// loads and no system call. Recency words hold seconds modulo 2^24 (194 days; an idle
/// time that wraps once is still measured right, as in Redis's `estimateObjectIdleTime`),
/// frequency words minutes modulo 2^16 in their upper 16 bits and the counter (0...255)
/// in the lower 8.
///
/// Thread safety: every property is atomic; a word is only changed under its shard's
/// lock. Cost: a few instructions per lookup; a frequency touch draws one pseudo-random
/// number from the caller's state.
@usableFromInline
package final class AccessClock: Sendable {
    /// What the words record.
    @usableFromInline
    package enum Mode: UInt8, Sendable {
        /// The time of the last access (LRU).
        case recency = 0
        /// A logarithmic access counter that decays with time (LFU).
        case frequency = 1
    }

    /// Redis's `LRU_CLOCK_MAX`: recency words count seconds modulo this plus one.
    @usableFromInline package static let recencyClockMax: UInt32 = (1 << 24) - 1
    /// Redis's `LFU_INIT_VAL`: the counter of a new key, so that it is not the first
    /// evicted before it had a chance to be used.
    @usableFromInline package static let initialFrequency: UInt32 = 5

    @usableFromInline let modeValue: Atomic<UInt8>
    @usableFromInline let logFactorValue: Atomic<Int>
    @usableFromInline let decayMinutesValue: Atomic<Int>
    @usableFromInline let seconds: Atomic<Int64>

    /// A clock in `mode`, with Redis's defaults `lfu-log-factor` 10 and `lfu-decay-time` 1,
    /// set to `unixSeconds`.
    package init(mode: Mode = .recency, logFactor: Int = 10, decayMinutes: Int = 1, unixSeconds: Int64 = 0) {
        modeValue = Atomic(mode.rawValue)
        logFactorValue = Atomic(max(0, logFactor))
        decayMinutesValue = Atomic(max(0, decayMinutes))
        seconds = Atomic(max(0, unixSeconds))
    }

    /// What the words record; changing it leaves the words as they are (as in Redis, the
    /// data takes a while to adjust after a switch).
    @inlinable
    package var mode: Mode {
        get { Mode(rawValue: modeValue.load(ordering: .relaxed)) ?? .recency }
        set { modeValue.store(newValue.rawValue, ordering: .relaxed) }
    }

    /// Redis's `lfu-log-factor`: how many hits it takes to raise a counter (0 or more).
    @inlinable
    package var logFactor: Int {
        get { logFactorValue.load(ordering: .relaxed) }
        set { logFactorValue.store(max(0, newValue), ordering: .relaxed) }
    }

    /// Redis's `lfu-decay-time`: the minutes after which an unused counter drops by one
    /// (0: never).
    @inlinable
    package var decayMinutes: Int {
        get { decayMinutesValue.load(ordering: .relaxed) }
        set { decayMinutesValue.store(max(0, newValue), ordering: .relaxed) }
    }

    /// The clock's time in seconds since the Unix epoch.
    @inlinable
    package var unixSeconds: Int64 { seconds.load(ordering: .relaxed) }

    /// Sets the clock's time (the server calls it from its cron; tests, as they like).
    package func tick(unixSeconds: Int64) {
        seconds.store(max(0, unixSeconds), ordering: .relaxed)
    }

    /// Moves the clock's time forward to `unixSeconds`, never back (the server's cron
    /// calls it, so that a test that set the clock ahead keeps its time).
    package func advance(toUnixSeconds unixSeconds: Int64) {
        seconds.max(unixSeconds, ordering: .relaxed)
    }

    /// Redis's `LRU_CLOCK()`: seconds modulo 2^24.
    @inlinable
    package var recencyClock: UInt32 { UInt32(truncatingIfNeeded: unixSeconds) & Self.recencyClockMax }

    /// Redis's `LFUGetTimeInMinutes()`: minutes modulo 2^16.
    @inlinable
    package var minutesClock: UInt32 { UInt32(truncatingIfNeeded: unixSeconds / 60) & 0xFFFF }

    /// The word of a new entry: now, or the initial counter stamped with this minute.
    @inlinable
    package func newEntryWord() -> UInt32 {
        switch mode {
        case .recency: recencyClock
        case .frequency: minutesClock << 8 | Self.initialFrequency
        }
    }

    /// The word after one access: now (recency), or the decayed counter raised with
    /// probability `1 / ((counter - 5) * lfu-log-factor + 1)` (frequency: Redis's
    /// `updateLFU`). `random` is the caller's generator state (a shard's, under its lock).
    @inlinable
    package func touch(_ word: UInt32, random: inout UInt64) -> UInt32 {
        switch mode {
        case .recency:
            return recencyClock
        case .frequency:
            var counter = decayedFrequency(word)
            if counter < 255 {
                let base = counter > Self.initialFrequency ? counter - Self.initialFrequency : 0
                // p = 1 / (base * factor + 1), drawn as: a uniform 53-bit fraction below p.
                let denominator = Double(base) * Double(logFactor) + 1
                if denominator <= 1 || Self.nextFraction(&random) * denominator < 1 { counter += 1 }
            }
            return minutesClock << 8 | counter
        }
    }

    /// The counter of a frequency word after the decay since it was last touched (Redis's
    /// `LFUDecrAndReturn`): one less per `lfu-decay-time` minutes elapsed.
    @inlinable
    package func decayedFrequency(_ word: UInt32) -> UInt32 {
        let counter = word & 0xFF
        let decay = decayMinutes
        guard decay > 0 else { return counter }
        let last = word >> 8 & 0xFFFF
        let now = minutesClock
        let elapsed = now >= last ? now - last : 0xFFFF - last + now
        let periods = Int(elapsed) / decay
        return periods >= Int(counter) ? 0 : counter - UInt32(periods)
    }

    /// The milliseconds since the access a recency word records (Redis's
    /// `estimateObjectIdleTime`, with its resolution of one second).
    @inlinable
    package func idleMilliseconds(_ word: UInt32) -> Int64 {
        let now = recencyClock
        let last = word & Self.recencyClockMax
        let seconds = now >= last ? now - last : now + (Self.recencyClockMax - last)
        return Int64(seconds) * 1000
    }

    /// The word of a key last used `idleSeconds` ago (RESTORE's IDLETIME, as Redis's
    /// `objectSetLRUOrLFU`), in recency mode.
    package func recencyWord(idleSeconds: Int64) -> UInt32 {
        let idle = Int64(Self.recencyClockMax) < idleSeconds ? Int64(Self.recencyClockMax) : max(0, idleSeconds)
        var last = Int64(recencyClock) - idle
        if last < 0 { last += Int64(Self.recencyClockMax) }
        return UInt32(last)
    }

    /// The word of a key with LFU counter `frequency` (0...255) as of now (RESTORE's FREQ).
    package func frequencyWord(_ frequency: Int) -> UInt32 {
        minutesClock << 8 | UInt32(min(255, max(0, frequency)))
    }

    /// A uniform fraction in [0, 1) from a splitmix64 step of `state`.
    @inlinable
    static func nextFraction(_ state: inout UInt64) -> Double {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        z ^= z >> 31
        return Double(z >> 11) * 0x1.0p-53
    }
}

/// One entry a store sampled for eviction: its key, its access word and its deadline
/// (`0` = none).
@usableFromInline
package struct AccessSample<Key> {
    @usableFromInline package var key: Key
    @usableFromInline package var word: UInt32
    @usableFromInline package var expiresAt: Int64

    @inlinable
    package init(key: Key, word: UInt32, expiresAt: Int64) {
        self.key = key
        self.word = word
        self.expiresAt = expiresAt
    }
}

extension AccessSample: Sendable where Key: Sendable {}
