import KVS
import NIOCore

/// BITFIELD and BITFIELD_RO: signed and unsigned integers of 1 to 64 bits (unsigned up to
/// 63) at any bit offset of a string value, read, set and incremented with Redis 7.0's
/// overflow rules (bitops.c's `bitfieldGeneric`).
enum BitfieldCommand {
    static let all: [CommandSpec] = [
        .keyed(
            "bitfield",
            arity: -2,
            flags: [.write],
            keys: (1, 1, 1),
            group: "bitmap",
            summary: "Performs arbitrary bitfield integer operations on strings.",
            bitfield,
            bitfield
        ),
        .keyed(
            "bitfield_ro",
            arity: -2,
            flags: [.readonly, .fast],
            keys: (1, 1, 1),
            group: "bitmap",
            summary: "Performs arbitrary read-only bitfield integer operations on strings.",
            bitfield,
            bitfield
        ),
    ]

    enum Overflow { case wrap, sat, fail }
    enum Opcode { case get, set, incrby }

    /// One parsed operation.
    struct Operation {
        var opcode: Opcode
        var offset: Int64
        var bits: Int
        var signed: Bool
        var value: Int64
        var overflow: Overflow
    }

    static let typeError = CommandError(
        "ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is."
    )

    /// A type argument (`i1`…`i64`, `u1`…`u63`; lowercase only, read up to a NUL byte as
    /// Redis's `strlen` does).
    static func type(_ arg: ByteBuffer) throws(CommandError) -> (signed: Bool, bits: Int) {
        let view = arg.readableBytesView
        guard let first = view.first, first == UInt8(ascii: "i") || first == UInt8(ascii: "u") else {
            throw typeError
        }
        let signed = first == UInt8(ascii: "i")
        let digits = view.dropFirst().prefix { $0 != 0 }
        guard let bits = RedisNumber.parseInt64(digits), bits >= 1, bits <= (signed ? 64 : 63) else {
            throw typeError
        }
        return (signed, Int(bits))
    }

    static func bitfield<A: KeyAccess>(_ c: inout Call<A>) throws {
        let readOnlyCommand = c.name == "bitfield_ro"
        let limit = c.server.configuration.maxBulkLength
        var operations: [Operation] = []
        var overflow = Overflow.wrap
        var readonly = true
        var highestWrite: Int64 = 0
        var j = 2
        while j < c.count {
            let remaining = c.count - j - 1
            let opcode: Opcode
            switch c.option(j) {
            case "GET" where remaining >= 2: opcode = .get
            case "SET" where remaining >= 3: opcode = .set
            case "INCRBY" where remaining >= 3: opcode = .incrby
            case "OVERFLOW" where remaining >= 1:
                switch c.option(j + 1) {
                case "WRAP": overflow = .wrap
                case "SAT": overflow = .sat
                case "FAIL": overflow = .fail
                default: throw CommandError("ERR Invalid OVERFLOW type specified")
                }
                j += 2
                continue
            default:
                throw CommandError.syntax
            }
            let (signed, bits) = try type(c.args[j + 1])
            let offset = try BitmapCommands.bitOffset(
                c.args[j + 2],
                positional: true,
                bits: Int64(bits),
                limit: limit
            )
            var value: Int64 = 0
            if opcode != .get {
                readonly = false
                highestWrite = max(highestWrite, offset + Int64(bits) - 1)
                value = try c.integer(j + 3)
            }
            operations.append(
                Operation(opcode: opcode, offset: offset, bits: bits, signed: signed, value: value, overflow: overflow)
            )
            j += opcode == .get ? 3 : 4
        }

        let key = c.key(1)
        if readonly {
            let current = try BitmapCommands.readString(&c.access, key)
            c.arrayHeader(operations.count)
            for op in operations {
                let raw = current?.withUnsafeBytes { unsignedField($0, op.offset, op.bits) } ?? 0
                c.integer(reply: op.signed ? signExtended(raw, op.bits) : Int64(raw))
            }
            return
        }
        if readOnlyCommand { throw CommandError("ERR BITFIELD_RO only supports the GET subcommand") }

        let access = c.access
        // `highestWrite` is below the bulk limit in bits plus 64: its byte fits an Int.
        let needed = Int(highestWrite >> 3) + 1
        let replies: [Int64?] = try c.access.update(key) { entry, _ in
            let current = try entry?.value.string()
            var bytes = current?.array ?? []
            if bytes.count < needed { bytes.append(contentsOf: repeatElement(0, count: needed - bytes.count)) }
            let replies = bytes.withUnsafeMutableBytes { buffer in
                operations.map { run($0, on: buffer) }
            }
            entry = access.stamped(bytes, expiresAt: entry?.expiresAt ?? 0)
            return replies
        }
        c.writes += 1
        c.arrayHeader(replies.count)
        for reply in replies {
            if let reply { c.integer(reply: reply) } else { c.null() }
        }
    }

