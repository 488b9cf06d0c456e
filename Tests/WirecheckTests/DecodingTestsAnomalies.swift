import Testing
import WirecheckCore
import WirecheckDecoding
import WirecheckSynthesis

/// Returns `frame` with `bytes` written at `offset`.
func patched(_ frame: [UInt8], at offset: Int, _ bytes: [UInt8]) -> [UInt8] {
    var copy = frame
    for (index, byte) in bytes.enumerated() { copy[offset + index] = byte }
    return copy
}

@Suite struct DecodingAnomalyTests {
    var builder = PacketBuilder()

    mutating func tcpFrame(flags: TCPHeaderFlags = .ack, options: [TCPOptionSpec] = [], ports: (UInt16, UInt16) = (40000, 502),
                           ip: IPSpec = TestHosts.ip) -> [UInt8] {
        builder.tcp(TestHosts.link, ip: ip,
                    tcp: TCPSpec(sourcePort: ports.0, destinationPort: ports.1, sequence: 1, acknowledgement: 1,
                                 flags: flags, options: options),
                    payload: [1, 2, 3, 4])
    }

    /// Decodes `frame` and returns how often `definition` was raised, checking that the event
    /// names the packet.
    func raised(_ definition: AnomalyDefinition, by frame: [UInt8], link: LinkType = .ethernet,
                verifyChecksums: Bool = false) -> Int {
        let harness = DecodingHarness(verifyChecksums: verifyChecksums)
        harness.decode(frame, link: link)
        let events = harness.events.anomalies(named: definition.name)
        for event in events {
            #expect(event.packets == [PacketReference(source: 0, number: 1)])
            #expect(event.message?.contains("packet 1") == true)
        }
        return events.count
    }

