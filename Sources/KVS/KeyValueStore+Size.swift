import Foundation

extension KeyValueStore {
    /// An estimate of the memory the store's keys and values take, in a form a person
    /// reads, such as `"12.3 MB"` (decimal units: 1 KB = 1,000 bytes). The Go package's `Size`.
    ///
    /// See ``estimatedByteCount`` for what is counted.
    ///
    /// - Complexity: O(n); locks one shard at a time.
    public var size: String {
        Self.formatBytes(estimatedByteCount)
    }

    /// An estimate of the memory the store's keys and values take, in bytes: the hash
    /// tables (each slot's key and value at the table's load factor, a one-byte tag per
    /// slot, and a deadline and a bit per slot in a table where some entry has one), plus the
    /// heap bytes of the key and, for `String`, `[UInt8]` and `Data` values, of the value.
    /// Other value types count their inline size only.
    ///
    /// - Complexity: O(n); locks one shard at a time.
    public var estimatedByteCount: Int {
        let measure = ValueByteCounter<Value>()
        var total = 0
        for shard in engine.shards {
            total += shard.withLock { state in
                var bytes = state.table.allocatedByteCount
                for (key, entry) in state.table {
                    bytes += Self.heapBytes(of: key) + measure.heapBytes(of: entry.value)
                }
                return bytes
            }
        }
        return total
    }

    /// `"0 B"`, `"999 B"`, `"1.5 KB"`, `"12.3 MB"`, `"4.0 GB"`.
    package static func formatBytes(_ bytes: Int) -> String {
        let units = ["B", "KB", "MB", "GB", "TB", "PB"]
        var value = Double(bytes)
        var unit = 0
        while value >= 1000, unit < units.count - 1 {
            value /= 1000
            unit += 1
        }
        if unit == 0 { return "\(bytes) B" }
        let tenths = (value * 10).rounded()
        if tenths >= 10_000, unit < units.count - 1 {  // 999.96 rounds to 1000.0: move up a unit
            return "1.0 \(units[unit + 1])"
        }
        return "\(Int(tenths) / 10).\(Int(tenths) % 10) \(units[unit])"
    }

    /// Heap bytes of a string: none for small strings, which Swift stores inline (up to
    /// 15 UTF-8 bytes on 64-bit platforms).
    static func heapBytes(of string: String) -> Int {
        let n = string.utf8.count
        return n <= 15 ? 0 : n + 32
    }
}

/// Measures the heap bytes of values of one type; decides the type once.
struct ValueByteCounter<Value> {
    private enum Kind { case string, bytes, data, other }
    private let kind: Kind

    init() {
        if Value.self == String.self {
            kind = .string
        } else if Value.self == [UInt8].self {
            kind = .bytes
        } else if Value.self == Data.self {
            kind = .data
        } else {
            kind = .other
        }
    }

    func heapBytes(of value: Value) -> Int {
        switch kind {
        case .string: KeyValueStore<String>.heapBytes(of: value as? String ?? "")
        case .bytes: ((value as? [UInt8])?.count ?? 0) + 32
        case .data: (value as? Data)?.count ?? 0
        case .other: 0
        }
    }
}
