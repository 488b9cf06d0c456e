import Foundation
import Testing
@testable import WirecheckCapture
import CPcap
import WirecheckCore

// MARK: - Helpers

/// A directory under /tmp removed when the value is released, so each test writes its own files.
final class CaptureTemporaryDirectory {
    let path: String

    init() {
        path = NSTemporaryDirectory() + "wirecheck-capture-" + UUID().uuidString
        try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    }

    deinit {
        try? FileManager.default.removeItem(atPath: path)
    }

    func file(_ name: String) -> String {
        path + "/" + name
    }
}

/// One delivered packet, copied out of libpcap's buffer.
struct ReadPacket: Equatable {
    var timestamp: Int64
    var linkType: LinkType
    var bytes: [UInt8]
    var originalLength: Int
    var source: UInt16
    var number: UInt64
}

func readAll(_ input: CaptureInput) -> [ReadPacket] {
    var packets: [ReadPacket] = []
    input.run({ packet in
        packets.append(ReadPacket(timestamp: packet.timestamp.nanoseconds, linkType: packet.linkType,
                                  bytes: Array(packet.bytes), originalLength: packet.originalLength,
                                  source: packet.reference.source, number: packet.reference.number))
    }, idle: nil)
    return packets
}

func openError(_ paths: [String], filter: String? = nil) -> CaptureError? {
    do {
        _ = try CaptureInput.openFiles(paths, options: CaptureOptions(filter: filter), sources: CaptureSourceTable())
        return nil
    } catch let error as CaptureError {
        return error
    } catch {
        return nil
    }
}

func writeBytes(_ bytes: [UInt8], to path: String) {
    let created = FileManager.default.createFile(atPath: path, contents: Data(bytes))
    #expect(created, "could not write \(path)")
}

func fileBytes(_ path: String) -> [UInt8] {
    FileManager.default.contents(atPath: path).map { Array($0) } ?? []
}

/// Builds an IPv4/UDP packet from 10.0.0.1 to 10.0.0.2 (checksums zero, which BPF does not check).
func ipv4UDP(sourcePort: UInt16, destinationPort: UInt16, payload: [UInt8] = [0xde, 0xad]) -> [UInt8] {
    let udpLength = 8 + payload.count
    let totalLength = 20 + udpLength
    var bytes: [UInt8] = [0x45, 0x00, UInt8(totalLength >> 8), UInt8(totalLength & 0xff),
                          0x00, 0x01, 0x40, 0x00, 0x40, 0x11, 0x00, 0x00,
                          10, 0, 0, 1, 10, 0, 0, 2]
    bytes += [UInt8(sourcePort >> 8), UInt8(sourcePort & 0xff), UInt8(destinationPort >> 8), UInt8(destinationPort & 0xff),
              UInt8(udpLength >> 8), UInt8(udpLength & 0xff), 0x00, 0x00]
    return bytes + payload
}

/// Builds the same packet in an Ethernet II frame from 02:00:00:00:00:01 to 02:00:00:00:00:02.
func ethernetUDP(sourcePort: UInt16, destinationPort: UInt16) -> [UInt8] {
    [0x02, 0, 0, 0, 0, 0x02, 0x02, 0, 0, 0, 0, 0x01, 0x08, 0x00] + ipv4UDP(sourcePort: sourcePort, destinationPort: destinationPort)
}

func writePcap(_ path: String, linkType: LinkType = .ethernet, nanosecond: Bool = false,
               packets: [(Int64, [UInt8])]) throws {
    let writer = try CaptureFileWriter(path: path, linkType: linkType, nanosecond: nanosecond)
    for (time, bytes) in packets {
        writer.write(bytes, timestamp: Timestamp(nanoseconds: time))
    }
    writer.close()
}

func bigEndian32(_ value: UInt32) -> [UInt8] {
    [UInt8(value >> 24), UInt8((value >> 16) & 0xff), UInt8((value >> 8) & 0xff), UInt8(value & 0xff)]
}

func littleEndian32(_ value: UInt32) -> [UInt8] {
    [UInt8(value & 0xff), UInt8((value >> 8) & 0xff), UInt8((value >> 16) & 0xff), UInt8(value >> 24)]
}

// MARK: - Reading pcap

@Suite struct CaptureFileReadingTests {
    @Test func microsecondPcapRoundTrip() throws {
        let directory = CaptureTemporaryDirectory()
        let path = directory.file("micro.pcap")
        let first = ethernetUDP(sourcePort: 1000, destinationPort: 502)
        let second = ethernetUDP(sourcePort: 1001, destinationPort: 20000)
        try writePcap(path, packets: [(1_709_294_400_123_456_000, first), (1_709_294_401_000_001_000, second)])

        let sources = CaptureSourceTable()
        let input = try CaptureInput.openFiles([path], options: CaptureOptions(), sources: sources)
        let packets = readAll(input)

        #expect(packets.count == 2)
        #expect(packets[0].timestamp == 1_709_294_400_123_456_000)
        #expect(packets[1].timestamp == 1_709_294_401_000_001_000)
        #expect(packets[0].bytes == first)
        #expect(packets[1].bytes == second)
        #expect(packets[0].originalLength == first.count)
        #expect(packets[0].linkType == .ethernet)
        #expect(packets[0].number == 1)
        #expect(packets[1].number == 2)
        #expect(packets[0].source == 0)
        #expect(sources.names == [path])
        #expect(input.openErrors.isEmpty)
        #expect(input.warnings.isEmpty)
    }

