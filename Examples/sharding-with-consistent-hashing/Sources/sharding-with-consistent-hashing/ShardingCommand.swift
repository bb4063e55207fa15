import ArgumentParser
import ConsistentHashing

/// `sharding-with-consistent-hashing`: a consistent-hash ring as a store's shard function.
@main
struct ShardingCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "sharding-with-consistent-hashing",
        abstract: "Shard a KeyValueStore with a consistent-hash ring and measure it.",
        discussion: """
            Builds a ring of SHARDS × VIRTUAL-NODES points (stable 64-bit FNV-1a hash, keys \
            hashed in Unicode NFC), uses it as the store's custom hash, loads KEYS keys, \
            prints how evenly they spread (min, max, stddev), then prints the fraction of \
            keys that change shard when one shard is added or removed, against modulo hashing.
            """
    )

    @Option(name: .long, help: "Shards in the store and on the ring (at least 2).")
    var shards = 8

    @Option(name: .long, help: "Points per shard on the ring; more points spread keys more evenly.")
    var virtualNodes = 160

    @Option(name: .long, help: "How many keys to load.")
    var keys = 100_000

    func run() throws {
        var configuration = ShardingDemo.Configuration()
        configuration.shardCount = shards
        configuration.virtualNodesPerShard = virtualNodes
        configuration.keyCount = keys
        do {
            print(try ShardingDemo.run(configuration).text)
        } catch let error as ShardingDemo.ConfigurationError {
            throw ValidationError(error.description)
        }
    }
}
