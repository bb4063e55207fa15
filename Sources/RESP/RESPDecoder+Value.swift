import NIOCore

extension RESPDecoder {
    /// Decodes the next value of any RESP2 or RESP3 type, nested to at most ``Limits/maxDepth``
    /// levels: what a client reads from a server. An attribute (`|`) is returned together with the
    /// value it annotates, as ``RESPValue/attribute(_:_:)``.
    ///
    /// The bytes are first checked frame by frame from where the previous call stopped; the value
    /// is built only once it is complete, so nothing is allocated for a value still arriving.
    /// Bulk payloads are slices of `buffer` (no copy).
    ///
    /// - Parameter buffer: the bytes received so far; the value's bytes are consumed, nothing is
    ///   consumed when nil is returned.
    /// - Returns: the value, or nil when more bytes are needed.
    /// - Throws: ``RESPProtocolError``: an unknown type byte, a bad length or count (or one over the
    ///   limits), nesting over the limit, a line over the limit, a missing `\r\n`, or the content
    ///   of an integer, double, boolean, big number, null or verbatim string that does not parse.
    ///   RESP3's streamed strings and aggregates (`$?`) are not supported (a bad length). The
    ///   stream cannot be resumed after an error.
    /// - Complexity: O(header bytes not scanned before) per call, plus O(size of the value) once to
    ///   build it.
    public mutating func next(from buffer: inout ByteBuffer) throws(RESPProtocolError) -> RESPValue? {
        let readable = buffer.readableBytes
        if readable < self.valueProgress.bytesSeen { self.valueProgress.reset() }
        guard readable > 0, readable >= self.valueProgress.needed else { return nil }
        let input = buffer
        let decoded: (RESPValue, Int)?
        do {
            decoded = try input.withUnsafeReadableBytes { (bytes) throws(RESPProtocolError) -> (RESPValue, Int)? in
                guard let end = try self.scanValue(bytes) else { return nil }
                var offset = 0
                let value = try ValueBuilder(bytes: bytes, input: input).value(at: &offset)
                guard offset == end else { throw RESPProtocolError(code: .missingCRLF) }  // unreachable
                return (value, end)
            }
        } catch {
            self.valueProgress.reset()
            throw error
        }
        guard let (value, consumed) = decoded else {
            self.valueProgress.bytesSeen = readable
            return nil
        }
        buffer.moveReaderIndex(forwardBy: consumed)
        self.valueProgress.reset()
        return value
    }

