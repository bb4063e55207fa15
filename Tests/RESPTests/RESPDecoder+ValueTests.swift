import NIOCore
import RESP
import Testing

@Suite struct RESPDecoderValueTests {
    /// Replies recorded from Redis 7.0.15 (`DEBUG PROTOCOL <type>` after `HELLO 3`) and what they decode to.
    static let redisReplies: [(wire: String, value: RESPValue)] = [
        ("$11\r\nHello World\r\n", .bulk("Hello World")),
        (":12345\r\n", .integer(12345)),
        (",3.141\r\n", .double(3.141)),
        ("(1234567999999999999999999999999999999\r\n", .bigNumber("1234567999999999999999999999999999999")),
        ("_\r\n", .null),
        ("*3\r\n:0\r\n:1\r\n:2\r\n", .array([.integer(0), .integer(1), .integer(2)])),
        ("~3\r\n:0\r\n:1\r\n:2\r\n", .set([.integer(0), .integer(1), .integer(2)])),
        (
            "%3\r\n:0\r\n#f\r\n:1\r\n#t\r\n:2\r\n#f\r\n",
            .map([
                (key: .integer(0), value: .boolean(false)), (key: .integer(1), value: .boolean(true)),
                (key: .integer(2), value: .boolean(false)),
            ])
        ),
        (
            "|1\r\n$14\r\nkey-popularity\r\n*2\r\n$7\r\nkey:123\r\n:90\r\n$39\r\nSome real reply following the attribute\r\n",
            .attribute(
                [(key: .bulk("key-popularity"), value: .array([.bulk("key:123"), .integer(90)]))],
                .bulk("Some real reply following the attribute")
            )
        ),
        (">2\r\n$16\r\nserver-cpu-usage\r\n:42\r\n", .push([.bulk("server-cpu-usage"), .integer(42)])),
        (
            "=29\r\ntxt:This is a verbatim\nstring\r\n",
            .verbatimString(format: "txt", text: ByteBuffer(string: "This is a verbatim\nstring"))
        ),
        ("#t\r\n", .boolean(true)),
        ("#f\r\n", .boolean(false)),
        ("+OK\r\n", .ok),
        ("-ERR unknown command 'x'\r\n", .error("ERR unknown command 'x'")),
        ("$-1\r\n", .nullBulkString),
        ("*-1\r\n", .nullArray),
        ("*0\r\n", .array([])),
        ("%0\r\n", .map([])),
        ("!21\r\nSYNTAX invalid syntax\r\n", .blobError(ByteBuffer(string: "SYNTAX invalid syntax"))),
        (",inf\r\n", .double(.infinity)),
        (",-inf\r\n", .double(-.infinity)),
        (",nan\r\n", .double(.nan)),
        (",1.0000000000000001e-05\r\n", .double(1e-5)),
        (",-0\r\n", .double(-0.0)),
        (":+7\r\n", .integer(7)),
        (":-9223372036854775808\r\n", .integer(.min)),
        ("(-42\r\n", .bigNumber("-42")),
    ]

    @Test(arguments: Chunking.all)
    func decodesEveryTypeAsRedisSendsIt(chunking: Chunking) {
        for (wire, value) in Self.redisReplies {
            let result = decodeValues(bytes(wire), chunking: chunking)
            #expect(result == StreamResult(frames: [value]), "\(wire.debugDescription)")
        }
        // All of them pipelined in one stream.
        let stream = Self.redisReplies.flatMap { bytes($0.wire) }
        #expect(decodeValues(stream, chunking: chunking) == StreamResult(frames: Self.redisReplies.map(\.value)))
    }

    @Test(arguments: RESPVersion.allCases)
    func roundTripsEveryValue(version: RESPVersion) {
        for value in everyKindOfValue {
            let wire = encoded(value, version)
            for chunking in Chunking.all {
                let result = decodeValues(wire, chunking: chunking)
                #expect(result == StreamResult(frames: [degraded(value, version)]), "\(value) \(chunking)")
            }
        }
    }

    @Test func resp3RoundTripIsExactForEveryNonNullValue() {
        for value in everyKindOfValue where degraded(value, .resp3) == value {
            #expect(decodeValues(encoded(value, .resp3)).frames == [value])
        }
    }

    @Test(arguments: Chunking.all)
    func binarySafeBulkStrings(chunking: Chunking) {
        let every = (0...255).map { UInt8($0) }
        let value = RESPValue.array([.bulk(every), .bulk("\r\n"), .bulk("$3\r\nfoo\r\n")])
        #expect(decodeValues(encoded(value, .resp2), chunking: chunking).frames == [value])
    }

    @Test func bulkPayloadsAreSlicesOfTheInput() throws {
        var decoder = RESPDecoder()
        var buffer = ByteBuffer(string: "*2\r\n$1\r\na\r\n$1\r\nb\r\n")
        let storage = storageIdentity(buffer)
        let value = try #require(try decoder.next(from: &buffer))
        #expect(value.elements?.compactMap(\.bufferValue).allSatisfy { storageIdentity($0) == storage } == true)
    }

