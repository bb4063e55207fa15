import KVS
import NIOCore

/// Bitmap commands on string values: SETBIT, GETBIT, BITCOUNT, BITPOS, BITOP, as Redis 7.0's
/// bitops.c has them (bit 0 is the most significant bit of the first byte).
enum BitmapCommands {
    static let all: [CommandSpec] = [
        .keyed(
            "setbit",
            arity: 4,
            flags: [.write],
            keys: (1, 1, 1),
            group: "bitmap",
            summary:
                "Sets or clears the bit at offset of the string value. Creates the key if it doesn't exist.",
            setbit,
            setbit
        ),
        .keyed(
            "getbit",
            arity: 3,
            flags: [.readonly, .fast],
            keys: (1, 1, 1),
            group: "bitmap",
            summary: "Returns a bit value by offset.",
            getbit,
            getbit
        ),
        .keyed(
            "bitcount",
            arity: -2,
            flags: [.readonly],
            keys: (1, 1, 1),
            group: "bitmap",
            summary: "Counts the number of set bits (population counting) in a string.",
            bitcount,
            bitcount
        ),
        .keyed(
            "bitpos",
            arity: -3,
            flags: [.readonly],
            keys: (1, 1, 1),
            group: "bitmap",
            summary: "Finds the first set (1) or clear (0) bit in a string.",
            bitpos,
            bitpos
        ),
        .keyed(
            "bitop",
            arity: -4,
            flags: [.write],
            keys: (2, -1, 1),
            group: "bitmap",
            summary: "Performs bitwise operations on multiple strings, and stores the result.",
            bitop,
            bitop
        ),
    ]

    static let offsetError = CommandError("ERR bit offset is not an integer or out of range")
    static let bitError = CommandError("ERR bit is not an integer or out of range")

    /// A bit offset argument as Redis's `getBitOffsetFromArgument` reads it: `#n` (when
    /// `positional`) means `n * bits` (wrapping, as Redis's multiplication does), and the
    /// byte it names must lie below `proto-max-bulk-len`.
    static func bitOffset(_ arg: ByteBuffer, positional: Bool, bits: Int64, limit: Int) throws(CommandError) -> Int64 {
        let view = arg.readableBytesView
        let hash = positional && view.count > 1 && view.first == UInt8(ascii: "#")
        guard var n = RedisNumber.parseInt64(hash ? view.dropFirst() : view) else { throw offsetError }
        if hash { n = n &* bits }
        guard n >= 0, n >> 3 < Int64(limit) else { throw offsetError }
        return n
    }

    /// The string at `key` (nil when absent; a reference, so reading it after the shard's
    /// lock is released is safe).
    static func readString<A: KeyAccess>(_ access: inout A, _ key: ByteKey) throws -> ValueBytes? {
        try access.read(key) { entry, _ in try entry?.value.string() }
    }

    static func setbit<A: KeyAccess>(_ c: inout Call<A>) throws {
        let offset = try bitOffset(c.args[2], positional: false, bits: 0, limit: c.server.configuration.maxBulkLength)
        guard let on = RedisNumber.parseInt64(c.args[3].readableBytesView), on & ~1 == 0 else { throw bitError }
        let key = c.key(1)
        let access = c.access
        // `offset` is below the bulk limit in bits, so its byte is an Int with room for one more.
        let byte = Int(offset >> 3)
        let shift = 7 - Int(offset & 7)
        let (old, changed): (UInt8, Bool) = try c.access.update(key) { entry, _ in
            let current = try entry?.value.string()
            let count = current?.count ?? 0
            let oldBit: UInt8 = byte < count ? current!.withUnsafeBytes { ($0[byte] >> shift) & 1 } : 0
            // Redis writes (and WATCH sees) only a new key, a grown one, or a changed bit.
            guard entry == nil || byte >= count || Int64(oldBit) != on else { return (oldBit, false) }
            let bytes = ValueBytes(count: Swift.max(count, byte + 1)) { target in
                if let current { current.withUnsafeBytes { target.copyMemory(from: $0) } }
                if byte >= count {
                    UnsafeMutableRawBufferPointer(rebasing: target[count...]).initializeMemory(
                        as: UInt8.self,
                        repeating: 0
                    )
                }
                var value = target[byte] & ~(1 << shift)
                value |= UInt8(on) << shift
                target[byte] = value
            }
            entry = access.stamped(bytes, expiresAt: entry?.expiresAt ?? 0)
            return (oldBit, true)
        }
        if changed { c.writes += 1 }
        c.integer(reply: Int(old))
    }

