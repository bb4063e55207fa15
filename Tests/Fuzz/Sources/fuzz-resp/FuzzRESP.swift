import Foundation
import FuzzSupport
import NIOCore
@_spi(Fuzzing) import RESP

// libFuzzer target for the RESP decoder (Sources/RESP).
//
// Input: three control bytes, then the bytes a peer sends.
//   - control[0] bit 0: enforce the limits for unauthenticated clients (commands);
//     bits 1-2: the limits (tiny, small, medium, Redis's defaults), small so that every limit
//     check is reached by short inputs.
//   - control[1...2]: the seed of the split points of the random chunking.
//
// Checked for every input, besides never trapping and never hanging:
//   - commands and values decode to the same frames, the same error and the same unconsumed
//     bytes whether the bytes arrive whole, one byte at a time or in random reads, with the
//     buffer compacted at random as `ByteToMessageHandler` does, and after `reset()`;
//   - a decoded command re-encoded as a multibulk decodes to the same arguments;
//   - a decoded value encoded in RESP3 decodes to the same value (up to what RESP3 cannot say:
//     the three nulls are one, a simple string cannot hold a line break), and encoded in RESP2
//     is one well-formed value;
//   - `RESPPipelinePeek` yields the second arguments of the commands after the first, as the
//     decoder reads them, and reads nothing outside the input (the payload is an exact-size
//     allocation, so AddressSanitizer sees an overread).

/// Limits small enough that fuzz inputs cross them.
let limitProfiles: [RESPDecoder.Limits] = [
    RESPDecoder.Limits(maxBulkLength: 8, maxArgumentCount: 4, maxAggregateLength: 4, maxLineLength: 16, maxDepth: 3),
    RESPDecoder.Limits(maxBulkLength: 64, maxArgumentCount: 16, maxAggregateLength: 16, maxLineLength: 64, maxDepth: 8),
    RESPDecoder.Limits(
        maxBulkLength: 4096,
        maxArgumentCount: 64,
        maxAggregateLength: 64,
        maxLineLength: 256,
        maxDepth: 16
    ),
    RESPDecoder.Limits(),
]

/// How a stream was read: one read, byte by byte, or random reads (compacting at random).
enum Reads {
    case whole
    case bytewise
    case random(seed: UInt64)
}

/// What decoding a whole stream produced: the frames, the error that stopped it (if any), and
/// how many bytes were consumed (up to the frame that failed, after an error).
struct StreamResult<Frame: Equatable>: Equatable {
    var frames: [Frame] = []
    var error: RESPProtocolError? = nil
    var consumed = 0
}

/// Feeds `bytes` to `decoder` read by read, appending each read to one buffer and taking every
/// complete frame out after it, as a connection does.
func decode<Frame: Equatable>(
    _ bytes: [UInt8],
    _ reads: Reads,
    _ decoder: RESPDecoder,
    next: (inout RESPDecoder, inout ByteBuffer) throws(RESPProtocolError) -> Frame?
) -> StreamResult<Frame> {
    var decoder = decoder
    var buffer = ByteBuffer()
    var result = StreamResult<Frame>()
    let ranges: [Range<Int>]
    var compaction: SplitMix?
    switch reads {
    case .whole: ranges = bytes.isEmpty ? [] : [0..<bytes.count]
    case .bytewise: ranges = bytes.indices.map { $0..<($0 + 1) }
    case .random(let seed):
        ranges = randomReads(bytes.count, seed: seed, maxRead: 1 + Int(seed % 61))
        compaction = SplitMix(seed: ~seed)
    }
    for range in ranges {
        buffer.writeBytes(bytes[range])
        do {
            while let frame = try next(&decoder, &buffer) {
                result.frames.append(frame)
            }
        } catch {
            result.error = error
            result.consumed = range.upperBound - buffer.readableBytes
            return result
        }
        if var generator = compaction {
            if Bool.random(using: &generator) { buffer.discardReadBytes() }
            compaction = generator
        }
    }
    result.consumed = bytes.count - buffer.readableBytes
    return result
}

