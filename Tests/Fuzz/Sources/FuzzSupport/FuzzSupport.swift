import CLibFuzzer
import NIOCore
import RESP

/// A small deterministic generator (SplitMix64): the same input always makes the same choices,
/// so that a crash artifact replays exactly. A copy of the tests' `SplitMix64`: this package
/// sees only the root package's products, and the test-support targets are none.
public struct SplitMix: RandomNumberGenerator {
    private var state: UInt64

    /// A generator seeded with `seed`.
    public init(seed: UInt64) { self.state = seed }

    /// The next 64 random bits.
    public mutating func next() -> UInt64 {
        self.state &+= 0x9E37_79B9_7F4A_7C15
        var z = self.state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// One fuzz input: `controlCount` leading bytes that choose settings and split points (zero when
/// the input is shorter), and the payload after them.
public struct FuzzInput {
    /// The control bytes (zeros past the end of a short input).
    public let control: [UInt8]
    /// The bytes to decode or run.
    public let payload: [UInt8]

    /// Splits libFuzzer's input.
    public init(_ data: UnsafePointer<UInt8>?, _ size: Int, controlCount: Int) {
        let all = data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? []
        let used = min(controlCount, all.count)
        self.control = Array(all[..<used]) + Array(repeating: 0, count: controlCount - used)
        self.payload = Array(all[used...])
    }
}

/// Reads of `count` bytes as a connection may receive them: each read 1 to `maxRead` bytes,
/// chosen by `seed`.
///
/// - Returns: the reads' ranges, covering `0..<count` in order.
public func randomReads(_ count: Int, seed: UInt64, maxRead: Int) -> [Range<Int>] {
    var generator = SplitMix(seed: seed)
    var reads: [Range<Int>] = []
    var start = 0
    while start < count {
        let size = Int.random(in: 1...max(1, min(maxRead, count - start)), using: &generator)
        reads.append(start..<(start + size))
        start += size
    }
    return reads
}

/// Stops the run with `message` when `condition` is false: libFuzzer reports the trap as a
/// crash and saves the input.
@inline(__always)
public func require(_ condition: Bool, _ message: @autoclosure () -> String) {
    if !condition { fatalError(message()) }
}

/// `bytes` as escaped text (`\r`, `\n`, `\xHH`), for messages.
public func escaped<C: Collection>(_ bytes: C) -> String where C.Element == UInt8 {
    var text = ""
    for byte in bytes {
        switch byte {
        case UInt8(ascii: "\r"): text += "\\r"
        case UInt8(ascii: "\n"): text += "\\n"
        case UInt8(ascii: "\\"): text += "\\\\"
        case 0x20..<0x7F: text.unicodeScalars.append(Unicode.Scalar(byte))
        default:
            let hex = String(byte, radix: 16)
            text += "\\x" + (hex.count == 1 ? "0" + hex : hex)
        }
    }
    return text
}

/// Decodes `bytes` as a stream of replies, requiring that it is exactly a sequence of complete,
/// well-formed RESP2/RESP3 values.
///
/// - Returns: the values in order.
public func wellFormedReplies(_ bytes: ByteBuffer, context: @autoclosure () -> String) -> [RESPValue] {
    var decoder = RESPDecoder()
    var buffer = bytes
    var values: [RESPValue] = []
    do {
        while let value = try decoder.next(from: &buffer) { values.append(value) }
    } catch {
        fatalError("malformed reply (\(error)) at \(escaped(buffer.readableBytesView.prefix(64))); \(context())")
    }
    require(
        buffer.readableBytes == 0,
        "incomplete reply: \(escaped(buffer.readableBytesView.prefix(64))); \(context())"
    )
    return values
}

/// Runs libFuzzer's driver with the process's arguments and `target` as the fuzz target, and
/// returns its exit code (non-zero after a crash, a timeout or a leak).
public func runLibFuzzer(_ target: @convention(c) (UnsafePointer<UInt8>?, Int) -> CInt) -> CInt {
    var argc = CommandLine.argc
    var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
    return LLVMFuzzerRunDriver(&argc, &argv, target)
}
