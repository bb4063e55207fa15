/// A sorted set of `Int64`s packed at the narrowest width that holds them all (2, 4 or 8
/// bytes each), as Redis's intset.c: the compact encoding of a set whose members are all
/// canonical integers.
///
/// Lookups are binary searches; an insert or a removal moves the elements after it
/// (O(n) bytes, as in Redis, where an intset holds at most `set-max-intset-entries`
/// members). A value that needs a wider width rewrites the whole block at that width,
/// once; the width never narrows.
///
/// Thread-safety: a value type; not shared.
struct IntSet: Sendable {
    /// The elements, ascending, each `width` bytes in native byte order.
    private(set) var bytes: [UInt8] = []
    /// Bytes per element: 2, 4 or 8 (one byte, so that a set's storage object packs it).
    private var storedWidth: UInt8 = 2

    /// Bytes per element: 2, 4 or 8.
    var width: Int { Int(storedWidth) }

    init() {}

    /// How many elements there are. O(1).
    var count: Int { bytes.count / width }

    /// The element at `position` (ascending order).
    ///
    /// - Precondition: `0 <= position < count`.
    @inline(__always)
    subscript(position: Int) -> Int64 {
        bytes.withUnsafeBytes { Self.load(position, width: width, from: $0) }
    }

    @inline(__always)
    private static func load(_ position: Int, width: Int, from raw: UnsafeRawBufferPointer) -> Int64 {
        switch width {
        case 2: Int64(raw.loadUnaligned(fromByteOffset: position * 2, as: Int16.self))
        case 4: Int64(raw.loadUnaligned(fromByteOffset: position * 4, as: Int32.self))
        default: raw.loadUnaligned(fromByteOffset: position * 8, as: Int64.self)
        }
    }

    /// The width that holds `value` (Redis's `_intsetValueEncoding`).
    static func width(for value: Int64) -> Int {
        if value >= Int64(Int16.min) && value <= Int64(Int16.max) { return 2 }
        if value >= Int64(Int32.min) && value <= Int64(Int32.max) { return 4 }
        return 8
    }

    /// Where `value` is, or where it would go to keep the order.
    ///
    /// - Complexity: O(log n).
    func search(_ value: Int64) -> (found: Bool, position: Int) {
        if Self.width(for: value) > width { return (false, value < 0 ? 0 : count) }
        return bytes.withUnsafeBytes { raw in
            var low = 0
            var high = raw.count / width
            while low < high {
                let middle = (low + high) / 2
                let element = Self.load(middle, width: width, from: raw)
                if element == value { return (true, middle) }
                if element < value { low = middle + 1 } else { high = middle }
            }
            return (false, low)
        }
    }

    /// Whether `value` is an element. O(log n).
    func contains(_ value: Int64) -> Bool { search(value).found }

    /// Adds `value`; returns whether it was new.
    ///
    /// - Complexity: O(n): the elements after it move, and the block grows to its exact
    ///   size, as Redis reallocates an intset per insert.
    @discardableResult
    mutating func insert(_ value: Int64) -> Bool {
        let needed = Self.width(for: value)
        if needed > width { widen(to: needed) }
        let (found, position) = search(value)
        if found { return false }
        if bytes.capacity < bytes.count + width { bytes.reserveCapacity(bytes.count + width) }
        let offset = position * width
        switch width {
        case 2: withUnsafeBytes(of: Int16(truncatingIfNeeded: value)) { bytes.insert(contentsOf: $0, at: offset) }
        case 4: withUnsafeBytes(of: Int32(truncatingIfNeeded: value)) { bytes.insert(contentsOf: $0, at: offset) }
        default: withUnsafeBytes(of: value) { bytes.insert(contentsOf: $0, at: offset) }
        }
        return true
    }

    /// Removes the element at `position`.
    ///
    /// - Precondition: `0 <= position < count`.
    /// - Complexity: O(n).
    mutating func remove(at position: Int) {
        bytes.removeSubrange((position * width)..<((position + 1) * width))
    }

    /// Removes `value`; returns whether it was there. O(n).
    @discardableResult
    mutating func remove(_ value: Int64) -> Bool {
        let (found, position) = search(value)
        if found { remove(at: position) }
        return found
    }

    /// Rewrites every element at `newWidth`.
    private mutating func widen(to newWidth: Int) {
        let n = count
        var wider: [UInt8] = []
        wider.reserveCapacity((n + 1) * newWidth)
        for i in 0..<n {
            let value = self[i]
            switch newWidth {
            case 4: withUnsafeBytes(of: Int32(truncatingIfNeeded: value)) { wider.append(contentsOf: $0) }
            default: withUnsafeBytes(of: value) { wider.append(contentsOf: $0) }
            }
        }
        bytes = wider
        storedWidth = UInt8(truncatingIfNeeded: newWidth)
    }

    /// The bytes of heap the block takes (an array's 32-byte header and its capacity).
    var heapBytes: Int { bytes.capacity == 0 ? 0 : MallocSize.chunk(requesting: 32 + bytes.capacity) }
}
