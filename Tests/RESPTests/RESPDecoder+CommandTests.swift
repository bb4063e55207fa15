import NIOCore
import RESP
import Testing

@Suite struct RESPDecoderCommandTests {
    // MARK: Multibulk

    @Test(arguments: Chunking.all)
    func multibulkCommand(chunking: Chunking) {
        let input = bytes("*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$5\r\nvalue\r\n")
        let result = decodeCommands(input, chunking: chunking)
        #expect(result == StreamResult(frames: [args("SET", "key", "value")]))
    }

    @Test(arguments: Chunking.all)
    func pipelinedCommandsDecodeInOrder(chunking: Chunking) {
        var input: [UInt8] = []
        var expected: [[ByteBuffer]] = []
        for index in 0..<50 {
            let key = "key:\(index)"
            input += bytes("*2\r\n$3\r\nGET\r\n$\(key.utf8.count)\r\n\(key)\r\n")
            expected.append(args("GET", key))
            if index % 7 == 0 {
                input += bytes("PING\r\n")
                expected.append(args("PING"))
            }
        }
        #expect(decodeCommands(input, chunking: chunking) == StreamResult(frames: expected))
    }

    @Test(arguments: Chunking.all)
    func emptyCommandsAreSkippedAsRedisSkipsThem(chunking: Chunking) {
        // Redis answers `*0\r\nPING\r\n`, `*-1\r\nPING\r\n` and `*-5\r\nPING\r\n` with one +PONG, and
        // ignores blank lines.
        let input = bytes("*0\r\n*-1\r\n*-5\r\n\r\n\n   \r\n*1\r\n$4\r\nPING\r\n")
        #expect(decodeCommands(input, chunking: chunking) == StreamResult(frames: [args("PING")]))
    }

