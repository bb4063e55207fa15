import KVS

/// A sorted set's record in the snapshot (type tag 4, docs/server-snapshot-format.md): the
/// member count (UInt32), then each member as its length (UInt32) and bytes, followed by
/// its score's IEEE bits (UInt64), all little-endian, in ascending order.
extension Persistence {
    /// Appends `zset`'s record (after its tag is written here).
    ///
    /// - Throws: `tooLarge` when the set or a member has 2^32 or more elements or bytes.
    static func append(_ zset: ZSetValue, to buffer: inout [UInt8], tooLarge: KVSError) throws(KVSError) {
        guard zset.count <= UInt32.max else { throw tooLarge }
        buffer.append(zsetTag)
        buffer.appendLittleEndian(UInt32(truncatingIfNeeded: zset.count))
        var fits = true
        zset.forEachMember { member, score in
            guard member.count <= UInt32.max else {
                fits = false
                return
            }
            buffer.appendLittleEndian(UInt32(truncatingIfNeeded: member.count))
            buffer.append(contentsOf: member)
            buffer.appendLittleEndian(score.bitPattern)
        }
        guard fits else { throw tooLarge }
    }

    /// Reads a sorted set's record (after its tag), in the encoding `limits` choose.
    ///
    /// - Throws: `corrupt(why)` for an empty or truncated record, a repeated member or a
    ///   NaN score.
    static func readZSet(
        _ reader: inout Reader,
        limits: ZSetLimits,
        corrupt: (String) -> KVSError
    ) throws(KVSError) -> ZSetValue {
        guard let count: UInt32 = reader.read(), count > 0 else {
            throw corrupt("is an empty or truncated sorted set")
        }
        var zset = ZSetValue()
        for _ in 0..<count {
            guard let length: UInt32 = reader.read(), let member = reader.take(Int(length)),
                let bits: UInt64 = reader.read()
            else { throw corrupt("is truncated") }
            let score = Double(bitPattern: bits)
            guard !score.isNaN else { throw corrupt("has a NaN score") }
            guard zset.set(ValueBytes(member), score: score, limits: limits) == nil else {
                throw corrupt("repeats a sorted-set member")
            }
        }
        return zset
    }
}
