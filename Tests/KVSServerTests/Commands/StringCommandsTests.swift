import NIOCore
import RESP
import Testing

@testable import KVSServer

let OK = RESPValue.simpleString("OK")
let NIL = RESPValue.nullBulkString
func bulk(_ s: String) -> RESPValue { .bulk(s) }
func int(_ n: Int64) -> RESPValue { .integer(n) }
func err(_ s: String) -> RESPValue { .error(s) }

/// Whether the TTL of `key` is `seconds` or a little less (time passes during the test).
func ttlNear(_ c: any RESPTestClient, _ key: String, _ seconds: Int64) throws -> Bool {
    let reply = try c.call("TTL", key)
    guard case .integer(let n) = reply else { return false }
    return n <= seconds && n >= seconds - 5  // slack for slow (sanitizer) runs
}

@Suite("String commands")
struct StringCommandsTests {
    @Test func getAndSet() async throws {
        try withInProcessServer { server in
            let c = try server.connect()
            #expect(try c.call("GET", "missing") == NIL)
            #expect(try c.call("SET", "k", "v") == OK)
            #expect(try c.call("GET", "k") == bulk("v"))
            #expect(try c.call("SET", "k", "") == OK)
            #expect(try c.call("GET", "k") == bulk(""))
            #expect(try c.call("set", "k", "v", "bogus") == err("ERR syntax error"))
            #expect(try c.call("GET") == err("ERR wrong number of arguments for 'get' command"))
        }
    }

