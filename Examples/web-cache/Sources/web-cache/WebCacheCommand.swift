import ArgumentParser
import Foundation  // FileHandle
import WebCache

/// `web-cache`: an HTTP server that reads users through a bounded cache in front of a slow
/// database.
@main
struct WebCacheCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "web-cache",
        abstract: "Serve users from a bounded KeyValueStore in front of a slow database.",
        discussion: """
            GET /users/<id> answers the user as JSON, read through the cache with \
            value(forKey:ttl:orLoad:): concurrent requests for the same missing user share \
            one database query. GET /stats answers the cache's statistics (hits, misses, \
            hit rate, loads, evictions) and the database's query count. The cache holds at \
            most --capacity users; each eviction is printed to standard error. Stop it \
            with Ctrl-C.
            """
    )

    @Option(help: "The address to listen on.")
    var host = "127.0.0.1"

    @Option(help: "The port to listen on (0: any free port).")
    var port = 8080

    @Option(help: "The most users the cache holds.")
    var capacity = 1_000

    @Option(help: "Seconds a cached user lives (0: until evicted).")
    var ttl = 60.0

    @Option(help: "Milliseconds each database query takes.")
    var delayMs = 50

    @Flag(name: .shortAndLong, help: "Do not print evictions.")
    var quiet = false

    func validate() throws {
        guard (0...65_535).contains(port) else { throw ValidationError("--port must be from 0 to 65535") }
        guard capacity >= 1 else { throw ValidationError("--capacity must be at least 1") }
        guard ttl.isFinite, (0...1e9).contains(ttl) else {
            throw ValidationError("--ttl must be a number of seconds from 0 to 1e9")
        }
        guard delayMs >= 0 else { throw ValidationError("--delay-ms must be 0 or more") }
    }

    func run() async throws {
        let quiet = quiet
        let service = try UserService(
            capacity: capacity,
            ttl: .milliseconds(Int64((ttl * 1_000).rounded())),
            database: UserDatabase(delay: .milliseconds(delayMs))
        ) { key in
            if !quiet { printError("evicted \(key)") }
        }
        let server = try await WebCacheServer.start(service: service, host: host, port: port)
        // Written unbuffered, so that a script reading the output learns the port at once.
        let base = "http://\(host):\(server.port)"
        printOutput("Listening on \(base)/ (capacity \(capacity), ttl \(ttl) s, database delay \(delayMs) ms)")
        printOutput("Try: curl \(base)/users/42 and curl \(base)/stats")
        try await server.waitUntilClosed()
    }
}

/// Writes a line to standard output, unbuffered.
private func printOutput(_ line: String) {
    FileHandle.standardOutput.write(Data((line + "\n").utf8))
}

/// Writes a line to standard error.
private func printError(_ line: String) {
    FileHandle.standardError.write(Data((line + "\n").utf8))
}
