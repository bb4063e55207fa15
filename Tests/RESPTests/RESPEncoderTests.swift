import NIOCore
import RESP
import Testing

@Suite struct RESPEncoderTests {
    /// What Redis 7.0.15 sends for `DEBUG PROTOCOL <type>` to a RESP2 and to a RESP3 client.
    static let redisDebugProtocol: [(value: RESPValue, resp2: String, resp3: String)] = [
        (.bulk("Hello World"), "$11\r\nHello World\r\n", "$11\r\nHello World\r\n"),
        (.integer(12345), ":12345\r\n", ":12345\r\n"),
        (.double(3.141), "$5\r\n3.141\r\n", ",3.141\r\n"),
        (
            .bigNumber("1234567999999999999999999999999999999"),
            "$37\r\n1234567999999999999999999999999999999\r\n", "(1234567999999999999999999999999999999\r\n"
        ),
        (.null, "$-1\r\n", "_\r\n"),
        (.array([.integer(0), .integer(1), .integer(2)]), "*3\r\n:0\r\n:1\r\n:2\r\n", "*3\r\n:0\r\n:1\r\n:2\r\n"),
        (.set([.integer(0), .integer(1), .integer(2)]), "*3\r\n:0\r\n:1\r\n:2\r\n", "~3\r\n:0\r\n:1\r\n:2\r\n"),
        (
            .map([
                (key: .integer(0), value: .boolean(false)), (key: .integer(1), value: .boolean(true)),
                (key: .integer(2), value: .boolean(false)),
            ]),
            "*6\r\n:0\r\n:0\r\n:1\r\n:1\r\n:2\r\n:0\r\n", "%3\r\n:0\r\n#f\r\n:1\r\n#t\r\n:2\r\n#f\r\n"
        ),
        (
            .attribute(
                [(key: .bulk("key-popularity"), value: .array([.bulk("key:123"), .integer(90)]))],
                .bulk("Some real reply following the attribute")
            ),
            "$39\r\nSome real reply following the attribute\r\n",
            "|1\r\n$14\r\nkey-popularity\r\n*2\r\n$7\r\nkey:123\r\n:90\r\n$39\r\nSome real reply following the attribute\r\n"
        ),
        (
            .verbatimString(format: "txt", text: ByteBuffer(string: "This is a verbatim\nstring")),
            "$25\r\nThis is a verbatim\nstring\r\n", "=29\r\ntxt:This is a verbatim\nstring\r\n"
        ),
        (.boolean(true), ":1\r\n", "#t\r\n"),
        (.boolean(false), ":0\r\n", "#f\r\n"),
        // Redis sends pushes to RESP2 clients (Pub/Sub) as arrays.
        (
            .push([.bulk("server-cpu-usage"), .integer(42)]), "*2\r\n$16\r\nserver-cpu-usage\r\n:42\r\n",
            ">2\r\n$16\r\nserver-cpu-usage\r\n:42\r\n"
        ),
        (.nullBulkString, "$-1\r\n", "_\r\n"),
        (.nullArray, "*-1\r\n", "_\r\n"),
        (.ok, "+OK\r\n", "+OK\r\n"),
        (.error("ERR x"), "-ERR x\r\n", "-ERR x\r\n"),
    ]

    @Test func writesWhatRedisWrites() {
        for (value, resp2, resp3) in Self.redisDebugProtocol {
            #expect(encoded(value, .resp2) == bytes(resp2), "\(value)")
            #expect(encoded(value, .resp3) == bytes(resp3), "\(value)")
        }
    }

    @Test func integersAtTheEdges() {
        for (value, text) in [
            (0, "0"), (9, "9"), (10, "10"), (-1, "-1"), (Int64.max, "9223372036854775807"),
            (Int64.min, "-9223372036854775808"),
        ] {
            #expect(encoded(.integer(value), .resp2) == bytes(":\(text)\r\n"))
        }
        for exponent in 0..<19 {
            var power: Int64 = 1
            for _ in 0..<exponent { power *= 10 }
            for value in [power - 1, power, power + 1, -power] {
                #expect(encoded(.integer(value), .resp3) == bytes(":\(value)\r\n"))
            }
        }
    }

