import CrawlAndStore  // HTTPClient
import Foundation
import KVS
import Testing
import WebCache

/// The web cache served on 127.0.0.1 (an ephemeral port) in the test's process, asked over
/// HTTP with the crawl-and-store example's client.
@Suite struct WebCacheServerTests {
    @Test func concurrentRequestsForOneMissingUserMakeOneQuery() async throws {
        // The delay makes the requests overlap the load, but the assertions do not rely on
        // it: a request that comes after the load finds the user cached, one that comes
        // during it waits for it; neither queries the database.
        try await TestServer.with(capacity: 1_000, delay: .milliseconds(50)) { server in
            let responses = try await withThrowingTaskGroup(of: HTTPResponse.self) { group in
                for _ in 0..<50 { group.addTask { try await server.get("/users/7") } }
                return try await group.reduce(into: [HTTPResponse]()) { $0.append($1) }
            }
            #expect(responses.count == 50)
            #expect(responses.allSatisfy { $0.status == 200 })
            #expect(Set(responses.map(\.body)).count == 1)
            let user = try JSONDecoder().decode(User.self, from: Data(try #require(responses.first).body))
            #expect(user == User(id: 7, name: "User 7", email: "user7@example.com"))
            #expect(server.service.database.queryCount == 1)

            let report = try await server.report()
            #expect(report.databaseQueries == 1)
            #expect(report.loads == 1)
            #expect(report.hits + report.misses == 50)
            #expect(report.count == 1)
        }
    }

    @Test func aSecondRequestIsAHit() async throws {
        try await TestServer.with(capacity: 10) { server in
            let first = try await server.get("/users/1")
            let second = try await server.get("/users/1")
            #expect(first.status == 200 && second.body == first.body)
            let report = try await server.report()
            #expect(report.hits == 1 && report.misses == 1 && report.hitRate == 0.5)
            #expect(report.loads == 1 && report.databaseQueries == 1)
        }
    }

    @Test func fillingPastTheCapacityEvictsAndNeverExceedsIt() async throws {
        try await TestServer.with(capacity: 100) { server in
            for id in 0..<300 {
                let response = try await server.get("/users/\(id)")
                #expect(response.status == 200)
                #expect(server.service.cache.count <= 100)
            }
            let report = try await server.report()
            #expect(report.capacity == 100)
            #expect(report.count <= 100)
            #expect(report.loads == 300 && report.databaseQueries == 300)
            #expect(report.evictions == 300 - report.count)
            #expect(report.evictions >= 200)
            // Each load delivered its evictions to the listener before its request was
            // answered, since no other write to the store was under way.
            #expect(report.evictionsHeard == report.evictions)
        }
    }

    @Test func concurrentFillNeverExceedsTheCapacity() async throws {
        try await TestServer.with(capacity: 64) { server in
            try await withThrowingTaskGroup(of: Void.self) { group in
                for worker in 0..<8 {
                    group.addTask {
                        for step in 0..<25 {
                            let response = try await server.get("/users/\(worker * 1_000 + step)")
                            #expect(response.status == 200)
                            #expect(server.service.cache.count <= 64)
                        }
                    }
                }
                try await group.waitForAll()
            }
            let report = try await server.report()
            #expect(report.count <= 64)
            #expect(report.loads == 200)
            #expect(report.evictions == 200 - report.count)
        }
    }

    @Test func badPathsAnswer404AndBadIDs400() async throws {
        try await TestServer.with(capacity: 10) { server async throws in
            for path in ["/", "/nope", "/users", "/userz/1", "/stats/more", "/users7"] {
                #expect(try await server.get(path).status == 404, "\(path)")
            }
            for path in ["/users/", "/users/abc", "/users/-1", "/users/+1", "/users/1.5", "/users/1/x", "/users/%31"] {
                #expect(try await server.get(path).status == 400, "\(path)")
            }
            #expect(try await server.get("/users/99999999999999999999999").status == 400)
            #expect(try await server.get("/stats?verbose=1").status == 200)
            #expect(server.service.database.queryCount == 0)
        }
    }

    @Test func otherMethodsAnswer405() async throws {
        let service = try UserService(capacity: 10, ttl: .zero, database: UserDatabase(delay: .zero))
        #expect(await service.respond(method: "POST", uri: "/users/1").status == 405)
        #expect(await service.respond(method: "DELETE", uri: "/stats").status == 405)
        #expect(await service.respond(method: "POST", uri: "/elsewhere").status == 404)
        #expect(service.database.queryCount == 0)
    }

    @Test func aFreshServerReportsZeros() async throws {
        try await TestServer.with(capacity: 5) { server in
            let report = try await server.report()
            #expect(report.hits == 0 && report.misses == 0 && report.hitRate == 1)
            #expect(report.loads == 0 && report.loadFailures == 0 && report.databaseQueries == 0)
            #expect(report.evictions == 0 && report.evictionsHeard == 0 && report.expirations == 0)
            #expect(report.count == 0 && report.capacity == 5)
        }
    }
}

/// A ``WebCacheServer`` on an ephemeral port of 127.0.0.1, and a client for it.
struct TestServer: Sendable {
    let server: WebCacheServer
    let client = HTTPClient(timeout: .seconds(30), maxBodyBytes: 1 << 20)

    var service: UserService { server.service }

    /// Starts a server, runs `body` with it, and stops it.
    static func with(
        capacity: Int,
        delay: Duration = .zero,
        ttl: Duration = .seconds(3_600),
        _ body: (TestServer) async throws -> Void
    ) async throws {
        let service = try UserService(capacity: capacity, ttl: ttl, database: UserDatabase(delay: delay))
        let server = try await WebCacheServer.start(service: service, port: 0)
        do {
            try await body(TestServer(server: server))
        } catch {
            try? await server.close()
            throw error
        }
        try await server.close()
    }

    /// `GET path`.
    func get(_ path: String) async throws -> HTTPResponse {
        try await client.get(try #require(URL(string: "http://127.0.0.1:\(server.port)\(path)")))
    }

    /// `GET /stats`, decoded.
    func report() async throws -> CacheReport {
        let response = try await get("/stats")
        try #require(response.status == 200)
        return try JSONDecoder().decode(CacheReport.self, from: Data(response.body))
    }
}
