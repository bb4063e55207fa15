import NIOCore

extension RESPDecoder {
    /// Decodes the next command: a RESP array of bulk strings (`*3\r\n$3\r\nSET\r\n…`) or, when the
    /// input does not start with `*`, an inline command line (`set a "b c"\n`, as `nc` or telnet
    /// send it) split as Redis's `sdssplitargs` splits it. Empty commands (`*0`, `*-1`, blank
    /// lines) are skipped, as Redis skips them.
    ///
    /// This is the server's hot path: the arguments are slices of `buffer` (no copy), one array is
    /// allocated per command, and a command arriving in pieces is scanned from where the previous
    /// call stopped. Arguments share the input's storage: copy one that outlives the request.
    ///
    /// - Parameter buffer: the bytes received so far; the command's bytes are consumed, and so are
    ///   the empty commands skipped before it. When nil is returned only skipped empty commands
    ///   were consumed: a partial command stays in the buffer.
    /// - Returns: the arguments (at least one), or nil when more bytes are needed.
    /// - Throws: ``RESPProtocolError`` with Redis's text for malformed or over-limit input
    ///   (`invalid multibulk length`, `invalid bulk length`, `expected '$', got 'x'`,
    ///   `unbalanced quotes in request`, `too big inline request`, `too big mbulk count string`,
    ///   `too big bulk count string`, the unauthenticated limits), or ``RESPProtocolError/Code/missingCRLF``.
    ///   The stream cannot be resumed after an error.
    /// - Complexity: O(bytes of the command's headers) per call plus O(arguments) to build the
    ///   result; a bulk's payload is skipped by its length, never scanned.
    public mutating func nextCommand(from buffer: inout ByteBuffer) throws(RESPProtocolError) -> [ByteBuffer]? {
        var arguments: [ByteBuffer] = []
        return try self.nextCommand(from: &buffer, into: &arguments) ? arguments : nil
    }

    /// Decodes the next command into `arguments`, as ``nextCommand(from:)`` does, replacing the
    /// array's contents but keeping its capacity: a connection that reuses one array (and lets go
    /// of the arguments before the next call) allocates nothing per command. Creating a new array
    /// per command costs about a quarter of the decoding time (`resp-bench`).
    ///
    /// - Parameters:
    ///   - buffer: the bytes received so far; the command's bytes are consumed (as with
    ///     ``nextCommand(from:)``).
    ///   - arguments: emptied, then filled with the command's arguments.
    /// - Returns: true when a command was decoded; false when more bytes are needed (`arguments`
    ///   is then empty, and a partial command stays in the buffer).
    /// - Throws: as ``nextCommand(from:)``.
    /// - Complexity: as ``nextCommand(from:)``.
    public mutating func nextCommand(
        from buffer: inout ByteBuffer,
        into arguments: inout [ByteBuffer]
    )
        throws(RESPProtocolError) -> Bool
    {
        // `removeAll` is not free even on an empty array, and the array is empty on every
        // other call of a server that reads one command at a time.
        if !arguments.isEmpty { arguments.removeAll(keepingCapacity: true) }
        while true {
            let readable = buffer.readableBytes
            if readable < self.commandProgress.bytesSeen { self.commandProgress = CommandProgress() }
            guard readable > 0, readable >= self.commandProgress.needed else { return false }
            let input = buffer
            let scan: CommandScan
            do {
                scan = try input.withUnsafeReadableBytes { (bytes) throws(RESPProtocolError) -> CommandScan in
                    try self.scanCommand(bytes, in: input, into: &arguments)
                }
            } catch {
                self.commandProgress = CommandProgress()
                arguments.removeAll(keepingCapacity: true)
                throw error
            }
            switch scan {
            case .needMoreData:
                self.commandProgress.bytesSeen = readable
                arguments.removeAll(keepingCapacity: true)
                return false
            case .skip(let consumed):
                buffer.moveReaderIndex(forwardBy: consumed)
                self.commandProgress = CommandProgress()
            case .command(let consumed):
                buffer.moveReaderIndex(forwardBy: consumed)
                self.commandProgress = CommandProgress()
                return true
            }
        }
    }

