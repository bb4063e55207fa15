// Measures the RESP module's throughput in a release build:
//
//     swift run -c release --package-path Benchmarks resp-bench [commands [filter]]
//
// Workload: `SET key:<12 digits> <64-byte value>` commands as redis-benchmark sends them,
// `*3\r\n$3\r\nSET\r\n$16\r\nkey:000000000001\r\n$64\r\n<64 bytes>\r\n` (107 bytes each).

import NIOCore
import RESP

/// Commands per buffer: 100,000 × 107 bytes stays under the 16 MiB beyond which a ByteBuffer slice
/// is copied (NIO's slice offset limit), as any real connection buffer does.
let commandCount = CommandLine.arguments.dropFirst().first.flatMap { Int($0) } ?? 100_000
/// Each measurement decodes the buffer this many times; the best of `rounds` is printed.
/// A second argument runs only the measurements whose name contains it, once (for
/// `valgrind --tool=callgrind`, whose instruction counts do not depend on the machine's load).
let filter = CommandLine.arguments.dropFirst(2).first
let repeats = filter == nil ? 10 : 1
let rounds = filter == nil ? 5 : 1

var input = ByteBuffer()
let value = [UInt8](repeating: UInt8(ascii: "v"), count: 64)
for index in 0..<commandCount {
    var key = [UInt8](repeating: UInt8(ascii: "0"), count: 12)
    var rest = index
    for position in stride(from: 11, through: 0, by: -1) where rest > 0 {
        key[position] = UInt8(ascii: "0") + UInt8(rest % 10)
        rest /= 10
    }
    input.writeString("*3\r\n$3\r\nSET\r\n$16\r\nkey:")
    input.writeBytes(key)
    input.writeString("\r\n$64\r\n")
    input.writeBytes(value)
    input.writeString("\r\n")
}
let bytesPerCommand = input.readableBytes / commandCount

/// `value` with `decimals` digits after the point (no Foundation).
func fixed(_ value: Double, decimals: Int) -> String {
    var scale = 1.0
    for _ in 0..<decimals { scale *= 10 }
    let scaled = Int((value * scale).rounded())
    let whole = String(scaled / Int(scale))
    guard decimals > 0 else { return whole }
    let fraction = String(scaled % Int(scale))
    return whole + "." + String(repeating: "0", count: decimals - fraction.count) + fraction
}

/// Runs `body` `rounds` times and prints the best rate.
func measure(_ name: String, operations: Int, _ body: () throws -> Int) rethrows {
    if let filter, !name.contains(filter) { return }
    var best = Duration.seconds(1_000_000)
    var check = 0
    for _ in 0..<rounds {
        let start = ContinuousClock.now
        for _ in 0..<repeats { check &+= try body() }
        let elapsed = ContinuousClock.now - start
        if elapsed < best { best = elapsed }
    }
    let seconds = Double(best.components.seconds) + Double(best.components.attoseconds) / 1e18
    let rate = Double(operations * repeats) / seconds
    let megabytes = Double(operations * repeats * bytesPerCommand) / seconds / 1e6
    let padded = name + String(repeating: " ", count: max(1, 58 - name.count))
    print(
        padded + fixed(rate / 1e6, decimals: 2) + " M/s  " + fixed(megabytes, decimals: 0)
            + " MB/s  (check \(check % 1000))"
    )
}

/// One buffer holding every command, decoded command by command (pipelining at its best).
try measure("nextCommand, \(commandCount) commands in one buffer", operations: commandCount) {
    var decoder = RESPDecoder()
    var buffer = input
    var total = 0
    while let command = try decoder.nextCommand(from: &buffer) { total &+= command.count }
    return total
}

