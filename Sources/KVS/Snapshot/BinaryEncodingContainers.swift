// The three container types of the binary `Encoder`. Each is a thin view of its
// `BinaryEncoder`, which holds the container's state, so copies of a container (and a
// second request for the same kind of container) all append to the same container.

/// Appends (key, value) pairs to a keyed container of the binary format.
struct BinaryKeyedEncodingContainer<Key: CodingKey>: KeyedEncodingContainerProtocol {
    let encoder: BinaryEncoder

    var codingPath: [any CodingKey] { encoder.codingPath }

    mutating func encodeNil(forKey key: Key) throws {
        try encoder.beginPair(key)
        encoder.sink.writer.writeNil()
    }

    mutating func encode(_ value: Bool, forKey key: Key) throws {
        try encoder.beginPair(key)
        encoder.sink.writer.writeBool(value)
    }

    mutating func encode(_ value: String, forKey key: Key) throws {
        try encoder.beginPair(key)
        encoder.sink.writer.writeString(value)
    }

    mutating func encode(_ value: Double, forKey key: Key) throws {
        try encoder.beginPair(key)
        encoder.sink.writer.writeDouble(value)
    }

    mutating func encode(_ value: Float, forKey key: Key) throws {
        try encoder.beginPair(key)
        encoder.sink.writer.writeFloat(value)
    }

    mutating func encode(_ value: Int, forKey key: Key) throws {
        try encoder.beginPair(key)
        encoder.sink.writer.writeSigned(Int64(value))
    }

    mutating func encode(_ value: Int8, forKey key: Key) throws {
        try encoder.beginPair(key)
        encoder.sink.writer.writeSigned(Int64(value))
    }

    mutating func encode(_ value: Int16, forKey key: Key) throws {
        try encoder.beginPair(key)
        encoder.sink.writer.writeSigned(Int64(value))
    }

    mutating func encode(_ value: Int32, forKey key: Key) throws {
        try encoder.beginPair(key)
        encoder.sink.writer.writeSigned(Int64(value))
    }

    mutating func encode(_ value: Int64, forKey key: Key) throws {
        try encoder.beginPair(key)
        encoder.sink.writer.writeSigned(value)
    }

    mutating func encode(_ value: UInt, forKey key: Key) throws {
        try encoder.beginPair(key)
        encoder.sink.writer.writeUnsigned(UInt64(value))
    }

    mutating func encode(_ value: UInt8, forKey key: Key) throws {
        try encoder.beginPair(key)
        encoder.sink.writer.writeUnsigned(UInt64(value))
    }

    mutating func encode(_ value: UInt16, forKey key: Key) throws {
        try encoder.beginPair(key)
        encoder.sink.writer.writeUnsigned(UInt64(value))
    }

    mutating func encode(_ value: UInt32, forKey key: Key) throws {
        try encoder.beginPair(key)
        encoder.sink.writer.writeUnsigned(UInt64(value))
    }

    mutating func encode(_ value: UInt64, forKey key: Key) throws {
        try encoder.beginPair(key)
        encoder.sink.writer.writeUnsigned(value)
    }

    @available(macOS 15.0, *)
    mutating func encode(_ value: Int128, forKey key: Key) throws {
        try encoder.beginPair(key)
        encoder.sink.writer.writeSigned(value)
    }

    @available(macOS 15.0, *)
    mutating func encode(_ value: UInt128, forKey key: Key) throws {
        try encoder.beginPair(key)
        encoder.sink.writer.writeUnsigned(value)
    }

    mutating func encode<T: Encodable>(_ value: T, forKey key: Key) throws {
        try encoder.beginPair(key)
        try encoder.encodeChild(value, key: key)
    }

    mutating func nestedContainer<NestedKey: CodingKey>(
        keyedBy keyType: NestedKey.Type,
        forKey key: Key
    ) -> KeyedEncodingContainer<NestedKey> {
        encoder.openChild(key: key, pairKey: key).container(keyedBy: NestedKey.self)
    }

    mutating func nestedUnkeyedContainer(forKey key: Key) -> any UnkeyedEncodingContainer {
        encoder.openChild(key: key, pairKey: key).unkeyedContainer()
    }

    mutating func superEncoder() -> any Encoder {
        encoder.openChild(key: BinaryCodingKey.superKey, pairKey: BinaryCodingKey.superKey)
    }

    mutating func superEncoder(forKey key: Key) -> any Encoder {
        encoder.openChild(key: key, pairKey: key)
    }
}

/// Appends elements to an unkeyed container of the binary format.
struct BinaryUnkeyedEncodingContainer: UnkeyedEncodingContainer {
    let encoder: BinaryEncoder

    var codingPath: [any CodingKey] { encoder.codingPath }

    var count: Int { encoder.state == .unkeyed ? encoder.count : 0 }

    mutating func encodeNil() throws {
        try encoder.beginElement()
        encoder.sink.writer.writeNil()
    }

    mutating func encode(_ value: Bool) throws {
        try encoder.beginElement()
        encoder.sink.writer.writeBool(value)
    }

    mutating func encode(_ value: String) throws {
        try encoder.beginElement()
        encoder.sink.writer.writeString(value)
    }

    mutating func encode(_ value: Double) throws {
        try encoder.beginElement()
        encoder.sink.writer.writeDouble(value)
    }

    mutating func encode(_ value: Float) throws {
        try encoder.beginElement()
        encoder.sink.writer.writeFloat(value)
    }

    mutating func encode(_ value: Int) throws {
        try encoder.beginElement()
        encoder.sink.writer.writeSigned(Int64(value))
    }

