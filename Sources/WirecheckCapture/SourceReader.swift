import CPcap
#if canImport(Glibc)
import Glibc
#endif
import WirecheckCore

/// The outcome of asking a reader for its next packet.
enum ReadOutcome {
    case packet
    /// Live capture only: no packet is ready (a non-blocking read found none).
    case noPacketReady
    /// The file ended, or `pcap_breakloop` interrupted a live read.
    case end
    /// libpcap reported an error; the message is `pcap_geterr`'s text.
    case failed(String)
}

/// One open libpcap handle (a file, standard input or an interface) and the packet it holds.
///
/// libpcap's header and data pointers from `pcap_next_ex` stay valid until the next call on the
/// same handle, so the reader keeps them as its current packet until the caller asks it to advance.
final class SourceReader {
    let handle: OpaquePointer
    let linkType: LinkType
    let isLive: Bool
    /// Whether libpcap delivers `ts.tv_usec` in nanoseconds (always for files, and for live
    /// capture when the platform supports it) rather than microseconds.
    let nanosecondPrecision: Bool
    /// The file size in bytes, or nil for pipes and interfaces.
    let fileSize: Int64?
    /// The compiled filter applied to each record of a file; nil without a filter and for live
    /// capture, where the kernel applies it.
    let filter: UnsafeMutablePointer<bpf_program>?

    var statistics: CaptureSourceStatistics
    private(set) var isClosed = false

    private(set) var header: UnsafeMutablePointer<pcap_pkthdr>?
    private(set) var data: UnsafePointer<UInt8>?
    /// The current packet's time in nanoseconds, the merge key.
    private(set) var timestamp: Int64 = 0

    init(handle: OpaquePointer, name: String, source: UInt16, linkType: LinkType, isLive: Bool,
         nanosecondPrecision: Bool, fileSize: Int64?, filter: UnsafeMutablePointer<bpf_program>?) {
        self.handle = handle
        self.linkType = linkType
        self.isLive = isLive
        self.nanosecondPrecision = nanosecondPrecision
        self.fileSize = fileSize
        self.filter = filter
        self.statistics = CaptureSourceStatistics(name: name, source: source, linkType: linkType)
    }

    deinit {
        close()
    }

    /// Reads records until one passes the filter, the input ends, or libpcap fails.
    func advance() -> ReadOutcome {
        while true {
            var headerPointer: UnsafeMutablePointer<pcap_pkthdr>?
            var dataPointer: UnsafePointer<UInt8>?
            let status = pcap_next_ex(handle, &headerPointer, &dataPointer)
            switch status {
            case 1:
                statistics.records &+= 1
                guard let headerPointer, let dataPointer else {
                    // libpcap returns both pointers with status 1; a record without them is
                    // skipped rather than delivered with a made-up length.
                    statistics.filteredOut &+= 1
                    continue
                }
                if let filter, pcap_offline_filter(filter, headerPointer, dataPointer) == 0 {
                    statistics.filteredOut &+= 1
                    continue
                }
                header = headerPointer
                data = dataPointer
                let seconds = Int64(headerPointer.pointee.ts.tv_sec)
                let fraction = Int64(headerPointer.pointee.ts.tv_usec)
                timestamp = seconds &* 1_000_000_000 &+ (nanosecondPrecision ? fraction : fraction &* 1000)
                return .packet
            case 0:
                return .noPacketReady
            case PCAP_ERROR_BREAK:
                return .end
            default:
                return .failed(String(cString: pcap_geterr(handle)))
            }
        }
    }

    /// Returns the current packet as a borrowed view, valid until the next `advance()` or
    /// `close()`, and counts it as delivered.
    func currentPacket() -> CapturedPacket {
        statistics.packets &+= 1
        guard let header, let data else {
            return CapturedPacket(timestamp: Timestamp(nanoseconds: timestamp), linkType: linkType,
                                  bytes: UnsafeRawBufferPointer(start: nil, count: 0), originalLength: 0,
                                  reference: PacketReference(source: statistics.source, number: statistics.records))
        }
        let capturedLength = Int(header.pointee.caplen)
        statistics.capturedBytes &+= UInt64(capturedLength)
        return CapturedPacket(timestamp: Timestamp(nanoseconds: timestamp), linkType: linkType,
                              bytes: UnsafeRawBufferPointer(start: data, count: capturedLength),
                              originalLength: Int(header.pointee.len),
                              reference: PacketReference(source: statistics.source, number: statistics.records))
    }

    /// Bytes of the file consumed so far, from the stream position of libpcap's `FILE`. A closed
    /// file counts as fully read, also when a damaged record ended it, so progress reaches 100%.
    var bytesRead: Int64 {
        if isClosed {
            return fileSize ?? finalPosition
        }
        return streamPosition()
    }

    private var finalPosition: Int64 = 0

    private func streamPosition() -> Int64 {
        guard let file = pcap_file(handle) else { return 0 }
        let position = ftell(file)
        return position >= 0 ? Int64(position) : 0
    }

    /// Kernel counters for a live handle, or nil for files and closed handles.
    func kernelStatistics() -> KernelCaptureStatistics? {
        guard isLive, !isClosed else { return nil }
        var counters = pcap_stat()
        guard pcap_stats(handle, &counters) == 0 else { return nil }
        return KernelCaptureStatistics(received: UInt64(counters.ps_recv), droppedByKernel: UInt64(counters.ps_drop),
                                       droppedByInterface: UInt64(counters.ps_ifdrop))
    }

    /// Closes the handle and with it the file. The reader has no current packet afterwards.
    func close() {
        guard !isClosed else { return }
        finalPosition = streamPosition()
        isClosed = true
        header = nil
        data = nil
        pcap_close(handle)
    }
}
