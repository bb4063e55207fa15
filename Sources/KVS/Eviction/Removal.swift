/// Why an entry left a store, as a removal listener hears it.
///
/// A struct with static members rather than an enum, so that causes can be added without
/// breaking a `switch` in your code.
///
/// - Thread safety: a value type.
public struct RemovalCause: Hashable, Sendable, CustomStringConvertible {
    package enum Base: Hashable, Sendable {
        case expired, evicted, replaced, removed, cleared
    }

    package let base: Base
    package init(_ base: Base) { self.base = base }

    /// Its time-to-live ran out: removed by a read that found it expired or by the
    /// background sweep (also when a write replaced or deleted an entry that had expired).
    public static let expired = RemovalCause(.expired)
    /// A bounded store's policy evicted it to stay within the bound.
    public static let evicted = RemovalCause(.evicted)
    /// A write replaced its value (`set`, `update`, a batch, a transaction); the event
    /// carries the old value.
    public static let replaced = RemovalCause(.replaced)
    /// It was deleted (`delete`, `batchDelete`, `update` returning `nil`, a transaction).
    public static let removed = RemovalCause(.removed)
    /// ``KeyValueStore/removeAll()`` or ``KeyValueStore/loadSnapshot(from:)`` removed it with
    /// everything else.
    public static let cleared = RemovalCause(.cleared)

    /// Whether the store removed the entry on its own (``expired`` or ``evicted``) rather
    /// than at a caller's request.
    public var wasAutomatic: Bool { base == .expired || base == .evicted }

    public var description: String {
        switch base {
        case .expired: "expired"
        case .evicted: "evicted"
        case .replaced: "replaced"
        case .removed: "removed"
        case .cleared: "cleared"
        }
    }
}

/// An entry that left a store: its key, the value it held and why it left.
///
/// - Thread safety: a value type; `Sendable` as its value is.
public struct Removal<Value: Sendable>: Sendable {
    /// The entry's key.
    public var key: String
    /// The value the entry held when it left (for ``RemovalCause/replaced``, the old one).
    public var value: Value
    /// Why it left.
    public var cause: RemovalCause

    /// Creates a removal event.
    public init(key: String, value: Value, cause: RemovalCause) {
        self.key = key
        self.value = value
        self.cause = cause
    }
}
