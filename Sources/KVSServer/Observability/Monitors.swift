import Foundation
import KVS
import NIOCore
import Synchronization

/// What the connections check once per command, in one word: whether a client MONITORs and
/// whether clients are paused. With neither, the check is one relaxed load.
package final class ObservationFlags: Sendable {
    /// Set while at least one connection MONITORs.
    static let monitoring = 1
    /// Set while a CLIENT PAUSE may be in force.
    static let paused = 2

    let word = Atomic<Int>(0)

    /// Creates it empty, with the defaults.
    package init() {}

    /// The current flags.
    @inline(__always)
    var current: Int { word.load(ordering: .relaxed) }

    func set(_ bit: Int, _ on: Bool) {
        if on {
            word.bitwiseOr(bit, ordering: .relaxed)
        } else {
            word.bitwiseAnd(~bit, ordering: .relaxed)
        }
    }
}

/// The connections that ran MONITOR, and the lines sent to them (Redis's
/// `replicationFeedMonitors`): `+<unix time with microseconds> [<db> <addr>] "arg" ...`.
///
/// Thread-safety: thread-safe; a line is written to each monitor's channel, which NIO
/// hands to that channel's event loop.
package final class MonitorRegistry: Sendable {
    /// A monitor's channel and the bytes sent to it and not yet written to its socket.
    final class Monitor: Sendable {
        let channel: any Channel
        let pending = Atomic<Int>(0)
        init(channel: any Channel) { self.channel = channel }
    }

    /// The most unwritten bytes a monitor may have before it is disconnected: Redis's hard
    /// output-buffer limit for monitors (which it counts as replicas), 256 MiB.
    static let maxPendingBytes = 256 * 1024 * 1024

    private let channels = Locked<[Int: Monitor]>([:])
    private let flags: ObservationFlags

    init(flags: ObservationFlags) { self.flags = flags }

    /// Makes the connection `id` a monitor.
    func add(id: Int, channel: any Channel) {
        channels.withLock { c in
            c[id] = Monitor(channel: channel)
            flags.set(ObservationFlags.monitoring, true)
        }
    }

    /// Stops sending to the connection `id` (when it closes).
    func remove(id: Int) {
        channels.withLock { c in
            guard c.removeValue(forKey: id) != nil else { return }
            if c.isEmpty { flags.set(ObservationFlags.monitoring, false) }
        }
    }

    /// Whether the connection `id` is a monitor.
    func contains(_ id: Int) -> Bool { channels.withLock { $0[id] != nil } }

    /// The monitors, by connection id.
    var all: [Int: Monitor] { channels.withLock { $0 } }

    /// Sends `lines` to `monitor`'s connection (from any thread); one that has not read
    /// ``maxPendingBytes`` of earlier lines is closed instead.
    static func send(_ lines: ByteBuffer, to monitor: Monitor) {
        let n = lines.readableBytes
        guard monitor.pending.add(n, ordering: .relaxed).newValue <= maxPendingBytes else {
            monitor.channel.close(promise: nil)
            return
        }
        let written = monitor.channel.eventLoop.makePromise(of: Void.self)
        written.futureResult.whenComplete { _ in monitor.pending.subtract(n, ordering: .relaxed) }
        monitor.channel.writeAndFlush(lines, promise: written)
    }

    /// Whether a command is shown to monitors: Redis leaves out administrative commands
    /// (CONFIG, SLOWLOG, MONITOR, CLIENT KILL…) and QUIT.
    static func shows(_ spec: CommandSpec, _ args: [ByteBuffer]) -> Bool {
        if spec.flags.contains(.admin) || spec.name == "quit" { return false }
        if spec.name == "client", args.count > 1 {
            switch String(buffer: args[1]).lowercased() {
            case "kill", "list", "pause", "unpause", "no-evict", "unblock": return false
            default: return true
            }
        }
        return true
    }

    /// One monitor line (with its `\r\n`) for `args` run by `address` on database `db`, at
    /// `microseconds` since 1970: arguments quoted as Redis's `sdscatrepr` quotes them, and
    /// passwords (AUTH, HELLO … AUTH) shown as `(redacted)`.
    static func line(args: [ByteBuffer], db: Int, address: String, microseconds: Int) -> ByteBuffer {
        var out = ByteBuffer()
        let seconds = microseconds / 1_000_000
        let fraction = microseconds % 1_000_000
        var frac = String(fraction)
        frac = String(repeating: "0", count: max(0, 6 - frac.count)) + frac
        out.writeString("+\(seconds).\(frac) [\(db) \(address)]")
        let name = args.first.map { String(buffer: $0).lowercased() } ?? ""
        for (j, arg) in args.enumerated() {
            out.writeString(" ")
            if redacts(name: name, args: args, index: j) {
                out.writeString("\"(redacted)\"")
            } else {
                quote(arg, into: &out)
            }
        }
        out.writeString("\r\n")
        return out
    }

    /// Whether argument `index` is a secret Redis hides from monitors.
    static func redacts(name: String, args: [ByteBuffer], index: Int) -> Bool {
        guard index > 0 else { return false }
        if name == "auth" { return true }
        if name == "hello" {
            // HELLO [protover [AUTH user pass] [SETNAME name]]
            var i = 2
            while i < args.count {
                if String(buffer: args[i]).uppercased() == "AUTH", i + 2 < args.count {
                    if index == i + 1 || index == i + 2 { return true }
                    i += 3
                } else {
                    i += 1
                }
            }
        }
        return false
    }

    /// Appends `arg` in double quotes, escaped as `sdscatrepr` does.
    static func quote(_ arg: ByteBuffer, into out: inout ByteBuffer) {
        out.writeInteger(UInt8(ascii: "\""))
        for b in arg.readableBytesView {
            switch b {
            case UInt8(ascii: "\\"): out.writeStaticString("\\\\")
            case UInt8(ascii: "\""): out.writeStaticString("\\\"")
            case UInt8(ascii: "\n"): out.writeStaticString("\\n")
            case UInt8(ascii: "\r"): out.writeStaticString("\\r")
            case UInt8(ascii: "\t"): out.writeStaticString("\\t")
            case 7: out.writeStaticString("\\a")
            case 8: out.writeStaticString("\\b")
            case 0x20...0x7E: out.writeInteger(b)
            default:
                let hex = Array("0123456789abcdef".utf8)
                out.writeStaticString("\\x")
                out.writeInteger(hex[Int(b >> 4)])
                out.writeInteger(hex[Int(b & 0xF)])
            }
        }
        out.writeInteger(UInt8(ascii: "\""))
    }
}
