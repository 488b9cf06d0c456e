import Testing
import WirecheckCore
import WirecheckDecoding
import WirecheckSynthesis

@Suite struct DecodingDecoderTests {
    @Test func tcpSYNDecodesWithoutAnomalies() throws {
        let harness = DecodingHarness()
        let (decoded, packet, payload) = harness.decode(tcpSYNFrame)
        #expect(decoded)
        #expect(harness.anomalyNames.isEmpty)
        #expect(packet.network == .ipv4)
        #expect(packet.sourceMAC == TestHosts.clientMAC)
        #expect(packet.destinationMAC == TestHosts.serverMAC)
        #expect(packet.etherType == 0x0800)
        #expect(packet.sourceIP == TestHosts.client)
        #expect(packet.destinationIP == TestHosts.server)
        #expect(packet.ipProtocol == 6)
        #expect(packet.ttl == 64)
        #expect(packet.ipIdentification == 0x1234)
        #expect(packet.sourcePort == 49152)
        #expect(packet.destinationPort == 502)
        #expect(packet.isTCP)
        let tcp = try #require(packet.tcp)
        #expect(tcp.sequence == 0x0102_0304)
        #expect(tcp.flags == .syn)
        #expect(tcp.headerLength == 40)
        #expect(tcp.maximumSegmentSize == 1460)
        #expect(tcp.windowScale == 7)
        #expect(tcp.sackPermitted)
        #expect(tcp.timestampValue == 100)
        #expect(tcp.timestampEcho == 0)
        #expect(packet.payloadOffset == 74)
        #expect(packet.payloadLength == 0)
        #expect(payload.isEmpty)
        #expect(packet.tunnelDepth == 0)
        #expect(harness.decoder.statistics.tcp == 1)
    }

    @Test func vlanUDPDecodesPayload() {
        let harness = DecodingHarness()
        let (decoded, packet, payload) = harness.decode(vlanUDPFrame)
        #expect(decoded)
        #expect(harness.anomalyNames.isEmpty)
        #expect(packet.vlans == [100])
        #expect(packet.isUDP)
        #expect(packet.sourcePort == 47808)
        #expect(payload == [0x81, 0x0b, 0x00, 0x0c, 0x01, 0x20, 0xff, 0xff, 0x00, 0xff, 0x10, 0x08])
    }

    @Test func arpRequestDecodesFields() throws {
        let harness = DecodingHarness()
        let (decoded, packet, _) = harness.decode(arpRequestFrame)
        #expect(decoded)
        #expect(packet.network == .arp)
        let arp = try #require(packet.arp)
        #expect(arp.operation == 1)
        #expect(arp.senderIP == 0x0a00_0005)
        #expect(arp.targetIP == 0x0a00_0014)
        #expect(harness.anomalyNames.isEmpty)
    }

    @Test func icmpWithIPOptions() {
        let harness = DecodingHarness()
        let (_, packet, payload) = harness.decode(icmpWithOptionsFrame)
        #expect(packet.ipProtocol == 1)
        #expect(packet.icmpType == 8)
        #expect(packet.icmpIdentifier == 0x4242)
        #expect(packet.icmpSequence == 3)
        #expect(payload == Array("ping".utf8))
        #expect(harness.anomalyNames.isEmpty)
    }

    @Test func ipv6ExtensionHeadersWalked() {
        let harness = DecodingHarness()
        let (decoded, packet, payload) = harness.decode(ipv6ExtensionFrame)
        #expect(decoded)
        #expect(packet.network == .ipv6)
        #expect(packet.ipProtocol == 17)
        #expect(packet.sourcePort == 5000)
        #expect(packet.destinationPort == 20000)
        #expect(payload == Array("abc".utf8))
        #expect(harness.anomalyNames.isEmpty)
    }

    @Test func qinqKeepsTwoOutermostTags() {
        var builder = PacketBuilder()
        let link = EthernetSpec(source: TestHosts.clientMAC, destination: TestHosts.serverMAC, vlans: [10, 20, 30])
        let frame = builder.udp(link, ip: TestHosts.ip, sourcePort: 1000, destinationPort: 2000, payload: [1])
        let harness = DecodingHarness()
        let (_, packet, payload) = harness.decode(frame)
        #expect(packet.vlans == [10, 20])
        #expect(packet.vlanCount == 3)
        #expect(packet.isUDP)
        #expect(payload == [1])
    }

