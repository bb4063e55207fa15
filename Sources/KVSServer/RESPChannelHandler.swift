import Foundation
import KVS
import Logging
import NIOCore
@_spi(Fuzzing) import RESP

/// One client connection: bytes in → commands (``RESPDecoder``) → the command table →
/// replies (``RESPEncoder``) out.
///
/// - Pipelining: every complete command in a read is executed in order and its reply
///   appended to one output buffer, which is written and flushed once per read burst
///   (`channelReadComplete`), not once per reply.
/// - Back-pressure: while the channel is not writable (the client does not read its
///   replies), no further commands are executed and no more is read from the socket,
///   so a connection's memory stays bounded by its query-buffer limit plus one burst of replies.
/// - Limits and malformed input: `-ERR Protocol error: …`, then the connection closes.
///
/// Thread-safety: lives on its channel's event loop, like every handler.
final class RESPChannelHandler: ChannelDuplexHandler {
    typealias InboundIn = ByteBuffer
    typealias OutboundIn = ByteBuffer
    typealias OutboundOut = ByteBuffer

    private let server: ServerState
    // The mutable state is exempt from dynamic exclusivity checks, which would be about 15
    // `swift_beginAccess` calls per request (docs/design/server-request-path.md). No access
    // to it can overlap another: the handler runs on its channel's event loop only, and no
    // access spans a call that could re-enter it (commands never touch the channel; the
    // writes in `flush` are made after the reply buffer has been taken out of `state`).
    @exclusivity(unchecked) private var decoder: RESPDecoder
    /// Received bytes not yet decoded.
    @exclusivity(unchecked) private var input: ByteBuffer?
    /// The session and the reusable call (arguments, selected database, reply buffer).
    @exclusivity(unchecked) private var state: SessionCall
    @exclusivity(unchecked) private var closing = false
    @exclusivity(unchecked) private var readPending = false
    /// The channel's writability as last reported by `channelWritabilityChanged`, which NIO
    /// calls (on this loop) whenever it changes, so that reads and flushes need not ask
    /// the channel.
    @exclusivity(unchecked) private var writable = true
    @exclusivity(unchecked) private var commandsSinceFlush = 0
    /// The keys ``prefetchPipelinedKeys(_:from:)`` collects, kept for its capacity.
    @exclusivity(unchecked) private var prefetchKeys: [ByteKey] = []
    private let maxQueryBuffer: Int
    /// This event loop's per-command counters (set when the handler is added).
    @exclusivity(unchecked) private var counters: LoopCommandCounters?
    /// The clock that times commands (``CommandClock/shared``, kept here: reading a global
    /// checks its lazy initialization).
    private let clock = CommandClock.shared
    /// When the current read burst started: ``MonotonicClock`` nanoseconds and ``clock`` ticks.
    @exclusivity(unchecked) private var burstStart = 0
    @exclusivity(unchecked) private var burstStartTicks = 0
    /// The ``clock`` ticks at which the current command started: the start of the read
    /// burst, then the end of the previous command (so one clock read per command).
    @exclusivity(unchecked) private var commandStart = 0
    /// The shorter of the slow-log and latency-monitor thresholds, in nanoseconds (read
    /// once per read burst): a command that took as long goes to ``recordSlow(_:_:)``.
    @exclusivity(unchecked) private var slowThreshold = Int.max
    /// Set while CLIENT PAUSE holds the decoded command in `state.call.args`: it runs
    /// first when the pause ends, and nothing more is read until then.
    @exclusivity(unchecked) private var holding = false
    /// The client's wait while a blocking command (BLPOP, …) holds it: nothing more runs
    /// or is read until the wait ends (see ``BlockingRegistry``).
    @exclusivity(unchecked) private var blocked: BlockedWait?
    /// Numbers each wait, so that a late timeout or delivery of an earlier one is ignored.
    @exclusivity(unchecked) private var blockCount = 0
    /// The statistics slot of the last command run (for CLIENT LIST's `cmd`).
    @exclusivity(unchecked) private var lastSlot = -1
    /// The context, for resuming after a pause (nil once the handler is removed).
    private var context: ChannelHandlerContext?

    /// The largest reply buffer kept from one flush to the next: 16 KiB, the size of
    /// Redis's per-client reply buffer, so 10,000 idle clients keep at most 160 MiB.
    private static let keptReplyCapacity = 16 * 1024

