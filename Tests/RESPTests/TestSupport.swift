import KVSTestSupport
import NIOCore
import RESP

/// How a byte stream is cut into reads.
enum Chunking: CustomStringConvertible {
    case whole
    case bytewise
    case random(seed: UInt64)

    var description: String {
        switch self {
        case .whole: return "whole"
        case .bytewise: return "bytewise"
        case .random(let seed): return "random(\(seed))"
        }
    }

    /// The chunk boundaries for `count` bytes.
    func chunks(_ count: Int) -> [Range<Int>] {
        switch self {
        case .whole: return count == 0 ? [] : [0..<count]
        case .bytewise: return (0..<count).map { $0..<($0 + 1) }
        case .random(let seed):
            var generator = SplitMix64(seed: seed)
            var result: [Range<Int>] = []
            var start = 0
            while start < count {
                let size = Int.random(in: 1...max(1, min(64, count - start)), using: &generator)
                result.append(start..<(start + size))
                start += size
            }
            return result
        }
    }

    static let all: [Chunking] = [.whole, .bytewise, .random(seed: 1), .random(seed: 2), .random(seed: 3)]
}

/// What decoding a whole stream produced: the frames in order, then the error that stopped it (if
/// any), and the bytes left unconsumed.
struct StreamResult<Frame: Equatable>: Equatable {
    var frames: [Frame] = []
    var error: RESPProtocolError? = nil
    var leftover: Int = 0
}

/// Feeds `bytes` to one decoder the way a connection does: each read is appended to the same
/// buffer, then every complete frame is taken out.
func decodeStream<Frame: Equatable>(
    _ bytes: [UInt8],
    chunking: Chunking = .whole,
    decoder: RESPDecoder = RESPDecoder(),
    next: (inout RESPDecoder, inout ByteBuffer) throws(RESPProtocolError) -> Frame?
) -> StreamResult<Frame> {
    var decoder = decoder
    var buffer = ByteBuffer()
    var result = StreamResult<Frame>()
    for chunk in chunking.chunks(bytes.count) {
        buffer.writeBytes(bytes[chunk])
        do {
            while let frame = try next(&decoder, &buffer) { result.frames.append(frame) }
        } catch {
            result.error = error
            return result
        }
        // Compact sometimes, as ByteToMessageHandler does, to prove offsets are relative.
        if buffer.readerIndex > 1024 { buffer.discardReadBytes() }
    }
    result.leftover = buffer.readableBytes
    return result
}

/// Decodes the commands in `bytes`.
func decodeCommands(
    _ bytes: [UInt8],
    chunking: Chunking = .whole,
    decoder: RESPDecoder = RESPDecoder()
)
    -> StreamResult<[ByteBuffer]>
{
    decodeStream(bytes, chunking: chunking, decoder: decoder) { (decoder, buffer) throws(RESPProtocolError) in
        try decoder.nextCommand(from: &buffer)
    }
}

/// Decodes the values in `bytes`.
func decodeValues(
    _ bytes: [UInt8],
    chunking: Chunking = .whole,
    decoder: RESPDecoder = RESPDecoder()
)
    -> StreamResult<RESPValue>
{
    decodeStream(bytes, chunking: chunking, decoder: decoder) { (decoder, buffer) throws(RESPProtocolError) in
        try decoder.next(from: &buffer)
    }
}

/// The bytes of `text`.
func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

/// Arguments from strings.
func args(_ strings: String...) -> [ByteBuffer] { strings.map { ByteBuffer(string: $0) } }

/// `value` encoded by `version`.
func encoded(_ value: RESPValue, _ version: RESPVersion) -> [UInt8] {
    var buffer = ByteBuffer()
    RESPEncoder(version: version).encode(value, into: &buffer)
    return Array(buffer.readableBytesView)
}

/// `value` as it reads back after being encoded for `version`: what a peer of that version sees.
func degraded(_ value: RESPValue, _ version: RESPVersion) -> RESPValue {
    switch version {
    case .resp3:
        switch value {
        case .nullBulkString, .nullArray: return .null
        case .array(let values): return .array(values.map { degraded($0, version) })
        case .set(let values): return .set(values.map { degraded($0, version) })
        case .push(let values): return .push(values.map { degraded($0, version) })
        case .map(let pairs):
            return .map(pairs.map { (key: degraded($0.key, version), value: degraded($0.value, version)) })
        case .attribute(let pairs, let inner):
            return .attribute(
                pairs.map { (key: degraded($0.key, version), value: degraded($0.value, version)) },
                degraded(inner, version)
            )
        default: return value
        }
    case .resp2:
        switch value {
        case .null: return .nullBulkString
        case .double(let number):
            var buffer = ByteBuffer()
            RESPEncoder(version: .resp3).writeDouble(number, into: &buffer)
            return .bulkString(ByteBuffer(bytes: buffer.readableBytesView.dropFirst().dropLast(2)))
        case .boolean(let flag): return .integer(flag ? 1 : 0)
        case .bigNumber(let digits): return .bulk(digits)
        case .verbatimString(_, let text): return .bulkString(text)
        case .blobError(let bytes): return .error(String(buffer: bytes))
        case .array(let values), .set(let values), .push(let values):
            return .array(values.map { degraded($0, version) })
        case .map(let pairs): return .array(pairs.flatMap { [degraded($0.key, version), degraded($0.value, version)] })
        case .attribute(_, let inner): return degraded(inner, version)
        default: return value
        }
    }
}

/// One of every case, nested.
let everyKindOfValue: [RESPValue] = {
    let scalars: [RESPValue] = [
        .simpleString("OK"), .simpleString(""), .error("ERR unknown command 'x'"), .integer(0), .integer(-1),
        .integer(Int64.max), .integer(Int64.min), .bulk("hello"), .bulk(""), .bulk([0, 13, 10, 255]),
        .nullBulkString, .nullArray, .null, .double(1.5), .double(-0.25), .double(3), .double(.infinity),
        .double(-.infinity), .double(.nan), .double(1e300), .double(.leastNonzeroMagnitude), .boolean(true),
        .boolean(false),
        .bigNumber("3492890328409238509324850943850943825024385"), .bigNumber("-1"),
        .verbatimString(format: "txt", text: ByteBuffer(string: "Some\r\nstring")),
        .blobError(ByteBuffer(string: "SYNTAX invalid")),
    ]
    let aggregates: [RESPValue] = [
        .array([]), .array(scalars), .set([.integer(1), .bulk("a")]),
        .push([.bulk("message"), .bulk("chan"), .bulk("x")]),
        .map([]), .map([(key: .bulk("k"), value: .integer(1)), (key: .simpleString("s"), value: .array([.null]))]),
        .attribute([(key: .bulk("ttl"), value: .integer(3))], .bulk("value")),
        .array([.array([.array([.map([(key: .integer(1), value: .set([.boolean(true)]))])])])]),
    ]
    return scalars + aggregates
}()

/// The identity of the storage `buffer` is a view of: equal for a buffer and its slices.
func storageIdentity(_ buffer: ByteBuffer) -> UnsafeMutableRawPointer {
    buffer.withUnsafeReadableBytesWithStorageManagement { _, storage in storage.toOpaque() }
}
