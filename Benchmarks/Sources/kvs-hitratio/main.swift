// Replays cache traces through the eviction policies and prints their hit ratios, one global
// policy and one per shard (scripts/bench-hit-ratio.sh, BENCHMARKS.md "Hit ratio against
// Caffeine").
//
// Usage: kvs-hitratio [--sizes 1,5,10,25,50] [--shards 64] [--policies LRU,SIEVE,...] TRACE.gz...
// A trace is gzip'd text, one decimal key a line. Prints one tab-separated line a run:
// trace, capacity, percent of distinct keys, policy, shards, hits, accesses, hit ratio (%).

import Foundation
@_spi(Benchmarks) import KVS

/// A trace with its keys renumbered densely, each key's hash and shard.
struct Trace {
    var accesses: [Int32] = []
    var hashes: [UInt64] = []
    var shards: [UInt8] = []
}

/// SplitMix64's finalizer: the key's 64-bit hash the policies see.
func mix(_ key: UInt64) -> UInt64 {
    var x = key &+ 0x9E37_79B9_7F4A_7C15
    x = (x ^ (x >> 30)) &* 0xBF58_476D_1CE4_E5B9
    x = (x ^ (x >> 27)) &* 0x94D0_49BB_1331_11EB
    return x ^ (x >> 31)
}

func load(_ path: String, shardCount: Int) throws -> Trace {
    let gzip = Process()
    gzip.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    gzip.arguments = ["gzip", "-dc", path]
    let pipe = Pipe()
    gzip.standardOutput = pipe
    try gzip.run()
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    gzip.waitUntilExit()
    var trace = Trace()
    var ids: [UInt64: Int32] = [:]
    var value: UInt64 = 0
    var inNumber = false
    func finish() {
        if let id = ids[value] {
            trace.accesses.append(id)
        } else {
            let id = Int32(trace.hashes.count)
            ids[value] = id
            trace.accesses.append(id)
            trace.hashes.append(mix(value))
            // The store's shard: FNV-1a over the key's text, masked by the shard count.
            trace.shards.append(UInt8(Int(Benchmarking.shardHash(String(value))) % shardCount))
        }
    }
    data.withUnsafeBytes { (bytes: UnsafeRawBufferPointer) in
        for byte in bytes {
            if byte >= 48 && byte <= 57 {
                value = value &* 10 &+ UInt64(byte - 48)
                inNumber = true
            } else if inNumber {
                finish()
                value = 0
                inNumber = false
            }
        }
    }
    if inNumber { finish() }
    return trace
}

var sizes = [1, 5, 10, 25, 50]
var shardCount = 64
var policies = HitRatioReplay.Policy.allCases
var paths: [String] = []
var arguments = CommandLine.arguments.dropFirst()
while let argument = arguments.popFirst() {
    switch argument {
    case "--sizes": sizes = arguments.popFirst()!.split(separator: ",").map { Int($0)! }
    case "--shards": shardCount = Int(arguments.popFirst()!)!
    case "--policies":
        policies = arguments.popFirst()!.split(separator: ",").map { HitRatioReplay.Policy(rawValue: String($0))! }
    default: paths.append(argument)
    }
}
precondition(shardCount >= 1 && shardCount <= 256, "--shards must be in 1...256")

for path in paths {
    let trace = try load(path, shardCount: shardCount)
    let name = URL(fileURLWithPath: path).lastPathComponent.replacingOccurrences(of: ".trace.gz", with: "")
    for percent in sizes {
        let capacity = max(1, trace.hashes.count * percent / 100)
        for shards in Set([1, shardCount]).sorted() {
            for policy in policies {
                let hits = HitRatioReplay.hits(
                    policy: policy,
                    trace: trace.accesses,
                    keyHashes: trace.hashes,
                    keyShards: trace.shards,
                    capacity: capacity,
                    shardCount: shards
                )
                let ratio = 100 * Double(hits) / Double(trace.accesses.count)
                print(
                    [
                        name, "\(capacity)", "\(percent)", policy.rawValue, "\(shards)", "\(hits)",
                        "\(trace.accesses.count)", String(format: "%.2f", ratio),
                    ]
                    .joined(separator: "\t")
                )
            }
        }
    }
}
