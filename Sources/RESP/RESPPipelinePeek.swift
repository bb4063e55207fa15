/// A look ahead at the commands waiting in a connection's input, without decoding them.
///
/// A server that receives pipelined commands (many in one read) can use the keys of the
/// commands after the current one to start loading their data before it needs it: a
/// hash table lookup of a random key is a cache miss, and prefetching the next keys'
/// lines lets those misses overlap instead of running one after another.
///
/// The peek reads only well-formed multibulk commands (`*N`, then `$len` bulk strings)
/// and stops, silently, at anything else (an inline command, a partial command, a
/// malformed header): what it yields is a hint, and ``RESPDecoder`` still decodes and
/// validates every byte.
///
/// Not API: the server's read path uses it, and it is public only as SPI
/// (`@_spi(Fuzzing) import RESP`) so that the fuzzing package outside the root can check it.
///
/// Thread-safety: a namespace of pure functions.
@_spi(Fuzzing) public enum RESPPipelinePeek {
    /// Calls `body` with the second argument (for most commands, the first key) of each
    /// complete command in `bytes` after the first one, at most `limit` times.
    ///
    /// - Parameters:
    ///   - bytes: a connection's unread input, starting at a command boundary.
    ///   - limit: the most commands to look at after the first.
    ///   - body: gets each argument's bytes, valid only during the call.
    /// - Complexity: O(number of arguments looked at); bulk payloads are skipped by length.
    public static func forEachNextSecondArgument(
        in bytes: UnsafeRawBufferPointer,
        limit: Int,
        _ body: (UnsafeRawBufferPointer) -> Void
    ) {
        var offset = 0
        var commands = 0
        while commands <= limit, offset < bytes.count {
            guard bytes[offset] == ASCII.Kind.array,
                let (count, afterCount) = header(in: bytes, at: offset + 1), count >= 1
            else { return }
            offset = afterCount
            for argument in 0..<count {
                guard offset < bytes.count, bytes[offset] == ASCII.Kind.bulkString,
                    let (length, start) = header(in: bytes, at: offset + 1),
                    length >= 0, length <= bytes.count - start - 2
                else { return }
                if argument == 1 && commands > 0 {
                    body(UnsafeRawBufferPointer(rebasing: bytes[start..<(start + length)]))
                }
                offset = start + length + 2
            }
            commands += 1
        }
    }

    /// The decimal number at `start` up to its CRLF, and the offset after the CRLF; nil
    /// when incomplete or not a plain non-negative number of at most 10 digits.
    @inline(__always)
    private static func header(in bytes: UnsafeRawBufferPointer, at start: Int) -> (Int, Int)? {
        var index = start
        var value = 0
        while index < bytes.count, index - start <= 10 {
            let byte = bytes[index]
            if byte == ASCII.cr {
                guard index > start, index + 1 < bytes.count, bytes[index + 1] == ASCII.lf else { return nil }
                return (value, index + 2)
            }
            guard byte >= ASCII.zero, byte <= ASCII.nine else { return nil }
            value = value * 10 + Int(byte - ASCII.zero)
            index += 1
        }
        return nil
    }
}
