import Foundation  // FileManager
import KVS

/// Keeping the crawl's store across runs in a snapshot file.
package enum PageSnapshot {
    /// Loads the snapshot at `path` into `store`, replacing its contents, if the file
    /// exists. Pages whose TTL ran out since are left out by the store.
    ///
    /// - Returns: how many pages were loaded, or `nil` if there is no file yet.
    /// - Throws: a `KVSError` for a file that exists but cannot be read or is not a
    ///   valid snapshot (`.io`, `.snapshotCorrupted`, `.snapshotUnsupportedVersion`).
    package static func loadIfPresent(into store: KeyValueStore<PageRecord>, from path: String) throws -> Int? {
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        try store.loadSnapshot(from: path)
        return store.count
    }

    /// Saves `store` to `path` (atomically: a crash leaves the previous file whole).
    ///
    /// - Throws: a `KVSError` (`.io`) if the file cannot be written.
    package static func save(_ store: KeyValueStore<PageRecord>, to path: String) throws {
        try store.saveSnapshot(to: path)
    }
}
