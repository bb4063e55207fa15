import Dispatch
import KVSNetworkTestSupport
import RESP
import Testing

@testable import KVSServer

/// Hashes changed in place on one event loop while other connections read them whole (a
/// reference taken under the shard lock, encoded after it) and a snapshot is saved: every
/// read must see one write's result entire.
@Suite("Hashes under concurrent writes")
struct HashConcurrencyTests {
    @Test func readersSeeWholeWritesWhileAWriterChangesInPlace() async throws {
        try await withKVSServer(blocking: true) { _, port in
            let setup = try TestClient(port: port)
            // Past 512 fields: the hashtable encoding, where a copy would be costly.
            for i in 0..<600 { try setup.call("HSET", "h", "a\(i)", "0", "b\(i)", "0") }
            let rounds = 150
            DispatchQueue.concurrentPerform(iterations: 3) { worker in
                do {
                    let c = try TestClient(port: port)
                    for round in 0..<rounds {
                        switch worker {
                        case 0:
                            // One command writes a pair: aN and bN always hold the same value.
                            let n = round % 600
                            try c.call("HSET", "h", "a\(n)", "\(round)", "b\(n)", "\(round)")
                        case 1:
                            let pairs = sortedPairs(try c.call("HGETALL", "h"))
                            #expect(pairs.count == 1200)
                            var values: [String: String] = [:]
                            for pair in pairs {
                                let parts = pair.split(separator: "=", maxSplits: 1).map(String.init)
                                values[parts[0]] = parts[1]
                            }
                            for n in stride(from: 0, to: 600, by: 37) {
                                #expect(values["a\(n)"] == values["b\(n)"], "a torn write of pair \(n)")
                            }
                        default:
                            if round % 50 == 0 { try c.call("SAVE") }
                            let a = try c.call("HGET", "h", "a7").text
                            #expect(!a.isEmpty)
                        }
                    }
                } catch {
                    Issue.record("worker \(worker): \(error)")
                }
            }
            #expect(try setup.call("HLEN", "h") == int(1200))
            #expect(try setup.call("OBJECT", "ENCODING", "h") == bulk("hashtable"))
        }
    }
}
