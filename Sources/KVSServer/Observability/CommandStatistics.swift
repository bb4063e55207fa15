import KVS
import NIOCore
import Synchronization

/// The per-command counters of one event loop: calls, time, rejected and failed calls
/// for each command table slot, and the error replies by code.
///
/// Only the connections of the owning event loop write the command counters, so an update
/// is a relaxed load and a relaxed store (plain moves on x86 and ARM), not a read-modify-write
/// shared between cores; INFO reads them with relaxed loads from any thread.
// @unchecked Sendable is safe: `slots` is allocated once in `init`, never reassigned, freed
// only in `deinit`, and every element is an `Atomic`, accessed only through its atomic
// operations; `errors` is a `Locked`.
final class LoopCommandCounters: @unchecked Sendable {  // safe: see the proof above
    /// Counters per command slot: calls, nanoseconds, rejected calls, failed calls.
    static let fieldsPerCommand = 4
    private let slots: UnsafeMutablePointer<Atomic<Int>>
    /// How many command slots there are.
    let commandCount: Int
    /// Error replies by code (`ERR`, `WRONGTYPE`), and their total.
    let errors = Locked<ErrorCounts>(ErrorCounts())

    /// The error replies of one event loop.
    struct ErrorCounts: Sendable {
        var total = 0
        var byCode: [String: Int] = [:]
    }

    /// Redis keeps at most this many error codes (`ERROR_STATS_NUMBER`); later codes are
    /// counted in the total only.
    static let maxErrorCodes = 128

    init(commandCount: Int) {
        self.commandCount = commandCount
        let n = commandCount * Self.fieldsPerCommand
        slots = .allocate(capacity: n)
        for i in 0..<n { (slots + i).initialize(to: Atomic(0)) }
    }

    deinit {
        slots.deinitialize(count: commandCount * Self.fieldsPerCommand)
        slots.deallocate()
    }

    /// Adds `n` to counter `i`; called only on the owning event loop.
    @inline(__always)
    private func add(_ i: Int, _ n: Int) {
        slots[i].store(slots[i].load(ordering: .relaxed) &+ n, ordering: .relaxed)
    }

    /// Counts one executed call of the command in `slot` that took `nanoseconds`.
    @inline(__always)
    func recordCall(slot: Int, nanoseconds: Int) {
        guard slot >= 0, slot < commandCount else { return }
        add(slot &* 4, 1)
        add(slot &* 4 &+ 1, nanoseconds)
    }

    /// Counts a call refused before it ran (arity, authentication, MULTI rules).
    func recordRejected(slot: Int) {
        guard slot >= 0, slot < commandCount else { return }
        add(slot * 4 + 2, 1)
    }

    /// Counts a call that ran and replied with an error.
    func recordFailed(slot: Int) {
        guard slot >= 0, slot < commandCount else { return }
        add(slot * 4 + 3, 1)
    }

    /// Counts error replies by their code (the first word of each message).
    func recordErrors(_ codes: [String]) {
        errors.withLock { counts in
            for code in codes {
                counts.total += 1
                if let n = counts.byCode[code] {
                    counts.byCode[code] = n + 1
                } else if counts.byCode.count < Self.maxErrorCodes {
                    counts.byCode[code] = 1
                }
            }
        }
    }

    /// Counter `i` (slot * 4 + field).
    func load(_ i: Int) -> Int { slots[i].load(ordering: .relaxed) }
}

/// One command's figures for INFO commandstats.
package struct CommandFigures: Sendable, Equatable {
    /// Calls that ran.
    package var calls = 0
    /// Their total time.
    package var nanoseconds = 0
    /// Calls refused before running (arity, authentication, MULTI rules).
    package var rejected = 0
    /// Calls that ran and replied with an error.
    package var failed = 0
}

/// The server's per-command statistics: one ``LoopCommandCounters`` per event loop, summed
/// when INFO asks; CONFIG RESETSTAT moves a baseline instead of writing to the loops'
/// counters (which only their loops write).
///
/// Thread-safety: thread-safe.
package final class CommandStatistics: Sendable {
    private struct State: Sendable {
        var loops: [ObjectIdentifier: LoopCommandCounters] = [:]
        /// The summed counters at the last reset.
        var baseline: [Int] = []
    }

    private let state = Locked(State())
    private let commandCount: Int

    init(commandCount: Int) {
        self.commandCount = commandCount
    }

    /// The counters of `loop` (made on first use).
    func counters(for loop: any EventLoop) -> LoopCommandCounters {
        let key = ObjectIdentifier(loop)
        return state.withLock { state in
            if let c = state.loops[key] { return c }
            let c = LoopCommandCounters(commandCount: commandCount)
            state.loops[key] = c
            return c
        }
    }

    private func sums(_ loops: some Sequence<LoopCommandCounters>) -> [Int] {
        var sums = [Int](repeating: 0, count: commandCount * LoopCommandCounters.fieldsPerCommand)
        for loop in loops {
            for i in sums.indices { sums[i] &+= loop.load(i) }
        }
        return sums
    }

    /// The figures per command slot since the last reset (commands never called are absent).
    package func figures() -> [Int: CommandFigures] {
        let (loops, baseline) = state.withLock { (Array($0.loops.values), $0.baseline) }
        let sums = sums(loops)
        var out: [Int: CommandFigures] = [:]
        for slot in 0..<commandCount {
            func value(_ field: Int) -> Int {
                let i = slot * 4 + field
                return max(0, sums[i] &- (i < baseline.count ? baseline[i] : 0))
            }
            let f = CommandFigures(calls: value(0), nanoseconds: value(1), rejected: value(2), failed: value(3))
            if f.calls > 0 || f.rejected > 0 || f.failed > 0 { out[slot] = f }
        }
        return out
    }

    /// Error replies since the last reset: the total and the count per code.
    package func errors() -> (total: Int, byCode: [String: Int]) {
        let loops = state.withLock { Array($0.loops.values) }
        var total = 0
        var byCode: [String: Int] = [:]
        for loop in loops {
            loop.errors.withLock { e in
                total += e.total
                for (code, n) in e.byCode { byCode[code, default: 0] += n }
            }
        }
        return (total, byCode)
    }

    /// Zeroes the figures (CONFIG RESETSTAT).
    package func reset() {
        state.withLock { state in
            state.baseline = sums(state.loops.values)
            for loop in state.loops.values { loop.errors.withLock { $0 = LoopCommandCounters.ErrorCounts() } }
        }
    }
}
