// swift-tools-version: 6.2
import Foundation
import PackageDescription

/// SwiftPM names a package it reaches by path after its folder, so the root package's name here
/// is whatever the clone's folder is called.
let root = URL(fileURLWithPath: Context.packageDirectory).deletingLastPathComponent().lastPathComponent.lowercased()

let kvs = Target.Dependency.product(name: "KVS", package: root)
let resp = Target.Dependency.product(name: "RESP", package: root)
let nioCore = Target.Dependency.product(name: "NIOCore", package: "swift-nio")
let nioPosix = Target.Dependency.product(name: "NIOPosix", package: "swift-nio")

/// Warnings in the benchmarks' own sources fail every build of them (CI's smoke run, the
/// scripts): nothing depends on this package, so no user's build can break on a new warning.
let strictSwift: [SwiftSetting] = [.treatAllWarnings(as: .error)]
let strictC: [CSetting] = [.treatAllWarnings(as: .error)]

/// The benchmark programs, in a package of their own so that a package depending on kvs does not
/// see them as products, as swift-nio keeps its benchmarks. Build them in release:
/// `swift build -c release --package-path Benchmarks`; the scripts in `scripts/` do.
let package = Package(
    name: "kvs-benchmarks",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(path: ".."),
        .package(url: "https://github.com/apple/swift-nio", from: "2.81.0"),
    ],
    targets: [
        // The workloads of the reference programs on KeyValueStore (scripts/bench-all.sh).
        .executableTarget(name: "kvs-bench", dependencies: [kvs, "CKVSBenchSupport"], swiftSettings: strictSwift),
        // What Swift lacks for kvs-bench: glibc's heap statistics and malloc_trim.
        .target(name: "CKVSBenchSupport", cSettings: strictC),
        // The RESP decoder's and encoder's throughput.
        .executableTarget(name: "resp-bench", dependencies: [resp, nioCore], swiftSettings: strictSwift),
        // Hit ratios of the eviction policies on cache traces (scripts/bench-hit-ratio.sh).
        .executableTarget(name: "kvs-hitratio", dependencies: [kvs], swiftSettings: strictSwift),
        // SwiftNIO's own cost per request, without parsing or a store (scripts/bench-server-floor.sh).
        .executableTarget(name: "nio-floor-server", dependencies: [nioCore, nioPosix], swiftSettings: strictSwift),
    ]
)
