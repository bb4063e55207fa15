// swift-tools-version: 6.1
import PackageDescription

/// Invariant checks (per-shard counts sum to the total, the expiry index covers every
/// TTL entry, no expired key is visible) run in debug builds, and so in `swift test`
/// and the ThreadSanitizer run; release builds leave them out.
let internalChecks: [SwiftSetting] = [.define("KVS_INTERNAL_CHECKS", .when(configuration: .debug))]

// The products of the dependencies, named once.
let heapModule = Target.Dependency.product(name: "HeapModule", package: "swift-collections")
let dequeModule = Target.Dependency.product(name: "DequeModule", package: "swift-collections")
let argumentParser = Target.Dependency.product(name: "ArgumentParser", package: "swift-argument-parser")
let nioCore = Target.Dependency.product(name: "NIOCore", package: "swift-nio")
let nioPosix = Target.Dependency.product(name: "NIOPosix", package: "swift-nio")
let nioHTTP1 = Target.Dependency.product(name: "NIOHTTP1", package: "swift-nio")
let nioEmbedded = Target.Dependency.product(name: "NIOEmbedded", package: "swift-nio")
let nioTestUtils = Target.Dependency.product(name: "NIOTestUtils", package: "swift-nio")
let logging = Target.Dependency.product(name: "Logging", package: "swift-log")
let serviceLifecycle = Target.Dependency.product(name: "ServiceLifecycle", package: "swift-service-lifecycle")
let serviceLifecycleTestKit = Target.Dependency.product(
    name: "ServiceLifecycleTestKit",
    package: "swift-service-lifecycle"
)
let metrics = Target.Dependency.product(name: "Metrics", package: "swift-metrics")
let metricsTestKit = Target.Dependency.product(name: "MetricsTestKit", package: "swift-metrics")