    /// Checks the framing of one value from the recorded progress on: every header, length and
    /// count, the limits, and each `\r\n`.
    ///
    /// - Returns: the offset just past the value, or nil after recording the progress.
    private mutating func scanValue(_ bytes: UnsafeRawBufferPointer) throws(RESPProtocolError) -> Int? {
        let count = bytes.count
        let limits = self.limits
        var offset = self.valueProgress.offset
        var searchFrom = self.valueProgress.searchFrom

        func suspend(resumeAt: Int, needed: Int) {
            self.valueProgress.offset = offset
            self.valueProgress.searchFrom = resumeAt
            self.valueProgress.needed = needed
        }

        while true {
            guard offset < count else {
                suspend(resumeAt: offset, needed: offset + 1)
                return nil
            }
            let kind = bytes[offset]
            let tooLong: RESPProtocolError.Code
            switch kind {
            case ASCII.Kind.simpleString, ASCII.Kind.error, ASCII.Kind.integer, ASCII.Kind.null, ASCII.Kind.double,
                ASCII.Kind.boolean, ASCII.Kind.bigNumber:
                tooLong = .lineTooLong
            case ASCII.Kind.bulkString, ASCII.Kind.blobError, ASCII.Kind.verbatimString:
                tooLong = .tooBigBulkCountString
            case ASCII.Kind.array, ASCII.Kind.map, ASCII.Kind.set, ASCII.Kind.attribute, ASCII.Kind.push:
                tooLong = .tooBigMultibulkCountString
            default:
                throw RESPProtocolError(code: .invalidTypeByte, byte: kind)
            }
            let cr: Int
            if let (_, at) = ByteScanning.parseHeaderFast(bytes, lineStart: offset, maxLength: limits.maxLineLength) {
                cr = at
            } else {
                let search = try ByteScanning.findCRLF(
                    in: bytes,
                    lineStart: offset,
                    searchFrom: max(searchFrom, offset + 1),
                    maxLength: limits.maxLineLength,
                    tooLong: RESPProtocolError(code: tooLong)
                )
                switch search {
                case .found(let at): cr = at
                case .needMoreData(let resume):
                    suspend(resumeAt: resume, needed: count + 1)
                    return nil
                }
            }

            var elementEnd = cr + 2
            switch tooLong {
            case .tooBigBulkCountString:
                guard let claimed = ByteScanning.parseStrictInteger(bytes, from: offset + 1, to: cr) else {
                    throw RESPProtocolError(code: .invalidBulkLength)
                }
                if claimed == -1 && kind == ASCII.Kind.bulkString { break }  // $-1: null bulk string
                guard claimed >= 0, claimed <= Int64(limits.maxBulkLength) else {
                    throw RESPProtocolError(code: .invalidBulkLength)
                }
                let length = Int(claimed)
                guard length <= count - elementEnd - 2 else {
                    suspend(resumeAt: cr, needed: elementEnd.saturatingAdd(length).saturatingAdd(2))
                    return nil
                }
                let payloadEnd = elementEnd + length
                guard bytes[payloadEnd] == ASCII.cr, bytes[payloadEnd + 1] == ASCII.lf else {
                    throw RESPProtocolError(code: .missingCRLF)
                }
                elementEnd = payloadEnd + 2
            case .tooBigMultibulkCountString:
                guard let claimed = ByteScanning.parseStrictInteger(bytes, from: offset + 1, to: cr) else {
                    throw RESPProtocolError(code: .invalidMultibulkLength)
                }
                if claimed == -1 && kind == ASCII.Kind.array { break }  // *-1: null array
                guard claimed >= 0, claimed <= Int64(limits.maxAggregateLength), claimed <= Int64(Int32.max) else {
                    throw RESPProtocolError(code: .invalidMultibulkLength)
                }
                guard self.valueProgress.pending.count < limits.maxDepth else {
                    throw RESPProtocolError(code: .nestingTooDeep)
                }
                var children = Int(claimed)
                if kind == ASCII.Kind.map || kind == ASCII.Kind.attribute { children *= 2 }
                if kind == ASCII.Kind.attribute { children += 1 }  // the annotated value follows the pairs
                if children > 0 {
                    self.valueProgress.pending.append(children)
                    offset = elementEnd
                    searchFrom = offset
                    continue
                }
            default:
                break  // a one-line value; its content is checked when the value is built
            }

            // An element is complete: close every aggregate it completes.
            offset = elementEnd
            searchFrom = offset
            while let last = self.valueProgress.pending.last {
                if last > 1 {
                    self.valueProgress.pending[self.valueProgress.pending.count - 1] = last - 1
                    break
                }
                self.valueProgress.pending.removeLast()
            }
            if self.valueProgress.pending.isEmpty { return offset }
        }
    }
}

/// Builds a value whose framing `scanValue` has checked, parsing each line's content. Every access
/// is still bounds-checked, so that a bug shows as an error, never as a crash. Recursion depth is
/// bounded by `maxDepth`, checked by the scan.
struct ValueBuilder {
    let bytes: UnsafeRawBufferPointer
    let input: ByteBuffer

    func value(at offset: inout Int) throws(RESPProtocolError) -> RESPValue {
        guard offset < self.bytes.count else { throw RESPProtocolError(code: .missingCRLF) }
        let kind = self.bytes[offset]
        let lineStart = offset + 1
        guard let cr = ByteScanning.firstCR(in: self.bytes, from: lineStart) else {
            throw RESPProtocolError(code: .missingCRLF)
        }
        offset = cr + 2
        let line = UnsafeRawBufferPointer(rebasing: self.bytes[lineStart..<cr])

        switch kind {
        case ASCII.Kind.simpleString:
            return .simpleString(String(decoding: line, as: UTF8.self))
        case ASCII.Kind.error:
            return .error(String(decoding: line, as: UTF8.self))
        case ASCII.Kind.integer:
            guard let value = ByteScanning.parseInteger(line, from: 0, to: line.count) else {
                throw RESPProtocolError(code: .invalidInteger)
            }
            return .integer(value)
        case ASCII.Kind.null:
            guard line.isEmpty else { throw RESPProtocolError(code: .invalidNull) }
            return .null
        case ASCII.Kind.double:
            return .double(try Self.parseDouble(line))
        case ASCII.Kind.boolean:
            guard line.count == 1 else { throw RESPProtocolError(code: .invalidBoolean) }
            switch line[0] {
            case UInt8(ascii: "t"): return .boolean(true)
            case UInt8(ascii: "f"): return .boolean(false)
            default: throw RESPProtocolError(code: .invalidBoolean)
            }
        case ASCII.Kind.bigNumber:
            var digits = line[...]
            if let sign = digits.first, sign == ASCII.minus || sign == ASCII.plus { digits = digits.dropFirst() }
            guard !digits.isEmpty, digits.allSatisfy({ $0 >= ASCII.zero && $0 <= ASCII.nine }) else {
                throw RESPProtocolError(code: .invalidBigNumber)
            }
            return .bigNumber(String(decoding: line, as: UTF8.self))
        case ASCII.Kind.bulkString, ASCII.Kind.blobError, ASCII.Kind.verbatimString:
            guard let length = ByteScanning.parseStrictInteger(line, from: 0, to: line.count) else {
                throw RESPProtocolError(code: .invalidBulkLength)
            }
            if length == -1 && kind == ASCII.Kind.bulkString { return .nullBulkString }
            let payload = try self.slice(at: &offset, length: length)
            if kind == ASCII.Kind.bulkString { return .bulkString(payload) }
            if kind == ASCII.Kind.blobError { return .blobError(payload) }
            return try Self.verbatim(payload)
        default:
            return try self.aggregate(kind: kind, header: line, at: &offset)
        }
    }

