import KVS
import NIOCore

extension Call {
    /// Argument `i` as a blocking command's timeout: seconds with decimals, 0 for no
    /// timeout. Parsed as Redis 7.0 parses it (`getTimeoutFromObjectOrReply`): a long
    /// double, times 1,000, rounded up to whole milliseconds; a value whose milliseconds do
    /// not fit in 64 bits (`inf`, `1e20`) is negative there, and so here.
    ///
    /// - Returns: the deadline, or nil for none (0, or so far away that it cannot be told
    ///   from none).
    /// - Throws: ``CommandError`` with Redis's texts for a value that is not a number and
    ///   for a negative one.
    func blockingTimeout(_ i: Int, now: NIODeadline = .now()) throws(CommandError) -> NIODeadline? {
        guard let seconds = LongDouble.parse(args[i].readableBytesView) else {
            throw CommandError("ERR timeout is not a float or out of range")
        }
        let milliseconds = (seconds * 1000).rounded(.up)
        // 2^63: the first value that `(long long)` cannot hold.
        guard milliseconds >= 0, milliseconds < 9_223_372_036_854_775_808 else {
            throw CommandError("ERR timeout is negative")
        }
        let whole = Int64(milliseconds)
        guard whole > 0 else { return nil }
        let (nanoseconds, overflow) = whole.multipliedReportingOverflow(by: 1_000_000)
        guard !overflow, nanoseconds < Int64.max - Int64(now.uptimeNanoseconds) else { return nil }
        return now + .nanoseconds(nanoseconds)
    }
}