    @Test func nanosecondPcapKeepsNanoseconds() throws {
        let directory = CaptureTemporaryDirectory()
        let path = directory.file("nano.pcap")
        try writePcap(path, nanosecond: true, packets: [(1_709_294_400_123_456_789, ethernetUDP(sourcePort: 1, destinationPort: 2))])

        let input = try CaptureInput.openFiles([path], options: CaptureOptions(), sources: CaptureSourceTable())
        let packets = readAll(input)

        #expect(packets.count == 1)
        #expect(packets.first?.timestamp == 1_709_294_400_123_456_789)
    }

    @Test func bigEndianMicrosecondPcap() throws {
        let directory = CaptureTemporaryDirectory()
        let path = directory.file("big-endian.pcap")
        let payload = ipv4UDP(sourcePort: 20000, destinationPort: 502)
        // Global header as a big-endian host writes it: magic, version 2.4, zone, sigfigs,
        // snaplen 65535, LINKTYPE_RAW (101).
        var bytes: [UInt8] = [0xa1, 0xb2, 0xc3, 0xd4, 0x00, 0x02, 0x00, 0x04,
                              0, 0, 0, 0, 0, 0, 0, 0, 0x00, 0x00, 0xff, 0xff, 0x00, 0x00, 0x00, 0x65]
        bytes += bigEndian32(1_700_000_000) + bigEndian32(999_999)
        bytes += bigEndian32(UInt32(payload.count)) + bigEndian32(UInt32(payload.count + 10)) + payload
        writeBytes(bytes, to: path)

        let input = try CaptureInput.openFiles([path], options: CaptureOptions(), sources: CaptureSourceTable())
        let packets = readAll(input)

        #expect(packets.count == 1)
        #expect(packets.first?.timestamp == 1_700_000_000_999_999_000)
        #expect(packets.first?.linkType == .raw)
        #expect(packets.first?.bytes == payload)
        #expect(packets.first?.originalLength == payload.count + 10)
    }

    @Test func bigEndianNanosecondPcap() throws {
        let directory = CaptureTemporaryDirectory()
        let path = directory.file("big-endian-nano.pcap")
        let payload = ipv4UDP(sourcePort: 20000, destinationPort: 502)
        // The nanosecond magic 0xa1b23c4d, big-endian, link type LINKTYPE_IPV4 (228).
        var bytes: [UInt8] = [0xa1, 0xb2, 0x3c, 0x4d, 0x00, 0x02, 0x00, 0x04,
                              0, 0, 0, 0, 0, 0, 0, 0, 0x00, 0x04, 0x00, 0x00, 0x00, 0x00, 0x00, 0xe4]
        bytes += bigEndian32(1_700_000_000) + bigEndian32(123_456_789)
        bytes += bigEndian32(UInt32(payload.count)) + bigEndian32(UInt32(payload.count)) + payload
        writeBytes(bytes, to: path)

        let input = try CaptureInput.openFiles([path], options: CaptureOptions(), sources: CaptureSourceTable())
        let packets = readAll(input)

        #expect(packets.count == 1)
        #expect(packets.first?.timestamp == 1_700_000_000_123_456_789)
        #expect(packets.first?.linkType == .ipv4)
    }

    @Test(arguments: [LinkType.raw, .linuxSLL, .linuxSLL2, .null, .loop, .ipv4, .ipv6])
    func linkTypeRoundTrip(linkType: LinkType) throws {
        let directory = CaptureTemporaryDirectory()
        let path = directory.file("link.pcap")
        try writePcap(path, linkType: linkType, packets: [(1_000_000_000, [0x45, 0x00, 0x00, 0x14])])

        let input = try CaptureInput.openFiles([path], options: CaptureOptions(), sources: CaptureSourceTable())
        let packets = readAll(input)

        #expect(packets.first?.linkType == linkType)
        #expect(input.statistics.sources.first?.linkType == linkType)
    }

    @Test func snapshotLengthCutsLongPackets() throws {
        let directory = CaptureTemporaryDirectory()
        let path = directory.file("snap.pcap")
        let writer = try CaptureFileWriter(path: path, linkType: .ethernet, snapshotLength: 64)
        writer.write([UInt8](repeating: 0xab, count: 100), timestamp: Timestamp(nanoseconds: 5_000))
        writer.write([UInt8](repeating: 0xcd, count: 40), timestamp: Timestamp(nanoseconds: 6_000), originalLength: 1500)
        try writer.flush()
        writer.close()

        let input = try CaptureInput.openFiles([path], options: CaptureOptions(), sources: CaptureSourceTable())
        let packets = readAll(input)

        #expect(packets.count == 2)
        #expect(packets[0].bytes.count == 64)
        #expect(packets[0].originalLength == 100)
        #expect(packets[1].bytes.count == 40)
        #expect(packets[1].originalLength == 1500)
    }

    @Test func headerOnlyFileWarnsNoPackets() throws {
        let directory = CaptureTemporaryDirectory()
        let path = directory.file("header-only.pcap")
        try writePcap(path, packets: [])

        let input = try CaptureInput.openFiles([path], options: CaptureOptions(), sources: CaptureSourceTable())
        let packets = readAll(input)

        #expect(packets.isEmpty)
        #expect(input.warnings == ["\(path) contains no packets"])
        #expect(input.statistics.sources.first?.completed == true)
    }

    @Test func progressReachesFileSize() throws {
        let directory = CaptureTemporaryDirectory()
        let path = directory.file("progress.pcap")
        let packets = (0..<200).map { (Int64($0) * 1_000_000, ethernetUDP(sourcePort: UInt16($0), destinationPort: 502)) }
        try writePcap(path, packets: packets)
        let size = Int64(fileBytes(path).count)

        let input = try CaptureInput.openFiles([path], options: CaptureOptions(), sources: CaptureSourceTable())
        #expect(input.progress.totalBytes == size)
        var midwayBytes: Int64 = -1
        input.run({ packet in
            if packet.reference.number == 100 {
                midwayBytes = input.progress.bytesRead
            }
        }, idle: nil)

        #expect(midwayBytes > 0)
        #expect(midwayBytes <= size)
        #expect(input.progress.bytesRead == size)
        #expect(input.sourceProgress.first?.totalBytes == size)
    }

