import Foundation
import NIOCore
import RESP
import Testing

@testable import KVS
@testable import KVSServer

/// MEMORY; the errors and field names are those of redis-server 7.0.15.
@Suite("MEMORY")
struct MemoryCommandsTests {
    /// Whether this process runs under ThreadSanitizer (its runtime defines `__tsan_init`).
    static let underThreadSanitizer = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "__tsan_init") != nil

    @Test func usageCountsTheKeysLayout() async throws {
        try withInProcessServer { server in
            let c = try server.connect()
            // A slot (the inline key and the value reference and stamp) and its tag byte, and
            // the value's block: a 24-byte header and 5 bytes, a 48-byte malloc chunk.
            #expect(MemoryCommands.slotBytes == 41)
            try c.call("SET", "a", "hello")
            #expect(try c.call("MEMORY", "USAGE", "a") == int(41 + 48))
            // A longer value takes a larger block.
            try c.call("SET", "a", String(repeating: "v", count: 1000))
            #expect(try c.call("MEMORY", "USAGE", "a") == int(41 + Int64(MallocSize.chunk(requesting: 1024))))
            // A key over 22 bytes has its own block; a TTL adds its deadline and index item.
            let long = String(repeating: "k", count: 40)
            try c.call("SET", long, "hello", "EX", "100")
            let expected = 41 + 48 + MallocSize.chunk(requesting: 32 + 40) + 9 + 16
            #expect(try c.call("MEMORY", "USAGE", long) == int(Int64(expected)))
            #expect(try c.call("MEMORY", "USAGE", long, "SAMPLES", "0") == int(Int64(expected)))
            #expect(try c.call("MEMORY", "USAGE", "nokey") == NIL)
        }
    }

    @Test func usageErrors() async throws {
        try withInProcessServer { server in
            let c = try server.connect()
            try c.call("SET", "a", "1")
            #expect(try c.call("MEMORY", "USAGE", "a", "SAMPLES", "-1") == err("ERR syntax error"))
            #expect(
                try c.call("MEMORY", "USAGE", "a", "SAMPLES", "x") == err("ERR value is not an integer or out of range")
            )
            #expect(
                try c.call("MEMORY", "USAGE", "a", "SAMPLES", "99999999999999999999")
                    == err("ERR value is not an integer or out of range")
            )
            #expect(try c.call("MEMORY", "USAGE", "a", "SAMPLES") == err("ERR syntax error"))
            #expect(try c.call("MEMORY", "USAGE", "a", "FOO") == err("ERR syntax error"))
            #expect(try c.call("MEMORY", "USAGE", "nokey", "FOO") == err("ERR syntax error"))  // options first
            #expect(
                try c.call("MEMORY", "USAGE", "a", "SAMPLES", "1", "SAMPLES", "9223372036854775807").intValue != nil
            )
            #expect(try c.call("MEMORY", "USAGE") == err("ERR wrong number of arguments for 'memory|usage' command"))
            #expect(try c.call("MEMORY") == err("ERR wrong number of arguments for 'memory' command"))
            #expect(try c.call("MEMORY", "Foo") == err("ERR unknown subcommand 'Foo'. Try MEMORY HELP."))
            for sub in ["STATS", "DOCTOR", "PURGE", "MALLOC-STATS", "HELP"] {
                #expect(
                    try c.call("MEMORY", sub, "x")
                        == err("ERR wrong number of arguments for 'memory|\(sub.lowercased())' command")
                )
            }
        }
    }

    @Test func statsHasRedisFieldsAndRealFigures() async throws {
        try withInProcessServer { server in
            let c = try server.connect()
            try c.call("SET", "a", "1")
            try c.call("SET", "b", "2", "EX", "100")
            try c.call("SELECT", "2")
            try c.call("SET", "c", "3")
            let reply = try c.call("MEMORY", "STATS")
            guard let flat = reply.elements, flat.count % 2 == 0 else {
                Issue.record("MEMORY STATS in RESP2 should answer a flat array of pairs, got \(reply)")
                return
            }
            let names = stride(from: 0, to: flat.count, by: 2).map { flat[$0].text }
            #expect(
                names == [
                    "peak.allocated", "total.allocated", "startup.allocated", "replication.backlog", "clients.slaves",
                    "clients.normal", "cluster.links", "aof.buffer", "lua.caches", "functions.caches", "db.0", "db.2",
                    "overhead.total", "keys.count", "keys.bytes-per-key", "dataset.bytes", "dataset.percentage",
                    "peak.percentage", "allocator.allocated", "allocator.active", "allocator.resident",
                    "allocator-fragmentation.ratio", "allocator-fragmentation.bytes", "allocator-rss.ratio",
                    "allocator-rss.bytes", "rss-overhead.ratio", "rss-overhead.bytes", "fragmentation",
                    "fragmentation.bytes",
                ]
            )
            var fields: [String: RESPValue] = [:]
            for i in stride(from: 0, to: flat.count, by: 2) { fields[flat[i].text] = flat[i + 1] }
            #expect(fields["keys.count"] == int(3))
            let allocated = fields["total.allocated"]?.intValue ?? 0
            // ThreadSanitizer replaces the allocator, and its mallinfo2 reports nothing.
            if !Self.underThreadSanitizer { #expect(allocated > 0) }
            #expect((fields["peak.allocated"]?.intValue ?? 0) >= allocated)
            #expect(fields["db.0"]?.elements?.count == 6)
            #expect(fields["db.0"]?.elements?[0] == bulk("overhead.hashtable.main"))
            #expect((fields["db.0"]?.elements?[1].intValue ?? 0) > 0)
            #expect(fields["db.0"]?.elements?[3] == int(16))  // one key with a TTL
            #expect(fields["db.2"]?.elements?[3] == int(0))
            // In RESP3 the reply and each database's figures are maps, the ratios doubles.
            try c.call("HELLO", "3")
            let map = try c.call("MEMORY", "STATS")
            #expect(map.pairs?.count == names.count / 1)
            #expect(map.pairs?.first { $0.key == bulk("db.0") }?.value.pairs?.count == 3)
            #expect(map.pairs?.first { $0.key == bulk("fragmentation") }?.value.doubleValue != nil)
        }
    }

    @Test func doctorMallocStatsPurgeAndHelp() async throws {
        try withInProcessServer { server in
            let c = try server.connect()
            let report = try c.call("MEMORY", "DOCTOR").text
            #expect(report.hasPrefix("Hi Sam, ") && report.hasSuffix(".\n"))
            #expect(try c.call("MEMORY", "MALLOC-STATS") == bulk("Stats not supported for the current allocator"))
            #expect(try c.call("MEMORY", "PURGE") == OK)
            let help = try c.call("MEMORY", "HELP")
            #expect(help.elements?.count == 14)
            #expect(
                help.elements?.first == .simpleString("MEMORY <subcommand> [<arg> [value] [opt] ...]. Subcommands are:")
            )
            try c.call("HELLO", "3")
            let doctor = try c.call("MEMORY", "DOCTOR")
            guard case .verbatimString(let format, _) = doctor else {
                Issue.record("MEMORY DOCTOR in RESP3 should be a verbatim string, got \(doctor)")
                return
            }
            #expect(format == "txt")
        }
    }
}