    @Test func llcSNAPCarriesIPv4() {
        var builder = PacketBuilder()
        let ipPacket = builder.udp(nil, ip: TestHosts.ip, sourcePort: 1000, destinationPort: 2000, payload: [7])
        var frame: [UInt8] = [0x00, 0x0c, 0x29, 0xab, 0xcd, 0xef, 0x00, 0x1b, 0x1b, 0x12, 0x34, 0x56]
        let length = 8 + ipPacket.count
        frame += [UInt8(length >> 8), UInt8(length & 0xff), 0xaa, 0xaa, 0x03, 0x00, 0x00, 0x00, 0x08, 0x00]
        frame += ipPacket
        let harness = DecodingHarness()
        let (decoded, packet, payload) = harness.decode(frame)
        #expect(decoded)
        #expect(packet.isUDP)
        #expect(payload == [7])
    }

    @Test func spanningTreeFrameIsNotAnAnomaly() {
        // 802.3 length 38, LLC 42 42 03, then a configuration BPDU.
        var frame: [UInt8] = [0x01, 0x80, 0xc2, 0x00, 0x00, 0x00, 0x00, 0x1b, 0x1b, 0x12, 0x34, 0x56, 0x00, 0x26, 0x42, 0x42, 0x03]
        frame += [UInt8](repeating: 0, count: 35)
        let harness = DecodingHarness()
        let (decoded, packet, _) = harness.decode(frame)
        #expect(decoded == false)
        #expect(packet.network == .other(0))
        #expect(harness.anomalyNames.isEmpty)
    }

    @Test func knownIndustrialEtherTypeIsNotAnAnomaly() {
        var builder = PacketBuilder()
        let goose = builder.ethernetFrame(TestHosts.link, etherType: 0x88b8, payload: [0, 1, 0, 8, 0, 0, 0, 0])
        let harness = DecodingHarness()
        let (decoded, packet, _) = harness.decode(goose)
        #expect(decoded == false)
        #expect(packet.network == .other(0x88b8))
        #expect(harness.anomalyNames.isEmpty)
        #expect(harness.decoder.statistics.undecodedEtherTypes[0x88b8] == 1)
    }

    // MARK: Link types

    @Test func rawIPv4AndIPv6LinkTypes() {
        var builder = PacketBuilder()
        let ipv4 = builder.udp(nil, ip: TestHosts.ip, sourcePort: 1, destinationPort: 2, payload: [9])
        let harness = DecodingHarness()
        for link in [LinkType.raw, LinkType.ipv4] {
            let (decoded, packet, payload) = harness.decode(ipv4, link: link)
            #expect(decoded)
            #expect(packet.network == .ipv4)
            #expect(payload == [9])
        }
        for link in [LinkType.raw, LinkType.ipv6] {
            let (decoded, packet, _) = harness.decode(icmpv6EchoPacket, link: link)
            #expect(decoded)
            #expect(packet.network == .ipv6)
            #expect(packet.ipProtocol == 58)
            #expect(packet.icmpType == 128)
            #expect(packet.icmpIdentifier == 9)
        }
        #expect(harness.anomalyNames.isEmpty)
    }

    @Test func nullAndLoopLinkTypes() {
        var builder = PacketBuilder()
        let ipv4 = builder.udp(nil, ip: TestHosts.ip, sourcePort: 1, destinationPort: 2, payload: [9])
        let ipv6 = builder.udp(nil, ip: TestHosts.ip6, sourcePort: 1, destinationPort: 2, payload: [9])
        let harness = DecodingHarness()
        let cases: [([UInt8], LinkType, DecodedPacket.Network)] = [
            ([2, 0, 0, 0] + ipv4, .null, .ipv4),
            ([0, 0, 0, 2] + ipv4, .null, .ipv4),
            ([30, 0, 0, 0] + ipv6, .null, .ipv6),
            ([0, 0, 0, 28] + ipv6, .null, .ipv6),
            ([0, 0, 0, 2] + ipv4, .loop, .ipv4),
            ([0, 0, 0, 24] + ipv6, .loop, .ipv6),
        ]
        for (frame, link, network) in cases {
            let (decoded, packet, payload) = harness.decode(frame, link: link)
            #expect(decoded)
            #expect(packet.network == network)
            #expect(payload == [9])
        }
        #expect(harness.anomalyNames.isEmpty)
    }