    @Test(arguments: Chunking.all)
    func binarySafeArguments(chunking: Chunking) {
        let every = (0...255).map { UInt8($0) }
        var input = bytes("*3\r\n$3\r\nSET\r\n$256\r\n") + every + bytes("\r\n$4\r\n\r\n\r\n\r\n")
        input += bytes("*1\r\n$0\r\n\r\n")
        let result = decodeCommands(input, chunking: chunking)
        #expect(
            result
                == StreamResult(frames: [
                    [ByteBuffer(string: "SET"), ByteBuffer(bytes: every), ByteBuffer(string: "\r\n\r\n")],
                    [ByteBuffer()],
                ])
        )
    }

    @Test func incompleteCommandConsumesNothing() throws {
        let full = bytes("*2\r\n$4\r\nECHO\r\n$5\r\nhello\r\n")
        for cut in 0..<full.count {
            var decoder = RESPDecoder()
            var buffer = ByteBuffer(bytes: full[..<cut])
            #expect(try decoder.nextCommand(from: &buffer) == nil)
            #expect(buffer.readableBytes == cut)
        }
    }

    @Test func argumentsAreSlicesOfTheInput() throws {
        var decoder = RESPDecoder()
        var buffer = ByteBuffer(string: "*2\r\n$3\r\nGET\r\n$3\r\nkey\r\n")
        let storage = storageIdentity(buffer)
        let command = try #require(try decoder.nextCommand(from: &buffer))
        #expect(command.allSatisfy { storageIdentity($0) == storage })
    }

    // MARK: Inline commands (each expectation recorded from Redis 7.0.15 with `printf … | nc`)

    static let inlineCases: [(line: String, arguments: [String])] = [
        ("PING\r\n", ["PING"]),
        ("set a b\n", ["set", "a", "b"]),
        ("  set   a\tb  \r\n", ["set", "a", "b"]),
        ("echo \"hello world\"\r\n", ["echo", "hello world"]),
        ("echo \"a\\x41\\x4\\n\\q\"\n", ["echo", "aAx4\nq"]),
        ("echo 'it\\'s' \n", ["echo", "it's"]),
        ("echo 'a\\nb'\r\n", ["echo", "a\\nb"]),
        ("echo \"a\\\"b\"\n", ["echo", "a\"b"]),
        ("echo a\"b c\"\r\n", ["echo", "ab c"]),
        ("echo\ta\u{0B}b\r\n", ["echo", "a\u{0B}b"]),
        ("\u{0B}echo a\r\n", ["echo", "a"]),
        ("echo \"\"\r\n", ["echo", ""]),
        ("echo \"\\t\\r\\b\\a\\\\\"\n", ["echo", "\t\r\u{08}\u{07}\\"]),
        ("echo a\rb\n", ["echo", "a", "b"]),
        ("$3\r\n", ["$3"]),
    ]

    @Test(arguments: Chunking.all)
    func inlineCommandsSplitLikeRedis(chunking: Chunking) {
        for (line, arguments) in Self.inlineCases {
            let result = decodeCommands(bytes(line), chunking: chunking)
            #expect(
                result == StreamResult(frames: [arguments.map { ByteBuffer(string: $0) }]),
                "\(line.debugDescription)"
            )
        }
    }

    @Test func inlineLineKeepsBinaryBytesAndNUL() {
        let input: [UInt8] = bytes("echo a") + [0, 0xFF] + bytes(" \"\\x00\\xfF\"\n")
        let result = decodeCommands(input)
        #expect(
            result
                == StreamResult(frames: [
                    [
                        ByteBuffer(string: "echo"), ByteBuffer(bytes: bytes("a") + [0, 0xFF]),
                        ByteBuffer(bytes: [0, 0xFF]),
                    ]
                ])
        )
    }

    @Test func inlineLineUpToTheLimitIsAccepted() {
        let limits = RESPDecoder.Limits(maxLineLength: 16)
        let line = "echo " + String(repeating: "x", count: 10) + "\r"  // 16 bytes before \n
        let result = decodeCommands(bytes(line + "\n"), chunking: .bytewise, decoder: RESPDecoder(limits: limits))
        #expect(result.frames == [args("echo", String(repeating: "x", count: 10))])
        #expect(result.error == nil)
    }

    // MARK: Errors (texts as Redis 7.0.15 replies them after `-ERR `)

    static let malformed: [(input: String, code: RESPProtocolError.Code, text: String)] = [
        ("*x\r\n", .invalidMultibulkLength, "Protocol error: invalid multibulk length"),
        ("*01\r\n$4\r\nPING\r\n", .invalidMultibulkLength, "Protocol error: invalid multibulk length"),
        ("*+1\r\n$4\r\nPING\r\n", .invalidMultibulkLength, "Protocol error: invalid multibulk length"),
        ("*2147483648\r\n", .invalidMultibulkLength, "Protocol error: invalid multibulk length"),
        ("*1\n$4\r\nPING\r\n", .invalidMultibulkLength, "Protocol error: invalid multibulk length"),
        ("*1\r\n$-1\r\n", .invalidBulkLength, "Protocol error: invalid bulk length"),
        ("*1\r\n$x\r\n", .invalidBulkLength, "Protocol error: invalid bulk length"),
        ("*1\r\n$04\r\nPING\r\n", .invalidBulkLength, "Protocol error: invalid bulk length"),
        ("*1\r\n$536870913\r\n", .invalidBulkLength, "Protocol error: invalid bulk length"),
        ("*1\r\nx4\r\nPING\r\n", .unexpectedArgumentType, "Protocol error: expected '$', got 'x'"),
        ("*1\r\n+PING\r\n", .unexpectedArgumentType, "Protocol error: expected '$', got '+'"),
        ("set a \"b\n", .unbalancedQuotes, "Protocol error: unbalanced quotes in request"),
        ("set a 'b\n", .unbalancedQuotes, "Protocol error: unbalanced quotes in request"),
        ("set a \"b\"c\n", .unbalancedQuotes, "Protocol error: unbalanced quotes in request"),
        ("echo 'a'b\n", .unbalancedQuotes, "Protocol error: unbalanced quotes in request"),
        ("echo \"a\\\"\n", .unbalancedQuotes, "Protocol error: unbalanced quotes in request"),
        // Redis skips the two bytes after a bulk unchecked (`PINGxxPING` runs PING twice); kvs refuses.
        ("*1\r\n$4\r\nPINGxxPING\r\n", .missingCRLF, "Protocol error: expected CRLF line terminator"),
        ("*1\rx$4\r\nPING\r\n", .missingCRLF, "Protocol error: expected CRLF line terminator"),
    ]

    @Test(arguments: Chunking.all)
    func malformedInputThrowsRedisErrors(chunking: Chunking) {
        for (input, code, text) in Self.malformed {
            let result = decodeCommands(bytes(input), chunking: chunking)
            #expect(result.frames.isEmpty, "\(input.debugDescription)")
            #expect(result.error?.code == code, "\(input.debugDescription)")
            #expect(result.error?.description == text, "\(input.debugDescription)")
        }
    }

    @Test func tooBigLinesAreRefusedAtTheLimit() {
        // Redis: 70,000 bytes without a line end.
        let cases: [([UInt8], RESPProtocolError.Code, String)] = [
            (
                Array(repeating: UInt8(ascii: "x"), count: 70_000), .tooBigInlineRequest,
                "Protocol error: too big inline request"
            ),
            (
                bytes("*") + Array(repeating: UInt8(ascii: "1"), count: 70_000), .tooBigMultibulkCountString,
                "Protocol error: too big mbulk count string"
            ),
            (
                bytes("*1\r\n$") + Array(repeating: UInt8(ascii: "1"), count: 70_000), .tooBigBulkCountString,
                "Protocol error: too big bulk count string"
            ),
        ]
        for (input, code, text) in cases {
            let result = decodeCommands(input, chunking: .random(seed: 9))
            #expect(result.error?.code == code)
            #expect(result.error?.description == text)
        }
        // The limit is exact and does not depend on how the bytes arrive.
        let limits = RESPDecoder.Limits(maxLineLength: 8)
        for chunking in Chunking.all {
            let over = decodeCommands(bytes("123456789"), chunking: chunking, decoder: RESPDecoder(limits: limits))
            #expect(over.error?.code == .tooBigInlineRequest)
            let within = decodeCommands(bytes("12345678"), chunking: chunking, decoder: RESPDecoder(limits: limits))
            #expect(within == StreamResult(frames: [], error: nil, leftover: 8))
            let overWithEnd = decodeCommands(
                bytes("123456789\n"),
                chunking: chunking,
                decoder: RESPDecoder(limits: limits)
            )
            #expect(overWithEnd.error?.code == .tooBigInlineRequest)
        }
    }

    @Test func unexpectedByteIsShownSafely() {
        #expect(
            RESPProtocolError(code: .unexpectedArgumentType, byte: 0x0D).description
                == "Protocol error: expected '$', got ' '"
        )
        #expect(
            RESPProtocolError(code: .unexpectedArgumentType, byte: 0xFE).description
                == "Protocol error: expected '$', got '\\xfe'"
        )
    }

    // MARK: Limits

    @Test func bulkOverTheLimitIsRefusedAtItsHeader() throws {
        var decoder = RESPDecoder(limits: RESPDecoder.Limits(maxBulkLength: 1000))
        var buffer = ByteBuffer(string: "*2\r\n$3\r\nSET\r\n$1001\r\n")  // no payload sent
        #expect(throws: RESPProtocolError(code: .invalidBulkLength)) { try decoder.nextCommand(from: &buffer) }

        var atLimit = RESPDecoder(limits: RESPDecoder.Limits(maxBulkLength: 1000))
        var input = ByteBuffer(string: "*1\r\n$1000\r\n")
        input.writeRepeatingByte(UInt8(ascii: "v"), count: 1000)
        input.writeString("\r\n")
        #expect(try atLimit.nextCommand(from: &input)?.first?.readableBytes == 1000)
    }

    @Test func defaultBulkLimitIsRedisProtoMaxBulkLen() throws {
        var decoder = RESPDecoder()
        var ok = ByteBuffer(string: "*1\r\n$536870912\r\n")  // 512 MiB claimed, nothing sent: waits
        #expect(try decoder.nextCommand(from: &ok) == nil)
        var over = ByteBuffer(string: "*1\r\n$536870913\r\n")
        var fresh = RESPDecoder()
        #expect(throws: RESPProtocolError(code: .invalidBulkLength)) { try fresh.nextCommand(from: &over) }
    }

    @Test func argumentCountOverTheLimitIsRefused() throws {
        var decoder = RESPDecoder(limits: RESPDecoder.Limits(maxArgumentCount: 3))
        var buffer = ByteBuffer(string: "*4\r\n")
        #expect(throws: RESPProtocolError(code: .invalidMultibulkLength)) { try decoder.nextCommand(from: &buffer) }
        var withinLimit = RESPDecoder(limits: RESPDecoder.Limits(maxArgumentCount: 3))
        var three = ByteBuffer(string: "*3\r\n")
        #expect(try withinLimit.nextCommand(from: &three) == nil)
    }

    @Test func unauthenticatedLimitsMatchRedis() throws {
        // Redis with requirepass: `*11` and `$16385` are refused before AUTH; `*10`, `$16384` wait.
        var decoder = RESPDecoder(enforcesUnauthenticatedLimits: true)
        var eleven = ByteBuffer(string: "*11\r\n")
        #expect(throws: RESPProtocolError(code: .unauthenticatedMultibulkLength)) {
            try decoder.nextCommand(from: &eleven)
        }
        #expect(
            RESPProtocolError(code: .unauthenticatedMultibulkLength).description
                == "Protocol error: unauthenticated multibulk length"
        )
        var ten = ByteBuffer(string: "*10\r\n")
        decoder.reset()
        #expect(try decoder.nextCommand(from: &ten) == nil)

        var big = ByteBuffer(string: "*1\r\n$16385\r\n")
        decoder.reset()
        #expect(throws: RESPProtocolError(code: .unauthenticatedBulkLength)) { try decoder.nextCommand(from: &big) }
        #expect(
            RESPProtocolError(code: .unauthenticatedBulkLength).description
                == "Protocol error: unauthenticated bulk length"
        )
        var limit = ByteBuffer(string: "*1\r\n$16384\r\n")
        decoder.reset()
        #expect(try decoder.nextCommand(from: &limit) == nil)

        decoder.enforcesUnauthenticatedLimits = false
        decoder.reset()
        #expect(try decoder.nextCommand(from: &big) == nil)
    }

    // MARK: Incremental progress

    @Test func largeBulkArrivingInPiecesIsNotRescanned() throws {
        // 4 MiB fed 1 KiB at a time: each call must cost O(1), not O(bytes so far) — the whole
        // test would take minutes in a debug build otherwise.
        let payloadSize = 4 * 1024 * 1024
        var decoder = RESPDecoder()
        var buffer = ByteBuffer(string: "*2\r\n$3\r\nSET\r\n$\(payloadSize)\r\n")
        #expect(try decoder.nextCommand(from: &buffer) == nil)
        var sent = 0
        let chunk = [UInt8](repeating: 0x61, count: 1024)
        while sent < payloadSize {
            buffer.writeBytes(chunk)
            sent += chunk.count
            #expect(try decoder.nextCommand(from: &buffer) == nil)
        }
        buffer.writeString("\r\n")
        let command = try #require(try decoder.nextCommand(from: &buffer))
        #expect(command.count == 2 && command[1].readableBytes == payloadSize)
        #expect(buffer.readableBytes == 0)
    }

    @Test func manyArgumentsArrivingInPiecesDecodeOnce() throws {
        let count = 20_000
        var input = bytes("*\(count)\r\n")
        for index in 0..<count { input += bytes("$\(String(index).utf8.count)\r\n\(index)\r\n") }
        let result = decodeCommands(input, chunking: .random(seed: 42))
        #expect(result.error == nil)
        #expect(result.frames.count == 1)
        #expect(result.frames.first?.count == count)
        #expect(result.frames.first?.last == ByteBuffer(string: "\(count - 1)"))
    }

    @Test func aDifferentBufferResetsProgress() throws {
        var decoder = RESPDecoder()
        var partial = ByteBuffer(string: "*2\r\n$3\r\nGET\r\n$100\r\n")
        #expect(try decoder.nextCommand(from: &partial) == nil)
        // Misuse: a new, shorter stream without reset(). The decoder notices and starts over.
        var other = ByteBuffer(string: "PING\r\n")
        #expect(try decoder.nextCommand(from: &other) == args("PING"))
    }
}

