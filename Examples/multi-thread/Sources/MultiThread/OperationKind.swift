/// A kind of store operation the workload counts, in the order they are printed.
package enum OperationKind: Int, CaseIterable, Sendable, Comparable {
    case set, get, delete
    case batchSet, batchGet, batchDelete
    case setWithTTL, timeToLive, expire

    /// The name printed for this kind, such as `batchSet`.
    package var name: String { "\(self)" }

    /// Orders kinds as they are declared.
    package static func < (lhs: Self, rhs: Self) -> Bool {
        lhs.rawValue < rhs.rawValue
    }
}