    @Test func stopEndsRunAfterCurrentPacket() throws {
        let directory = CaptureTemporaryDirectory()
        let path = directory.file("stop.pcap")
        try writePcap(path, packets: (0..<10).map { (Int64($0), ethernetUDP(sourcePort: 1, destinationPort: 2)) })

        let input = try CaptureInput.openFiles([path], options: CaptureOptions(), sources: CaptureSourceTable())
        var numbers: [UInt64] = []
        input.run({ packet in
            numbers.append(packet.reference.number)
            if packet.reference.number == 3 {
                input.stop()
            }
        }, idle: nil)

        #expect(numbers == [1, 2, 3])
        #expect(input.isStopRequested)
        #expect(input.statistics.sources.first?.completed == false)
    }

    @Test func standardInputThroughPipe() throws {
        let directory = CaptureTemporaryDirectory()
        let path = directory.file("stdin.pcap")
        try writePcap(path, nanosecond: true, packets: [(42, ethernetUDP(sourcePort: 1, destinationPort: 2)),
                                                        (43, ethernetUDP(sourcePort: 3, destinationPort: 4))])
        let bytes = fileBytes(path)

        // The capture fits in the pipe buffer, so it is written whole before the read starts.
        var ends: [Int32] = [0, 0]
        #expect(pipe(&ends) == 0)
        let written = bytes.withUnsafeBytes { Glibc.write(ends[1], $0.baseAddress, $0.count) }
        #expect(written == bytes.count)
        Glibc.close(ends[1])

        // openFiles duplicates descriptor 0, so the original standard input is restored at once.
        let savedStandardInput = dup(STDIN_FILENO)
        dup2(ends[0], STDIN_FILENO)
        let sources = CaptureSourceTable()
        let result = Result { try CaptureInput.openFiles(["-", "-"], options: CaptureOptions(), sources: sources) }
        dup2(savedStandardInput, STDIN_FILENO)
        Glibc.close(savedStandardInput)
        Glibc.close(ends[0])

        let input = try result.get()
        let packets = readAll(input)
        #expect(packets.map { $0.timestamp } == [42, 43])
        #expect(packets.map { $0.number } == [1, 2])
        #expect(sources.names == ["-"])
        #expect(input.openErrors == [.standardInputRepeated])
        #expect(input.progress.totalBytes == 0)
    }
}

// MARK: - Reading pcapng

@Suite struct CapturePcapngTests {
    @Test(arguments: [false, true])
    func pcapngInterfacesAndUnknownBlocks(bigEndian: Bool) throws {
        let directory = CaptureTemporaryDirectory()
        let path = directory.file("several.pcapng")
        let writer = try PcapngFileWriter(path: path, bigEndian: bigEndian)
        let micro = writer.addInterface(linkType: .ethernet)
        let nano = writer.addInterface(linkType: .ethernet, nanosecond: true)
        let first = ethernetUDP(sourcePort: 1, destinationPort: 502)
        let second = ethernetUDP(sourcePort: 2, destinationPort: 502)
        let third = ethernetUDP(sourcePort: 3, destinationPort: 502)
        writer.write(first, interface: micro, timestamp: Timestamp(nanoseconds: 1_700_000_000_000_001_000))
        // A block type that no specification defines, so readers skip it by its length.
        writer.writeBlock(type: 0x0000_0BAD, body: [1, 2, 3, 4, 5])
        writer.write(second, interface: nano, timestamp: Timestamp(nanoseconds: 1_700_000_000_000_002_345))
        writer.write(third, interface: micro, timestamp: Timestamp(nanoseconds: 1_700_000_000_000_003_000), originalLength: 200)
        writer.close()

        let input = try CaptureInput.openFiles([path], options: CaptureOptions(), sources: CaptureSourceTable())
        let packets = readAll(input)

        #expect(packets.count == 3)
        #expect(packets.map { $0.number } == [1, 2, 3])
        #expect(packets.map { $0.timestamp } == [1_700_000_000_000_001_000, 1_700_000_000_000_002_345, 1_700_000_000_000_003_000])
        #expect(packets[0].bytes == first)
        #expect(packets[1].bytes == second)
        #expect(packets[2].originalLength == 200)
        #expect(input.warnings.isEmpty)
    }

    /// Concatenates two one-packet pcapng files into one file with two sections.
    func writeTwoSections(_ directory: CaptureTemporaryDirectory, secondBigEndian: Bool) throws -> String {
        let firstPath = directory.file("first.pcapng")
        let secondPath = directory.file("second.pcapng")
        let path = directory.file("two-sections.pcapng")
        for (sectionPath, bigEndian, time) in [(firstPath, false, Int64(1000)), (secondPath, secondBigEndian, Int64(2000))] {
            let writer = try PcapngFileWriter(path: sectionPath, bigEndian: bigEndian)
            writer.addInterface(linkType: .ethernet)
            writer.write(ethernetUDP(sourcePort: 1, destinationPort: 502), timestamp: Timestamp(nanoseconds: time))
            writer.close()
        }
        writeBytes(fileBytes(firstPath) + fileBytes(secondPath), to: path)
        return path
    }

