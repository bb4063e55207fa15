/// A worker's record of the last thing it did to each key it owns: the value it last
/// stored, or nothing if it last deleted the key (or never wrote it).
///
/// Because each key has one owner, the owner's log is the truth about that key: after
/// every worker has stopped, the store must hold exactly the logged values.
package struct WriteLog: Sendable {
    /// The last value stored under each key that should be present.
    package private(set) var values: [String: String] = [:]

    /// An empty log.
    package init() {}

    /// Notes that `value` was stored under `key`.
    package mutating func wrote(_ key: String, _ value: String) {
        values[key] = value
    }

    /// Notes that `key` was deleted.
    package mutating func deleted(_ key: String) {
        values[key] = nil
    }

    /// The value `key` should hold, or `nil` if it should be absent.
    package func expectedValue(of key: String) -> String? {
        values[key]
    }
}
