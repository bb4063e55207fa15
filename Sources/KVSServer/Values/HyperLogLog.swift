#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Redis's HyperLogLog, byte for byte (hyperloglog.c): a string value that starts with the
/// 16-byte header `HYLL`, an encoding byte (0 dense, 1 sparse), three reserved bytes and
/// the cached cardinality (8 bytes, little endian; the top bit of the last byte set when
/// the cache is stale), then 16,384 six-bit registers, either packed (dense, 12,288 bytes)
/// or run-length coded (sparse: ZERO, XZERO and VAL opcodes).
///
/// The same format as Redis, so that GET, SET and DUMP of a key round-trip between the two
/// servers and every count equals Redis's: elements are hashed with MurmurHash64A (seed
/// `0xadc83b19`), the low 14 bits pick a register and the run of zeros after them sets
/// it, and the count is Ertl's estimator ("New cardinality estimation algorithms for
/// HyperLogLog sketches", arXiv:1702.01284) as Redis 7 computes it.
///
/// Every function reads only within the bytes it is given: a string that only looks like
/// a HyperLogLog (any SET can store one) is reported as corrupt, never trusted.
///
/// Thread-safety: a namespace of pure functions on values the caller owns.
enum HyperLogLog {
    static let precision = 14
    static let registerCount = 1 << precision
    /// Bits of the hash left after the register index.
    static let q = 64 - precision
    static let registerMax: UInt8 = 63
    static let headerSize = 16
    static let denseSize = headerSize + (registerCount * 6 + 7) / 8
    static let dense: UInt8 = 0
    static let sparse: UInt8 = 1
    /// Redis's `hll-sparse-max-bytes` default: a sparse HyperLogLog that would grow past
    /// it becomes dense (the setting passes its value to ``sparseSet(_:_:_:maxBytes:)``).
    static let defaultSparseMaxBytes = 3000
    static let sparseValueMaxValue = 32
    static let sparseValueMaxLength = 4
    static let sparseZeroMaxLength = 64
    static let sparseXZeroMaxLength = 16384

    static let notValid = CommandError("WRONGTYPE Key is not a valid HyperLogLog string value.")
    static let corrupt = CommandError("INVALIDOBJ Corrupted HLL object detected")

