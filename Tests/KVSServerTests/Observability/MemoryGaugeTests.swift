import Synchronization
import Testing

@testable import KVSServer

@Suite("MemoryGauge")
struct MemoryGaugeTests {
    @Test func injectedGaugeFeedsInfoMemory() async throws {
        let used = Atomic<Int>(1_000_000)
        try withInProcessServer({
            $0.memoryGauge = MemoryGauge(allocatorName: "test") { used.load(ordering: .relaxed) }
        }) {
            server in
            let c = try server.connect()
            used.store(5_000_000, ordering: .relaxed)
            var memory = Dictionary(infoFields(try c.call("INFO", "memory").text), uniquingKeysWith: { a, _ in a })
            #expect(memory["used_memory"] == "5000000")
            #expect(memory["used_memory_human"] == "4.77M")
            #expect(memory["used_memory_startup"] == "1000000")
            #expect(memory["used_memory_peak"] == "5000000")
            #expect(memory["used_memory_overhead"] == "1000000", "no table holds anything yet")
            #expect(memory["used_memory_dataset"] == "4000000")
            #expect(memory["used_memory_dataset_perc"] == "100.00%")
            #expect(memory["mem_allocator"] == "test")

            // The peak stays when the gauge falls; the dataset never goes below 0.
            used.store(500_000, ordering: .relaxed)
            memory = Dictionary(infoFields(try c.call("INFO", "memory").text), uniquingKeysWith: { a, _ in a })
            #expect(memory["used_memory"] == "500000")
            #expect(memory["used_memory_peak"] == "5000000")
            #expect(memory["used_memory_peak_perc"] == "10.00%")
            #expect(memory["used_memory_dataset"] == "0")

            // The tables of a database with keys count as overhead, not dataset.
            try c.call("SET", "k", "v")
            used.store(3_000_000, ordering: .relaxed)
            memory = Dictionary(infoFields(try c.call("INFO", "memory").text), uniquingKeysWith: { a, _ in a })
            let overhead = Int(memory["used_memory_overhead"] ?? "") ?? 0
            #expect(overhead > 1_000_000)
            #expect(memory["used_memory_dataset"] == String(3_000_000 - overhead))
        }
    }

    @Test func memoryStatsTakesTotalsFromTheGauge() async throws {
        let used = Atomic<Int>(2_000_000)
        try withInProcessServer({ $0.memoryGauge = MemoryGauge { used.load(ordering: .relaxed) } }) { server in
            let c = try server.connect()
            used.store(7_000_000, ordering: .relaxed)
            try c.call("SET", "a", "1")
            let flat = try c.call("MEMORY", "STATS").elements ?? []
            var fields: [String: Int] = [:]
            for i in stride(from: 0, to: flat.count - 1, by: 2) {
                if let value = flat[i + 1].intValue { fields[flat[i].text] = Int(value) }
            }
            #expect(fields["total.allocated"] == 7_000_000)
            #expect(fields["peak.allocated"] == 7_000_000)
            #expect(fields["startup.allocated"] == 2_000_000)
            let overhead = fields["overhead.total"] ?? 0
            #expect(overhead > 2_000_000)
            #expect(fields["dataset.bytes"] == 7_000_000 - overhead)
            #expect(fields["keys.bytes-per-key"] == 5_000_000)
        }
    }

    @Test func serverMemoryRecordsStartupAndPeak() {
        let used = Atomic<Int>(100)
        let memory = ServerMemory(gauge: MemoryGauge { used.load(ordering: .relaxed) })
        #expect(memory.startupBytes == 100)
        #expect(memory.peakBytes == 100)
        used.store(300, ordering: .relaxed)
        #expect(memory.usedBytes() == 300)
        used.store(-5, ordering: .relaxed)
        #expect(memory.usedBytes() == 0, "a negative figure reads as 0")
        #expect(memory.peakBytes == 300)
        #expect(memory.gauge.allocatorName == "libc")
    }

    @Test func mallinfoIsReadAtMostOncePerMaxAge() {
        let now = Atomic<Int>(1_000_000_000)
        let heap = Atomic<Int>(10)
        let cache = MallinfoCache(maxAgeNanoseconds: 1_000_000, clock: { now.load(ordering: .relaxed) }) {
            heap.load(ordering: .relaxed)
        }
        #expect(cache.allocatedBytes() == 10)
        heap.store(20, ordering: .relaxed)
        now.add(999_999, ordering: .relaxed)
        #expect(cache.allocatedBytes() == 10, "within a millisecond the cached figure answers")
        #expect(cache.refreshes.load(ordering: .relaxed) == 1)
        now.add(1, ordering: .relaxed)
        #expect(cache.allocatedBytes() == 20)
        #expect(cache.refreshes.load(ordering: .relaxed) == 2)
    }

    @Test func defaultGaugeIsMallinfo() {
        let configuration = ServerConfiguration()
        #expect(configuration.memoryGauge.allocatorName == "libc")
        // ThreadSanitizer replaces the allocator, and its mallinfo2 reports nothing.
        if !MemoryCommandsTests.underThreadSanitizer { #expect(configuration.memoryGauge.usedBytes() > 0) }
    }
}
