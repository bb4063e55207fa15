import NIOCore

/// A NIO `ByteToMessageDecoder` that turns a client connection's bytes into values (see
/// ``RESPDecoder/next(from:)``). Use it as `ByteToMessageHandler(RESPValueDecoder())`; malformed
/// input is fired as a ``RESPProtocolError`` through `errorCaught`.
///
/// Thread-safety: used on its channel's event loop only, like every handler.
public struct RESPValueDecoder: ByteToMessageDecoder {
    /// One value.
    public typealias InboundOut = RESPValue

    /// The underlying decoder, with its limits.
    public var decoder: RESPDecoder

    /// Creates a value decoder.
    ///
    /// - Parameter limits: the bounds on values (Redis's defaults when omitted).
    public init(limits: RESPDecoder.Limits = RESPDecoder.Limits()) {
        self.decoder = RESPDecoder(limits: limits)
    }

    /// Fires every complete value in `buffer`, one per call.
    ///
    /// - Throws: ``RESPProtocolError`` for malformed or over-limit input.
    /// - Complexity: see ``RESPDecoder/next(from:)``.
    public mutating func decode(context: ChannelHandlerContext, buffer: inout ByteBuffer) throws -> DecodingState {
        guard let value = try self.decoder.next(from: &buffer) else { return .needMoreData }
        context.fireChannelRead(Self.wrapInboundOut(value))
        return .continue
    }

    /// Fires the complete values left at end of input; an unfinished one is dropped.
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