/// The libraries and the server. The examples are executables of this package too (`swift run
/// <example> --help` from the root) but no products, so a package depending on kvs does not
/// see them; the benchmarks are a package of their own, `Benchmarks/`, and the fuzz targets
/// another, `Tests/Fuzz/`.
let package = Package(
    name: "kvs",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "KVS", targets: ["KVS"]),
        .library(name: "RESP", targets: ["RESP"]),
        .library(name: "KVSServer", targets: ["KVSServer"]),
        .library(name: "KVSRedis", targets: ["KVSRedis"]),
        .library(name: "KVSMetrics", targets: ["KVSMetrics"]),
        .executable(name: "kvs-server", targets: ["kvs-server"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-collections.git", from: "1.6.0"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.81.0"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.6.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.6.0"),
        // KVSMetrics: 2.7.0 is the first to take a factory for each metric.
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.7.0"),
        // `swift package generate-documentation` (scripts/docs.sh).
        .package(url: "https://github.com/swiftlang/swift-docc-plugin", from: "1.5.0"),
    ],
    targets: [
        // The embedded store.
        .target(name: "KVS", dependencies: ["CKVSPrefetch", heapModule], swiftSettings: internalChecks),
        // What Swift lacks: cache prefetch hints, for the batch paths and the expiry sweep.
        .target(name: "CKVSPrefetch"),

        // Protocol values, incremental decoder, encoder; no store logic.
        .target(name: "RESP", dependencies: [nioCore]),

        // The store over RESP: server, connections, command table.
        .target(
            name: "KVSServer",
            dependencies: [
                "KVS", "RESP", "CKVSHeap", "CKVSCycleCounter", dequeModule, nioCore, nioPosix, logging,
                serviceLifecycle,
            ]
        ),
        // What Swift's Glibc module lacks: glibc's heap statistics, for MEMORY STATS.
        .target(name: "CKVSHeap"),
        // What Swift lacks: the CPU's cycle counter, to time each command of the server.
        .target(name: "CKVSCycleCounter"),
        // The server's executable: it parses options and runs a ServiceGroup.
        .executableTarget(
            name: "kvs-server",
            dependencies: ["KVS", "KVSServer", "CKVSAllocator", argumentParser, logging, serviceLifecycle]
        ),
        // The executable's malloc family: glibc's, counted, for INFO's used_memory
        // (docs/design/memory-accounting.md). Only kvs-server links it: a library must not
        // replace its host's malloc.
        .target(name: "CKVSAllocator"),

        // A store's cache statistics as swift-metrics counters and gauges, reported by a
        // Service; KVS itself does not depend on swift-metrics.
        .target(name: "KVSMetrics", dependencies: ["KVS", metrics, serviceLifecycle]),

        // AsyncStore over RESP for one server or a Redis Cluster; not on KVSServer.
        .target(name: "KVSRedis", dependencies: ["KVS", "RESP", nioCore, nioPosix, logging, serviceLifecycle]),

        // Examples: each example's logic is a small library that its test drives; the
        // executable only parses options and prints.
        .target(
            name: "CrawlAndStore",
            dependencies: ["KVS", nioCore, nioPosix, nioHTTP1],
            path: "Examples/crawl-and-store/Sources/CrawlAndStore"
        ),
        .executableTarget(
            name: "crawl-and-store",
            dependencies: ["CrawlAndStore", "KVS", argumentParser],
            path: "Examples/crawl-and-store/Sources/crawl-and-store"
        ),
        .target(name: "MultiThread", dependencies: ["KVS"], path: "Examples/multi-thread/Sources/MultiThread"),
        .executableTarget(
            name: "multi-thread",
            dependencies: ["MultiThread", argumentParser],
            path: "Examples/multi-thread/Sources/multi-thread"
        ),
        .target(
            name: "ConsistentHashing",
            dependencies: ["KVS"],
            path: "Examples/sharding-with-consistent-hashing/Sources/ConsistentHashing"
        ),
        .executableTarget(
            name: "sharding-with-consistent-hashing",
            dependencies: ["ConsistentHashing", argumentParser],
            path: "Examples/sharding-with-consistent-hashing/Sources/sharding-with-consistent-hashing"
        ),
        // One program on the embedded store, one server or a cluster.
        .target(name: "ScaleOut", dependencies: ["KVS", "KVSRedis"], path: "Examples/scale-out/Sources/ScaleOut"),
        .executableTarget(
            name: "scale-out",
            dependencies: ["ScaleOut", argumentParser],
            path: "Examples/scale-out/Sources/scale-out"
        ),

        // A bounded cache with single-flight loads behind an HTTP server.
        .target(
            name: "WebCache",
            dependencies: ["KVS", nioCore, nioPosix, nioHTTP1],
            path: "Examples/web-cache/Sources/WebCache"
        ),
        .executableTarget(
            name: "web-cache",
            dependencies: ["WebCache", argumentParser],
            path: "Examples/web-cache/Sources/web-cache"
        ),

        // Test support for the store alone: seeded random numbers, temporary folders, the
        // KVSError expectation, the dedicated-thread trait. No networking, so that the
        // store's tests do not build it.
        .target(name: "KVSTestSupport", dependencies: ["KVS"], path: "Tests/KVSTestSupport"),
        // Test support over the network: kvs-server in process, redis-server and a Redis
        // Cluster started for a test, the AsyncStore conformance suites, loopback sockets.
        .target(
            name: "KVSNetworkTestSupport",
            dependencies: ["KVSTestSupport", "KVS", "RESP", "KVSRedis", "KVSServer", nioCore, nioPosix, logging],
            path: "Tests/KVSNetworkTestSupport"
        ),

        .testTarget(name: "KVSTests", dependencies: ["KVS", "KVSTestSupport"], swiftSettings: internalChecks),
        .testTarget(
            name: "KVSMetricsTests",
            dependencies: [
                "KVSMetrics", "KVS", "KVSTestSupport", metricsTestKit, serviceLifecycle, serviceLifecycleTestKit,
                logging,
            ]
        ),
        .testTarget(
            name: "RESPTests",
            dependencies: ["RESP", "KVSTestSupport", "KVSNetworkTestSupport", nioCore, nioEmbedded, nioTestUtils]
        ),
        .testTarget(
            name: "KVSServerTests",
            dependencies: [
                "KVSServer", "KVS", "RESP", "KVSTestSupport", "KVSNetworkTestSupport",
                nioCore, nioEmbedded, logging, serviceLifecycle,
            ]
        ),
        .testTarget(
            name: "KVSRedisTests",
            dependencies: [
                "KVSRedis", "KVS", "RESP", "KVSTestSupport", "KVSNetworkTestSupport",
                nioCore, nioEmbedded, nioPosix, logging, serviceLifecycle,
            ]
        ),
        .testTarget(
            name: "ExamplesTests",
            dependencies: [
                "CrawlAndStore", "MultiThread", "ConsistentHashing", "ScaleOut", "WebCache", "KVS", "KVSRedis",
                "KVSTestSupport", "KVSNetworkTestSupport", nioCore, nioPosix, nioHTTP1,
            ]
        ),
    ]
)
