#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// Memory for the shard tables' slot arrays: large arrays come from pools of regions that
/// Linux backs with transparent huge pages (2 MiB), small ones from `malloc`.
///
/// **Why.** A lookup reads one slot at a random place in all the tables (36 MiB of them for
/// the anchors' 1,000,000 keys), so with 4 KiB pages it misses the TLB as well as the
/// cache, and the page walk is a chain of further misses. With the tables on huge pages
/// the TLB covers them all. Six alternating pairs each against the build before (on a
/// shared machine): `kvs-bench R90 2` 4.09 → 4.46 M ops/s, `Z90 2` 6.30 → 7.13 M, `R90 1`
/// 2.13 → 2.26 M, with `L_rss` unchanged; on a quiet machine (5 pairs each) `R90 2`
/// 4.25 → 4.69 M and `R90 1` 2.30 → 2.41 M. The process-wide alternative, glibc's
/// `GLIBC_TUNABLES=glibc.malloc.hugetlb=1`, is the application's choice and covers every
/// allocation; this covers only the tables, which the store owns.
///
/// **How.** An array of at least ``pooledMinimum`` bytes is a block in a *pool*, one per
/// block size (rounded up to 4 KiB). A pool's memory is *chunks*: 2 MiB-aligned anonymous
/// mappings of a whole number of huge pages, advised with `MADV_HUGEPAGE`, each cut into
/// as many blocks as fit (the chunk size is chosen so that little is left over). A freed
/// block is reused by the next allocation of its size; a chunk whose blocks are all free
/// is unmapped at once, so memory goes back to the system as tables grow out of a size.
/// A huge page is resident from its first touch, so a chunk wastes at most the unused
/// part of its partly used huge pages: at most about 2 MiB per block size in use, which
/// is noise for the large stores this is for, and the price a process with one 64 KiB
/// table pays (2 MiB resident instead of 64 KiB). With the kernel's `defrag` setting at its default
/// (`madvise`), the first touch of each huge page may compact memory to find one: a cost
/// paid once per 2 MiB, when a table grows, not on lookups.
///
/// **What it costs in memory.** A block freed while others of its chunk are in use stays
/// resident until a table of its size takes it. That is the case when a store stops growing
/// partway through a step of the capacity ladder: the shards that moved up left their old
/// blocks among those the others still use. `KVS_BENCH_KEYS=N kvs-bench L 1` over 21 store
/// sizes from 300,000 to 3,000,000 keys (session 6): 140.3 resident bytes per key on
/// average, against 136.2 with every table from `malloc` (whose freed memory the values
/// reuse); 135 for both at 1,000,000; at worst 157 against 135 (599,000 keys, 2,340 per
/// shard, just past the 3,072-slot step's 2,304). An allocator that cut blocks of every
/// size first-fit from shared arenas and released whole free huge pages was measured too:
/// 139.8 on average and at worst 11 above `malloc`, but 139 at 1,000,000, because the
/// remnants between grown tables stay resident. Not adopted: the same mean.
///
/// Elsewhere than Linux every array comes from `malloc`.
///
/// - Thread safety: safe from any thread; the pools are behind one lock, taken only when
///   a table is created or released (not on lookups).
@usableFromInline
package enum TableMemory {
    /// The smallest array that goes to a pool: 64 KiB (2,730 slots of 24 bytes, a table of
    /// about 2,000 `String` keys). Smaller tables span only a few 4 KiB pages, and a store
    /// of small tables should not hold huge pages.
    @inlinable package static var pooledMinimum: Int { 64 << 10 }

    /// The huge page size the chunks are aligned to and made of.
    package static let hugePageSize = 2 << 20

    /// Memory for `byteCount` bytes aligned to `alignment` (at most 4 KiB).
    ///
    /// - Complexity: O(number of chunks of the block's size) when pooled.
    @usableFromInline
    package static func allocate(byteCount: Int, alignment: Int) -> UnsafeMutableRawPointer {
        #if os(Linux)
        if byteCount >= pooledMinimum, alignment <= pageSize, let block = pools.allocate(byteCount: byteCount) {
            return block
        }
        #endif
        return UnsafeMutableRawPointer.allocate(byteCount: byteCount, alignment: alignment)
    }

    /// Releases memory from ``allocate(byteCount:alignment:)`` with the same `byteCount`
    /// and `alignment`.
    @usableFromInline
    package static func deallocate(_ pointer: UnsafeMutableRawPointer, byteCount: Int, alignment: Int) {
        #if os(Linux)
        if byteCount >= pooledMinimum, alignment <= pageSize, pools.deallocate(pointer, byteCount: byteCount) {
            return
        }
        #endif
        pointer.deallocate()
    }

    static let pageSize = 4096

    #if os(Linux)
    /// The process's pools.
    package static let pools = Pools()

    /// Whether `pointer` is a block of the process's pools (for tests).
    package static func isPooled(_ pointer: UnsafeRawPointer) -> Bool { pools.contains(pointer) }
    #endif
}

