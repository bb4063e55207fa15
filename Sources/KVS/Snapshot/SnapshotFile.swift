#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// The file-system side of snapshots: crash-safe replacement of a file, and reading a
/// whole file. Every failure is a ``KVSError`` with code ``KVSError/Code/io`` that names
/// the file and the system's reason.
@usableFromInline
package enum SnapshotFile {
    /// Writes a new file at `path` through `write`, crash-safely: the bytes go to a new
    /// temporary file in the same directory, which is flushed to disk (`fsync`) and then
    /// renamed over `path`, and the directory is flushed too. A crash or a full disk at
    /// any moment leaves either the previous file or the complete new one, never a mix.
    /// On failure the temporary file is removed and `path` is untouched.
    @usableFromInline
    package static func replace(
        _ path: String,
        _ write: (_ sink: inout FileSink) throws(KVSError) -> Void
    ) throws(KVSError) {
        let temporary = "\(path).tmp-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
        guard fd >= 0 else { throw ioError("cannot create temporary file \(temporary)") }
        var sink = FileSink(fd: fd, path: temporary)
        do throws(KVSError) {
            try write(&sink)
            try sink.flush()
            guard fsync(fd) == 0 else { throw ioError("cannot flush \(temporary) to disk") }
            guard Glibc.close(fd) == 0 else {
                sink.closed = true
                throw ioError("cannot close \(temporary)")
            }
            sink.closed = true
            guard rename(temporary, path) == 0 else { throw ioError("cannot rename \(temporary) to \(path)") }
        } catch {
            if !sink.closed { _ = Glibc.close(fd) }
            unlink(temporary)
            throw error
        }
        syncDirectory(of: path)
    }

    /// Reads the whole file at `path`.
    @usableFromInline
    package static func readAll(_ path: String) throws(KVSError) -> [UInt8] {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw ioError("cannot open snapshot \(path)") }
        defer { _ = Glibc.close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0 else { throw ioError("cannot stat \(path)") }
        guard (info.st_mode & S_IFMT) == S_IFREG else {
            throw KVSError.io("cannot read snapshot \(path): not a regular file")
        }
        var bytes = [UInt8](repeating: 0, count: Int(info.st_size))
        var filled = 0
        while filled < bytes.count {
            // Inside the loop the array is not empty, so it has a base address.
            let n = bytes.withUnsafeMutableBytes { read(fd, $0.baseAddress! + filled, $0.count - filled) }
            if n < 0 {
                if errno == EINTR { continue }
                throw ioError("cannot read \(path)")
            }
            if n == 0 { break }  // the file shrank while we read it: parse what we have
            filled += n
        }
        if filled < bytes.count { bytes.removeLast(bytes.count - filled) }
        return bytes
    }

    private static func syncDirectory(of path: String) {
        let directory: String
        if let slash = path.lastIndex(of: "/") {
            directory = slash == path.startIndex ? "/" : String(path[..<slash])
        } else {
            directory = "."
        }
        let fd = open(directory, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return }  // best effort: the rename is already done
        _ = fsync(fd)
        _ = Glibc.close(fd)
    }

    static func ioError(_ what: String) -> KVSError {
        let reason = String(cString: strerror(errno))
        return KVSError.io("\(what): \(reason)")
    }
}

/// A buffered writer to a file descriptor that keeps a running CRC-32 of what it wrote.
@usableFromInline
package struct FileSink {
    let fd: Int32
    let path: String
    var closed = false
    /// Bytes not yet written; callers append to it directly.
    @usableFromInline
    package var buffer: [UInt8] = []
    /// The CRC-32 of every byte flushed so far.
    @usableFromInline
    package private(set) var crc = CRC32()
    /// How many bytes were flushed so far.
    package private(set) var written = 0

    init(fd: Int32, path: String) {
        self.fd = fd
        self.path = path
        buffer.reserveCapacity(Self.chunk + 4096)
    }

    /// Buffer size above which ``flushIfFull()`` writes.
    static var chunk: Int { 1 << 20 }

    /// Writes the buffer out if it holds a chunk or more.
    @inline(__always)
    @usableFromInline
    package mutating func flushIfFull() throws(KVSError) {
        if buffer.count >= Self.chunk { try flush() }
    }

    /// Writes the whole buffer out, updating the checksum.
    @usableFromInline
    package mutating func flush() throws(KVSError) {
        guard !buffer.isEmpty else { return }
        var crc = self.crc
        let fd = self.fd
        let failure: Int32? = buffer.withUnsafeBytes { bytes in
            crc.update(bytes)
            var offset = 0
            while offset < bytes.count {
                // The buffer is not empty (checked above), so it has a base address.
                let n = write(fd, bytes.baseAddress! + offset, bytes.count - offset)
                if n < 0 {
                    if errno == EINTR { continue }
                    return errno
                }
                offset += n
            }
            return nil
        }
        if let failure {
            errno = failure
            throw SnapshotFile.ioError("cannot write \(path)")
        }
        self.crc = crc
        written += buffer.count
        self.buffer.removeAll(keepingCapacity: true)
    }
}
