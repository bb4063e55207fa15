import KVS
import NIOCore
import RESP

/// LATENCY LATEST / HISTORY / RESET / DOCTOR / GRAPH / HISTOGRAM / HELP, as Redis 7.0
/// answers them for the events kvs records (`command`, `fast-command`). DOCTOR's report,
/// GRAPH's chart and HISTOGRAM's per-command histograms are not produced: they answer an
/// error saying so (with the monitor off, DOCTOR answers Redis's text and GRAPH its error).
enum LatencyCommand {
    static let all: [CommandSpec] = [
        .session(
            "latency",
            arity: -2,
            flags: [.admin],
            group: "server",
            summary: "A container for latency diagnostics commands.",
            subcommands: subcommands,
            latency
        )
    ]

    /// Redis's arity of each subcommand.
    static let subcommands: [String: Int] = [
        "latest": 2, "history": 3, "reset": -2, "doctor": 2, "graph": 3, "histogram": -2, "help": 2,
    ]

    /// DOCTOR's reply while the monitor is off (Redis's text).
    static let disabledDoctor =
        "I'm sorry, Dave, I can't do that. Latency monitoring is disabled in this Redis instance. You may use \"CONFIG SET latency-monitor-threshold <milliseconds>.\" in order to enable it. If we weren't in a deep space mission I'd suggest to take a look at https://redis.io/topics/latency-monitor.\n"

    static func latency(_ c: inout SessionCall) throws {
        if let error = CommandSpec.subcommandError(command: "latency", subcommands: subcommands, c.args) { throw error }
        let sub = c.option(1)
        let monitor = c.server.latency
        switch sub {
        case "LATEST":
            let events = monitor.all.sorted { $0.key < $1.key }
            c.arrayHeader(events.count)
            for (name, e) in events {
                c.arrayHeader(4)
                c.bulk(name)
                c.integer(reply: e.samples.last?.time ?? 0)
                c.integer(reply: e.samples.last?.milliseconds ?? 0)
                c.integer(reply: e.max)
            }
        case "HISTORY":
            let samples = monitor.all[c.string(2)]?.samples ?? []
            c.arrayHeader(samples.count)
            for s in samples {
                c.arrayHeader(2)
                c.integer(reply: s.time)
                c.integer(reply: s.milliseconds)
            }
        case "RESET":
            c.integer(reply: monitor.reset(c.count == 2 ? nil : (2..<c.count).map { c.string($0) }))
        case "DOCTOR":
            guard monitor.thresholdMilliseconds == 0 else {
                throw CommandError("ERR LATENCY DOCTOR is not supported by kvs-server; use LATENCY LATEST and HISTORY")
            }
            c.verbatim(disabledDoctor)
        case "GRAPH":
            let name = c.string(2)
            guard monitor.all[name] != nil else { throw CommandError("ERR No samples available for event '\(name)'") }
            throw CommandError("ERR LATENCY GRAPH is not supported by kvs-server; use LATENCY HISTORY")
        case "HISTOGRAM":
            throw CommandError("ERR LATENCY HISTOGRAM is not supported by kvs-server")
        default:
            let lines = [
                "LATENCY <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
                "DOCTOR",
                "    Return a human readable latency analysis report.",
                "GRAPH <event>",
                "    Return an ASCII latency graph for the <event> class.",
                "HISTORY <event>",
                "    Return time-latency samples for the <event> class.",
                "LATEST",
                "    Return the latest latency samples for all events.",
                "RESET [<event> ...]",
                "    Reset latency data of one or more <event> classes.",
                "    (default: reset all data for all event classes)",
                "HISTOGRAM [COMMAND ...]",
                "    Return a cumulative distribution of latencies in the format of a histogram for the specified command names.",
                "    If no commands are specified then all histograms are replied.",
                "HELP",
                "    Prints this help.",
            ]
            c.arrayHeader(lines.count)
            for line in lines { c.simple(line) }
        }
    }
}
