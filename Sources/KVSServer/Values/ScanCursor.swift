/// The cursor order of Redis's `dictScan`, shared by the hash table and the member index:
/// the cursor counts up in its reversed bits, so a scan that began at a smaller table still
/// visits every bucket once when the table grows or shrinks between steps.
enum ScanCursor {
    /// The cursor after `cursor` in a table of `mask + 1` buckets: the bits above the mask
    /// set, the whole reversed, one added, reversed back.
    static func next(after cursor: UInt64, mask: UInt64) -> UInt64 {
        reversed(reversed(cursor | ~mask) &+ 1)
    }

    /// `v` with its 64 bits in reverse order.
    private static func reversed(_ v: UInt64) -> UInt64 {
        var v = v
        v = ((v >> 1) & 0x5555_5555_5555_5555) | ((v & 0x5555_5555_5555_5555) << 1)
        v = ((v >> 2) & 0x3333_3333_3333_3333) | ((v & 0x3333_3333_3333_3333) << 2)
        v = ((v >> 4) & 0x0F0F_0F0F_0F0F_0F0F) | ((v & 0x0F0F_0F0F_0F0F_0F0F) << 4)
        return v.byteSwapped
    }
}
