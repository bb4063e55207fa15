extension RESPDecoder {
    /// Bounds on what a peer may send, with Redis's defaults where Redis has one. Input over a
    /// limit is refused as soon as the header that claims it is read, before its bytes are buffered.
    public struct Limits: Hashable, Sendable {
        /// The longest bulk string, in bytes. Default 512 MiB, Redis's `proto-max-bulk-len`.
        public var maxBulkLength: Int
        /// The most arguments in one command (array header of a command). Default 1,048,576.
        /// Redis allows up to 2³¹ − 1 and bounds memory with its query-buffer limit; kvs defaults
        /// lower so that one header cannot promise a million-fold allocation. Over the limit:
        /// `Protocol error: invalid multibulk length`, as Redis answers over its own.
        public var maxArgumentCount: Int
        /// The most elements in one aggregate of a value (array, set, push; pairs of a map or
        /// attribute). Default 2³¹ − 1, Redis's own ceiling. Memory stays bounded regardless: a
        /// value is built only once all its bytes are there.
        public var maxAggregateLength: Int
        /// The longest line without its terminator: an inline command, a header, a simple string or
        /// error. Default 65,536, Redis's `PROTO_INLINE_MAX_SIZE`.
        public var maxLineLength: Int
        /// The deepest nesting of aggregates in a value (1 for a flat array). Default 64.
        public var maxDepth: Int

        /// Limits with Redis's defaults; pass any to change it.
        ///
        /// - Parameters:
        ///   - maxBulkLength: the longest bulk string in bytes (Redis `proto-max-bulk-len`).
        ///   - maxArgumentCount: the most arguments in one command.
        ///   - maxAggregateLength: the most elements in one aggregate of a value.
        ///   - maxLineLength: the longest line (Redis `PROTO_INLINE_MAX_SIZE`).
        ///   - maxDepth: the deepest nesting of aggregates in a value.
        public init(
            maxBulkLength: Int = 512 * 1024 * 1024,
            maxArgumentCount: Int = 1024 * 1024,
            maxAggregateLength: Int = Int(Int32.max),
            maxLineLength: Int = 64 * 1024,
            maxDepth: Int = 64
        ) {
            self.maxBulkLength = maxBulkLength
            self.maxArgumentCount = maxArgumentCount
            self.maxAggregateLength = maxAggregateLength
            self.maxLineLength = maxLineLength
            self.maxDepth = maxDepth
        }

        /// Redis's limits for a client that has not authenticated yet, on a server with a password:
        /// at most 10 arguments and 16,384-byte arguments per command.
        static let unauthenticatedArgumentCount: Int64 = 10
        static let unauthenticatedBulkLength: Int64 = 16384
    }
}
