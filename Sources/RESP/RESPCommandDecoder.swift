import NIOCore

/// A NIO `ByteToMessageDecoder` that turns a server connection's bytes into commands, each an
/// array of arguments (see ``RESPDecoder/nextCommand(from:)``). Use it as
/// `ByteToMessageHandler(RESPCommandDecoder())`; a malformed request is fired as a
/// ``RESPProtocolError`` through `errorCaught`, whose `description` is the reply Redis sends after
/// `-ERR ` before closing the connection.
///
/// A server whose limits change with the connection's state (Redis's limits for unauthenticated
/// clients until `AUTH` succeeds) can drive a ``RESPDecoder`` from its own handler instead, and
/// reuse one arguments array with ``RESPDecoder/nextCommand(from:into:)``.
///
/// Thread-safety: used on its channel's event loop only, like every handler.
public struct RESPCommandDecoder: ByteToMessageDecoder {
    /// One command: its arguments, slices of the received bytes.
    public typealias InboundOut = [ByteBuffer]

    /// The underlying decoder, with its limits.
    public var decoder: RESPDecoder

    /// Creates a command decoder.
    ///
    /// - Parameters:
    ///   - limits: the bounds on requests (Redis's defaults when omitted).
    ///   - enforcesUnauthenticatedLimits: whether Redis's limits for unauthenticated clients apply
    ///     (see ``RESPDecoder/enforcesUnauthenticatedLimits``).
    public init(limits: RESPDecoder.Limits = RESPDecoder.Limits(), enforcesUnauthenticatedLimits: Bool = false) {
        self.decoder = RESPDecoder(limits: limits, enforcesUnauthenticatedLimits: enforcesUnauthenticatedLimits)
    }

    /// Fires every complete command in `buffer`, one per call.
    ///
    /// - Throws: ``RESPProtocolError`` for malformed or over-limit input.
    /// - Complexity: see ``RESPDecoder/nextCommand(from:)``.
    public mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let command = try self.decoder.nextCommand(from: &buffer) else { return .needMoreData }
        context.fireChannelRead(Self.wrapInboundOut(command))
        return .continue
    }

    /// Fires the complete commands left at end of input; an unfinished one is dropped.
    ///
    /// - Throws: ``RESPProtocolError`` for malformed or over-limit input.
    public mutating func decodeLast(
        context: ChannelHandlerContext,
        buffer: inout ByteBuffer,
        seenEOF: Bool
    ) throws -> DecodingState {
        try self.decode(context: context, buffer: &buffer)
    }
}