func commands(_ bytes: [UInt8], _ reads: Reads, _ decoder: RESPDecoder) -> StreamResult<[ByteBuffer]> {
    decode(bytes, reads, decoder) { (decoder, buffer) throws(RESPProtocolError) in
        try decoder.nextCommand(from: &buffer)
    }
}

/// As `commands`, through the variant that reuses one arguments array.
func commandsReusingArray(_ bytes: [UInt8], _ reads: Reads, _ decoder: RESPDecoder) -> StreamResult<[ByteBuffer]> {
    var arguments: [ByteBuffer] = []
    return decode(bytes, reads, decoder) { (decoder, buffer) throws(RESPProtocolError) in
        try decoder.nextCommand(from: &buffer, into: &arguments) ? arguments : nil
    }
}

func values(_ bytes: [UInt8], _ reads: Reads, _ decoder: RESPDecoder) -> StreamResult<RESPValue> {
    decode(bytes, reads, decoder) { (decoder, buffer) throws(RESPProtocolError) in
        try decoder.next(from: &buffer)
    }
}

/// `value` as RESP3 reads it back: the nulls are one, `\r` and `\n` in a line are spaces, and a
/// verbatim format that is not three bytes is `txt` (what ``RESPEncoder`` writes for each).
func normalized(_ value: RESPValue) -> RESPValue {
    func line(_ text: String) -> String {
        String(decoding: text.utf8.map { $0 == 13 || $0 == 10 ? 32 : $0 }, as: UTF8.self)
    }
    func pairs(_ pairs: [(key: RESPValue, value: RESPValue)]) -> [(key: RESPValue, value: RESPValue)] {
        pairs.map { (key: normalized($0.key), value: normalized($0.value)) }
    }
    switch value {
    case .nullBulkString, .nullArray: return .null
    case .simpleString(let text): return .simpleString(line(text))
    case .error(let text): return .error(line(text))
    case .verbatimString(let format, let text):
        return .verbatimString(format: format.utf8.count == 3 ? format : "txt", text: text)
    case .array(let elements): return .array(elements.map(normalized))
    case .set(let elements): return .set(elements.map(normalized))
    case .push(let elements): return .push(elements.map(normalized))
    case .map(let elements): return .map(pairs(elements))
    case .attribute(let elements, let annotated): return .attribute(pairs(elements), normalized(annotated))
    default: return value
    }
}

func encoded(_ value: RESPValue, _ version: RESPVersion) -> [UInt8] {
    var buffer = ByteBuffer()
    RESPEncoder(version: version).encode(value, into: &buffer)
    return Array(buffer.readableBytesView)
}

func describe(_ result: StreamResult<[ByteBuffer]>) -> String {
    let frames = result.frames.map { $0.map { escaped($0.readableBytesView) } }
    return "\(frames) error: \(result.error.map { "\($0)" } ?? "none") consumed: \(result.consumed)"
}

func describe(_ result: StreamResult<RESPValue>) -> String {
    "\(result.frames) error: \(result.error.map { "\($0)" } ?? "none") consumed: \(result.consumed)"
}

func checkCommands(_ payload: [UInt8], _ decoder: RESPDecoder, seed: UInt64) {
    let whole = commands(payload, .whole, decoder)
    let random = commandsReusingArray(payload, .random(seed: seed), decoder)
    require(whole == random, "commands differ (random reads \(seed)):\n\(describe(whole))\n\(describe(random))")
    if payload.count <= 2048 {
        let bytewise = commands(payload, .bytewise, decoder)
        require(whole == bytewise, "commands differ (bytewise):\n\(describe(whole))\n\(describe(bytewise))")
    }
    // A decoder that was part-way through other bytes, then reset, starts afresh.
    var reused = decoder
    var garbage = ByteBuffer(bytes: payload.prefix(payload.count / 2))
    _ = try? reused.nextCommand(from: &garbage)
    reused.reset()
    let afterReset = commands(payload, .whole, reused)
    require(whole == afterReset, "commands differ after reset:\n\(describe(whole))\n\(describe(afterReset))")

    var consumed = 0
    for command in whole.frames {
        require(!command.isEmpty, "an empty command was returned")
        consumed += command.count
    }
    require(
        whole.consumed >= 0 && whole.consumed <= payload.count,
        "consumed \(whole.consumed) bytes of \(payload.count)"
    )

    // Re-encoded as a multibulk, a command decodes to the same arguments.
    if !whole.frames.isEmpty {
        var multibulk = ByteBuffer()
        let encoder = RESPEncoder(version: .resp2)
        for command in whole.frames {
            encoder.writeArrayHeader(count: command.count, into: &multibulk)
            for argument in command { encoder.writeBulkString(argument, into: &multibulk) }
        }
        let again = commands(Array(multibulk.readableBytesView), .whole, RESPDecoder())
        require(
            again.frames == whole.frames && again.error == nil && again.consumed == multibulk.readableBytes,
            "re-encoded commands differ:\n\(describe(whole))\n\(describe(again))"
        )
    }
}

