import NIOCore
import RESP

/// One request written to a connection: commands sent back to back, and the promise of their
/// replies in the same order.
struct RedisRequest: Sendable {
    /// The commands, each an array of bulk strings.
    var commands: [RESPValue]
    /// Completed with one reply per command, or failed with a `KVSError` for the whole request.
    var promise: EventLoopPromise<[RESPValue]>
}
