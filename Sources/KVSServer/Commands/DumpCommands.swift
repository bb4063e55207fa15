import KVS

/// DUMP and RESTORE: a key's value as a self-checking payload, and a key made from one.
///
/// The payload is kvs's own (``Persistence/dumpPayload(of:)``: the value's snapshot record,
/// a format version and a CRC-64), not Redis's RDB encoding, so payloads move between kvs
/// servers only. RESTORE follows Redis 7.0's cluster.c: options first, then BUSYKEY, the
/// TTL, and the payload's version and checksum, in that order. IDLETIME and FREQ set the
/// key's access word as Redis's `objectSetLRUOrLFU` does (not inside MULTI, where the key
/// is written at commit and starts as a new one).
enum DumpCommands {
    static let all: [CommandSpec] = [
        .keyed(
            "dump",
            arity: 2,
            flags: [.readonly],
            keys: (1, 1, 1),
            group: "generic",
            summary: "Return a serialized version of the value stored at the specified key.",
            dump,
            dump
        ),
        .keyed(
            "restore",
            arity: -4,
            flags: [.write],
            keys: (1, 1, 1),
            group: "generic",
            summary: "Create a key using the provided serialized value, previously obtained using DUMP.",
            restore,
            restore
        ),
    ]

    static func dump<A: KeyAccess>(_ c: inout Call<A>) throws {
        // A collection is a reference, safe to read once the shard's lock is released.
        let payload: StoredValue.Payload? = try c.access.read(c.key(1)) { entry, _ in entry?.value.payload }
        guard let payload else {
            c.null()
            return
        }
        do {
            c.bulk(try Persistence.dumpPayload(of: payload))
        } catch {
            throw CommandError("ERR \(error.message)")
        }
    }

    static func restore<A: KeyAccess>(_ c: inout Call<A>) throws {
        var replace = false
        var absoluteTTL = false
        var idleTime: Int64?
        var frequency: Int64?
        var j = 4
        while j < c.count {
            let more = j + 1 < c.count
            switch c.option(j) {
            case "REPLACE": replace = true
            case "ABSTTL": absoluteTTL = true
            case "IDLETIME" where more && frequency == nil:
                let idle = try c.integer(j + 1)
                guard idle >= 0 else { throw CommandError("ERR Invalid IDLETIME value, must be >= 0") }
                idleTime = idle
                j += 1
            case "FREQ" where more && idleTime == nil:
                let freq = try c.integer(j + 1)
                guard freq >= 0, freq <= 255 else {
                    throw CommandError("ERR Invalid FREQ value, must be >= 0 and <= 255")
                }
                frequency = freq
                j += 1
            default:
                throw CommandError.syntax
            }
            j += 1
        }
        // Checked in Redis's order once the key is known to be free; decoded before the
        // key's lock is taken.
        let ttl = RedisNumber.parseInt64(c.args[2].readableBytesView)
        let server = c.server
        let decoded = Persistence.restorePayload(
            c.bytes(3),
            limits: ValueLimits(
                hash: server.hashLimits,
                list: server.listLimits,
                set: server.setLimits,
                zset: server.zsetLimits
            )
        )
        let key = c.key(1)
        let stamps = c.access.stamps
        let changed: Bool = try c.access.update(key) { entry, now in
            if !replace, entry != nil { throw CommandError("BUSYKEY Target key name already exists.") }
            guard let ttl else { throw CommandError.notInteger }
            guard ttl >= 0 else { throw CommandError("ERR Invalid TTL value, must be >= 0") }
            let payload: StoredValue.Payload
            switch decoded {
            case .success(let p): payload = p
            case .failure(.versionOrChecksum): throw CommandError("ERR DUMP payload version or checksum are wrong")
            case .failure(.badFormat): throw CommandError("ERR Bad data format")
            }
            let nowMs = now / 1_000_000
            var expiresAt: Int64 = 0
            if ttl != 0 {
                // Redis adds the TTL to the clock in 64 bits: a sum past the largest is
                // negative there, so already past.
                let (deadlineMs, overflow) = absoluteTTL ? (ttl, false) : ttl.addingReportingOverflow(nowMs)
                if overflow || deadlineMs <= nowMs {
                    let existed = entry != nil
                    entry = nil
                    return existed
                }
                let (ns, tooFar) = deadlineMs.multipliedReportingOverflow(by: 1_000_000)
                expiresAt = tooFar ? Int64.max : ns
            }
            entry = Entry(value: StoredValue(payload: payload, stamp: stamps.take()), expiresAt: expiresAt)
            return true
        }
        if changed {
            c.writes += 1
            c.signalReady(key)
            // IDLETIME under an LRU (or no) policy, FREQ under an LFU one, as Redis's
            // `objectSetLRUOrLFU`; the other is ignored.
            let clock = server.maxMemory.clock
            if server.maxMemory.policy.usesFrequency {
                if let frequency { try c.access.setAccessWord(key, clock.frequencyWord(Int(frequency))) }
            } else if let idleTime {
                try c.access.setAccessWord(key, clock.recencyWord(idleSeconds: idleTime))
            }
        }
        c.ok()
    }
}
