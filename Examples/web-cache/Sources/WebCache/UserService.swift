import Foundation  // JSONEncoder
import KVS
import Synchronization

/// The web cache's logic, apart from HTTP: routes a request, reads users through a
/// bounded `KeyValueStore` in front of the slow ``UserDatabase``, and reports the cache's
/// statistics.
///
/// `GET /users/<id>` reads `user:<id>` with `value(forKey:ttl:orLoad:)`: a hit answers
/// from memory; on a miss one query loads the user, and every request that misses the same
/// user meanwhile waits for that query instead of sending its own (single flight). The
/// store is created with `maximumCount:`, so it evicts users beyond the capacity; a
/// removal listener counts the evictions and passes each to ``onEviction``.
///
/// - Thread safety: any number of requests may be handled at once.
package final class UserService: Sendable {
    /// The cache of users, keyed `user:<id>`.
    package let cache: KeyValueStore<User>
    /// Where missing users come from.
    package let database: UserDatabase
    /// The most users the cache holds.
    package let capacity: Int
    /// How long a cached user lives; `.zero` for as long as the capacity allows.
    package let ttl: Duration
    private let evictionsHeard = Atomic<Int>(0)

    /// A service with a cache of at most `capacity` users, each kept for `ttl`.
    ///
    /// - Parameter onEviction: called with the key of each evicted user, on the thread
    ///   that wrote the entry which took the cache over its capacity.
    /// - Throws: `KVSError` with code `invalidArgument` if `capacity` is less than 1.
    package init(
        capacity: Int,
        ttl: Duration,
        database: UserDatabase,
        onEviction: @escaping @Sendable (String) -> Void = { _ in }
    ) throws {
        self.cache = try KeyValueStore<User>(maximumCount: capacity)
        self.database = database
        self.capacity = capacity
        self.ttl = ttl
        // Weak: the store holds the listener, and the service holds the store.
        cache.addRemovalListener { [weak self] removal in
            guard removal.cause == .evicted, let self else { return }
            self.evictionsHeard.add(1, ordering: .relaxed)
            onEviction(removal.key)
        }
    }

    /// Answers `method path`: `GET /users/<id>` (200, or 400 if the id is not a number),
    /// `GET /stats` (200); 405 for another method on those paths, 404 for other paths.
    ///
    /// - Complexity: a hit costs a store read; a miss waits for the database.
    package func respond(method: String, uri: String) async -> WebResponse {
        let path = uri.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)[0]
        let route: Route
        if path == "/stats" {
            route = .stats
        } else if path.hasPrefix("/users/") {
            let id = path.dropFirst("/users/".count)
            guard !id.isEmpty, id.allSatisfy({ $0.isASCII && $0.isNumber }), let number = Int(id) else {
                return .error(400, "the user id must be a number, not \(String(id).debugDescription)")
            }
            route = .user(number)
        } else {
            return .error(404, "no such path: \(path); try /users/<id> or /stats")
        }
        guard method == "GET" else { return .error(405, "only GET is allowed") }
        switch route {
        case .stats:
            return .json(Self.encode(report))
        case .user(let id):
            do {
                let user = try await cache.value(forKey: "user:\(id)", ttl: ttl) { [database] in
                    try await database.user(id)
                }
                return .json(Self.encode(user))
            } catch {
                return .error(500, "could not load user \(id): \(error)")
            }
        }
    }

    /// What `GET /stats` answers.
    package var report: CacheReport {
        let statistics = cache.statistics
        return CacheReport(
            hits: statistics.hits,
            misses: statistics.misses,
            hitRate: statistics.hitRate,
            loads: statistics.loads,
            loadFailures: statistics.loadFailures,
            evictions: statistics.evictions,
            evictionsHeard: evictionsHeard.load(ordering: .relaxed),
            expirations: statistics.expirations,
            count: cache.count,
            capacity: capacity,
            databaseQueries: database.queryCount
        )
    }

    private enum Route {
        case user(Int)
        case stats
    }

    /// JSON with sorted keys and a final newline, so that equal values give equal bodies.
    private static func encode(_ value: some Encodable) -> [UInt8] {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        // Encoding these plain structs cannot fail.
        return Array((try? encoder.encode(value)) ?? Data()) + [UInt8(ascii: "\n")]
    }
}
