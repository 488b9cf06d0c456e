import Foundation
import Testing
import WirecheckCapture
import WirecheckCore
import WirecheckEngine
import WirecheckOutput
import WirecheckSynthesis

/// Runs `.build/debug/wirecheck` and returns its exit status, standard output and standard error.
enum CLIRunner {
    static let binary = TestPaths.packageRoot.appendingPathComponent(".build/debug/wirecheck").path
    static var isBuilt: Bool { FileManager.default.isExecutableFile(atPath: binary) }

    static func run(_ arguments: [String]) throws -> (status: Int32, output: String, error: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = arguments
        let output = Pipe()
        let error = Pipe()
        process.standardOutput = output
        process.standardError = error
        try process.run()
        let outputData = output.fileHandleForReading.readDataToEndOfFile()
        let errorData = error.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: outputData, as: UTF8.self), String(decoding: errorData, as: UTF8.self))
    }
}

/// Damaged and unusual capture files through the whole pipeline and the CLI: what can be read
/// is analysed, the summary lists what was skipped, and the exit status is 0 when anything was
/// analysed and 1 when nothing was. Reader-level cases live in CaptureTests.
@Suite struct MalformedCaptureTests {
    static let link = EthernetSpec(source: MACAddress(0x0200_0000_0001), destination: MACAddress(0x0200_0000_0002))

    static func udpFrame(_ port: UInt16, payload: Int = 8) -> [UInt8] {
        var builder = PacketBuilder()
        return builder.udp(link, ip: IPSpec(source: IPAddress("10.0.0.5")!, destination: IPAddress("10.0.0.20")!),
                           sourcePort: port, destinationPort: 47_808, payload: [UInt8](repeating: 0x81, count: payload))
    }

    static func u32(_ value: UInt32) -> [UInt8] {
        [UInt8(value & 0xFF), UInt8(value >> 8 & 0xFF), UInt8(value >> 16 & 0xFF), UInt8(value >> 24)]
    }

    /// Builds a little-endian microsecond pcap file header with `snapshotLength`, Ethernet.
    static func header(snapshotLength: UInt32 = 65_535) -> [UInt8] {
        [0xD4, 0xC3, 0xB2, 0xA1, 0x02, 0x00, 0x04, 0x00] + u32(0) + u32(0) + u32(snapshotLength) + u32(1)
    }

    static func record(seconds: UInt32, bytes: [UInt8], capturedLength: UInt32? = nil, originalLength: UInt32? = nil) -> [UInt8] {
        u32(seconds) + u32(0) + u32(capturedLength ?? UInt32(bytes.count)) + u32(originalLength ?? UInt32(bytes.count)) + bytes
    }

    static func file(_ name: String, _ bytes: [UInt8]) throws -> String {
        let path = TestPaths.temporaryDirectory().appendingPathComponent(name).path
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        return path
    }

    static func fivePackets() -> [UInt8] {
        (0..<5).reduce(header()) { $0 + record(seconds: 100 + UInt32($1), bytes: udpFrame(UInt16(40_000 + $1))) }
    }

    // MARK: - Through the pipeline

    @Test func zeroLengthAndJumboRecordsAnalysed() throws {
        let jumbo = Self.udpFrame(40_002, payload: 65_000)
        let bytes = Self.header(snapshotLength: 262_144) + Self.record(seconds: 100, bytes: Self.udpFrame(40_001))
            + Self.record(seconds: 101, bytes: []) + Self.record(seconds: 102, bytes: jumbo)
        let result = try AnalysisHarness.analyze(Self.file("sizes.pcap", bytes))
        #expect(result.summary.packets == 3)
        #expect(result.summary.bytes == UInt64(Self.udpFrame(40_001).count + jumbo.count))
        let undecoded = result.summary.skipped.first { $0.0.contains("could not be decoded") }
        #expect(undecoded?.1 == 1)
        #expect(result.summary.flows == 2)
    }

    @Test func backwardsTimestampsCounted() throws {
        let bytes = Self.header() + Self.record(seconds: 200, bytes: Self.udpFrame(40_001))
            + Self.record(seconds: 100, bytes: Self.udpFrame(40_002)) + Self.record(seconds: 300, bytes: Self.udpFrame(40_003))
        let result = try AnalysisHarness.analyze(Self.file("backwards.pcap", bytes))
        #expect(result.summary.packets == 3)
        let backwards = result.summary.skipped.first { $0.0.contains("timestamp earlier") }
        #expect(backwards?.1 == 1)
        let stats = result.eveLines.last { $0.contains("\"event_type\":\"stats\"") } ?? ""
        #expect(stats.contains("\"timestamps_backwards\":1"))
    }

    @Test func pcapngUnknownBlocksSkipped() throws {
        let path = TestPaths.temporaryDirectory().appendingPathComponent("unknown-blocks.pcapng").path
        let writer = try PcapngFileWriter(path: path)
        let interface = writer.addInterface(linkType: .ethernet)
        writer.write(Self.udpFrame(40_001), interface: interface, timestamp: Timestamp(nanoseconds: 1_000_000_000))
        // A local-use block type and an unassigned one, each with a 4-byte body.
        writer.writeBlock(type: 0x8000_0001, body: [1, 2, 3, 4])
        writer.writeBlock(type: 0x0000_0BAD, body: [5, 6, 7, 8])
        writer.write(Self.udpFrame(40_002), interface: interface, timestamp: Timestamp(nanoseconds: 2_000_000_000))
        writer.close()
        let result = try AnalysisHarness.analyze(path)
        #expect(result.summary.packets == 2)
        #expect(result.warnings.isEmpty)
    }

