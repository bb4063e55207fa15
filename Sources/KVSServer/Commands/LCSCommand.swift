import KVS
import NIOCore

/// LCS: the longest common subsequence of two strings, as Redis 7 computes and replies it
/// (`lcsCommand` in Redis's t_string.c).
///
/// Bounded as Redis bounds it: the table has (n+1)·(m+1) 32-bit cells, and a pair whose
/// table would exceed `proto-max-bulk-len` bytes (512 MiB by default) is refused with
/// Redis's error before anything is allocated; the size is computed with overflow checks.
/// The work is O(n·m) for the table and O(n+m) for the walk back.
enum LCSCommand {
    static let all: [CommandSpec] = [
        .keyed(
            "lcs",
            arity: -3,
            flags: [.readonly],
            keys: (1, 2, 1),
            group: "string",
            summary: "Finds the longest common substring.",
            lcs,
            lcs
        )
    ]

    static let tooLarge = CommandError("ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len")

    static func lcs<A: KeyAccess>(_ c: inout Call<A>) throws {
        let keyA = c.key(1)
        let keyB = c.key(2)
        // Both keys at one instant; a missing key reads as the empty string.
        let values: (StoredValue?, StoredValue?) = try c.access.atomically { access in
            (try access.read(keyA) { entry, _ in entry?.value }, try access.read(keyB) { entry, _ in entry?.value })
        }
        func text(_ value: StoredValue?) throws(CommandError) -> ValueBytes {
            guard let value else { return ValueBytes([UInt8]()) }
            guard let bytes = value.stringBytes else {
                throw CommandError("ERR The specified keys must contain string values")
            }
            return bytes
        }
        let a = try text(values.0)
        let b = try text(values.1)

        var getLength = false
        var getIndexes = false
        var withMatchLength = false
        var minMatchLength: Int64 = 0
        var i = 3
        while i < c.count {
            switch c.option(i) {
            case "IDX": getIndexes = true
            case "LEN": getLength = true
            case "WITHMATCHLEN": withMatchLength = true
            case "MINMATCHLEN" where i + 1 < c.count:
                minMatchLength = max(0, try c.integer(i + 1))
                i += 1
            default: throw CommandError.syntax
            }
            i += 1
        }
        if getIndexes && getLength {
            throw CommandError("ERR If you want both the length and indexes, please just use IDX.")
        }
        guard a.count < Int(UInt32.max) - 1, b.count < Int(UInt32.max) - 1 else {
            throw CommandError("ERR String too long for LCS")
        }
        let (cells, o1) = (a.count + 1).multipliedReportingOverflow(by: b.count + 1)
        let (bytes, o2) = cells.multipliedReportingOverflow(by: MemoryLayout<UInt32>.stride)
        guard !o1, !o2, bytes <= c.server.configuration.maxBulkLength else { throw tooLarge }

        let result = a.withUnsafeBytes { a in
            b.withUnsafeBytes { b in
                Walk(
                    a: a,
                    b: b,
                    cells: cells,
                    wantsString: !getLength || getIndexes,
                    wantsRanges: getIndexes,
                    minMatchLength: minMatchLength
                )
            }
        }
        if getIndexes {
            if c.encoder.version == .resp3 {
                c.encoder.writeMapHeader(count: 2, into: &c.out)
            } else {
                c.arrayHeader(4)
            }
            c.bulk("matches")
            c.arrayHeader(result.ranges.count)
            for range in result.ranges {
                c.arrayHeader(withMatchLength ? 3 : 2)
                c.arrayHeader(2)
                c.integer(reply: range.aStart)
                c.integer(reply: range.aEnd)
                c.arrayHeader(2)
                c.integer(reply: range.bStart)
                c.integer(reply: range.bEnd)
                if withMatchLength { c.integer(reply: range.aEnd - range.aStart + 1) }
            }
            c.bulk("len")
            c.integer(reply: result.length)
        } else if getLength {
            c.integer(reply: result.length)
        } else {
            c.bulk(result.string)
        }
    }

    /// One matched run: `a[aStart...aEnd]` equals `b[bStart...bEnd]`.
    struct Range {
        var aStart: Int, aEnd: Int, bStart: Int, bEnd: Int
    }

    /// The table and the walk back through it, as Redis does both (so that IDX lists the
    /// same ranges in the same order: from the ends of the strings towards their starts).
    struct Walk {
        var length = 0
        var string: [UInt8] = []
        var ranges: [Range] = []

        /// - Precondition: `cells == (a.count + 1) * (b.count + 1)`, checked for overflow
        ///   and against the size limit by the caller.
        init(
            a: UnsafeRawBufferPointer,
            b: UnsafeRawBufferPointer,
            cells: Int,
            wantsString: Bool,
            wantsRanges: Bool,
            minMatchLength: Int64
        ) {
            let n = a.count
            let m = b.count
            let width = m + 1
            var table = [UInt32](repeating: 0, count: cells)
            table.withUnsafeMutableBufferPointer { t in
                // Row 0 and column 0 stay 0; every index below is in 0..<cells.
                for i in stride(from: 1, through: n, by: 1) {
                    let row = i * width
                    let above = row - width
                    let ai = a[i - 1]
                    for j in stride(from: 1, through: m, by: 1) {
                        if ai == b[j - 1] {
                            t[row + j] = t[above + j - 1] &+ 1
                        } else {
                            t[row + j] = max(t[above + j], t[row + j - 1])
                        }
                    }
                }
            }
            length = Int(table[cells - 1])
            guard wantsString else { return }
            string = [UInt8](repeating: 0, count: length)
            var index = length
            var i = n
            var j = m
            var current: Range? = nil
            while i > 0, j > 0 {
                var emit = false
                if a[i - 1] == b[j - 1] {
                    if index > 0 { string[index - 1] = a[i - 1] }  // always: one match per unit of length
                    if var run = current {
                        // Extend the run backwards while the matches are contiguous.
                        if run.aStart == i, run.bStart == j {
                            run.aStart -= 1
                            run.bStart -= 1
                            current = run
                        } else {
                            emit = true
                        }
                    } else {
                        current = Range(aStart: i - 1, aEnd: i - 1, bStart: j - 1, bEnd: j - 1)
                    }
                    // A run that reached the start of either string ends here.
                    if let run = current, run.aStart == 0 || run.bStart == 0 { emit = true }
                    index = max(0, index - 1)
                    i -= 1
                    j -= 1
                } else {
                    if table[(i - 1) * width + j] > table[i * width + j - 1] { i -= 1 } else { j -= 1 }
                    if current != nil { emit = true }
                }
                if emit, let run = current {
                    if wantsRanges, minMatchLength == 0 || Int64(run.aEnd - run.aStart + 1) >= minMatchLength {
                        ranges.append(run)
                    }
                    current = nil
                }
            }
        }
    }
}
