#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif
import WirecheckCore

/// A failure to open or write the EVE output.
public struct OutputError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// Writes events as EVE JSON lines through one reused buffer and `write(2)`, flushing when the
/// buffer fills, on `flush()` and on `close()`.
///
/// The buffer only ever contains whole lines, so a completed flush leaves the file ending in a
/// newline. When a write fails part-way (a full disk), the writer truncates a regular file back
/// to its last complete line. A process killed inside a `write` call (kill -9) can still leave
/// part of one line at the end of the file, and loses whatever was buffered but not yet written
/// (at most `flushThreshold` bytes, or about one second of events in live mode). Opening the
/// file again with `append` removes such a torn last line before writing.
public final class EveWriter: EventSink {
    public let path: String
    private let descriptor: Int32
    private let ownsDescriptor: Bool
    private let sources: CaptureSourceTable
    private var buffer: [UInt8] = []
    private let flushThreshold: Int
    /// The first write error, if any; once set, further events are counted but not written.
    public private(set) var failure: OutputError?
    public private(set) var eventsWritten: UInt64 = 0
    public private(set) var eventsLost: UInt64 = 0
    private var isClosed = false
    /// File offset just after the last complete line written, for regular files; nil for pipes,
    /// terminals and standard output.
    private var lineEndOffset: off_t?
    /// Bytes of a torn last line removed when the file was opened for appending.
    public private(set) var repairedBytes = 0

    /// Opens `path` for writing (`-` is standard output). With `append` false an existing file
    /// is replaced.
    public init(path: String, sources: CaptureSourceTable, append: Bool = false, flushThreshold: Int = 1 << 16) throws {
        self.path = path
        self.sources = sources
        self.flushThreshold = flushThreshold
        if path == "-" {
            descriptor = STDOUT_FILENO
            ownsDescriptor = false
        } else {
            let flags = (append ? O_RDWR | O_APPEND : O_WRONLY | O_TRUNC) | O_CREAT
            let opened = open(path, flags, 0o644)
            guard opened >= 0 else {
                let reason = String(cString: strerror(errno))
                throw OutputError("cannot open EVE output '\(path)' for writing: \(reason); choose a writable path with --eve")
            }
            descriptor = opened
            ownsDescriptor = true
            var status = stat()
            if fstat(opened, &status) == 0 && (status.st_mode & S_IFMT) == S_IFREG {
                if append {
                    do {
                        repairedBytes = try EveWriter.removeTornLine(descriptor: opened, size: status.st_size, path: path)
                    } catch {
                        _ = closeDescriptor(opened)
                        throw error
                    }
                    lineEndOffset = status.st_size - off_t(repairedBytes)
                } else {
                    lineEndOffset = 0
                }
            }
        }
        buffer.reserveCapacity(flushThreshold + 4096)
    }

    deinit {
        close()
    }

    public func emit(_ event: Event) {
        guard failure == nil else {
            eventsLost += 1
            return
        }
        JSONWriter.append(EveRecord.object(for: event, sources: sources), to: &buffer)
        buffer.append(0x0A)
        eventsWritten += 1
        if buffer.count >= flushThreshold { flush() }
    }

    /// Writes EVE lines that another thread already serialised (each ending in a newline), as
    /// `emit` would have written the `count` events they contain.
    public func writeSerialized(_ lines: UnsafeRawBufferPointer, count: Int) {
        guard failure == nil else {
            eventsLost += UInt64(count)
            return
        }
        buffer.append(contentsOf: lines)
        eventsWritten += UInt64(count)
        if buffer.count >= flushThreshold { flush() }
    }

    /// Writes everything buffered. After a failure the buffered lines are counted as lost.
    public func flush() {
        guard !buffer.isEmpty, failure == nil else { return }
        var offset = 0
        let total = buffer.count
        var lastLineEnd = 0
        buffer.withUnsafeBytes { bytes in
            guard let base = bytes.baseAddress else { return }
            while offset < total {
                let written = write(descriptor, base + offset, total - offset)
                if written < 0 {
                    if errno == EINTR { continue }
                    let reason = String(cString: strerror(errno))
                    failure = OutputError("writing EVE output '\(path)' failed: \(reason); free space or choose another path with --eve")
                    return
                }
                if written == 0 {
                    failure = OutputError("writing EVE output '\(path)' failed: the write call accepted no bytes; choose another path with --eve")
                    return
                }
                offset += written
                if let newline = buffer[..<offset].lastIndex(of: 0x0A) { lastLineEnd = newline + 1 }
            }
        }
        if failure != nil {
            eventsLost += UInt64(buffer[lastLineEnd...].lazy.filter { $0 == 0x0A }.count)
            // A write that stopped inside a line left a torn line. Cutting the file back to the
            // last whole line keeps readers from parsing half an event.
            if let lineEnd = lineEndOffset, offset > lastLineEnd {
                _ = ftruncate(descriptor, lineEnd + off_t(lastLineEnd))
            }
        }
        if let lineEnd = lineEndOffset { lineEndOffset = lineEnd + off_t(lastLineEnd) }
        buffer.removeAll(keepingCapacity: true)
    }

    /// Largest number of bytes read back at a time while looking for the last newline.
    private static let repairReadChunk = 64 * 1024

    /// Truncates a file opened for appending back to its last newline when it does not end with
    /// one, and returns how many bytes were removed (0 when the file is empty or whole).
    static func removeTornLine(descriptor: Int32, size: off_t, path: String) throws -> Int {
        guard size > 0 else { return 0 }
        var chunk = [UInt8](repeating: 0, count: repairReadChunk)
        var end = size
        var keep: off_t = 0
        search: while end > 0 {
            let start = max(0, end - off_t(repairReadChunk))
            let length = Int(end - start)
            let read = chunk.withUnsafeMutableBytes { pread(descriptor, $0.baseAddress, length, start) }
            guard read == length else {
                let reason = read < 0 ? String(cString: strerror(errno)) : "short read"
                throw OutputError("cannot read EVE output '\(path)' to check its last line: \(reason); check the file or write to a new one")
            }
            if end == size && chunk[length - 1] == 0x0A { return 0 }
            if let newline = chunk[..<length].lastIndex(of: 0x0A) {
                keep = start + off_t(newline) + 1
                break search
            }
            end = start
        }
        guard ftruncate(descriptor, keep) == 0 else {
            let reason = String(cString: strerror(errno))
            throw OutputError("cannot remove the torn last line of EVE output '\(path)': \(reason); fix or move the file before appending")
        }
        return Int(size - keep)
    }

    public func close() {
        guard !isClosed else { return }
        flush()
        isClosed = true
        if ownsDescriptor {
            if fsync(descriptor) != 0 && errno != EINVAL && failure == nil {
                failure = OutputError("syncing EVE output '\(path)' failed: \(String(cString: strerror(errno)))")
            }
            _ = closeDescriptor(descriptor)
        }
    }
}

#if canImport(Glibc)
private let closeDescriptor = Glibc.close
#elseif canImport(Darwin)
private let closeDescriptor = Darwin.close
#endif
