/// How the workers name keys and values, so that every key has exactly one owner and
/// every value says which key it was written for.
///
/// A key is `<owner>/key-<n>`, for example `writer-2/key-17`; only `writer-2` writes
/// it. A value is `<key>=<sequence>`, for example `writer-2/key-17=905`; a reader that
/// gets a value not starting with its own key has caught the store mixing keys up.
package enum KeySpace {
    /// The key number `index` of `owner`.
    package static func key(owner: String, index: Int) -> String {
        "\(owner)/key-\(index)"
    }

    /// The value a worker writes to `key` as its `sequence`-th write.
    package static func value(for key: String, sequence: Int) -> String {
        "\(key)=\(sequence)"
    }

    /// Whether `value` was written for `key`.
    package static func value(_ value: String, belongsTo key: String) -> Bool {
        value.hasPrefix(key + "=")
    }
}
