// swift-tools-version: 6.1
import Foundation
import PackageDescription

/// SwiftPM names a package it reaches by path after its folder, so the root package's name here
/// is whatever the clone's folder is called.
let root = URL(fileURLWithPath: Context.packageDirectory).deletingLastPathComponent()
    .deletingLastPathComponent().lastPathComponent.lowercased()

/// libFuzzer targets for kvs-server's input paths, in a package of their own so that they are
/// no product of the root package and do not take part in its `swift build` / `swift test`:
/// a fuzz target's `main` hands over to libFuzzer's driver, so it links only when built with
/// `-sanitize=fuzzer`. Build and run them with `scripts/fuzz.sh` (see docs/kvs-server.md,
/// "Fuzzing").
let package = Package(
    name: "kvs-fuzz",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(path: "../.."),
        .package(url: "https://github.com/apple/swift-nio", from: "2.81.0"),
    ],
    targets: [
        // libFuzzer's driver, which each target's `main` calls.
        .target(name: "CLibFuzzer"),
        // What both targets share: reading the input's control bytes, chunking, RESP checks.
        .target(
            name: "FuzzSupport",
            dependencies: [
                "CLibFuzzer",
                .product(name: "RESP", package: root),
                .product(name: "NIOCore", package: "swift-nio"),
            ]
        ),
        // The RESP decoder: commands, values, inline commands, the pipeline peek, the encoder.
        .executableTarget(
            name: "fuzz-resp",
            dependencies: [
                "FuzzSupport",
                .product(name: "RESP", package: root),
                .product(name: "NIOCore", package: "swift-nio"),
            ]
        ),
        // Commands run by a connection handler on an in-process server, on EmbeddedChannels.
        .executableTarget(
            name: "fuzz-commands",
            dependencies: [
                "FuzzSupport",
                .product(name: "RESP", package: root),
                .product(name: "KVSServer", package: root),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
            ]
        ),
    ]
)
