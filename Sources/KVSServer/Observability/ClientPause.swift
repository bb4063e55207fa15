import KVS
import NIOCore

/// CLIENT PAUSE: until a deadline, the commands of every client (ALL) or its write
/// commands (WRITE) wait; they are neither refused nor lost. A waiting connection stops
/// executing and reading, and resumes on its own event loop when the pause ends (a task
/// scheduled at the deadline) or is lifted (CLIENT UNPAUSE wakes every waiter).
///
/// Thread-safety: thread-safe.
package final class ClientPause: Sendable {
    /// A waiting connection: its event loop and what resumes it there.
    struct Waiter: Sendable {
        let loop: any EventLoop
        let resume: @Sendable () -> Void
    }

    private struct State: Sendable {
        var end = NIODeadline.uptimeNanoseconds(0)
        var all = false
        var active = false
        var waiters: [Waiter] = []
    }

    private let state = Locked(State())
    private let flags: ObservationFlags

    init(flags: ObservationFlags) { self.flags = flags }

    /// Pauses for `milliseconds` (clamped to a year). While a pause is in force, the later
    /// end and the stricter mode win, as in Redis.
    func pause(milliseconds: Int64, all: Bool, now: NIODeadline = .now()) {
        let ms = min(max(0, milliseconds), 365 * 24 * 3600 * 1000)
        let end = now + .milliseconds(ms)
        state.withLock { s in
            if s.active, s.end > now {
                s.end = max(s.end, end)
                s.all = s.all || all
            } else {
                s.end = end
                s.all = all
            }
            s.active = true
            flags.set(ObservationFlags.paused, true)
        }
    }

    /// Lifts the pause and wakes every waiting connection.
    func unpause() {
        let waiters = state.withLock { s in
            s.active = false
            s.all = false
            flags.set(ObservationFlags.paused, false)
            let w = s.waiters
            s.waiters = []
            return w
        }
        for w in waiters { w.loop.execute(w.resume) }
    }

    /// When a command that writes (`write`) or not must wait: the pause's end, or nil if
    /// it may run. A pause found over is lifted.
    func deadline(write: Bool, now: NIODeadline = .now()) -> NIODeadline? {
        let (end, expired): (NIODeadline?, Bool) = state.withLock { s in
            guard s.active else { return (nil, false) }
            guard s.end > now else { return (nil, true) }
            return (s.all || write ? s.end : nil, false)
        }
        if expired { unpause() }
        return end
    }

    /// Registers a connection to wake when the pause is lifted; false when it already was
    /// (the caller resumes at once).
    func addWaiter(_ waiter: Waiter) -> Bool {
        state.withLock { s in
            guard s.active else { return false }
            s.waiters.append(waiter)
            return true
        }
    }
}
