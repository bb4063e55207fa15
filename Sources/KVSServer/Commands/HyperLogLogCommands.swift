import KVS
import NIOCore

/// HyperLogLog commands: PFADD, PFCOUNT, PFMERGE, on string values in Redis's format
/// (``HyperLogLog``), so that counts and stored bytes equal Redis's.
enum HyperLogLogCommands {
    static let all: [CommandSpec] = [
        .keyed(
            "pfadd",
            arity: -2,
            flags: [.write, .fast],
            keys: (1, 1, 1),
            group: "hyperloglog",
            summary: "Adds elements to a HyperLogLog key. Creates the key if it doesn't exist.",
            pfadd,
            pfadd
        ),
        .keyed(
            "pfcount",
            arity: -2,
            flags: [.readonly],
            keys: (1, -1, 1),
            group: "hyperloglog",
            summary: "Returns the approximated cardinality of the set(s) observed by the HyperLogLog key(s).",
            pfcount,
            pfcount
        ),
        .keyed(
            "pfmerge",
            arity: -2,
            flags: [.write],
            keys: (1, -1, 1),
            group: "hyperloglog",
            summary: "Merges one or more HyperLogLog values into a single key.",
            pfmerge,
            pfmerge
        ),
    ]

    /// The bytes of the HyperLogLog in `entry` (nil when absent).
    ///
    /// - Throws: ``CommandError/wrongType`` for a value that is not a string, and
    ///   ``HyperLogLog/notValid`` for a string that is not a HyperLogLog.
    static func sketch(_ entry: Entry<StoredValue>?) throws -> ValueBytes? {
        guard let value = try entry?.value.string() else { return nil }
        guard value.withUnsafeBytes({ HyperLogLog.isValid($0) }) else { throw HyperLogLog.notValid }
        return value
    }

    static func pfadd<A: KeyAccess>(_ c: inout Call<A>) throws {
        let key = c.key(1)
        let elements = c.args[2...]
        let access = c.access
        let sparseMaxBytes = c.server.hllSparseMaxBytes
        let (updated, failed): (Bool, Bool) = try c.access.update(key) { entry, _ in
            var bytes: [UInt8]
            var updated = false
            if let existing = try sketch(entry) {
                // A dense sketch that no element raises is left as it is, without a copy of
                // its 12 KB: the common case once a sketch has seen many elements.
                if existing[4] == HyperLogLog.dense, !raisesAny(existing, elements) { return (false, false) }
                bytes = existing.array
            } else {
                bytes = HyperLogLog.empty()
                updated = true
            }
            var failed = false
            var changedAny = false
            for element in elements {
                switch element.withUnsafeReadableBytes({ HyperLogLog.add(&bytes, $0, sparseMaxBytes: sparseMaxBytes) })
                {
                case .changed: changedAny = true
                case .unchanged: break
                case .corrupt: failed = true
                }
                if failed { break }
            }
            updated = updated || changedAny
            // A corrupt sketch keeps what the elements before the error changed, as in Redis.
            if updated || changedAny {
                if !failed { HyperLogLog.invalidateCache(&bytes) }
                entry = access.stamped(bytes, expiresAt: entry?.expiresAt ?? 0)
            }
            return (updated, failed)
        }
        if failed { throw HyperLogLog.corrupt }
        if updated { c.writes += 1 }
        c.integer(reply: updated ? 1 : 0)
    }

    /// Whether any of `elements` would raise a register of the dense sketch `bytes`.
    static func raisesAny(_ bytes: ValueBytes, _ elements: ArraySlice<ByteBuffer>) -> Bool {
        bytes.withUnsafeBytes { raw in
            elements.contains { element in
                let (index, count) = element.withUnsafeReadableBytes { HyperLogLog.pattern($0) }
                return count > HyperLogLog.denseRegister(raw, base: HyperLogLog.headerSize, index)
            }
        }
    }

    static func pfcount<A: KeyAccess>(_ c: inout Call<A>) throws {
        if c.count > 2 {
            // The count of the union, leaving every key as it is.
            let keys = (1..<c.count).map { c.key($0) }
            let registers: [UInt8] = try c.access.atomically { access in
                var registers = [UInt8](repeating: 0, count: HyperLogLog.registerCount)
                for key in keys {
                    guard let bytes = try access.read(key, { entry, _ in try sketch(entry) }) else { continue }
                    guard bytes.withUnsafeBytes({ HyperLogLog.merge(into: &registers, $0) }) else {
                        throw HyperLogLog.corrupt
                    }
                }
                return registers
            }
            let count = HyperLogLog.estimate(HyperLogLog.histogram(registers: registers))
            c.integer(reply: Int64(bitPattern: count))
            return
        }
        // One key: the cached count, or a fresh one written back to the cache (a write,
        // as in Redis: WATCH sees it).
        let key = c.key(1)
        let access = c.access
        let (count, wrote): (UInt64, Bool) = try c.access.update(key) { entry, _ in
            guard let bytes = try sketch(entry) else { return (0, false) }
            if let cached = bytes.withUnsafeBytes({ HyperLogLog.cachedCount($0) }) { return (cached, false) }
            guard let histogram = bytes.withUnsafeBytes({ HyperLogLog.histogram($0) }) else {
                throw HyperLogLog.corrupt
            }
            let count = HyperLogLog.estimate(histogram)
            var updated = bytes.array
            HyperLogLog.storeCache(&updated, count)
            entry = access.stamped(updated, expiresAt: entry?.expiresAt ?? 0)
            return (count, true)
        }
        if wrote { c.writes += 1 }
        c.integer(reply: Int64(bitPattern: count))
    }

    static func pfmerge<A: KeyAccess>(_ c: inout Call<A>) throws {
        let destination = c.key(1)
        let sparseMaxBytes = c.server.hllSparseMaxBytes
        // The destination is the first source too, as in Redis.
        let keys = (1..<c.count).map { c.key($0) }
        try c.access.atomically { access in
            var registers = [UInt8](repeating: 0, count: HyperLogLog.registerCount)
            var useDense = false
            for key in keys {
                guard let bytes = try access.read(key, { entry, _ in try sketch(entry) }) else { continue }
                if bytes[4] == HyperLogLog.dense { useDense = true }
                guard bytes.withUnsafeBytes({ HyperLogLog.merge(into: &registers, $0) }) else {
                    throw HyperLogLog.corrupt
                }
            }
            let fresh = access.stamps.take()
            try access.update(destination) { entry, _ in
                var bytes = try sketch(entry)?.array ?? HyperLogLog.empty()
                if useDense, bytes[4] == HyperLogLog.sparse {
                    guard let dense = HyperLogLog.sparseToDense(bytes) else { throw HyperLogLog.corrupt }
                    bytes = dense
                }
                for (i, value) in registers.enumerated() where value != 0 {
                    if bytes[4] == HyperLogLog.dense {
                        _ = HyperLogLog.denseSet(&bytes, i, value)
                    } else {
                        _ = HyperLogLog.sparseSet(&bytes, i, value, maxBytes: sparseMaxBytes)
                    }
                }
                HyperLogLog.invalidateCache(&bytes)
                entry = Entry(
                    value: StoredValue(bytes: ValueBytes(bytes), stamp: fresh),
                    expiresAt: entry?.expiresAt ?? 0
                )
            }
        }
        c.writes += 1
        c.ok()
    }
}