    init(server: ServerState, id: Int, remote: String, local: String) {
        self.server = server
        let auth = server.requiresAuth
        self.decoder = RESPDecoder(limits: server.configuration.decoderLimits, enforcesUnauthenticatedLimits: auth)
        self.maxQueryBuffer = server.configuration.maxQueryBufferLength
        let stamps = StampAllocator(source: server.stamps)
        let info = ClientInfo(id: id, address: remote, localAddress: local)
        let call = Call(
            args: [],
            access: DirectAccess(database: server.databases[0], stamps: stamps),
            out: ByteBufferAllocator().buffer(capacity: 0),
            encoder: RESPEncoder(version: .resp2),
            server: server
        )
        self.state = SessionCall(session: Session(id: id, authenticated: !auth, info: info), call: call)
        state.call.mayBlock = true
    }

    func handlerAdded(context: ChannelHandlerContext) {
        state.call.out = context.channel.allocator.buffer(capacity: 1024)
        self.context = context
        counters = server.statistics.counters(for: context.eventLoop)
        server.clients.register(state.session.info, channel: context.channel)
        let server = self.server
        server.operationsRate.start(on: context.eventLoop) { server.totalCommands.load(ordering: .relaxed) }
    }

    func handlerRemoved(context: ChannelHandlerContext) {
        self.context = nil
        if let wait = blocked {
            blocked = nil
            wait.timeout?.cancel()
            _ = server.blocking.cancel(wait.waiter)
        }
        state.session.unwatchAll(server: server)
        if state.session.info.isMonitor { server.monitors.remove(id: state.session.id) }
        server.clients.remove(state.session.id)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        var bytes = unwrapInboundIn(data)
        guard !closing else { return }
        if input == nil || input?.readableBytes == 0 {
            input = bytes
        } else {
            input?.writeBuffer(&bytes)
        }
        process(context: context)
    }

    /// Executes every complete command in `input`, while the channel can take replies.
    private func process(context: ChannelHandlerContext) {
        guard blocked == nil else { return }
        // A held command runs even when no input follows it.
        guard var buffer = input ?? (holding ? ByteBuffer() : nil) else { return }
        input = nil
        defer {
            if buffer.readableBytes > 0 {
                if buffer.readerIndex > 64 * 1024 { buffer.discardReadBytes() }
                input = buffer
            }
        }
        var first = true
        slowThreshold = min(server.slowLog.thresholdNanoseconds, server.latency.thresholdNanoseconds)
        burstStart = MonotonicClock.nanoseconds()
        burstStartTicks = clock.ticks(monotonic: burstStart)
        commandStart = burstStartTicks
        // A stopping server closes this connection once the running command ends: no
        // further pipelined command runs (one relaxed load per command).
        while !closing, !server.stopping.load(ordering: .relaxed) {
            if holding {
                holding = false
            } else {
                let start = buffer.readerIndex
                let found: Bool
                do {
                    found = try decoder.nextCommand(from: &buffer, into: &state.call.args)
                } catch {
                    protocolError(context: context, message: error.description)
                    return
                }
                guard found else {
                    if buffer.readableBytes > maxQueryBuffer {
                        protocolError(context: context, message: "Protocol error: query buffer limit exceeded")
                    }
                    return
                }
                if first {
                    first = false
                    // Only when more bytes wait behind the first command: a read of one command
                    // (every read at pipeline 1) skips the scan.
                    if buffer.readableBytes > 0 { prefetchPipelinedKeys(buffer, from: start) }
                }
            }
            let observed = server.observation.current
            if observed & ObservationFlags.paused != 0, let until = pauseDeadline() {
                hold(context: context, until: until)
                return
            }
            let mark = state.call.out.writerIndex
            execute(monitored: observed & ObservationFlags.monitoring != 0)
            if !state.call.readyKeys.isEmpty { serveBlockedClients() }
            if let request = state.call.blockRequest {
                state.call.blockRequest = nil
                if block(context: context, request) {
                    commandsSinceFlush += 1
                    flush(context: context, close: false)
                    return
                }
            }
            if state.session.replyMode != .on { applyReplyMode(from: mark) }
            commandsSinceFlush += 1
            if state.session.closeAfterReply {
                closing = true
                flush(context: context, close: true)
                return
            }
            if state.call.out.readableBytes >= 64 * 1024 {
                flush(context: context, close: false)
                if !writable { return }
            }
        }
    }