    private func aggregate(
        kind: UInt8,
        header: UnsafeRawBufferPointer,
        at offset: inout Int
    ) throws(RESPProtocolError)
        -> RESPValue
    {
        guard let claimed = ByteScanning.parseStrictInteger(header, from: 0, to: header.count) else {
            throw RESPProtocolError(code: .invalidMultibulkLength)
        }
        if claimed == -1 && kind == ASCII.Kind.array { return .nullArray }
        // The scan found all `claimed` elements in the buffer: reserving is bounded by its size.
        guard claimed >= 0, claimed <= Int64(Int32.max) else { throw RESPProtocolError(code: .invalidMultibulkLength) }
        let count = Int(claimed)
        switch kind {
        case ASCII.Kind.array, ASCII.Kind.set, ASCII.Kind.push:
            var elements: [RESPValue] = []
            elements.reserveCapacity(count)
            for _ in 0..<count { elements.append(try self.value(at: &offset)) }
            if kind == ASCII.Kind.array { return .array(elements) }
            return kind == ASCII.Kind.set ? .set(elements) : .push(elements)
        case ASCII.Kind.map, ASCII.Kind.attribute:
            var pairs: [(key: RESPValue, value: RESPValue)] = []
            pairs.reserveCapacity(count)
            for _ in 0..<count {
                let key = try self.value(at: &offset)
                pairs.append((key: key, value: try self.value(at: &offset)))
            }
            if kind == ASCII.Kind.map { return .map(pairs) }
            return .attribute(pairs, try self.value(at: &offset))
        default:
            throw RESPProtocolError(code: .invalidTypeByte, byte: kind)
        }
    }

    /// The `length` payload bytes at `offset` and their `\r\n`.
    private func slice(at offset: inout Int, length: Int64) throws(RESPProtocolError) -> ByteBuffer {
        guard length >= 0, length <= Int64(self.bytes.count - offset - 2),
            let payload = self.input.getSlice(at: self.input.readerIndex + offset, length: Int(length))
        else { throw RESPProtocolError(code: .invalidBulkLength) }
        offset += Int(length) + 2
        return payload
    }

    private static func verbatim(_ payload: ByteBuffer) throws(RESPProtocolError) -> RESPValue {
        var payload = payload
        guard payload.readableBytes >= 4,
            payload.getInteger(at: payload.readerIndex + 3, as: UInt8.self) == ASCII.colon,
            let format = payload.readString(length: 3)
        else { throw RESPProtocolError(code: .invalidVerbatimString) }
        payload.moveReaderIndex(forwardBy: 1)
        return .verbatimString(format: format, text: payload)
    }

    /// RESP3's double: `inf`, `-inf`, `nan`, or a decimal with an optional exponent.
    static func parseDouble(_ line: UnsafeRawBufferPointer) throws(RESPProtocolError) -> Double {
        let text = String(decoding: line, as: UTF8.self)
        switch text {
        case "inf", "+inf": return .infinity
        case "-inf": return -.infinity
        case "nan", "-nan": return .nan
        default: break
        }
        let allowed = line.allSatisfy { byte in
            (byte >= ASCII.zero && byte <= ASCII.nine) || byte == ASCII.minus || byte == ASCII.plus
                || byte == UInt8(ascii: ".") || byte == UInt8(ascii: "e") || byte == UInt8(ascii: "E")
        }
        guard allowed, let value = Double(text) else { throw RESPProtocolError(code: .invalidDouble) }
        return value
    }
}
