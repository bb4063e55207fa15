// Constants and small shared pieces of the binary value format (docs/value-encoding.md):
// the tag bytes, the nesting limit, zigzag mapping, and the coding key used for
// array indices and `super`.

import Foundation

/// The first byte of every encoded value says what follows. See docs/value-encoding.md.
enum BinaryTag {
    /// `nil`. No payload.
    static let null: UInt8 = 0x00
    /// `false`. No payload.
    static let falseValue: UInt8 = 0x01
    /// `true`. No payload.
    static let trueValue: UInt8 = 0x02
    /// An unsigned integer: LEB128 varint.
    static let unsigned: UInt8 = 0x03
    /// A signed integer: zigzag-mapped LEB128 varint.
    static let signed: UInt8 = 0x04
    /// A `Float`: 4 bytes, IEEE 754 binary32 bit pattern, little-endian.
    static let float32: UInt8 = 0x05
    /// A `Double`: 8 bytes, IEEE 754 binary64 bit pattern, little-endian.
    static let float64: UInt8 = 0x06
    /// A string: varint byte count, then that many bytes of UTF-8.
    static let string: UInt8 = 0x07
    /// A byte string (`Data`, `[UInt8]`): varint byte count, then the bytes.
    static let bytes: UInt8 = 0x08
    /// An unkeyed container: varint element count, then the elements.
    static let array: UInt8 = 0x09
    /// A keyed container: varint pair count, then (varint key byte count, key UTF-8, value) pairs.
    static let map: UInt8 = 0x0A

    /// A short name for a tag byte, for error messages.
    static func name(_ tag: UInt8) -> String {
        switch tag {
        case null: "nil"
        case falseValue, trueValue: "a Bool"
        case unsigned: "an unsigned integer"
        case signed: "a signed integer"
        case float32: "a Float"
        case float64: "a Double"
        case string: "a string"
        case bytes: "a byte string"
        case array: "an unkeyed container"
        case map: "a keyed container"
        default: "unknown tag 0x\(String(tag, radix: 16))"
        }
    }
}

/// Limits of the format that both the encoder and the decoder enforce.
enum BinaryLimits {
    /// Containers nest at most this deep: the outermost container is at depth 1. The encoder
    /// refuses to write deeper values (so whatever it writes can be read back) and the decoder
    /// refuses to read them (so hostile input cannot exhaust the stack).
    static let maxDepth = 512
}

/// Zigzag mapping of signed integers to unsigned ones, so that small magnitudes of either
/// sign get short varints: 0 → 0, -1 → 1, 1 → 2, -2 → 3, ...
enum BinaryZigZag {
    @inline(__always)
    static func encode(_ value: Int64) -> UInt64 {
        UInt64(bitPattern: (value &<< 1) ^ (value &>> 63))
    }

    @inline(__always)
    static func decode(_ value: UInt64) -> Int64 {
        Int64(bitPattern: (value &>> 1) ^ (0 &- (value & 1)))
    }

    @available(macOS 15.0, *)
    @inline(__always)
    static func encode(_ value: Int128) -> UInt128 {
        UInt128(bitPattern: (value &<< 1) ^ (value &>> 127))
    }

    @available(macOS 15.0, *)
    @inline(__always)
    static func decode(_ value: UInt128) -> Int128 {
        Int128(bitPattern: (value &>> 1) ^ (0 &- (value & 1)))
    }
}

/// A coding key that is not one of the value's own keys: array indices in coding paths,
/// `super`, and the keys `allKeys` hands out before conversion.
struct BinaryCodingKey: CodingKey {
    let stringValue: String
    let intValue: Int?

    init(stringValue: String) {
        self.stringValue = stringValue
        self.intValue = nil
    }

    init(intValue: Int) {
        self.stringValue = "Index \(intValue)"
        self.intValue = intValue
    }

    /// The key `superEncoder()` and `superDecoder()` use.
    static let superKey = BinaryCodingKey(stringValue: "super")

    /// Renders a coding path as `a.b[3].c` for error messages.
    static func describe(_ path: [any CodingKey]) -> String {
        if path.isEmpty { return "the top-level value" }
        var text = ""
        for key in path {
            if let index = key.intValue, key is BinaryCodingKey {
                text += "[\(index)]"
            } else {
                if !text.isEmpty { text += "." }
                text += key.stringValue
            }
        }
        return text
    }
}

/// The Swift types the format represents with their own tags, rather than through their
/// `Codable` implementations. Nested values of these types are written and read directly.
enum BinaryPrimitive {
    case string, int, double, bool, byteArray, data, date, float
    case int64, int32, int16, int8, uint, uint64, uint32, uint16, uint8

    /// The primitive type `T` is, if it is one. Cost: a few type comparisons.
    @inline(__always)
    init?<T>(_ type: T.Type) {
        if T.self == String.self {
            self = .string
        } else if T.self == Int.self {
            self = .int
        } else if T.self == Double.self {
            self = .double
        } else if T.self == Bool.self {
            self = .bool
        } else if ObjectIdentifier(T.self) == Self.byteArrayType {
            self = .byteArray
        } else if T.self == Data.self {
            self = .data
        } else if T.self == Date.self {
            self = .date
        } else if T.self == Float.self {
            self = .float
        } else if T.self == Int64.self {
            self = .int64
        } else if T.self == Int32.self {
            self = .int32
        } else if T.self == Int16.self {
            self = .int16
        } else if T.self == Int8.self {
            self = .int8
        } else if T.self == UInt.self {
            self = .uint
        } else if T.self == UInt64.self {
            self = .uint64
        } else if T.self == UInt32.self {
            self = .uint32
        } else if T.self == UInt16.self {
            self = .uint16
        } else if T.self == UInt8.self {
            self = .uint8
        } else {
            return nil
        }
    }

    /// `[UInt8].self`, looked up once: as a generic type its metadata is otherwise looked up
    /// in the runtime's cache on every comparison.
    private static let byteArrayType = ObjectIdentifier([UInt8].self)

    /// Whether values of this type are byte strings, which can also be read from an unkeyed
    /// container of integers (through the type's own `init(from:)`).
    var isByteString: Bool { self == .byteArray || self == .data }
}