    /// A new, empty HyperLogLog: sparse, one XZERO run over every register, count 0.
    static func empty() -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: headerSize)
        bytes[0] = UInt8(ascii: "H")
        bytes[1] = UInt8(ascii: "Y")
        bytes[2] = UInt8(ascii: "L")
        bytes[3] = UInt8(ascii: "L")
        bytes[4] = sparse
        var left = registerCount
        while left > 0 {
            let run = min(left, sparseXZeroMaxLength)
            appendXZero(&bytes, run)
            left -= run
        }
        return bytes
    }

    /// Whether `bytes` is a HyperLogLog as Redis's `isHLLObjectOrReply` decides: the magic,
    /// a known encoding, and a dense one of the exact length.
    static func isValid(_ bytes: UnsafeRawBufferPointer) -> Bool {
        guard bytes.count >= headerSize, bytes[0] == 0x48, bytes[1] == 0x59, bytes[2] == 0x4C, bytes[3] == 0x4C
        else { return false }
        let encoding = bytes[4]
        if encoding == dense { return bytes.count == denseSize }
        return encoding == sparse
    }

    // MARK: Hashing

    /// MurmurHash64A (Austin Appleby), as Redis's hyperloglog.c has it, for little-endian
    /// reads of 8-byte blocks.
    static func murmur64A(_ key: UnsafeRawBufferPointer, seed: UInt64 = 0xadc8_3b19) -> UInt64 {
        let m: UInt64 = 0xc6a4_a793_5bd1_e995
        let r: UInt64 = 47
        let count = key.count
        var h = seed ^ (UInt64(count) &* m)
        let blocks = count / 8
        for i in 0..<blocks {
            var k = UInt64(littleEndian: key.loadUnaligned(fromByteOffset: i * 8, as: UInt64.self))
            k &*= m
            k ^= k >> r
            k &*= m
            h ^= k
            h &*= m
        }
        let tail = blocks * 8
        let rest = count & 7
        if rest > 0 {
            for i in stride(from: rest - 1, through: 0, by: -1) {
                h ^= UInt64(key[tail + i]) << (8 * UInt64(i))
            }
            h &*= m
        }
        h ^= h >> r
        h &*= m
        h ^= h >> r
        return h
    }

    /// The register an element sets and the value it offers (1 + the number of zeros after
    /// the index bits, at most 51): Redis's `hllPatLen`.
    static func pattern(_ element: UnsafeRawBufferPointer) -> (index: Int, count: UInt8) {
        var hash = murmur64A(element)
        let index = Int(hash & UInt64(registerCount - 1))
        hash >>= UInt64(precision)
        hash |= 1 << UInt64(q)
        return (index, UInt8(hash.trailingZeroBitCount + 1))
    }

    // MARK: Dense registers

    /// Register `i` of the dense registers starting at `base` (a byte past the end reads as
    /// zero, as Redis's trailing NUL).
    @inline(__always)
    static func denseRegister(_ bytes: UnsafeRawBufferPointer, base: Int, _ i: Int) -> UInt8 {
        let bit = i * 6
        let byte = base + bit / 8
        let shift = bit & 7
        let b0 = UInt16(bytes[byte])
        let b1: UInt16 = byte + 1 < bytes.count ? UInt16(bytes[byte + 1]) : 0
        return UInt8(truncatingIfNeeded: ((b0 >> shift) | (b1 << (8 - shift))) & 63)
    }

    /// Sets register `i` of the dense HyperLogLog `bytes` to `value`.
    @inline(__always)
    static func setDenseRegister(_ bytes: inout [UInt8], _ i: Int, _ value: UInt8) {
        let bit = i * 6
        let byte = headerSize + bit / 8
        let shift = bit & 7
        let v = UInt16(value)
        bytes[byte] &= ~UInt8(truncatingIfNeeded: 63 << shift)
        bytes[byte] |= UInt8(truncatingIfNeeded: v << shift)
        if byte + 1 < bytes.count {
            bytes[byte + 1] &= ~UInt8(truncatingIfNeeded: 63 >> (8 - shift))
            bytes[byte + 1] |= UInt8(truncatingIfNeeded: v >> (8 - shift))
        }
    }

    /// Raises register `index` of a dense HyperLogLog to `count`; whether it changed.
    static func denseSet(_ bytes: inout [UInt8], _ index: Int, _ count: UInt8) -> Bool {
        let old = bytes.withUnsafeBytes { denseRegister($0, base: headerSize, index) }
        guard count > old else { return false }
        setDenseRegister(&bytes, index, count)
        return true
    }

    // MARK: Sparse opcodes

    @inline(__always) static func isZero(_ b: UInt8) -> Bool { b & 0xC0 == 0 }
    @inline(__always) static func isXZero(_ b: UInt8) -> Bool { b & 0xC0 == 0x40 }
    @inline(__always) static func isValue(_ b: UInt8) -> Bool { b & 0x80 != 0 }
    @inline(__always) static func zeroLength(_ b: UInt8) -> Int { Int(b & 0x3F) + 1 }
    @inline(__always) static func xzeroLength(_ b: UInt8, _ next: UInt8) -> Int { (Int(b & 0x3F) << 8 | Int(next)) + 1 }
    @inline(__always) static func valueValue(_ b: UInt8) -> Int { Int((b >> 2) & 0x1F) + 1 }
    @inline(__always) static func valueLength(_ b: UInt8) -> Int { Int(b & 0x3) + 1 }
    @inline(__always) static func valueOpcode(_ value: Int, _ length: Int) -> UInt8 {
        UInt8(truncatingIfNeeded: ((value - 1) << 2) | (length - 1)) | 0x80
    }

    static func appendXZero(_ bytes: inout [UInt8], _ length: Int) {
        let l = length - 1
        bytes.append(UInt8(truncatingIfNeeded: l >> 8) | 0x40)
        bytes.append(UInt8(truncatingIfNeeded: l & 0xFF))
    }

    /// Appends a ZERO or XZERO run of `length` registers, as Redis chooses.
    static func appendZeros(_ seq: inout [UInt8], _ length: Int) {
        if length > sparseZeroMaxLength {
            appendXZero(&seq, length)
        } else {
            seq.append(UInt8(length - 1))
        }
    }

    /// The byte at `i`, or 0 past the end (Redis reads its trailing NUL there).
    @inline(__always)
    static func byte(_ bytes: [UInt8], _ i: Int) -> UInt8 { i < bytes.count ? bytes[i] : 0 }

    /// Walks the opcodes of the sparse HyperLogLog `bytes`: `body` gets each VAL run's first
    /// register, length and value. Returns whether the runs cover exactly ``registerCount``
    /// registers; a run that would pass the last register stops the walk and makes it
    /// invalid, as in Redis's readers (with the run-length checks of CVE-2025-32023).
    static func forEachRun(_ bytes: UnsafeRawBufferPointer, _ body: (Int, Int, Int) -> Void) -> Bool {
        var p = headerSize
        var index = 0
        let end = bytes.count
        while p < end {
            let op = bytes[p]
            let length: Int
            if isZero(op) {
                length = zeroLength(op)
                p += 1
            } else if isXZero(op) {
                length = xzeroLength(op, p + 1 < end ? bytes[p + 1] : 0)
                p += 2
            } else {
                length = valueLength(op)
                if index + length <= registerCount { body(index, length, valueValue(op)) }
                p += 1
            }
            if index + length > registerCount { return false }
            index += length
        }
        return index == registerCount
    }

    /// `bytes` (sparse) converted to dense, keeping the header's cache; nil when corrupt.
    static func sparseToDense(_ bytes: [UInt8]) -> [UInt8]? {
        var out = [UInt8](repeating: 0, count: denseSize)
        for i in 0..<headerSize { out[i] = bytes[i] }
        out[4] = dense
        let valid = bytes.withUnsafeBytes { raw in
            forEachRun(raw) { first, length, value in
                for i in first..<first + length { setDenseRegister(&out, i, UInt8(value)) }
            }
        }
        return valid ? out : nil
    }

    /// The result of changing a register.
    enum SetResult {
        case unchanged, changed, corrupt
    }

    /// Raises register `index` of the sparse HyperLogLog `bytes` to `count`, splitting and
    /// merging runs as Redis's `hllSparseSet` does (so the bytes stay Redis's), and turning
    /// it dense when the value does not fit a VAL opcode or it would outgrow `maxBytes`
    /// (`hll-sparse-max-bytes`).
    static func sparseSet(
        _ bytes: inout [UInt8],
        _ index: Int,
        _ count: UInt8,
        maxBytes: Int = defaultSparseMaxBytes
    ) -> SetResult {
        if Int(count) > sparseValueMaxValue { return promote(&bytes, index, count) }
        // Step 1: find the opcode that covers `index`.
        var p = headerSize
        var end = bytes.count
        var first = 0
        var prev: Int? = nil
        var span = 0
        while p < end {
            var oplen = 1
            let op = bytes[p]
            if isZero(op) {
                span = zeroLength(op)
            } else if isValue(op) {
                span = valueLength(op)
            } else {
                span = xzeroLength(op, byte(bytes, p + 1))
                oplen = 2
            }
            if index <= first + span - 1 { break }
            prev = p
            p += oplen
            first += span
        }
        if span == 0 || p >= end { return .corrupt }
        let op = bytes[p]
        let opIsZero = isZero(op)
        let opIsXZero = isXZero(op)
        let runLength = opIsZero ? zeroLength(op) : opIsXZero ? xzeroLength(op, byte(bytes, p + 1)) : valueLength(op)

        var updatedInPlace = false
        if !opIsZero && !opIsXZero {
            let old = valueValue(op)
            if old >= Int(count) { return .unchanged }
            if runLength == 1 {
                bytes[p] = valueOpcode(Int(count), 1)
                updatedInPlace = true
            }
        }
        if !updatedInPlace && opIsZero && runLength == 1 {
            bytes[p] = valueOpcode(Int(count), 1)
            updatedInPlace = true
        }
        if !updatedInPlace {
            // Step 2: split the run into at most three (XZERO-VAL-XZERO: five bytes).
            var seq: [UInt8] = []
            seq.reserveCapacity(5)
            let last = first + span - 1
            if opIsZero || opIsXZero {
                if index != first { appendZeros(&seq, index - first) }
                seq.append(valueOpcode(Int(count), 1))
                if index != last { appendZeros(&seq, last - index) }
            } else {
                let current = valueValue(op)
                if index != first { seq.append(valueOpcode(current, index - first)) }
                seq.append(valueOpcode(Int(count), 1))
                if index != last { seq.append(valueOpcode(current, last - index)) }
            }
            // Step 3: put the new sequence in place of the old opcode.
            let oldLength = opIsXZero ? 2 : 1
            let delta = seq.count - oldLength
            if delta > 0 && bytes.count + delta > maxBytes { return promote(&bytes, index, count) }
            // An XZERO cut short by the end of the string counts two bytes, as in Redis: the
            // string then ends a byte before the new sequence does.
            let newCount = bytes.count + delta
            bytes.replaceSubrange(p..<min(p + oldLength, bytes.count), with: seq)
            if bytes.count > newCount { bytes.removeLast(bytes.count - newCount) }
            end = bytes.count
        }
        // Step 4: merge adjacent VAL opcodes of the same value, from the opcode before.
        p = prev ?? headerSize
        var scan = 5
        while p < end && scan > 0 {
            scan -= 1
            let op = bytes[p]
            if isXZero(op) {
                p += 2
                continue
            } else if isZero(op) {
                p += 1
                continue
            }
            if p + 1 < end && isValue(bytes[p + 1]) {
                let v1 = valueValue(op)
                let v2 = valueValue(bytes[p + 1])
                if v1 == v2 {
                    let length = valueLength(op) + valueLength(bytes[p + 1])
                    if length <= sparseValueMaxLength {
                        bytes[p + 1] = valueOpcode(v1, length)
                        bytes.remove(at: p)
                        end -= 1
                        continue
                    }
                }
            }
            p += 1
        }
        invalidateCache(&bytes)
        return .changed
    }

    /// Turns the sparse `bytes` dense and sets register `index` to `count` there.
    private static func promote(_ bytes: inout [UInt8], _ index: Int, _ count: UInt8) -> SetResult {
        guard var dense = sparseToDense(bytes) else { return .corrupt }
        _ = denseSet(&dense, index, count)
        bytes = dense
        return .changed
    }

    // MARK: Commands' building blocks

    /// Adds `element` to the valid HyperLogLog `bytes` (Redis's `hllAdd`); a sparse one
    /// that would outgrow `sparseMaxBytes` turns dense.
    static func add(
        _ bytes: inout [UInt8],
        _ element: UnsafeRawBufferPointer,
        sparseMaxBytes: Int = defaultSparseMaxBytes
    ) -> SetResult {
        let (index, count) = pattern(element)
        if bytes[4] == dense { return denseSet(&bytes, index, count) ? .changed : .unchanged }
        return sparseSet(&bytes, index, count, maxBytes: sparseMaxBytes)
    }

    static func invalidateCache(_ bytes: inout [UInt8]) { bytes[15] |= 0x80 }

    /// The cached cardinality of `bytes`, or nil when stale.
    static func cachedCount(_ bytes: UnsafeRawBufferPointer) -> UInt64? {
        guard bytes[15] & 0x80 == 0 else { return nil }
        var card: UInt64 = 0
        for i in 0..<8 { card |= UInt64(bytes[8 + i]) << (8 * UInt64(i)) }
        return card
    }

    static func storeCache(_ bytes: inout [UInt8], _ card: UInt64) {
        for i in 0..<8 { bytes[8 + i] = UInt8(truncatingIfNeeded: card >> (8 * UInt64(i))) }
    }

    /// Raises each of `registers` (one byte per register) to the matching register of the
    /// valid HyperLogLog `bytes` (Redis's `hllMerge`); false when `bytes` is corrupt.
    static func merge(into registers: inout [UInt8], _ bytes: UnsafeRawBufferPointer) -> Bool {
        if bytes[4] == dense {
            for i in 0..<registerCount {
                let v = denseRegister(bytes, base: headerSize, i)
                if v > registers[i] { registers[i] = v }
            }
            return true
        }
        return registers.withUnsafeMutableBufferPointer { max in
            forEachRun(bytes) { first, length, value in
                let v = UInt8(value)
                for i in first..<first + length where v > max[i] { max[i] = v }
            }
        }
    }

    /// The register histogram of the valid HyperLogLog `bytes`: how many registers hold
    /// each value; nil when a sparse one is corrupt.
    static func histogram(_ bytes: UnsafeRawBufferPointer) -> [Int]? {
        var histogram = [Int](repeating: 0, count: 64)
        if bytes[4] == dense {
            for i in 0..<registerCount { histogram[Int(denseRegister(bytes, base: headerSize, i))] += 1 }
            return histogram
        }
        var p = headerSize
        var index = 0
        let end = bytes.count
        while p < end {
            let op = bytes[p]
            if isZero(op) {
                let n = zeroLength(op)
                index += n
                histogram[0] += n
                p += 1
            } else if isXZero(op) {
                let n = xzeroLength(op, p + 1 < end ? bytes[p + 1] : 0)
                index += n
                histogram[0] += n
                p += 2
            } else {
                let n = valueLength(op)
                index += n
                histogram[valueValue(op)] += n
                p += 1
            }
        }
        return index == registerCount ? histogram : nil
    }

    /// The histogram of registers held one per byte (a union being counted).
    static func histogram(registers: [UInt8]) -> [Int] {
        var histogram = [Int](repeating: 0, count: 64)
        for r in registers { histogram[Int(r & 63)] += 1 }
        return histogram
    }

    /// Ertl's estimate from a register histogram, as Redis's `hllCount` computes it.
    static func estimate(_ histogram: [Int]) -> UInt64 {
        let m = Double(registerCount)
        var z = m * tau((m - Double(histogram[q + 1])) / m)
        for j in stride(from: q, through: 1, by: -1) {
            z += Double(histogram[j])
            z *= 0.5
        }
        z += m * sigma(Double(histogram[0]) / m)
        let e = (0.721_347_520_444_481_703_680 * m * m / z).rounded(.toNearestOrAwayFromZero)
        // `llroundl` of a value out of range gives LLONG_MIN on x86-64; only a crafted
        // HyperLogLog (every register at its maximum) gets there.
        guard e.isFinite, e >= 0, e < 9.223_372_036_854_775_807e18 else { return 1 << 63 }
        return UInt64(e)
    }

    static func sigma(_ x: Double) -> Double {
        if x == 1 { return .infinity }
        var x = x
        var y = 1.0
        var z = x
        var previous: Double
        repeat {
            x *= x
            previous = z
            z += x * y
            y += y
        } while previous != z && !z.isNaN
        return z
    }

    static func tau(_ x: Double) -> Double {
        if x == 0 || x == 1 { return 0 }
        var x = x
        var y = 1.0
        var z = 1 - x
        var previous: Double
        repeat {
            x = x.squareRoot()
            previous = z
            y *= 0.5
            z -= (1 - x) * (1 - x) * y
        } while previous != z && !z.isNaN
        return z / 3
    }
}