    static func getbit<A: KeyAccess>(_ c: inout Call<A>) throws {
        let offset = try bitOffset(c.args[2], positional: false, bits: 0, limit: c.server.configuration.maxBulkLength)
        let key = c.key(1)
        let byte = Int(offset >> 3)
        let shift = 7 - Int(offset & 7)
        let bit: UInt8 = try c.access.read(key) { entry, _ in
            guard let value = try entry?.value.string(), byte < value.count else { return 0 }
            return value.withUnsafeBytes { ($0[byte] >> shift) & 1 }
        }
        c.integer(reply: Int(bit))
    }

    /// A BITCOUNT or BITPOS range in bits: `start` and `end` (bytes, or bits with `isBit`)
    /// clamped as Redis clamps them against a string of `length` bytes; nil when empty.
    static func bitRange(start: Int64, end: Int64, isBit: Bool, length: Int) -> ClosedRange<Int64>? {
        let total = isBit ? Int64(length) << 3 : Int64(length)
        var (start, end) = (start, end)
        if start < 0 { start = total + start }
        if end < 0 { end = total + end }
        if start < 0 { start = 0 }
        if end < 0 { end = 0 }
        if end >= total { end = total - 1 }
        guard start <= end else { return nil }
        return isBit ? start...end : (start << 3)...((end << 3) + 7)
    }

    /// BYTE or BIT (any case), else a syntax error.
    static func unit(_ option: String) throws(CommandError) -> Bool {
        switch option {
        case "BIT": return true
        case "BYTE": return false
        default: throw .syntax
        }
    }

    static func bitcount<A: KeyAccess>(_ c: inout Call<A>) throws {
        // Redis 7.0 looks the key up before it reads the range: a missing key counts 0
        // whatever the arguments.
        guard let value = try readString(&c.access, c.key(1)) else {
            c.integer(reply: 0)
            return
        }
        let range: ClosedRange<Int64>?
        switch c.count {
        case 2:
            range = value.count == 0 ? nil : 0...(Int64(value.count) << 3 - 1)
        case 4, 5:
            let start = try c.integer(2)
            let end = try c.integer(3)
            // Two negative indices out of order are empty before any clamping, and before
            // the unit is read (BITPOS has no such rule: there they clamp).
            if start < 0 && end < 0 && start > end {
                c.integer(reply: 0)
                return
            }
            let isBit = c.count == 5 ? try unit(c.option(4)) : false
            range = bitRange(start: start, end: end, isBit: isBit, length: value.count)
        default:
            throw CommandError.syntax
        }
        guard let range else {
            c.integer(reply: 0)
            return
        }
        c.integer(reply: value.withUnsafeBytes { popcount($0, bits: range) })
    }

    /// The number of set bits of `bytes` in the bit range `bits` (inside the bytes): whole
    /// 64-bit words counted with the population-count instruction, the edges by masking.
    static func popcount(_ bytes: UnsafeRawBufferPointer, bits: ClosedRange<Int64>) -> Int {
        let first = Int(bits.lowerBound >> 3)
        let last = Int(bits.upperBound >> 3)
        var count = 0
        var i = first
        while i + 8 <= last + 1 {
            count += UInt64(littleEndian: bytes.loadUnaligned(fromByteOffset: i, as: UInt64.self)).nonzeroBitCount
            i += 8
        }
        while i <= last {
            count += bytes[i].nonzeroBitCount
            i += 1
        }
        // Take back the bits of the edge bytes that lie outside the range.
        let head = Int(bits.lowerBound & 7)
        if head > 0 { count -= (bytes[first] >> (8 - head)).nonzeroBitCount }
        let tail = 7 - Int(bits.upperBound & 7)
        if tail > 0 { count -= (bytes[last] & UInt8((1 << tail) - 1)).nonzeroBitCount }
        return count
    }