extension ShardTable {
    /// Where the table's slots are (for tests of ``TableMemory``).
    package var slotsAddress: UnsafeRawPointer { UnsafeRawPointer(storage.slots) }
}

#if os(Linux)
extension TableMemory {
    /// A 2 MiB-aligned mapping cut into blocks of one size.
    package struct Chunk: Sendable {
        /// The chunk's address (an integer, so that the pools' state is plainly `Sendable`).
        let base: UInt
        let byteCount: Int
        let blockCount: Int
        /// Blocks never handed out yet are `nextFresh ..< blockCount`; `free` holds the
        /// indices of blocks handed out and given back.
        var nextFresh = 0
        var free: [Int] = []
        var inUse = 0

        var hasRoom: Bool { !free.isEmpty || nextFresh < blockCount }

        func contains(_ address: UInt) -> Bool { address >= base && address < base + UInt(byteCount) }
    }

    /// The chunks of one block size.
    package struct Pool: Sendable {
        let blockSize: Int
        /// Huge pages per chunk, and blocks per chunk.
        let pagesPerChunk: Int
        let blocksPerChunk: Int
        var chunks: [Chunk] = []

        init(blockSize: Int) {
            self.blockSize = blockSize
            (pagesPerChunk, blocksPerChunk) = Self.chunkShape(blockSize: blockSize)
        }

        /// The address of a free block, mapping a new chunk if none has room; `nil` if
        /// the system refused the mapping.
        mutating func allocateBlock() -> UInt? {
            let index: Int
            if let withRoom = chunks.firstIndex(where: { $0.hasRoom }) {
                index = withRoom
            } else {
                guard let chunk = Pools.mapChunk(pool: self) else { return nil }
                chunks.append(chunk)
                index = chunks.count - 1
            }
            let block: Int
            if let reused = chunks[index].free.popLast() {
                block = reused
            } else {
                block = chunks[index].nextFresh
                chunks[index].nextFresh += 1
            }
            chunks[index].inUse += 1
            return chunks[index].base + UInt(block * blockSize)
        }

        /// Gives back the block at `address`, unmapping its chunk when that was the
        /// chunk's last block in use; `false` if no chunk of this pool holds `address`.
        mutating func deallocateBlock(at address: UInt) -> Bool {
            guard let index = chunks.firstIndex(where: { $0.contains(address) }) else { return false }
            chunks[index].inUse -= 1
            if chunks[index].inUse == 0 {
                let chunk = chunks.remove(at: index)
                munmap(UnsafeMutableRawPointer(bitPattern: chunk.base), chunk.byteCount)
            } else {
                chunks[index].free.append(Int(address - chunks[index].base) / blockSize)
            }
            return true
        }

        /// The chunk size (in huge pages, up to 16 more than the fewest that hold one
        /// block) that leaves the smallest fraction unused: 144 KiB blocks (6,144 slots
        /// of 24 bytes, the anchors' tables) fit 128 to an 18 MiB chunk with nothing left
        /// over, where a 2 MiB chunk would leave 128 KiB.
        package static func chunkShape(blockSize: Int) -> (pages: Int, blocks: Int) {
            let fewest = (blockSize + TableMemory.hugePageSize - 1) / TableMemory.hugePageSize
            var best = (pages: fewest, blocks: fewest * TableMemory.hugePageSize / blockSize)
            var bestWaste = Double(fewest * TableMemory.hugePageSize - best.blocks * blockSize) / Double(fewest * TableMemory.hugePageSize)
            for pages in fewest...(fewest + 16) {
                let bytes = pages * TableMemory.hugePageSize
                let blocks = bytes / blockSize
                let waste = Double(bytes - blocks * blockSize) / Double(bytes)
                if waste < bestWaste - 0.001 {
                    (best, bestWaste) = ((pages, blocks), waste)
                }
            }
            return best
        }
    }

