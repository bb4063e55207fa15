import KVS

/// Lists in the snapshot file (docs/server-snapshot-format.md): type tag 2, the element
/// count, then each element's length and bytes, head to tail.
extension Persistence {
    /// The type tag of a list record.
    static let listTag: UInt8 = 2

    /// Appends the record body of `list` (after its type tag) to `sink`, flushing as the
    /// buffer fills.
    ///
    /// - Throws: `KVSError` `.invalidArgument` (`tooLarge`) for a list of more than
    ///   2^32 - 1 elements or an element over 4 GiB; `.io` when a write fails.
    static func writeList(_ list: ListValue, into sink: inout some RecordSink, tooLarge: KVSError) throws(KVSError) {
        guard list.count <= UInt32.max else { throw tooLarge }
        sink.buffer.append(listTag)
        sink.buffer.appendLittleEndian(UInt32(truncatingIfNeeded: list.count))
        var fits = true
        var failure: KVSError?
        list.forEach(from: 0) { element in
            guard element.count <= UInt32.max else {
                fits = false
                return false
            }
            sink.buffer.appendLittleEndian(UInt32(truncatingIfNeeded: element.count))
            sink.buffer.append(contentsOf: element)
            do throws(KVSError) { try sink.flushIfFull() } catch {
                failure = error
                return false
            }
            return true
        }
        if let failure { throw failure }
        guard fits else { throw tooLarge }
    }

    /// Reads the body of a list record (after its type tag), encoding it with `limits`.
    ///
    /// - Returns: the list, or `nil` when the record is empty or truncated.
    static func readList(_ reader: inout Reader, limits: ListLimits) -> ListValue? {
        guard let count: UInt32 = reader.read(), count > 0 else { return nil }
        var list = ListValue()
        var batch: [ValueBytes] = []
        batch.reserveCapacity(min(Int(count), 1024))
        var left = Int(count)
        while left > 0 {
            batch.removeAll(keepingCapacity: true)
            for _ in 0..<min(left, 1024) {
                guard let length: UInt32 = reader.read(), let bytes = reader.take(Int(length)) else { return nil }
                batch.append(ValueBytes(bytes))
            }
            left -= batch.count
            list.push(batch, atHead: false, limits: limits)
        }
        return list
    }
}
