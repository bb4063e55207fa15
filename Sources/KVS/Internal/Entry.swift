/// One stored value and its expiry.
package struct Entry<Value> {
    /// The stored value.
    package var value: Value
    /// When the entry expires, in nanoseconds since the Unix epoch; `0` means never.
    package var expiresAt: Int64

    @inline(__always)
    package init(value: Value, expiresAt: Int64) {
        self.value = value
        self.expiresAt = expiresAt
    }

    /// Whether the entry carries a time-to-live.
    @inline(__always)
    package var hasExpiry: Bool { expiresAt != 0 }

    /// Whether the entry has expired at `now` (nanoseconds since the Unix epoch).
    @inline(__always)
    package func isExpired(at now: Int64) -> Bool {
        expiresAt != 0 && expiresAt <= now
    }
}

extension Entry: Sendable where Value: Sendable {}
