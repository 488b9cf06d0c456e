import WirecheckCore

/// Settings for one run's capture input.
public struct CaptureOptions: Sendable {
    /// A BPF expression in pcap-filter(7) syntax; packets it rejects are counted but not delivered.
    public var filter: String?
    /// Live capture only: the maximum bytes kept of each packet.
    public var snapshotLength: Int32
    /// Live capture only: put the interface in promiscuous mode, as a SPAN or TAP port needs.
    public var promiscuous: Bool
    /// Live capture only: the kernel ring buffer size in bytes; a larger buffer rides out bursts
    /// without drops.
    public var bufferSize: Int32

    /// The default kernel ring buffer, in MiB. Scripts/live-replay.sh measures drops against it.
    public static let defaultBufferMegabytes = 64
    /// The largest kernel ring buffer, in MiB, because `pcap_set_buffer_size` takes the size in
    /// bytes as an `Int32`.
    public static let maximumBufferMegabytes = 2047

    public init(filter: String? = nil, snapshotLength: Int32 = 262_144, promiscuous: Bool = true,
                bufferSize: Int32 = Int32(CaptureOptions.defaultBufferMegabytes) * 1024 * 1024) {
        self.filter = filter
        self.snapshotLength = snapshotLength
        self.promiscuous = promiscuous
        self.bufferSize = bufferSize
    }
}

/// Counts for one opened input.
public struct CaptureSourceStatistics: Sendable, Equatable {
    /// The input's name in the `CaptureSourceTable`: a path, `-`, or `interface:NAME`.
    public var name: String
    /// The input's index in the `CaptureSourceTable`, as used in `PacketReference.source`.
    public var source: UInt16
    public var linkType: LinkType
    /// Records read from the input, including those the filter rejected.
    public var records: UInt64 = 0
    /// Packets delivered to the caller.
    public var packets: UInt64 = 0
    /// Records the capture filter rejected. Files only, because for live capture the kernel
    /// drops them before libpcap reads them.
    public var filteredOut: UInt64 = 0
    /// Captured bytes of the delivered packets.
    public var capturedBytes: UInt64 = 0
    /// True once the input was read to its end without an error.
    public var completed = false
    /// libpcap's message when reading stopped early on a damaged or truncated record.
    public var stopReason: String?
}

/// Counters from the kernel for a live capture, as `pcap_stats` reports them.
public struct KernelCaptureStatistics: Sendable, Equatable {
    /// Packets the capture socket received (on Linux, after the kernel filter).
    public var received: UInt64
    /// Packets dropped because the capture buffer was full.
    public var droppedByKernel: UInt64
    /// Packets the interface or its driver dropped; not every driver reports it.
    public var droppedByInterface: UInt64
}

/// Counts for a whole run.
public struct CaptureStatistics: Sendable, Equatable {
    /// One entry per opened input, in the order of the `CaptureSourceTable`.
    public var sources: [CaptureSourceStatistics]
    /// Present for live capture only.
    public var kernel: KernelCaptureStatistics?

    public var packets: UInt64 { sources.reduce(0) { $0 &+ $1.packets } }
    public var filteredOut: UInt64 { sources.reduce(0) { $0 &+ $1.filteredOut } }
    public var capturedBytes: UInt64 { sources.reduce(0) { $0 &+ $1.capturedBytes } }
}

/// How far reading one input has come, for a progress bar.
public struct CaptureSourceProgress: Sendable, Equatable {
    public var name: String
    public var bytesRead: Int64
    /// The file size, or nil for standard input, pipes and interfaces.
    public var totalBytes: Int64?
}