    @Test mutating func normalConversationRaisesNothing() {
        var conversation = TCPConversation(link: TestHosts.link, client: TestHosts.client, clientPort: 40000,
                                           server: TestHosts.server, serverPort: 502)
        var frames = conversation.handshake()
        frames.append(conversation.clientSends([0, 1, 0, 0, 0, 6, 1, 3, 0, 0, 0, 1]))
        frames.append(conversation.serverSends([0, 1, 0, 0, 0, 5, 1, 3, 2, 0, 7]))
        frames += conversation.close()
        frames.append(builder.udp(TestHosts.link, ip: TestHosts.ip6, sourcePort: 5000, destinationPort: 47808, payload: [1]))
        frames.append(builder.icmpEcho(TestHosts.link, ip: TestHosts.ip6, identifier: 1, sequence: 1))
        frames.append(builder.arpReply(senderMAC: TestHosts.serverMAC, senderIP: TestHosts.server,
                                       targetMAC: TestHosts.clientMAC, targetIP: TestHosts.client))
        let harness = DecodingHarness()
        for frame in frames { #expect(harness.decode(frame).decoded) }
        #expect(harness.anomalyNames.isEmpty)
        #expect(harness.decoder.statistics.anomalies.isEmpty)
    }

    // MARK: Truncated headers

    @Test mutating func truncatedAtEachLayer() {
        let outer = IPSpec(source: IPAddress("192.0.2.1")!, destination: IPAddress("192.0.2.2")!)
        let cases: [(AnomalyDefinition, [UInt8], LinkType)] = [
            (DecodingCatalogue.ethernetTruncated, Array(tcpSYNFrame.prefix(10)), .ethernet),
            (DecodingCatalogue.vlanTruncated, Array(vlanUDPFrame.prefix(16)), .ethernet),
            (DecodingCatalogue.sllTruncated, [0, 0, 0, 1, 0, 6, 0, 0], .linuxSLL),
            (DecodingCatalogue.sllTruncated, [8, 0, 0, 0, 0, 0], .linuxSLL2),
            (DecodingCatalogue.nullTruncated, [2, 0], .null),
            (DecodingCatalogue.arpTruncated, Array(arpRequestFrame.prefix(20)), .ethernet),
            (DecodingCatalogue.arpTruncated, Array(arpRequestFrame.prefix(36)), .ethernet),
            (DecodingCatalogue.ipv4Truncated, Array(tcpSYNFrame.prefix(30)), .ethernet),
            (DecodingCatalogue.ipv6Truncated, Array(ipv6ExtensionFrame.prefix(40)), .ethernet),
            (DecodingCatalogue.tcpTruncated, builder.ipPacket(TestHosts.link, ip: TestHosts.ip, protocolNumber: 6, payload: [0, 1, 0, 2]), .ethernet),
            (DecodingCatalogue.tcpTruncated, builder.ipPacket(TestHosts.link, ip: TestHosts.ip6, protocolNumber: 6, payload: []), .ethernet),
            (DecodingCatalogue.udpTruncated, builder.ipPacket(TestHosts.link, ip: TestHosts.ip, protocolNumber: 17, payload: [0, 1]), .ethernet),
            (DecodingCatalogue.icmpTruncated, builder.ipPacket(TestHosts.link, ip: TestHosts.ip, protocolNumber: 1, payload: [8, 0]), .ethernet),
            (DecodingCatalogue.icmpv6Truncated, builder.ipPacket(TestHosts.link, ip: TestHosts.ip6, protocolNumber: 58, payload: [128]), .ethernet),
            (DecodingCatalogue.greTruncated, builder.ipPacket(TestHosts.link, ip: outer, protocolNumber: 47, payload: [0, 0]), .ethernet),
            (DecodingCatalogue.greTruncated, builder.ipPacket(TestHosts.link, ip: outer, protocolNumber: 47, payload: [0x20, 0, 8, 0, 0]), .ethernet),
            (DecodingCatalogue.vxlanTruncated, builder.udp(TestHosts.link, ip: outer, sourcePort: 1, destinationPort: 4789, payload: [8, 0, 0]), .ethernet),
            (DecodingCatalogue.geneveTruncated, builder.udp(TestHosts.link, ip: outer, sourcePort: 1, destinationPort: 6081, payload: [0, 0, 0x65, 0x58]), .ethernet),
            (DecodingCatalogue.geneveTruncated, builder.udp(TestHosts.link, ip: outer, sourcePort: 1, destinationPort: 6081, payload: [2, 0, 0x65, 0x58, 0, 0, 1, 0]), .ethernet),
        ]
        for (definition, frame, link) in cases {
            #expect(raised(definition, by: frame, link: link) == 1, "\(definition.name) with \(frame.count) bytes")
        }
    }

    @Test func truncatedMessageNamesTheSizes() throws {
        let harness = DecodingHarness()
        harness.decode(Array(tcpSYNFrame.prefix(30)))
        let event = try #require(harness.events.anomalies(named: DecodingCatalogue.ipv4Truncated.name).first)
        #expect(event.message == "IPv4 header needs 20 bytes but only 16 remain in packet 1 from 00:1b:1b:12:34:56")
        #expect(event.endpoints?.srcMAC == TestHosts.clientMAC)
        #expect(event.endpoints?.srcIP == nil)
    }

    // MARK: Link and ARP

    @Test mutating func unknownEtherType() throws {
        let frame = builder.ethernetFrame(TestHosts.link, etherType: 0x1234, payload: [0, 0, 0, 0])
        let harness = DecodingHarness()
        harness.decode(frame)
        let event = try #require(harness.events.anomalies(named: "decoder.ethernet.unknown_ethertype").first)
        #expect(event.message == "00:1b:1b:12:34:56 sent a frame with unknown EtherType 0x1234 in packet 1")
        #expect(raised(DecodingCatalogue.ethernetUnknownEtherType, by: tcpSYNFrame) == 0)
    }

    @Test func arpInvalidSizes() {
        let wrongSizes = patched(arpRequestFrame, at: 18, [8, 4]) + [0, 0, 0, 0]
        #expect(raised(DecodingCatalogue.arpInvalid, by: wrongSizes) == 1)
        #expect(raised(DecodingCatalogue.arpInvalid, by: arpRequestFrame) == 0)
    }

    // MARK: IPv4

    @Test mutating func ipv4HeaderLengthInvalid() {
        let frame = tcpFrame()
        #expect(raised(DecodingCatalogue.ipv4HeaderLengthInvalid, by: patched(frame, at: 14, [0x44])) == 1)
        #expect(raised(DecodingCatalogue.ipv4HeaderLengthInvalid, by: Array(patched(frame, at: 14, [0x4f]).prefix(50))) == 1)
        #expect(raised(DecodingCatalogue.ipv4HeaderLengthInvalid, by: frame) == 0)
    }

    @Test mutating func ipv4TotalLengthInvalid() {
        let frame = tcpFrame()
        #expect(raised(DecodingCatalogue.ipv4TotalLengthInvalid, by: patched(frame, at: 16, [0, 12])) == 1)
        #expect(raised(DecodingCatalogue.ipv4TotalLengthInvalid, by: patched(frame, at: 16, [0x05, 0xdc])) == 1)
        // Ethernet padding after the datagram is not an error.
        #expect(raised(DecodingCatalogue.ipv4TotalLengthInvalid, by: frame + [0, 0, 0, 0, 0, 0]) == 0)
    }

    @Test mutating func ipv4TotalLengthBeyondSnapshotIsNotAnomaly() {
        let frame = tcpFrame()
        let harness = DecodingHarness()
        harness.decode(Array(frame.prefix(50)), originalLength: frame.count)
        #expect(harness.count(DecodingCatalogue.ipv4TotalLengthInvalid) == 0)
        // The same cut with the wire length equal to the captured length is a lying field.
        #expect(raised(DecodingCatalogue.ipv4TotalLengthInvalid, by: Array(frame.prefix(50))) == 1)
    }

    @Test mutating func versionMismatch() {
        let frame = tcpFrame()
        #expect(raised(DecodingCatalogue.ipv4VersionMismatch, by: patched(frame, at: 14, [0x65])) == 1)
        #expect(raised(DecodingCatalogue.ipv4VersionMismatch, by: [0x55] + Array(repeating: 0, count: 30), link: .raw) == 1)
        let ipv6Frame = builder.udp(TestHosts.link, ip: TestHosts.ip6, sourcePort: 1, destinationPort: 2)
        #expect(raised(DecodingCatalogue.ipv6VersionMismatch, by: patched(ipv6Frame, at: 14, [0x40])) == 1)
        #expect(raised(DecodingCatalogue.ipv4VersionMismatch, by: frame) == 0)
    }

    @Test mutating func ipv4ChecksumInvalid() {
        let frame = patched(tcpFrame(), at: 24, [0xde, 0xad])
        #expect(raised(DecodingCatalogue.ipv4ChecksumInvalid, by: frame, verifyChecksums: true) == 1)
        #expect(raised(DecodingCatalogue.ipv4ChecksumInvalid, by: frame, verifyChecksums: false) == 0)
        #expect(raised(DecodingCatalogue.ipv4ChecksumInvalid, by: tcpFrame(), verifyChecksums: true) == 0)
    }

    @Test mutating func sameSourceDestination() {
        let land = IPSpec(source: TestHosts.server, destination: TestHosts.server)
        #expect(raised(DecodingCatalogue.ipSameSourceDestination, by: tcpFrame(flags: .syn, ports: (502, 502), ip: land)) == 1)
        let localhost = IPSpec(source: IPAddress("127.0.0.1")!, destination: IPAddress("127.0.0.1")!)
        #expect(raised(DecodingCatalogue.ipSameSourceDestination, by: tcpFrame(ip: localhost)) == 0)
        let localhost6 = IPSpec(source: IPAddress("::1")!, destination: IPAddress("::1")!)
        #expect(raised(DecodingCatalogue.ipSameSourceDestination, by: tcpFrame(ip: localhost6)) == 0)
        #expect(raised(DecodingCatalogue.ipSameSourceDestination, by: tcpFrame()) == 0)
        // A host reaching its own address from another port is normal.
        #expect(raised(DecodingCatalogue.ipSameSourceDestination, by: tcpFrame(ports: (40000, 502), ip: land)) == 0)
        var loopbackInterface = builder.tcp(EthernetSpec(source: .zero, destination: .zero), ip: land,
                                            tcp: TCPSpec(sourcePort: 502, destinationPort: 502))
        #expect(raised(DecodingCatalogue.ipSameSourceDestination, by: loopbackInterface) == 0)
        loopbackInterface = builder.icmpEcho(TestHosts.link, ip: land, identifier: 1, sequence: 1)
        #expect(raised(DecodingCatalogue.ipSameSourceDestination, by: loopbackInterface) == 1)
    }

    // MARK: IPv6

    @Test func ipv6PayloadLengthInvalid() {
        #expect(raised(DecodingCatalogue.ipv6PayloadLengthInvalid, by: patched(ipv6ExtensionFrame, at: 18, [0x01, 0xf4])) == 1)
        #expect(raised(DecodingCatalogue.ipv6PayloadLengthInvalid, by: ipv6ExtensionFrame) == 0)
    }

    @Test mutating func ipv6ExtensionHeaderInvalid() {
        // The hop-by-hop header claims 8 * (1 + 8) bytes in a 27-byte payload.
        #expect(raised(DecodingCatalogue.ipv6ExtensionHeaderInvalid, by: patched(ipv6ExtensionFrame, at: 55, [8])) == 1)
        var chain = TestHosts.ip6
        chain.extensionHeaders = Array(repeating: IPv6ExtensionSpec(headerNumber: 60), count: PacketDecoder.maxIPv6ExtensionHeaders + 1)
        let longChain = builder.udp(TestHosts.link, ip: chain, sourcePort: 1, destinationPort: 2)
        #expect(raised(DecodingCatalogue.ipv6ExtensionHeaderInvalid, by: longChain) == 1)
        var routed = TestHosts.ip6
        routed.extensionHeaders = [IPv6ExtensionSpec(headerNumber: 43, body: [0, 0, 0, 0, 0, 0]),
                                   IPv6ExtensionSpec(headerNumber: 51, body: Array(repeating: 0, count: 10))]
        let harness = DecodingHarness()
        let (_, packet, payload) = harness.decode(builder.udp(TestHosts.link, ip: routed, sourcePort: 1, destinationPort: 2, payload: [4]))
        #expect(packet.isUDP)
        #expect(payload == [4])
        #expect(harness.anomalyNames.isEmpty)
    }

    @Test mutating func ipv6StopsAtESP() {
        let frame = builder.ipPacket(TestHosts.link, ip: TestHosts.ip6, protocolNumber: 50, payload: [0, 0, 1, 0, 0, 0, 0, 1])
        let harness = DecodingHarness()
        let (decoded, packet, _) = harness.decode(frame)
        #expect(decoded)
        #expect(packet.ipProtocol == 50)
        #expect(packet.hasTransport == false)
        #expect(harness.anomalyNames.isEmpty)
    }

    // MARK: TCP

    @Test mutating func tcpDataOffsetInvalid() throws {
        let frame = tcpFrame()
        let harness = DecodingHarness(verifyChecksums: false)
        harness.decode(patched(frame, at: 46, [0x30]))
        let event = try #require(harness.events.anomalies(named: "decoder.tcp.data_offset_invalid").first)
        #expect(event.message == "TCP data offset 3 (12 bytes) is below the 20-byte minimum in packet 1 from 10.0.0.5")
        #expect(event.endpoints?.srcPort == 40000)
        #expect(event.endpoints?.destPort == 502)
        #expect(raised(DecodingCatalogue.tcpDataOffsetInvalid, by: patched(frame, at: 46, [0xf0])) == 1)
        #expect(raised(DecodingCatalogue.tcpDataOffsetInvalid, by: frame) == 0)
    }

    @Test mutating func tcpOptionLengthInvalid() {
        #expect(raised(DecodingCatalogue.tcpOptionLengthInvalid, by: tcpFrame(flags: .syn, options: [.raw([2, 3, 5])])) == 1)
        #expect(raised(DecodingCatalogue.tcpOptionLengthInvalid, by: tcpFrame(flags: .syn, options: [.raw([8, 40])])) == 1)
        #expect(raised(DecodingCatalogue.tcpOptionLengthInvalid, by: tcpFrame(flags: .syn, options: [.raw([99, 0])])) == 1)
        #expect(raised(DecodingCatalogue.tcpOptionLengthInvalid, by: tcpFrame(flags: .syn, options: [.raw([34, 3, 0])])) == 1)
    }

    @Test mutating func fastOpenAndEmptySACKAreValid() {
        let fastOpenRequest = tcpFrame(flags: .syn, options: [.maximumSegmentSize(1460), .fastOpen(cookie: [])])
        let fastOpenCookie = tcpFrame(flags: [.syn, .ack], options: [.fastOpen(cookie: [1, 2, 3, 4, 5, 6, 7, 8])])
        let emptySACK = tcpFrame(options: [.noOperation, .noOperation, .sack([])])
        let oneBlockSACK = tcpFrame(options: [.noOperation, .noOperation, .sack([(100, 200)])])
        let unknownKind = tcpFrame(options: [.raw([30, 4, 0, 0])])
        for frame in [fastOpenRequest, fastOpenCookie, emptySACK, oneBlockSACK, unknownKind] {
            #expect(raised(DecodingCatalogue.tcpOptionLengthInvalid, by: frame) == 0)
        }
    }

    @Test mutating func tcpWindowScaleInvalid() {
        #expect(raised(DecodingCatalogue.tcpWindowScaleInvalid, by: tcpFrame(flags: .syn, options: [.windowScale(15)])) == 1)
        #expect(raised(DecodingCatalogue.tcpWindowScaleInvalid, by: tcpFrame(flags: .syn, options: [.windowScale(14)])) == 0)
    }

    @Test mutating func tcpFlagCombinations() {
        #expect(raised(DecodingCatalogue.tcpFlagsSynFin, by: tcpFrame(flags: [.syn, .fin])) == 1)
        #expect(raised(DecodingCatalogue.tcpFlagsSynRst, by: tcpFrame(flags: [.syn, .rst])) == 1)
        #expect(raised(DecodingCatalogue.tcpFlagsNone, by: tcpFrame(flags: [])) == 1)
        #expect(raised(DecodingCatalogue.tcpFlagsFinPshUrg, by: tcpFrame(flags: [.fin, .psh, .urg])) == 1)
        let normal = [tcpFrame(flags: .syn), tcpFrame(flags: [.fin, .ack]), tcpFrame(flags: [.rst, .ack]),
                      tcpFrame(flags: [.fin, .psh, .urg, .ack])]
        for frame in normal {
            let harness = DecodingHarness()
            harness.decode(frame)
            #expect(harness.anomalyNames.isEmpty)
        }
    }

    @Test mutating func portZero() {
        #expect(raised(DecodingCatalogue.tcpPortZero, by: tcpFrame(ports: (40000, 0))) == 1)
        #expect(raised(DecodingCatalogue.tcpPortZero, by: tcpFrame(ports: (0, 502))) == 1)
        let udpZero = builder.udp(TestHosts.link, ip: TestHosts.ip, sourcePort: 0, destinationPort: 53)
        #expect(raised(DecodingCatalogue.udpPortZero, by: udpZero) == 1)
        #expect(raised(DecodingCatalogue.tcpPortZero, by: tcpFrame()) == 0)
    }

    @Test mutating func tcpChecksumInvalid() {
        let frame = tcpFrame()
        let corrupted = patched(frame, at: frame.count - 1, [0xee])
        #expect(raised(DecodingCatalogue.tcpChecksumInvalid, by: corrupted, verifyChecksums: true) == 1)
        #expect(raised(DecodingCatalogue.tcpChecksumInvalid, by: corrupted, verifyChecksums: false) == 0)
        #expect(raised(DecodingCatalogue.tcpChecksumInvalid, by: frame, verifyChecksums: true) == 0)
        // A segment cut by the snapshot length cannot be verified, so it is not flagged.
        let harness = DecodingHarness()
        harness.decode(Array(corrupted.prefix(frame.count - 2)), originalLength: frame.count)
        #expect(harness.anomalyNames.isEmpty)
    }

    @Test mutating func ipv6TCPChecksumVerified() {
        let frame = tcpFrame(ip: TestHosts.ip6)
        #expect(raised(DecodingCatalogue.tcpChecksumInvalid, by: frame, verifyChecksums: true) == 0)
        #expect(raised(DecodingCatalogue.tcpChecksumInvalid, by: patched(frame, at: frame.count - 1, [0]), verifyChecksums: true) == 1)
    }

    // MARK: UDP

    @Test mutating func udpLengthInvalid() throws {
        let frame = builder.udp(TestHosts.link, ip: TestHosts.ip, sourcePort: 5000, destinationPort: 47808, payload: [1, 2, 3, 4])
        #expect(raised(DecodingCatalogue.udpLengthInvalid, by: patched(frame, at: 38, [0, 4])) == 1)
        #expect(raised(DecodingCatalogue.udpLengthInvalid, by: patched(frame, at: 38, [0, 200])) == 1)
        #expect(raised(DecodingCatalogue.udpLengthInvalid, by: frame) == 0)
        let harness = DecodingHarness(verifyChecksums: false)
        harness.decode(patched(frame, at: 38, [0, 4]))
        let event = try #require(harness.events.events.first)
        #expect(event.message == "UDP length 4 is below the 8-byte header in packet 1 from 10.0.0.5 port 5000")
        // A UDP length shorter than the IP payload bounds the payload.
        let (_, packet, payload) = DecodingHarness(verifyChecksums: false).decode(patched(frame, at: 38, [0, 10]))
        #expect(packet.payloadLength == 2)
        #expect(payload == [1, 2])
    }

    @Test mutating func udpChecksumInvalid() {
        let frame = builder.udp(TestHosts.link, ip: TestHosts.ip, sourcePort: 5000, destinationPort: 47808, payload: [1, 2, 3, 4])
        let corrupted = patched(frame, at: frame.count - 1, [9])
        #expect(raised(DecodingCatalogue.udpChecksumInvalid, by: corrupted, verifyChecksums: true) == 1)
        #expect(raised(DecodingCatalogue.udpChecksumInvalid, by: corrupted, verifyChecksums: false) == 0)
        #expect(raised(DecodingCatalogue.udpChecksumInvalid, by: patched(corrupted, at: 40, [0, 0]), verifyChecksums: true) == 0)
    }
}