    @Test func pcapngSecondSectionIsRead() throws {
        let directory = CaptureTemporaryDirectory()
        let path = try writeTwoSections(directory, secondBigEndian: false)

        let input = try CaptureInput.openFiles([path], options: CaptureOptions(), sources: CaptureSourceTable())
        let packets = readAll(input)

        #expect(packets.map { $0.number } == [1, 2])
        #expect(packets.map { $0.timestamp } == [1000, 2000])
        #expect(input.warnings.isEmpty)
    }

    @Test func pcapngSectionByteOrderChangeWarns() throws {
        let directory = CaptureTemporaryDirectory()
        let path = try writeTwoSections(directory, secondBigEndian: true)

        let input = try CaptureInput.openFiles([path], options: CaptureOptions(), sources: CaptureSourceTable())
        let packets = readAll(input)

        // libpcap 1.10 reads a later section header in the first section's byte order, so it
        // rejects the block length and stops. The first section's packet is still delivered.
        #expect(packets.map { $0.number } == [1])
        #expect(input.warnings.first?.hasPrefix("\(path): reading stopped after packet 1: ") == true)
    }

    @Test func pcapngDamagedBlockStopsWithWarning() throws {
        let directory = CaptureTemporaryDirectory()
        let path = directory.file("damaged.pcapng")
        let writer = try PcapngFileWriter(path: path)
        writer.addInterface(linkType: .ethernet)
        for index in 0..<3 {
            writer.write(ethernetUDP(sourcePort: UInt16(index), destinationPort: 502), timestamp: Timestamp(nanoseconds: Int64(index) * 1000))
        }
        writer.close()
        // An enhanced packet block header whose total length claims 2 GiB.
        writeBytes(fileBytes(path) + littleEndian32(6) + littleEndian32(0x7fff_fff0) + [UInt8](repeating: 0, count: 32), to: path)

        let input = try CaptureInput.openFiles([path], options: CaptureOptions(), sources: CaptureSourceTable())
        let packets = readAll(input)

        #expect(packets.count == 3)
        #expect(input.warnings.count == 1)
        #expect(input.warnings.first?.hasPrefix("\(path): reading stopped after packet 3: pcapng block size ") == true)
        #expect(input.statistics.sources.first?.stopReason != nil)
    }

    @Test func pcapngTruncatedBlockStopsWithWarning() throws {
        let directory = CaptureTemporaryDirectory()
        let path = directory.file("truncated.pcapng")
        let writer = try PcapngFileWriter(path: path)
        writer.addInterface(linkType: .ethernet)
        writer.write(ethernetUDP(sourcePort: 1, destinationPort: 502), timestamp: Timestamp(nanoseconds: 1000))
        writer.write(ethernetUDP(sourcePort: 2, destinationPort: 502), timestamp: Timestamp(nanoseconds: 2000))
        writer.close()
        let bytes = fileBytes(path)
        writeBytes(Array(bytes.dropLast(20)), to: path)

        let input = try CaptureInput.openFiles([path], options: CaptureOptions(), sources: CaptureSourceTable())
        let packets = readAll(input)

        #expect(packets.count == 1)
        #expect(input.warnings.first?.hasPrefix("\(path): reading stopped after packet 1: ") == true)
    }

    @Test func pcapngMixedLinkTypesIsLibpcapsToReject() throws {
        let directory = CaptureTemporaryDirectory()
        let path = directory.file("mixed.pcapng")
        let writer = try PcapngFileWriter(path: path)
        let ethernet = writer.addInterface(linkType: .ethernet)
        writer.write(ethernetUDP(sourcePort: 1, destinationPort: 502), interface: ethernet, timestamp: Timestamp(nanoseconds: 1000))
        let raw = writer.addInterface(linkType: .raw)
        writer.write(ipv4UDP(sourcePort: 2, destinationPort: 502), interface: raw, timestamp: Timestamp(nanoseconds: 2000))
        writer.close()

        let input = try CaptureInput.openFiles([path], options: CaptureOptions(), sources: CaptureSourceTable())
        let packets = readAll(input)

        // libpcap 1.10 reads one link type per file and stops at an interface of another type.
        #expect(packets.count == 1)
        #expect(input.warnings.first?.hasPrefix("\(path): reading stopped after packet 1: ") == true)
    }
}

// MARK: - Merging and filtering

@Suite struct CaptureMergeTests {
    @Test func twoFilesMergeByTimestamp() throws {
        let directory = CaptureTemporaryDirectory()
        let firstPath = directory.file("a.pcap")
        let secondPath = directory.file("b.pcap")
        let frame = ethernetUDP(sourcePort: 1, destinationPort: 2)
        try writePcap(firstPath, nanosecond: true, packets: [(100, frame), (300, frame), (300, frame), (500, frame)])
        try writePcap(secondPath, nanosecond: true, packets: [(200, frame), (300, frame), (400, frame)])

        let sources = CaptureSourceTable()
        let input = try CaptureInput.openFiles([firstPath, secondPath], options: CaptureOptions(), sources: sources)
        let packets = readAll(input)
        let order = packets.map { "\($0.source):\($0.number)@\($0.timestamp)" }

        // Equal times keep file order: both 300s of the first file before the second file's.
        #expect(order == ["0:1@100", "1:1@200", "0:2@300", "0:3@300", "1:2@300", "1:3@400", "0:4@500"])
        #expect(sources.names == [firstPath, secondPath])
        #expect(input.statistics.packets == 7)
    }