    @Test func linuxCookedLinkTypes() {
        var builder = PacketBuilder()
        let ipv4 = builder.udp(nil, ip: TestHosts.ip, sourcePort: 1, destinationPort: 2, payload: [9])
        let sll: [UInt8] = [0x00, 0x00, 0x00, 0x01, 0x00, 0x06, 0x00, 0x1b, 0x1b, 0x12, 0x34, 0x56, 0x00, 0x00, 0x08, 0x00]
        let sll2: [UInt8] = [0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0x00, 0x01, 0x00, 0x06,
                             0x00, 0x1b, 0x1b, 0x12, 0x34, 0x56, 0x00, 0x00]
        let harness = DecodingHarness()
        for (frame, link) in [(sll + ipv4, LinkType.linuxSLL), (sll2 + ipv4, LinkType.linuxSLL2)] {
            let (decoded, packet, payload) = harness.decode(frame, link: link)
            #expect(decoded)
            #expect(packet.sourceMAC == TestHosts.clientMAC)
            #expect(packet.isUDP)
            #expect(payload == [9])
        }
        #expect(harness.decoder.statistics.linuxCooked == 2)
        #expect(harness.anomalyNames.isEmpty)
    }

    @Test func unsupportedLinkTypeIsCounted() {
        let harness = DecodingHarness()
        let (decoded, _, _) = harness.decode([1, 2, 3, 4], link: LinkType(rawValue: 147))
        #expect(decoded == false)
        #expect(harness.decoder.statistics.undecodableLinkTypes[147] == 1)
        #expect(harness.anomalyNames.isEmpty)
    }

    // MARK: Tunnels

    @Test func greDecodesInnerPacket() {
        let harness = DecodingHarness()
        let (decoded, packet, _) = harness.decode(greFrame)
        #expect(decoded)
        #expect(packet.tunnelDepth == 1)
        #expect(packet.sourceIP == TestHosts.client)
        #expect(packet.destinationIP == TestHosts.server)
        #expect(packet.isTCP)
        #expect(packet.destinationPort == 502)
        #expect(harness.decoder.statistics.gre == 1)
        #expect(harness.anomalyNames.isEmpty)
    }

    @Test func greTransparentEthernet() {
        var builder = PacketBuilder()
        let inner = builder.udp(TestHosts.link, ip: TestHosts.ip, sourcePort: 1000, destinationPort: 502, payload: [5])
        let outer = IPSpec(source: IPAddress("192.0.2.1")!, destination: IPAddress("192.0.2.2")!)
        let frame = builder.ipPacket(TestHosts.link, ip: outer, protocolNumber: 47, payload: [0x00, 0x00, 0x65, 0x58] + inner)
        let harness = DecodingHarness()
        let (_, packet, payload) = harness.decode(frame)
        #expect(packet.tunnelDepth == 1)
        #expect(packet.sourceIP == TestHosts.client)
        #expect(packet.isUDP)
        #expect(payload == [5])
    }

    @Test func vxlanDecodesInnerFrame() {
        let harness = DecodingHarness()
        let (decoded, packet, payload) = harness.decode(vxlanFrame)
        #expect(decoded)
        #expect(packet.tunnelDepth == 1)
        #expect(packet.sourceMAC == MACAddress(0x0200_0000_0001))
        #expect(packet.sourceIP == IPAddress("10.1.0.1"))
        #expect(packet.destinationPort == 502)
        #expect(payload == Array("x".utf8))
        #expect(harness.decoder.statistics.vxlan == 1)
        #expect(harness.anomalyNames.isEmpty)
    }

