/// A string value's bytes in one compact, immutable heap block.
///
/// **Why not `[UInt8]`.** An array's storage has a 32-byte header (the object header,
/// the count, the capacity), so a 64-byte value is a 96-byte block, which glibc's malloc
/// rounds up to a 112-byte chunk. This block has a 24-byte header (object header and
/// count): 88 bytes, a 96-byte chunk. With 1,000,000 keys of 64-byte values
/// (`scripts/bench-server.sh`), that is 16 bytes per key of resident memory.
///
/// Values are immutable: a command that changes a string (APPEND, SETRANGE, INCR…)
/// builds a new one, and re-stamping an entry (EXPIRE, PERSIST…) shares the block.
///
/// Thread-safety: `Sendable`; the bytes are written once, before the value is shared.
/// Cost: creating one copies the bytes once; copying a `ValueBytes` is a retain.
// @unchecked Sendable is safe: `ManagedBuffer` is not `Sendable` because its header and
// tail are mutable, but this type writes them only inside `init`, before the block is
// reachable from anywhere else, and never again (nothing here mutates it); the block is
// private, so no other code can.
package struct ValueBytes: @unchecked Sendable {  // safe: see the proof above
    /// The block: its header is the byte count, its tail the bytes.
    private let storage: ManagedBuffer<Int, UInt8>

    /// A value with a copy of `bytes`.
    package init(_ bytes: UnsafeRawBufferPointer) {
        storage = ManagedBuffer<Int, UInt8>.create(minimumCapacity: bytes.count) { _ in bytes.count }
        storage.withUnsafeMutablePointerToElements { target in
            if let source = bytes.baseAddress {
                UnsafeMutableRawPointer(target).copyMemory(from: source, byteCount: bytes.count)
            }
        }
    }

    /// A value with a copy of `bytes`.
    package init(_ bytes: [UInt8]) {
        self = bytes.withUnsafeBytes { ValueBytes($0) }
    }

    /// How many bytes the value has.
    package var count: Int { storage.header }

    /// Calls `body` with the bytes, valid only for the call.
    package func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
        try storage.withUnsafeMutablePointerToElements { elements in
            try body(UnsafeRawBufferPointer(start: elements, count: storage.header))
        }
    }

    /// The bytes as an array (a copy).
    package var array: [UInt8] { withUnsafeBytes { Array($0) } }
}

extension ValueBytes: RandomAccessCollection {
    /// Always 0.
    package var startIndex: Int { 0 }
    /// The byte count.
    package var endIndex: Int { storage.header }

    /// The byte at `position`; traps if it is out of bounds, as `Array` does.
    package subscript(position: Int) -> UInt8 {
        precondition(position >= 0 && position < storage.header, "ValueBytes index out of range")
        return storage.withUnsafeMutablePointerToElements { $0[position] }
    }

    /// Calls `body` with the bytes (always contiguous), valid only for the call.
    package func withContiguousStorageIfAvailable<R>(_ body: (UnsafeBufferPointer<UInt8>) throws -> R) rethrows -> R? {
        try storage.withUnsafeMutablePointerToElements { try body(UnsafeBufferPointer(start: $0, count: storage.header)) }
    }
}

extension ValueBytes: Equatable {
    /// Byte-for-byte equality (identity first: a shared block is equal without a compare).
    package static func == (a: ValueBytes, b: ValueBytes) -> Bool {
        a.storage === b.storage || a.withUnsafeBytes { x in b.withUnsafeBytes { y in x.elementsEqual(y) } }
    }
}