    @Test func manyFilesMergeInOrder() throws {
        let directory = CaptureTemporaryDirectory()
        var generator = SystemRandomNumberGenerator()
        var paths: [String] = []
        for fileIndex in 0..<5 {
            let times = (0..<40).map { _ in Int64.random(in: 0..<50, using: &generator) }.sorted()
            let path = directory.file("part\(fileIndex).pcap")
            try writePcap(path, nanosecond: true, packets: times.map { ($0, [UInt8(fileIndex)]) })
            paths.append(path)
        }

        let input = try CaptureInput.openFiles(paths, options: CaptureOptions(), sources: CaptureSourceTable())
        let packets = readAll(input)

        #expect(packets.count == 200)
        for (earlier, later) in zip(packets, packets.dropFirst()) {
            let ordered = earlier.timestamp < later.timestamp
                || (earlier.timestamp == later.timestamp && earlier.source < later.source)
                || (earlier.timestamp == later.timestamp && earlier.source == later.source && earlier.number < later.number)
            #expect(ordered, "\(earlier) came before \(later)")
        }
    }

    @Test func filterKeepsFilePacketNumbers() throws {
        let directory = CaptureTemporaryDirectory()
        let path = directory.file("filter.pcap")
        let ports: [UInt16] = [53, 502, 123, 502, 20000]
        try writePcap(path, packets: ports.enumerated().map { (Int64($0.offset) * 1000, ethernetUDP(sourcePort: 40000, destinationPort: $0.element)) })

        let input = try CaptureInput.openFiles([path], options: CaptureOptions(filter: "udp port 502"), sources: CaptureSourceTable())
        let packets = readAll(input)

        #expect(packets.map { $0.number } == [2, 4])
        #expect(input.statistics.sources.first?.records == 5)
        #expect(input.statistics.sources.first?.packets == 2)
        #expect(input.statistics.filteredOut == 3)
    }

    @Test func filterAppliesPerLinkType() throws {
        let directory = CaptureTemporaryDirectory()
        let ethernetPath = directory.file("ethernet.pcap")
        let rawPath = directory.file("raw.pcap")
        try writePcap(ethernetPath, packets: [(1, ethernetUDP(sourcePort: 1, destinationPort: 502)), (2, ethernetUDP(sourcePort: 1, destinationPort: 80))])
        try writePcap(rawPath, linkType: .raw, packets: [(3, ipv4UDP(sourcePort: 9, destinationPort: 80)), (4, ipv4UDP(sourcePort: 9, destinationPort: 502))])

        let input = try CaptureInput.openFiles([ethernetPath, rawPath], options: CaptureOptions(filter: "udp dst port 502"),
                                               sources: CaptureSourceTable())
        let packets = readAll(input)

        #expect(packets.map { "\($0.source):\($0.number)" } == ["0:1", "1:2"])
    }

    @Test func invalidFilterNamesExpression() {
        let directory = CaptureTemporaryDirectory()
        let path = directory.file("any.pcap")
        try? writePcap(path, packets: [(1, ethernetUDP(sourcePort: 1, destinationPort: 2))])

        let error = openError([path], filter: "udp portt 502")

        guard case .invalidFilter(let expression, let message)? = error else {
            Issue.record("expected invalidFilter, got \(String(describing: error))")
            return
        }
        #expect(expression == "udp portt 502")
        #expect(!message.isEmpty)
        #expect(error?.description.hasPrefix("invalid capture filter \"udp portt 502\": ") == true)
    }

    @Test func filterForOtherLinkTypeSkipsFile() throws {
        let directory = CaptureTemporaryDirectory()
        let ethernetPath = directory.file("ethernet.pcap")
        let rawPath = directory.file("raw.pcap")
        try writePcap(ethernetPath, packets: [(1, ethernetUDP(sourcePort: 1, destinationPort: 502))])
        try writePcap(rawPath, linkType: .raw, packets: [(2, ipv4UDP(sourcePort: 1, destinationPort: 502))])

        let input = try CaptureInput.openFiles([ethernetPath, rawPath], options: CaptureOptions(filter: "ether src 02:00:00:00:00:01"),
                                               sources: CaptureSourceTable())
        let packets = readAll(input)

        #expect(packets.count == 1)
        guard case .filterNotApplicable(let path, _, let linkType, _)? = input.openErrors.first else {
            Issue.record("expected filterNotApplicable, got \(input.openErrors)")
            return
        }
        #expect(path == rawPath)
        #expect(linkType == "RAW (12)")
        #expect(input.openErrors.first?.description.hasPrefix("\(rawPath): capture filter \"ether src 02:00:00:00:00:01\" does not apply to link type RAW (12): ") == true)
    }
}

// MARK: - Errors and warnings

@Suite struct CaptureErrorTests {
    @Test func missingFileNamesPath() {
        let error = openError(["/tmp/wirecheck-no-such-dir/missing.pcap"])
        #expect(error == .fileNotFound(path: "/tmp/wirecheck-no-such-dir/missing.pcap"))
        #expect(error?.description == "/tmp/wirecheck-no-such-dir/missing.pcap: file not found; check the path")
    }

    @Test func garbageFileShowsFirstBytes() {
        let directory = CaptureTemporaryDirectory()
        let path = directory.file("notes.txt")
        writeBytes(Array("hello, this is text\n".utf8), to: path)

        let error = openError([path])

        #expect(error == .notACaptureFile(path: path, firstBytes: [0x68, 0x65, 0x6c, 0x6c, 0x6f, 0x2c, 0x20, 0x74]))
        #expect(error?.description == "\(path) is not a pcap or pcapng capture (first bytes: 0x68656c6c6f2c2074); export it as pcap or pcapng")
    }

    @Test func emptyFileIsReported() {
        let directory = CaptureTemporaryDirectory()
        let path = directory.file("empty.pcap")
        writeBytes([], to: path)

        let error = openError([path])

        #expect(error == .emptyFile(path: path))
        #expect(error?.description.hasPrefix(path) == true)
    }

