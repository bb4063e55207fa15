import NIOCore
import RESP
import Testing

@testable import KVSServer

@Suite("Bitmap commands")
struct BitmapCommandsTests {
    @Test func setbitAndGetbit() throws {
        try withInProcessServer { server in
            let c = try server.connect()
            #expect(try c.call("SETBIT", "b", "7", "1") == int(0))
            #expect(try c.call("SETBIT", "b", "7", "1") == int(1))
            #expect(try c.callBytes([Array("GET".utf8), Array("b".utf8)]) == .bulkString(ByteBuffer(bytes: [0x01])))
            #expect(try c.call("SETBIT", "b", "0", "1") == int(0))
            #expect(try c.call("GETBIT", "b", "0") == int(1))
            #expect(try c.call("GETBIT", "b", "1") == int(0))
            #expect(try c.call("GETBIT", "b", "100000") == int(0))
            #expect(try c.call("GETBIT", "missing", "3") == int(0))
            // Growing the string zero-fills it.
            #expect(try c.call("SETBIT", "b", "23", "0") == int(0))
            #expect(try c.call("STRLEN", "b") == int(3))
            #expect(try c.call("SETBIT", "b", "-1", "1") == err("ERR bit offset is not an integer or out of range"))
            #expect(
                try c.call("SETBIT", "b", "4294967296", "1") == err("ERR bit offset is not an integer or out of range")
            )
            #expect(try c.call("SETBIT", "b", "1", "2") == err("ERR bit is not an integer or out of range"))
            #expect(try c.call("SETBIT", "b", "x", "2") == err("ERR bit offset is not an integer or out of range"))
            #expect(try c.call("GETBIT", "b", "4294967296") == err("ERR bit offset is not an integer or out of range"))
            #expect(try c.call("HSET", "h", "f", "v") == int(1))
            // The arguments are checked before the key's type, as in Redis.
            #expect(try c.call("SETBIT", "h", "1", "2") == err("ERR bit is not an integer or out of range"))
            #expect(try c.call("SETBIT", "h", "1", "1") == err(CommandError.wrongType.message))
            #expect(try c.call("GETBIT", "h", "1") == err(CommandError.wrongType.message))
        }
    }

    @Test func setbitKeepsTheTTL() throws {
        try withInProcessServer { server in
            let c = try server.connect()
            #expect(try c.call("SET", "b", "a", "EX", "100") == OK)
            #expect(try c.call("SETBIT", "b", "100", "1") == int(0))
            #expect(try ttlNear(c, "b", 100))
        }
    }

    @Test func bitcount() throws {
        try withInProcessServer { server in
            let c = try server.connect()
            #expect(try c.call("SET", "s", "foobar") == OK)
            #expect(try c.call("BITCOUNT", "s") == int(26))
            #expect(try c.call("BITCOUNT", "s", "0", "0") == int(4))
            #expect(try c.call("BITCOUNT", "s", "1", "1") == int(6))
            #expect(try c.call("BITCOUNT", "s", "-2", "-1") == int(7))
            #expect(try c.call("BITCOUNT", "s", "5", "30", "BIT") == int(17))
            #expect(try c.call("BITCOUNT", "s", "0", "-1", "bit") == int(26))
            #expect(try c.call("BITCOUNT", "s", "-1", "-3") == int(0))
            #expect(try c.call("BITCOUNT", "s", "-1", "-3", "x") == int(0))
            #expect(try c.call("BITCOUNT", "s", "0", "9223372036854775807") == int(26))
            #expect(try c.call("BITCOUNT", "s", "-9223372036854775808", "0") == int(4))
            #expect(try c.call("BITCOUNT", "s", "1") == err("ERR syntax error"))
            #expect(try c.call("BITCOUNT", "s", "0", "1", "x") == err("ERR syntax error"))
            #expect(try c.call("BITCOUNT", "s", "a", "1") == err("ERR value is not an integer or out of range"))
            // A missing key counts 0 before its arguments are read.
            #expect(try c.call("BITCOUNT", "missing", "a", "b") == int(0))
            #expect(try c.call("SET", "e", "") == OK)
            #expect(try c.call("BITCOUNT", "e") == int(0))
        }
    }

    /// BITCOUNT counts whole words with popcount: a long string with a known pattern,
    /// and ranges whose edges fall inside words and bytes.
    @Test func bitcountOfALongString() throws {
        try withInProcessServer { server in
            let c = try server.connect()
            let bytes = (0..<10_000).map { UInt8(truncatingIfNeeded: $0 &* 37) }
            #expect(try c.callBytes([Array("SET".utf8), Array("k".utf8), bytes]) == OK)
            let total = bytes.reduce(0) { $0 + $1.nonzeroBitCount }
            #expect(try c.call("BITCOUNT", "k") == int(Int64(total)))
            let ranged = bytes[3...9_000].reduce(0) { $0 + $1.nonzeroBitCount }
            #expect(try c.call("BITCOUNT", "k", "3", "9000") == int(Int64(ranged)))
            var bits = 0
            for i in 13...70_001 { bits += Int(bytes[i / 8] >> (7 - UInt8(i % 8)) & 1) }
            #expect(try c.call("BITCOUNT", "k", "13", "70001", "BIT") == int(Int64(bits)))
        }
    }

    @Test func bitpos() throws {
        try withInProcessServer { server in
            let c = try server.connect()
            #expect(try c.callBytes([Array("SET".utf8), Array("z".utf8), [0xFF, 0xF0, 0x00]]) == OK)
            #expect(try c.call("BITPOS", "z", "0") == int(12))
            #expect(try c.call("BITPOS", "z", "1") == int(0))
            #expect(try c.call("BITPOS", "z", "1", "2") == int(-1))
            #expect(try c.call("BITPOS", "z", "1", "1") == int(8))
            #expect(try c.call("BITPOS", "z", "0", "0", "3", "BIT") == int(-1))
            #expect(try c.call("BITPOS", "z", "1", "10", "20", "bit") == int(10))
            #expect(try c.callBytes([Array("SET".utf8), Array("f".utf8), [0xFF, 0xFF]]) == OK)
            // No clear bit: past the end without an explicit end, -1 with one.
            #expect(try c.call("BITPOS", "f", "0") == int(16))
            #expect(try c.call("BITPOS", "f", "0", "0") == int(16))
            #expect(try c.call("BITPOS", "f", "0", "0", "-1") == int(-1))
            #expect(try c.call("BITPOS", "missing", "0") == int(0))
            #expect(try c.call("BITPOS", "missing", "1", "x") == int(-1))
            #expect(try c.call("BITPOS", "f", "2") == err("ERR The bit argument must be 1 or 0."))
            #expect(try c.call("BITPOS", "f", "1", "0", "1", "x") == err("ERR syntax error"))
            #expect(try c.call("BITPOS", "f", "1", "0", "1", "BIT", "x") == err("ERR syntax error"))
            let long = [UInt8](repeating: 0, count: 5_000) + [0x01]
            #expect(try c.callBytes([Array("SET".utf8), Array("l".utf8), long]) == OK)
            #expect(try c.call("BITPOS", "l", "1") == int(40_007))
            #expect(try c.call("BITPOS", "l", "1", "0", "4999") == int(-1))
        }
    }

    @Test func bitop() throws {
        try withInProcessServer { server in
            let c = try server.connect()
            #expect(try c.callBytes([Array("SET".utf8), Array("a".utf8), [0xF0, 0x0F, 0xFF]]) == OK)
            #expect(try c.callBytes([Array("SET".utf8), Array("b".utf8), [0x3C]]) == OK)
            #expect(try c.call("BITOP", "AND", "d", "a", "b") == int(3))
            #expect(try c.call("GET", "d") == .bulkString(ByteBuffer(bytes: [0x30, 0x00, 0x00])))
            #expect(try c.call("BITOP", "or", "d", "a", "b", "missing") == int(3))
            #expect(try c.call("GET", "d") == .bulkString(ByteBuffer(bytes: [0xFC, 0x0F, 0xFF])))
            #expect(try c.call("BITOP", "XOR", "d", "a", "b") == int(3))
            #expect(try c.call("GET", "d") == .bulkString(ByteBuffer(bytes: [0xCC, 0x0F, 0xFF])))
            #expect(try c.call("BITOP", "NOT", "d", "b") == int(1))
            #expect(try c.call("GET", "d") == .bulkString(ByteBuffer(bytes: [0xC3])))
            // An empty result deletes the destination, whatever it held.
            #expect(try c.call("HSET", "h", "f", "v") == int(1))
            #expect(try c.call("BITOP", "AND", "h", "missing") == int(0))
            #expect(try c.call("EXISTS", "h") == int(0))
            // The destination loses its TTL.
            #expect(try c.call("EXPIRE", "d", "100") == int(1))
            #expect(try c.call("BITOP", "OR", "d", "a") == int(3))
            #expect(try c.call("TTL", "d") == int(-1))
            #expect(try c.call("HSET", "h", "f", "v") == int(1))
            #expect(try c.call("BITOP", "OR", "d", "a", "h") == err(CommandError.wrongType.message))
            #expect(
                try c.call("BITOP", "NOT", "d", "a", "b")
                    == err("ERR BITOP NOT must be called with a single source key.")
            )
            #expect(try c.call("BITOP", "NAND", "d", "a") == err("ERR syntax error"))
        }
    }

    @Test func bitfield() throws {
        try withInProcessServer { server in
            let c = try server.connect()
            #expect(
                try c.call("BITFIELD", "bf", "SET", "i8", "0", "-100", "GET", "u4", "0", "INCRBY", "u2", "100", "1")
                    == .array([int(0), int(9), int(1)])
            )
            #expect(try c.call("BITFIELD", "bf", "GET", "i8", "0", "GET", "u8", "#0") == .array([int(-100), int(156)]))
            #expect(
                try c.call(
                    "BITFIELD",
                    "bf",
                    "OVERFLOW",
                    "SAT",
                    "INCRBY",
                    "i8",
                    "0",
                    "-100",
                    "OVERFLOW",
                    "FAIL",
                    "INCRBY",
                    "i8",
                    "0",
                    "-1",
                    "OVERFLOW",
                    "WRAP",
                    "INCRBY",
                    "i8",
                    "0",
                    "-1"
                ) == .array([int(-128), .nullBulkString, int(127)])
            )
            #expect(
                try c.call("BITFIELD", "bf", "SET", "i64", "64", "9223372036854775807", "INCRBY", "i64", "64", "1")
                    == .array([int(67_108_864), int(Int64.min)])
            )
            #expect(try c.call("BITFIELD", "bf", "OVERFLOW", "SAT", "SET", "u8", "0", "-1") == .array([int(127)]))
            #expect(try c.call("BITFIELD", "bf", "GET", "u8", "0") == .array([int(255)]))
            #expect(try c.call("BITFIELD", "bf", "GET", "u63", "#1000") == .array([int(0)]))
            #expect(try c.call("BITFIELD", "bf") == .array([]))
            #expect(try c.call("BITFIELD_RO", "bf", "GET", "u8", "0") == .array([int(255)]))
            #expect(try c.call("BITFIELD_RO", "missing", "GET", "i8", "0") == .array([int(0)]))
            #expect(try c.call("EXISTS", "missing") == int(0))
            // A write under FAIL still creates the key, as in Redis.
            #expect(try c.call("BITFIELD", "f", "OVERFLOW", "FAIL", "SET", "u2", "0", "5") == .array([.nullBulkString]))
            #expect(try c.call("EXISTS", "f") == int(1))
            let typeError = err(
                "ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is."
            )
            #expect(try c.call("BITFIELD", "bf", "GET", "u64", "0") == typeError)
            #expect(try c.call("BITFIELD", "bf", "GET", "i65", "0") == typeError)
            #expect(try c.call("BITFIELD", "bf", "GET", "I8", "0") == typeError)
            #expect(try c.call("BITFIELD", "bf", "GET", "u8") == err("ERR syntax error"))
            #expect(try c.call("BITFIELD", "bf", "OVERFLOW", "x") == err("ERR Invalid OVERFLOW type specified"))
            #expect(
                try c.call("BITFIELD", "bf", "GET", "u8", "#536870912")
                    == err("ERR bit offset is not an integer or out of range")
            )
            // `#n` times the width wraps as Redis's multiplication does: 8 * (2^61 + 1) is 8.
            #expect(try c.call("BITFIELD", "bf", "GET", "u8", "#2305843009213693953") == .array([int(0)]))
            #expect(
                try c.call("BITFIELD_RO", "bf", "SET", "u8", "0", "1")
                    == err("ERR BITFIELD_RO only supports the GET subcommand")
            )
            #expect(try c.call("HSET", "h", "f", "v") == int(1))
            #expect(try c.call("BITFIELD", "h", "GET", "u8", "0") == err(CommandError.wrongType.message))
        }
    }

    @Test func insideMultiAndRESP3() throws {
        try withInProcessServer { server in
            let c = try server.connect()
            _ = try c.call("HELLO", "3")
            #expect(try c.call("MULTI") == OK)
            #expect(try c.call("SETBIT", "m", "3", "1") == .simpleString("QUEUED"))
            #expect(try c.call("BITOP", "NOT", "n", "m") == .simpleString("QUEUED"))
            #expect(try c.call("BITCOUNT", "n") == .simpleString("QUEUED"))
            #expect(
                try c.call("BITFIELD", "m", "OVERFLOW", "FAIL", "INCRBY", "u4", "0", "100") == .simpleString("QUEUED")
            )
            #expect(try c.call("GETBIT", "m", "3") == .simpleString("QUEUED"))
            #expect(try c.call("EXEC") == .array([int(0), int(1), int(7), .array([.null]), int(1)]))
        }
    }

    @Test func watchSeesOnlyRealChanges() throws {
        try withInProcessServer { server in
            let a = try server.connect()
            let b = try server.connect()
            #expect(try a.call("SETBIT", "w", "1", "1") == int(0))
            #expect(try a.call("WATCH", "w") == OK)
            // Setting a bit to the value it has changes nothing, as in Redis.
            #expect(try b.call("SETBIT", "w", "1", "1") == int(1))
            #expect(try a.call("MULTI") == OK)
            #expect(try a.call("GETBIT", "w", "1") == .simpleString("QUEUED"))
            #expect(try a.call("EXEC") == .array([int(1)]))
            #expect(try a.call("WATCH", "w") == OK)
            #expect(try b.call("SETBIT", "w", "1", "0") == int(1))
            #expect(try a.call("MULTI") == OK)
            #expect(try a.call("GETBIT", "w", "1") == .simpleString("QUEUED"))
            #expect(try a.call("EXEC") == .nullArray)
        }
    }
}
