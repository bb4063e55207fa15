/// An immutable byte string in one compact heap block: the value type to store binary
/// values in a ``KeyValueStore`` (`KeyValueStore<ValueBytes>`).
///
/// **Why not `[UInt8]`.** Both work, and both copy in O(1) (a retain). `ValueBytes` is
/// smaller and cheaper to make:
/// - *Memory.* An array's storage has a 32-byte header (object header, count,
///   capacity), so 64 bytes of data take a 96-byte block, which glibc's malloc rounds up
///   to a 112-byte chunk. A `ValueBytes` block has a 24-byte header (object header and
///   count): 88 bytes, a 96-byte chunk. With 1,000,000 such values that is 16 MB less.
/// - *Time.* Making an array of bytes looks up its storage class's generic metadata in
///   the Swift runtime's cache on every allocation (Swift 6.3 on Linux); a `ValueBytes`
///   does not, and costs less than half as much to make and free.
///
/// The figures, and how to rerun them, are in docs/design/value-storage.md.
///
/// The bytes are written once, when the value is made, and never change: a changed
/// value is a new `ValueBytes`.
///
/// Snapshots store a `ValueBytes` value as its bytes, like `[UInt8]` and `Data`
/// (docs/value-encoding.md); nested inside another `Codable` type it encodes as `[UInt8]`.
///
/// - Thread safety: `Sendable`; a value can be read from any number of threads at once.
/// - Cost: making one allocates once and copies (or writes) the bytes once; copying one
///   is a retain; `==` compares identity, then the bytes.
// @unchecked Sendable is safe: `ManagedBuffer` is not `Sendable` because its header and
// tail are mutable, but this type writes them only inside its initializers, before the
// block is reachable from anywhere else, and never again (nothing here mutates it); the
// block is private, so no other code can.
public struct ValueBytes: @unchecked Sendable {  // safe: see the proof above
    /// The block: its header is the byte count, its tail the bytes.
    @usableFromInline let storage: ManagedBuffer<Int, UInt8>

    /// A value of `count` bytes that `initializer` writes in place (no intermediate copy).
    ///
    /// `initializer` gets the whole uninitialized buffer and must write every byte of it.
    /// If it throws, nothing is kept and the error is rethrown.
    ///
    /// - Precondition: `count >= 0`.
    @inlinable
    public init(count: Int, initializingWith initializer: (UnsafeMutableRawBufferPointer) throws -> Void) rethrows {
        precondition(count >= 0, "ValueBytes: a negative byte count")
        storage = ManagedBuffer<Int, UInt8>.create(minimumCapacity: count) { _ in count }
        try storage.withUnsafeMutablePointerToElements { elements in
            try initializer(UnsafeMutableRawBufferPointer(start: elements, count: count))
        }
    }

    /// A value with a copy of `bytes`.
    @inlinable
    public init(_ bytes: UnsafeRawBufferPointer) {
        self.init(count: bytes.count) { target in
            if let source = bytes.baseAddress, let base = target.baseAddress {
                base.copyMemory(from: source, byteCount: bytes.count)
            }
        }
    }

    /// A value with a copy of `bytes` (an array, a `Data`, another `ValueBytes`…).
    ///
    /// - Complexity: O(n); one pass when `bytes` is contiguous, two otherwise.
    public init<Bytes: Sequence>(_ bytes: Bytes) where Bytes.Element == UInt8 {
        if let made = bytes.withContiguousStorageIfAvailable({ ValueBytes(UnsafeRawBufferPointer($0)) }) {
            self = made
        } else {
            self = Array(bytes).withUnsafeBytes { ValueBytes($0) }
        }
    }

    /// How many bytes the value has. O(1).
    ///
    /// Read through the header's pointer, not `storage.header`: that is a class's stored
    /// `var`, and every read of it would take a dynamic exclusivity check
    /// (`swift_beginAccess`).
    @inlinable
    public var count: Int { storage.withUnsafeMutablePointerToHeader { $0.pointee } }

    /// Calls `body` with the bytes, valid only for the call.
    @inlinable
    public func withUnsafeBytes<R, E: Error>(_ body: (UnsafeRawBufferPointer) throws(E) -> R) throws(E) -> R {
        let pointer = storage.withUnsafeMutablePointerToElements { UnsafeRawPointer($0) }
        return try withExtendedLifetime(storage) { () throws(E) -> R in
            try body(UnsafeRawBufferPointer(start: pointer, count: count))
        }
    }

    /// The bytes as an array (a copy).
    package var array: [UInt8] { withUnsafeBytes { Array($0) } }
}

extension ValueBytes: RandomAccessCollection {
    /// Always 0.
    @inlinable
    public var startIndex: Int { 0 }
    /// The byte count.
    @inlinable
    public var endIndex: Int { count }

    /// The byte at `position`. Traps if `position` is out of bounds, as `Array` does.
    @inlinable
    public subscript(position: Int) -> UInt8 {
        precondition(position >= 0 && position < count, "ValueBytes index out of range")
        return storage.withUnsafeMutablePointerToElements { $0[position] }
    }

    /// Calls `body` with the bytes (always contiguous), valid only for the call.
    @inlinable
    public func withContiguousStorageIfAvailable<R>(_ body: (UnsafeBufferPointer<UInt8>) throws -> R) rethrows -> R? {
        try storage.withUnsafeMutablePointerToElements { try body(UnsafeBufferPointer(start: $0, count: count)) }
    }
}

extension ValueBytes: Hashable {
    /// Byte-for-byte equality (identity first: a shared block is equal without a compare).
    public static func == (a: ValueBytes, b: ValueBytes) -> Bool {
        if a.storage === b.storage { return true }
        guard a.count == b.count else { return false }
        return a.withUnsafeBytes { x in b.withUnsafeBytes { y in x.elementsEqual(y) } }
    }

    /// Hashes the bytes (equal values hash equally, whatever their blocks).
    public func hash(into hasher: inout Hasher) {
        hasher.combine(count)
        withUnsafeBytes { hasher.combine(bytes: $0) }
    }
}

extension ValueBytes: ExpressibleByArrayLiteral {
    /// A value with the given bytes: `let value: ValueBytes = [0x01, 0x02]`.
    public init(arrayLiteral bytes: UInt8...) {
        self.init(bytes)
    }
}

extension ValueBytes: Codable {
    /// Encodes the bytes as an `[UInt8]` (a snapshot of `KeyValueStore<ValueBytes>`
    /// stores top-level values as their raw bytes instead).
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(array)
    }

    /// Decodes bytes encoded by ``encode(to:)`` (an `[UInt8]`).
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        self.init(try container.decode([UInt8].self))
    }
}

extension ValueBytes: CustomStringConvertible, CustomDebugStringConvertible {
    /// `"64 bytes"`: the length, not the contents, which may be binary or secret.
    public var description: String { count == 1 ? "1 byte" : "\(count) bytes" }

    /// The bytes in hexadecimal, the first 32 of them: `ValueBytes(3 bytes: 01 02 ff)`.
    public var debugDescription: String {
        let shown = prefix(32).map { byte in
            let hex = String(byte, radix: 16)
            return byte < 16 ? "0" + hex : hex
        }
        return "ValueBytes(\(description): \(shown.joined(separator: " "))\(count > 32 ? " …" : ""))"
    }
}
