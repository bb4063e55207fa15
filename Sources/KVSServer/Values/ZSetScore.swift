import NIOCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Sorted-set scores and ranges as Redis 7.0 reads and writes them (t_zset.c, object.c,
/// util.c).
enum ZScore {
    /// A score argument, as Redis's `getDoubleFromObject` reads it: `strtod` over the whole
    /// argument, with no leading space, not empty, not NaN, and not out of range (`1e400`
    /// and `1e-400` are refused; `inf`, `-inf`, hexadecimal are accepted).
    static func parse(_ bytes: ByteBufferView) -> Double? {
        guard let first = bytes.first, !isSpace(first) else { return nil }
        return withCString(bytes) { start, count in
            var end: UnsafeMutablePointer<CChar>? = nil
            errno = 0
            let value = strtod(start, &end)
            guard let end, end - UnsafeMutablePointer(mutating: start) == count else { return nil }
            if value.isNaN { return nil }
            if errno == ERANGE, value.isInfinite || value == 0 { return nil }
            return value
        }
    }

    /// One end of a score range, as Redis's `zslParseRange` reads it: an optional `(`
    /// (exclusive), then `strtod` up to the argument's first NUL byte, which must consume
    /// it all and not be NaN. Looser than ``parse(_:)``: leading spaces, an empty text
    /// (0) and out-of-range values (±inf, 0) pass, as in Redis.
    static func parseBound(_ bytes: ByteBufferView) -> (value: Double, exclusive: Bool)? {
        var text = bytes[...]
        if let nul = text.firstIndex(of: 0) { text = text[..<nul] }
        var exclusive = false
        if text.first == UInt8(ascii: "(") {
            exclusive = true
            text = text.dropFirst()
        }
        let value: Double? = withCString(ByteBufferView(text)) { start, count in
            var end: UnsafeMutablePointer<CChar>? = nil
            let value = strtod(start, &end)
            guard let end, end - UnsafeMutablePointer(mutating: start) == count, !value.isNaN else { return nil }
            return value
        }
        return value.map { ($0, exclusive) }
    }

    /// Calls `body` with `bytes` as a NUL-terminated C string and its length (a NUL byte
    /// inside makes it shorter than the count, so a full parse fails).
    private static func withCString<R>(_ bytes: ByteBufferView, _ body: (UnsafePointer<CChar>, Int) -> R?) -> R? {
        guard bytes.count <= 64 * 1024 else { return nil }
        var chars = Array(bytes)
        chars.append(0)
        return chars.withUnsafeBufferPointer { buffer in
            buffer.baseAddress!.withMemoryRebound(to: CChar.self, capacity: buffer.count) { body($0, bytes.count) }
        }
    }

    private static func isSpace(_ byte: UInt8) -> Bool { byte == 0x20 || (byte >= 0x09 && byte <= 0x0D) }

    /// `value` as Redis 7.0 replies with it (`addReplyDouble`): `inf`, `-inf`, or
    /// `printf("%.17g")`, so 0.1 is `0.10000000000000001` and 3.0 is `3`.
    static func format(_ value: Double) -> [UInt8] {
        if value.isInfinite { return value > 0 ? Array("inf".utf8) : Array("-inf".utf8) }
        // `%.17g` prints an integral value below 1e17 as its digits: the integer path is
        // the same text without `vsnprintf`.
        if value == value.rounded(.towardZero), abs(value) < 1e17 {
            if value == 0 { return value.sign == .minus ? Array("-0".utf8) : [UInt8(ascii: "0")] }
            return Array(String(Int64(value)).utf8)
        }
        return printf17g(value)
    }

    /// `value` as a listpack holds it and ZSCAN answers it (Redis's `d2string`): an
    /// integral value within ±(2^63-1)/2 as an integer, else as ``format(_:)``.
    static func formatPacked(_ value: Double) -> [UInt8] {
        let limit = Double(Int64.max / 2)
        if value.isFinite, value == value.rounded(.towardZero), value >= -limit, value <= limit {
            return Array(String(Int64(value)).utf8)
        }
        return format(value)
    }

    private static func printf17g(_ value: Double) -> [UInt8] {
        var buffer = [CChar](repeating: 0, count: 40)
        let n = buffer.withUnsafeMutableBufferPointer { out in
            withVaList([value]) { vsnprintf(out.baseAddress!, out.count, "%.17g", $0) }
        }
        return buffer.prefix(Int(max(0, min(n, 39)))).map { UInt8(bitPattern: $0) }
    }
}

/// A range of scores (ZRANGEBYSCORE, ZCOUNT, ZREMRANGEBYSCORE), ends included unless
/// exclusive.
struct ZScoreRange {
    var min: Double
    var minExclusive: Bool
    var max: Double
    var maxExclusive: Bool

    /// Reads `min` and `max` as Redis's `zslParseRange`.
    ///
    /// - Throws: `ERR min or max is not a float`.
    init(min: ByteBufferView, max: ByteBufferView) throws(CommandError) {
        guard let low = ZScore.parseBound(min), let high = ZScore.parseBound(max) else {
            throw CommandError("ERR min or max is not a float")
        }
        (self.min, minExclusive, self.max, maxExclusive) = (low.value, low.exclusive, high.value, high.exclusive)
    }

    /// The ranks of the members in the range. O(log n) for a skip list.
    func ranks(in zset: ZSetValue) -> Range<Int> {
        let (min, minExclusive, max, maxExclusive) = (self.min, self.minExclusive, self.max, self.maxExclusive)
        let low = zset.countPrefix { score, _ in minExclusive ? score <= min : score < min }
        let high = zset.countPrefix { score, _ in maxExclusive ? score < max : score <= max }
        return low..<Swift.max(low, high)
    }
}

/// A range of members by bytes (ZRANGEBYLEX, ZLEXCOUNT, ZREMRANGEBYLEX), meaningful when
/// every score is equal, as in Redis.
struct ZLexRange {
    enum Bound {
        case negativeInfinity
        case positiveInfinity
        case inclusive([UInt8])
        case exclusive([UInt8])

        /// Redis's `zslParseLexRangeItem`: `-`, `+` (alone, or before a NUL byte), or `[`
        /// or `(` then the bytes.
        init?(_ bytes: ByteBufferView) {
            guard let first = bytes.first else { return nil }
            let rest = Array(bytes.dropFirst())
            switch first {
            case UInt8(ascii: "+"):
                guard rest.first ?? 0 == 0 else { return nil }
                self = .positiveInfinity
            case UInt8(ascii: "-"):
                guard rest.first ?? 0 == 0 else { return nil }
                self = .negativeInfinity
            case UInt8(ascii: "["): self = .inclusive(rest)
            case UInt8(ascii: "("): self = .exclusive(rest)
            default: return nil
            }
        }
    }

    var min: Bound
    var max: Bound

    /// Reads `min` and `max` as Redis's `zslParseLexRange`.
    ///
    /// - Throws: `ERR min or max not valid string range item`.
    init(min: ByteBufferView, max: ByteBufferView) throws(CommandError) {
        guard let low = Bound(min), let high = Bound(max) else {
            throw CommandError("ERR min or max not valid string range item")
        }
        self.min = low
        self.max = high
    }

    /// The ranks of the members in the range. O(log n) for a skip list.
    func ranks(in zset: ZSetValue) -> Range<Int> {
        let low: Int
        switch min {
        case .negativeInfinity: low = 0
        case .positiveInfinity: low = zset.count
        case .inclusive(let bound):
            low = bound.withUnsafeBytes { b in zset.countPrefix { _, member in compareMembers(member, b) < 0 } }
        case .exclusive(let bound):
            low = bound.withUnsafeBytes { b in zset.countPrefix { _, member in compareMembers(member, b) <= 0 } }
        }
        let high: Int
        switch max {
        case .negativeInfinity: high = 0
        case .positiveInfinity: high = zset.count
        case .inclusive(let bound):
            high = bound.withUnsafeBytes { b in zset.countPrefix { _, member in compareMembers(member, b) <= 0 } }
        case .exclusive(let bound):
            high = bound.withUnsafeBytes { b in zset.countPrefix { _, member in compareMembers(member, b) < 0 } }
        }
        return low..<Swift.max(low, high)
    }
}

extension Call {
    /// Writes a score: a double (`,`) in RESP3, a bulk string in RESP2, formatted as
    /// Redis 7.0 does (``ZScore/format(_:)``).
    mutating func score(_ value: Double) {
        let text = ZScore.format(value)
        if encoder.version == .resp3 {
            out.writeInteger(UInt8(ascii: ","))
            out.writeBytes(text)
            out.writeStaticString("\r\n")
        } else {
            bulk(text)
        }
    }
}
