import Dispatch
import KVSNetworkTestSupport
import RESP
import Testing

@testable import KVSServer

/// Sets changed in place on one connection while others read them whole, move members
/// between them atomically and save a snapshot: every read must see whole writes.
@Suite("Sets under concurrent writes")
struct SetConcurrencyTests {
    @Test func readersSeeWholeWritesWhileWritersChangeSets() async throws {
        try await withKVSServer(blocking: true) { _, port in
            let setup = try TestClient(port: port)
            // Past 512 members: the hashtable encoding, where a copy would be costly.
            for i in 0..<600 { try setup.call("SADD", "s", "a\(i)", "b\(i)") }
            for i in 0..<100 { try setup.call("SADD", "from", "m\(i)") }
            let rounds = 150
            DispatchQueue.concurrentPerform(iterations: 4) { worker in
                do {
                    let c = try TestClient(port: port)
                    for round in 0..<rounds {
                        switch worker {
                        case 0:
                            // One command changes a pair: aN and bN are both in or both out.
                            let n = round % 600
                            if round % 2 == 0 {
                                try c.call("SREM", "s", "a\(n)", "b\(n)")
                            } else {
                                try c.call("SADD", "s", "a\(n - 1)", "b\(n - 1)")
                            }
                        case 1:
                            let members = Set(sortedMembers(try c.call("SMEMBERS", "s")))
                            for n in stride(from: 0, to: 600, by: 7) {
                                #expect(
                                    members.contains("a\(n)") == members.contains("b\(n)"),
                                    "a torn write of pair \(n)"
                                )
                            }
                        case 2:
                            // Members SMOVE moves are neither lost nor doubled: the two sets hold all 100.
                            if round < 100 { try c.call("SMOVE", "from", "to", "m\(round)") }
                            let total =
                                (Int(try c.call("SCARD", "from").text) ?? 0)
                                + (Int(try c.call("SCARD", "to").text) ?? 0)
                            #expect(total == 100)
                        default:
                            if round % 50 == 0 { try c.call("SAVE") }
                            #expect(try c.call("SISMEMBER", "s", "a599") == int(1))
                        }
                    }
                } catch {
                    Issue.record("worker \(worker): \(error)")
                }
            }
            #expect(try setup.call("SCARD", "to") == int(100))
            #expect(try setup.call("EXISTS", "from") == int(0))
            #expect(try setup.call("OBJECT", "ENCODING", "s") == bulk("hashtable"))
        }
    }
}
