import KVS
import NIOCore
import Synchronization

/// The slow log (Redis's `slowlog.c`): the most recent commands that ran for at least
/// `slowlog-log-slower-than` microseconds, newest first, at most `slowlog-max-len` of them.
///
/// Thread-safety: thread-safe. The threshold is an atomic that each connection reads once
/// per read burst; entries are added under a lock, only for slow commands.
package final class SlowLog: Sendable {
    /// One logged command.
    package struct Entry: Sendable, Equatable {
        /// The entry's number: 0 for the first logged, counting up (also across RESET).
        package var id: Int
        /// Unix time in seconds when the command was logged.
        package var timestamp: Int
        /// How long the command ran.
        package var microseconds: Int
        /// The arguments, truncated as Redis truncates them.
        package var arguments: [[UInt8]]
        /// The client's `ip:port`.
        package var clientAddress: String
        /// The client's name after the command (empty when it has none).
        package var clientName: String
    }

    /// Redis's limits on what an entry keeps: 32 arguments, 128 bytes of each.
    static let maxArguments = 32
    static let maxArgumentBytes = 128

    private struct State: Sendable {
        /// Newest last.
        var entries: [Entry] = []
        var nextID = 0
    }

    private let state = Locked(State())
    private let threshold = Atomic<Int>(10_000)
    private let maxLength = Atomic<Int>(128)

    /// Creates it empty, with the defaults.
    package init() {}

    /// `slowlog-log-slower-than` in microseconds: a negative value turns the log off, 0 logs
    /// every command. Default 10,000.
    package var thresholdMicroseconds: Int {
        get { threshold.load(ordering: .relaxed) }
        set { threshold.store(newValue, ordering: .relaxed) }
    }

    /// `slowlog-max-len`: the most entries kept (the oldest go first). Default 128.
    /// Setting a shorter length drops the oldest entries at once.
    package var maxEntries: Int {
        get { maxLength.load(ordering: .relaxed) }
        set {
            let n = max(0, newValue)
            maxLength.store(n, ordering: .relaxed)
            state.withLock { s in
                if s.entries.count > n { s.entries.removeFirst(s.entries.count - n) }
            }
        }
    }

    /// The threshold in nanoseconds, `Int.max` when the log is off.
    var thresholdNanoseconds: Int {
        let t = thresholdMicroseconds
        guard t >= 0 else { return .max }
        let (n, overflow) = t.multipliedReportingOverflow(by: 1000)
        return overflow ? .max : n
    }

    /// Adds an entry for a command that ran for `microseconds`.
    func add(arguments args: [ByteBuffer], microseconds: Int, address: String, name: String) {
        var kept: [[UInt8]] = []
        let count = min(args.count, Self.maxArguments)
        kept.reserveCapacity(count)
        for j in 0..<count {
            if count != args.count, j == count - 1 {
                kept.append(Array("... (\(args.count - count + 1) more arguments)".utf8))
            } else if args[j].readableBytes > Self.maxArgumentBytes {
                var bytes = Array(args[j].readableBytesView.prefix(Self.maxArgumentBytes))
                bytes += Array("... (\(args[j].readableBytes - Self.maxArgumentBytes) more bytes)".utf8)
                kept.append(bytes)
            } else {
                kept.append(Array(args[j].readableBytesView))
            }
        }
        let timestamp = WallClock.microseconds() / 1_000_000
        let limit = maxEntries
        state.withLock { s in
            guard limit > 0 else { return }
            s.entries.append(
                Entry(
                    id: s.nextID,
                    timestamp: timestamp,
                    microseconds: microseconds,
                    arguments: kept,
                    clientAddress: address,
                    clientName: name
                )
            )
            s.nextID += 1
            if s.entries.count > limit { s.entries.removeFirst(s.entries.count - limit) }
        }
    }

    /// The newest `count` entries (all of them for nil), newest first.
    package func newest(_ count: Int?) -> [Entry] {
        state.withLock { s in
            let n = min(count ?? s.entries.count, s.entries.count)
            return Array(s.entries.suffix(n).reversed())
        }
    }

    /// How many entries there are.
    package var count: Int { state.withLock { $0.entries.count } }

    /// Removes every entry (ids keep counting up, as in Redis).
    package func reset() { state.withLock { $0.entries.removeAll() } }
}
