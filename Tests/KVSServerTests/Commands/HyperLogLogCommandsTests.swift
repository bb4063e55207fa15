import NIOCore
import RESP
import Testing

@testable import KVSServer

@Suite("HyperLogLog commands")
struct HyperLogLogCommandsTests {
    static let notValid = err("WRONGTYPE Key is not a valid HyperLogLog string value.")
    static let corrupt = err("INVALIDOBJ Corrupted HLL object detected")

    /// The bytes of the string at `key`.
    func bytes(_ c: any RESPTestClient, _ key: String) throws -> [UInt8] {
        guard case .bulkString(let buffer) = try c.call("GET", key) else { return [] }
        return Array(buffer.readableBytesView)
    }

    @Test func addAndCountAsRedis() throws {
        try withInProcessServer { server in
            let c = try server.connect()
            #expect(try c.call("PFADD", "s", "a", "b", "c") == int(1))
            #expect(try c.call("PFADD", "s", "a") == int(0))
            // Redis's sparse bytes, with the cache marked stale until PFCOUNT fills it.
            let header: [UInt8] = Array("HYLL".utf8) + [1, 0, 0, 0]
            let runs: [UInt8] = [0x60, 0xF3, 0x80, 0x50, 0xB1, 0x84, 0x4B, 0xFB, 0x80, 0x42, 0x5A]
            #expect(try bytes(c, "s") == header + [0, 0, 0, 0, 0, 0, 0, 0x80] + runs)
            #expect(try c.call("PFCOUNT", "s") == int(3))
            #expect(try bytes(c, "s") == header + [3, 0, 0, 0, 0, 0, 0, 0] + runs)
            #expect(try c.call("PFADD", "t", "c", "d") == int(1))
            #expect(try c.call("PFCOUNT", "s", "t") == int(4))
            #expect(try c.call("PFCOUNT", "missing") == int(0))
            #expect(try c.call("PFCOUNT", "missing", "other") == int(0))
            // A new key with no element is an empty HyperLogLog: one XZERO run (its cache
            // marked stale, as Redis marks it after any PFADD that changes the key).
            #expect(try c.call("PFADD", "e") == int(1))
            #expect(try bytes(c, "e") == header + [0, 0, 0, 0, 0, 0, 0, 0x80] + [0x7F, 0xFF])
            #expect(try c.call("PFADD", "e") == int(0))
        }
    }

