import Foundation
import KVS
import Testing

// Helpers that more than one test target needs, kept here once.

/// A fresh, empty temporary directory; the caller removes it with ``removeDirectory(_:)``.
package func makeTemporaryDirectory() throws -> String {
    let path = NSTemporaryDirectory() + "kvs-tests-" + UUID().uuidString
    try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}

/// Removes `path` and everything under it, ignoring a path that is already gone.
package func removeDirectory(_ path: String) {
    try? FileManager.default.removeItem(atPath: path)
}

/// A small deterministic generator (SplitMix64), so that randomized tests are reproducible.
package struct SplitMix64: RandomNumberGenerator, Sendable {
    package var state: UInt64

    package init(state: UInt64) { self.state = state }
    package init(seed: UInt64) { self.state = seed }

    package mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

/// Expects `body` to throw a ``KVSError`` with one of `codes` (and `key`, when given);
/// records an issue if it returns or throws something else.
///
/// - Returns: the error, for further checks of its message; nil if there was none.
@discardableResult
package func expectKVSError<R>(
    _ codes: KVSError.Code...,
    key: String? = nil,
    sourceLocation: SourceLocation = #_sourceLocation,
    _ body: () throws -> R
) -> KVSError? {
    let error = #expect(throws: KVSError.self, sourceLocation: sourceLocation) { _ = try body() }
    #expect(
        error.map { codes.contains($0.code) } == true,
        "\(String(describing: error))",
        sourceLocation: sourceLocation
    )
    if let key { #expect(error?.key == key, sourceLocation: sourceLocation) }
    return error
}

/// ``expectKVSError(_:key:sourceLocation:_:)`` for an asynchronous `body`.
@discardableResult
package func expectKVSError<R>(
    _ codes: KVSError.Code...,
    key: String? = nil,
    sourceLocation: SourceLocation = #_sourceLocation,
    _ body: () async throws -> R
) async -> KVSError? {
    let error = await #expect(throws: KVSError.self, sourceLocation: sourceLocation) { _ = try await body() }
    #expect(
        error.map { codes.contains($0.code) } == true,
        "\(String(describing: error))",
        sourceLocation: sourceLocation
    )
    if let key { #expect(error?.key == key, sourceLocation: sourceLocation) }
    return error
}