    /// With several commands in one read (a pipelining client), starts loading the table
    /// slots and values of the keys of all but the first before executing any: each
    /// lookup of a random key is two cache misses, and this lets them overlap
    /// (docs/design/server-request-path.md).
    ///
    /// - Parameters:
    ///   - buffer: the input, its first command decoded (not yet executed).
    ///   - start: where that first command starts in `buffer`.
    private func prefetchPipelinedKeys(_ buffer: ByteBuffer, from start: Int) {
        var keys = prefetchKeys
        prefetchKeys = []  // keeps `keys` uniquely referenced: appending copies nothing
        keys.removeAll(keepingCapacity: true)
        buffer.withVeryUnsafeBytes { storage in
            let input = UnsafeRawBufferPointer(rebasing: storage[start..<buffer.writerIndex])
            RESPPipelinePeek.forEachNextSecondArgument(in: input, limit: 64) { keys.append(ByteKey($0)) }
        }
        if !keys.isEmpty { state.call.access.database.engine.prefetch(keys) }
        prefetchKeys = keys
    }

    func channelReadComplete(context: ChannelHandlerContext) {
        flush(context: context, close: false)
    }

    private func flush(context: ChannelHandlerContext, close: Bool) {
        if commandsSinceFlush > 0 {
            let activity = state.session.info.activity
            // The end of the last command.
            let end = burstStart &+ clock.nanoseconds(ticks: commandStart &- burstStartTicks)
            activity.lastInteraction.store(end, ordering: .relaxed)
            activity.lastCommand.store(lastSlot, ordering: .relaxed)
            server.totalCommands.add(commandsSinceFlush, ordering: .relaxed)
            commandsSinceFlush = 0
        }
        if state.call.writes > 0 {
            server.persistence.dirty.add(state.call.writes, ordering: .relaxed)
            state.call.writes = 0
        }
        if state.call.out.readableBytes > 0 {
            if close {
                let out = state.call.out
                state.call.out = context.channel.allocator.buffer(capacity: 1024)
                let channel = context.channel
                context.writeAndFlush(wrapOutboundOut(out)).whenComplete { _ in channel.close(promise: nil) }
                return
            }
            // Taken out of `state` before the write, which can re-enter this handler (NIO
            // reports the channel writable again from inside it, and the handler then flushes):
            // the inner flush must not find these bytes still waiting.
            var out = state.call.out
            state.call.out = ByteBuffer()
            context.writeAndFlush(wrapOutboundOut(out), promise: nil)
            // The reply buffer is reused: when the socket took the whole write (nearly always),
            // NIO has let go of it and `clear()` keeps its storage; otherwise `clear()` gives it
            // new storage and the pending write keeps the old. This saves two allocations and
            // two frees per flush. A buffer grown past 16 KiB by a large reply is not kept.
            if state.call.out.readableBytes == 0, out.capacity <= Self.keptReplyCapacity {
                out.clear()
                state.call.out = out
            } else if state.call.out.capacity == 0 {
                state.call.out = context.channel.allocator.buffer(capacity: 1024)
            }
        } else if close {
            context.close(promise: nil)
        }
    }

    private func protocolError(context: ChannelHandlerContext, message: String) {
        closing = true
        input = nil
        state.call.encoder.writeError("ERR \(message)", into: &state.call.out)
        flush(context: context, close: true)
    }

    func channelWritabilityChanged(context: ChannelHandlerContext) {
        writable = context.channel.isWritable
        if writable {
            process(context: context)
            flush(context: context, close: closing)
            if readPending {
                readPending = false
                context.read()
            }
        }
        context.fireChannelWritabilityChanged()
    }

    func read(context: ChannelHandlerContext) {
        if writable, !holding, blocked == nil {
            context.read()
        } else {
            readPending = true
        }
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }

    // MARK: - Dispatch