    /// 100,000 distinct elements: the count Redis gives for the same input (so the hash,
    /// the sparse-to-dense switch and the estimator are Redis's), within three standard
    /// errors (3 × 0.81%) of the truth.
    @Test func errorBoundAndRedisCount() throws {
        try withInProcessServer { server in
            let c = try server.connect()
            for start in stride(from: 0, to: 100_000, by: 1_000) {
                #expect(try c.call(["PFADD", "big"] + (start..<start + 1_000).map { String($0) }) != err(""))
            }
            #expect(try c.call("STRLEN", "big") == int(Int64(HyperLogLog.denseSize)))
            let count = try c.call("PFCOUNT", "big")
            #expect(count == int(99_565))
            if case .integer(let n) = count { #expect(abs(Double(n) - 100_000) <= 100_000 * 0.0081 * 3) }
            #expect(try c.call(["PFADD", "u"] + (0..<1_000).map { String($0) }) == int(1))
            #expect(try c.call("PFCOUNT", "u") == int(1_001))
            #expect(try c.call("STRLEN", "u") == int(1_923))
            #expect(try c.call(["PFADD", "w"] + (0..<200).map { String($0) }) == int(1))
            #expect(try c.call("PFCOUNT", "w") == int(201))
            #expect(try c.call("STRLEN", "w") == int(507))
        }
    }

    /// `hll-sparse-max-bytes` bounds the sparse representation: past it, PFADD and PFMERGE
    /// turn a sketch dense (12,304 bytes). The lengths are Redis 7.0.15's for the same adds.
    @Test func sparseMaxBytesPromotesEarly() throws {
        try withInProcessServer { server in
            let c = try server.connect()
            #expect(
                try c.call("CONFIG", "GET", "hll-sparse-max-bytes")
                    == .array([bulk("hll-sparse-max-bytes"), bulk("3000")])
            )
            let refusal = "ERR CONFIG SET failed (possibly related to argument 'hll-sparse-max-bytes') - "
            #expect(
                try c.call("CONFIG", "SET", "hll-sparse-max-bytes", "-1")
                    == err(refusal + "argument must be a memory value")
            )
            #expect(
                try c.call("CONFIG", "SET", "hll-sparse-max-bytes", "abc")
                    == err(refusal + "argument must be a memory value")
            )
            #expect(
                try c.call("CONFIG", "SET", "hll-sparse-max-bytes", "9223372036854775808")
                    == err(refusal + "argument must be between 0 and 9223372036854775807 inclusive")
            )
            #expect(try c.call("CONFIG", "SET", "hll-sparse-max-bytes", "1kb") == OK)
            #expect(
                try c.call("CONFIG", "GET", "hll-sparse-max-bytes")
                    == .array([bulk("hll-sparse-max-bytes"), bulk("1024")])
            )
            // At the default, 30 elements stay sparse.
            #expect(try c.call("CONFIG", "SET", "hll-sparse-max-bytes", "3000") == OK)
            for i in 1...30 { _ = try c.call("PFADD", "roomy", "e\(i)") }
            #expect(try c.call("STRLEN", "roomy") == int(102))
            // At 100 bytes, the 29th turns it dense.
            #expect(try c.call("CONFIG", "SET", "hll-sparse-max-bytes", "100") == OK)
            var lengths: [Int64] = []
            for i in 1...30 {
                _ = try c.call("PFADD", "h", "e\(i)")
                if case .integer(let n) = try c.call("STRLEN", "h") { lengths.append(n) }
            }
            #expect(
                lengths == [
                    21, 24, 27, 30, 33, 36, 39, 42, 45, 48, 51, 54, 57, 60, 63, 66, 69, 71, 74, 77, 80, 83, 86, 88, 90,
                    93, 96, 98, 12304, 12304,
                ]
            )
            #expect(try c.call("PFCOUNT", "h") == int(30))
            // At 0, the first element does, and PFMERGE into a sparse destination too.
            #expect(try c.call("CONFIG", "SET", "hll-sparse-max-bytes", "3000") == OK)
            #expect(try c.call("PFADD", "small", "a", "b", "c") == int(1))
            #expect(try c.call("PFADD", "other", "d", "e", "f") == int(1))
            #expect(try c.call("CONFIG", "SET", "hll-sparse-max-bytes", "0") == OK)
            #expect(try c.call("PFADD", "one", "x") == int(1))
            #expect(try c.call("STRLEN", "one") == int(12304))
            // A merge that raises no register leaves it sparse; one that does turns it dense.
            #expect(try c.call("PFMERGE", "small", "small") == OK)
            #expect(try c.call("STRLEN", "small") == int(27))
            #expect(try c.call("PFMERGE", "small", "other") == OK)
            #expect(try c.call("STRLEN", "small") == int(12304))
            #expect(try c.call("PFCOUNT", "small") == int(6))
        }
    }

    @Test func merge() throws {
        try withInProcessServer { server in
            let c = try server.connect()
            #expect(try c.call("PFADD", "a", "1", "2", "3") == int(1))
            #expect(try c.call("PFADD", "b", "3", "4") == int(1))
            #expect(try c.call("PFMERGE", "m", "a", "b") == OK)
            #expect(try c.call("PFCOUNT", "m") == int(4))
            // The destination is a source too.
            #expect(try c.call("PFMERGE", "m", "missing") == OK)
            #expect(try c.call("PFCOUNT", "m") == int(4))
            // No source at all: an empty HyperLogLog, its cache marked stale as in Redis.
            #expect(try c.call("PFMERGE", "n") == OK)
            #expect(try bytes(c, "n") == Array("HYLL".utf8) + [1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x80, 0x7F, 0xFF])
            // A dense source makes the destination dense.
            #expect(try c.call(["PFADD", "d"] + (0..<5_000).map { String($0) }) == int(1))
            #expect(try c.call("PFMERGE", "m", "d") == OK)
            #expect(try c.call("STRLEN", "m") == int(Int64(HyperLogLog.denseSize)))
            #expect(try c.call("PFCOUNT", "m") == (try c.call("PFCOUNT", "d", "a", "b")))
        }
    }

    @Test func wrongTypes() throws {
        try withInProcessServer { server in
            let c = try server.connect()
            #expect(try c.call("SET", "s", "foobar") == OK)
            #expect(try c.call("HSET", "h", "f", "v") == int(1))
            #expect(try c.call("PFADD", "s", "a") == Self.notValid)
            #expect(try c.call("PFCOUNT", "s") == Self.notValid)
            #expect(try c.call("PFCOUNT", "missing", "s") == Self.notValid)
            #expect(try c.call("PFMERGE", "s") == Self.notValid)
            #expect(try c.call("PFMERGE", "d", "s") == Self.notValid)
            #expect(try c.call("EXISTS", "d") == int(0))
            #expect(try c.call("PFADD", "h", "a") == err(CommandError.wrongType.message))
            #expect(try c.call("PFCOUNT", "h") == err(CommandError.wrongType.message))
            // A dense header with the wrong length is not a HyperLogLog.
            #expect(
                try c.callBytes([
                    Array("SET".utf8), Array("x".utf8), Array("HYLL".utf8) + [0] + [UInt8](repeating: 0, count: 20),
                ]) == OK
            )
            #expect(try c.call("PFCOUNT", "x") == Self.notValid)
        }
    }

    @Test func corruptSparseRuns() throws {
        try withInProcessServer { server in
            let c = try server.connect()
            let header: [UInt8] = Array("HYLL".utf8) + [1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x80]
            // Runs covering too few registers, too many, and one VAL run past the last one.
            for runs: [UInt8] in [[0x7F], [0x7F, 0xFF, 0x7F, 0xFF], [0x7F, 0xFE, 0x83], [0x7F]] {
                #expect(try c.callBytes([Array("SET".utf8), Array("x".utf8), header + runs]) == OK)
                #expect(try c.call("PFCOUNT", "x") == Self.corrupt)
                #expect(try c.call("PFCOUNT", "x", "missing") == Self.corrupt)
                #expect(try c.call("PFMERGE", "y", "x") == Self.corrupt)
            }
            #expect(try c.callBytes([Array("SET".utf8), Array("x".utf8), header]) == OK)
            #expect(try c.call("PFADD", "x", "a") == Self.corrupt)
        }
    }

    /// Random bytes behind a HyperLogLog header, and random mutations of real ones: every
    /// command answers (a count, OK or an error) and the server stays up.
    @Test func randomBytesNeverCrash() throws {
        try withInProcessServer { server in
            let c = try server.connect()
            var rng = SystemRandomNumberGenerator()
            #expect(try c.call(["PFADD", "seed"] + (0..<300).map { String($0) }) == int(1))
            let seed = try bytes(c, "seed")
            for round in 0..<400 {
                var value: [UInt8]
                switch round % 4 {
                case 0:
                    value = Array("HYLL".utf8) + [UInt8.random(in: 0...1, using: &rng)]
                    value += (0..<Int.random(in: 0..<64, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng)
                    }
                case 1:
                    value = seed
                    for _ in 0..<3 {
                        value[Int.random(in: 16..<value.count, using: &rng)] = UInt8.random(in: 0...255, using: &rng)
                    }
                case 2:
                    value = Array(seed.prefix(Int.random(in: 0...seed.count, using: &rng)))
                default:
                    value =
                        seed
                        + (0..<Int.random(in: 1...8, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) }
                }
                #expect(try c.callBytes([Array("SET".utf8), Array("x".utf8), value]) == OK)
                _ = try c.call("PFCOUNT", "x")
                _ = try c.call("PFADD", "x", "a\(round)", "b\(round)")
                _ = try c.call("PFCOUNT", "x", "seed")
                _ = try c.call("PFMERGE", "y", "x")
            }
            #expect(try c.call("PING") == .simpleString("PONG"))
        }
    }

    @Test func countWritesTheCacheAndWatchSeesIt() throws {
        try withInProcessServer { server in
            let a = try server.connect()
            let b = try server.connect()
            #expect(try a.call("PFADD", "h", "x") == int(1))
            #expect(try a.call("WATCH", "h") == OK)
            #expect(try b.call("PFCOUNT", "h") == int(1))  // fills the cache: a write, as in Redis
            #expect(try a.call("MULTI") == OK)
            #expect(try a.call("PFCOUNT", "h") == .simpleString("QUEUED"))
            #expect(try a.call("EXEC") == .nullArray)
            #expect(try a.call("WATCH", "h") == OK)
            #expect(try b.call("PFCOUNT", "h") == int(1))  // cached now: no write
            #expect(try b.call("PFADD", "h", "x") == int(0))
            #expect(try a.call("MULTI") == OK)
            #expect(try a.call("PFCOUNT", "h") == .simpleString("QUEUED"))
            #expect(try a.call("EXEC") == .array([int(1)]))
        }
    }

    @Test func insideMultiAndRESP3() throws {
        try withInProcessServer { server in
            let c = try server.connect()
            _ = try c.call("HELLO", "3")
            #expect(try c.call("MULTI") == OK)
            #expect(try c.call("PFADD", "p", "a", "b") == .simpleString("QUEUED"))
            #expect(try c.call("PFADD", "q", "b", "c") == .simpleString("QUEUED"))
            #expect(try c.call("PFMERGE", "r", "p", "q") == .simpleString("QUEUED"))
            #expect(try c.call("PFCOUNT", "r") == .simpleString("QUEUED"))
            #expect(try c.call("PFCOUNT", "p", "q") == .simpleString("QUEUED"))
            #expect(try c.call("EXEC") == .array([int(1), int(1), OK, int(3), int(3)]))
        }
    }
}
