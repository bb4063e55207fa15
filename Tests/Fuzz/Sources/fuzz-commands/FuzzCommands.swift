import Foundation
import FuzzSupport
@_spi(Fuzzing) import KVSServer
import NIOCore
import NIOEmbedded
import RESP

// libFuzzer target for command execution: the commands in the input run on two connections to
// one in-process server (`InProcessServer`: the real databases, command table and connection
// handler, on `EmbeddedChannel`s, no sockets), fresh for every input.
//
// Input: two control bytes, then the bytes clients send.
//   - control[0]: the seed of the split points of each connection's reads.
//   - control[1]: which connection sends each command (bit i for commands i, i + 8, …), so that
//     WATCH, MULTI and the keyspace see another client's writes.
//
// The commands are decoded here, filtered (below), and sent re-encoded as multibulks; bytes
// that do not decode are sent as they are to the first connection, which must answer with a
// protocol error and close. Checked for every input, besides never trapping and never hanging:
// every connection's output is a sequence of well-formed RESP values, exactly one per command it
// ran (up to and including QUIT), plus the protocol error.
//
// Deterministic: the server has no save rules and no listener, so nothing runs in the
// background; only replies that report the clock (TIME, INFO, TTL after a millisecond expiry)
// depend on when the input runs.

/// The server's settings: few databases and shards (cheap to create per input), no automatic
/// save, limits small enough that the fuzzer reaches them.
let configuration: ServerConfiguration = {
    var configuration = ServerConfiguration()
    configuration.port = 0
    configuration.databases = 4
    configuration.shardsPerDatabase = 2
    configuration.savePoints = []
    configuration.directory = "/nonexistent-kvs-fuzz"
    configuration.maxBulkLength = 64 * 1024
    configuration.maxArguments = 1024
    return configuration
}()

let decoderLimits = RESPDecoder.Limits(maxBulkLength: 64 * 1024, maxArgumentCount: 1024)

/// Whether the harness leaves `command` out.
///
/// - SAVE, BGSAVE: write the snapshot file (to the working directory's `dir`).
/// - SHUTDOWN: asks the process to stop (saving first, by default).
/// - DEBUG: not a kvs command; in Redis it crashes, sleeps or reloads on purpose.
/// - SETRANGE with an offset between 1 MiB and 512 MiB: builds a string that long, by design
///   (Redis does the same); a few of them exhaust the fuzzer's memory limit and find nothing.
///   Larger offsets stay in: they must be refused, and the arithmetic that refuses them must
///   not overflow.
func isSkipped(_ command: [ByteBuffer]) -> Bool {
    let name = String(buffer: command[0]).lowercased()
    switch name {
    case "save", "bgsave", "shutdown", "debug":
        return true
    case "setrange":
        guard command.count == 4, let offset = Int64(String(buffer: command[2])) else { return false }
        return offset > 1 << 20 && offset <= 512 << 20
    default:
        return false
    }
}

/// One client connection and what it was sent.
struct Connection {
    let channel: EmbeddedChannel
    /// The replies it owes: one per command it ran.
    var expectedReplies = 0
    /// Set once it ran QUIT (or was sent bytes that must make it close).
    var closes = false
    var output = ByteBuffer()
    var sent: [String] = []

    init(server: InProcessServer, id: Int) {
        self.channel = EmbeddedChannel()
        do {
            try self.channel.pipeline.syncOperations.addHandler(server.makeConnectionHandler(id: id))
            try self.channel.connect(to: SocketAddress(ipAddress: "127.0.0.1", port: 1)).wait()
        } catch {
            fatalError("cannot set up an EmbeddedChannel: \(error)")
        }
    }

    /// Sends `bytes` in reads split by `seed`, and collects what the handler wrote.
    mutating func send(_ bytes: ByteBuffer, seed: UInt64) {
        for range in randomReads(bytes.readableBytes, seed: seed, maxRead: 1 + Int(seed % 97)) {
            guard self.channel.isActive else { break }
            guard let read = bytes.getSlice(at: bytes.readerIndex + range.lowerBound, length: range.count) else {
                break
            }
            do {
                try self.channel.writeInbound(read)
            } catch {
                fatalError("the connection handler threw \(error)")
            }
            self.collect()
        }
    }

    mutating func collect() {
        do {
            while var written = try self.channel.readOutbound(as: ByteBuffer.self) {
                self.output.writeBuffer(&written)
            }
        } catch {
            fatalError("reading the handler's output threw \(error)")
        }
    }

    /// Closes the connection and checks its output.
    mutating func finish(protocolError: Bool) {
        self.collect()
        _ = try? self.channel.finish(acceptAlreadyClosed: true)
        self.collect()
        let context = "sent: \(self.sent)"
        let replies = wellFormedReplies(self.output, context: context)
        let expected = self.expectedReplies + (protocolError ? 1 : 0)
        require(
            replies.count == expected,
            "\(replies.count) replies for \(expected) commands; \(context); replies: \(replies)"
        )
        if protocolError, let last = replies.last {
            guard case .error(let message) = last, message.hasPrefix("ERR Protocol error") else {
                fatalError("undecodable input was answered \(last), not a protocol error; \(context)")
            }
        }
    }
}

@main enum FuzzCommands {
    static func main() {
        exit(runLibFuzzer(fuzzCommands))
    }
}

/// libFuzzer's callback: one input.
func fuzzCommands(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let input = FuzzInput(data, size, controlCount: 2)
    let readSeed = UInt64(input.control[0])
    let routing = input.control[1]

    let server: InProcessServer
    do {
        server = try InProcessServer(configuration: configuration)
    } catch {
        fatalError("cannot create the server: \(error)")
    }
    var connections = [Connection(server: server, id: 1), Connection(server: server, id: 2)]

    var decoder = RESPDecoder(limits: decoderLimits)
    var buffer = ByteBuffer(bytes: input.payload)
    var index = 0
    var pending = ByteBuffer()  // consecutive commands for one connection: a pipelined burst
    var pendingConnection = 0
    let encoder = RESPEncoder(version: .resp2)

    func flush() {
        if pending.readableBytes > 0 {
            connections[pendingConnection].send(pending, seed: readSeed &+ UInt64(index))
            pending.clear()
        }
    }

    var undecodable = false
    while true {
        let command: [ByteBuffer]
        do {
            guard let next = try decoder.nextCommand(from: &buffer) else { break }
            command = next
        } catch {
            undecodable = true
            break
        }
        if isSkipped(command) { continue }
        let target = Int(routing >> UInt8(index % 8)) & 1
        index += 1
        if target != pendingConnection { flush() }
        pendingConnection = target
        guard !connections[target].closes else { continue }
        connections[target].expectedReplies += 1
        connections[target].sent.append(command.map { escaped($0.readableBytesView) }.joined(separator: " "))
        if String(buffer: command[0]).lowercased() == "quit" { connections[target].closes = true }
        encoder.writeArrayHeader(count: command.count, into: &pending)
        for argument in command { encoder.writeBulkString(argument, into: &pending) }
    }
    flush()

    // What did not decode goes to the first connection as it is: it must refuse it.
    var protocolError = false
    if undecodable && !connections[0].closes {
        protocolError = true
        connections[0].sent.append("(undecodable) " + escaped(buffer.readableBytesView.prefix(64)))
        connections[0].send(buffer, seed: readSeed)
        require(!connections[0].channel.isActive, "the connection stayed open after a protocol error")
    }
    connections[0].finish(protocolError: protocolError)
    connections[1].finish(protocolError: false)
    return 0
}
