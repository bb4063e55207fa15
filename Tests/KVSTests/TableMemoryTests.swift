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

        // Give back every fourth block (a quarter of each chunk, too little to drain it):
        // the chunks stay, and the freed blocks are reused before any new chunk is mapped.
        let given = blocks.enumerated().filter { $0.offset % 4 == 0 }.map(\.element)
        let kept = blocks.enumerated().filter { $0.offset % 4 != 0 }.map(\.element)
        for block in given { #expect(pools.deallocate(block, byteCount: size)) }
        #expect(pools.bytes.inUse == kept.count * size)
        #expect(pools.chunks(byteCount: size).allSatisfy { !$0.draining })
        let mappedBefore = pools.bytes.mapped
        var again: [UnsafeMutableRawPointer] = []
        for _ in given.indices { again.append(try #require(pools.allocate(byteCount: size))) }
        #expect(pools.bytes.mapped == mappedBefore)
        #expect(Set(again).isDisjoint(with: kept))

        for block in again + kept {
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
                    for i in stride(from: 0, to: oldSize / 8, by: 512)
                    where oldWords[i] != oldMark || oldMark >> 32 != UInt64(thread) {
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

    /// A chunk starts draining once half of the blocks it handed out are free again and
    /// they add up to a huge page: no new block goes into it (a new chunk is mapped
    /// instead), the drain generation moves, and the chunk is unmapped when its last
    /// block goes.
    @Test func aChunkMostlyGivenBackDrains() throws {
        let pools = TableMemory.Pools()
        let size = 192 << 10  // 32 blocks to a 6 MiB chunk
        let blocks = try allocate(32, of: size, from: pools)
        let even = blocks.enumerated().filter { $0.offset % 2 == 0 }.map(\.element)
        let odd = blocks.enumerated().filter { $0.offset % 2 == 1 }.map(\.element)
        for block in even.dropLast() { #expect(pools.deallocate(block, byteCount: size)) }
        // 15 free against 17 in use: not yet.
        #expect(pools.chunks(byteCount: size).map(\.draining) == [false])
        #expect(!pools.isDraining(odd[0]))
        let generation = TableMemory.drainGeneration.value.load(ordering: .relaxed)
        #expect(pools.deallocate(even[even.count - 1], byteCount: size))
        // 16 free (3 MiB) against 16 in use: draining.
        #expect(pools.chunks(byteCount: size).map(\.draining) == [true])
        #expect(TableMemory.drainGeneration.value.load(ordering: .relaxed) > generation)
        for block in odd { #expect(pools.isDraining(block)) }

        // A new block does not reuse the draining chunk's free blocks: a second chunk.
        let fresh = try #require(pools.allocate(byteCount: size))
        #expect(!pools.isDraining(fresh))
        #expect(!Set(even).contains(fresh))
        #expect(pools.chunks(byteCount: size).map(\.draining) == [true, false])

        // The last block to leave the draining chunk unmaps it.
        for block in odd { #expect(pools.deallocate(block, byteCount: size)) }
        #expect(pools.chunks(byteCount: size).map(\.draining) == [false])
        #expect(pools.bytes.mapped == 3 * TableMemory.hugePageSize)
        #expect(pools.deallocate(fresh, byteCount: size))
        #expect(pools.bytes.mapped == 0)
    }

    /// Freed blocks that add up to less than a huge page never drain a chunk, however
    /// many of its blocks they are: their memory is too little to be worth moving tables.
    @Test func lessThanAHugePageFreeDoesNotDrain() throws {
        let pools = TableMemory.Pools()
        let size = 64 << 10  // 32 blocks to a 2 MiB chunk
        let blocks = try allocate(32, of: size, from: pools)
        for block in blocks.prefix(31) { #expect(pools.deallocate(block, byteCount: size)) }
        #expect(pools.chunks(byteCount: size).map(\.draining) == [false])
        // Its free blocks are reused.
        let again = try #require(pools.allocate(byteCount: size))
        #expect(blocks.prefix(31).contains(again))
        #expect(pools.chunks(byteCount: size).count == 1)
        for block in [again, blocks[31]] { #expect(pools.deallocate(block, byteCount: size)) }
        #expect(pools.bytes.mapped == 0)
    }

    /// `count` blocks of `size` bytes from `pools`.
    private func allocate(_ count: Int, of size: Int, from pools: TableMemory.Pools) throws -> [UnsafeMutableRawPointer]
    {
        try (0..<count).map { _ in try #require(pools.allocate(byteCount: size)) }
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
        #expect(TableMemory.Pool.chunkShape(blockSize: 120 << 10) == (15, 256))  // 5,120 slots of 24 bytes
        // 3,072 slots of 24 bytes: an exact fit (256 to 18 MiB) wins over 199 to 14 MiB,
        // which leaves 8 KiB (0.06%).
        #expect(TableMemory.Pool.chunkShape(blockSize: 72 << 10) == (9, 256))
        // Every block size a pool can have up to 8 MiB leaves at most 1/16 of its chunk
        // unused (5.5% at worst, by the search over chunk sizes).
        for size in stride(from: 64 << 10, through: 8 << 20, by: 4096) {
            let (pages, blocks) = TableMemory.Pool.chunkShape(blockSize: size)
            #expect(blocks >= 1)
            #expect(blocks * size <= pages * huge)
            #expect((pages * huge - blocks * size) * 16 <= pages * huge, "\(size)")
        }
    }

    /// Tables whose chunk drains leave it at their next write: one well below its limit
    /// moves to a block of its size, slot for slot, with its entries and deadlines; one
    /// within 1/8 of its limit grows instead if the write inserts, and moves if it
    /// removes; one that is only read stays. The slots are 56 bytes (a `String` key, a
    /// 40-byte value), a size no other test's tables have, so that the 84 KiB blocks of
    /// 1,536 slots are this test's alone.
    @Test func tablesLeaveADrainingChunkAtTheirNextWrite() throws {
        struct Payload: Equatable { var a, b, c, d, e: Int }
        typealias Table = ShardTable<String, Payload>
        func filled(_ name: String, count: Int) -> Table {
            var table = Table()
            for i in 0..<count {
                let key = "\(name):\(i)"
                table.updateValue(
                    Entry(value: Payload(a: i, b: 0, c: 0, d: 0, e: i), expiresAt: i % 3 == 0 ? Int64(i + 1) : 0),
                    forKey: key
                )
            }
            return table
        }
        // Interleaved, so that the leavers' blocks and the others' share chunks.
        var movers: [Table] = []
        var growers: [Table] = []
        var readers: [Table] = []
        var leavers: [Table] = []
        var moverNames: [String] = []
        var growerNames: [String] = []
        var removers: [Table] = []
        var removerNames: [String] = []
        for i in 0..<40 {
            leavers.append(filled("leaver\(i)", count: 1_100))
            switch i % 4 {
            case 0:
                growerNames.append("grower\(i)")
                growers.append(filled("grower\(i)", count: 1_200))  // within 1/8 of 1,305, the most 1,536 slots hold
            case 1 where i % 8 == 1:
                readers.append(filled("reader\(i)", count: 1_000))
            case 1:
                removerNames.append("remover\(i)")
                removers.append(filled("remover\(i)", count: 1_100))
            default:
                moverNames.append("mover\(i)")
                movers.append(filled("mover\(i)", count: 1_000))  // more than 1,024 slots hold (870)
            }
        }
        let blockSize = 1_536 * MemoryLayout<(String, Payload)>.stride
        #expect(blockSize == 84 << 10)
        for table in leavers + movers + growers + removers + readers {
            #expect(table.capacity == 1_536)
            #expect(TableMemory.isPooled(table.slotsAddress))
            #expect(!TableMemory.isDraining(table.slotsAddress))
        }
        // The leavers grow to 2,048 slots: 40 of the 80 blocks are free again, 3.3 MiB.
        for i in leavers.indices {
            for j in 1_100..<1_320 {
                leavers[i].updateValue(
                    Entry(value: Payload(a: j, b: 0, c: 0, d: 0, e: j), expiresAt: 0),
                    forKey: "leaver\(i):\(j)"
                )
            }
            #expect(leavers[i].capacity == 2_048)
        }
        for table in movers + growers + removers + readers { #expect(TableMemory.isDraining(table.slotsAddress)) }

        let moversBefore = movers.map(\.slotsAddress)
        let readersBefore = readers.map(\.slotsAddress)
        for i in movers.indices {
            movers[i].updateValue(
                Entry(value: Payload(a: -1, b: 0, c: 0, d: 0, e: 0), expiresAt: 0),
                forKey: "mover:new"
            )
        }
        for i in growers.indices {
            growers[i].updateValue(
                Entry(value: Payload(a: -1, b: 0, c: 0, d: 0, e: 0), expiresAt: 0),
                forKey: "grower:new"
            )
        }
        let removersBefore = removers.map(\.slotsAddress)
        for (i, name) in removerNames.enumerated() { removers[i].removeValue(forKey: "\(name):0") }
        for table in readers { #expect(table["reader:none"] == nil) }
        for (table, before) in zip(movers, moversBefore) {
            #expect(table.capacity == 1_536)
            #expect(table.slotsAddress != before)
            #expect(!TableMemory.isDraining(table.slotsAddress))
        }
        for table in growers {
            #expect(table.capacity == 2_048)
            #expect(!TableMemory.isDraining(table.slotsAddress))
        }
        #expect(readers.map(\.slotsAddress) == readersBefore)
        for (table, before) in zip(removers, removersBefore) {
            #expect(table.capacity == 1_536)  // a removal does not grow it early
            #expect(table.slotsAddress != before)
            #expect(!TableMemory.isDraining(table.slotsAddress))
            #expect(table.count == 1_099)
        }

        // Every entry is where it was, with its deadline.
        let checked =
            zip(movers, moverNames).map { ($0, $1, 1_000) } + zip(growers, growerNames).map { ($0, $1, 1_200) }
        for (table, name, count) in checked {
            #expect(table.count == count + 1)
            for i in 0..<count {
                let entry = table["\(name):\(i)"]
                #expect(entry?.value == Payload(a: i, b: 0, c: 0, d: 0, e: i), "\(name):\(i)")
                #expect(entry?.expiresAt == (i % 3 == 0 ? Int64(i + 1) : 0))
            }
        }
        // Once the readers are gone too, no chunk of this size is draining any more.
        readers.removeAll()
        #expect(TableMemory.pools.chunks(byteCount: blockSize).allSatisfy { !$0.draining })
    }

    /// A store whose shards grow past a pooled size while four threads write and another
    /// takes `keys()` (whose copies share the tables, so those must not move) loses
    /// nothing, and once every shard has been written again none of its tables is left in
    /// a draining chunk. Runs under ThreadSanitizer in `.ci/run`. The values are 24 bytes
    /// (40-byte slots: blocks of 80 and 120 KiB, sizes no other test's tables have).
    @Test(.dedicatedThread) func storesDrainWhileThreadsWriteAndRead() throws {
        typealias Value = (Int, Int, Int)
        let store = try KeyValueStore<Value>(shardCount: 64)
        defer { store.shutdown() }
        let perThread = 27_500  // 110,000 keys, about 1,700 a shard: past 2,048 slots' 1,536
        let sawKeys = Locked(0)
        DispatchQueue.concurrentPerform(iterations: 5) { thread in
            if thread == 4 {
                for _ in 0..<5 {
                    let count = (try? store.keys().count) ?? -1
                    sawKeys.withLock { $0 = Swift.max($0, count) }
                }
                return
            }
            for i in 0..<perThread { try? store.set("t\(thread):\(i)", (thread, i, -i)) }
        }
        #expect(store.count == 4 * perThread)
        #expect(sawKeys.withLock { $0 } <= 4 * perThread)
        for thread in 0..<4 {
            for i in 0..<perThread {
                let value = try store.get("t\(thread):\(i)")
                #expect(value == (thread, i, -i), "t\(thread):\(i)")
            }
        }
        // One more write to every shard: its table leaves any chunk that drained since.
        var written = Set<Int>()
        var probe = 0
        while written.count < 64 {
            let key = "probe\(probe)"
            probe += 1
            guard let shard = store.engine.shardIndex(of: key), written.insert(shard).inserted else { continue }
            try store.set(key, (0, 0, 0))
        }
        for shard in 0..<64 {
            let address = store.engine.withLockedShard(at: shard) { _, state in state.table.slotsAddress }
            #expect(!TableMemory.isDraining(address), "shard \(shard)")
        }
        #expect(
            TableMemory.pools.chunks(byteCount: 2_048 * MemoryLayout<(String, Value)>.stride).allSatisfy {
                !$0.draining
            }
        )
        store.engine.checkInvariants()
    }

    /// A table big enough to be pooled keeps its entries through growth, copy-on-write
    /// copies and removals, and its slots lie in the process's pools.
    @Test func largeTablesLiveInThePools() {
        var table = ShardTable<String, Int>()
        for i in 0..<10_000 { table.updateValue(Entry(value: i, expiresAt: 0), forKey: "key:\(i)") }
        // A slot holds a key and a value.
        #expect(table.capacity * MemoryLayout<(String, Int)>.stride >= TableMemory.pooledMinimum)
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