    /// What one scan of the buffer found.
    enum CommandScan {
        case needMoreData
        /// An empty command of this many bytes.
        case skip(consumed: Int)
        /// A command of this many bytes, whose arguments were appended.
        case command(consumed: Int)
    }

    private mutating func scanCommand(
        _ bytes: UnsafeRawBufferPointer,
        in input: ByteBuffer,
        into arguments: inout [ByteBuffer]
    ) throws(RESPProtocolError) -> CommandScan {
        if self.commandProgress.argumentCount == 0 {
            // Redis: a request starting with '*' is a multibulk; anything else is an inline command.
            guard bytes[0] == ASCII.Kind.array else {
                return try self.scanInlineCommand(bytes, in: input, into: &arguments)
            }
            let search = try ByteScanning.findCRLF(
                in: bytes,
                lineStart: 0,
                searchFrom: max(1, self.commandProgress.searchFrom),
                maxLength: self.limits.maxLineLength,
                tooLong: RESPProtocolError(code: .tooBigMultibulkCountString)
            )
            guard case .found(let cr) = search else {
                if case .needMoreData(let resume) = search { self.commandProgress.searchFrom = resume }
                self.commandProgress.needed = bytes.count + 1
                return .needMoreData
            }
            guard let count = ByteScanning.parseStrictInteger(bytes, from: 1, to: cr),
                count <= Int64(Int32.max), count <= Int64(self.limits.maxArgumentCount)
            else { throw RESPProtocolError(code: .invalidMultibulkLength) }
            if self.enforcesUnauthenticatedLimits && count > Limits.unauthenticatedArgumentCount {
                throw RESPProtocolError(code: .unauthenticatedMultibulkLength)
            }
            if count <= 0 { return .skip(consumed: cr + 2) }
            self.commandProgress.argumentCount = Int(count)
            self.commandProgress.firstArgumentOffset = cr + 2
            self.commandProgress.offset = cr + 2
            self.commandProgress.searchFrom = cr + 2
            self.commandProgress.argumentsScanned = 0
        }

        // Build the arguments while scanning when starting from the first one; when resuming a
        // command that arrived in pieces, only check the rest, then build all in one more pass.
        let resumed = self.commandProgress.argumentsScanned > 0
        if !resumed { arguments.reserveCapacity(min(self.commandProgress.argumentCount, 16)) }
        guard let end = try self.scanArguments(bytes, in: input, build: !resumed, into: &arguments) else {
            return .needMoreData
        }
        if resumed {
            // Every argument is in the buffer now, so reserving their count is bounded by its size.
            arguments.reserveCapacity(self.commandProgress.argumentCount)
            self.commandProgress.argumentsScanned = 0
            self.commandProgress.offset = self.commandProgress.firstArgumentOffset
            self.commandProgress.searchFrom = self.commandProgress.firstArgumentOffset
            guard try self.scanArguments(bytes, in: input, build: true, into: &arguments) == end else {
                throw RESPProtocolError(code: .invalidBulkLength)  // unreachable: the same bytes scanned twice
            }
        }
        return .command(consumed: end)
    }

