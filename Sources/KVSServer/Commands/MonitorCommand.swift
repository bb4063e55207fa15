import KVS
import NIOCore
import RESP

/// MONITOR: from its OK on, the connection receives a line for every command the server
/// runs (see ``MonitorRegistry``). Refused inside MULTI/EXEC with Redis's error.
enum MonitorCommand {
    static let all: [CommandSpec] = [
        .session(
            "monitor",
            arity: 1,
            flags: [.admin, .barrier],
            group: "server",
            summary: "Listens for all requests received by the server in real-time.",
            monitor
        )
    ]

    static func monitor(_ c: inout SessionCall) throws {
        if c.insideExec { throw CommandError("ERR MONITOR isn't allowed for DENY BLOCKING client") }
        if !c.session.info.isMonitor, let channel = c.server.clients.channel(of: c.session.id) {
            c.server.monitors.add(id: c.session.id, channel: channel)
            c.session.info.isMonitor = true
        }
        c.ok()
    }
}
