import KVS
import NIOCore

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// SORT and SORT_RO: the elements of a list, set or sorted set, sorted by their own value
/// or by keys derived from them (`BY`), sliced (`LIMIT`), mapped to other keys (`GET`),
/// answered or stored as a list (`STORE`).
///
/// Follows Redis 7.0's sort.c: the options are parsed before the key is looked up (a
/// syntax error wins over WRONGTYPE); a `BY` pattern without `*` skips sorting (lists and
/// sorted sets keep their order, reversed by `DESC`; a set is sorted with ALPHA when
/// stored, so that the stored order is defined); `LIMIT` is clamped to the collection's
/// size; a numeric sort refuses any value `strtod` does not wholly read. A command whose
/// patterns read other keys, or that stores, runs in one transaction
/// (``KeyAccess/atomically(_:)``), so that it sees and leaves all its keys at one instant.
///
/// Strings compare byte by byte where Redis uses `strcoll` (ALPHA without STORE): the same
/// under the C locale Redis runs in by default, except that `strcoll` stops at a NUL byte.
enum SortCommand {
    static let all: [CommandSpec] = [
        .keyed(
            "sort",
            arity: -2,
            flags: [.write, .movableKeys],
            keys: (1, 1, 1),
            group: "generic",
            summary: "Sort the elements in a list, set or sorted set",
            keyPositions: storeKeyPositions,
            sort,
            sort
        ),
        .keyed(
            "sort_ro",
            arity: -2,
            flags: [.readonly, .movableKeys],
            keys: (1, 1, 1),
            group: "generic",
            summary: "Sort the elements in a list, set or sorted set. Read-only variant of SORT.",
            keyPositions: { _ in [1] },
            sort,
            sort
        ),
    ]

    /// The key positions of a SORT call (`args[0]` is the name), as Redis's `sortGetKeys`
    /// finds them: the sorted key, then the destination of the last `STORE`, skipping the
    /// arguments of `LIMIT`, `GET` and `BY`.
    @Sendable
    static func storeKeyPositions(_ args: [ByteBuffer]) -> [Int] {
        var store: Int?
        var i = 2
        while i < args.count {
            switch Call<DirectAccess>.optionName(args[i]) {
            case "LIMIT": i += 2
            case "GET", "BY": i += 1
            case "STORE" where i + 1 < args.count: store = i + 1
            default: break
            }
            i += 1
        }
        return [1] + (store.map { [$0] } ?? [])
    }

    /// The options of one call.
    struct Options {
        var descending = false
        var alpha = false
        var limitStart: Int64 = 0
        var limitCount: Int64 = -1
        var by: Pattern?
        /// `BY` names a pattern without `*`: the elements are not sorted.
        var dontSort = false
        var gets: [Pattern] = []
        var store: ByteKey?
    }

    /// A `BY` or `GET` pattern, taken apart as Redis's `lookupKeyByPattern` reads it: `#`
    /// is the element itself; otherwise the first `*` (before any NUL byte) is replaced by
    /// the element, and a `->field` after it (not at the very end) names a hash field.
    struct Pattern {
        /// The pattern is `#`.
        var isElement = false
        /// The bytes before `*`; nil when the pattern has no `*` (it names no key).
        var prefix: [UInt8]?
        var suffix: [UInt8] = []
        var field: ValueBytes?

        init(_ bytes: [UInt8]) {
            if bytes.first == UInt8(ascii: "#"), bytes.count == 1 || bytes[1] == 0 {
                isElement = true
                return
            }
            // Redis searches the pattern as a C string: nothing after a NUL byte counts.
            let text = bytes.prefix { $0 != 0 }
            guard let star = text.firstIndex(of: UInt8(ascii: "*")) else { return }
            prefix = Array(bytes[..<star])
            var suffixEnd = bytes.count
            var i = star + 1
            while i + 2 < text.count {
                if text[i] == UInt8(ascii: "-"), text[i + 1] == UInt8(ascii: ">") {
                    // The field runs to the pattern's end, NUL bytes included (`sdslen`).
                    field = ValueBytes(Array(bytes[(i + 2)...]))
                    suffixEnd = i
                    break
                }
                i += 1
            }
            suffix = Array(bytes[(star + 1)..<suffixEnd])
        }

        /// The string at the key (or hash field) this pattern derives from `element`;
        /// nil when there is none or it holds another type.
        func lookup<A: KeyAccess>(_ element: [UInt8], _ access: inout A) throws -> [UInt8]? {
            if isElement { return element }
            guard let prefix else { return nil }
            let key = ByteKey(prefix + element + suffix)
            return try access.read(key) { entry, _ -> [UInt8]? in
                guard let value = entry?.value else { return nil }
                if let field {
                    guard case .hash(let hash) = value.payload else { return nil }
                    return hash.value(of: field).map { $0.withUnsafeBytes { Array($0) } }
                }
                guard case .string(let bytes) = value.payload else { return nil }
                return bytes.withUnsafeBytes { Array($0) }
            }
        }
    }

