import CPcap
#if canImport(Glibc)
import Glibc
#endif
import Synchronization
import WirecheckCore

/// One run's capture input: one or more capture files (merged in time order), standard input,
/// or a live interface.
///
/// Not thread-safe, except `stop()`, which may be called from any thread or a signal handler
/// queue. Read `statistics`, `progress` and `warnings` from the thread that calls `run`, for
/// example inside the packet callback or after `run` returns.
public final class CaptureInput {
    /// The maximum number of inputs one run can read, because `PacketReference.source` is a `UInt16`.
    public static let maximumSourceCount = Int(UInt16.max) + 1

    /// How long a live read waits for packets before `run` checks the stop flag and calls
    /// `idle` again; 200 ms keeps Ctrl-C responsive.
    static let liveReadTimeoutMilliseconds: Int32 = 200

    /// How often `run` calls `idle` while a live interface is quiet, in nanoseconds.
    static let idleIntervalNanoseconds: Int64 = 1_000_000_000

    /// Inputs that could not be opened, in the order given; the others are still read.
    public internal(set) var openErrors: [CaptureError] = []

    /// Problems met while reading, one line each for the summary: a truncated or damaged file
    /// (naming the file and the last packet read), a capture without packets, a libpcap warning.
    public internal(set) var warnings: [String] = []

    /// True for a live interface, where `run` calls `idle`; false for files and standard input.
    public let isLive: Bool
    var readers: [SourceReader] = []
    /// Filter programs compiled once per `DLT_*` value and shared by the files of that link type.
    var filterPrograms: [Int32: UnsafeMutablePointer<bpf_program>] = [:]
    /// The live handle, kept apart so `stop()` can reach it from another thread without touching
    /// `readers`.
    var liveHandle: OpaquePointer?
    private let stopRequested = Atomic<Bool>(false)

    init(isLive: Bool) {
        self.isLive = isLive
    }

    deinit {
        for reader in readers {
            reader.close()
        }
        for program in filterPrograms.values {
            pcap_freecode(program)
            program.deallocate()
        }
    }

    /// Calls `body` for each packet in time order until every input ends or `stop()` is called,
    /// then returns normally.
    ///
    /// The packet's bytes are borrowed from libpcap and valid only during the call. For live
    /// input, `idle` gets the wall-clock time about once a second while no packet arrives, so
    /// the caller can expire flows and flush output. Call `run` once per input.
    public func run(_ body: (CapturedPacket) throws -> Void, idle: ((Timestamp) -> Void)? = nil) rethrows {
        if isLive {
            try runLive(body, idle: idle)
        } else {
            try runFiles(body)
        }
    }

    /// Asks `run` to return after the packet it is delivering. Safe to call from another thread.
    public func stop() {
        stopRequested.store(true, ordering: .releasing)
        if let liveHandle {
            // pcap_breakloop wakes a live read that is waiting for packets.
            pcap_breakloop(liveHandle)
        }
    }

    public var isStopRequested: Bool {
        stopRequested.load(ordering: .acquiring)
    }

    public var statistics: CaptureStatistics {
        CaptureStatistics(sources: readers.map { $0.statistics }, kernel: isLive ? lastKernelStatistics() : nil)
    }

    /// Bytes read so far and the total size, over the inputs whose size is known (regular files).
    public var progress: (bytesRead: Int64, totalBytes: Int64) {
        var bytesRead: Int64 = 0
        var totalBytes: Int64 = 0
        for reader in readers {
            guard let size = reader.fileSize else { continue }
            bytesRead += min(reader.bytesRead, size)
            totalBytes += size
        }
        return (bytesRead, totalBytes)
    }

    /// Progress of each opened input, in the order of the `CaptureSourceTable`.
    public var sourceProgress: [CaptureSourceProgress] {
        readers.map { CaptureSourceProgress(name: $0.statistics.name, bytesRead: $0.bytesRead, totalBytes: $0.fileSize) }
    }

    private var savedKernelStatistics: KernelCaptureStatistics?

    private func lastKernelStatistics() -> KernelCaptureStatistics? {
        if let current = readers.first?.kernelStatistics() {
            savedKernelStatistics = current
        }
        return savedKernelStatistics
    }

    // MARK: - Reading files

    private func runFiles(_ body: (CapturedPacket) throws -> Void) rethrows {
        var heap = MergeHeap(capacity: readers.count)
        for (index, reader) in readers.enumerated() where !reader.isClosed {
            if advanceFile(reader) {
                heap.insert(key: reader.timestamp, index: index)
            }
        }

        // Only the reader whose packet was just delivered advances, because libpcap reuses a
        // handle's buffer on the next read of that handle and on no other.
        while let index = heap.minimum {
            if isStopRequested {
                return
            }
            let reader = readers[index]
            try body(reader.currentPacket())
            if advanceFile(reader) {
                heap.replaceMinimumKey(reader.timestamp)
            } else {
                heap.removeMinimum()
            }
        }
    }

    /// Moves a file reader to its next packet. At the end of the file, or at a record libpcap
    /// rejects, it closes the reader and returns false.
    private func advanceFile(_ reader: SourceReader) -> Bool {
        switch reader.advance() {
        case .packet:
            return true
        case .end, .noPacketReady:
            reader.statistics.completed = true
            if reader.statistics.records == 0 {
                warnings.append("\(CaptureError.displayName(reader.statistics.name)) contains no packets")
            }
        case .failed(let message):
            reader.statistics.stopReason = message
            warnings.append(Self.readStoppedWarning(name: reader.statistics.name, recordsRead: reader.statistics.records,
                                                    message: message))
        }
        reader.close()
        return false
    }

    /// Formats the warning for a file libpcap stopped reading: where it stopped and libpcap's reason.
    static func readStoppedWarning(name: String, recordsRead: UInt64, message: String) -> String {
        let position = recordsRead == 0 ? "before the first packet" : "after packet \(recordsRead)"
        return "\(CaptureError.displayName(name)): reading stopped \(position): \(message)"
    }
}
