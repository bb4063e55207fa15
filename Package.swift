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
        .library(name: "RESP", targets: ["RESP"]),
        .library(name: "KVSServer", targets: ["KVSServer"]),
        .library(name: "KVSRedis", targets: ["KVSRedis"]),
        .executable(name: "kvs-server", targets: ["kvs-server"]),
        .executable(name: "kvs-bench", targets: ["kvs-bench"]),
        // Examples (issue #4): `swift run <name> --help`.
        .executable(name: "crawl-and-store", targets: ["crawl-and-store"]),
        .executable(name: "multi-thread", targets: ["multi-thread"]),
        .executable(name: "sharding-with-consistent-hashing", targets: ["sharding-with-consistent-hashing"]),
        .executable(name: "scale-out", targets: ["scale-out"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-collections.git", from: "1.6.0"),
        // Command-line options for the executables; SwiftNIO for networking (the crawler example,
        // and later the RESP server).
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.81.0"),
        // kvs-server (issue #6): logging and start-up/graceful shutdown.
        .package(url: "https://github.com/apple/swift-log.git", from: "1.6.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.6.0"),
    ],
    targets: [
        .target(
            name: "KVS",
            dependencies: ["CKVSPrefetch", .product(name: "HeapModule", package: "swift-collections")],
            swiftSettings: internalChecks
        ),
        // What Swift lacks: cache prefetch hints, for the batch paths and the expiry sweep.
        .target(name: "CKVSPrefetch"),
        .target(name: "CKVSBenchSupport"),
        // What Swift's Glibc module lacks: glibc's heap statistics, for MEMORY STATS.
        .target(name: "CKVSHeap"),
        // What Swift lacks: the CPU's cycle counter, to time each command of the server.
        .target(name: "CKVSCycleCounter"),
        .executableTarget(name: "kvs-bench", dependencies: ["KVS", "CKVSBenchSupport"]),
        .testTarget(name: "KVSTests", dependencies: ["KVS", "KVSTestSupport"], swiftSettings: internalChecks),

        // RESP (issue #6): protocol values, incremental decoder, encoder; no store logic.
        .target(name: "RESP", dependencies: [.product(name: "NIOCore", package: "swift-nio")]),
        .executableTarget(name: "resp-bench", dependencies: ["RESP", .product(name: "NIOCore", package: "swift-nio")]),
        // SwiftNIO's own cost per request, without parsing or a store (scripts/bench-server-floor.sh).
        .executableTarget(name: "nio-floor-server", dependencies: [.product(name: "NIOPosix", package: "swift-nio")]),
        .testTarget(
            name: "RESPTests",
            dependencies: [
                "RESP", "KVSTestSupport",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOTestUtils", package: "swift-nio"),
            ]
        ),

        // kvs-server (issue #6): the store over RESP; the executable only parses options.
        .target(
            name: "KVSServer",
            dependencies: [
                "KVS", "RESP", "CKVSHeap", "CKVSCycleCounter",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .executableTarget(
            name: "kvs-server",
            dependencies: [
                "KVSServer",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .testTarget(
            name: "KVSServerTests",
            dependencies: [
                "KVSServer", "KVS", "RESP", "KVSTestSupport",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),

        // KVSRedis (issue #7): AsyncStore over RESP for one server (and later a cluster); not on KVSServer.
        .target(
            name: "KVSRedis",
            dependencies: [
                "KVS", "RESP",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // What several test targets share: the AsyncStore conformance suite, servers started
        // for a test (kvs-server in process, redis-server, a Redis Cluster), small helpers.
        .target(
            name: "KVSTestSupport",
            dependencies: [
                "KVS", "KVSRedis", "KVSServer",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Tests/KVSTestSupport"
        ),
        .testTarget(
            name: "KVSRedisTests",
            dependencies: [
                "KVSRedis", "KVS", "RESP", "KVSServer", "KVSTestSupport",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),

        // Examples (issue #4): each example's logic is a small library that its test drives;
        // the executable only parses options and prints.
        .target(
            name: "CrawlAndStore",
            dependencies: [
                "KVS",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            path: "Examples/crawl-and-store/Sources/CrawlAndStore"
        ),
        .executableTarget(
            name: "crawl-and-store",
            dependencies: ["CrawlAndStore", .product(name: "ArgumentParser", package: "swift-argument-parser")],
            path: "Examples/crawl-and-store/Sources/crawl-and-store"
        ),
        .target(name: "MultiThread", dependencies: ["KVS"], path: "Examples/multi-thread/Sources/MultiThread"),
        .executableTarget(
            name: "multi-thread",
            dependencies: ["MultiThread", .product(name: "ArgumentParser", package: "swift-argument-parser")],
            path: "Examples/multi-thread/Sources/multi-thread"
        ),
        .target(
            name: "ConsistentHashing",
            dependencies: ["KVS"],
            path: "Examples/sharding-with-consistent-hashing/Sources/ConsistentHashing"
        ),
        .executableTarget(
            name: "sharding-with-consistent-hashing",
            dependencies: ["ConsistentHashing", .product(name: "ArgumentParser", package: "swift-argument-parser")],
            path: "Examples/sharding-with-consistent-hashing/Sources/sharding-with-consistent-hashing"
        ),
        // scale-out (issue #7): one program on the embedded store, one server or a cluster.
        .target(name: "ScaleOut", dependencies: ["KVS", "KVSRedis"], path: "Examples/scale-out/Sources/ScaleOut"),
        .executableTarget(
            name: "scale-out",
            dependencies: ["ScaleOut", .product(name: "ArgumentParser", package: "swift-argument-parser")],
            path: "Examples/scale-out/Sources/scale-out"
        ),
        .testTarget(
            name: "ExamplesTests",
            dependencies: [
                "CrawlAndStore", "MultiThread", "ConsistentHashing", "KVS", "ScaleOut", "KVSTestSupport",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ]
        ),
    ]
)
