import NIOCore

/// An incremental RESP decoder: feed it the bytes of one connection as they arrive, and take
/// complete values (``next(from:)``, for a client reading replies) or complete commands
/// (``nextCommand(from:)``, for a server reading requests) out of them.
///
/// Both methods consume the bytes of what they return and nothing else: when the buffer does not
/// hold a complete frame yet they return nil, leave the buffer untouched, and remember how far
/// they got, so that a large frame arriving in many reads is not scanned again from its start (the
/// caller appends the next bytes to the same buffer, as NIO's `ByteToMessageHandler` does).
/// A claimed length is never allocated before its bytes are there; limits (``Limits``) are checked
/// when the header that claims them is read.
///
/// One decoder serves one byte stream. Use ``RESPCommandDecoder`` or ``RESPValueDecoder`` to run it
/// in a NIO pipeline.
///
/// Thread-safety: a value type; use each instance from one task or event loop at a time.
public struct RESPDecoder: Sendable {
    /// The bounds on what the peer may send; may be changed between calls.
    public var limits: Limits

    /// When true, commands are held to Redis's limits for a client that has not authenticated on a
    /// server with a password (at most 10 arguments, arguments of at most 16,384 bytes); over
    /// them: `Protocol error: unauthenticated multibulk length` / `… bulk length`. A server sets
    /// it while a connection still has to authenticate. Default false.
    public var enforcesUnauthenticatedLimits: Bool

    /// How far the scan of a partially received command got.
    var commandProgress = CommandProgress()
    /// How far the scan of a partially received value got.
    var valueProgress = ValueProgress()

    /// Creates a decoder for a new byte stream.
    ///
    /// - Parameters:
    ///   - limits: the bounds on what the peer may send (Redis's defaults when omitted).
    ///   - enforcesUnauthenticatedLimits: whether commands are held to Redis's limits for
    ///     unauthenticated clients.
    public init(limits: Limits = Limits(), enforcesUnauthenticatedLimits: Bool = false) {
        self.limits = limits
        self.enforcesUnauthenticatedLimits = enforcesUnauthenticatedLimits
    }

    /// Forgets any partially scanned frame, for reuse on a new byte stream.
    ///
    /// - Complexity: O(1).
    public mutating func reset() {
        self.commandProgress = CommandProgress()
        self.valueProgress.reset()
    }
}

/// Where the scan of a partially received command stopped. Offsets are relative to the buffer's
/// reader index, which stays put until the command is complete.
struct CommandProgress: Sendable {
    /// The arguments the `*N` header announced; 0 while that header has not been read.
    var argumentCount = 0
    /// Where the first argument's header starts.
    var firstArgumentOffset = 0
    /// How many arguments were checked complete.
    var argumentsScanned = 0
    /// Where the line being read starts: the next argument's header (or 0, the first line).
    var offset = 0
    /// Where the search for that line's terminator resumes.
    var searchFrom = 0
    /// No progress is possible before the buffer holds this many readable bytes.
    var needed = 0
    /// The readable bytes when this progress was recorded: a smaller buffer is another stream.
    var bytesSeen = 0
}

/// Where the scan of a partially received value stopped (offsets as in `CommandProgress`).
struct ValueProgress: Sendable {
    /// Where the next element to scan starts.
    var offset = 0
    /// Where the search for that element's line terminator resumes.
    var searchFrom = 0
    /// The elements still expected by each open aggregate, outermost first (bounded by `maxDepth`).
    var pending: [Int] = []
    /// No progress is possible before the buffer holds this many readable bytes.
    var needed = 0
    /// The readable bytes when this progress was recorded.
    var bytesSeen = 0

    mutating func reset() {
        self.offset = 0
        self.searchFrom = 0
        if !self.pending.isEmpty { self.pending.removeAll(keepingCapacity: true) }
        self.needed = 0
        self.bytesSeen = 0
    }
}

extension Int {
    /// `self + other`, or `Int.max` where that overflows: for byte counts a peer claims.
    @inline(__always)
    func saturatingAdd(_ other: Int) -> Int {
        let (sum, overflow) = self.addingReportingOverflow(other)
        return overflow ? Int.max : sum
    }
}
