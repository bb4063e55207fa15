import KVS

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// One packed run of list elements: a list's whole content while it is small (the
/// `listpack` encoding), one node of the deque once it is large (`quicklist`).
///
/// Each element is laid out as Redis's listpack lays out a string entry, so that it can be
/// read from either end: its length (LEB128), its bytes, then a back-length (the size of
/// the first two parts, LEB128 written backwards) that lets a reader step to the
/// previous element. An element of up to 127 bytes costs two bytes beside its own.
///
/// A value type over one array: a copy shares the bytes until either side writes, so a
/// list copied for a writer copies only the nodes it changes.
struct ListNode: Sendable {
    /// The elements, packed, after `start` unused bytes.
    private(set) var bytes: [UInt8]
    /// `start` and `count` in 32 bits each, so a node is two words (a list of one node
    /// holds it inline in its storage object). A node's count is at most half its byte
    /// limit (64 KiB) or 1, and the room at its head at most that limit.
    private var start32: UInt32
    private var count32: UInt32

    /// Unused bytes at the front of `bytes`: room for pushes at the head without moving
    /// the elements (a quicklist's new head node starts with its limit's worth), and what
    /// pops at the head leave behind.
    var start: Int {
        get { Int(start32) }
        set { start32 = UInt32(newValue) }
    }

    /// How many elements the node holds.
    var count: Int {
        get { Int(count32) }
        set { count32 = UInt32(newValue) }
    }

    init() {
        bytes = []
        start32 = 0
        count32 = 0
    }

    init(bytes: [UInt8], count: Int) {
        self.bytes = bytes
        self.start32 = 0
        self.count32 = UInt32(count)
    }

    /// A node holding `element` alone; with `roomAtHead`, at the end of an array of the
    /// node's byte limit, so that the pushes at the head that follow move nothing.
    init(element: UnsafeRawBufferPointer, limits: ListLimits, roomAtHead: Bool = false) {
        self.init()
        let size = Self.encodedSize(ofLength: element.count)
        // A node limited by count gets room for that many elements like this one.
        let ceiling = limits.growthCeiling
        let room = limits.countLimit.map { $0 >= ceiling / size ? ceiling : $0 * size } ?? ceiling
        guard roomAtHead, size < room else {
            insert(element, at: 0, limits: limits)
            return
        }
        bytes = [UInt8](repeating: 0, count: room)
        let at = room - size
        start = at
        bytes.withUnsafeMutableBytes { _ = Self.write(element, to: $0.baseAddress! + at) }
        count = 1
    }

    /// The most room kept at a node's head; past it, pops at the head move the bytes.
    static let maxRoomAtHead = 1 << 20

    /// The bytes the elements take (what the node's limit counts).
    var used: Int { bytes.count - start }

    /// The bytes of the array's buffer.
    var capacity: Int { bytes.capacity }