    @Test func directoryIsReported() {
        let directory = CaptureTemporaryDirectory()
        #expect(openError([directory.path]) == .isDirectory(path: directory.path))
    }

    @Test func cutFileHeaderIsOpenFailure() {
        let directory = CaptureTemporaryDirectory()
        let path = directory.file("short-header.pcap")
        writeBytes([0xd4, 0xc3, 0xb2, 0xa1, 0x02, 0x00, 0x04, 0x00], to: path)

        let error = openError([path])

        guard case .openFailed(let failedPath, let message)? = error else {
            Issue.record("expected openFailed, got \(String(describing: error))")
            return
        }
        #expect(failedPath == path)
        #expect(message.contains("truncated"))
    }

    @Test func unsupportedLinkTypeNamesIt() throws {
        let directory = CaptureTemporaryDirectory()
        let path = directory.file("wifi.pcap")
        // DLT_IEEE802_11 (105): 802.11 frames without a radio header.
        try writePcap(path, linkType: LinkType(rawValue: 105), packets: [(1, [1, 2, 3])])

        let error = openError([path])

        #expect(error == .unsupportedLinkType(input: path, linkType: 105, linkTypeName: "IEEE802_11"))
        #expect(error?.description.hasPrefix("\(path): link type IEEE802_11 (105) is not supported; supported link types: NULL (BSD loopback), EN10MB (Ethernet)") == true)
    }

    @Test func unnamedLinkTypeShowsNumber() throws {
        let directory = CaptureTemporaryDirectory()
        let path = directory.file("user0.pcap")
        // DLT_USER0 (147), reserved for private use; libpcap 1.10 has no name for it.
        try writePcap(path, linkType: LinkType(rawValue: 147), packets: [(1, [1, 2, 3])])

        let error = openError([path])

        #expect(error == .unsupportedLinkType(input: path, linkType: 147, linkTypeName: nil))
        #expect(error?.description.hasPrefix("\(path): link type 147 is not supported; ") == true)
    }

    @Test func badFileDoesNotStopOthers() throws {
        let directory = CaptureTemporaryDirectory()
        let goodPath = directory.file("good.pcap")
        let missingPath = directory.file("missing.pcap")
        try writePcap(goodPath, packets: [(1, ethernetUDP(sourcePort: 1, destinationPort: 2))])

        let sources = CaptureSourceTable()
        let input = try CaptureInput.openFiles([missingPath, goodPath], options: CaptureOptions(), sources: sources)
        let packets = readAll(input)

        #expect(packets.count == 1)
        #expect(packets.first?.source == 0)
        #expect(sources.names == [goodPath])
        #expect(input.openErrors == [.fileNotFound(path: missingPath)])
    }

    @Test func noFileOpenedListsEveryError() {
        let directory = CaptureTemporaryDirectory()
        let first = directory.file("one.pcap")
        let second = directory.file("two.pcap")

        let error = openError([first, second])

        #expect(error == .noInputOpened([.fileNotFound(path: first), .fileNotFound(path: second)]))
        #expect(error?.description.hasPrefix("none of the 2 capture inputs could be opened: ") == true)
    }

    @Test func truncatedRecordKeepsEarlierPackets() throws {
        let directory = CaptureTemporaryDirectory()
        let path = directory.file("cut.pcap")
        try writePcap(path, packets: (0..<5).map { (Int64($0) * 1000, ethernetUDP(sourcePort: UInt16($0), destinationPort: 502)) })
        writeBytes(Array(fileBytes(path).dropLast(10)), to: path)

        let input = try CaptureInput.openFiles([path], options: CaptureOptions(), sources: CaptureSourceTable())
        let packets = readAll(input)

        #expect(packets.map { $0.number } == [1, 2, 3, 4])
        #expect(input.warnings.count == 1)
        #expect(input.warnings.first?.hasPrefix("\(path): reading stopped after packet 4: truncated dump file") == true)
        #expect(input.statistics.sources.first?.completed == false)
    }

    @Test func cutFirstRecordWarnsBeforeFirstPacket() throws {
        let directory = CaptureTemporaryDirectory()
        let path = directory.file("cut-first.pcap")
        try writePcap(path, packets: [(1000, ethernetUDP(sourcePort: 1, destinationPort: 502))])
        writeBytes(Array(fileBytes(path).dropLast(10)), to: path)

        let input = try CaptureInput.openFiles([path], options: CaptureOptions(), sources: CaptureSourceTable())
        let packets = readAll(input)

        #expect(packets.isEmpty)
        #expect(input.warnings.first?.hasPrefix("\(path): reading stopped before the first packet: truncated dump file") == true)
    }

    @Test func oversizedRecordBecomesWarning() throws {
        let directory = CaptureTemporaryDirectory()
        let path = directory.file("oversized.pcap")
        let frame = ethernetUDP(sourcePort: 1, destinationPort: 2)
        // Little-endian microsecond header, snaplen 65535, Ethernet; then one good record and a
        // record whose captured length is 16 MiB.
        var bytes: [UInt8] = [0xd4, 0xc3, 0xb2, 0xa1, 0x02, 0x00, 0x04, 0x00,
                              0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00]
        bytes += littleEndian32(1) + littleEndian32(0) + littleEndian32(UInt32(frame.count)) + littleEndian32(UInt32(frame.count)) + frame
        bytes += littleEndian32(2) + littleEndian32(0) + littleEndian32(0x0100_0000) + littleEndian32(0x0100_0000) + frame
        writeBytes(bytes, to: path)

        let input = try CaptureInput.openFiles([path], options: CaptureOptions(), sources: CaptureSourceTable())
        let packets = readAll(input)

        #expect(packets.count == 1)
        #expect(input.warnings.first?.hasPrefix("\(path): reading stopped after packet 1: ") == true)
    }

