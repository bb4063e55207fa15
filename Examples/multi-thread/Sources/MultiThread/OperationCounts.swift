/// Operations done per kind: calls, and the keys those calls touched (a batch call
/// touches many keys; a single-key call, one).
package struct OperationCounts: Sendable, Equatable {
    /// Calls per kind.
    package private(set) var calls: [OperationKind: Int] = [:]
    /// Keys touched per kind.
    package private(set) var keys: [OperationKind: Int] = [:]

    /// No operations yet.
    package init() {}

    /// Counts one call of `kind` that touched `keyCount` keys.
    package mutating func record(_ kind: OperationKind, keys keyCount: Int = 1) {
        calls[kind, default: 0] += 1
        keys[kind, default: 0] += keyCount
    }

    /// Adds another worker's counts to these.
    package mutating func add(_ other: OperationCounts) {
        calls.merge(other.calls, uniquingKeysWith: +)
        keys.merge(other.keys, uniquingKeysWith: +)
    }

    /// All calls of every kind.
    package var totalCalls: Int { calls.values.reduce(0, +) }
}