    @Test func setOptions() async throws {
        try withInProcessServer { server in
            let c = try server.connect()
            #expect(try c.call("SET", "k", "1", "NX") == OK)
            #expect(try c.call("SET", "k", "2", "NX") == NIL)
            #expect(try c.call("SET", "k", "2", "XX") == OK)
            #expect(try c.call("SET", "none", "2", "XX") == NIL)
            #expect(try c.call("SET", "k", "3", "GET") == bulk("2"))
            #expect(try c.call("SET", "new", "3", "GET") == NIL)
            #expect(try c.call("SET", "k", "4", "NX", "GET") == bulk("3"))
            #expect(try c.call("GET", "k") == bulk("3"))
            #expect(try c.call("SET", "k", "v", "NX", "XX") == err("ERR syntax error"))
            #expect(try c.call("SET", "k", "v", "EX", "10", "PX", "100") == err("ERR syntax error"))
            #expect(try c.call("SET", "k", "v", "EX", "0") == err("ERR invalid expire time in 'set' command"))
            #expect(try c.call("SET", "k", "v", "EX", "-1") == err("ERR invalid expire time in 'set' command"))
            #expect(try c.call("SET", "k", "v", "EX", "x") == err("ERR value is not an integer or out of range"))
            #expect(
                try c.call("SET", "k", "v", "EX", "9223372036854775807")
                    == err("ERR invalid expire time in 'set' command")
            )
            #expect(try c.call("SET", "k", "v", "EX", "100") == OK)
            let ttl = try c.call("TTL", "k")
            #expect(ttl == int(100) || ttl == int(99))
            #expect(try c.call("SET", "k", "w", "KEEPTTL") == OK)
            #expect(try c.call("TTL", "k").text != "-1")
            #expect(try c.call("SET", "k", "w") == OK)
            #expect(try c.call("TTL", "k") == int(-1))
            #expect(try c.call("SET", "k", "v", "PX", "100000") == OK)
            let pttl = Int(try c.call("PTTL", "k").text) ?? 0
            #expect(pttl > 99_000 && pttl <= 100_000)
            #expect(try c.call("SET", "k", "v", "EXAT", "4102444800") == OK)
            #expect(try c.call("EXPIRETIME", "k") == int(4_102_444_800))
            #expect(try c.call("SET", "k", "v", "PXAT", "4102444800123") == OK)
            #expect(try c.call("PEXPIRETIME", "k") == int(4_102_444_800_123))
            // A deadline in the past removes the key at once.
            #expect(try c.call("SET", "k", "v", "PXAT", "1000") == OK)
            #expect(try c.call("EXISTS", "k") == int(0))
            #expect(try c.call("SET", "k", "v", "KEEPTTL", "EX", "10") == err("ERR syntax error"))
        }
    }

    /// Redis's option rules: a flag may repeat (the last expiry counts), a conflict is a
    /// syntax error, and the expiry is checked before the key is looked at.
    @Test func setOptionsAsRedisReadsThem() async throws {
        try withInProcessServer { server in
            let c = try server.connect()
            #expect(try c.call("SET", "k", "v", "PX", "0", "XX") == err("ERR invalid expire time in 'set' command"))
            #expect(try c.call("SET", "k", "v", "EX", "abc", "NX", "XX") == err("ERR syntax error"))
            #expect(try c.call("SET", "k", "v", "NX", "NX") == OK)
            #expect(try c.call("SET", "k", "w", "GET", "GET") == bulk("v"))
            #expect(try c.call("SET", "k", "v", "EX", "10", "EX", "1000") == OK)
            #expect(try ttlNear(c, "k", 1000))
            #expect(try c.call("SET", "k", "v", "KEEPTTL", "KEEPTTL") == OK)
            #expect(try ttlNear(c, "k", 1000))
            #expect(try c.call("SET", "k", "v", "KEEPTTL", "EX", "5") == err("ERR syntax error"))
            #expect(try c.call("SET", "k", "v", "EX", "5", "KEEPTTL") == err("ERR syntax error"))
            #expect(try c.call("SET", "k", "v", "EX") == err("ERR syntax error"))
            #expect(try c.call("SET", "k", "v", "PERSIST") == err("ERR syntax error"))
            #expect(try c.call("set", "k", "v", "ex", "100", "nx") == NIL)
            // Option names are ASCII: a Unicode case mapping must not make `PERSıST` PERSIST.
            #expect(try c.call("GETEX", "k", "PERSıST") == err("ERR syntax error"))
        }
    }

    @Test func getexOptionsAsRedisReadsThem() async throws {
        try withInProcessServer { server in
            let c = try server.connect()
            // A missing key answers nil before the expiry is read.
            #expect(try c.call("GETEX", "nokey", "EX", "0") == NIL)
            #expect(try c.call("GETEX", "nokey", "EX", "abc") == NIL)
            try c.call("SET", "k", "v")
            #expect(try c.call("GETEX", "k", "EX", "0") == err("ERR invalid expire time in 'getex' command"))
            #expect(try c.call("GETEX", "k", "EX", "abc") == err("ERR value is not an integer or out of range"))
            #expect(try c.call("GETEX", "k", "PERSIST", "PERSIST") == bulk("v"))
            #expect(try c.call("GETEX", "k", "EX", "10", "EX", "1000") == bulk("v"))
            #expect(try ttlNear(c, "k", 1000))
            #expect(try c.call("GETEX", "k", "EX", "10", "PERSIST") == err("ERR syntax error"))
            #expect(try c.call("GETEX", "k", "NX") == err("ERR syntax error"))
        }
    }

    /// An offset near Int64.max once overflowed `offset + length` and stopped the server.
    @Test func setrangeOffsetsThatOverflow() async throws {
        try withInProcessServer { server in
            let c = try server.connect()
            let tooLong = err("ERR string exceeds maximum allowed size (proto-max-bulk-len)")
            #expect(try c.call("SETRANGE", "k", "9223372036854775807", "x") == tooLong)
            try c.call("SET", "k", "v")
            #expect(try c.call("SETRANGE", "k", "9223372036854775807", "x") == tooLong)
            #expect(try c.call("SETRANGE", "k", "9223372036854775806", "xy") == tooLong)
            #expect(
                try c.call("SETRANGE", "k", "9223372036854775808", "x")
                    == err("ERR value is not an integer or out of range")
            )
            #expect(try c.call("GETRANGE", "k", "-9223372036854775808", "9223372036854775807") == bulk("v"))
            #expect(try c.call("GETRANGE", "k", "0", "-9223372036854775808") == bulk("v"))
            #expect(try c.call("GET", "k") == bulk("v"))
            // Past the end: the gap is zero-filled, the old bytes kept.
            #expect(try c.call("SETRANGE", "k", "3", "xy") == int(5))
            #expect(
                try c.call("GET", "k")
                    == .bulkString(ByteBuffer(bytes: [UInt8(ascii: "v"), 0, 0, UInt8(ascii: "x"), UInt8(ascii: "y")]))
            )
            #expect(try c.call("APPEND", "k", "z") == int(6))
            #expect(try c.call("GETRANGE", "k", "3", "-1") == bulk("xyz"))
        }
    }

    @Test func setVariants() async throws {
        try withInProcessServer { server in
            let c = try server.connect()
            #expect(try c.call("SETNX", "k", "1") == int(1))
            #expect(try c.call("SETNX", "k", "2") == int(0))
            #expect(try c.call("GET", "k") == bulk("1"))
            #expect(try c.call("SETEX", "e", "100", "v") == OK)
            #expect(try ttlNear(c, "e", 100))
            #expect(try c.call("SETEX", "e", "0", "v") == err("ERR invalid expire time in 'setex' command"))
            #expect(try c.call("PSETEX", "p", "100000", "v") == OK)
            #expect(try c.call("PSETEX", "p", "-5", "v") == err("ERR invalid expire time in 'psetex' command"))
            #expect(try c.call("GETSET", "k", "2") == bulk("1"))
            #expect(try c.call("GETSET", "nope", "2") == NIL)
            #expect(try c.call("GETDEL", "k") == bulk("2"))
            #expect(try c.call("GETDEL", "k") == NIL)
            #expect(try c.call("EXISTS", "k") == int(0))
        }
    }

    @Test func getex() async throws {
        try withInProcessServer { server in
            let c = try server.connect()
            #expect(try c.call("GETEX", "k") == NIL)
            try c.call("SET", "k", "v")
            #expect(try c.call("GETEX", "k", "EX", "100") == bulk("v"))
            #expect(try ttlNear(c, "k", 100))
            #expect(try c.call("GETEX", "k", "PERSIST") == bulk("v"))
            #expect(try c.call("TTL", "k") == int(-1))
            #expect(try c.call("GETEX", "k", "PXAT", "4102444800123") == bulk("v"))
            #expect(try c.call("PEXPIRETIME", "k") == int(4_102_444_800_123))
            #expect(try c.call("GETEX", "k", "EX", "0") == err("ERR invalid expire time in 'getex' command"))
            #expect(try c.call("GETEX", "k", "EX", "1", "PERSIST") == err("ERR syntax error"))
            #expect(try c.call("GETEX", "k", "BOGUS") == err("ERR syntax error"))
        }
    }

    @Test func multiKey() async throws {
        try withInProcessServer { server in
            let c = try server.connect()
            #expect(try c.call("MSET", "a", "1", "b", "2") == OK)
            #expect(try c.call("MGET", "a", "b", "c") == .array([bulk("1"), bulk("2"), NIL]))
            #expect(try c.call("MSET", "a", "1", "b") == err("ERR wrong number of arguments for 'mset' command"))
            #expect(try c.call("MSETNX", "c", "3", "a", "9") == int(0))
            #expect(try c.call("GET", "c") == NIL)
            #expect(try c.call("MSETNX", "c", "3", "d", "4") == int(1))
            #expect(try c.call("MGET", "c", "d") == .array([bulk("3"), bulk("4")]))
        }
    }

    @Test func appendStrlenRanges() async throws {
        try withInProcessServer { server in
            let c = try server.connect()
            #expect(try c.call("APPEND", "k", "Hello") == int(5))
            #expect(try c.call("APPEND", "k", " World") == int(11))
            #expect(try c.call("STRLEN", "k") == int(11))
            #expect(try c.call("STRLEN", "none") == int(0))
            #expect(try c.call("GETRANGE", "k", "0", "4") == bulk("Hello"))
            #expect(try c.call("GETRANGE", "k", "-5", "-1") == bulk("World"))
            #expect(try c.call("GETRANGE", "k", "0", "-1") == bulk("Hello World"))
            #expect(try c.call("GETRANGE", "k", "5", "3") == bulk(""))
            #expect(try c.call("GETRANGE", "k", "-1", "-5") == bulk(""))
            #expect(try c.call("GETRANGE", "k", "0", "100") == bulk("Hello World"))
            #expect(try c.call("GETRANGE", "none", "0", "-1") == bulk(""))
            #expect(try c.call("SETRANGE", "k", "6", "Redis") == int(11))
            #expect(try c.call("GET", "k") == bulk("Hello Redis"))
            #expect(try c.call("SETRANGE", "pad", "3", "x") == int(4))
            #expect(try c.call("GET", "pad") == .bulkString(ByteBuffer(bytes: [0, 0, 0, UInt8(ascii: "x")])))
            #expect(try c.call("SETRANGE", "empty", "3", "") == int(0))
            #expect(try c.call("EXISTS", "empty") == int(0))
            #expect(try c.call("SETRANGE", "k", "-1", "x") == err("ERR offset is out of range"))
            #expect(
                try c.call("SETRANGE", "k", "536870912", "x")
                    == err("ERR string exceeds maximum allowed size (proto-max-bulk-len)")
            )
        }
    }

    @Test func counters() async throws {
        try withInProcessServer { server in
            let c = try server.connect()
            #expect(try c.call("INCR", "n") == int(1))
            #expect(try c.call("INCRBY", "n", "10") == int(11))
            #expect(try c.call("DECR", "n") == int(10))
            #expect(try c.call("DECRBY", "n", "20") == int(-10))
            #expect(try c.call("GET", "n") == bulk("-10"))
            try c.call("SET", "s", "abc")
            #expect(try c.call("INCR", "s") == err("ERR value is not an integer or out of range"))
            try c.call("SET", "s", " 1")
            #expect(try c.call("INCR", "s") == err("ERR value is not an integer or out of range"))
            try c.call("SET", "s", "01")
            #expect(try c.call("INCR", "s") == err("ERR value is not an integer or out of range"))
            try c.call("SET", "max", "9223372036854775807")
            #expect(try c.call("INCR", "max") == err("ERR increment or decrement would overflow"))
            #expect(try c.call("INCRBY", "n", "x") == err("ERR value is not an integer or out of range"))
            #expect(try c.call("DECRBY", "n", "-9223372036854775808") == err("ERR decrement would overflow"))
            try c.call("SET", "t", "5", "EX", "100")
            #expect(try c.call("INCR", "t") == int(6))
            #expect(try ttlNear(c, "t", 100))
        }
    }

    @Test func incrbyfloat() async throws {
        try withInProcessServer { server in
            let c = try server.connect()
            #expect(try c.call("INCRBYFLOAT", "f", "0.1") == bulk("0.1"))
            #expect(try c.call("INCRBYFLOAT", "f", "0.2") == bulk("0.3"))
            try c.call("SET", "g", "10.50")
            #expect(try c.call("INCRBYFLOAT", "g", "0.1") == bulk("10.6"))
            #expect(try c.call("INCRBYFLOAT", "g", "-5.6") == bulk("5"))
            try c.call("SET", "h", "5.0e3")
            #expect(try c.call("INCRBYFLOAT", "h", "2.0e2") == bulk("5200"))
            #expect(try c.call("INCRBYFLOAT", "g", "abc") == err("ERR value is not a valid float"))
            #expect(try c.call("INCRBYFLOAT", "g", "inf") == err("ERR increment would produce NaN or Infinity"))
            try c.call("SET", "s", "x")
            #expect(try c.call("INCRBYFLOAT", "s", "1") == err("ERR value is not a valid float"))
        }
    }

    @Test func binaryKeysAndValuesRoundTrip() async throws {
        try withInProcessServer { server in
            let c = try server.connect()
            let key: [UInt8] = [0xFF, 0x00, 0xC3, 0x28, 0x0D, 0x0A]
            let other: [UInt8] = [0xFF, 0x00, 0xC3, 0x28, 0x0D]
            let value: [UInt8] = (0..<256).map { UInt8($0) }
            #expect(try c.callBytes([Array("SET".utf8), key, value]) == OK)
            #expect(try c.callBytes([Array("GET".utf8), key]) == .bulkString(ByteBuffer(bytes: value)))
            #expect(try c.callBytes([Array("GET".utf8), other]) == NIL)
            #expect(try c.call("KEYS", "*") == .array([.bulkString(ByteBuffer(bytes: key))]))
        }
    }
}
