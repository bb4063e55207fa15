#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Byte-level helpers over a buffer's readable bytes. All offsets are relative to the start of
/// `bytes`, and every access is bounds-checked by the callers' guards or by the helpers themselves.
enum ByteScanning {
    /// The offset of the first `byte` in `bytes[from..<to]`, or nil.
    ///
    /// - Complexity: O(`to - from`), with `memchr`.
    @inline(__always)
    static func firstIndex(of byte: UInt8, in bytes: UnsafeRawBufferPointer, from: Int, to: Int) -> Int? {
        guard from < to, to <= bytes.count, from >= 0, let base = bytes.baseAddress else { return nil }
        guard let found = memchr(base + from, Int32(byte), to - from) else { return nil }
        return base.distance(to: UnsafeRawPointer(found))
    }

    /// The offset of the first `\r` at or after `from`, or nil: a plain loop over the first 16
    /// bytes (header lines are short, and a `memchr` call costs more than that), then `memchr`.
    ///
    /// - Complexity: O(distance to the `\r`).
    @inline(__always)
    static func firstCR(in bytes: UnsafeRawBufferPointer, from: Int) -> Int? {
        let count = bytes.count
        var index = max(from, 0)
        let shortEnd = min(count, index + 16)
        while index < shortEnd {
            if bytes[index] == ASCII.cr { return index }
            index += 1
        }
        return firstIndex(of: ASCII.cr, in: bytes, from: index, to: count)
    }

    /// What looking for a line terminator found.
    enum LineSearch {
        /// The line's `\r` is at this offset, and a `\n` follows it.
        case found(Int)
        /// No complete terminator yet; resume the search at this offset once more bytes arrive.
        case needMoreData(resumeAt: Int)
    }

    /// Finds the `\r\n` that ends the line starting at `lineStart`, the way Redis finds a header
    /// line: by looking for `\r`. A line is at most `maxLength` bytes long before its `\r`; a longer
    /// one is reported as soon as `maxLength + 1` bytes without `\r` are there, whatever the
    /// chunking, so the bytes buffered for one line stay bounded.
    ///
    /// - Parameters:
    ///   - searchFrom: where a previous, unfinished search stopped (`lineStart` at first).
    ///   - tooLong: the error to throw for a line over the limit.
    /// - Throws: `tooLong`; `.missingCRLF` when `\r` is followed by anything but `\n`.
    /// - Complexity: O(bytes not searched before), so a line fed byte by byte costs O(length) in total.
    @inline(__always)
    static func findCRLF(
        in bytes: UnsafeRawBufferPointer,
        lineStart: Int,
        searchFrom: Int,
        maxLength: Int,
        tooLong: RESPProtocolError
    ) throws(RESPProtocolError) -> LineSearch {
        let count = bytes.count
        let available = count - lineStart
        let windowEnd = available > maxLength ? lineStart + maxLength + 1 : count
        guard let cr = firstIndex(of: ASCII.cr, in: bytes, from: max(searchFrom, lineStart), to: windowEnd) else {
            if available > maxLength { throw tooLong }
            return .needMoreData(resumeAt: count)
        }
        guard cr + 1 < count else { return .needMoreData(resumeAt: cr) }
        guard bytes[cr + 1] == ASCII.lf else { throw RESPProtocolError(code: .missingCRLF) }
        return .found(cr)
    }

    /// The fast path of a header line: a type byte at `lineStart`, then a canonical non-negative
    /// decimal of at most 18 digits, then `\r\n`, all within `maxLength`. It accepts exactly what
    /// `findCRLF` followed by `parseStrictInteger` would accept for such a line, and returns nil
    /// for anything else (incomplete, negative, malformed), which the slow path then handles.
    ///
    /// - Returns: the number and the offset of the line's `\r`.
    /// - Complexity: O(digits), in one pass: no `memchr` and no second pass over the digits.
    @inline(__always)
    static func parseHeaderFast(_ bytes: UnsafeRawBufferPointer, lineStart: Int, maxLength: Int) -> (Int64, cr: Int)? {
        let count = bytes.count
        var index = lineStart + 1
        guard index < count else { return nil }
        var value: Int64 = 0
        if bytes[index] == ASCII.zero {
            index += 1
        } else {
            let limit = min(count, index + 18)
            while index < limit {
                let digit = bytes[index] &- ASCII.zero
                if digit > 9 { break }
                value = value &* 10 &+ Int64(digit)
                index += 1
            }
            guard index > lineStart + 1 else { return nil }
        }
        guard index + 1 < count, bytes[index] == ASCII.cr, bytes[index + 1] == ASCII.lf,
            index - lineStart <= maxLength
        else { return nil }
        return (value, index)
    }

    /// Parses `bytes[start..<end]` as a signed 64-bit decimal the way Redis's `string2ll` does for
    /// lengths: an optional `-`, then digits with no leading zero (but `0` itself), no `+`, no
    /// blanks, no overflow.
    ///
    /// - Returns: the value, or nil if the text is not such a number.
    /// - Complexity: O(`end - start`); at most 20 bytes are looked at.
    @inline(__always)
    static func parseStrictInteger(_ bytes: UnsafeRawBufferPointer, from start: Int, to end: Int) -> Int64? {
        guard start < end, end <= bytes.count, end - start <= 20 else { return nil }
        if end - start == 1 && bytes[start] == ASCII.zero { return 0 }
        var index = start
        let negative = bytes[index] == ASCII.minus
        if negative { index += 1 }
        guard index < end, bytes[index] > ASCII.zero, bytes[index] <= ASCII.nine else { return nil }
        return accumulate(bytes, from: index, to: end, negative: negative)
    }

    /// Parses `bytes[start..<end]` as a RESP integer (`:` replies): an optional `+` or `-`, then at
    /// least one digit (leading zeros allowed), within `Int64`.
    ///
    /// - Returns: the value, or nil if the text is not such a number.
    /// - Complexity: O(`end - start`).
    static func parseInteger(_ bytes: UnsafeRawBufferPointer, from start: Int, to end: Int) -> Int64? {
        guard start < end, end <= bytes.count else { return nil }
        var index = start
        let negative = bytes[index] == ASCII.minus
        if negative || bytes[index] == ASCII.plus { index += 1 }
        guard index < end else { return nil }
        while index < end - 1 && bytes[index] == ASCII.zero { index += 1 }
        guard end - index <= 19 else { return nil }
        return accumulate(bytes, from: index, to: end, negative: negative)
    }

    /// Accumulates the digits `bytes[start..<end]` (1 to 20 of them) into an `Int64`, or nil on a
    /// non-digit or overflow.
    @inline(__always)
    private static func accumulate(
        _ bytes: UnsafeRawBufferPointer,
        from start: Int,
        to end: Int,
        negative: Bool
    )
        -> Int64?
    {
        var magnitude: UInt64 = 0
        for index in start..<end {
            let digit = bytes[index] &- ASCII.zero
            guard digit <= 9 else { return nil }
            let (times10, overflow1) = magnitude.multipliedReportingOverflow(by: 10)
            let (sum, overflow2) = times10.addingReportingOverflow(UInt64(digit))
            guard !overflow1, !overflow2 else { return nil }
            magnitude = sum
        }
        if negative {
            guard magnitude <= UInt64(Int64.max) + 1 else { return nil }
            return magnitude == UInt64(Int64.max) + 1 ? Int64.min : -Int64(magnitude)
        }
        guard magnitude <= UInt64(Int64.max) else { return nil }
        return Int64(magnitude)
    }
}
