import Foundation
import KVSTestSupport
import Testing

@testable import KVSServer

/// Start-up checks of ``ServerConfiguration/validate()``, through the library: each bad
/// setting stops ``Server/init(configuration:logger:)`` before anything is bound, with an
/// error naming the setting.
@Suite("Start-up configuration")
struct ConfigurationTests {
    /// The error `Server(configuration:)` throws for the configuration `configure` makes
    /// from a valid one, or nil when it starts.
    static func refusal(_ configure: (inout ServerConfiguration) -> Void) throws -> Server.StartupError? {
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var config = ServerConfiguration()
        config.port = 0
        config.directory = dir
        configure(&config)
        do {
            _ = try Server(configuration: config)
            return nil
        } catch let error as Server.StartupError {
            return error
        }
    }

    @Test func aValidConfigurationPasses() throws {
        #expect(try Self.refusal { _ in } == nil)
        #expect(
            try Self.refusal {
                $0.port = 65535
                $0.bindAddresses = ["127.0.0.1", "::1", "localhost"]
            } == nil
        )
        #expect(
            try Self.refusal {
                $0.databases = ServerConfiguration.maxDatabases
                $0.eventLoopThreads = 1
            } == nil
        )
    }

    @Test func portOutOfRange() throws {
        for port in [65536, 99999, -1] {
            let error = try #require(try Self.refusal { $0.port = port })
            #expect(error.parameter == "port")
            #expect(error.description.contains("port \(port) is out of range"), "\(error)")
        }
    }

    @Test func bindMustBeAddresses() throws {
        for address in ["999.1.1.1", "example", "1.2.3", ""] {
            let error = try #require(try Self.refusal { $0.bindAddresses = ["127.0.0.1", address] })
            #expect(error.parameter == "bind")
            #expect(error.description == "bind address '\(address)' is not an IPv4 or IPv6 address")
        }
        #expect(try Self.refusal { $0.bindAddresses = [] }?.parameter == "bind")
    }

    @Test func directoryMustExistAndBeWritable() throws {
        let missing = try #require(try Self.refusal { $0.directory = "/nonexistent/kvs-dir" })
        #expect(missing.parameter == "dir")
        #expect(missing.description == "dir '/nonexistent/kvs-dir' does not exist")
        let file = try makeTemporaryDirectory() + "/file"
        defer { try? FileManager.default.removeItem(atPath: (file as NSString).deletingLastPathComponent) }
        try Data("x".utf8).write(to: URL(fileURLWithPath: file))
        #expect(try Self.refusal { $0.directory = file }?.description == "dir '\(file)' is not a folder")
        #if os(Linux)
        // procfs lets no one, root included, create a file.
        let proc = try #require(try Self.refusal { $0.directory = "/proc" })
        #expect(proc.parameter == "dir")
        #expect(proc.description.hasPrefix("dir '/proc' cannot be written: "))
        #endif
    }

    @Test func theWriteProbeLeavesNothingBehind() throws {
        let dir = try makeTemporaryDirectory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        var config = ServerConfiguration()
        config.directory = dir
        try config.validate()
        #expect(try FileManager.default.contentsOfDirectory(atPath: dir).isEmpty)
    }

    @Test func limitsAndCounts() throws {
        let cases: [(String, (inout ServerConfiguration) -> Void)] = [
            ("databases", { $0.databases = 0 }),
            ("databases", { $0.databases = ServerConfiguration.maxDatabases + 1 }),
            ("maxclients", { $0.maxClients = 0 }),
            ("maxclients", { $0.maxClients = -5 }),
            ("proto-max-bulk-len", { $0.maxBulkLength = -1 }),
            ("client-query-buffer-limit", { $0.maxQueryBufferLength = 0 }),
            ("max-arguments", { $0.maxArguments = 0 }),
            ("io-threads", { $0.eventLoopThreads = -1 }),
            ("io-threads", { $0.eventLoopThreads = ServerConfiguration.maxEventLoopThreads + 1 }),
            ("save", { $0.savePoints = [.init(seconds: 0, changes: 1)] }),
            ("save", { $0.savePoints = [.init(seconds: 10, changes: -1)] }),
            ("dbfilename", { $0.snapshotFileName = "a/b" }),
            ("dbfilename", { $0.snapshotFileName = "" }),
        ]
        for (parameter, configure) in cases {
            let error = try #require(try Self.refusal(configure), "\(parameter) accepted")
            #expect(error.parameter == parameter, "\(error)")
        }
        #expect(
            try Self.refusal { $0.databases = 0 }?.description
                == "databases 0 is out of range: give a count from 1 to 1024"
        )
    }
}
