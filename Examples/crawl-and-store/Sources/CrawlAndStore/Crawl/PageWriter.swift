import KVS

/// Collects fetched pages and writes them to the store in batches with `batchSet`,
/// which locks each shard once per batch instead of once per page.
struct PageWriter {
    let store: KeyValueStore<PageRecord>
    let ttl: Duration
    let batchSize: Int
    private var pending: [String: PageRecord] = [:]
    /// How many `batchSet` calls were made.
    private(set) var batches = 0
    /// Pages the store refused, with why (none with the store's default hash).
    private(set) var errors: [String: KVSError] = [:]

    init(store: KeyValueStore<PageRecord>, ttl: Duration, batchSize: Int) {
        self.store = store
        self.ttl = ttl
        self.batchSize = batchSize
    }

    /// Adds a page; writes the batch once it is full.
    ///
    /// - Returns: how many pages were written now (0 if the batch is not full yet).
    /// - Throws: a `KVSError` if the store is closed.
    mutating func add(_ record: PageRecord) throws(KVSError) -> Int {
        pending[record.url] = record
        return pending.count >= batchSize ? try flush() : 0
    }

    /// Writes the pages collected so far, each with the TTL (`.zero`: no expiry).
    ///
    /// - Returns: how many pages were written.
    /// - Throws: a `KVSError` if the store is closed.
    mutating func flush() throws(KVSError) -> Int {
        guard !pending.isEmpty else { return 0 }
        let result = try store.batchSet(pending, ttl: ttl)
        errors.merge(result.errors) { first, _ in first }
        batches += 1
        pending = [:]
        return result.successful
    }
}