@Suite struct RESPDecoderCommandReuseTests {
    @Test func reusedArrayKeepsItsStorage() throws {
        var decoder = RESPDecoder()
        var buffer = ByteBuffer(
            string: "*2\r\n$3\r\nGET\r\n$1\r\na\r\n*2\r\n$3\r\nGET\r\n$1\r\nb\r\nPING\r\n*1\r\n$4\r\nECHO"
        )
        var arguments: [ByteBuffer] = []
        #expect(try decoder.nextCommand(from: &buffer, into: &arguments))
        #expect(arguments == args("GET", "a"))
        let storage = arguments.withUnsafeBufferPointer { $0.baseAddress }
        #expect(try decoder.nextCommand(from: &buffer, into: &arguments))
        #expect(arguments == args("GET", "b"))
        #expect(arguments.withUnsafeBufferPointer { $0.baseAddress } == storage)
        #expect(try decoder.nextCommand(from: &buffer, into: &arguments))
        #expect(arguments == args("PING"))
        #expect(try !decoder.nextCommand(from: &buffer, into: &arguments))
        #expect(arguments.isEmpty)
        buffer.writeString("\r\n")
        #expect(try decoder.nextCommand(from: &buffer, into: &arguments))
        #expect(arguments == args("ECHO"))
    }

    @Test func errorLeavesTheArrayEmpty() {
        var decoder = RESPDecoder()
        var buffer = ByteBuffer(string: "*2\r\n$3\r\nGET\r\nx")
        var arguments = args("stale")
        #expect(throws: RESPProtocolError(code: .unexpectedArgumentType, byte: UInt8(ascii: "x"))) {
            try decoder.nextCommand(from: &buffer, into: &arguments)
        }
        #expect(arguments.isEmpty)
    }
}
