import CPcap
#if canImport(Glibc)
import Glibc
#endif
import WirecheckCore

/// Writes a pcap file through libpcap (`pcap_dump`), with micro- or nanosecond timestamps.
///
/// Used by tests, the demo capture and the benchmark generator. Packets longer than the
/// snapshot length are cut to it, as a capture would cut them.
public final class CaptureFileWriter {
    public let path: String
    public let linkType: LinkType
    public let nanosecond: Bool
    public let snapshotLength: Int32

    private var deadHandle: OpaquePointer?
    private var dumper: OpaquePointer?

    public init(path: String, linkType: LinkType, nanosecond: Bool = false, snapshotLength: Int32 = 262_144) throws {
        self.path = path
        self.linkType = linkType
        self.nanosecond = nanosecond
        self.snapshotLength = snapshotLength

        let precision = UInt32(nanosecond ? PCAP_TSTAMP_PRECISION_NANO : PCAP_TSTAMP_PRECISION_MICRO)
        guard let dead = pcap_open_dead_with_tstamp_precision(linkType.dataLinkType, snapshotLength, precision) else {
            throw CaptureError.writeFailed(path: path, message: "libpcap could not create a handle for link type \(linkType)")
        }
        guard let opened = pcap_dump_open(dead, path) else {
            let message = String(cString: pcap_geterr(dead))
            pcap_close(dead)
            throw CaptureError.writeFailed(path: path, message: message)
        }
        deadHandle = dead
        dumper = opened
    }

    deinit {
        close()
    }

    public func write(_ bytes: [UInt8], timestamp: Timestamp, originalLength: Int? = nil) {
        bytes.withUnsafeBytes { write($0, timestamp: timestamp, originalLength: originalLength) }
    }

    /// Writes one record; `originalLength` is the length on the wire (default: `bytes.count`).
    /// Does nothing after `close()`.
    public func write(_ bytes: UnsafeRawBufferPointer, timestamp: Timestamp, originalLength: Int? = nil) {
        guard let dumper else { return }
        var header = pcap_pkthdr()
        let seconds = timestamp.seconds
        let fraction = timestamp.nanoseconds &- seconds &* 1_000_000_000
        header.ts.tv_sec = Int(seconds)
        header.ts.tv_usec = Int(nanosecond ? fraction : fraction / 1000)
        let capturedLength = min(bytes.count, Int(max(snapshotLength, 0)))
        header.caplen = UInt32(capturedLength)
        header.len = UInt32(clamping: max(originalLength ?? bytes.count, capturedLength))

        // pcap_dump takes the dumper as its `u_char *user` argument, as a pcap_loop callback would.
        let user = UnsafeMutablePointer<UInt8>(dumper)
        if let base = bytes.baseAddress {
            pcap_dump(user, &header, base.assumingMemoryBound(to: UInt8.self))
        } else {
            var empty: UInt8 = 0
            pcap_dump(user, &header, &empty)
        }
    }

    /// Flushes buffered records to the file; throws when the write fails (for example, disk full).
    public func flush() throws {
        guard let dumper else { return }
        if pcap_dump_flush(dumper) != 0 {
            throw CaptureError.writeFailed(path: path, message: String(cString: strerror(errno)))
        }
    }

    /// Flushes and closes the file. A write error here is lost, so call `flush()` first when it
    /// matters.
    public func close() {
        if let dumper {
            pcap_dump_close(dumper)
            self.dumper = nil
        }
        if let deadHandle {
            pcap_close(deadHandle)
            self.deadHandle = nil
        }
    }
}