    /// A set of pools, one per block size, behind one lock (the process has one,
    /// ``pools``; tests make their own).
    package final class Pools: Sendable {
        private let state = Locked<[Int: Pool]>([:])

        package init() {}

        /// A block of at least `byteCount` bytes, or `nil` if the system gave no memory
        /// (the caller then falls back to `malloc`).
        package func allocate(byteCount: Int) -> UnsafeMutableRawPointer? {
            let blockSize = Self.blockSize(for: byteCount)
            // Through the dictionary's `default:` subscript the pool is changed in place,
            // with no copy of its chunks.
            let address = state.withLock { pools in
                pools[blockSize, default: Pool(blockSize: blockSize)].allocateBlock()
            }
            return address.flatMap { UnsafeMutableRawPointer(bitPattern: $0) }
        }

        /// Gives back a block; `false` if `pointer` is not a pooled block (it came from
        /// `malloc` when mapping a chunk failed).
        package func deallocate(_ pointer: UnsafeMutableRawPointer, byteCount: Int) -> Bool {
            let blockSize = Self.blockSize(for: byteCount)
            return state.withLock { pools -> Bool in
                guard pools[blockSize]?.deallocateBlock(at: UInt(bitPattern: pointer)) == true else { return false }
                if pools[blockSize]?.chunks.isEmpty == true { pools[blockSize] = nil }
                return true
            }
        }

        /// Whether `pointer` lies in one of the chunks.
        package func contains(_ pointer: UnsafeRawPointer) -> Bool {
            let address = UInt(bitPattern: pointer)
            return state.withLock { pools in
                pools.values.contains { pool in pool.chunks.contains { $0.contains(address) } }
            }
        }

        /// The bytes handed out and the bytes mapped, over all the pools.
        package var bytes: (inUse: Int, mapped: Int) {
            state.withLock { pools in
                pools.values.reduce(into: (0, 0)) { total, pool in
                    for chunk in pool.chunks {
                        total.0 += chunk.inUse * pool.blockSize
                        total.1 += chunk.byteCount
                    }
                }
            }
        }

        /// `byteCount` rounded up to whole 4 KiB pages: a pool's block size.
        package static func blockSize(for byteCount: Int) -> Int {
            (byteCount + TableMemory.pageSize - 1) / TableMemory.pageSize * TableMemory.pageSize
        }

        /// Maps a new chunk for `pool`, 2 MiB-aligned (a larger mapping, trimmed), and
        /// advises huge pages for it; `nil` if the system refuses.
        static func mapChunk(pool: Pool) -> Chunk? {
            let huge = TableMemory.hugePageSize
            let byteCount = pool.pagesPerChunk * huge
            let mapped = mmap(nil, byteCount + huge, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0)
            guard let mapped, mapped != MAP_FAILED else { return nil }
            let start = UInt(bitPattern: mapped)
            let aligned = (start + UInt(huge) - 1) & ~UInt(huge - 1)
            let lead = Int(aligned - start)
            if lead > 0 { munmap(mapped, lead) }
            let trail = huge - lead
            guard let base = UnsafeMutableRawPointer(bitPattern: aligned) else { return nil }
            if trail > 0 { munmap(base + byteCount, trail) }
            // Advice only: without transparent huge pages (or with them disabled) the
            // chunk is ordinary memory and everything works the same.
            _ = madvise(base, byteCount, Int32(MADV_HUGEPAGE))
            return Chunk(base: aligned, byteCount: byteCount, blockCount: pool.blocksPerChunk)
        }
    }
}
#endif
