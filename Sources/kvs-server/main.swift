import ArgumentParser
import CKVSAllocator
import Foundation
import KVS
import KVSServer
import Logging
import ServiceLifecycle

/// `kvs-server`: the kvs store over the Redis protocol. Options are named as Redis names them.
@main
struct KVSServerCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "kvs-server",
        abstract: "The kvs store served over the Redis protocol (RESP2/RESP3)."
    )

    @Option(help: "TCP port to listen on, 0 to 65535 (0: any free port).")
    var port: Int = 6379

    @Option(help: "IPv4 or IPv6 addresses to listen on, separated by spaces.")
    var bind: String = "127.0.0.1"

    @Option(help: "Folder of the snapshot file; must exist and be writable.")
    var dir: String = "."

    @Option(help: "Snapshot file name inside --dir.")
    var dbfilename: String = "dump.kvs"

    @Option(help: "Password that clients must give with AUTH.")
    var requirepass: String?

    @Option(help: "Save rules: \"SECONDS CHANGES ...\" (\"\" disables saving).")
    var save: String = "3600 1 300 100 60 10000"

    @Option(help: "Number of databases, 1 to 1024.")
    var databases: Int = 16

    @Option(help: "Maximum number of connected clients, at least 1.")
    var maxclients: Int = 10_000

    @Option(name: .customLong("protected-mode"), help: "yes|no: refuse non-loopback addresses without a password.")
    var protectedMode: String = "yes"

    @Option(name: .customLong("proto-max-bulk-len"), help: "Longest bulk string a client may send, in bytes.")
    var protoMaxBulkLen: Int = 512 * 1024 * 1024

    @Option(name: .customLong("client-query-buffer-limit"), help: "Most unprocessed input per client, in bytes.")
    var clientQueryBufferLimit: Int = 1024 * 1024 * 1024

    @Option(
        name: .customLong("io-threads"),
        help: "Event loop threads, 0 to 128 (0: one per core less one, at least one)."
    )
    var ioThreads: Int = 0

    @Option(help: "Memory limit: bytes, or with a unit (100mb, 2gb); 0: none.")
    var maxmemory: String = "0"

    @Option(
        name: .customLong("maxmemory-policy"),
        help:
            "What is evicted past --maxmemory: noeviction, allkeys-lru, allkeys-lfu, allkeys-random, volatile-lru, volatile-lfu, volatile-random or volatile-ttl."
    )
    var maxmemoryPolicy: String = "noeviction"

    @Option(name: .customLong("maxmemory-samples"), help: "Keys sampled per eviction, 1 to 64.")
    var maxmemorySamples: String = "5"

    @Option(name: .customLong("lfu-log-factor"), help: "Accesses it takes to raise an LFU counter.")
    var lfuLogFactor: String = "10"

    @Option(name: .customLong("lfu-decay-time"), help: "Minutes after which an unused LFU counter drops by one.")
    var lfuDecayTime: String = "1"

    @Option(help: "Log level: trace, debug, info, notice, warning, error, critical.")
    var loglevel: String = "info"

    func run() async throws {
        var config = ServerConfiguration()
        config.port = port
        config.bindAddresses = bind.split(separator: " ").map(String.init)
        config.directory = dir
        config.snapshotFileName = dbfilename
        config.requirePassword = requirepass
        guard let points = ServerConfiguration.parseSavePoints(save) else {
            throw Self.fail("cannot start: --save takes pairs of numbers, \"SECONDS CHANGES ...\", or \"\"")
        }
        config.savePoints = points
        config.databases = databases
        config.maxClients = maxclients
        guard protectedMode == "yes" || protectedMode == "no" else {
            throw Self.fail("cannot start: --protected-mode takes yes or no")
        }
        config.protectedMode = protectedMode == "yes"
        config.maxBulkLength = protoMaxBulkLen
        config.maxQueryBufferLength = clientQueryBufferLimit
        config.eventLoopThreads = ioThreads
        for (name, text) in [
            ("maxmemory", maxmemory), ("maxmemory-policy", maxmemoryPolicy), ("maxmemory-samples", maxmemorySamples),
            ("lfu-log-factor", lfuLogFactor), ("lfu-decay-time", lfuDecayTime),
        ] {
            do {
                try config.set(parameter: name, to: text)
            } catch {
                throw Self.fail("cannot start: --\(error.description)")
            }
        }
        // This executable's malloc counts every heap block of the process (CKVSAllocator),
        // and the tables' huge-page blocks are counted as they are handed out: INFO's
        // used_memory is then Redis's figure. Where malloc does not count (a sanitizer
        // build, not glibc), the configuration's default, glibc's mallinfo2, stays.
        if ckvs_allocator_is_counting() == 1 {
            config.memoryGauge = MemoryGauge(allocatorName: "libc-counted") {
                ckvs_allocator_used_bytes() + TableMemory.blockBytes.value.load(ordering: .relaxed)
            }
        }

        var logger = Logger(label: "kvs-server")
        logger.logLevel = Logger.Level(rawValue: loglevel) ?? (loglevel == "verbose" ? .debug : .info)
        let server: Server
        do {
            server = try Server(configuration: config, logger: logger)
        } catch let error as Server.StartupError {
            throw Self.fail("cannot start: \(error.description)")
        }
        let group = ServiceGroup(
            configuration: ServiceGroupConfiguration(
                services: [.init(service: server, successTerminationBehavior: .gracefullyShutdownGroup)],
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger
            )
        )
        do {
            try await group.run()
        } catch let error as Server.StartupError {
            logger.critical("\(error.description)")
            throw Self.fail("cannot start: \(error.description)")
        } catch let error as Server.ShutdownError {
            throw Self.fail(error.description)
        } catch {
            logger.critical("stopped by an unexpected error: \(error)")
            throw Self.fail("stopped by an unexpected error: \(error)")
        }
    }

    /// Writes `sentence` on standard error and gives the exit code that reports a failure.
    static func fail(_ sentence: String) -> ExitCode {
        FileHandle.standardError.write(Data("kvs-server: \(sentence)\n".utf8))
        return ExitCode(1)
    }
}