    @Test func emptyInputListIsReported() {
        #expect(openError([]) == .noInputOpened([]))
        #expect(openError([])?.description.hasPrefix("no capture input given; ") == true)
    }
}

// MARK: - Writers, heap, live capture and signals

@Suite struct CaptureMergeHeapTests {
    @Test func heapPopsInKeyThenIndexOrder() {
        var heap = MergeHeap(capacity: 4)
        heap.insert(key: 30, index: 0)
        heap.insert(key: 10, index: 3)
        heap.insert(key: 10, index: 1)
        heap.insert(key: 20, index: 2)

        var popped: [Int] = []
        while let index = heap.minimum {
            popped.append(index)
            heap.removeMinimum()
        }

        #expect(popped == [1, 3, 2, 0])
    }

    @Test func replacingMinimumKeyReorders() {
        var heap = MergeHeap(capacity: 2)
        heap.insert(key: 1, index: 0)
        heap.insert(key: 5, index: 1)

        heap.replaceMinimumKey(9)

        #expect(heap.minimum == 1)
    }
}

@Suite struct CaptureLiveTests {
    @Test func missingInterfaceListsAvailable() {
        do {
            _ = try CaptureInput.openLive(interface: "wcnosuch0", options: CaptureOptions(), sources: CaptureSourceTable())
            Issue.record("opening a missing interface succeeded")
        } catch let error as CaptureError {
            guard case .noSuchInterface(let name, _) = error else {
                Issue.record("expected noSuchInterface, got \(error)")
                return
            }
            #expect(name == "wcnosuch0")
            #expect(error.description.hasPrefix("interface wcnosuch0 not found; available interfaces: "))
        } catch {
            Issue.record("unexpected error \(error)")
        }
    }

    @Test func listsLoopbackInterface() {
        let interfaces = listInterfaces()
        #expect(interfaces.contains { $0.isLoopback })
    }

    /// Captures a UDP datagram sent to 127.0.0.1. Live capture needs root, so it skips otherwise.
    @Test(.enabled(if: geteuid() == 0, "live capture needs root"), .timeLimit(.minutes(1)))
    func loopbackCapturesUDP() throws {
        let receiver = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        #expect(receiver >= 0)
        defer { Glibc.close(receiver) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = UInt32(0x7f00_0001).bigEndian
        address.sin_port = 0
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(receiver, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        #expect(bound == 0)
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(receiver, $0, &length) }
        }
        let port = UInt16(bigEndian: address.sin_port)

        let sources = CaptureSourceTable()
        let input = try CaptureInput.openLive(interface: "lo", options: CaptureOptions(filter: "udp dst port \(port)"), sources: sources)

        let sender = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        defer { Glibc.close(sender) }
        let marker: [UInt8] = Array("wirecheck-live-test".utf8)
        let destination = address
        let sendQueue = DispatchQueue(label: "capture-test-sender")
        for attempt in 0..<20 {
            sendQueue.asyncAfter(deadline: .now() + .milliseconds(100 * attempt)) {
                var target = destination
                _ = withUnsafePointer(to: &target) { pointer in
                    pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { socketAddress in
                        marker.withUnsafeBytes {
                            sendto(sender, $0.baseAddress, $0.count, 0, socketAddress, socklen_t(MemoryLayout<sockaddr_in>.size))
                        }
                    }
                }
            }
        }

        var captured: [UInt8] = []
        var reference: PacketReference?
        var idleCalls = 0
        input.run({ packet in
            captured = Array(packet.bytes)
            reference = packet.reference
            input.stop()
        }, idle: { _ in
            idleCalls += 1
            if idleCalls >= 5 {
                input.stop()
            }
        })
        sendQueue.sync {}

        #expect(captured.count >= marker.count)
        #expect(Array(captured.suffix(marker.count)) == marker)
        #expect(reference == PacketReference(source: 0, number: 1))
        #expect(sources.names == ["interface:lo"])
        #expect(input.statistics.kernel != nil)
        #expect(input.statistics.sources.first?.linkType == .ethernet)
    }
}

extension CaptureLiveTests {
    @Test func permissionErrorSaysHowToGrant() {
        let error = CaptureInput.activationError(status: PCAP_ERROR_PERM_DENIED, interface: "eth1",
                                                 message: "socket: Operation not permitted")

        #expect(error == .interfacePermissionDenied(name: "eth1", message: "socket: Operation not permitted"))
        #expect(error.description.hasPrefix("cannot capture on interface eth1: permission denied (socket: Operation not permitted); run as root or grant"))
        #expect(error.description.contains("CAP_NET_RAW"))
    }

    @Test func interfaceDownSaysHowToBringUp() {
        let error = CaptureInput.activationError(status: PCAP_ERROR_IFACE_NOT_UP, interface: "eth1", message: "")

        #expect(error.description == "interface eth1 is down; bring it up (ip link set eth1 up) and try again")
    }

    @Test(.enabled(if: geteuid() == 0, "live capture needs root"), .timeLimit(.minutes(1)))
    func stopFromOtherThreadEndsRun() throws {
        let input = try CaptureInput.openLive(interface: "lo", options: CaptureOptions(filter: "udp port 9 and udp port 7"),
                                              sources: CaptureSourceTable())
        let started = wallClockNow()
        DispatchQueue.global().asyncAfter(deadline: .now() + .milliseconds(300)) {
            input.stop()
        }

        input.run({ _ in }, idle: nil)

        let elapsed = wallClockNow().nanoseconds - started.nanoseconds
        #expect(elapsed >= 250_000_000)
        #expect(elapsed < 5_000_000_000)
        #expect(input.isStopRequested)
    }

