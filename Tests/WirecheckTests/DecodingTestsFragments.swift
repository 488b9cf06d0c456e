import Testing
import WirecheckCore
@testable import WirecheckDecoding
import WirecheckSynthesis

@Suite struct DecodingFragmentTests {
    /// Builds a UDP datagram of 100 payload bytes (0, 1, 2, ...) as a raw IP packet and splits
    /// it into fragments of at most 32 payload bytes.
    static func udpFragments(identification: UInt16 = 77, ip: IPSpec = TestHosts.ip) -> (payload: [UInt8], fragments: [[UInt8]]) {
        var builder = PacketBuilder()
        var spec = ip
        spec.identification = identification
        let payload = (0..<100).map { UInt8($0) }
        let packet = builder.udp(nil, ip: spec, sourcePort: 5000, destinationPort: 20000, payload: payload)
        if ip.source.isV4 {
            return (payload, Fragmenter.fragmentIPv4(packet, maxPayloadPerFragment: 32))
        }
        return (payload, Fragmenter.fragmentIPv6(packet, maxPayloadPerFragment: 32, identification: UInt32(identification)))
    }

    static func framed(_ packet: [UInt8]) -> [UInt8] {
        var builder = PacketBuilder()
        let etherType = packet[0] >> 4 == 6 ? PacketBuilder.etherTypeIPv6 : PacketBuilder.etherTypeIPv4
        return builder.ethernetFrame(TestHosts.link, etherType: etherType, payload: packet)
    }

    @Test func inOrderFragmentsReassemble() {
        let (payload, fragments) = Self.udpFragments()
        #expect(fragments.count == 4)
        let harness = DecodingHarness()
        for fragment in fragments.dropLast() {
            let (decoded, packet, _) = harness.decode(Self.framed(fragment))
            #expect(decoded)
            #expect(packet.isFragment)
            #expect(packet.hasTransport == false)
        }
        let (_, packet, reassembled) = harness.decode(Self.framed(fragments[fragments.count - 1]))
        #expect(packet.isReassembled)
        #expect(packet.isFragment == false)
        #expect(packet.isUDP)
        #expect(packet.sourcePort == 5000)
        #expect(packet.destinationPort == 20000)
        #expect(reassembled == payload)
        #expect(harness.anomalyNames.isEmpty)
        #expect(harness.decoder.statistics.fragments == 4)
        #expect(harness.decoder.statistics.reassembledDatagrams == 1)
        #expect(harness.decoder.fragmentDatagramsInProgress == 0)
    }

    @Test func outOfOrderFragmentsReassemble() {
        let (payload, fragments) = Self.udpFragments()
        let harness = DecodingHarness()
        var last: (decoded: Bool, packet: DecodedPacket, payload: [UInt8])?
        for index in [3, 1, 0, 2] { last = harness.decode(Self.framed(fragments[index])) }
        #expect(last?.packet.isReassembled == true)
        #expect(last?.payload == payload)
        #expect(harness.anomalyNames.isEmpty)
    }

    @Test func ipv6FragmentsReassemble() {
        let (payload, fragments) = Self.udpFragments(ip: TestHosts.ip6)
        let harness = DecodingHarness()
        var last: (decoded: Bool, packet: DecodedPacket, payload: [UInt8])?
        for fragment in fragments.reversed() { last = harness.decode(Self.framed(fragment)) }
        #expect(last?.packet.isReassembled == true)
        #expect(last?.packet.ipIdentification == 77)
        #expect(last?.packet.isUDP == true)
        #expect(last?.payload == payload)
        #expect(harness.anomalyNames.isEmpty)
    }

    @Test func identicalOverlapIsAccepted() {
        let (payload, fragments) = Self.udpFragments()
        let harness = DecodingHarness()
        harness.decode(Self.framed(fragments[0]))
        harness.decode(Self.framed(fragments[1]))
        harness.decode(Self.framed(fragments[1]))
        harness.decode(Self.framed(fragments[2]))
        let (_, packet, reassembled) = harness.decode(Self.framed(fragments[3]))
        #expect(packet.isReassembled)
        #expect(reassembled == payload)
        #expect(harness.anomalyNames.isEmpty)
        #expect(harness.decoder.statistics.fragmentOverlaps == 1)
    }