    /// Runs `op` on `buffer` (large enough for every write); its reply, nil for an
    /// overflow under FAIL (which writes nothing).
    static func run(_ op: Operation, on buffer: UnsafeMutableRawBufferPointer) -> Int64? {
        let old = unsignedField(UnsafeRawBufferPointer(buffer), op.offset, op.bits)
        if op.opcode == .get { return op.signed ? signExtended(old, op.bits) : Int64(bitPattern: old) }
        let stored: UInt64
        let reply: Int64
        var overflowed: Bool
        if op.signed {
            let oldValue = signExtended(old, op.bits)
            if op.opcode == .incrby {
                let (o, wrapped) = signedOverflow(oldValue, op.value, bits: op.bits, op.overflow)
                overflowed = o
                let new = o ? wrapped : oldValue &+ op.value
                (stored, reply) = (UInt64(bitPattern: new), new)
            } else {
                let (o, wrapped) = signedOverflow(op.value, 0, bits: op.bits, op.overflow)
                overflowed = o
                (stored, reply) = (UInt64(bitPattern: o ? wrapped : op.value), oldValue)
            }
        } else {
            if op.opcode == .incrby {
                let (o, wrapped) = unsignedOverflow(old, op.value, bits: op.bits, op.overflow)
                overflowed = o
                let new = o ? wrapped : old &+ UInt64(bitPattern: op.value)
                (stored, reply) = (new, Int64(bitPattern: new))
            } else {
                let (o, wrapped) = unsignedOverflow(UInt64(bitPattern: op.value), 0, bits: op.bits, op.overflow)
                overflowed = o
                (stored, reply) = (o ? wrapped : UInt64(bitPattern: op.value), Int64(bitPattern: old))
            }
        }
        if overflowed && op.overflow == .fail { return nil }
        setField(buffer, op.offset, op.bits, stored)
        return reply
    }

    /// The `bits` bits at bit `offset` of `bytes`, most significant first; bits past the
    /// end read as zero.
    static func unsignedField(_ bytes: UnsafeRawBufferPointer, _ offset: Int64, _ bits: Int) -> UInt64 {
        var value: UInt64 = 0
        var position = offset
        for _ in 0..<bits {
            let byte = Int(position >> 3)
            let bit: UInt64 = byte < bytes.count ? UInt64((bytes[byte] >> (7 - UInt8(position & 7))) & 1) : 0
            value = value << 1 | bit
            position += 1
        }
        return value
    }

    /// Writes the low `bits` bits of `value` at bit `offset` of `bytes`.
    static func setField(_ bytes: UnsafeMutableRawBufferPointer, _ offset: Int64, _ bits: Int, _ value: UInt64) {
        for j in 0..<bits {
            let bit = UInt8((value >> UInt64(bits - 1 - j)) & 1)
            let position = offset + Int64(j)
            let byte = Int(position >> 3)
            let shift = 7 - UInt8(position & 7)
            bytes[byte] = bytes[byte] & ~(1 << shift) | bit << shift
        }
    }

    /// `value`'s low `bits` bits read as a two's complement number.
    static func signExtended(_ value: UInt64, _ bits: Int) -> Int64 {
        guard bits < 64, value & (1 << UInt64(bits - 1)) != 0 else { return Int64(bitPattern: value) }
        return Int64(bitPattern: value | (UInt64.max << UInt64(bits)))
    }

    /// Redis's `checkUnsignedBitfieldOverflow`: whether `value + increment` leaves the
    /// `bits`-bit range, and the value WRAP or SAT gives then.
    static func unsignedOverflow(_ value: UInt64, _ increment: Int64, bits: Int, _ mode: Overflow) -> (Bool, UInt64) {
        let max: UInt64 = bits == 64 ? .max : (1 << UInt64(bits)) - 1
        let maxIncrement = Int64(bitPattern: max &- value)
        let minIncrement = Int64(bitPattern: 0 &- value)
        let wrapped = (value &+ UInt64(bitPattern: increment)) & ~(UInt64.max << UInt64(bits))
        if value > max || (increment > 0 && increment > maxIncrement) {
            return (true, mode == .wrap ? wrapped : max)
        }
        if increment < 0 && increment < minIncrement {
            return (true, mode == .wrap ? wrapped : 0)
        }
        return (false, 0)
    }

    /// Redis's `checkSignedBitfieldOverflow` (see ``unsignedOverflow(_:_:bits:_:)``).
    static func signedOverflow(_ value: Int64, _ increment: Int64, bits: Int, _ mode: Overflow) -> (Bool, Int64) {
        let max: Int64 = bits == 64 ? .max : (1 << Int64(bits - 1)) - 1
        let min = -max - 1
        let maxIncrement = Int64(bitPattern: UInt64(bitPattern: max) &- UInt64(bitPattern: value))
        let minIncrement = min &- value
        var wrapped = UInt64(bitPattern: value) &+ UInt64(bitPattern: increment)
        if bits < 64 {
            let mask = UInt64.max << UInt64(bits)
            wrapped = wrapped & (1 << UInt64(bits - 1)) != 0 ? wrapped | mask : wrapped & ~mask
        }
        if value > max || (bits != 64 && increment > maxIncrement)
            || (value >= 0 && increment > 0 && increment > maxIncrement)
        {
            return (true, mode == .wrap ? Int64(bitPattern: wrapped) : max)
        }
        if value < min || (bits != 64 && increment < minIncrement)
            || (value < 0 && increment < 0 && increment < minIncrement)
        {
            return (true, mode == .wrap ? Int64(bitPattern: wrapped) : min)
        }
        return (false, 0)
    }
}