    /// Runs the command in `state.call.args`, writing its reply, and counts it (calls,
    /// time, errors; the slow log and the latency monitor when it was slow; the monitors'
    /// lines when `monitored`).
    private func execute(monitored: Bool) {
        let args = state.call.args
        guard let found = server.commands.lookupWithSlot(args[0]) else {
            if state.session.queued != nil { state.session.queueFailed = true }
            state.call.error(unknownCommand(args))
            recordRejected(slot: nil)
            return
        }
        let spec = found.spec
        var slot = found.slot
        // Redis's order (`processCommand`): unknown command, unknown subcommand, arity,
        // authentication, MULTI rules.
        if spec.hasSubcommands, args.count > 1 {
            let subcommandSlot = server.commands.statisticsSlot(of: spec, slot: slot, subcommand: args[1])
            if let error = spec.subcommandError(args) {
                // An unknown subcommand counts as an error only, a known one as its rejected call.
                reject(error, spec: spec, slot: subcommandSlot == found.slot ? nil : subcommandSlot)
                return
            }
            slot = subcommandSlot
        }
        guard spec.accepts(args.count) else {
            reject(CommandError.wrongArity(spec.name), spec: spec, slot: slot)
            return
        }
        if !state.session.authenticated, !spec.flags.contains(.noAuth) {
            reject(CommandError("NOAUTH Authentication required."), spec: spec, slot: slot)
            return
        }
        // Memory before MULTI's rules, as in Redis's `processCommand`.
        if server.maxMemory.limit > 0, !server.maxMemory.performEvictions(server), refusedOutOfMemory(spec) {
            reject(CommandError.outOfMemory, spec: spec, slot: slot)
            return
        }
        if state.session.queued != nil, spec.flags.contains(.noMulti), spec.name != "watch" {
            state.session.queueFailed = true
            reply(error: "ERR Command not allowed inside a transaction")
            recordRejected(slot: slot)
            return
        }
        if state.session.queued != nil, !spec.flags.contains(.notQueued) {
            state.session.queued?.append(args)
            state.session.info.inMulti = state.session.queued?.count ?? 0
            state.call.simple("QUEUED")
            return
        }
        // What EXEC will run, for the monitors (Redis shows them before the EXEC line).
        let transaction = monitored && spec.name == "exec" ? state.session.queued : nil
        let replyStart = state.call.out.writerIndex
        let wasAuthenticated = state.session.authenticated
        do {
            switch spec.run {
            case .keyed(let direct, _): try direct(&state.call)
            case .session(let run): try run(&state)
            }
        } catch let error as CommandError {
            state.call.error(error)
        } catch let error as KVSError {
            reply(error: "ERR \(error.message)")
        } catch {
            reply(error: "ERR \(error)")
        }
        if state.session.authenticated != wasAuthenticated {
            decoder.enforcesUnauthenticatedLimits = !state.session.authenticated
        }
        lastSlot = slot >= 0 ? slot : found.slot
        if spec.updatesClientInfo {
            server.clients.update(state.session.info)
        }
        let end = clock.ticks()
        let elapsed = clock.nanoseconds(ticks: end &- commandStart)
        commandStart = end
        counters?.recordCall(slot: slot, nanoseconds: elapsed)  // nothing for slot -1
        if !state.call.errorCodes.isEmpty {
            counters?.recordFailed(slot: slot)
            recordErrors()
        }
        if elapsed >= slowThreshold { recordSlow(spec, elapsed) }
        if monitored, MonitorRegistry.shows(spec, args) {
            feedMonitors(args, transaction: transaction, replyStart: replyStart)
        }
    }

    /// Whether `spec` is refused while memory is over `maxmemory` and nothing can be
    /// evicted (Redis's `processCommand`): a command that may add data, an EXEC that
    /// would run one, and inside MULTI every command but EXEC, DISCARD, QUIT and RESET
    /// (a queue takes memory too).
    private func refusedOutOfMemory(_ spec: CommandSpec) -> Bool {
        if spec.flags.contains(.denyOOM) { return true }
        guard let queued = state.session.queued else { return false }
        switch spec.name {
        case "exec": return queued.contains { server.commands.lookup($0[0])?.flags.contains(.denyOOM) ?? false }
        case "discard", "quit", "reset": return false
        default: return true
        }
    }

    // MARK: - Statistics, slow log, monitors, pause, CLIENT REPLY

    /// Refuses a command before it runs, as Redis's `rejectCommand`: a transaction being
    /// queued is marked failed; a refused EXEC discards the transaction and its watches and
    /// answers `EXECABORT` quoting the reason (`execCommandAbort`).
    private func reject(_ error: CommandError, spec: CommandSpec, slot: Int?) {
        if spec.name == "exec" {
            state.session.queued = nil
            state.session.queueFailed = false
            state.session.info.inMulti = -1
            state.session.unwatchAll(server: server)
            state.session.info.watching = 0
            let reason = error.text.starts(with: Array("ERR ".utf8)) ? Array(error.text.dropFirst(4)) : error.text
            state.call.error(CommandError(text: Array("EXECABORT Transaction discarded because of: ".utf8) + reason))
        } else {
            if state.session.queued != nil { state.session.queueFailed = true }
            state.call.error(error)
        }
        recordRejected(slot: slot)
    }