    @Test func geneveDecodesInnerFrame() {
        var builder = PacketBuilder()
        let inner = builder.tcp(TestHosts.link, ip: TestHosts.ip, tcp: TCPSpec(sourcePort: 40000, destinationPort: 20000), payload: [1, 2])
        let geneve: [UInt8] = [0x01, 0x00, 0x65, 0x58, 0x00, 0x00, 0x07, 0x00, 0x01, 0x02, 0x03, 0x00]
        let outer = IPSpec(source: IPAddress("192.0.2.1")!, destination: IPAddress("192.0.2.2")!)
        let frame = builder.udp(TestHosts.link, ip: outer, sourcePort: 33333, destinationPort: 6081, payload: geneve + inner)
        let harness = DecodingHarness()
        let (_, packet, payload) = harness.decode(frame)
        #expect(packet.tunnelDepth == 1)
        #expect(packet.isTCP)
        #expect(packet.destinationPort == 20000)
        #expect(payload == [1, 2])
        #expect(harness.anomalyNames.isEmpty)
    }

    @Test func ipInIPTunnels() {
        var builder = PacketBuilder()
        let outer = IPSpec(source: IPAddress("192.0.2.1")!, destination: IPAddress("192.0.2.2")!)
        let inner4 = builder.udp(nil, ip: TestHosts.ip, sourcePort: 1000, destinationPort: 502, payload: [4])
        let inner6 = builder.udp(nil, ip: TestHosts.ip6, sourcePort: 1000, destinationPort: 502, payload: [6])
        let harness = DecodingHarness()
        let (_, ipv4InIPv4, payload4) = harness.decode(builder.ipPacket(TestHosts.link, ip: outer, protocolNumber: 4, payload: inner4))
        #expect(ipv4InIPv4.tunnelDepth == 1)
        #expect(ipv4InIPv4.sourceIP == TestHosts.client)
        #expect(payload4 == [4])
        let (_, ipv6InIPv4, payload6) = harness.decode(builder.ipPacket(TestHosts.link, ip: outer, protocolNumber: 41, payload: inner6))
        #expect(ipv6InIPv4.tunnelDepth == 1)
        #expect(ipv6InIPv4.network == .ipv6)
        #expect(ipv6InIPv4.sourceIP == TestHosts.client6)
        #expect(payload6 == [6])
        #expect(harness.anomalyNames.isEmpty)
    }

    @Test func udpPort4789WithoutVXLANFlag() {
        var builder = PacketBuilder()
        let frame = builder.udp(TestHosts.link, ip: TestHosts.ip, sourcePort: 1, destinationPort: 4789,
                                payload: [UInt8](repeating: 0x55, count: 40))
        let harness = DecodingHarness()
        let (_, packet, payload) = harness.decode(frame)
        #expect(packet.tunnelDepth == 0)
        #expect(packet.isUDP)
        #expect(payload.count == 40)
        #expect(harness.anomalyNames.isEmpty)
    }

    @Test func tunnelDepthIsBounded() {
        var builder = PacketBuilder()
        let outer = IPSpec(source: IPAddress("192.0.2.1")!, destination: IPAddress("192.0.2.2")!)
        var packet = builder.udp(nil, ip: TestHosts.ip, sourcePort: 1, destinationPort: 2, payload: [1])
        for _ in 0..<(PacketDecoder.maxTunnelDepth + 2) {
            packet = builder.ipPacket(nil, ip: outer, protocolNumber: 47, payload: [0x00, 0x00, 0x08, 0x00] + packet)
        }
        let harness = DecodingHarness()
        let (_, decoded, _) = harness.decode(packet, link: .raw)
        #expect(decoded.tunnelDepth == PacketDecoder.maxTunnelDepth)
        #expect(harness.decoder.statistics.tunnelDepthExceeded == 1)
    }

    // MARK: Snapshot length

