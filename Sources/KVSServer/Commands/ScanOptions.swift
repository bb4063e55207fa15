import KVS

extension Call {
    /// The MATCH and COUNT options of HSCAN, SSCAN and ZSCAN, from argument `start` on, as
    /// Redis's `scanGenericCommand` reads them: a MATCH of `*` is no pattern; COUNT must be
    /// at least 1.
    ///
    /// - Throws: ``CommandError/syntax`` for an unknown option, one without its value, or a
    ///   COUNT below 1; the integer error for a COUNT that is not one.
    func collectionScanOptions(from start: Int) throws(CommandError) -> (pattern: [UInt8]?, count: Int) {
        var pattern: [UInt8]? = nil
        var count = 10
        var i = start
        while i < self.count {
            guard i + 1 < self.count else { throw .syntax }
            switch option(i) {
            case "MATCH":
                let bytes = bytes(i + 1)
                pattern = bytes == [UInt8(ascii: "*")] ? nil : bytes
            case "COUNT":
                let n = try integer(i + 1)
                guard n >= 1 else { throw .syntax }
                count = Int(n)
            default:
                throw .syntax
            }
            i += 2
        }
        return (pattern, count)
    }

    /// Walks a collection's table from `cursor` with `step` (which visits one home and
    /// returns the next cursor) until `count` elements are found (`found` says how many so
    /// far), `count` × 10 homes were visited (Redis's bound on one call, saturating), or
    /// the scan is over; returns the cursor to answer.
    func scanSteps(from cursor: UInt64, count: Int, found: () -> Int, _ step: (UInt64) -> UInt64) -> UInt64 {
        var cursor = cursor
        var visits = count.multipliedReportingOverflow(by: 10).overflow ? Int.max : count * 10
        repeat {
            cursor = step(cursor)
            visits -= 1
        } while cursor != 0 && visits > 0 && found() < count
        return cursor
    }

    /// The reply to a SCAN of a collection whose key is absent: cursor 0, nothing found.
    mutating func emptyScanReply() {
        arrayHeader(2)
        bulk("0")
        arrayHeader(0)
    }
}
