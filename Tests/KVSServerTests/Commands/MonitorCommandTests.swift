import Foundation
import KVSNetworkTestSupport
import RESP
import Testing

@testable import KVSServer

@Suite("MONITOR")
struct MonitorCommandTests {
    /// The part of a monitor line after its timestamp, checking the timestamp's form.
    func body(_ value: RESPValue) -> String {
        guard case .simpleString(let line) = value, let space = line.firstIndex(of: " ") else {
            return "not a line: \(value)"
        }
        let stamp = line[..<space].split(separator: ".")
        guard stamp.count == 2, stamp[1].count == 6, stamp.allSatisfy({ $0.allSatisfy(\.isNumber) }) else {
            return "bad timestamp: \(line)"
        }
        return String(line[line.index(after: space)...])
    }

    @Test func linesAsRedisWritesThem() async throws {
        try await withKVSServer(blocking: true) { _, port in
            let m = try TestClient(port: port)
            let c = try TestClient(port: port)
            let addr = try c.address()
            #expect(try m.call("MONITOR") == OK)
            try c.callBytes([Array("SET".utf8), Array("k\n\"\\".utf8) + [1, 0xC3], Array("v v".utf8)])
            try c.call("CONFIG", "GET", "port")  // administrative: not shown
            try c.call("NOSUCH")  // refused: not shown
            try c.call("AUTH", "secret")
            try c.call("SELECT", "2")
            try c.call("MULTI")
            try c.call("SET", "a", "1")
            try c.call("EXEC")
            #expect(body(try m.read()) == #"[0 \#(addr)] "SET" "k\n\"\\\x01\xc3" "v v""#)
            #expect(body(try m.read()) == #"[0 \#(addr)] "AUTH" "(redacted)""#)
            #expect(body(try m.read()) == #"[2 \#(addr)] "SELECT" "2""#)
            #expect(body(try m.read()) == #"[2 \#(addr)] "MULTI""#)
            #expect(body(try m.read()) == #"[2 \#(addr)] "SET" "a" "1""#)
            #expect(body(try m.read()) == #"[2 \#(addr)] "EXEC""#)
            #expect(
                try c.call("CLIENT", "LIST", "ID", String(try m.call("CLIENT", "ID").text)).text.contains(" flags=O ")
            )
        }
    }

    @Test func resetEndsMonitoringAndReplyOff() async throws {
        try await withKVSServer(blocking: true) { _, port in
            let m = try TestClient(port: port)
            let c = try TestClient(port: port)
            #expect(try m.call("MONITOR") == OK)
            try m.send(TestClient.encode(["CLIENT", "REPLY", "OFF"]))
            #expect(try m.call("RESET") == .simpleString("RESET"), "RESET sets CLIENT REPLY ON first")
            try c.call("SET", "k", "v")
            #expect(!m.hasInput(within: 200), "no line after RESET")
            #expect(!(try c.call("CLIENT", "LIST").text.contains(" flags=O ")))
        }
    }

    @Test func refusedInsideExec() async throws {
        try await withKVSServer(blocking: true) { _, port in
            let c = try TestClient(port: port)
            try c.call("MULTI")
            #expect(try c.call("MONITOR") == .simpleString("QUEUED"))
            #expect(try c.call("EXEC") == .array([err("ERR MONITOR isn't allowed for DENY BLOCKING client")]))
            #expect(try c.call("PING") == .simpleString("PONG"), "not a monitor afterwards")
        }
    }
}