    @Test func overlapWithDifferentBytesIsFlagged() throws {
        let (payload, fragments) = Self.udpFragments()
        let header = Array(fragments[1].prefix(20))
        // Rewrite bytes 24..<40 of the datagram (offset 3 units) with different data.
        let evil = Fragmenter.ipv4Fragment(header: header, offset: 24, more: true, payload: Array(repeating: 0xee, count: 16))
        let harness = DecodingHarness()
        harness.decode(Self.framed(fragments[0]))
        harness.decode(Self.framed(evil))
        var reassembled: [UInt8] = []
        for fragment in fragments.dropFirst() { reassembled = harness.decode(Self.framed(fragment)).payload }
        let events = harness.events.anomalies(named: "decoder.ipv4.fragment_overlap_different_data")
        #expect(events.count == 1)
        let event = try #require(events.first)
        #expect(event.packets == [PacketReference(source: 0, number: 2)])
        #expect(event.message?.contains("identification 77") == true)
        // The bytes received first win: datagram bytes 24..<32 keep the original and 32..<40
        // keep the rewrite, which is UDP payload 24..<32 after the 8-byte header.
        #expect(harness.decoder.statistics.reassembledDatagrams == 1)
        var expected = payload
        for index in 24..<32 { expected[index] = 0xee }
        #expect(reassembled == expected)
        #expect(harness.count(DecodingCatalogue.udpChecksumInvalid) == 1)
    }

    @Test func ipv6OverlapWithDifferentBytesIsFlagged() {
        let (_, fragments) = Self.udpFragments(ip: TestHosts.ip6)
        let header = Array(fragments[0].prefix(40))
        let evil = Fragmenter.ipv6Fragment(header: header, nextHeader: 17, offset: 32, more: true, identification: 77,
                                           payload: Array(repeating: 0xee, count: 8))
        let harness = DecodingHarness()
        for fragment in fragments.prefix(2) { harness.decode(Self.framed(fragment)) }
        harness.decode(Self.framed(evil))
        #expect(harness.count(DecodingCatalogue.ipv6FragmentOverlapDifferentData) == 1)
    }

    @Test func fragmentedTCPChecksumIsVerifiedOnTheDatagram() {
        var builder = PacketBuilder()
        var spec = TestHosts.ip
        spec.identification = 9
        let packet = builder.tcp(nil, ip: spec, tcp: TCPSpec(sourcePort: 40000, destinationPort: 502),
                                 payload: Array(repeating: 0x41, count: 64))
        let harness = DecodingHarness()
        var last: (decoded: Bool, packet: DecodedPacket, payload: [UInt8])?
        for fragment in Fragmenter.fragmentIPv4(packet, maxPayloadPerFragment: 40) { last = harness.decode(Self.framed(fragment)) }
        #expect(last?.packet.isTCP == true)
        #expect(last?.payload.count == 64)
        #expect(harness.anomalyNames.isEmpty)
    }

    @Test func datagramLimitRaisedOnce() {
        let harness = DecodingHarness(limits: FragmentLimits(maxDatagramsInProgress: 2))
        for identification in 1...6 {
            let (_, fragments) = Self.udpFragments(identification: UInt16(identification))
            harness.decode(Self.framed(fragments[0]))
        }
        #expect(harness.count(DecodingCatalogue.ipFragmentLimitReached) == 1)
        #expect(harness.decoder.statistics.fragmentLimitOverruns == 4)
        #expect(harness.decoder.fragmentDatagramsInProgress == 2)
    }