    /// Calls `body` with the elements' bytes (offsets below are relative to them).
    @inline(__always)
    func withBlock<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try bytes.withUnsafeBytes { try body(UnsafeRawBufferPointer(rebasing: $0[start...])) }
    }

    /// Makes room for `extra` more bytes at the end, once, to the exact size.
    mutating func reserve(extra: Int) {
        let needed = bytes.count + extra
        if bytes.capacity < needed { bytes.reserveCapacity(needed) }
    }

    // MARK: Layout

    /// The bytes a LEB128 encoding of `n` takes.
    @inline(__always)
    static func varintSize(_ n: Int) -> Int {
        var size = 1
        var rest = n >> 7
        while rest != 0 {
            size += 1
            rest >>= 7
        }
        return size
    }

    /// The bytes an element of `length` bytes takes in a node.
    @inline(__always)
    static func encodedSize(ofLength length: Int) -> Int {
        let head = varintSize(length) + length
        return head + varintSize(head)
    }

    /// Writes `element` at `out` and returns how many bytes it took
    /// (``encodedSize(ofLength:)``).
    static func write(_ element: UnsafeRawBufferPointer, to out: UnsafeMutableRawPointer) -> Int {
        var p = 0
        var n = element.count
        while n >= 0x80 {
            out.storeBytes(of: UInt8(truncatingIfNeeded: n) | 0x80, toByteOffset: p, as: UInt8.self)
            n >>= 7
            p += 1
        }
        out.storeBytes(of: UInt8(n), toByteOffset: p, as: UInt8.self)
        p += 1
        if let base = element.baseAddress, element.count > 0 { memcpy(out + p, base, element.count) }
        p += element.count
        // The back-length: its low 7 bits last, each byte but the first flagged 0x80.
        let head = p
        let size = varintSize(head)
        var value = head
        for j in 0..<size {
            let group = UInt8(truncatingIfNeeded: value & 0x7F) | (j < size - 1 ? 0x80 : 0)
            out.storeBytes(of: group, toByteOffset: p + size - 1 - j, as: UInt8.self)
            value >>= 7
        }
        return p + size
    }

    /// The element that starts at `offset`: its bytes, and where the next one starts.
    @inline(__always)
    static func element(at offset: Int, in block: UnsafeRawBufferPointer) -> (bytes: Range<Int>, next: Int) {
        var length = 0
        var shift = 0
        var i = offset
        while true {
            let byte = block[i]
            length |= Int(byte & 0x7F) << shift
            i += 1
            if byte & 0x80 == 0 { break }
            shift += 7
        }
        let end = i + length
        return (i..<end, end + varintSize(end - offset))
    }

    /// Where the element that ends at `end` starts.
    @inline(__always)
    static func start(ofElementEndingAt end: Int, in block: UnsafeRawBufferPointer) -> Int {
        var value = 0
        var shift = 0
        var i = end - 1
        while true {
            let byte = block[i]
            value |= Int(byte & 0x7F) << shift
            if byte & 0x80 == 0 { break }
            shift += 7
            i -= 1
        }
        return i - value
    }

    // MARK: Positions

    /// The byte offset of element `index` (`count` for the end), walking from the nearer
    /// end of the node.
    ///
    /// - Complexity: O(size of the node).
    func offset(of index: Int) -> Int {
        withBlock { block in
            if index <= count / 2 {
                var offset = 0
                for _ in 0..<index { offset = Self.element(at: offset, in: block).next }
                return offset
            }
            var offset = block.count
            for _ in index..<count { offset = Self.start(ofElementEndingAt: offset, in: block) }
            return offset
        }
    }

    /// The bytes of the element at byte offset `offset`, as a block of its own.
    func value(at offset: Int) -> ValueBytes {
        withBlock { block in
            ValueBytes(UnsafeRawBufferPointer(rebasing: block[Self.element(at: offset, in: block).bytes]))
        }
    }

    // MARK: Writing

    /// Inserts `element` at byte offset `offset` (an element boundary).
    ///
    /// The array grows by half its size, but never past the node's byte limit unless one
    /// element needs more, so a full node wastes little and a small list stays close to
    /// its size.
    ///
    /// - Complexity: O(size of the node).
    mutating func insert(_ element: UnsafeRawBufferPointer, at offset: Int, limits: ListLimits) {
        let size = Self.encodedSize(ofLength: element.count)
        count += 1
        let first = start
        if first >= size {
            // Into the room at the head: the elements before `offset` move back by `size`.
            bytes.withUnsafeMutableBytes { block in
                let base = block.baseAddress!
                if offset > 0 { memmove(base + first - size, base + first, offset) }
                _ = Self.write(element, to: base + first - size + offset)
            }
            start = first - size
            return
        }
        let at = first + offset
        let old = bytes.count
        let needed = old + size
        if bytes.capacity < needed {
            bytes.reserveCapacity(max(needed, min(limits.growthCeiling, bytes.capacity + bytes.capacity / 2)))
        }
        bytes.append(contentsOf: repeatElement(0, count: size))
        bytes.withUnsafeMutableBytes { block in
            let base = block.baseAddress!
            if at < old { memmove(base + at + size, base + at, old - at) }
            _ = Self.write(element, to: base + at)
        }
    }

    /// Replaces the element at byte offset `offset` with `element`.
    ///
    /// - Complexity: O(size of the node).
    mutating func replace(at offset: Int, with element: UnsafeRawBufferPointer) {
        let end = withBlock { Self.element(at: offset, in: $0).next }
        var encoded = [UInt8](repeating: 0, count: Self.encodedSize(ofLength: element.count))
        encoded.withUnsafeMutableBytes { _ = Self.write(element, to: $0.baseAddress!) }
        bytes.replaceSubrange((start + offset)..<(start + end), with: encoded)
    }

    /// Removes the elements in the byte range `range`, which holds `elements` of them; at
    /// the head the range only becomes room for later pushes.
    mutating func remove(_ range: Range<Int>, elements: Int) {
        count -= elements
        if range.lowerBound == 0, start + range.count <= Self.maxRoomAtHead {
            start += range.count
        } else {
            bytes.removeSubrange((start + range.lowerBound)..<(start + range.upperBound))
        }
    }

    /// This node cut in two at element `index`: the elements before it stay, the ones
    /// from it on are returned.
    mutating func split(at index: Int) -> ListNode {
        let offset = start + offset(of: index)
        let tail = ListNode(bytes: Array(bytes[offset...]), count: count - index)
        bytes.removeSubrange(offset...)
        count = index
        return tail
    }
}

