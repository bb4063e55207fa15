import KVS

/// The settings of the slow log and the latency monitor, as CONFIG GET and CONFIG SET
/// name, show and check them (Redis 7.0's ranges and error texts).
extension ServerState {
    /// `slowlog-log-slower-than`, `slowlog-max-len` and `latency-monitor-threshold` with
    /// their current values, for CONFIG GET.
    package var observabilityParameters: [(String, String)] {
        [
            ("slowlog-log-slower-than", String(slowLog.thresholdMicroseconds)),
            ("slowlog-max-len", String(slowLog.maxEntries)),
            ("latency-monitor-threshold", String(latency.thresholdMilliseconds)),
        ]
    }

    /// CONFIG SET of one of ``observabilityParameters``.
    ///
    /// - Returns: false when `name` (lowercase) is not one of them; true once it is set.
    /// - Throws: Redis's `CONFIG SET failed` error for a value that is not an integer or out
    ///   of range (the setting is then unchanged).
    package func setObservabilityParameter(_ name: String, to value: String) throws(CommandError) -> Bool {
        let minimum: Int64
        switch name {
        case "slowlog-log-slower-than": minimum = -1
        case "slowlog-max-len", "latency-monitor-threshold": minimum = 0
        default: return false
        }
        guard let n = RedisNumber.parseInt64(value.utf8) else {
            throw CommandError(
                "ERR CONFIG SET failed (possibly related to argument '\(name)') - argument couldn't be parsed into an integer")
        }
        guard n >= minimum else {
            throw CommandError(
                "ERR CONFIG SET failed (possibly related to argument '\(name)') - argument must be between \(minimum) and 9223372036854775807 inclusive")
        }
        let v = Int(clamping: n)
        switch name {
        case "slowlog-log-slower-than": slowLog.thresholdMicroseconds = v
        case "slowlog-max-len": slowLog.maxEntries = v
        default: latency.thresholdMilliseconds = v
        }
        return true
    }
}