    @Test func doublesAreFormattedLikeRedis() {
        let cases: [(Double, String)] = [
            (1.5, "1.5"), (3, "3"), (-0.0, "-0"), (0, "0"), (.infinity, "inf"), (-.infinity, "-inf"), (.nan, "nan"),
            (1e20, "1e+20"), (1e19, "1e+19"), (4e18, "4000000000000000000"),
            (1e300, "1e+300"), (0.1, "0.1"), (-2.5e-7, "-2.5e-07"),
        ]
        for (value, text) in cases {
            #expect(encoded(.double(value), .resp3) == bytes(",\(text)\r\n"), "\(value)")
            #expect(encoded(.double(value), .resp2) == bytes("$\(text.utf8.count)\r\n\(text)\r\n"), "\(value)")
        }
    }

    @Test func lineBreaksCannotEscapeSimpleStringsAndErrors() {
        #expect(encoded(.simpleString("a\r\nb"), .resp2) == bytes("+a  b\r\n"))
        #expect(encoded(.error("ERR a\nb"), .resp3) == bytes("-ERR a b\r\n"))
        #expect(encoded(.blobError(ByteBuffer(string: "ERR\r\nx")), .resp2) == bytes("-ERR  x\r\n"))
    }

    @Test func verbatimFormatIsAlwaysThreeBytes() {
        #expect(
            encoded(.verbatimString(format: "markdown", text: ByteBuffer(string: "x")), .resp3)
                == bytes("=5\r\ntxt:x\r\n")
        )
    }

    /// The raw-bytes bulk path writes header, bytes and CRLF in one step: empty, short and
    /// long values, after bytes already in the buffer and into a buffer that must grow.
    @Test(arguments: [0, 1, 64, 1023, 100_000])
    func rawBulkStringAppendsAfterExistingBytes(count: Int) {
        let value = (0..<count).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        var buffer = ByteBuffer()
        RESPEncoder(version: .resp2).writeOK(into: &buffer)
        value.withUnsafeBytes { RESPEncoder(version: .resp2).writeBulkString($0, into: &buffer) }
        RESPEncoder(version: .resp2).writeNull(into: &buffer)
        #expect(Array(buffer.readableBytesView) == bytes("+OK\r\n$\(count)\r\n") + value + bytes("\r\n$-1\r\n"))
    }

    @Test(arguments: RESPVersion.allCases)
    func fastPathsMatchEncode(version: RESPVersion) {
        let encoder = RESPEncoder(version: version)
        func written(_ body: (inout ByteBuffer) -> Void) -> [UInt8] {
            var buffer = ByteBuffer()
            body(&buffer)
            return Array(buffer.readableBytesView)
        }
        #expect(written { encoder.writeOK(into: &$0) } == encoded(.ok, version))
        #expect(written { encoder.writeSimpleString("PONG", into: &$0) } == encoded(.simpleString("PONG"), version))
        #expect(written { encoder.writeError("ERR no", into: &$0) } == encoded(.error("ERR no"), version))
        #expect(written { encoder.writeInteger(-42, into: &$0) } == encoded(.integer(-42), version))
        #expect(written { encoder.writeBulkString(ByteBuffer(string: "v"), into: &$0) } == encoded(.bulk("v"), version))
        #expect(written { encoder.writeBulkString([0, 255], into: &$0) } == encoded(.bulk([0, 255]), version))
        #expect(written { encoder.writeBulkString("héllo", into: &$0) } == encoded(.bulk("héllo"), version))
        #expect(written { encoder.writeNull(into: &$0) } == encoded(.null, version))
        #expect(written { encoder.writeNullArray(into: &$0) } == encoded(.nullArray, version))
        #expect(written { encoder.writeDouble(2.5, into: &$0) } == encoded(.double(2.5), version))
        #expect(written { encoder.writeBoolean(true, into: &$0) } == encoded(.boolean(true), version))
        #expect(
            written {
                encoder.writeMapHeader(count: 1, into: &$0)
                encoder.writeBulkString("k", into: &$0)
                encoder.writeInteger(1, into: &$0)
            } == encoded(.map([(key: .bulk("k"), value: .integer(1))]), version)
        )
        #expect(
            written {
                encoder.writeSetHeader(count: 1, into: &$0)
                encoder.writeInteger(1, into: &$0)
            } == encoded(.set([.integer(1)]), version)
        )
        #expect(
            written {
                encoder.writeArrayHeader(count: 2, into: &$0)
                encoder.writeBulkString("GET", into: &$0)
                encoder.writeBulkString("k", into: &$0)
            } == encoded(.command(["GET", "k"]), version)
        )
    }
}
