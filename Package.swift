// swift-tools-version: 6.1
import PackageDescription

/// Invariant checks (per-shard counts sum to the total, the expiry index covers every
/// TTL entry, no expired key is visible) run in debug builds, and so in `swift test`
/// and the ThreadSanitizer run; release builds leave them out.
let internalChecks: [SwiftSetting] = [.define("KVS_INTERNAL_CHECKS", .when(configuration: .debug))]

let package = Package(
    name: "kvs",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "KVS", targets: ["KVS"]),
        .executable(name: "kvs-bench", targets: ["kvs-bench"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-collections.git", from: "1.6.0"),
    ],
    targets: [
        .target(
            name: "KVS",
            dependencies: [.product(name: "HeapModule", package: "swift-collections")],
            swiftSettings: internalChecks
        ),
        .target(name: "CKVSBenchSupport"),
        .executableTarget(name: "kvs-bench", dependencies: ["KVS", "CKVSBenchSupport"]),
        .testTarget(name: "KVSTests", dependencies: ["KVS"], swiftSettings: internalChecks),
    ]
)
