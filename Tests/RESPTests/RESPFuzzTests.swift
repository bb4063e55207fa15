import KVSTestSupport
import NIOCore
import RESP
import Testing

/// Random, truncated and mutated input never crashes the decoders, never makes them consume bytes
/// they do not return, and gives the same frames and error whatever the chunking.
@Suite(.dedicatedThread) struct RESPFuzzTests {
    static let iterations = 3_000

    /// Bytes biased toward RESP's alphabet, so that random input reaches deep into the parsers.
    static func randomBytes(_ count: Int, using generator: inout SplitMix64) -> [UInt8] {
        let alphabet = bytes("*$+-:_,#(=%~|>!\r\n0123456789-?tfx \"'\\")
        return (0..<count).map { _ in
            Bool.random(using: &generator)
                ? alphabet.randomElement(using: &generator) ?? 0 : UInt8.random(in: 0...255, using: &generator)
        }
    }

    static func mutated(_ input: [UInt8], using generator: inout SplitMix64) -> [UInt8] {
        var bytes = input
        guard !bytes.isEmpty else { return bytes }
        for _ in 0..<Int.random(in: 1...3, using: &generator) {
            let index = Int.random(in: 0..<bytes.count, using: &generator)
            switch Int.random(in: 0..<4, using: &generator) {
            case 0: bytes[index] = UInt8.random(in: 0...255, using: &generator)
            case 1: bytes.remove(at: index)
            case 2: bytes.insert(randomBytes(1, using: &generator)[0], at: index)
            default: bytes = Array(bytes[..<index])  // truncated
            }
            if bytes.isEmpty { break }
        }
        return bytes
    }

    static let smallLimits = RESPDecoder.Limits(
        maxBulkLength: 4096,
        maxArgumentCount: 64,
        maxAggregateLength: 64,
        maxLineLength: 256,
        maxDepth: 8
    )

    @Test func randomAndMutatedValuesNeverCrash() {
        var generator = SplitMix64(seed: 0x5EED)
        let decoder = RESPDecoder(limits: Self.smallLimits)
        for iteration in 0..<Self.iterations {
            let input: [UInt8]
            if iteration % 2 == 0 {
                input = Self.randomBytes(Int.random(in: 0...64, using: &generator), using: &generator)
            } else {
                let value = everyKindOfValue.randomElement(using: &generator) ?? .null
                let version = RESPVersion.allCases.randomElement(using: &generator) ?? .resp3
                input = Self.mutated(encoded(value, version), using: &generator)
            }
            let whole = decodeValues(input, decoder: decoder)
            let bytewise = decodeValues(input, chunking: .bytewise, decoder: decoder)
            let random = decodeValues(input, chunking: .random(seed: UInt64(iteration)), decoder: decoder)
            #expect(whole == bytewise, "\(input)")
            #expect(whole == random, "\(input)")
        }
    }

    @Test func randomAndMutatedCommandsNeverCrash() {
        var generator = SplitMix64(seed: 0xC0FFEE)
        let decoder = RESPDecoder(limits: Self.smallLimits)
        let commands: [[UInt8]] = [
            bytes("*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$5\r\nvalue\r\n"), bytes("PING\r\n"),
            bytes("set a \"b\\x41 c\" 'd'\n"),
            encoded(.command(["MSET", "a", "1", "b", "2"]), .resp2), bytes("*1\r\n$0\r\n\r\n"),
        ]
        for iteration in 0..<Self.iterations {
            let input: [UInt8]
            if iteration % 2 == 0 {
                input = Self.randomBytes(Int.random(in: 0...64, using: &generator), using: &generator)
            } else {
                input = Self.mutated(commands.randomElement(using: &generator) ?? [], using: &generator)
            }
            let whole = decodeCommands(input, decoder: decoder)
            let bytewise = decodeCommands(input, chunking: .bytewise, decoder: decoder)
            let random = decodeCommands(input, chunking: .random(seed: UInt64(iteration)), decoder: decoder)
            #expect(whole == bytewise, "\(input)")
            #expect(whole == random, "\(input)")
        }
    }

    @Test func everyTruncationOfAValidStreamWaitsForMore() throws {
        var stream: [UInt8] = []
        for value in everyKindOfValue { stream += encoded(value, .resp3) }
        for cut in 0..<stream.count {
            let result = decodeValues(Array(stream[..<cut]))
            #expect(result.error == nil)
            // What was not returned is still in the buffer, byte for byte.
            let returned = result.frames.reduce(0) { $0 + encoded($1, .resp3).count }
            #expect(returned + result.leftover == cut)
        }
    }
}
