// The `Encoder` of the binary value format (docs/value-encoding.md).
//
// The encoder streams: every value is appended to one buffer as soon as it is encoded,
// with no intermediate tree. A container's element count is written as a one-byte
// placeholder when the container opens and patched when it closes. A container closes when
// a value is written to an enclosing container, or when the `encode(to:)` call that owns it
// returns. Writing to a container after it closed (possible only by holding on to a nested
// container or super encoder while writing to its parent, which no synthesized Codable does)
// throws `EncodingError.invalidValue`.

import Foundation

/// State shared by every encoder of one top-level `encode`: the output and the chain of open
/// encoders.
final class BinaryEncodingSink {
    // The hot mutable state of the encoder is exempt from dynamic exclusivity checks, which
    // otherwise cost more than the writes themselves. No access to it can overlap another:
    // it is touched only by this file's and BinaryValueWriter's non-reentrant methods, on the one
    // thread running the encode.
    @exclusivity(unchecked) var writer: BinaryValueWriter
    /// The most deeply nested open encoder. The open encoders are exactly it and its
    /// `parent` chain, so a value can be appended only for one of them.
    @exclusivity(unchecked) var innermost: BinaryEncoder?
    /// An error found where the `Encoder` API cannot throw (a container requested in a wrong
    /// state, nesting too deep); the top-level encode throws it at the end.
    var deferredError: (any Error)?

    init() {
        writer = BinaryValueWriter()
    }

    /// Makes `encoder` the innermost open encoder, closing every encoder nested in it.
    /// Throws if `encoder` is already closed.
    @inline(__always)
    func activate(_ encoder: BinaryEncoder) throws {
        if innermost === encoder { return }
        guard encoder.isOpen else {
            throw EncodingError.invalidValue(
                encoder.codingPath,
                EncodingError.Context(
                    codingPath: encoder.codingPath,
                    debugDescription: "a value was written to a container after a sibling value was written; "
                        + "the binary encoder writes values in the order they are encoded"
                )
            )
        }
        closeNested(in: encoder)
    }

    /// Closes every open encoder nested in `encoder`, which must be open.
    func closeNested(in encoder: BinaryEncoder) {
        while let top = innermost, top !== encoder {
            close(top)
            innermost = top.parent
        }
    }

    /// Finishes `encoder`'s value: patches its container count, or writes an empty keyed
    /// container if it wrote nothing at all.
    private func close(_ encoder: BinaryEncoder) {
        switch encoder.state {
        case .idle, .single:
            writer.writeEmptyMap()
        case .keyed, .unkeyed:
            writer.patchCount(at: encoder.countOffset, to: encoder.count)
        case .done:
            break
        }
        encoder.state = .done
        encoder.isOpen = false
    }

    /// Closes everything including `root`, ending the top-level value.
    func finish(_ root: BinaryEncoder) throws {
        try activate(root)
        close(root)
        innermost = nil
        if let deferredError { throw deferredError }
    }

    func recordError(_ encoder: BinaryEncoder, _ message: String) {
        if deferredError == nil {
            deferredError = EncodingError.invalidValue(
                encoder.codingPath,
                EncodingError.Context(codingPath: encoder.codingPath, debugDescription: message)
            )
        }
    }
}

/// Encodes one value (the top-level value, or a value nested in a container).
final class BinaryEncoder: Encoder {
    enum State {
        /// Nothing written yet.
        case idle
        /// A keyed container is open; `countOffset` and `count` describe it.
        case keyed
        /// An unkeyed container is open; `countOffset` and `count` describe it.
        case unkeyed
        /// A single-value container was requested but nothing written yet.
        case single
        /// The value is complete.
        case done
    }

    let sink: BinaryEncodingSink
    let parent: BinaryEncoder?
    /// The key of this value in its parent's container; `nil` for the top-level value.
    let key: (any CodingKey)?
    /// How many containers enclose this value (0 for the top-level value).
    let depth: Int
    // Exempt from dynamic exclusivity checks for speed; see `BinaryEncodingSink.writer`.
    @exclusivity(unchecked) var state = State.idle
    @exclusivity(unchecked) var isOpen = true
    @exclusivity(unchecked) var countOffset = 0
    @exclusivity(unchecked) var count = 0

    init(sink: BinaryEncodingSink, parent: BinaryEncoder?, key: (any CodingKey)?, depth: Int) {
        self.sink = sink
        self.parent = parent
        self.key = key
        self.depth = depth
    }

    var codingPath: [any CodingKey] {
        var path: [any CodingKey] = []
        var encoder: BinaryEncoder? = self
        while let current = encoder, let key = current.key {
            path.append(key)
            encoder = current.parent
        }
        return path.reversed()
    }

    var userInfo: [CodingUserInfoKey: Any] { [:] }

    func container<Key: CodingKey>(keyedBy type: Key.Type) -> KeyedEncodingContainer<Key> {
        open(.keyed)
        return KeyedEncodingContainer(BinaryKeyedEncodingContainer<Key>(encoder: self))
    }

    func unkeyedContainer() -> any UnkeyedEncodingContainer {
        open(.unkeyed)
        return BinaryUnkeyedEncodingContainer(encoder: self)
    }

    func singleValueContainer() -> any SingleValueEncodingContainer {
        if state == .idle { state = .single }
        return BinarySingleValueEncodingContainer(encoder: self)
    }