/// When a list leaves the listpack encoding, and how large a quicklist node grows: Redis's
/// `list-max-listpack-size` (alias `list-max-ziplist-size`). A negative value -1 to -5 caps
/// a node at 4, 8, 16, 32 or 64 KiB; a positive value N at N elements (and 8 KiB). Sizes
/// are those of kvs's own node layout (``ListNode``), within a few bytes per element of
/// Redis's listpack.
package struct ListLimits: Sendable, Equatable {
    /// `list-max-listpack-size`.
    package var fill: Int

    /// Redis 7's default: -2, 8 KiB per node.
    package static let redisDefaults = ListLimits(fill: -2)

    package init(fill: Int) { self.fill = fill }

    /// Redis's `SIZE_SAFETY_LIMIT`: a node limited by count still stays under 8 KiB.
    static let safetyLimit = 8192

    /// The most bytes a node holds (`nil` when limited by count), as Redis's
    /// `quicklistNodeLimit`.
    var sizeLimit: Int? {
        guard fill < 0 else { return nil }
        // Redis's `optimization_level`: -1 to -5; below -5 counts as -5.
        return 4096 << (fill < -5 ? 4 : Int(-fill) - 1)
    }

    /// The most elements a node holds (`nil` when limited by size).
    var countLimit: Int? { fill >= 0 ? max(fill, 1) : nil }

    /// Whether a node of `bytes` bytes and `count` elements is over the limit (Redis's
    /// `quicklistNodeExceedsLimit`).
    func exceeds(bytes: Int, count: Int) -> Bool {
        if let sizeLimit { return bytes > sizeLimit }
        return bytes > Self.safetyLimit || count > (countLimit ?? Int.max)
    }

    /// Whether a quicklist of one node of `bytes` bytes and `count` elements is small
    /// enough to become a listpack again: half the limits, as Redis 7.2's
    /// `listTypeTryConvertQuicklist` asks when a list shrinks.
    func fitsShrunk(bytes: Int, count: Int) -> Bool {
        if let sizeLimit { return bytes <= sizeLimit / 2 }
        return bytes <= Self.safetyLimit && count <= (countLimit ?? Int.max) / 2
    }

    /// The capacity past which a node's array grows only to the size it needs.
    var growthCeiling: Int { sizeLimit ?? Self.safetyLimit }
}
