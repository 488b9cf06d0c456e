import CPcap
import Foundation
import Testing
import WirecheckCore
import WirecheckDecoding

/// Reads the sample captures in `../shared/captures` beside the package root (or in the
/// directory named by `WIRECHECK_SAMPLE_CAPTURES`) straight through libpcap. The tests skip
/// when the directory is absent.
enum SampleCaptures {
    static let directory: URL = {
        if let override = ProcessInfo.processInfo.environment["WIRECHECK_SAMPLE_CAPTURES"] {
            return URL(fileURLWithPath: override)
        }
        return packageRoot.deletingLastPathComponent().appendingPathComponent("shared/captures")
    }()

    /// The package root, three levels above this file.
    static let packageRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static var isAvailable: Bool { FileManager.default.fileExists(atPath: directory.path) }

    static func path(_ relative: String) -> String { directory.appendingPathComponent(relative).path }

    /// Capture files in one category folder, sorted by name.
    static func files(in category: String) -> [String] {
        let folder = directory.appendingPathComponent(category)
        let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
        return names.filter { $0.hasSuffix(".pcap") || $0.hasSuffix(".pcapng") }.sorted().map { "\(category)/\($0)" }
    }

    /// Decodes every packet of a capture; returns the anomaly counts by name, or nil when
    /// libpcap cannot open the file.
    static func decode(_ relative: String) -> (harness: DecodingHarness, anomalies: [String: Int], packets: Int)? {
        decode(path: path(relative))
    }

    /// Decodes every packet of the capture at `path`, as `decode(_:)` does.
    static func decode(path: String) -> (harness: DecodingHarness, anomalies: [String: Int], packets: Int)? {
        var errorBuffer = [CChar](repeating: 0, count: Int(PCAP_ERRBUF_SIZE))
        guard let handle = pcap_open_offline(path, &errorBuffer) else { return nil }
        defer { pcap_close(handle) }
        let harness = DecodingHarness()
        let linkType = LinkType(rawValue: pcap_datalink(handle))
        var header: UnsafeMutablePointer<pcap_pkthdr>?
        var data: UnsafePointer<UInt8>?
        var number: UInt64 = 0
        while pcap_next_ex(handle, &header, &data) == 1 {
            guard let header, let data else { continue }
            number += 1
            let bytes = UnsafeRawBufferPointer(start: data, count: Int(header.pointee.caplen))
            let packet = CapturedPacket(
                timestamp: Timestamp(seconds: Int64(header.pointee.ts.tv_sec), nanoseconds: Int64(header.pointee.ts.tv_usec) * 1000),
                linkType: linkType, bytes: bytes, originalLength: Int(header.pointee.len),
                reference: PacketReference(source: 0, number: number))
            var decoded = DecodedPacket()
            harness.decoder.decode(packet, into: &decoded)
            _ = harness.decoder.payload(of: decoded, packet: packet)
        }
        var counts: [String: Int] = [:]
        for name in harness.anomalyNames { counts[name, default: 0] += 1 }
        return (harness, counts, Int(number))
    }
}

@Suite(.enabled(if: SampleCaptures.isAvailable, "the sample captures are not beside the package"))
struct DecodingCaptureTests {
    @Test func malformedAndTCPCapturesDecodeWithoutCrashing() {
        for file in SampleCaptures.files(in: "malformed-l3l4") + SampleCaptures.files(in: "tcp-anomaly") {
            let result = SampleCaptures.decode(file)
            #expect(result != nil, "libpcap could not open \(file)")
            #expect((result?.packets ?? 0) > 0, "\(file) has no packets")
        }
    }

    @Test func udpLengthInvalidCapture() throws {
        let result = try #require(SampleCaptures.decode("malformed-l3l4/sv-udp-len-invalid.pcap"))
        #expect(result.anomalies["decoder.udp.length_invalid", default: 0] >= 1)
    }

    @Test func tooSmallTransportCapture() throws {
        let result = try #require(SampleCaptures.decode("malformed-l3l4/sv-decode-too-small.pcap"))
        #expect(result.anomalies["decoder.tcp.truncated", default: 0] >= 2)
        #expect(result.anomalies["decoder.udp.truncated", default: 0] >= 2)
    }

    @Test func unknownEtherTypeCapture() throws {
        let result = try #require(SampleCaptures.decode("malformed-l3l4/sv-unknown-ethertype.pcap"))
        #expect(result.anomalies["decoder.ethernet.unknown_ethertype", default: 0] >= 1)
    }

    @Test func windowScaleRangeCapture() throws {
        let result = try #require(SampleCaptures.decode("tcp-anomaly/zeek-tcp-window-scale-range.pcap"))
        #expect(result.anomalies["decoder.tcp.window_scale_invalid", default: 0] >= 1)
    }

    @Test func fastOpenAndEmptySACKCapturesHaveNoOptionAnomaly() throws {
        for file in ["tcp-anomaly/sv-tcp-tfo-option-not-invalid.pcap", "tcp-anomaly/sv-tcp-empty-sack.pcap"] {
            let result = try #require(SampleCaptures.decode(file))
            #expect(result.harness.decoder.statistics.tcp == result.packets, "\(file)")
            #expect(result.anomalies["decoder.tcp.option_length_invalid"] == nil, "\(file)")
        }
    }

    @Test func badChecksumCaptures() throws {
        let tcp = try #require(SampleCaptures.decode("malformed-l3l4/zeek-ip4-tcp-bad-chksum.pcap"))
        #expect(tcp.anomalies["decoder.tcp.checksum_invalid", default: 0] >= 1)
    }

    @Test func loopbackInterfaceCaptureIsNotLand() throws {
        let result = try #require(SampleCaptures.decode("modbus/zeek-modbus-small-coils.pcap"))
        #expect(result.anomalies["decoder.ip.same_source_destination"] == nil)
    }
}