    /// The first bit equal to `bit` in the bit range `bits` of `bytes`, or nil.
    static func firstBit(_ bytes: UnsafeRawBufferPointer, _ bit: Bool, in bits: ClosedRange<Int64>) -> Int64? {
        let first = Int(bits.lowerBound >> 3)
        let last = Int(bits.upperBound >> 3)
        let skip: UInt8 = bit ? 0x00 : 0xFF
        var i = first
        while i <= last {
            var b = bit ? bytes[i] : ~bytes[i]
            if i == first { b &= 0xFF >> UInt8(bits.lowerBound & 7) }
            if i == last { b &= 0xFF << UInt8(7 - (bits.upperBound & 7)) }
            if b != 0 { return Int64(i) << 3 + Int64(b.leadingZeroBitCount) }
            i += 1
            // Whole words of nothing to find are skipped eight bytes at a time.
            let word = UInt64(skip) * 0x0101_0101_0101_0101
            while i + 8 <= last, bytes.loadUnaligned(fromByteOffset: i, as: UInt64.self) == word { i += 8 }
        }
        return nil
    }

    static func bitpos<A: KeyAccess>(_ c: inout Call<A>) throws {
        let bitArgument = try c.integer(2)
        guard bitArgument == 0 || bitArgument == 1 else { throw CommandError("ERR The bit argument must be 1 or 0.") }
        let bit = bitArgument == 1
        guard let value = try readString(&c.access, c.key(1)) else {
            // A missing key is an endless run of zeros.
            c.integer(reply: bit ? -1 : 0)
            return
        }
        let range: ClosedRange<Int64>?
        var endGiven = false
        switch c.count {
        case 3:
            range = value.count == 0 ? nil : 0...(Int64(value.count) << 3 - 1)
        case 4, 5, 6:
            let start = try c.integer(3)
            let isBit = c.count == 6 ? try unit(c.option(5)) : false
            var end = Int64(value.count) << (isBit ? 3 : 0) - 1
            if c.count >= 5 {
                end = try c.integer(4)
                endGiven = true
            }
            range = bitRange(start: start, end: end, isBit: isBit, length: value.count)
        default:
            throw CommandError.syntax
        }
        guard let range else {
            c.integer(reply: -1)
            return
        }
        if let found = value.withUnsafeBytes({ firstBit($0, bit, in: range) }) {
            c.integer(reply: found)
        } else if bit || endGiven {
            c.integer(reply: -1)
        } else {
            // Looking for a clear bit with no end given: the string reads as padded with zeros.
            c.integer(reply: range.upperBound + 1)
        }
    }

    /// A BITOP operation.
    enum BitOperation { case and, or, xor, not }

    static func bitop<A: KeyAccess>(_ c: inout Call<A>) throws {
        let operation: BitOperation
        switch c.option(1) {
        case "AND": operation = .and
        case "OR": operation = .or
        case "XOR": operation = .xor
        case "NOT": operation = .not
        default: throw CommandError.syntax
        }
        if operation == .not, c.count != 4 {
            throw CommandError("ERR BITOP NOT must be called with a single source key.")
        }
        let destination = c.key(2)
        let sources = (3..<c.count).map { c.key($0) }
        let (length, wrote): (Int, Bool) = try c.access.atomically { access in
            let values = try sources.map { try readString(&access, $0) }
            let length = values.reduce(0) { Swift.max($0, $1?.count ?? 0) }
            guard length > 0 else {
                // An empty result deletes the destination, as Redis does.
                let existed: Bool = try access.update(destination) { entry, _ in
                    defer { entry = nil }
                    return entry != nil
                }
                return (0, existed)
            }
            var result = [UInt8](repeating: 0, count: length)
            result.withUnsafeMutableBytes { out in
                for (n, value) in values.enumerated() {
                    let count = value?.count ?? 0
                    func combine(_ src: UnsafeRawBufferPointer) {
                        if n == 0 {
                            if count > 0 { out.copyMemory(from: UnsafeRawBufferPointer(rebasing: src[0..<count])) }
                            if operation == .not { for i in 0..<length { out[i] = ~out[i] } }
                            return
                        }
                        switch operation {
                        case .and:
                            for i in 0..<length { out[i] &= i < count ? src[i] : 0 }
                        case .or:
                            for i in 0..<count { out[i] |= src[i] }
                        case .xor:
                            for i in 0..<count { out[i] ^= src[i] }
                        case .not:
                            break
                        }
                    }
                    if let value {
                        value.withUnsafeBytes { combine($0) }
                    } else {
                        combine(UnsafeRawBufferPointer(start: nil, count: 0))
                    }
                }
            }
            // The destination takes the result whatever it held, and loses its TTL.
            let fresh = access.stamped(result)
            try access.update(destination) { entry, _ in entry = fresh }
            return (length, true)
        }
        if wrote { c.writes += 1 }
        c.integer(reply: length)
    }
}