    /// Checks (and, if `build`, slices) the arguments from the recorded progress on.
    ///
    /// - Returns: the offset just past the last argument, or nil after recording the progress.
    private mutating func scanArguments(
        _ bytes: UnsafeRawBufferPointer,
        in input: ByteBuffer,
        build: Bool,
        into arguments: inout [ByteBuffer]
    ) throws(RESPProtocolError) -> Int? {
        let count = bytes.count
        let argumentCount = self.commandProgress.argumentCount
        var index = self.commandProgress.argumentsScanned
        var offset = self.commandProgress.offset
        var searchFrom = self.commandProgress.searchFrom
        let maxBulkLength = Int64(self.limits.maxBulkLength)
        let maxLineLength = self.limits.maxLineLength

        func suspend(resumeAt: Int, needed: Int) {
            self.commandProgress.argumentsScanned = index
            self.commandProgress.offset = offset
            self.commandProgress.searchFrom = resumeAt
            self.commandProgress.needed = needed
        }

        while index < argumentCount {
            guard offset < count else {
                suspend(resumeAt: offset, needed: offset + 1)
                return nil
            }
            let kind = bytes[offset]
            guard kind == ASCII.Kind.bulkString else {
                throw RESPProtocolError(code: .unexpectedArgumentType, byte: kind)
            }
            let claimed: Int64
            let cr: Int
            if let (number, at) = ByteScanning.parseHeaderFast(bytes, lineStart: offset, maxLength: maxLineLength) {
                (claimed, cr) = (number, at)
            } else {
                let search = try ByteScanning.findCRLF(
                    in: bytes,
                    lineStart: offset,
                    searchFrom: max(searchFrom, offset + 1),
                    maxLength: maxLineLength,
                    tooLong: RESPProtocolError(code: .tooBigBulkCountString)
                )
                switch search {
                case .found(let at): cr = at
                case .needMoreData(let resume):
                    suspend(resumeAt: resume, needed: count + 1)
                    return nil
                }
                guard let number = ByteScanning.parseStrictInteger(bytes, from: offset + 1, to: cr) else {
                    throw RESPProtocolError(code: .invalidBulkLength)
                }
                claimed = number
            }
            guard claimed >= 0, claimed <= maxBulkLength else { throw RESPProtocolError(code: .invalidBulkLength) }
            if self.enforcesUnauthenticatedLimits && claimed > Limits.unauthenticatedBulkLength {
                throw RESPProtocolError(code: .unauthenticatedBulkLength)
            }
            let length = Int(claimed)
            let start = cr + 2
            guard length <= count - start - 2 else {
                suspend(resumeAt: cr, needed: start.saturatingAdd(length).saturatingAdd(2))
                return nil
            }
            let end = start + length
            guard bytes[end] == ASCII.cr, bytes[end + 1] == ASCII.lf else {
                throw RESPProtocolError(code: .missingCRLF)
            }
            if build {
                // Cannot fail: `start..<end` lies within the readable bytes just checked.
                guard let argument = input.getSlice(at: input.readerIndex + start, length: length) else {
                    throw RESPProtocolError(code: .invalidBulkLength)
                }
                arguments.append(argument)
            }
            index += 1
            offset = end + 2
            searchFrom = offset
        }
        return offset
    }

    /// Reads one inline command line (Redis's `processInlineBuffer`): up to `\n`, without a `\r`
    /// before it, at most `maxLineLength` bytes.
    private mutating func scanInlineCommand(
        _ bytes: UnsafeRawBufferPointer,
        in input: ByteBuffer,
        into arguments: inout [ByteBuffer]
    ) throws(RESPProtocolError) -> CommandScan {
        let count = bytes.count
        let maxLength = self.limits.maxLineLength
        let windowEnd = count > maxLength ? maxLength + 1 : count
        guard
            let newline = ByteScanning.firstIndex(
                of: ASCII.lf,
                in: bytes,
                from: self.commandProgress.searchFrom,
                to: windowEnd
            )
        else {
            if count > maxLength { throw RESPProtocolError(code: .tooBigInlineRequest) }
            self.commandProgress.searchFrom = count
            self.commandProgress.needed = count + 1
            return .needMoreData
        }
        var lineEnd = newline
        if lineEnd > 0 && bytes[lineEnd - 1] == ASCII.cr { lineEnd -= 1 }
        try InlineCommandSplitter.split(bytes, end: lineEnd, in: input, into: &arguments)
        return arguments.isEmpty ? .skip(consumed: newline + 1) : .command(consumed: newline + 1)
    }
}
