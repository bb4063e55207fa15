#if os(Linux)
import Dispatch
import KVS
import KVSTestSupport
import Testing

@Suite("TableMemory: huge-page pools for the tables' slots")
struct TableMemoryTests {
    /// Blocks of one size never overlap, hold what is written to them, and are 4 KiB
    /// aligned; once all are given back, every chunk is unmapped.
    @Test func blocksAreDistinctAndChunksGoBackWhenEmpty() throws {
        let pools = TableMemory.Pools()
        let size = 192 << 10  // 6,144 slots of 32 bytes: 32 to a 6 MiB chunk
        var blocks: [UnsafeMutableRawPointer] = []
        for i in 0..<70 {  // three chunks, the last partly used
            let block = try #require(pools.allocate(byteCount: size))
            #expect(UInt(bitPattern: block) % 4096 == 0)
            block.storeBytes(of: UInt64(i), as: UInt64.self)
            block.storeBytes(of: UInt64(i), toByteOffset: size - 8, as: UInt64.self)
            blocks.append(block)
        }
        #expect(Set(blocks).count == blocks.count)
        let sorted = blocks.map { UInt(bitPattern: $0) }.sorted()
        for (a, b) in zip(sorted, sorted.dropFirst()) { #expect(b - a >= UInt(size), "blocks overlap") }
        for (i, block) in blocks.enumerated() {
            #expect(block.load(as: UInt64.self) == UInt64(i))
            #expect(block.load(fromByteOffset: size - 8, as: UInt64.self) == UInt64(i))
        }
        #expect(pools.bytes.inUse == 70 * size)
        #expect(pools.bytes.mapped == 3 * 3 * TableMemory.hugePageSize)  // three chunks of 6 MiB
        for block in blocks { #expect(pools.contains(block)) }

        // Give back every other block: the chunks stay, and the freed blocks are reused
        // before any new chunk is mapped.
        for block in blocks.enumerated().filter({ $0.offset % 2 == 0 }).map(\.element) {
            #expect(pools.deallocate(block, byteCount: size))
        }
        #expect(pools.bytes.inUse == 35 * size)
        let mappedBefore = pools.bytes.mapped
        var again: [UnsafeMutableRawPointer] = []
        for _ in 0..<35 { again.append(try #require(pools.allocate(byteCount: size))) }
        #expect(pools.bytes.mapped == mappedBefore)
        #expect(Set(again).isDisjoint(with: blocks.enumerated().filter { $0.offset % 2 == 1 }.map(\.element)))

        for block in again + blocks.enumerated().filter({ $0.offset % 2 == 1 }).map(\.element) {
            #expect(pools.deallocate(block, byteCount: size))
        }
        #expect(pools.bytes.inUse == 0)
        #expect(pools.bytes.mapped == 0)
    }

    /// Threads allocating and freeing blocks of two sizes at once never get the same
    /// memory: each fills its blocks with its own pattern and finds it intact before
    /// freeing them. Runs under ThreadSanitizer in `.ci/run`.
    @Test(.dedicatedThread) func concurrentUseKeepsBlocksApart() {
        let pools = TableMemory.Pools()
        let sizes = [64 << 10, 96 << 10]
        let intact = Locked(true)
        DispatchQueue.concurrentPerform(iterations: 4) { thread in
            var held: [(UnsafeMutableRawPointer, Int)] = []
            for round in 0..<200 {
                let size = sizes[(round + thread) % 2]
                guard let block = pools.allocate(byteCount: size) else { continue }
                let words = block.bindMemory(to: UInt64.self, capacity: size / 8)
                let mark = UInt64(thread) << 32 | UInt64(round)
                for i in stride(from: 0, to: size / 8, by: 512) { words[i] = mark }
                held.append((block, size))
                if held.count > 6 {
                    let (old, oldSize) = held.removeFirst()
                    let oldWords = old.assumingMemoryBound(to: UInt64.self)
                    let oldMark = oldWords[0]
                    for i in stride(from: 0, to: oldSize / 8, by: 512) where oldWords[i] != oldMark || oldMark >> 32 != UInt64(thread) {
                        intact.withLock { $0 = false }
                    }
                    _ = pools.deallocate(old, byteCount: oldSize)
                }
            }
            for (block, size) in held { _ = pools.deallocate(block, byteCount: size) }
        }
        #expect(intact.withLock { $0 })
        #expect(pools.bytes.inUse == 0)
        #expect(pools.bytes.mapped == 0)
    }

    /// A pointer the pools did not hand out is not theirs to free.
    @Test func foreignPointersAreRefused() {
        let pools = TableMemory.Pools()
        let foreign = UnsafeMutableRawPointer.allocate(byteCount: 128 << 10, alignment: 16)
        defer { foreign.deallocate() }
        #expect(!pools.contains(foreign))
        #expect(!pools.deallocate(foreign, byteCount: 128 << 10))
    }

    /// The chunk size leaves little unused: whole blocks where the sizes allow.
    @Test func chunkShapesWasteLittle() {
        let huge = TableMemory.hugePageSize
        #expect(TableMemory.Pool.chunkShape(blockSize: 64 << 10) == (1, 32))
        #expect(TableMemory.Pool.chunkShape(blockSize: 192 << 10) == (3, 32))
        #expect(TableMemory.Pool.chunkShape(blockSize: 3 << 20) == (3, 2))
        #expect(TableMemory.Pool.chunkShape(blockSize: 144 << 10) == (9, 128))  // 6,144 slots of 24 bytes
        // Every block size a pool can have up to 8 MiB leaves at most 1/16 of its chunk
        // unused (5.5% at worst, by the search over chunk sizes).
        for size in stride(from: 64 << 10, through: 8 << 20, by: 4096) {
            let (pages, blocks) = TableMemory.Pool.chunkShape(blockSize: size)
            #expect(blocks >= 1)
            #expect(blocks * size <= pages * huge)
            #expect((pages * huge - blocks * size) * 16 <= pages * huge, "\(size)")
        }
    }

    /// A table big enough to be pooled keeps its entries through growth, copy-on-write
    /// copies and removals, and its slots lie in the process's pools.
    @Test func largeTablesLiveInThePools() {
        var table = ShardTable<String, Int>()
        for i in 0..<10_000 { table.updateValue(Entry(value: i, expiresAt: 0), forKey: "key:\(i)") }
        #expect(table.capacity * MemoryLayout<(String, Int)>.stride >= TableMemory.pooledMinimum)  // a slot: key and value
        #expect(TableMemory.isPooled(table.slotsAddress))
        let copy = table
        for i in stride(from: 0, to: 10_000, by: 2) { table.removeValue(forKey: "key:\(i)") }
        #expect(table.count == 5_000)
        #expect(copy.count == 10_000)
        for i in 0..<10_000 {
            #expect(copy["key:\(i)"]?.value == i)
            #expect(table["key:\(i)"]?.value == (i % 2 == 1 ? i : nil))
        }
    }
}
#endif
