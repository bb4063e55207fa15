/// The bytes the RESP grammar is made of.
enum ASCII {
    static let cr: UInt8 = 0x0D  // \r
    static let lf: UInt8 = 0x0A  // \n
    static let space: UInt8 = 0x20
    static let tab: UInt8 = 0x09
    static let zero: UInt8 = 0x30
    static let nine: UInt8 = 0x39
    static let minus: UInt8 = 0x2D
    static let plus: UInt8 = 0x2B
    static let colon: UInt8 = 0x3A
    static let backslash: UInt8 = 0x5C
    static let doubleQuote: UInt8 = 0x22
    static let singleQuote: UInt8 = 0x27

    /// RESP type bytes.
    enum Kind {
        static let simpleString: UInt8 = 0x2B  // +
        static let error: UInt8 = 0x2D  // -
        static let integer: UInt8 = 0x3A  // :
        static let bulkString: UInt8 = 0x24  // $
        static let array: UInt8 = 0x2A  // *
        static let null: UInt8 = 0x5F  // _
        static let double: UInt8 = 0x2C  // ,
        static let boolean: UInt8 = 0x23  // #
        static let bigNumber: UInt8 = 0x28  // (
        static let verbatimString: UInt8 = 0x3D  // =
        static let map: UInt8 = 0x25  // %
        static let set: UInt8 = 0x7E  // ~
        static let attribute: UInt8 = 0x7C  // |
        static let push: UInt8 = 0x3E  // >
        static let blobError: UInt8 = 0x21  // !
    }

    /// C's `isspace` in the C locale, which Redis's `sdssplitargs` uses to skip blanks.
    @inline(__always)
    static func isSpace(_ byte: UInt8) -> Bool {
        byte == space || (byte >= 0x09 && byte <= 0x0D)
    }

    /// The value of a hexadecimal digit, or nil.
    @inline(__always)
    static func hexValue(_ byte: UInt8) -> UInt8? {
        switch byte {
        case 0x30...0x39: return byte - 0x30
        case 0x61...0x66: return byte - 0x61 + 10
        case 0x41...0x46: return byte - 0x41 + 10
        default: return nil
        }
    }
}
