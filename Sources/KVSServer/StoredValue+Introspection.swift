import KVS

/// What the introspection commands (OBJECT, MEMORY USAGE) and the string-only commands
/// (LCS) ask of a stored value, answered in one place from the value itself: a new value
/// type (hash, list, …) answers here, and those commands follow.
extension StoredValue {
    /// The value's bytes if it is a string, `nil` otherwise (LCS answers Redis's type
    /// error for `nil`).
    package var stringBytes: ValueBytes? {
        guard case .string(let bytes) = payload else { return nil }
        return bytes
    }

    /// Redis's name of the value's encoding (`OBJECT ENCODING`), as Redis would pick it
    /// when the value is stored by SET (`tryObjectEncoding` in Redis's object.c): `int`
    /// for a canonical decimal integer of at most 20 characters in the 64-bit range,
    /// `embstr` for at most 44 bytes, else `raw`; a hash's encoding is `listpack` or
    /// `hashtable`, a list's `listpack` or `quicklist`, a set's `intset` or `hashtable`, a
    /// sorted set's `listpack` or `skiplist`: the one in use.
    ///
    /// kvs keeps only the bytes, not how they were written, so a value Redis would keep
    /// `raw` after APPEND or SETRANGE, or `embstr` after INCRBYFLOAT, is named from its
    /// bytes here instead.
    package var encodingName: String {
        let bytes: ValueBytes
        switch payload {
        case .string(let string): bytes = string
        case .hash(let hash): return hash.encodingName
        case .list(let list): return list.encodingName
        case .set(let set): return set.encodingName
        case .zset(let zset): return zset.encodingName
        case .vacant: return ""
        }
        let count = bytes.count
        if count <= 20, RedisNumber.parseInt64(bytes) != nil { return "int" }
        return count <= Self.embeddedStringLimit ? "embstr" : "raw"
    }

    /// `OBJECT REFCOUNT`: Redis shares the integers 0 to 9,999 among all keys and reports
    /// their count as `INT_MAX`; every other value has one reference.
    package var referenceCount: Int64 {
        guard case .string(let bytes) = payload else { return 1 }
        guard bytes.count <= 4, let n = RedisNumber.parseInt64(bytes), n >= 0, n < Self.sharedIntegers else { return 1 }
        return Int64(Int32.max)
    }

    /// The bytes of heap the value's own blocks take, as glibc's malloc hands them out
    /// (`MEMORY USAGE`): a string is one ``ValueBytes`` block, a 24-byte header (the
    /// object header and the count) and then the bytes; a hash, see
    /// ``HashValue/heapBytes``, and so on for each type.
    package var heapBytes: Int {
        switch payload {
        case .string(let bytes): MallocSize.chunk(requesting: 24 + bytes.count)
        case .hash(let hash): hash.heapBytes
        case .list(let list): list.heapBytes
        case .set(let set): set.heapBytes
        case .zset(let zset): zset.heapBytes
        case .vacant: 0
        }
    }

    /// How many allocations freeing the value takes, as Redis's `lazyfreeGetFreeEffort`
    /// counts them: 1 for a string and a compact collection, the elements of a table.
    package var freeEffort: Int {
        switch payload {
        case .string: 1
        case .hash(let hash): hash.isPacked ? 1 : hash.count
        case .list(let list): list.nodeCount
        case .set(let set): set.isIntset ? 1 : set.count
        case .zset(let zset): zset.isPacked ? 1 : zset.count
        case .vacant: 0
        }
    }

    /// Redis's `OBJ_ENCODING_EMBSTR_SIZE_LIMIT`.
    static let embeddedStringLimit = 44
    /// Redis's `OBJ_SHARED_INTEGERS`.
    static let sharedIntegers: Int64 = 10_000
}

/// The size of the chunk glibc's malloc uses for a request (64-bit): the request plus an
/// 8-byte size field, rounded up to 16 bytes, at least 32.
enum MallocSize {
    static func chunk(requesting bytes: Int) -> Int {
        let (padded, overflow) = bytes.addingReportingOverflow(8 + 15)
        guard !overflow else { return Int.max }
        return max(32, padded & ~15)
    }
}
