/// The protocol version of a connection: RESP2 (every Redis client's default) or RESP3 (after
/// `HELLO 3`).
public enum RESPVersion: Int, Hashable, Sendable, CaseIterable {
    /// RESP2: simple strings, errors, integers, bulk strings, arrays.
    case resp2 = 2
    /// RESP3: RESP2 plus null, double, boolean, big number, verbatim string, map, set, attribute, push.
    case resp3 = 3
}