    /// Reads a quiet filter on the loopback interface so that only `idle` is called.
    @Test(.enabled(if: geteuid() == 0, "live capture needs root"), .timeLimit(.minutes(1)))
    func quietInterfaceCallsIdle() throws {
        // Port 9 (discard) over UDP is not expected on loopback during the test.
        let input = try CaptureInput.openLive(interface: "lo", options: CaptureOptions(filter: "udp port 9 and udp port 7"),
                                              sources: CaptureSourceTable())
        #expect(input.isLive)
        let started = wallClockNow()
        var idleTimes: [Timestamp] = []
        var packetCount = 0

        input.run({ _ in
            packetCount += 1
        }, idle: { now in
            idleTimes.append(now)
            if idleTimes.count == 2 {
                input.stop()
            }
        })

        #expect(packetCount == 0)
        #expect(idleTimes.count == 2)
        #expect((idleTimes.first?.nanoseconds ?? 0) - started.nanoseconds >= CaptureInput.idleIntervalNanoseconds)
        #expect(input.statistics.sources.first?.completed == true)
    }
}

@Suite struct CaptureSignalTests {
    @Test(.timeLimit(.minutes(1)))
    func signalCallsHandler() async {
        let received = DispatchSemaphore(value: 0)
        installStopSignalHandlers(signals: [SIGUSR1]) {
            received.signal()
        }

        kill(getpid(), SIGUSR1)

        #expect(received.wait(timeout: .now() + 10) == .success)
    }
}

// MARK: - Public corpus

/// Finds the shared corpus of public captures beside the package, or beside the worktree folder
/// that contains it. Returns nil when it is absent, so the tests skip.
func sharedCaptureDirectory() -> String? {
    let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    for candidate in ["../shared/captures", "../../shared/captures"] {
        let path = packageRoot.appendingPathComponent(candidate).standardizedFileURL.path
        if FileManager.default.fileExists(atPath: path + "/MANIFEST.tsv") {
            return path
        }
    }
    return nil
}

/// One manifest row: a capture and what tshark 4.0.17 counted in it.
struct CorpusCapture {
    var path: String
    var packetCount: Int
    /// tshark's short link type name (`ether`, `null`, `rawip`), or nil when tshark gave none.
    var tsharkLinkType: String?
    /// tshark read only part of the file before a container error.
    var damaged: Bool
}

func corpusCaptures(in directory: String) -> [CorpusCapture] {
    guard let manifest = try? String(contentsOfFile: directory + "/MANIFEST.tsv", encoding: .utf8) else { return [] }
    var captures: [CorpusCapture] = []
    for line in manifest.split(separator: "\n").dropFirst() {
        let fields = line.split(separator: "\t", omittingEmptySubsequences: false)
        guard fields.count > 8, let observed = fields[8].range(of: "observed: ") else { continue }
        let afterObserved = fields[8][observed.upperBound...]
        guard let count = Int(afterObserved.prefix { $0.isNumber }) else { continue }
        var linkType: String?
        if let label = fields[8].range(of: "| linktype ") {
            let name = fields[8][label.upperBound...].prefix { $0 != " " }
            linkType = name == "?" ? nil : String(name)
        }
        captures.append(CorpusCapture(path: directory + "/" + fields[0], packetCount: count, tsharkLinkType: linkType,
                                      damaged: afterObserved.contains("readable before container error")))
    }
    return captures
}

@Suite struct CaptureCorpusTests {
    static let tsharkLinkTypes: [String: LinkType] = [
        "ether": .ethernet, "linux-sll": .linuxSLL, "null": .null, "rawip": .raw, "rawip4": .ipv4,
    ]

    @Test(.enabled(if: sharedCaptureDirectory() != nil, "the shared capture corpus is absent"))
    func packetCountsMatchTshark() throws {
        let captures = corpusCaptures(in: try #require(sharedCaptureDirectory()))
        #expect(!captures.isEmpty)

        for capture in captures {
            let input = try CaptureInput.openFiles([capture.path], options: CaptureOptions(), sources: CaptureSourceTable())
            let packets = readAll(input)

            #expect(packets.count == capture.packetCount, "\(capture.path)")
            #expect(packets.map { $0.number } == (1...UInt64(max(packets.count, 1))).prefix(packets.count).map { $0 },
                    "\(capture.path)")
            #expect(input.warnings.isEmpty == !capture.damaged, "\(capture.path): \(input.warnings)")
            if let name = capture.tsharkLinkType {
                #expect(packets.first?.linkType == Self.tsharkLinkTypes[name], "\(capture.path)")
            }
        }
    }

    @Test(.enabled(if: sharedCaptureDirectory() != nil, "the shared capture corpus is absent"))
    func wholeCorpusMergesInOneRun() throws {
        let captures = corpusCaptures(in: try #require(sharedCaptureDirectory()))
        let sources = CaptureSourceTable()
        let input = try CaptureInput.openFiles(captures.map { $0.path }, options: CaptureOptions(), sources: sources)

        var lastNumber = [UInt64](repeating: 0, count: captures.count)
        var total = 0
        var outOfOrder = 0
        input.run({ packet in
            let source = Int(packet.reference.source)
            if packet.reference.number != lastNumber[source] + 1 {
                outOfOrder += 1
            }
            lastNumber[source] = packet.reference.number
            total += 1
        }, idle: nil)

        #expect(input.openErrors.isEmpty)
        #expect(sources.names.count == captures.count)
        #expect(total == captures.reduce(0) { $0 + $1.packetCount })
        #expect(outOfOrder == 0)
        #expect(input.progress.bytesRead == input.progress.totalBytes)
    }
}
