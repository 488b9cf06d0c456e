import Testing
import WirecheckCore
import WirecheckDecoding
import WirecheckSynthesis

@Suite struct SynthesisTests {
    @Test func tcpSYNMatchesReferenceBytes() {
        var builder = PacketBuilder()
        let ip = IPSpec(source: TestHosts.client, destination: TestHosts.server, ttl: 64, identification: 0x1234, dontFragment: true)
        let tcp = TCPSpec(sourcePort: 49152, destinationPort: 502, sequence: 0x0102_0304, flags: .syn, window: 64240,
                          options: [.maximumSegmentSize(1460), .noOperation, .windowScale(7), .sackPermitted,
                                    .timestamps(value: 100, echo: 0)])
        #expect(builder.tcp(TestHosts.link, ip: ip, tcp: tcp) == tcpSYNFrame)
    }

    @Test func icmpWithOptionsMatchesReferenceBytes() {
        var builder = PacketBuilder()
        let ip = IPSpec(source: TestHosts.client, destination: TestHosts.server, identification: 1,
                        options: [0x07, 0x07, 0x04, 0x00, 0x00, 0x00, 0x00])
        #expect(builder.icmpEcho(TestHosts.link, ip: ip, identifier: 0x4242, sequence: 3, payload: Array("ping".utf8))
                == icmpWithOptionsFrame)
    }

    @Test func icmpv6EchoMatchesReferenceBytes() {
        var builder = PacketBuilder()
        let ip = IPSpec(source: IPAddress("fe80::1")!, destination: IPAddress("ff02::1")!, ttl: 255)
        #expect(builder.icmpEcho(nil, ip: ip, identifier: 9, sequence: 1) == icmpv6EchoPacket)
    }

    @Test func ipv6ExtensionHeadersMatchReferenceBytes() {
        var builder = PacketBuilder()
        var ip = TestHosts.ip6
        ip.extensionHeaders = [IPv6ExtensionSpec(headerNumber: 0, body: [1, 4]), IPv6ExtensionSpec(headerNumber: 60, body: [1, 4])]
        var frame = builder.udp(TestHosts.link, ip: ip, sourcePort: 5000, destinationPort: 20000, payload: Array("abc".utf8))
        // The reference frame carries flow label 0x12345, which the builder does not set.
        frame[15] = 0x01
        frame[16] = 0x23
        frame[17] = 0x45
        #expect(frame.count == ipv6ExtensionFrame.count)
        #expect(Array(frame[18...]) == Array(ipv6ExtensionFrame[18...]))
    }

    @Test func arpVariants() throws {
        var builder = PacketBuilder()
        let harness = DecodingHarness()
        let request = harness.decode(builder.arpRequest(senderMAC: TestHosts.clientMAC, senderIP: TestHosts.client,
                                                        targetIP: TestHosts.server)).packet
        #expect(request.destinationMAC == .broadcast)
        #expect(request.arp?.operation == 1)
        #expect(request.arp?.targetMAC == .zero)
        #expect(request.arp?.targetIP == 0x0a00_0014)

        let reply = harness.decode(builder.arpReply(senderMAC: TestHosts.serverMAC, senderIP: TestHosts.server,
                                                    targetMAC: TestHosts.clientMAC, targetIP: TestHosts.client)).packet
        #expect(reply.destinationMAC == TestHosts.clientMAC)
        #expect(reply.arp?.operation == 2)
        #expect(reply.arp?.senderMAC == TestHosts.serverMAC)
        #expect(reply.arp?.senderIP == 0x0a00_0014)

        let gratuitous = harness.decode(builder.gratuitousARP(senderMAC: TestHosts.clientMAC, senderIP: TestHosts.client)).packet
        let fields = try #require(gratuitous.arp)
        #expect(fields.senderIP == fields.targetIP)
        #expect(gratuitous.destinationMAC == .broadcast)
        #expect(harness.anomalyNames.isEmpty)
    }

    @Test func vlanTagsUseServiceTPIDOutside() {
        var builder = PacketBuilder()
        let link = EthernetSpec(source: TestHosts.clientMAC, destination: TestHosts.serverMAC, vlans: [5, 6])
        let frame = builder.udp(link, ip: TestHosts.ip, sourcePort: 1, destinationPort: 2)
        #expect(Array(frame[12..<22]) == [0x88, 0xa8, 0x00, 0x05, 0x81, 0x00, 0x00, 0x06, 0x08, 0x00])
        let single = builder.udp(EthernetSpec(source: TestHosts.clientMAC, destination: TestHosts.serverMAC, vlans: [7]),
                                 ip: TestHosts.ip, sourcePort: 1, destinationPort: 2)
        #expect(Array(single[12..<16]) == [0x81, 0x00, 0x00, 0x07])
    }

    @Test func builtPacketsPassChecksumVerification() {
        var builder = PacketBuilder()
        let harness = DecodingHarness()
        for ip in [TestHosts.ip, TestHosts.ip6] {
            for size in [0, 1, 7, 100, 1400] {
                let payload = (0..<size).map { UInt8(truncatingIfNeeded: $0 &* 31) }
                harness.decode(builder.tcp(TestHosts.link, ip: ip, tcp: TCPSpec(sourcePort: 40000, destinationPort: 502), payload: payload))
                harness.decode(builder.udp(TestHosts.link, ip: ip, sourcePort: 5000, destinationPort: 20000, payload: payload))
                harness.decode(builder.icmpEcho(nil, ip: ip, identifier: 1, sequence: UInt16(size), payload: payload), link: .raw)
            }
        }
        #expect(harness.anomalyNames.isEmpty)
        #expect(harness.decoder.statistics.tcp == 10)
        #expect(harness.decoder.statistics.udp == 10)
    }

    @Test func ipv4FragmentsCoverTheDatagram() {
        var builder = PacketBuilder()
        var ip = TestHosts.ip
        ip.identification = 300
        let packet = builder.udp(nil, ip: ip, sourcePort: 1, destinationPort: 2, payload: Array(repeating: 7, count: 1000))
        let fragments = Fragmenter.fragmentIPv4(packet, maxPayloadPerFragment: 300)
        #expect(fragments.count == 4)
        var covered = 0
        for (index, fragment) in fragments.enumerated() {
            let offsetField = Int(fragment[6] & 0x1f) << 8 | Int(fragment[7])
            let more = fragment[6] & 0x20 != 0
            #expect(offsetField * 8 == covered)
            #expect(more == (index < fragments.count - 1))
            #expect(Int(fragment[2]) << 8 | Int(fragment[3]) == fragment.count)
            #expect(fragment[4] == 0x01)
            #expect(fragment[5] == 0x2c)
            covered += fragment.count - 20
        }
        #expect(covered == packet.count - 20)
    }

    @Test func conversationTracksSequenceNumbers() throws {
        var session = TCPConversation(link: TestHosts.link, client: TestHosts.client, clientPort: 40000,
                                      server: TestHosts.server, serverPort: 502,
                                      clientInitialSequence: 100, serverInitialSequence: 9000)
        let harness = DecodingHarness()
        let handshake = session.handshake().map { harness.decode($0).packet }
        #expect(handshake[0].tcp?.flags == .syn)
        #expect(handshake[0].tcp?.sequence == 100)
        #expect(handshake[0].tcp?.maximumSegmentSize == 1460)
        #expect(handshake[1].tcp?.flags == [.syn, .ack])
        #expect(handshake[1].tcp?.sequence == 9000)
        #expect(handshake[1].tcp?.acknowledgement == 101)
        #expect(handshake[1].sourceIP == TestHosts.server)
        #expect(handshake[1].sourceMAC == TestHosts.serverMAC)
        #expect(handshake[2].tcp?.flags == .ack)
        #expect(handshake[2].tcp?.sequence == 101)
        #expect(handshake[2].tcp?.acknowledgement == 9001)

        let request = harness.decode(session.clientSends([1, 2, 3, 4, 5]))
        #expect(request.packet.tcp?.flags == [.psh, .ack])
        #expect(request.payload == [1, 2, 3, 4, 5])
        let response = harness.decode(session.serverSends([9, 9])).packet
        #expect(response.tcp?.sequence == 9001)
        #expect(response.tcp?.acknowledgement == 106)

        let close = session.close(initiatedByClient: false).map { harness.decode($0).packet }
        #expect(close[0].tcp?.flags == [.fin, .ack])
        #expect(close[0].sourceIP == TestHosts.server)
        #expect(close[0].tcp?.sequence == 9003)
        #expect(close[1].tcp?.acknowledgement == 9004)
        #expect(close[2].tcp?.flags == [.fin, .ack])
        #expect(close[2].tcp?.sequence == 106)
        #expect(close[3].tcp?.acknowledgement == 107)
        #expect(session.clientSequence == 107)
        #expect(session.serverSequence == 9004)

        let reset = harness.decode(session.reset(from: .client)).packet
        #expect(reset.tcp?.flags == [.rst, .ack])
        #expect(harness.anomalyNames.isEmpty)
    }

    @Test func sequenceNumbersWrap() {
        var session = TCPConversation(link: nil, client: TestHosts.client, clientPort: 1, server: TestHosts.server, serverPort: 2,
                                      clientInitialSequence: UInt32.max - 1)
        _ = session.handshake()
        _ = session.clientSends([1, 2, 3])
        #expect(session.clientSequence == 2)
    }
}
