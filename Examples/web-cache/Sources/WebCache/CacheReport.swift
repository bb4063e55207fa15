/// The body of `GET /stats`: the cache's ``KVS/CacheStatistics``, its size, and the
/// database queries it let through.
package struct CacheReport: Codable, Sendable, Equatable {
    /// Reads that found the user in the cache.
    package var hits: Int
    /// Reads that did not (each request waiting for a load counts one).
    package var misses: Int
    /// Hits over hits plus misses, from 0 to 1.
    package var hitRate: Double
    /// Loads the cache ran: one per missing user, however many requests wanted it.
    package var loads: Int
    /// Loads whose query threw.
    package var loadFailures: Int
    /// Users evicted to stay within the capacity, as the statistics count them.
    package var evictions: Int
    /// Evictions heard through the removal listener: the same as ``evictions`` once the
    /// listener has been called for each.
    package var evictionsHeard: Int
    /// Users whose time-to-live ran out.
    package var expirations: Int
    /// Users in the cache now.
    package var count: Int
    /// The most users the cache holds.
    package var capacity: Int
    /// Queries the database has had.
    package var databaseQueries: Int
}
