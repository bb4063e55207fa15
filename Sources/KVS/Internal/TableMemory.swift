import Synchronization

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
/// the TLB covers them all (docs/design/table-memory.md has the figures). The
/// process-wide alternative, glibc's
/// `GLIBC_TUNABLES=glibc.malloc.hugetlb=1`, is the application's choice and covers every
/// allocation; this covers only the tables, which the store owns.
///
/// **How.** An array of at least ``pooledMinimum`` bytes is a block in a *pool*, one per
/// block size (rounded up to 4 KiB). A pool's memory is *chunks*: 2 MiB-aligned anonymous
/// mappings of a whole number of huge pages, advised with `MADV_HUGEPAGE`, each cut into
/// as many blocks as fit (the chunk size is chosen so that little is left over). A freed
/// block is reused by the next allocation of its size (unless its chunk drains, below); a
/// chunk whose blocks are all free is unmapped at once, so memory goes back to the system
/// as tables grow out of a size.
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
/// blocks among those the others still use. So a chunk that has got back half of the
/// blocks it handed out (and at least a huge page of them) *drains*: it takes no new
/// blocks, and each table still in it leaves at its next write, growing early if that
/// write inserts and the table is within 1/8 of its limit, moving at its own size
/// otherwise (see ``Pool/deallocateBlock(at:)`` and
/// `ShardTable.leaveDrainingChunk(growing:)`); the last one out unmaps it. With draining,
/// resident memory per key stays within a few bytes of tables from `malloc` at every
/// store size; docs/design/table-memory.md has the figures and the options not taken.
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

    /// Whether `pointer` is a block in a draining chunk of the process's pools (always
    /// `false` where there are no pools).
    ///
    /// - Complexity: O(number of chunks), under the pools' lock.
    @usableFromInline
    package static func isDraining(_ pointer: UnsafeRawPointer) -> Bool {
        #if os(Linux)
        return pools.isDraining(pointer)
        #else
        return false
        #endif
    }

    /// Counts the chunks that started draining, in every set of pools. A table compares
    /// it on each write with the value it saw last (one relaxed load) and, when it
    /// changed, checks whether its own block is in a draining chunk and leaves it.
    @usableFromInline package struct DrainGeneration: ~Copyable, Sendable {
        @usableFromInline package let value = Atomic<UInt64>(0)
        init() {}
    }

    /// The process's drain generation, statically initialized (no `swift_once` on writes).
    @usableFromInline package static let drainGeneration = DrainGeneration()

    /// The bytes of the blocks the process's pools have handed out and not taken back:
    /// table memory that `malloc` does not see, which the server adds to its
    /// `used_memory` (a relaxed atomic, read before every command under `maxmemory`).
    /// The chunks' blocks never handed out are mapped but not counted: their pages are
    /// not touched, so they take no memory (blocks freed into a chunk still in use stay
    /// resident and uncounted until the chunk drains; see ``Pool``).
    package static let blockBytes = BlockBytes()

    /// An atomic counter, statically initialized.
    package struct BlockBytes: ~Copyable, Sendable {
        package let value = Atomic<Int>(0)
        init() {}
    }
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
        /// Set once at least half of the blocks ever handed out are free again and they
        /// add up to a huge page or more (see ``Pool/deallocateBlock(at:)``): no new block
        /// goes here, and the tables still here leave at their next write, so that the
        /// chunk empties and is unmapped.
        var draining = false

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
            if let withRoom = chunks.firstIndex(where: { $0.hasRoom && !$0.draining }) {
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
        ///
        /// A chunk starts *draining* when at least half of the blocks it ever handed out
        /// are free again and those add up to a huge page or more. Those free blocks stay
        /// resident (their huge pages are shared with blocks in use) and would be reused
        /// only by tables of this very size, which a growing store has left behind: at
        /// 599,000 keys half the shards had grown past 3,072 slots and the other half's
        /// 72 KiB blocks kept the first half's freed ones resident, 157 bytes per key
        /// against 135 with `malloc`. So no new block goes into a draining chunk, the
        /// ``TableMemory/drainGeneration`` tells the tables, and each table still in the
        /// chunk leaves it at its next write; the last one to leave unmaps the chunk.
        mutating func deallocateBlock(at address: UInt) -> Bool {
            guard let index = chunks.firstIndex(where: { $0.contains(address) }) else { return false }
            chunks[index].inUse -= 1
            if chunks[index].inUse == 0 {
                let chunk = chunks.remove(at: index)
                munmap(UnsafeMutableRawPointer(bitPattern: chunk.base), chunk.byteCount)
                return true
            }
            chunks[index].free.append(Int(address - chunks[index].base) / blockSize)
            let chunk = chunks[index]
            let freeTouched = chunk.nextFresh - chunk.inUse
            if !chunk.draining, chunk.inUse <= freeTouched, freeTouched * blockSize >= TableMemory.hugePageSize {
                chunks[index].draining = true
                TableMemory.drainGeneration.value.add(1, ordering: .relaxed)
            }
            return true
        }

        /// The chunk size (in huge pages, up to 16 more than the fewest that hold one
        /// block) that leaves the smallest fraction unused: 144 KiB blocks (6,144 slots
        /// of 24 bytes) fit 128 to an 18 MiB chunk with nothing left over, where a 2 MiB
        /// chunk would leave 128 KiB; 120 KiB blocks (5,120 slots, the anchors' tables at
        /// 1,000,000 keys) fit 256 to a 30 MiB chunk. A size that the blocks fill
        /// exactly wins over one that leaves less than 0.1% (72 KiB blocks: 256 to 18 MiB,
        /// not 199 to 14 MiB), so that the tables of a store's shards fill whole chunks
        /// rather than leave a second one partly used.
        package static func chunkShape(blockSize: Int) -> (pages: Int, blocks: Int) {
            let fewest = (blockSize + TableMemory.hugePageSize - 1) / TableMemory.hugePageSize
            var best = (pages: fewest, blocks: fewest * TableMemory.hugePageSize / blockSize)
            var bestWaste =
                Double(fewest * TableMemory.hugePageSize - best.blocks * blockSize)
                / Double(fewest * TableMemory.hugePageSize)
            for pages in fewest...(fewest + 16) {
                let bytes = pages * TableMemory.hugePageSize
                let blocks = bytes / blockSize
                let waste = Double(bytes - blocks * blockSize) / Double(bytes)
                if waste < bestWaste - 0.001 || (waste == 0 && bestWaste > 0) {
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
            if address != nil { TableMemory.blockBytes.value.add(blockSize, ordering: .relaxed) }
            return address.flatMap { UnsafeMutableRawPointer(bitPattern: $0) }
        }

        /// Gives back a block; `false` if `pointer` is not a pooled block (it came from
        /// `malloc` when mapping a chunk failed).
        package func deallocate(_ pointer: UnsafeMutableRawPointer, byteCount: Int) -> Bool {
            let blockSize = Self.blockSize(for: byteCount)
            let pooled = state.withLock { pools -> Bool in
                guard pools[blockSize]?.deallocateBlock(at: UInt(bitPattern: pointer)) == true else { return false }
                if pools[blockSize]?.chunks.isEmpty == true { pools[blockSize] = nil }
                return true
            }
            if pooled { TableMemory.blockBytes.value.subtract(blockSize, ordering: .relaxed) }
            return pooled
        }

        /// Whether `pointer` lies in a draining chunk.
        package func isDraining(_ pointer: UnsafeRawPointer) -> Bool {
            let address = UInt(bitPattern: pointer)
            return state.withLock { pools in
                pools.values.contains { pool in pool.chunks.contains { $0.draining && $0.contains(address) } }
            }
        }

        /// The chunks of the pool of `byteCount`-byte blocks, in order: the blocks in use,
        /// the blocks ever handed out, and whether the chunk is draining (for tests).
        package func chunks(byteCount: Int) -> [(inUse: Int, touched: Int, draining: Bool)] {
            state.withLock { pools in
                (pools[Self.blockSize(for: byteCount)]?.chunks ?? []).map { ($0.inUse, $0.nextFresh, $0.draining) }
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
