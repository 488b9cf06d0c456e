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
/// Lines are only ever written whole from the buffer, so a reader never sees a partial line
/// unless the process dies inside a `write` call.
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
            let flags = O_WRONLY | O_CREAT | (append ? O_APPEND : O_TRUNC)
            let opened = open(path, flags, 0o644)
            guard opened >= 0 else {
                let reason = String(cString: strerror(errno))
                throw OutputError("cannot open EVE output '\(path)' for writing: \(reason); choose a writable path with --eve")
            }
            descriptor = opened
            ownsDescriptor = true
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

    /// Writes everything buffered. After a failure the buffered lines are counted as lost.
    public func flush() {
        guard !buffer.isEmpty, failure == nil else { return }
        var offset = 0
        let total = buffer.count
        buffer.withUnsafeBytes { bytes in
            while offset < total {
                let written = write(descriptor, bytes.baseAddress! + offset, total - offset)
                if written < 0 {
                    if errno == EINTR { continue }
                    let reason = String(cString: strerror(errno))
                    failure = OutputError("writing EVE output '\(path)' failed: \(reason); free space or choose another path with --eve")
                    return
                }
                offset += written
            }
        }
        if failure != nil {
            eventsLost += UInt64(buffer[offset...].lazy.filter { $0 == 0x0A }.count)
        }
        buffer.removeAll(keepingCapacity: true)
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