    /// SORT and SORT_RO: parses, sorts (in one transaction when patterns read other keys or
    /// the result is stored), then answers the elements or stores them and answers the count.
    static func sort<A: KeyAccess>(_ c: inout Call<A>) throws {
        let options = try parse(&c)
        let key = c.key(1)
        let readsOthers = (options.by != nil && !options.dontSort) || options.gets.contains { !$0.isElement }
        let result: Outcome
        if options.store != nil || readsOthers {
            let limits = c.server.listLimits
            let stamps = c.access.stamps
            result = try c.access.atomically { access in
                var outcome = try run(key, options, &access)
                if let destination = options.store, case .rows(let rows) = outcome {
                    let stored: Entry<StoredValue>?
                    if rows.isEmpty {
                        stored = nil
                    } else {
                        var list = ListValue()
                        list.push(rows.lazy.map { ValueBytes($0 ?? []) }, atHead: false, limits: limits)
                        stored = Entry(value: StoredValue(payload: .list(list), stamp: stamps.take()), expiresAt: 0)
                    }
                    let existed = try access.update(destination) { entry, _ in
                        defer { entry = stored }
                        return entry != nil
                    }
                    outcome = .stored(count: rows.count, changed: existed || !rows.isEmpty)
                }
                return outcome
            }
        } else {
            result = try run(key, options, &c.access)
        }
        switch result {
        case .notNumbers:
            throw CommandError("ERR One or more scores can't be converted into double")
        case .rows(let rows):
            c.arrayHeader(rows.count)
            for row in rows {
                if let row { c.bulk(row) } else { c.null() }
            }
        case .stored(let count, let changed):
            if changed {
                c.writes += max(count, 1)
                if count > 0, let destination = options.store { c.signalReady(destination) }
            }
            c.integer(reply: count)
        }
    }

    /// What a SORT computed.
    enum Outcome {
        /// A value to sort by is not a number (numeric sort).
        case notNumbers
        /// The reply's elements (nil: a GET that found nothing).
        case rows([[UInt8]?])
        /// STORE wrote `count` elements (or deleted an empty destination, if `changed`).
        case stored(count: Int, changed: Bool)
    }

    /// Parses the options after the key, as Redis does: in order, each keyword taking its
    /// arguments only when enough are left (else it is a syntax error).
    static func parse<A: KeyAccess>(_ c: inout Call<A>) throws -> Options {
        var o = Options()
        let readonly = c.name == "sort_ro"
        var j = 2
        while j < c.count {
            let left = c.count - j - 1
            switch c.option(j) {
            case "ASC": o.descending = false
            case "DESC": o.descending = true
            case "ALPHA": o.alpha = true
            case "LIMIT" where left >= 2:
                o.limitStart = try c.integer(j + 1)
                o.limitCount = try c.integer(j + 2)
                j += 2
            case "STORE" where !readonly && left >= 1:
                o.store = c.key(j + 1)
                j += 1
            case "BY" where left >= 1:
                let pattern = c.bytes(j + 1)
                o.by = Pattern(pattern)
                o.dontSort = !pattern.prefix { $0 != 0 }.contains(UInt8(ascii: "*"))
                j += 1
            case "GET" where left >= 1:
                o.gets.append(Pattern(c.bytes(j + 1)))
                j += 1
            default:
                throw CommandError.syntax
            }
            j += 1
        }
        return o
    }

    /// One element being sorted, with what it sorts by.
    private struct Item {
        var element: [UInt8]
        var score: Double = 0
        /// ALPHA with BY: the value found (nil: none, which sorts first).
        var byValue: [UInt8]?
    }