    /// Counts a command refused before it ran (`slot` nil: an unknown command).
    private func recordRejected(slot: Int?) {
        if let slot { counters?.recordRejected(slot: slot) }
        recordErrors()
    }

    /// Moves the error codes of the replies just written into the loop's error counts.
    private func recordErrors() {
        guard !state.call.errorCodes.isEmpty else { return }
        counters?.recordErrors(state.call.errorCodes)
        state.call.errorCodes.removeAll(keepingCapacity: true)
    }

    /// Logs a command that took `nanoseconds` to the slow log and the latency monitor,
    /// each if it reached that one's threshold (Redis's `slowlogPushCurrentCommand` and
    /// `latencyAddSampleIfNeeded`; EXEC is left out of the slow log, as in Redis).
    private func recordSlow(_ spec: CommandSpec, _ nanoseconds: Int) {
        if nanoseconds >= server.slowLog.thresholdNanoseconds, spec.name != "exec" {
            var args = state.call.args
            if spec.name == "auth" || spec.name == "hello" {
                args = args.enumerated().map { i, a in
                    MonitorRegistry.redacts(name: spec.name, args: state.call.args, index: i)
                        ? ByteBuffer(string: "(redacted)") : a
                }
            }
            server.slowLog.add(
                arguments: args,
                microseconds: nanoseconds / 1000,
                address: state.session.info.address,
                name: state.session.name
            )
        }
        if nanoseconds >= server.latency.thresholdNanoseconds {
            server.latency.add(
                event: spec.flags.contains(.fast) ? "fast-command" : "command",
                milliseconds: nanoseconds / 1_000_000
            )
        }
    }

    /// Sends the line of the command just run to every monitor; before EXEC's own line,
    /// those of the commands it ran (when it ran them: its reply is an array).
    private func feedMonitors(_ args: [ByteBuffer], transaction: [[ByteBuffer]]?, replyStart: Int) {
        let now = WallClock.microseconds()
        let db = state.session.database
        let address = state.session.info.address
        var lines = ByteBuffer()
        if let transaction, state.call.out.getInteger(at: replyStart, as: UInt8.self) == UInt8(ascii: "*"),
            state.call.out.getInteger(at: replyStart + 1, as: UInt8.self) != UInt8(ascii: "-")
        {
            for queued in transaction {
                var line = MonitorRegistry.line(args: queued, db: db, address: address, microseconds: now)
                lines.writeBuffer(&line)
            }
        }
        var line = MonitorRegistry.line(args: args, db: db, address: address, microseconds: now)
        lines.writeBuffer(&line)
        for (id, monitor) in server.monitors.all {
            if id == state.session.id {
                // After this connection's own reply, which is still in `out`.
                state.call.out.writeImmutableBuffer(lines)
            } else {
                MonitorRegistry.send(lines, to: monitor)
            }
        }
    }

    /// CLIENT REPLY OFF / SKIP: drops the reply written from `mark` on.
    private func applyReplyMode(from mark: Int) {
        switch state.session.replyMode {
        case .on: break
        case .off: state.call.out.moveWriterIndex(to: mark)
        case .skipNext: state.session.replyMode = .skipThis
        case .skipThis:
            state.call.out.moveWriterIndex(to: mark)
            state.session.replyMode = .on
        }
    }

    /// The end of the CLIENT PAUSE that the command in `state.call.args` must wait for, or
    /// nil if it may run: every command under ALL; under WRITE, write commands and an
    /// EXEC that would run one.
    private func pauseDeadline() -> NIODeadline? {
        let args = state.call.args
        var write = false
        if let spec = server.commands.lookup(args[0]) {
            write = spec.flags.contains(.write)
            if spec.name == "exec", let queued = state.session.queued {
                write = queued.contains { server.commands.lookup($0[0])?.flags.contains(.write) ?? false }
            }
        }
        return server.pause.deadline(write: write)
    }

    /// Keeps the decoded command until the pause ends (`until`) or is lifted, reading
    /// nothing meanwhile; both wake-ups run ``resume()`` on this event loop.
    private func hold(context: ChannelHandlerContext, until: NIODeadline) {
        holding = true
        let bound = NIOLoopBound(self, eventLoop: context.eventLoop)
        let loop = context.eventLoop
        let resume: @Sendable () -> Void = { bound.value.resume() }
        if !server.pause.addWaiter(ClientPause.Waiter(loop: loop, resume: resume)) {
            loop.execute(resume)
            return
        }
        loop.scheduleTask(deadline: until, resume)
    }