    mutating func encode(_ value: Int8) throws {
        try encoder.beginElement()
        encoder.sink.writer.writeSigned(Int64(value))
    }

    mutating func encode(_ value: Int16) throws {
        try encoder.beginElement()
        encoder.sink.writer.writeSigned(Int64(value))
    }

    mutating func encode(_ value: Int32) throws {
        try encoder.beginElement()
        encoder.sink.writer.writeSigned(Int64(value))
    }

    mutating func encode(_ value: Int64) throws {
        try encoder.beginElement()
        encoder.sink.writer.writeSigned(value)
    }

    mutating func encode(_ value: UInt) throws {
        try encoder.beginElement()
        encoder.sink.writer.writeUnsigned(UInt64(value))
    }

    mutating func encode(_ value: UInt8) throws {
        try encoder.beginElement()
        encoder.sink.writer.writeUnsigned(UInt64(value))
    }

    mutating func encode(_ value: UInt16) throws {
        try encoder.beginElement()
        encoder.sink.writer.writeUnsigned(UInt64(value))
    }

    mutating func encode(_ value: UInt32) throws {
        try encoder.beginElement()
        encoder.sink.writer.writeUnsigned(UInt64(value))
    }

    mutating func encode(_ value: UInt64) throws {
        try encoder.beginElement()
        encoder.sink.writer.writeUnsigned(value)
    }

    @available(macOS 15.0, *)
    mutating func encode(_ value: Int128) throws {
        try encoder.beginElement()
        encoder.sink.writer.writeSigned(value)
    }

    @available(macOS 15.0, *)
    mutating func encode(_ value: UInt128) throws {
        try encoder.beginElement()
        encoder.sink.writer.writeUnsigned(value)
    }

    mutating func encode<T: Encodable>(_ value: T) throws {
        try encoder.beginElement()
        try encoder.encodeChild(value, key: BinaryCodingKey(intValue: encoder.count - 1))
    }

    mutating func nestedContainer<NestedKey: CodingKey>(
        keyedBy keyType: NestedKey.Type
    ) -> KeyedEncodingContainer<NestedKey> {
        encoder.openChild(key: BinaryCodingKey(intValue: count), pairKey: nil).container(keyedBy: NestedKey.self)
    }

    mutating func nestedUnkeyedContainer() -> any UnkeyedEncodingContainer {
        encoder.openChild(key: BinaryCodingKey(intValue: count), pairKey: nil).unkeyedContainer()
    }

    mutating func superEncoder() -> any Encoder {
        encoder.openChild(key: BinaryCodingKey(intValue: count), pairKey: nil)
    }
}

/// Writes the one value of a single-value container of the binary format.
struct BinarySingleValueEncodingContainer: SingleValueEncodingContainer {
    let encoder: BinaryEncoder

    var codingPath: [any CodingKey] { encoder.codingPath }

    mutating func encodeNil() throws {
        try encoder.beginSingle()
        encoder.sink.writer.writeNil()
    }

    mutating func encode(_ value: Bool) throws {
        try encoder.beginSingle()
        encoder.sink.writer.writeBool(value)
    }

    mutating func encode(_ value: String) throws {
        try encoder.beginSingle()
        encoder.sink.writer.writeString(value)
    }

    mutating func encode(_ value: Double) throws {
        try encoder.beginSingle()
        encoder.sink.writer.writeDouble(value)
    }

    mutating func encode(_ value: Float) throws {
        try encoder.beginSingle()
        encoder.sink.writer.writeFloat(value)
    }

    mutating func encode(_ value: Int) throws {
        try encoder.beginSingle()
        encoder.sink.writer.writeSigned(Int64(value))
    }

    mutating func encode(_ value: Int8) throws {
        try encoder.beginSingle()
        encoder.sink.writer.writeSigned(Int64(value))
    }

    mutating func encode(_ value: Int16) throws {
        try encoder.beginSingle()
        encoder.sink.writer.writeSigned(Int64(value))
    }

    mutating func encode(_ value: Int32) throws {
        try encoder.beginSingle()
        encoder.sink.writer.writeSigned(Int64(value))
    }

    mutating func encode(_ value: Int64) throws {
        try encoder.beginSingle()
        encoder.sink.writer.writeSigned(value)
    }

    mutating func encode(_ value: UInt) throws {
        try encoder.beginSingle()
        encoder.sink.writer.writeUnsigned(UInt64(value))
    }

    mutating func encode(_ value: UInt8) throws {
        try encoder.beginSingle()
        encoder.sink.writer.writeUnsigned(UInt64(value))
    }

    mutating func encode(_ value: UInt16) throws {
        try encoder.beginSingle()
        encoder.sink.writer.writeUnsigned(UInt64(value))
    }

    mutating func encode(_ value: UInt32) throws {
        try encoder.beginSingle()
        encoder.sink.writer.writeUnsigned(UInt64(value))
    }

    mutating func encode(_ value: UInt64) throws {
        try encoder.beginSingle()
        encoder.sink.writer.writeUnsigned(value)
    }

    @available(macOS 15.0, *)
    mutating func encode(_ value: Int128) throws {
        try encoder.beginSingle()
        encoder.sink.writer.writeSigned(value)
    }

    @available(macOS 15.0, *)
    mutating func encode(_ value: UInt128) throws {
        try encoder.beginSingle()
        encoder.sink.writer.writeUnsigned(value)
    }

    mutating func encode<T: Encodable>(_ value: T) throws {
        try encoder.encodeSingle(value)
    }
}