func checkPeek(_ payload: [UInt8]) {
    // The decoder with Redis's limits is what the server runs the peek ahead of.
    let decoded = commands(payload, .whole, RESPDecoder())
    var expected: [[UInt8]] = []
    for (index, command) in decoded.frames.enumerated() where index >= 1 && command.count >= 2 {
        expected.append(Array(command[1].readableBytesView))
    }
    var peeked: [[UInt8]] = []
    let exact = UnsafeMutableRawBufferPointer.allocate(byteCount: payload.count, alignment: 1)
    defer { exact.deallocate() }
    exact.copyBytes(from: payload)
    RESPPipelinePeek.forEachNextSecondArgument(in: UnsafeRawBufferPointer(exact), limit: 64) { argument in
        peeked.append(Array(argument))
    }
    require(peeked.count <= 64, "the peek went past its limit: \(peeked.count)")
    for (index, argument) in zip(peeked, expected).enumerated() {
        require(
            argument.0 == argument.1,
            "peek's key \(index) is \(escaped(argument.0)), the decoder's \(escaped(argument.1))"
        )
    }
}

func checkValues(_ payload: [UInt8], _ decoder: RESPDecoder, seed: UInt64) {
    let whole = values(payload, .whole, decoder)
    let random = values(payload, .random(seed: seed), decoder)
    require(whole == random, "values differ (random reads \(seed)):\n\(describe(whole))\n\(describe(random))")
    if payload.count <= 2048 {
        let bytewise = values(payload, .bytewise, decoder)
        require(whole == bytewise, "values differ (bytewise):\n\(describe(whole))\n\(describe(bytewise))")
    }

    for value in whole.frames {
        _ = value.description
        // RESP3 says everything the decoder read (up to `normalized`).
        let resp3 = encoded(value, .resp3)
        let again = values(resp3, .whole, RESPDecoder())
        require(
            again.error == nil && again.consumed == resp3.count && again.frames.count == 1
                && again.frames[0] == normalized(value),
            "RESP3 round trip of \(value) gave \(describe(again)) from \(escaped(resp3))"
        )
        // RESP2 degrades some types, but is still one well-formed value.
        let resp2 = encoded(value, .resp2)
        let degraded = values(resp2, .whole, RESPDecoder())
        require(
            degraded.error == nil && degraded.consumed == resp2.count && degraded.frames.count == 1,
            "RESP2 encoding of \(value) is not one value: \(describe(degraded)) from \(escaped(resp2))"
        )
    }
}

@main enum FuzzRESP {
    static func main() {
        exit(runLibFuzzer(fuzzRESP))
    }
}

/// libFuzzer's callback: one input.
func fuzzRESP(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let input = FuzzInput(data, size, controlCount: 3)
    let limits = limitProfiles[Int(input.control[0] >> 1) & 3]
    let seed = UInt64(input.control[1]) << 8 | UInt64(input.control[2])
    let payload = input.payload

    let commandDecoder = RESPDecoder(limits: limits, enforcesUnauthenticatedLimits: input.control[0] & 1 == 1)
    checkCommands(payload, commandDecoder, seed: seed)
    checkPeek(payload)
    checkValues(payload, RESPDecoder(limits: limits), seed: seed)
    return 0
}
