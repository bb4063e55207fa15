import KVS
import NIOCore
import Synchronization

/// INFO's `instantaneous_ops_per_sec`, as Redis measures it (`trackInstantaneousMetric`):
/// every 100 ms the commands processed since the previous sample, per second; the figure
/// is the mean of the last 16 samples.
///
/// Thread-safety: thread-safe. The sampling task runs on one event loop, started by the
/// first connection.
package final class OperationsRate: Sendable {
    private struct State: Sendable {
        var samples = [Int](repeating: 0, count: OperationsRate.sampleCount)
        var next = 0
        var lastTime = 0
        var lastCount = 0
    }

    static let sampleCount = 16
    private let state = Locked(State())
    private let started = Atomic<Bool>(false)

    /// Creates it empty, with the defaults.
    package init() {}

    /// Starts sampling `count` on `loop` every 100 ms, unless already started.
    func start(on loop: any EventLoop, count: @escaping @Sendable () -> Int) {
        guard started.compareExchange(expected: false, desired: true, ordering: .relaxed).exchanged else { return }
        loop.scheduleRepeatedTask(initialDelay: .milliseconds(100), delay: .milliseconds(100)) { [weak self] _ in
            self?.sample(count: count(), now: MonotonicClock.nanoseconds())
        }
    }

    /// Adds a sample: `count` commands in total at `now` (monotonic nanoseconds).
    func sample(count: Int, now: Int) {
        state.withLock { s in
            if s.lastTime > 0, now > s.lastTime {
                let delta = max(0, count - s.lastCount)
                let rate = (Double(delta) * 1e9 / Double(now - s.lastTime)).rounded(.down)
                s.samples[s.next] = rate < 1e15 ? Int(rate) : Int(1e15)  // bounded: no conversion trap
                s.next = (s.next + 1) % Self.sampleCount
            }
            s.lastTime = now
            s.lastCount = count
        }
    }

    /// The mean of the samples, in operations per second.
    package var perSecond: Int { state.withLock { $0.samples.reduce(0, +) / Self.sampleCount } }
}
