import KVS
import NIOCore
import RESP
import Testing

@testable import KVSRedis

/// Parsing what cluster nodes say about the topology, without a cluster: `CLUSTER SHARDS`,
/// `CLUSTER SLOTS` and the redirect replies, including the endpoint rules of the specification.
@Suite("Cluster slot map and redirects")
struct ClusterSlotMapTests {

    /// One node of a `CLUSTER SHARDS` reply, as RESP2 sends it (a flat field list).
    private func node(
        port: Int,
        role: String,
        endpoint: String = "127.0.0.1",
        ip: String = "127.0.0.1",
        health: String = "online"
    )
        -> RESPValue
    {
        .array([
            .bulk("id"), .bulk("id\(port)"), .bulk("port"), .integer(Int64(port)), .bulk("ip"), .bulk(ip),
            .bulk("endpoint"), .bulk(endpoint), .bulk("role"), .bulk(role), .bulk("replication-offset"), .integer(14),
            .bulk("health"), .bulk(health),
        ])
    }

    @Test("CLUSTER SHARDS (RESP2 field lists): primaries per range, replicas known, several ranges per shard")
    func shards() throws {
        let reply = RESPValue.array([
            .array([
                .bulk("slots"), .array([.integer(0), .integer(5460), .integer(10923), .integer(10923)]),
                .bulk("nodes"), .array([node(port: 7004, role: "replica"), node(port: 7001, role: "master")]),
            ]),
            .array([
                .bulk("slots"), .array([.bulk("5461"), .bulk("10922")]),  // numbers as strings are accepted
                .bulk("nodes"), .array([node(port: 7002, role: "master")]),
            ]),
            // A shard with no slots (a primary being added) and one with no primary are left out.
            .array([.bulk("slots"), .array([]), .bulk("nodes"), .array([node(port: 7003, role: "master")])]),
            .array([
                .bulk("slots"), .array([.integer(10924), .integer(16383)]),
                .bulk("nodes"), .array([node(port: 7005, role: "replica", health: "failed")]),
            ]),
        ])
        let map = try ClusterSlotMap.parseShards(reply, askedHost: "seed")
        #expect(
            map.ranges == [
                .init(slots: 0...5460, primary: RedisEndpoint(host: "127.0.0.1", port: 7001)),
                .init(slots: 10923...10923, primary: RedisEndpoint(host: "127.0.0.1", port: 7001)),
                .init(slots: 5461...10922, primary: RedisEndpoint(host: "127.0.0.1", port: 7002)),
            ]
        )
        #expect(map.coveredSlots == 5461 + 1 + 5462)
        #expect(Set(map.nodes.map(\.port)) == [7001, 7002, 7003, 7004])  // the failed replica is not asked
    }

    @Test("CLUSTER SHARDS as a RESP3 map; an online primary wins over a failed one")
    func shardsRESP3() throws {
        func map(_ pairs: [(String, RESPValue)]) -> RESPValue { .map(pairs.map { (key: .bulk($0.0), value: $0.1) }) }
        let failed = map([
            ("port", .integer(7001)), ("ip", .bulk("10.0.0.1")), ("endpoint", .bulk("10.0.0.1")),
            ("role", .bulk("master")), ("health", .bulk("failed")),
        ])
        let online = map([
            ("port", .integer(7004)), ("ip", .bulk("10.0.0.4")), ("endpoint", .bulk("10.0.0.4")),
            ("role", .bulk("master")), ("health", .bulk("online")),
        ])
        let reply = RESPValue.array([
            map([("slots", .array([.integer(0), .integer(16383)])), ("nodes", .array([failed, online]))])
        ])
        let parsed = try ClusterSlotMap.parseShards(reply, askedHost: "seed")
        #expect(parsed.ranges == [.init(slots: 0...16383, primary: RedisEndpoint(host: "10.0.0.4", port: 7004))])
    }

    @Test("endpoints: preferred endpoint; empty means the asked host; '?' falls back to the IP")
    func endpoints() {
        #expect(ClusterSlotMap.host(endpoint: "redis-1.example", ip: "10.0.0.1", asked: "seed") == "redis-1.example")
        #expect(ClusterSlotMap.host(endpoint: "", ip: "10.0.0.1", asked: "seed") == "seed")
        #expect(ClusterSlotMap.host(endpoint: nil, ip: "10.0.0.1", asked: "seed") == "seed")
        #expect(ClusterSlotMap.host(endpoint: "?", ip: "10.0.0.1", asked: "seed") == "10.0.0.1")
        #expect(ClusterSlotMap.host(endpoint: "?", ip: "", asked: "seed") == "seed")
    }

    @Test("CLUSTER SLOTS: a NULL host is the asked host; replicas are known nodes")
    func slots() throws {
        let reply = RESPValue.array([
            .array([
                .integer(0), .integer(8191),
                .array([.nullBulkString, .integer(7001), .bulk("id1")]),
                .array([.bulk("10.0.0.4"), .integer(7004), .bulk("id4")]),
            ]),
            .array([
                .integer(8192), .integer(16383), .array([.bulk("10.0.0.2"), .integer(7002), .bulk("id2"), .array([])]),
            ]),
        ])
        let map = try ClusterSlotMap.parseSlots(reply, askedHost: "seed")
        #expect(
            map.ranges == [
                .init(slots: 0...8191, primary: RedisEndpoint(host: "seed", port: 7001)),
                .init(slots: 8192...16383, primary: RedisEndpoint(host: "10.0.0.2", port: 7002)),
            ]
        )
        #expect(map.nodes.contains(RedisEndpoint(host: "10.0.0.4", port: 7004)))
    }

    @Test("malformed topology replies are .protocolError, never a crash")
    func malformed() {
        let bad: [RESPValue] = [
            .integer(1),
            .array([.integer(1)]),
            .array([.array([.bulk("slots"), .array([.integer(0)]), .bulk("nodes"), .array([])])]),  // odd slot list
            .array([
                .array([
                    .bulk("slots"), .array([.integer(5), .integer(1)]), .bulk("nodes"),
                    .array([node(port: 1, role: "master")]),
                ])
            ]),
            .array([
                .array([
                    .bulk("slots"), .array([.integer(0), .integer(16384)]), .bulk("nodes"),
                    .array([node(port: 1, role: "master")]),
                ])
            ]),
        ]
        for reply in bad {
            #expect(throws: KVSError.self) { try ClusterSlotMap.parseShards(reply, askedHost: "h") }
            #expect(throws: KVSError.self) { try ClusterSlotMap.parseSlots(reply, askedHost: "h") }
        }
        // A port out of range is skipped rather than used.
        let huge = RESPValue.array([
            .array([
                .bulk("slots"), .array([.integer(0), .integer(10)]), .bulk("nodes"),
                .array([node(port: 70000, role: "master")]),
            ])
        ])
        #expect((try? ClusterSlotMap.parseShards(huge, askedHost: "h"))?.ranges.isEmpty == true)
    }

    @Test("MOVED, ASK, TRYAGAIN and CLUSTERDOWN replies; an empty host means the node that replied")
    func redirects() {
        let node = RedisEndpoint(host: "10.0.0.9", port: 7009)
        #expect(
            ClusterRedirect(message: "MOVED 3999 127.0.0.1:6381", from: node)
                == .moved(slot: 3999, to: .init(host: "127.0.0.1", port: 6381))
        )
        #expect(
            ClusterRedirect(message: "ASK 3999 127.0.0.1:6381", from: node)
                == .ask(slot: 3999, to: .init(host: "127.0.0.1", port: 6381))
        )
        #expect(
            ClusterRedirect(message: "MOVED 3999 :6380", from: node)
                == .moved(slot: 3999, to: .init(host: "10.0.0.9", port: 6380))
        )
        #expect(
            ClusterRedirect(message: "MOVED 1 ::1:7000", from: node)
                == .moved(slot: 1, to: .init(host: "::1", port: 7000))
        )
        #expect(
            ClusterRedirect(message: "MOVED 1 [::1]:7000", from: node)
                == .moved(slot: 1, to: .init(host: "::1", port: 7000))
        )
        #expect(
            ClusterRedirect(message: "TRYAGAIN Multiple keys request during rehashing of slot", from: node) == .tryAgain
        )
        #expect(ClusterRedirect(message: "CLUSTERDOWN The cluster is down", from: node) == .clusterDown)
        for message in [
            "ERR wrong", "MOVED", "MOVED x 1.2.3.4:5", "MOVED 16384 h:1", "MOVED 1 h:0", "MOVED 1 h:99999",
            "MOVED 1 nocolon",
        ] {
            #expect(ClusterRedirect(message: message, from: node) == nil, "\(message)")
        }
    }
}