/// The same bytes arriving as 16 KiB reads appended to a cumulation buffer, the way
/// NIO's ByteToMessageHandler feeds a decoder (commands straddle reads).
try measure("nextCommand, 16 KiB reads into a cumulation buffer", operations: commandCount) {
    var decoder = RESPDecoder()
    var source = input
    var cumulation = ByteBuffer()
    cumulation.reserveCapacity(64 * 1024)
    var total = 0
    while let read = source.readSlice(length: min(16 * 1024, source.readableBytes)), read.readableBytes > 0 {
        cumulation.writeImmutableBuffer(read)
        while let command = try decoder.nextCommand(from: &cumulation) { total &+= command.count }
        if cumulation.readerIndex > 32 * 1024 { cumulation.discardReadBytes() }
    }
    return total
}

/// The same, reusing one arguments array (what a connection handler can do).
try measure("nextCommand(into:), 16 KiB reads, reused array", operations: commandCount) {
    var decoder = RESPDecoder()
    var source = input
    var cumulation = ByteBuffer()
    cumulation.reserveCapacity(64 * 1024)
    var arguments: [ByteBuffer] = []
    var total = 0
    while let read = source.readSlice(length: min(16 * 1024, source.readableBytes)), read.readableBytes > 0 {
        cumulation.writeImmutableBuffer(read)
        while try decoder.nextCommand(from: &cumulation, into: &arguments) { total &+= arguments.count }
        if cumulation.readerIndex > 32 * 1024 { cumulation.discardReadBytes() }
    }
    return total
}

/// One command per read: every command decoded alone from a fresh small buffer.
try measure("nextCommand, one command per buffer", operations: commandCount) {
    var decoder = RESPDecoder()
    var total = 0
    var source = input
    while let one = source.readSlice(length: min(bytesPerCommand, source.readableBytes)), one.readableBytes > 0 {
        var buffer = one
        if let command = try decoder.nextCommand(from: &buffer) { total &+= command.count }
    }
    return total
}

/// The general value decoder on the same bytes (what a client does with array replies).
try measure("next (RESPValue), \(commandCount) arrays in one buffer", operations: commandCount) {
    var decoder = RESPDecoder()
    var buffer = input
    var total = 0
    while let value = try decoder.next(from: &buffer) { total &+= value.elements?.count ?? 0 }
    return total
}

/// A client reading replies: 64-byte bulk strings (GET) and `+OK` (SET), alternating.
func measureReplies() throws {
    var replies = ByteBuffer()
    for index in 0..<commandCount {
        if index % 2 == 0 {
            replies.writeString("$64\r\n")
            replies.writeBytes(value)
            replies.writeString("\r\n")
        } else {
            replies.writeString("+OK\r\n")
        }
    }
    try measure("next (RESPValue), GET and SET replies", operations: commandCount) {
        var decoder = RESPDecoder()
        var buffer = replies
        var total = 0
        while let value = try decoder.next(from: &buffer) { total &+= value.isNull ? 0 : 1 }
        return total
    }
}
try measureReplies()

// Encoder fast paths: the replies a server sends for GET, INCR and SET.
func measureEncoder() {
    let value64 = ByteBuffer(repeating: UInt8(ascii: "v"), count: 64)
    let encoder = RESPEncoder(version: .resp2)
    var output = ByteBuffer()
    output.reserveCapacity(commandCount * 80)
    measure("writeBulkString (64-byte GET reply)", operations: commandCount) {
        output.clear()
        for _ in 0..<commandCount { encoder.writeBulkString(value64, into: &output) }
        return output.readableBytes
    }
    measure("writeInteger (INCR reply)", operations: commandCount) {
        output.clear()
        for index in 0..<commandCount { encoder.writeInteger(Int64(index) &* 7919, into: &output) }
        return output.readableBytes
    }
    measure("writeOK (SET reply)", operations: commandCount) {
        output.clear()
        for _ in 0..<commandCount { encoder.writeOK(into: &output) }
        return output.readableBytes
    }
    let getReply = RESPValue.bulkString(value64)
    measure("encode(.bulkString) (64-byte reply through the enum)", operations: commandCount) {
        output.clear()
        for _ in 0..<commandCount { encoder.encode(getReply, into: &output) }
        return output.readableBytes
    }
}
measureEncoder()
