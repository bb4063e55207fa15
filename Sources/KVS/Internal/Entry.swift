/// One stored value and its expiry.
///
/// The form entries take in and out of a ``ShardTable``, which keeps the two apart: the
/// value in the slot beside its key, the deadline, if any, in a block of its own.
@usableFromInline
package struct Entry<Value> {
    /// The stored value.
    @usableFromInline package var value: Value
    /// When the entry expires, in nanoseconds since the Unix epoch; `0` means never.
    @usableFromInline package var expiresAt: Int64

    @inlinable
    package init(value: Value, expiresAt: Int64) {
        self.value = value
        self.expiresAt = expiresAt
    }

    /// Whether the entry carries a time-to-live.
    @inlinable
    package var hasExpiry: Bool { expiresAt != 0 }

    /// Whether the entry has expired at `now` (nanoseconds since the Unix epoch).
    @inlinable
    package func isExpired(at now: Int64) -> Bool {
        expiresAt != 0 && expiresAt <= now
    }
}

extension Entry: Sendable where Value: Sendable {}