    @Test func totalBytesLimitRaisedOnce() {
        let harness = DecodingHarness(limits: FragmentLimits(maxTotalBytes: 100))
        for identification in 1...5 {
            let (_, fragments) = Self.udpFragments(identification: UInt16(identification))
            harness.decode(Self.framed(fragments[1]))
        }
        #expect(harness.count(DecodingCatalogue.ipFragmentLimitReached) == 1)
        // Each datagram needs 64 bytes for its second fragment, so only the first one fits.
        #expect(harness.decoder.statistics.fragmentLimitOverruns == 4)
    }

    @Test func datagramSizeAndFragmentCountLimits() {
        let (_, fragments) = Self.udpFragments()
        let header = Array(fragments[0].prefix(20))
        let harness = DecodingHarness(limits: FragmentLimits(maxDatagramBytes: 1000, maxFragmentsPerDatagram: 3))
        harness.decode(Self.framed(Fragmenter.ipv4Fragment(header: header, offset: 2000, more: true, payload: [1, 2, 3, 4, 5, 6, 7, 8])))
        #expect(harness.decoder.statistics.fragmentLimitOverruns == 1)
        for fragment in fragments { harness.decode(Self.framed(fragment)) }
        #expect(harness.decoder.statistics.fragmentLimitOverruns == 2)
        #expect(harness.decoder.statistics.reassembledDatagrams == 0)
        #expect(harness.count(DecodingCatalogue.ipFragmentLimitReached) == 1)
    }

    @Test func unfinishedDatagramsExpire() {
        let (_, fragments) = Self.udpFragments()
        let harness = DecodingHarness()
        harness.decode(Self.framed(fragments[0]), seconds: 100)
        harness.decoder.expireFragments(now: Timestamp(seconds: 120, nanoseconds: 0))
        #expect(harness.decoder.fragmentDatagramsInProgress == 1)
        harness.decoder.expireFragments(now: Timestamp(seconds: 131, nanoseconds: 0))
        #expect(harness.decoder.fragmentDatagramsInProgress == 0)
        #expect(harness.decoder.statistics.fragmentDatagramsExpired == 1)
        // The remaining fragments now start a new datagram that never completes.
        for fragment in fragments.dropFirst() { harness.decode(Self.framed(fragment), seconds: 132) }
        #expect(harness.decoder.statistics.reassembledDatagrams == 0)
    }
}

@Suite struct DecodingFragmentFuzzTests {
    @Test func randomFragmentsKeepAccountingConsistent() {
        var generator = SystemRandomNumberGenerator()
        let harness = DecodingHarness(limits: FragmentLimits(maxDatagramsInProgress: 8, maxTotalBytes: 4096,
                                                             maxFragmentsPerDatagram: 16))
        var builder = PacketBuilder()
        let header = Array(builder.udp(nil, ip: TestHosts.ip, sourcePort: 1, destinationPort: 2).prefix(20))
        for round in 0..<5000 {
            var template = header
            template[5] = UInt8.random(in: 0..<12, using: &generator)
            let offset = Int.random(in: 0..<64, using: &generator) * 8
            let length = Int.random(in: 0..<200, using: &generator)
            let payload = (0..<length).map { _ in UInt8.random(in: 0...3, using: &generator) }
            let fragment = Fragmenter.ipv4Fragment(header: template, offset: offset, more: Bool.random(using: &generator),
                                                   payload: payload)
            harness.decode(DecodingFragmentTests.framed(fragment), seconds: Int64(round / 100))
            #expect(harness.decoder.reassembler.totalBytes >= 0)
            #expect(harness.decoder.reassembler.totalBytes <= 4096)
            #expect(harness.decoder.fragmentDatagramsInProgress <= 8)
        }
        harness.decoder.expireFragments(now: Timestamp(seconds: 1000, nanoseconds: 0))
        #expect(harness.decoder.fragmentDatagramsInProgress == 0)
        #expect(harness.decoder.reassembler.totalBytes == 0)
        #expect(harness.count(DecodingCatalogue.ipFragmentLimitReached) <= 1)
    }
}