    /// Runs the held command and what follows it, once the pause is over.
    private func resume() {
        guard holding, let context else { return }
        process(context: context)
        flush(context: context, close: closing)
        if !holding, readPending, writable {
            readPending = false
            context.read()
        }
    }

    private func reply(error message: String) {
        state.call.error(message)
    }

    // MARK: - Blocking commands

    /// A client's wait in a blocking command.
    private struct BlockedWait {
        let number: Int
        let waiter: BlockingRegistry.Waiter
        var timeout: Scheduled<Void>?
    }

    /// Serves the clients blocked on the keys the last command signalled.
    private func serveBlockedClients() {
        let keys = state.call.readyKeys
        state.call.readyKeys.removeAll(keepingCapacity: true)
        server.blocking.serve(keys, stamps: state.call.access.stamps, server: server)
    }

    /// Blocks the connection on `request`'s keys, unless one more try under the
    /// registry's lock serves it (its reply is then written).
    ///
    /// - Returns: whether the connection now waits.
    private func block(context: ChannelHandlerContext, _ request: BlockRequest) -> Bool {
        blockCount += 1
        let number = blockCount
        let loop = context.eventLoop
        let bound = NIOLoopBound(self, eventLoop: loop)
        let waiter = BlockingRegistry.Waiter(
            clientID: state.session.id,
            database: state.session.database,
            keys: request.keys,
            args: state.call.args,
            encoder: state.call.encoder,
            attempt: request.attempt,
            deliver: { outcome in loop.execute { bound.value.endWait(number, outcome) } }
        )
        if let outcome = server.blocking.block(waiter, stamps: state.call.access.stamps, server: server) {
            write(outcome)
            return false
        }
        var wait = BlockedWait(number: number, waiter: waiter)
        if let deadline = request.deadline {
            wait.timeout = loop.scheduleTask(deadline: deadline) { bound.value.waitTimedOut(number) }
        }
        blocked = wait
        state.session.info.activity.blocked.store(true, ordering: .relaxed)
        return true
    }

    /// The timeout of wait `number` passed: it ends with the null reply, unless it was
    /// served meanwhile (that outcome is then on its way here).
    private func waitTimedOut(_ number: Int) {
        guard let wait = blocked, wait.number == number else { return }
        if server.blocking.cancel(wait.waiter) { endWait(number, .timedOut) }
    }

    /// Ends wait `number` with `outcome`: writes the reply, then runs what the client
    /// pipelined behind the blocking command and reads again.
    private func endWait(_ number: Int, _ outcome: BlockingRegistry.Outcome) {
        guard let wait = blocked, wait.number == number, let context else { return }
        blocked = nil
        wait.timeout?.cancel()
        state.session.info.activity.blocked.store(false, ordering: .relaxed)
        let mark = state.call.out.writerIndex
        write(outcome)
        if state.session.replyMode != .on { applyReplyMode(from: mark) }
        process(context: context)
        flush(context: context, close: closing)
        if blocked == nil, !holding, readPending, writable {
            readPending = false
            context.read()
        }
    }

    /// Writes the reply a wait's outcome calls for.
    private func write(_ outcome: BlockingRegistry.Outcome) {
        switch outcome {
        case .served(var reply, let writes):
            state.call.out.writeBuffer(&reply)
            state.call.writes += writes
        case .timedOut:
            state.call.encoder.writeNullArray(into: &state.call.out)
        case .unblockedWithError:
            state.call.error("UNBLOCKED client unblocked via CLIENT UNBLOCK")
        }
    }

    /// Redis's reply to an unknown command.
    ///
    /// As Redis's `commandCheckExistence` builds it: the name and the arguments are quoted
    /// as `%.128s` quotes them, and arguments are added while the list is under 128 bytes.
    private func unknownCommand(_ args: [ByteBuffer]) -> CommandError {
        var list = ErrorText(stringLiteral: "")
        for argument in args.dropFirst() {
            guard list.bytes.count < 128 else { break }
            list = "\(list)'\(argument: argument, limit: 128 - list.bytes.count)' "
        }
        return CommandError(
            formatting: "ERR unknown command '\(argument: args[0], limit: 128)', with args beginning with: \(list)",
            trimmingNewlines: false
        )
    }
}
