/// Window TinyLFU, Caffeine's policy (Einziger, Friedman and Manes, "TinyLFU: A Highly
/// Efficient Cache Admission Policy", and Caffeine's `BoundedLocalCache`): an admission
/// window in LRU order, a main region in segmented LRU order (probation and protected, 20/80),
/// a ``FrequencySketch`` that judges each entry leaving the window against main's next
/// victim, and a hill climber that resizes the window towards the better hit ratio.
///
/// - A new entry enters the window. A hit moves an entry to the back of its list, or from
///   probation to protected (demoting protected's oldest to probation when protected is
///   over its share).
/// - When the window is over its share, an eviction judges the window's oldest entry (the
///   candidate) against probation's oldest (the victim): the candidate moves to probation
///   and the victim leaves if the sketch has seen the candidate more often; otherwise the
///   candidate leaves, except one time in 128 when its frequency is at least 6 (Caffeine's
///   guard against an attacker who keeps a victim's count high).
/// - Every `sampleSize` reads (ten per entry of the bound), the climber compares the hit
///   ratio of the sample with the previous one and moves the window by `stepSize` in the
///   direction that improved it; the step decays by 2% a sample and restarts at 6.25% of
///   the bound when the hit ratio jumps by 5 points (Caffeine's `climb()`).
///
/// - Complexity: O(1) per call, amortized: `evict()` moves one entry, a sample's resize
///   moves at most its step of entries, once per ten reads per entry of the bound; the
///   sketch halves its counters once per ten increments per counter word. No allocation
///   once the node records reached the peak entry count (the sketch grows with the entry
///   count up to the bound).
package struct WTinyLFUPolicy: EvictionPolicy {
    package let maximumWeight: Int
    private var nodes = PolicyNodes()
    private var window = PolicyQueue()
    private var probation = PolicyQueue()
    private var protected = PolicyQueue()
    private var sketch = FrequencySketch()

    /// The window's share of the bound; the climber moves it.
    private(set) var windowMaximum: Int
    /// Protected's share of the bound: 80% of main's.
    private(set) var protectedMaximum: Int

    private var hitsInSample = 0
    private var missesInSample = 0
    private var previousHitRatio = 0.0
    private var stepSize: Double
    /// The part of the climber's steps not yet applied (whole entries are moved).
    private var pendingAdjustment = 0.0
    private var random: UInt64 = 0x9E37_79B9_7F4A_7C15

    private static let windowID: UInt8 = 0
    private static let probationID: UInt8 = 1
    private static let protectedID: UInt8 = 2

    /// The window's share of a new policy (Caffeine: 1%).
    static let initialWindowFraction = 0.01
    /// Protected's share of main.
    static let protectedFraction = 0.8
    /// The climber's first step, and the step it restarts at, as a fraction of the bound.
    static let stepFraction = 0.0625
    /// The change of hit ratio between samples that restarts the step.
    static let restartThreshold = 0.05
    /// The factor the step decays by at every sample.
    static let stepDecay = 0.98
    /// The largest sketch it sizes from the bound up front (in keys); a larger bound grows
    /// the sketch with the entry count.
    private static let initialSketchLimit = 1 << 16

    package init(maximumWeight: Int) {
        self.maximumWeight = max(0, maximumWeight)
        let maximum = self.maximumWeight
        windowMaximum = maximum - Int(Double(maximum) * (1 - Self.initialWindowFraction))
        protectedMaximum = Int(Self.protectedFraction * Double(maximum - windowMaximum))
        stepSize = -Self.stepFraction * Double(maximum)
        sketch.ensureCapacity(min(maximum, Self.initialSketchLimit))
    }

    package var totalWeight: Int { window.weight + probation.weight + protected.weight }
    package var count: Int { window.count + probation.count + protected.count }

    package mutating func recordHit(_ node: PolicyNode) {
        hitsInSample += 1
        touch(node)
        if hitsInSample + missesInSample >= sketch.sampleSize { climb() }
    }

    package mutating func recordMiss(hash: UInt64) {
        missesInSample += 1
        if hitsInSample + missesInSample >= sketch.sampleSize { climb() }
    }

    package mutating func insert(hash: UInt64, weight: Int) -> PolicyNode {
        if count >= sketch.capacity && sketch.capacity < maximumWeight {
            sketch.ensureCapacity(min(maximumWeight, 2 * sketch.capacity))
        }
        sketch.increment(hash)
        let node = nodes.allocate(hash: hash, weight: weight, queue: Self.windowID)
        nodes.append(node, to: &window, id: Self.windowID)
        // While the region has room, the window's overflow moves to probation unjudged;
        // once it is full, `evict()` judges each entry leaving the window.
        while window.weight > windowMaximum && totalWeight <= maximumWeight && window.front != node {
            let oldest = window.front
            nodes.unlink(oldest, from: &window)
            nodes.append(oldest, to: &probation, id: Self.probationID)
        }
        return node
    }

    package mutating func update(_ node: PolicyNode, weight: Int) {
        switch nodes[node].queue {
        case Self.windowID: nodes.setWeight(node, weight, in: &window)
        case Self.probationID: nodes.setWeight(node, weight, in: &probation)
        default: nodes.setWeight(node, weight, in: &protected)
        }
        touch(node)
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
            } else {
                nodes.unlink(candidate, from: &window)
                nodes.append(candidate, to: &probation, id: Self.probationID)
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

    package mutating func removeAll() {
        nodes.removeAll()
        window = PolicyQueue()
        probation = PolicyQueue()
        protected = PolicyQueue()
        sketch.clear()
        let fresh = Self(maximumWeight: maximumWeight)
        windowMaximum = fresh.windowMaximum
        protectedMaximum = fresh.protectedMaximum
        stepSize = fresh.stepSize
        hitsInSample = 0
        missesInSample = 0
        previousHitRatio = 0
        pendingAdjustment = 0
    }

    /// Counts an access to `node` and moves it as a hit does.
    @inline(__always)
    private mutating func touch(_ node: PolicyNode) {
        sketch.increment(nodes[node].hash)
        switch nodes[node].queue {
        case Self.windowID:
            nodes.moveToBack(node, in: &window)
        case Self.probationID:
            nodes.unlink(node, from: &probation)
            nodes.append(node, to: &protected, id: Self.protectedID)
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
            nodes.unlink(node, from: &protected)
            nodes.append(node, to: &probation, id: Self.probationID)
        }
    }

    /// Whether the window's `candidate` should replace main's `victim`.
    private mutating func admit(candidate: PolicyNode, victim: PolicyNode) -> Bool {
        let candidateFrequency = sketch.frequency(nodes[candidate].hash)
        let victimFrequency = sketch.frequency(nodes[victim].hash)
        if candidateFrequency > victimFrequency { return true }
        if candidateFrequency < 6 { return false }
        random ^= random << 13
        random ^= random >> 7
        random ^= random << 17
        return random & 127 == 0
    }

    /// Resizes the window by the climber's step and starts a new sample.
    private mutating func climb() {
        let requests = hitsInSample + missesInSample
        let hitRatio = Double(hitsInSample) / Double(requests)
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

    /// Grows the window's share by up to `quota` (taken from protected's) and fills it with
    /// main's oldest entries; returns the change of share.
    private mutating func increaseWindow(by quota: Int) -> Int {
        let quota = min(quota, protectedMaximum)
        guard quota > 0 else { return 0 }
        protectedMaximum -= quota
        windowMaximum += quota
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

    /// Shrinks the window's share by up to `quota` (given to protected's), moving the
    /// window's oldest entries to probation; returns the change of share.
    private mutating func decreaseWindow(by quota: Int) -> Int {
        let quota = min(quota, max(0, windowMaximum - 1))
        guard quota > 0 else { return 0 }
        protectedMaximum += quota
        windowMaximum -= quota
        while window.weight > windowMaximum && !window.isEmpty {
            let node = window.front
            nodes.unlink(node, from: &window)
            nodes.append(node, to: &probation, id: Self.probationID)
        }
        return quota
    }
}