    // MARK: - Through the CLI

    @Test(.enabled(if: CLIRunner.isBuilt, "build the wirecheck binary first"))
    func fileCutMidHeaderExitsOne() throws {
        let path = try Self.file("cut-header.pcap", Array(Self.header().prefix(10)))
        let run = try CLIRunner.run(["analyze", "--quiet", path])
        #expect(run.status == 1)
        #expect(run.error.contains(path))
    }

    @Test(.enabled(if: CLIRunner.isBuilt, "build the wirecheck binary first"))
    func fileCutMidRecordExitsZero() throws {
        let path = try Self.file("cut-record.pcap", Array(Self.fivePackets().dropLast(10)))
        let run = try CLIRunner.run(["analyze", path])
        #expect(run.status == 0)
        #expect(run.error.contains("reading stopped after packet 4"))
        #expect(run.output.contains("reading stopped after packet 4"))
    }

    @Test(.enabled(if: CLIRunner.isBuilt, "build the wirecheck binary first"))
    func fileCutInFirstRecordExitsOne() throws {
        let bytes = Self.header() + Self.record(seconds: 100, bytes: Self.udpFrame(40_001))
        let path = try Self.file("cut-first.pcap", Array(bytes.dropLast(10)))
        let run = try CLIRunner.run(["analyze", path])
        #expect(run.status == 1)
        #expect(run.error.contains("reading stopped before the first packet"))
    }

    @Test(.enabled(if: CLIRunner.isBuilt, "build the wirecheck binary first"))
    func headerOnlyFileExitsZero() throws {
        let run = try CLIRunner.run(["analyze", try Self.file("empty.pcap", Self.header())])
        #expect(run.status == 0)
    }

    @Test(.enabled(if: CLIRunner.isBuilt, "build the wirecheck binary first"))
    func capturedLengthPastFileEnd() throws {
        // The second record claims 1000 captured bytes; the file ends after 20 of them.
        let bytes = Self.header() + Self.record(seconds: 100, bytes: Self.udpFrame(40_001))
            + Self.record(seconds: 101, bytes: Array(Self.udpFrame(40_002).prefix(20)), capturedLength: 1000, originalLength: 1000)
        let path = try Self.file("past-end.pcap", bytes)
        let run = try CLIRunner.run(["analyze", path])
        #expect(run.status == 0)
        #expect(run.error.contains("reading stopped after packet 1"))
    }

    @Test(.enabled(if: CLIRunner.isBuilt, "build the wirecheck binary first"))
    func capturedLengthPastSnapshotLength() throws {
        // Snapshot length 64, record of 200 bytes: readers may accept or reject it, but the
        // packet before it is analysed either way and nothing crashes.
        let frame = Self.udpFrame(40_002, payload: 150)
        let bytes = Self.header(snapshotLength: 64) + Self.record(seconds: 100, bytes: Array(Self.udpFrame(40_001).prefix(64)))
            + Self.record(seconds: 101, bytes: frame)
        let path = try Self.file("past-snaplen.pcap", bytes)
        let run = try CLIRunner.run(["analyze", path])
        #expect(run.status == 0)
        #expect(run.output.contains("analysis summary"))
    }

    @Test(.enabled(if: CLIRunner.isBuilt, "build the wirecheck binary first"))
    func garbageNamedPcapExitsOne() throws {
        let garbage = (0..<512).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 11) }
        let path = try Self.file("garbage.pcap", garbage)
        let run = try CLIRunner.run(["analyze", path])
        #expect(run.status == 1)
        #expect(run.error.contains(path))
    }

    @Test(.enabled(if: CLIRunner.isBuilt, "build the wirecheck binary first"))
    func garbageBesideGoodFileExitsZero() throws {
        let garbage = try Self.file("garbage.pcap", [UInt8](repeating: 0x41, count: 100))
        let good = try Self.file("good.pcap", Self.fivePackets())
        let run = try CLIRunner.run(["analyze", garbage, good])
        #expect(run.status == 0)
        #expect(run.error.contains(garbage))
    }

    @Test(.enabled(if: CLIRunner.isBuilt, "build the wirecheck binary first"))
    func mixedLinkTypesStopWithWarning() throws {
        let path = TestPaths.temporaryDirectory().appendingPathComponent("mixed.pcapng").path
        let writer = try PcapngFileWriter(path: path)
        let ethernet = writer.addInterface(linkType: .ethernet)
        writer.write(Self.udpFrame(40_001), interface: ethernet, timestamp: Timestamp(nanoseconds: 1_000_000_000))
        let raw = writer.addInterface(linkType: .raw)
        writer.write(Array(Self.udpFrame(40_002).dropFirst(14)), interface: raw, timestamp: Timestamp(nanoseconds: 2_000_000_000))
        writer.close()
        let run = try CLIRunner.run(["analyze", path])
        // libpcap 1.10 reads one link type per file, so the second interface ends the read.
        #expect(run.status == 0)
        #expect(run.error.contains("warning: \(path): reading stopped after packet 1"))
    }

    @Test(.enabled(if: CLIRunner.isBuilt, "build the wirecheck binary first"))
    func backwardsTimestampsInCLISummary() throws {
        let bytes = Self.header() + Self.record(seconds: 200, bytes: Self.udpFrame(40_001))
            + Self.record(seconds: 100, bytes: Self.udpFrame(40_002))
        let run = try CLIRunner.run(["analyze", Self.file("backwards.pcap", bytes)])
        #expect(run.status == 0)
        #expect(run.output.contains("timestamp earlier than the packet before"))
    }
}