    @Test func incompleteValueConsumesNothing() throws {
        let full = encoded(everyKindOfValue.last ?? .null, .resp3) + encoded(.array(everyKindOfValue), .resp3)
        for cut in stride(from: 0, to: full.count, by: 3) {
            var decoder = RESPDecoder()
            var buffer = ByteBuffer(bytes: full[..<cut])
            var count = 0
            while (try? decoder.next(from: &buffer)) ?? nil != nil { count += 1 }
            #expect(count <= 1)
            if count == 0 { #expect(buffer.readableBytes == cut) }
        }
    }

    // MARK: Errors

    static let malformed: [(input: String, code: RESPProtocolError.Code)] = [
        ("?\r\n", .invalidTypeByte),
        ("PING\r\n", .invalidTypeByte),
        ("$x\r\n", .invalidBulkLength),
        ("$-2\r\n", .invalidBulkLength),
        ("!-1\r\n", .invalidBulkLength),
        ("$?\r\n", .invalidBulkLength),  // RESP3 streamed strings: unsupported
        ("$3\r\nabcd\r\n", .missingCRLF),
        ("+OK\rx", .missingCRLF),
        ("*x\r\n", .invalidMultibulkLength),
        ("%-1\r\n", .invalidMultibulkLength),
        ("*-2\r\n", .invalidMultibulkLength),
        (":12a\r\n", .invalidInteger),
        (":\r\n", .invalidInteger),
        (":9223372036854775808\r\n", .invalidInteger),
        (",1.5x\r\n", .invalidDouble),
        (",0x10\r\n", .invalidDouble),
        (",\r\n", .invalidDouble),
        ("#x\r\n", .invalidBoolean),
        ("#tt\r\n", .invalidBoolean),
        ("(12a\r\n", .invalidBigNumber),
        ("(\r\n", .invalidBigNumber),
        ("_x\r\n", .invalidNull),
        ("=3\r\ntxt\r\n", .invalidVerbatimString),
        ("=4\r\ntxt-\r\n", .invalidVerbatimString),
        ("*2\r\n:1\r\n?\r\n", .invalidTypeByte),
        // The framing is checked first: the bad length is reported even after a bad integer.
        ("*2\r\n:abc\r\n$x\r\n", .invalidBulkLength),
    ]

    @Test(arguments: Chunking.all)
    func malformedValuesThrow(chunking: Chunking) {
        for (input, code) in Self.malformed {
            let result = decodeValues(bytes(input), chunking: chunking)
            #expect(result.frames.isEmpty, "\(input.debugDescription)")
            #expect(result.error?.code == code, "\(input.debugDescription): \(String(describing: result.error))")
        }
    }

    // MARK: Limits

    @Test func nestingDeeperThanTheLimitIsRefused() throws {
        let limits = RESPDecoder.Limits(maxDepth: 3)
        let three = bytes("*1\r\n*1\r\n*1\r\n:1\r\n")
        #expect(
            decodeValues(three, decoder: RESPDecoder(limits: limits)).frames == [
                .array([.array([.array([.integer(1)])])])
            ]
        )
        let four = bytes("*1\r\n*1\r\n*1\r\n*1\r\n")  // refused before the innermost element arrives
        #expect(decodeValues(four, decoder: RESPDecoder(limits: limits)).error?.code == .nestingTooDeep)
        // The default survives a hostile stream of a million nested headers without recursion.
        let deep = [UInt8](repeating: 0, count: 0) + Array(repeating: bytes("*1\r\n"), count: 100_000).joined()
        #expect(decodeValues(Array(deep)).error?.code == .nestingTooDeep)
    }

    @Test func bulkOverTheLimitIsRefusedAtItsHeader() throws {
        var decoder = RESPDecoder(limits: RESPDecoder.Limits(maxBulkLength: 10))
        var buffer = ByteBuffer(string: "$11\r\n")
        #expect(throws: RESPProtocolError(code: .invalidBulkLength)) { try decoder.next(from: &buffer) }
    }

    @Test func aggregateOverTheLimitIsRefusedAtItsHeader() throws {
        for header in ["*5\r\n", "~5\r\n", ">5\r\n", "%5\r\n", "|5\r\n"] {
            var decoder = RESPDecoder(limits: RESPDecoder.Limits(maxAggregateLength: 4))
            var buffer = ByteBuffer(string: header)
            #expect(throws: RESPProtocolError(code: .invalidMultibulkLength)) { try decoder.next(from: &buffer) }
        }
    }

    @Test func longLinesAreRefused() {
        let limits = RESPDecoder.Limits(maxLineLength: 8)
        for chunking in Chunking.all {
            let simple = decodeValues(bytes("+123456789\r\n"), chunking: chunking, decoder: RESPDecoder(limits: limits))
            #expect(simple.error?.code == .lineTooLong)
            let fits = decodeValues(bytes("+1234567\r\n"), chunking: chunking, decoder: RESPDecoder(limits: limits))
            #expect(fits.frames == [.simpleString("1234567")])
        }
    }

    @Test func hugeClaimedArrayAllocatesNothingUntilItsElementsArrive() throws {
        // A 2-billion element header is accepted by default (Redis's ceiling) but costs nothing.
        var decoder = RESPDecoder()
        var buffer = ByteBuffer(string: "*2147483647\r\n:1\r\n")
        #expect(try decoder.next(from: &buffer) == nil)
        #expect(buffer.readableBytes == 17)
    }

    @Test func largeBulkArrivingInPiecesIsNotRescanned() throws {
        let payloadSize = 4 * 1024 * 1024
        var decoder = RESPDecoder()
        var buffer = ByteBuffer(string: "*1\r\n$\(payloadSize)\r\n")
        let chunk = [UInt8](repeating: 0x0D, count: 1024)  // \r bytes everywhere: never searched
        var sent = 0
        while sent < payloadSize {
            #expect(try decoder.next(from: &buffer) == nil)
            buffer.writeBytes(chunk)
            sent += chunk.count
        }
        buffer.writeString("\r\n")
        let value = try #require(try decoder.next(from: &buffer))
        #expect(value.elements?.first?.bufferValue?.readableBytes == payloadSize)
    }
}
