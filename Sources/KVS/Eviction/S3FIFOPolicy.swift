/// S3-FIFO eviction (Yang et al., "FIFO queues are all you need for cache eviction",
/// SOSP 2023): a small FIFO of a tenth of the bound, a main FIFO, and a ghost FIFO of the
/// hashes recently evicted from the small one; a frequency of two bits per entry.
///
/// A new entry enters the small queue, or the main one if its hash is in the ghost. A hit
/// raises the entry's frequency up to 3 (and writes nothing at 3). Eviction takes from the
/// small queue while it holds more than its tenth: an entry hit at least twice there moves
/// to main, the others leave and their hashes enter the ghost. Otherwise it takes from
/// main, reinserting each entry whose frequency is above zero with one less, as the paper's
/// Algorithm 1 does.
///
/// - Complexity: O(1) per call, amortized over reinsertions for `evict()` (each costs a unit
///   of frequency or a move from small to main); no allocation once the node records and
///   the ghost reached their peak.
package struct S3FIFOPolicy: EvictionPolicy {
    package let maximumWeight: Int
    private var nodes = PolicyNodes()
    private var small = PolicyQueue()
    private var main = PolicyQueue()
    private var ghost = GhostHashes()
    /// The small queue's share of the bound.
    private let smallMaximum: Int

    private static let smallID: UInt8 = 0
    private static let mainID: UInt8 = 1
    /// The frequency an entry reaches in the small queue to move to main (hits, the
    /// paper's `freq > 1`).
    static let moveToMainFrequency: UInt8 = 2
    private static let maximumFrequency: UInt8 = 3

    package init(maximumWeight: Int) {
        self.maximumWeight = max(0, maximumWeight)
        smallMaximum = max(1, self.maximumWeight / 10)
    }

    package var totalWeight: Int { small.weight + main.weight }
    package var count: Int { small.count + main.count }

    /// How many hashes the ghost remembers: as many entries as main's share holds, at the
    /// entries' mean weight.
    private var ghostLength: Int {
        let share = maximumWeight - smallMaximum
        let weight = totalWeight
        return max(1, weight == 0 ? share : share * count / weight)
    }

    package mutating func recordHit(_ node: PolicyNode) {
        if nodes[node].bits < Self.maximumFrequency { nodes[node].bits += 1 }
    }

    /// Starts loading the record of every hit in `reads` before it applies the first, so
    /// that their cache misses overlap.
    package mutating func recordReads(_ reads: UnsafeBufferPointer<PolicyRead>) {
        for read in reads where read.node != PolicyRead.miss { nodes.prefetch(read.node) }
        for read in reads where read.node != PolicyRead.miss { recordHit(read.node) }
    }

    package mutating func recordMiss(hash: UInt64) {}

    package mutating func insert(hash: UInt64, weight: Int) -> PolicyNode {
        if ghost.remove(hash, window: ghostLength) {
            let node = nodes.allocate(hash: hash, weight: weight, queue: Self.mainID)
            nodes.append(node, to: &main, id: Self.mainID)
            return node
        }
        let node = nodes.allocate(hash: hash, weight: weight, queue: Self.smallID)
        nodes.append(node, to: &small, id: Self.smallID)
        return node
    }

    package mutating func update(_ node: PolicyNode, weight: Int) {
        if nodes[node].queue == Self.smallID {
            nodes.setWeight(node, weight, in: &small)
        } else {
            nodes.setWeight(node, weight, in: &main)
        }
        recordHit(node)
    }

    package mutating func remove(_ node: PolicyNode) {
        if nodes[node].queue == Self.smallID {
            nodes.unlink(node, from: &small)
        } else {
            nodes.unlink(node, from: &main)
        }
        nodes.release(node)
    }

    package mutating func evict() -> (node: PolicyNode, hash: UInt64)? {
        while true {
            if !small.isEmpty && (small.weight > smallMaximum || main.isEmpty) {
                let node = small.front
                nodes.unlink(node, from: &small)
                if nodes[node].bits >= Self.moveToMainFrequency {
                    nodes[node].bits = 0
                    nodes.append(node, to: &main, id: Self.mainID)
                    continue
                }
                let hash = nodes[node].hash
                ghost.insert(hash, window: ghostLength)
                nodes.release(node)
                return (node, hash)
            }
            guard !main.isEmpty else { return nil }
            let node = main.front
            if nodes[node].bits > 0 {
                nodes[node].bits -= 1
                nodes.moveToBack(node, in: &main)
                continue
            }
            let hash = nodes[node].hash
            nodes.unlink(node, from: &main)
            nodes.release(node)
            return (node, hash)
        }
    }

    func nodesViolation() -> String? {
        nodes.violation(in: small, id: Self.smallID, name: "small")
            ?? nodes.violation(in: main, id: Self.mainID, name: "main")
            ?? nodes.violation(liveOn: small, main)
    }

    package mutating func removeAll() {
        nodes.removeAll()
        small = PolicyQueue()
        main = PolicyQueue()
        ghost.removeAll()
    }
}