    /// Opens a keyed or unkeyed container for this value, writing its tag and count
    /// placeholder. Asking again for the same kind returns another view of the same container
    /// (so a subclass and its superclass can share one keyed container).
    private func open(_ kind: State) {
        if state == kind { return }
        guard isOpen else {
            sink.recordError(self, "asked for a container after the value was finished")
            return
        }
        guard state == .idle else {
            sink.recordError(self, "asked for a \(kind) container for a value that already has a \(state) container")
            return
        }
        if depth + 1 > BinaryLimits.maxDepth {
            sink.recordError(self, "containers are nested more than \(BinaryLimits.maxDepth) deep")
        }
        sink.closeNested(in: self)
        countOffset = sink.writer.beginContainer(tag: kind == .keyed ? BinaryTag.map : BinaryTag.array)
        count = 0
        state = kind
    }

    // MARK: Writing elements

    /// Prepares to append the next pair of this value's keyed container: checks the state and
    /// writes the key.
    @inline(__always)
    func beginPair(_ key: some CodingKey) throws {
        try sink.activate(self)
        guard state == .keyed else {
            throw misuse("wrote to a keyed container of a value that holds a \(state) container")
        }
        count += 1
        sink.writer.writeKey(key.stringValue)
    }

    /// Prepares to append the next element of this value's unkeyed container.
    @inline(__always)
    func beginElement() throws {
        try sink.activate(self)
        guard state == .unkeyed else {
            throw misuse("wrote to an unkeyed container of a value that holds a \(state) container")
        }
        count += 1
    }

    /// Prepares to write this value through its single-value container.
    @inline(__always)
    func beginSingle() throws {
        try sink.activate(self)
        guard state == .single || state == .idle else {
            throw misuse("wrote to a single-value container of a value that was already written")
        }
        state = .done
    }

    private func misuse(_ message: String) -> EncodingError {
        EncodingError.invalidValue(codingPath, EncodingError.Context(codingPath: codingPath, debugDescription: message))
    }

    /// Writes `value` as the element just begun (with `beginPair` or `beginElement`): directly
    /// if the format has a tag for its type, otherwise through its `encode(to:)` with a child
    /// encoder.
    func encodeChild<T: Encodable>(_ value: T, key: @autoclosure () -> any CodingKey) throws {
        if sink.writer.writeIfPrimitive(value) { return }
        let child = BinaryEncoder(sink: sink, parent: self, key: key(), depth: depth + 1)
        sink.innermost = child
        try value.encode(to: child)
        try sink.activate(self)
    }

    /// Begins an element whose value will be written later through the returned encoder
    /// (nested containers, super encoders). Cannot throw, so a failure is recorded and the
    /// returned encoder is closed: writing through it throws.
    func openChild(key: any CodingKey, pairKey: (any CodingKey)?) -> BinaryEncoder {
        let child = BinaryEncoder(sink: sink, parent: self, key: key, depth: depth + 1)
        do {
            if let pairKey {
                try beginPair(pairKey)
            } else {
                try beginElement()
            }
        } catch {
            if sink.deferredError == nil { sink.deferredError = error }
            child.isOpen = false
            child.state = .done
            return child
        }
        sink.innermost = child
        return child
    }

    /// Writes `value` as this encoder's whole value (single-value containers, the top level).
    func encodeSingle<T: Encodable>(_ value: T) throws {
        try beginSingle()
        if sink.writer.writeIfPrimitive(value) { return }
        // The value encodes itself through this same encoder, as if it were the outer value.
        state = .idle
        try value.encode(to: self)
        try sink.activate(self)
        if state == .idle || state == .single {
            sink.writer.writeEmptyMap()
            state = .done
        }
    }
}

extension BinaryValueWriter {
    /// Appends `value` with its own tag if its type is one the format represents directly
    /// (see ``BinaryPrimitive``). Returns false, having written nothing, for any other type.
    @inline(__always)
    mutating func writeIfPrimitive<T: Encodable>(_ value: T) -> Bool {
        guard let primitive = BinaryPrimitive(T.self) else { return false }
        // Each `unsafeBitCast` below converts to the type that `BinaryPrimitive(T.self)` proved
        // T to be.
        switch primitive {
        case .string: writeString(unsafeBitCast(value, to: String.self))
        case .int: writeSigned(Int64(unsafeBitCast(value, to: Int.self)))
        case .double: writeDouble(unsafeBitCast(value, to: Double.self))
        case .bool: writeBool(unsafeBitCast(value, to: Bool.self))
        case .byteArray: unsafeBitCast(value, to: [UInt8].self).withUnsafeBytes { writeBytes($0) }
        case .data: unsafeBitCast(value, to: Data.self).withUnsafeBytes { writeBytes($0) }
        // Foundation's own Codable for Date writes this same Double.
        case .date: writeDouble(unsafeBitCast(value, to: Date.self).timeIntervalSinceReferenceDate)
        case .float: writeFloat(unsafeBitCast(value, to: Float.self))
        case .int64: writeSigned(unsafeBitCast(value, to: Int64.self))
        case .int32: writeSigned(Int64(unsafeBitCast(value, to: Int32.self)))
        case .int16: writeSigned(Int64(unsafeBitCast(value, to: Int16.self)))
        case .int8: writeSigned(Int64(unsafeBitCast(value, to: Int8.self)))
        case .uint: writeUnsigned(UInt64(unsafeBitCast(value, to: UInt.self)))
        case .uint64: writeUnsigned(unsafeBitCast(value, to: UInt64.self))
        case .uint32: writeUnsigned(UInt64(unsafeBitCast(value, to: UInt32.self)))
        case .uint16: writeUnsigned(UInt64(unsafeBitCast(value, to: UInt16.self)))
        case .uint8: writeUnsigned(UInt64(unsafeBitCast(value, to: UInt8.self)))
        }
        return true
    }
}