    @Test func snapshotCutIsNotAnAnomaly() {
        var builder = PacketBuilder()
        let frame = builder.tcp(TestHosts.link, ip: TestHosts.ip, tcp: TCPSpec(sourcePort: 40000, destinationPort: 502),
                                payload: [UInt8](repeating: 0x41, count: 100))
        let harness = DecodingHarness()
        let (_, packet, payload) = harness.decode(Array(frame.prefix(64)), originalLength: frame.count)
        #expect(packet.isTCP)
        #expect(packet.payloadLength == 10)
        #expect(packet.payloadMissing == 90)
        #expect(payload.count == 10)
        #expect(harness.anomalyNames.isEmpty)

        let (_, headerCut, _) = harness.decode(Array(frame.prefix(40)), originalLength: frame.count)
        #expect(headerCut.hasTransport == false)
        #expect(harness.anomalyNames.isEmpty)
        #expect(harness.decoder.statistics.snapshotTruncated == 2)
    }

    // MARK: Hostile input

    @Test func everyPrefixDecodesWithoutCrashing() {
        var builder = PacketBuilder()
        var conversation = TCPConversation(link: TestHosts.link, client: TestHosts.client6, clientPort: 40000,
                                           server: TestHosts.server6, serverPort: 502)
        let frames: [([UInt8], LinkType)] = [
            (tcpSYNFrame, .ethernet), (vlanUDPFrame, .ethernet), (arpRequestFrame, .ethernet),
            (icmpWithOptionsFrame, .ethernet), (ipv6ExtensionFrame, .ethernet), (icmpv6EchoPacket, .raw),
            (greFrame, .ethernet), (vxlanFrame, .ethernet), (conversation.clientSends([1, 2, 3]), .ethernet),
            ([0, 0, 0, 2] + builder.udp(nil, ip: TestHosts.ip, sourcePort: 1, destinationPort: 2), .null),
        ]
        for (frame, link) in frames {
            let harness = DecodingHarness()
            for length in 0...frame.count {
                harness.decode(Array(frame.prefix(length)), link: link)
                harness.decode(Array(frame.prefix(length)), link: link, originalLength: frame.count)
            }
        }
    }

    @Test func randomBytesDecodeWithoutCrashing() {
        var generator = SystemRandomNumberGenerator()
        let harness = DecodingHarness()
        for round in 0..<2000 {
            var frame = round % 2 == 0 ? tcpSYNFrame : vxlanFrame
            for _ in 0..<4 {
                let index = Int.random(in: 0..<frame.count, using: &generator)
                frame[index] = UInt8.random(in: 0...255, using: &generator)
            }
            for link in [LinkType.ethernet, .raw, .null, .linuxSLL2] {
                harness.decode(frame, link: link)
            }
        }
    }

    @Test func catalogueNamesAreUniqueAndDotted() {
        let names = DecodingCatalogue.anomalies.map(\.name)
        #expect(Set(names).count == names.count)
        for name in names {
            #expect(name.hasPrefix("decoder."))
            #expect(name == name.lowercased())
        }
    }
}

@Suite struct DecodingStatisticsTests {
    @Test func skippedReasonsNameValues() {
        var builder = PacketBuilder()
        let harness = DecodingHarness()
        harness.decode(builder.ethernetFrame(TestHosts.link, etherType: 0x88cc, payload: [0, 0, 0, 0]))
        harness.decode(builder.ethernetFrame(TestHosts.link, etherType: 0x88cc, payload: [0, 0, 0, 0]))
        harness.decode([1, 2, 3], link: LinkType(rawValue: 147))
        harness.decode(Array(tcpSYNFrame.prefix(40)), originalLength: tcpSYNFrame.count)
        let reasons = harness.decoder.statistics.skippedReasons
        #expect(reasons.count == 3)
        #expect(reasons.contains { $0.0 == "packets with unsupported link type 147" && $0.1 == 1 })
        #expect(reasons.contains { $0.0 == "frames with EtherType 0x88cc, which is not decoded" && $0.1 == 2 })
        #expect(reasons.contains { $0.0.hasPrefix("packets cut by the snapshot length") && $0.1 == 1 })
    }

    @Test func cleanRunSkipsNothing() {
        let harness = DecodingHarness()
        harness.decode(tcpSYNFrame)
        #expect(harness.decoder.statistics.skippedReasons.isEmpty)
    }
}
