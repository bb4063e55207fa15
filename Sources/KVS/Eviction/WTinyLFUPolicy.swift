/// Window TinyLFU, Caffeine's policy (Einziger, Friedman and Manes, "TinyLFU: A Highly
/// Efficient Cache Admission Policy", and Caffeine's `BoundedLocalCache`): an admission
/// window in LRU order, a main region in segmented LRU order (probation and protected, 20/80),
/// a ``FrequencySketch`` that judges each entry leaving the window against main's next
/// victim, and an adaptation that resizes the window between recency and frequency.
///
/// - A new entry enters the window. A hit moves an entry to the back of its list, or from
///   probation to protected (demoting protected's oldest to probation when protected is
///   over its share).
/// - When the window is over its share, an eviction judges the window's oldest entry (the
///   candidate) against probation's oldest (the victim): the candidate moves to probation
///   and the victim leaves if the sketch has seen the candidate more often; otherwise the
///   candidate leaves, except one time in 128 when its frequency is at least 6 (Caffeine's
///   guard against an attacker who keeps a victim's count high).
/// - The window starts at 1% of the bound and adapts (``Adaptation``): by default from two
///   small ghosts of hashes, as ARC sizes its lists: a miss on a key the window turned away
///   recently grows the window by the newcomer's weight, a miss on a key main evicted
///   recently shrinks it. ``Adaptation/hillClimbing`` is Caffeine's climber instead.
///   docs/design/eviction-policy.md compares the two on the traces.
///
/// - Complexity: O(1) per call, amortized: `evict()` judges one entry; a resize moves at most
///   the weight it changes by; the sketch halves its counters once per ten increments per
///   key of capacity. No allocation once the node records, the sketch and the ghosts
///   reached the peak entry count.
package struct WTinyLFUPolicy: EvictionPolicy {
    /// How the window's share of the bound adapts to the workload.
    package enum Adaptation: Sendable {
        /// Ghost hits move the window one newcomer's weight at a time: a miss on a hash the
        /// window's admission refused within the last 5% of the bound's entries grows it; one
        /// on a hash main evicted within as many shrinks it.
        case ghosts
        /// Caffeine's hill climber (`BoundedLocalCache.climb`): every ten reads per entry of
        /// the bound, the window moves by a step in the direction that raised the hit ratio
        /// of the last sample; the step starts at 6.25% of the bound, decays by 2% a sample
        /// and restarts when the hit ratio jumps by 5 points.
        case hillClimbing
    }

    package let maximumWeight: Int
    package let adaptation: Adaptation
    private var nodes = PolicyNodes()
    private var window = PolicyQueue()
    private var probation = PolicyQueue()
    private var protected = PolicyQueue()
    private var sketch = FrequencySketch()

    /// The window's share of the bound; the adaptation moves it.
    package private(set) var windowMaximum: Int
    /// Protected's share of the bound: 80% of main's.
    package private(set) var protectedMaximum: Int

    /// The hashes the admission refused lately, and those main evicted (``Adaptation/ghosts``).
    private var windowGhost = GhostHashes()
    private var mainGhost = GhostHashes()

    /// The climber's state (``Adaptation/hillClimbing``).
    private var hitsInSample = 0
    private var missesInSample = 0
    private var previousHitRatio = 0.0
    private var stepSize: Double
    private let sampleSize: Int
    /// The part of the climber's steps not yet applied (whole units of weight move).
    private var pendingAdjustment = 0.0

    private var random: UInt64 = 0x9E37_79B9_7F4A_7C15

    private static let windowID: UInt8 = 0
    private static let probationID: UInt8 = 1
    private static let protectedID: UInt8 = 2

    /// The window's share of a new policy (Caffeine: 1%).
    static let initialWindowFraction = 0.01
    /// Protected's share of main.
    static let protectedFraction = 0.8
    /// How far back the ghosts remember, as a fraction of the bound's entries.
    static let ghostFraction = 0.05
    /// The candidate frequency from which the admission lets one loser in 128 through.
    static let randomAdmissionFrequency = 6
    /// The climber's first step, and the step it restarts at, as a fraction of the bound.
    static let stepFraction = 0.0625
    /// The change of hit ratio between samples that restarts the step.
    static let restartThreshold = 0.05
    /// The factor the step decays by at every sample.
    static let stepDecay = 0.98
    /// The reads in a climber's sample, per unit of the bound.
    static let samplePerWeight = 10
    /// The largest sketch it sizes from the bound up front (in keys); a larger bound grows
    /// the sketch with the entry count.
    private static let initialSketchLimit = 1 << 16

    package init(maximumWeight: Int) {
        self.init(maximumWeight: maximumWeight, adaptation: .ghosts)
    }

    /// Creates an empty policy whose window adapts by `adaptation`.
    package init(maximumWeight: Int, adaptation: Adaptation) {
        self.maximumWeight = max(0, maximumWeight)
        self.adaptation = adaptation
        let maximum = self.maximumWeight
        windowMaximum = maximum - Int(Double(maximum) * (1 - Self.initialWindowFraction))
        protectedMaximum = Int(Self.protectedFraction * Double(maximum - windowMaximum))
        // Caffeine's first step shrinks the window (a no-op at its floor): the climber only
        // turns towards a larger window once a sample's hit ratio falls.
        stepSize = -Self.stepFraction * Double(maximum)
        sampleSize = max(1, Self.samplePerWeight * maximum)
        sketch.ensureCapacity(min(maximum, Self.initialSketchLimit))
    }

    package var totalWeight: Int { window.weight + probation.weight + protected.weight }
    package var count: Int { window.count + probation.count + protected.count }

    package mutating func recordHit(_ node: PolicyNode) {
        recordHit(node, hash: nodes[node].hash)
    }

    package mutating func recordHit(_ node: PolicyNode, hash: UInt64) {
        assert(nodes[node].hash == hash, "recordHit: the hash is not the node's")
        touch(node, hash: hash)
        if adaptation == .hillClimbing {
            hitsInSample += 1
            if hitsInSample + missesInSample >= sampleSize { climb() }
        }
    }

    /// Starts the cache misses of every hit in `reads` (its node's record and its four
    /// sketch words) before it applies the first: one hit's misses would otherwise be
    /// waited for one after another. (A pipelined variant, prefetching a few reads ahead and
    /// the neighbours too, measured the same.)
    package mutating func recordReads(_ reads: UnsafeBufferPointer<PolicyRead>) {
        for read in reads where read.node != PolicyRead.miss {
            nodes.prefetch(read.node)
            sketch.prefetch(read.hash)
        }
        for read in reads {
            if read.node == PolicyRead.miss {
                recordMiss(hash: read.hash)
            } else {
                recordHit(read.node, hash: read.hash)
            }
        }
    }

    package mutating func recordMiss(hash: UInt64) {
        if adaptation == .hillClimbing {
            missesInSample += 1
            if hitsInSample + missesInSample >= sampleSize { climb() }
        }
    }

    package mutating func insert(hash: UInt64, weight: Int) -> PolicyNode {
        if count >= sketch.capacity && sketch.capacity < maximumWeight {
            sketch.ensureCapacity(min(maximumWeight, 2 * sketch.capacity))
        }
        sketch.increment(hash)
        if adaptation == .ghosts {
            if windowGhost.remove(hash, window: ghostLength) {
                _ = increaseWindow(by: weight)
            } else if mainGhost.remove(hash, window: ghostLength) {
                _ = decreaseWindow(by: weight)
            }
        }
        let node = nodes.allocate(hash: hash, weight: weight, queue: Self.windowID)
        nodes.append(node, to: &window, id: Self.windowID)
        // While the region has room, the window's overflow moves to probation unjudged;
        // once it is full, `evict()` judges each entry leaving the window.
        while window.weight > windowMaximum && totalWeight <= maximumWeight && window.front != node {
            let oldest = window.front
            nodes.move(oldest, from: &window, to: &probation, id: Self.probationID)
        }
        return node
    }

    package mutating func update(_ node: PolicyNode, weight: Int) {
        switch nodes[node].queue {
        case Self.windowID: nodes.setWeight(node, weight, in: &window)
        case Self.probationID: nodes.setWeight(node, weight, in: &probation)
        default: nodes.setWeight(node, weight, in: &protected)
        }
        touch(node, hash: nodes[node].hash)
    }

    package mutating func remove(_ node: PolicyNode) {
        unlink(node)
        nodes.release(node)
    }

    package mutating func evict() -> (node: PolicyNode, hash: UInt64)? {
        let victim: PolicyNode
        if window.weight > windowMaximum && !window.isEmpty {
            let candidate = window.front
            let mainVictim = probation.isEmpty ? protected.front : probation.front
            if mainVictim == PolicyNodes.none || !admit(candidate: candidate, victim: mainVictim) {
                victim = candidate
                if adaptation == .ghosts { windowGhost.insert(nodes[candidate].hash, window: ghostLength) }
            } else {
                if adaptation == .ghosts { mainGhost.insert(nodes[mainVictim].hash, window: ghostLength) }
                nodes.move(candidate, from: &window, to: &probation, id: Self.probationID)
                victim = mainVictim
            }
        } else if !probation.isEmpty {
            victim = probation.front
        } else if !protected.isEmpty {
            victim = protected.front
        } else if !window.isEmpty {
            victim = window.front
        } else {
            return nil
        }
        let hash = nodes[victim].hash
        remove(victim)
        return (victim, hash)
    }

    func nodesViolation() -> String? {
        nodes.violation(in: window, id: Self.windowID, name: "window")
            ?? nodes.violation(in: probation, id: Self.probationID, name: "probation")
            ?? nodes.violation(in: protected, id: Self.protectedID, name: "protected")
            ?? nodes.violation(liveOn: window, probation, protected)
    }

    package mutating func removeAll() {
        nodes.removeAll()
        window = PolicyQueue()
        probation = PolicyQueue()
        protected = PolicyQueue()
        sketch.clear()
        windowGhost.removeAll()
        mainGhost.removeAll()
        let fresh = Self(maximumWeight: maximumWeight, adaptation: adaptation)
        windowMaximum = fresh.windowMaximum
        protectedMaximum = fresh.protectedMaximum
        stepSize = fresh.stepSize
        hitsInSample = 0
        missesInSample = 0
        previousHitRatio = 0
        pendingAdjustment = 0
    }

    /// How many hashes each ghost remembers: ``ghostFraction`` of the entries the bound
    /// holds at the entries' mean weight.
    private var ghostLength: Int {
        let weight = totalWeight
        let entries = weight == 0 ? maximumWeight : maximumWeight * count / weight
        return max(1, Int(Self.ghostFraction * Double(entries)))
    }

    /// Counts an access to `node`, whose hash is `hash`, and moves it as a hit does.
    @inline(__always)
    private mutating func touch(_ node: PolicyNode, hash: UInt64) {
        sketch.increment(hash)
        switch nodes[node].queue {
        case Self.windowID:
            nodes.moveToBack(node, in: &window)
        case Self.probationID:
            nodes.move(node, from: &probation, to: &protected, id: Self.protectedID)
            demoteFromProtected()
        default:
            nodes.moveToBack(node, in: &protected)
        }
    }

    private mutating func unlink(_ node: PolicyNode) {
        switch nodes[node].queue {
        case Self.windowID: nodes.unlink(node, from: &window)
        case Self.probationID: nodes.unlink(node, from: &probation)
        default: nodes.unlink(node, from: &protected)
        }
    }

    /// Moves protected's oldest entries to probation while protected is over its share.
    private mutating func demoteFromProtected() {
        while protected.weight > protectedMaximum && protected.count > 0 {
            let node = protected.front
            nodes.move(node, from: &protected, to: &probation, id: Self.probationID)
        }
    }

    /// Whether the window's `candidate` should replace main's `victim`.
    private mutating func admit(candidate: PolicyNode, victim: PolicyNode) -> Bool {
        let candidateFrequency = sketch.frequency(nodes[candidate].hash)
        let victimFrequency = sketch.frequency(nodes[victim].hash)
        if candidateFrequency > victimFrequency { return true }
        if candidateFrequency < Self.randomAdmissionFrequency { return false }
        random ^= random << 13
        random ^= random >> 7
        random ^= random << 17
        return random & 127 == 0
    }

    /// Resizes the window by the climber's step and starts a new sample.
    private mutating func climb() {
        let hitRatio = Double(hitsInSample) / Double(hitsInSample + missesInSample)
        let change = hitRatio - previousHitRatio
        let amount = change >= 0 ? stepSize : -stepSize
        stepSize =
            abs(change) >= Self.restartThreshold
            ? Self.stepFraction * Double(maximumWeight) * (amount >= 0 ? 1 : -1)
            : Self.stepDecay * amount
        previousHitRatio = hitRatio
        hitsInSample = 0
        missesInSample = 0
        pendingAdjustment += amount
        let adjustment = Int(pendingAdjustment)
        guard adjustment != 0 else { return }
        let applied = adjustment > 0 ? increaseWindow(by: adjustment) : -decreaseWindow(by: -adjustment)
        // What the window's bounds did not allow is dropped rather than carried.
        pendingAdjustment = applied == adjustment ? pendingAdjustment - Double(applied) : 0
    }

    /// Grows the window's share by up to `quota`, up to the whole bound, and fills it with
    /// main's oldest entries; returns the change of share.
    ///
    /// Protected keeps 80% of what is left to main. Caffeine instead takes the window's growth
    /// from protected alone, which stops the window near 80% of the bound; a trace that wants
    /// pure recency (orm-busy at 1%) then stays 1.6 points under LRU.
    private mutating func increaseWindow(by quota: Int) -> Int {
        let quota = min(quota, maximumWeight - windowMaximum)
        guard quota > 0 else { return 0 }
        windowMaximum += quota
        protectedMaximum = Int(Self.protectedFraction * Double(maximumWeight - windowMaximum))
        demoteFromProtected()
        while true {
            var node = probation.front
            if node == PolicyNodes.none { node = protected.front }
            guard node != PolicyNodes.none, window.weight + nodes[node].weight <= windowMaximum else { break }
            unlink(node)
            nodes.append(node, to: &window, id: Self.windowID)
        }
        return quota
    }

    /// Shrinks the window's share by up to `quota`, down to one unit of weight, moving the
    /// window's oldest entries to probation; returns the change of share.
    private mutating func decreaseWindow(by quota: Int) -> Int {
        let quota = min(quota, max(0, windowMaximum - 1))
        guard quota > 0 else { return 0 }
        windowMaximum -= quota
        protectedMaximum = Int(Self.protectedFraction * Double(maximumWeight - windowMaximum))
        while window.weight > windowMaximum && !window.isEmpty {
            let node = window.front
            nodes.move(node, from: &window, to: &probation, id: Self.probationID)
        }
        return quota
    }
}