    /// Sorts the collection at `key` and applies LIMIT and GET, reading through `access`.
    ///
    /// - Throws: ``CommandError/wrongType`` when `key` holds a string or a hash.
    static func run<A: KeyAccess>(_ key: ByteKey, _ o: Options, _ access: inout A) throws -> Outcome {
        let payload: StoredValue.Payload? = try access.read(key) { entry, _ in entry?.value.payload }
        var o = o
        let length: Int
        switch payload {
        case nil: length = 0
        case .list(let list)?: length = list.count
        case .set(let set)?:
            length = set.count
            if o.dontSort, o.store != nil {
                // Redis sorts a set it stores, so that the stored order is defined.
                o.dontSort = false
                o.alpha = true
                o.by = nil
            }
        case .zset(let zset)?: length = zset.count
        default: throw CommandError.wrongType
        }
        // LIMIT, clamped to the collection as Redis 7.0 clamps it (no overflow).
        var start = Int(min(max(o.limitStart, 0), Int64(length)))
        let count = Int(min(max(o.limitCount, -1), Int64(length)))
        var end = count < 0 ? length - 1 : start + count - 1
        if start >= length {
            start = length - 1
            end = length - 2
        }
        if end >= length { end = length - 1 }
        let range = end >= start ? start..<(end + 1) : 0..<0

        var items: [Item] = []
        // The rows of `items` the reply takes: a list or sorted set left unsorted is
        // read for its range only.
        var rows = range
        switch payload {
        case .list(let list)? where o.dontSort:
            rows = 0..<range.count
            guard !range.isEmpty else { break }
            items.reserveCapacity(range.count)
            var skip = o.descending ? range.lowerBound : 0
            let visit: (UnsafeRawBufferPointer) -> Bool = { element in
                guard skip == 0 else {
                    skip -= 1
                    return true
                }
                items.append(Item(element: Array(element)))
                return items.count < range.count
            }
            if o.descending { list.forEachReversed(visit) } else { list.forEach(from: range.lowerBound, visit) }
        case .zset(let zset)? where o.dontSort:
            rows = 0..<range.count
            let ranks = o.descending ? (length - range.upperBound)..<(length - range.lowerBound) : range
            items.reserveCapacity(ranks.count)
            zset.forEachMember(inRanks: ranks, reverse: o.descending) { member, _ in
                items.append(Item(element: Array(member)))
            }
        case .list(let list)?:
            items.reserveCapacity(length)
            list.forEach(from: 0) { element in
                items.append(Item(element: Array(element)))
                return true
            }
        case .set(let set)?:
            items.reserveCapacity(length)
            set.forEachMember { items.append(Item(element: Array($0))) }
        case .zset(let zset)?:
            items.reserveCapacity(length)
            zset.forEachMember { member, _ in items.append(Item(element: Array(member))) }
        default:
            break
        }

        if !o.dontSort {
            for i in items.indices {
                let value: [UInt8]
                if let by = o.by {
                    guard let found = try by.lookup(items[i].element, &access) else { continue }
                    value = found
                } else {
                    value = items[i].element
                }
                if o.alpha {
                    if o.by != nil { items[i].byValue = value }
                } else {
                    guard let score = sortScore(value) else { return .notNumbers }
                    items[i].score = score
                }
            }
            let descending = o.descending
            if o.alpha {
                if o.by != nil {
                    items.sort { a, b in
                        let order: Int
                        switch (a.byValue, b.byValue) {
                        case (nil, nil): order = 0
                        case (nil, _): order = -1
                        case (_, nil): order = 1
                        case (let x?, let y?): order = compare(x, y)
                        }
                        return descending ? order > 0 : order < 0
                    }
                } else {
                    items.sort { a, b in
                        let order = compare(a.element, b.element)
                        return descending ? order > 0 : order < 0
                    }
                }
            } else {
                items.sort { a, b in
                    let order =
                        a.score > b.score ? 1 : a.score < b.score ? -1 : compare(a.element, b.element)
                    return descending ? order > 0 : order < 0
                }
            }
        }

        var out: [[UInt8]?] = []
        out.reserveCapacity(rows.count * max(1, o.gets.count))
        for i in rows {
            if o.gets.isEmpty {
                out.append(items[i].element)
            } else {
                for get in o.gets { out.append(try get.lookup(items[i].element, &access)) }
            }
        }
        return .rows(out)
    }

    /// Compares two strings as Redis's `compareStringObjects` does: `memcmp` over the
    /// shorter length, then the shorter first.
    static func compare(_ a: [UInt8], _ b: [UInt8]) -> Int {
        let common = min(a.count, b.count)
        let order = a.withUnsafeBytes { x in
            b.withUnsafeBytes { y in common == 0 ? 0 : memcmp(x.baseAddress!, y.baseAddress!, common) }
        }
        if order != 0 { return order < 0 ? -1 : 1 }
        return a.count == b.count ? 0 : a.count < b.count ? -1 : 1
    }

    /// A value as SORT reads it for a numeric sort: `strtod` up to the first NUL byte,
    /// which must read it all (so the empty string is 0, and leading spaces pass), with no
    /// range error (`1e400`, `1e-310`) and not NaN; nil otherwise.
    static func sortScore(_ bytes: [UInt8]) -> Double? {
        var text = Array(bytes.prefix { $0 != 0 })
        let length = text.count
        text.append(0)
        return text.withUnsafeBufferPointer { buffer -> Double? in
            buffer.withMemoryRebound(to: CChar.self) { chars -> Double? in
                guard let start = chars.baseAddress else { return nil }
                var end: UnsafeMutablePointer<CChar>? = nil
                errno = 0
                let value = strtod(start, &end)
                guard let end, end - UnsafeMutablePointer(mutating: start) == length else { return nil }
                guard errno != ERANGE, !value.isNaN else { return nil }
                return value
            }
        }
    }
}
