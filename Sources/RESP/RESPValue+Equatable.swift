import NIOCore

extension RESPValue: Equatable {
    /// Structural equality: same case, same contents, in the same order. Bulk payloads compare by
    /// their readable bytes; doubles compare with `==`, except that `nan` equals `nan` (a value
    /// type for frames, not arithmetic).
    ///
    /// - Complexity: O(size of the smaller value).
    public static func == (lhs: RESPValue, rhs: RESPValue) -> Bool {
        switch (lhs, rhs) {
        case (.simpleString(let a), .simpleString(let b)): return a == b
        case (.error(let a), .error(let b)): return a == b
        case (.integer(let a), .integer(let b)): return a == b
        case (.bulkString(let a), .bulkString(let b)): return a == b
        case (.nullBulkString, .nullBulkString), (.nullArray, .nullArray), (.null, .null): return true
        case (.array(let a), .array(let b)), (.set(let a), .set(let b)), (.push(let a), .push(let b)): return a == b
        case (.double(let a), .double(let b)): return a == b || (a.isNaN && b.isNaN)
        case (.boolean(let a), .boolean(let b)): return a == b
        case (.bigNumber(let a), .bigNumber(let b)): return a == b
        case (.verbatimString(let f1, let t1), .verbatimString(let f2, let t2)): return f1 == f2 && t1 == t2
        case (.map(let a), .map(let b)): return Self.samePairs(a, b)
        case (.attribute(let a, let v1), .attribute(let b, let v2)): return Self.samePairs(a, b) && v1 == v2
        case (.blobError(let a), .blobError(let b)): return a == b
        default: return false
        }
    }

    private static func samePairs(
        _ lhs: [(key: RESPValue, value: RESPValue)],
        _ rhs: [(key: RESPValue, value: RESPValue)]
    ) -> Bool {
        lhs.count == rhs.count && zip(lhs, rhs).allSatisfy { $0.key == $1.key && $0.value == $1.value }
    }
}