/// The ghost FIFO of S3-FIFO, kept as the paper suggests inside a hash table: each slot
/// holds a hash and the ghost's insertion count when it entered, and a hash is in the ghost
/// while fewer than `window` hashes entered after it. Buckets of four slots; a full bucket
/// drops its oldest hash, so the ghost can forget early but never remembers a hash falsely.
/// A slot keeps its hash and stamp side by side, so a lookup reads one bucket of 64 bytes.
struct GhostHashes {
    private struct Slot {
        var hash: UInt64
        /// The insertion count when the hash entered; 0 for an empty slot.
        var stamp: UInt64
    }

    private var slots: [Slot] = []
    private var clock: UInt64 = 0
    private var used = 0

    /// Remembers `hash` as the newest ghost of a ghost that holds `window` hashes.
    ///
    /// - Complexity: O(1) amortized: a table more than half used is rebuilt without the
    ///   hashes that aged out, at four times the size of what is left.
    mutating func insert(_ hash: UInt64, window: Int) {
        if slots.isEmpty || used * 2 > slots.count { rebuild(window: window) }
        clock += 1
        place(hash, stamp: clock)
    }

    /// Whether `hash` is among the last `window` ghosts, forgetting it if so.
    ///
    /// - Complexity: O(1).
    mutating func remove(_ hash: UInt64, window: Int) -> Bool {
        guard !slots.isEmpty else { return false }
        let base = bucket(hash)
        let clock = clock
        return slots.withUnsafeMutableBufferPointer { slots in
            for slot in base..<base + 4 where slots[slot].stamp != 0 && slots[slot].hash == hash {
                let found = clock - slots[slot].stamp < UInt64(max(window, 1))
                slots[slot].stamp = 0
                used -= 1
                return found
            }
            return false
        }
    }

    mutating func removeAll() {
        slots = []
        clock = 0
        used = 0
    }

    private func bucket(_ hash: UInt64) -> Int {
        // The top bits: the low ones may pick the store's table slot or shard.
        Int(truncatingIfNeeded: (hash &* 0x9E37_79B9_7F4A_7C15) >> 32) & (slots.count - 4)
    }

    private mutating func place(_ hash: UInt64, stamp: UInt64) {
        let base = bucket(hash)
        var oldest = base
        for slot in base..<base + 4 {
            if slots[slot].stamp == 0 {
                oldest = slot
                used += 1
                break
            }
            if slots[slot].stamp < slots[oldest].stamp { oldest = slot }
        }
        slots[oldest] = Slot(hash: hash, stamp: stamp)
    }

    private mutating func rebuild(window: Int) {
        let window = UInt64(max(window, 1))
        var kept = 0
        for slot in slots where slot.stamp != 0 && clock - slot.stamp < window { kept += 1 }
        var size = 64
        while size < kept * 4 { size *= 2 }
        if size <= slots.count {
            // Forget the aged-out hashes in place: no allocation while the ghost is steady.
            for index in slots.indices where slots[index].stamp != 0 && clock - slots[index].stamp >= window {
                slots[index].stamp = 0
                used -= 1
            }
            return
        }
        let old = slots
        slots = Array(repeating: Slot(hash: 0, stamp: 0), count: size)
        used = 0
        for slot in old where slot.stamp != 0 && clock - slot.stamp < window {
            place(slot.hash, stamp: slot.stamp)
        }
    }
}

extension S3FIFOPolicy {
    /// Whether `node` is in the main queue rather than the small one (tests).
    package func isInMain(_ node: PolicyNode) -> Bool {
        nodes[node].queue == Self.mainID
    }
}
