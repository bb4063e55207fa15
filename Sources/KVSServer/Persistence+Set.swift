import KVS

/// A set's record in the snapshot (type tag 3): the member count (UInt32, at least 1),
/// then each member as a UInt32 length and its bytes (docs/server-snapshot-format.md).
extension Persistence {
    /// The type tag of a set.
    static let setTag: UInt8 = 3

    /// Appends `set`'s record (tag included) to `sink`; `false` (nothing written that
    /// matters: the save fails) when a count or a member does not fit 32 bits.
    static func appendSet(_ set: SetValue, to sink: inout some RecordSink) -> Bool {
        guard set.count <= UInt32.max else { return false }
        sink.buffer.append(setTag)
        sink.buffer.appendLittleEndian(UInt32(truncatingIfNeeded: set.count))
        var fits = true
        set.forEachMember { member in
            guard member.count <= UInt32.max else {
                fits = false
                return
            }
            sink.buffer.appendLittleEndian(UInt32(truncatingIfNeeded: member.count))
            sink.buffer.append(contentsOf: member)
        }
        return fits
    }

    /// Reads a set's record after its tag, with the encodings `limits` pick.
    ///
    /// - Returns: the set, or why the record is damaged (truncated, empty, a member twice).
    static func readSet(_ reader: inout Reader, limits: SetLimits) -> Result<SetValue, SetRecordError> {
        guard let count: UInt32 = reader.read() else { return .failure(.truncated) }
        guard count > 0 else { return .failure(.empty) }
        var set = SetValue()
        for _ in 0..<count {
            guard let length: UInt32 = reader.read(), let member = reader.take(Int(length)) else {
                return .failure(.truncated)
            }
            guard set.insert(ValueBytes(member), limits: limits) else { return .failure(.duplicate) }
        }
        return .success(set)
    }

    /// Why a set's record is refused.
    enum SetRecordError: Error {
        case truncated
        case empty
        case duplicate
    }
}
