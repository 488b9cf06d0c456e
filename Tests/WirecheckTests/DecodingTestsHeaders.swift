import Testing
import WirecheckCore
@testable import WirecheckDecoding

// Each test reads one standard-conformant frame, generated with scapy 2.x, through the header
// view and checks every field.

/// Ethernet, IPv4 (DF, id 0x1234) and a TCP SYN from 10.0.0.5:49152 to 10.0.0.20:502 with MSS
/// 1460, NOP, window scale 7, SACK-permitted and timestamps 100/0.
let tcpSYNFrame: [UInt8] = [
    0x00, 0x0c, 0x29, 0xab, 0xcd, 0xef, 0x00, 0x1b, 0x1b, 0x12, 0x34, 0x56, 0x08, 0x00, 0x45, 0x00, 0x00, 0x3c,
    0x12, 0x34, 0x40, 0x00, 0x40, 0x06, 0x14, 0x70, 0x0a, 0x00, 0x00, 0x05, 0x0a, 0x00, 0x00, 0x14, 0xc0, 0x00,
    0x01, 0xf6, 0x01, 0x02, 0x03, 0x04, 0x00, 0x00, 0x00, 0x00, 0xa0, 0x02, 0xfa, 0xf0, 0x72, 0x96, 0x00, 0x00,
    0x02, 0x04, 0x05, 0xb4, 0x01, 0x03, 0x03, 0x07, 0x04, 0x02, 0x08, 0x0a, 0x00, 0x00, 0x00, 0x64, 0x00, 0x00,
    0x00, 0x00,
]

/// Ethernet, 802.1Q (priority 5, VLAN 100), IPv4 (TTL 128, id 7) and a BACnet/IP broadcast over
/// UDP 47808 with a 12-byte payload.
let vlanUDPFrame: [UInt8] = [
    0x00, 0x0c, 0x29, 0xab, 0xcd, 0xef, 0x00, 0x1b, 0x1b, 0x12, 0x34, 0x56, 0x81, 0x00, 0xa0, 0x64, 0x08, 0x00,
    0x45, 0x00, 0x00, 0x28, 0x00, 0x07, 0x00, 0x00, 0x80, 0x11, 0x25, 0xbb, 0x0a, 0x00, 0x00, 0x05, 0x0a, 0x00,
    0x00, 0xff, 0xba, 0xc0, 0xba, 0xc0, 0x00, 0x14, 0xe2, 0x02, 0x81, 0x0b, 0x00, 0x0c, 0x01, 0x20, 0xff, 0xff,
    0x00, 0xff, 0x10, 0x08,
]

/// A broadcast ARP request: who has 10.0.0.20, tell 10.0.0.5.
let arpRequestFrame: [UInt8] = [
    0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00, 0x1b, 0x1b, 0x12, 0x34, 0x56, 0x08, 0x06, 0x00, 0x01, 0x08, 0x00,
    0x06, 0x04, 0x00, 0x01, 0x00, 0x1b, 0x1b, 0x12, 0x34, 0x56, 0x0a, 0x00, 0x00, 0x05, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x0a, 0x00, 0x00, 0x14,
]

/// IPv4 with a record-route option (IHL 7) carrying an ICMP echo request, id 0x4242, seq 3, "ping".
let icmpWithOptionsFrame: [UInt8] = [
    0x00, 0x0c, 0x29, 0xab, 0xcd, 0xef, 0x00, 0x1b, 0x1b, 0x12, 0x34, 0x56, 0x08, 0x00, 0x47, 0x00, 0x00, 0x28,
    0x00, 0x01, 0x00, 0x00, 0x40, 0x01, 0x59, 0xb5, 0x0a, 0x00, 0x00, 0x05, 0x0a, 0x00, 0x00, 0x14, 0x07, 0x07,
    0x04, 0x00, 0x00, 0x00, 0x00, 0x00, 0x08, 0x00, 0xd6, 0xe9, 0x42, 0x42, 0x00, 0x03, 0x70, 0x69, 0x6e, 0x67,
]

/// IPv6 (flow label 0x12345) with hop-by-hop and destination options headers, then UDP
/// 5000 -> 20000 carrying "abc".
let ipv6ExtensionFrame: [UInt8] = [
    0x00, 0x0c, 0x29, 0xab, 0xcd, 0xef, 0x00, 0x1b, 0x1b, 0x12, 0x34, 0x56, 0x86, 0xdd, 0x60, 0x01, 0x23, 0x45,
    0x00, 0x1b, 0x00, 0x40, 0x20, 0x01, 0x0d, 0xb8, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x05, 0x20, 0x01, 0x0d, 0xb8, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x20,
    0x3c, 0x00, 0x01, 0x04, 0x00, 0x00, 0x00, 0x00, 0x11, 0x00, 0x01, 0x04, 0x00, 0x00, 0x00, 0x00, 0x13, 0x88,
    0x4e, 0x20, 0x00, 0x0b, 0x7e, 0x36, 0x61, 0x62, 0x63,
]

/// Raw IPv6: an ICMPv6 echo request from fe80::1 to ff02::1, id 9, seq 1.
let icmpv6EchoPacket: [UInt8] = [
    0x60, 0x00, 0x00, 0x00, 0x00, 0x08, 0x3a, 0xff, 0xfe, 0x80, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x01, 0xff, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x01, 0x80, 0x00, 0x82, 0x2d, 0x00, 0x09, 0x00, 0x01,
]

/// GRE with key 0x1000 between 192.0.2.1 and 192.0.2.2, carrying IPv4 and a TCP SYN
/// 10.0.0.5:1234 -> 10.0.0.20:502.
let greFrame: [UInt8] = [
    0x00, 0x0c, 0x29, 0xab, 0xcd, 0xef, 0x00, 0x1b, 0x1b, 0x12, 0x34, 0x56, 0x08, 0x00, 0x45, 0x00, 0x00, 0x44,
    0x00, 0x01, 0x00, 0x00, 0x40, 0x2f, 0xf6, 0x86, 0xc0, 0x00, 0x02, 0x01, 0xc0, 0x00, 0x02, 0x02, 0x20, 0x00,
    0x08, 0x00, 0x00, 0x00, 0x10, 0x00, 0x45, 0x00, 0x00, 0x28, 0x00, 0x01, 0x00, 0x00, 0x40, 0x06, 0x66, 0xb7,
    0x0a, 0x00, 0x00, 0x05, 0x0a, 0x00, 0x00, 0x14, 0x04, 0xd2, 0x01, 0xf6, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x50, 0x02, 0x20, 0x00, 0x75, 0x02, 0x00, 0x00,
]

/// VXLAN (VNI 4242) over UDP 4789, carrying an Ethernet frame with UDP 10.1.0.1:1000 ->
/// 10.1.0.2:502 and the payload "x".
let vxlanFrame: [UInt8] = [
    0x00, 0x0c, 0x29, 0xab, 0xcd, 0xef, 0x00, 0x1b, 0x1b, 0x12, 0x34, 0x56, 0x08, 0x00, 0x45, 0x00, 0x00, 0x4f,
    0x00, 0x01, 0x00, 0x00, 0x40, 0x11, 0xf6, 0x99, 0xc0, 0x00, 0x02, 0x01, 0xc0, 0x00, 0x02, 0x02, 0xd9, 0x03,
    0x12, 0xb5, 0x00, 0x3b, 0xf9, 0xc3, 0x0c, 0x00, 0x00, 0x03, 0x00, 0x10, 0x92, 0x00, 0x02, 0x00, 0x00, 0x00,
    0x00, 0x02, 0x02, 0x00, 0x00, 0x00, 0x00, 0x01, 0x08, 0x00, 0x45, 0x00, 0x00, 0x1d, 0x00, 0x01, 0x00, 0x00,
    0x40, 0x11, 0x66, 0xcb, 0x0a, 0x01, 0x00, 0x01, 0x0a, 0x01, 0x00, 0x02, 0x03, 0xe8, 0x01, 0xf6, 0x00, 0x09,
    0x6d, 0xf9, 0x78,
]

@Suite struct DecodingHeaderTests {
    @Test func ethernetHeaderFields() throws {
        try withBytes(tcpSYNFrame) { bytes in
            let ethernet = try #require(EthernetHeader(bytes))
            #expect(ethernet.destination == MACAddress(0x000c_29ab_cdef))
            #expect(ethernet.source == MACAddress(0x001b_1b12_3456))
            #expect(ethernet.etherType == 0x0800)
            #expect(ethernet.isLengthField == false)
        }
    }

    @Test func ethernetHeaderTooShort() {
        withBytes(Array(tcpSYNFrame.prefix(13))) { bytes in
            #expect(EthernetHeader(bytes) == nil)
        }
    }

    @Test func llcSNAPHeaderFields() throws {
        // 802.3 length 0x0030, then LLC AA AA 03 and SNAP 00 00 00 / 08 00.
        let wire: [UInt8] = [0xaa, 0xaa, 0x03, 0x00, 0x00, 0x00, 0x08, 0x00]
        try withBytes(wire) { bytes in
            let llc = try #require(LLCHeader(bytes))
            #expect(llc.dsap == 0xaa)
            #expect(llc.ssap == 0xaa)
            #expect(llc.control == 0x03)
            #expect(llc.hasSNAP)
            #expect(llc.organizationCode == 0)
            #expect(llc.etherType == 0x0800)
        }
    }

    @Test func llcSpanningTreeHasNoSNAP() throws {
        try withBytes([0x42, 0x42, 0x03]) { bytes in
            let llc = try #require(LLCHeader(bytes))
            #expect(llc.hasSNAP == false)
            #expect(llc.etherType == nil)
        }
    }

    @Test func vlanHeaderFields() throws {
        try withBytes(vlanUDPFrame, from: 14) { bytes in
            let tag = try #require(VLANHeader(bytes))
            #expect(tag.priority == 5)
            #expect(tag.dropEligible == false)
            #expect(tag.identifier == 100)
            #expect(tag.etherType == 0x0800)
        }
    }

    @Test func linuxCookedHeaderFields() throws {
        // Outgoing (type 4) Ethernet (ARPHRD 1) frame from 00:1b:1b:12:34:56 carrying IPv4.
        let wire: [UInt8] = [0x00, 0x04, 0x00, 0x01, 0x00, 0x06, 0x00, 0x1b, 0x1b, 0x12, 0x34, 0x56, 0x00, 0x00, 0x08, 0x00]
        try withBytes(wire) { bytes in
            let header = try #require(LinuxCookedHeader(bytes))
            #expect(header.packetType == 4)
            #expect(header.addressType == 1)
            #expect(header.addressLength == 6)
            #expect(header.sourceMAC == MACAddress(0x001b_1b12_3456))
            #expect(header.protocolType == 0x0800)
        }
    }

    @Test func linuxCookedV2HeaderFields() throws {
        let wire: [UInt8] = [0x86, 0xdd, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03, 0x00, 0x01, 0x00, 0x06,
                              0x00, 0x1b, 0x1b, 0x12, 0x34, 0x56, 0x00, 0x00]
        try withBytes(wire) { bytes in
            let header = try #require(LinuxCookedV2Header(bytes))
            #expect(header.protocolType == 0x86dd)
            #expect(header.interfaceIndex == 3)
            #expect(header.addressType == 1)
            #expect(header.packetType == 0)
            #expect(header.addressLength == 6)
            #expect(header.sourceMAC == MACAddress(0x001b_1b12_3456))
        }
    }

    @Test func loopbackFamilyEitherByteOrder() throws {
        try withBytes([2, 0, 0, 0]) { bytes in
            let littleEndianIPv4 = try #require(LoopbackHeader(bytes, isAlwaysBigEndian: false))
            #expect(littleEndianIPv4.family == .ipv4)
        }
        try withBytes([0, 0, 0, 30]) { bytes in
            let bigEndianIPv6 = try #require(LoopbackHeader(bytes, isAlwaysBigEndian: false))
            #expect(bigEndianIPv6.family == .ipv6)
        }
        try withBytes([28, 0, 0, 0]) { bytes in
            let freeBSDIPv6 = try #require(LoopbackHeader(bytes, isAlwaysBigEndian: false))
            #expect(freeBSDIPv6.family == .ipv6)
        }
        try withBytes([0, 0, 0, 24]) { bytes in
            let loopIPv6 = try #require(LoopbackHeader(bytes, isAlwaysBigEndian: true))
            #expect(loopIPv6.family == .ipv6)
        }
        try withBytes([2, 0, 0, 0]) { bytes in
            let loopLittleEndian = try #require(LoopbackHeader(bytes, isAlwaysBigEndian: true))
            #expect(loopLittleEndian.family == .other(0x0200_0000))
        }
    }

    @Test func arpPacketFields() throws {
        try withBytes(arpRequestFrame, from: 14) { bytes in
            let arp = try #require(ARPPacket(bytes))
            #expect(arp.hardwareType == 1)
            #expect(arp.protocolType == 0x0800)
            #expect(arp.hardwareSize == 6)
            #expect(arp.protocolSize == 4)
            #expect(arp.operation == 1)
            let fields = try #require(arp.ethernetIPv4Fields)
            #expect(fields.senderMAC == MACAddress(0x001b_1b12_3456))
            #expect(fields.senderIP == 0x0a00_0005)
            #expect(fields.targetMAC == MACAddress.zero)
            #expect(fields.targetIP == 0x0a00_0014)
        }
    }

    @Test func ipv4HeaderFields() throws {
        try withBytes(tcpSYNFrame, from: 14) { bytes in
            let ip = try #require(IPv4Header(bytes))
            #expect(ip.version == 4)
            #expect(ip.headerLength == 20)
            #expect(ip.typeOfService == 0)
            #expect(ip.totalLength == 60)
            #expect(ip.identification == 0x1234)
            #expect(ip.dontFragment)
            #expect(ip.moreFragments == false)
            #expect(ip.fragmentOffset == 0)
            #expect(ip.ttl == 64)
            #expect(ip.protocolNumber == 6)
            #expect(ip.checksum == 0x1470)
            #expect(ip.source == 0x0a00_0005)
            #expect(ip.destination == 0x0a00_0014)
            #expect(ip.isChecksumValid)
        }
    }

    @Test func ipv4HeaderWithOptions() throws {
        try withBytes(icmpWithOptionsFrame, from: 14) { bytes in
            let ip = try #require(IPv4Header(bytes))
            #expect(ip.headerLengthWords == 7)
            #expect(ip.headerLength == 28)
            #expect(Array(ip.options) == [0x07, 0x07, 0x04, 0x00, 0x00, 0x00, 0x00, 0x00])
            #expect(ip.isChecksumValid)
        }
    }

    @Test func ipv6HeaderAndExtensionHeaders() throws {
        try withBytes(ipv6ExtensionFrame, from: 14) { bytes in
            let ip = try #require(IPv6Header(bytes))
            #expect(ip.version == 6)
            #expect(ip.trafficClass == 0)
            #expect(ip.flowLabel == 0x12345)
            #expect(ip.payloadLength == 27)
            #expect(ip.nextHeader == 0)
            #expect(ip.hopLimit == 64)
            #expect(ip.source == IPAddress("2001:db8::5"))
            #expect(ip.destination == IPAddress("2001:db8::20"))
        }
        try withBytes(ipv6ExtensionFrame, from: 54) { bytes in
            let hopByHop = try #require(IPv6ExtensionHeader(bytes, headerNumber: 0))
            #expect(hopByHop.nextHeader == 60)
            #expect(hopByHop.length == 8)
        }
        try withBytes(ipv6ExtensionFrame, from: 62) { bytes in
            let destination = try #require(IPv6ExtensionHeader(bytes, headerNumber: 60))
            #expect(destination.nextHeader == 17)
            #expect(destination.length == 8)
        }
    }

    @Test func ipv6FragmentHeaderFields() throws {
        // Next header TCP, offset 185 units (1480 bytes), more fragments, id 0xdeadbeef.
        try withBytes([0x06, 0x00, 0x05, 0xc9, 0xde, 0xad, 0xbe, 0xef]) { bytes in
            let fragment = try #require(IPv6FragmentHeader(bytes))
            #expect(fragment.nextHeader == 6)
            #expect(fragment.fragmentOffset == 1480)
            #expect(fragment.moreFragments)
            #expect(fragment.identification == 0xdead_beef)
        }
    }

    @Test func authenticationHeaderLengthUnits() throws {
        // AH length 4 means (4 + 2) * 4 = 24 bytes.
        try withBytes([0x06, 0x04]) { bytes in
            let header = try #require(IPv6ExtensionHeader(bytes, headerNumber: 51))
            #expect(header.length == 24)
        }
    }

    @Test func tcpHeaderFields() throws {
        try withBytes(tcpSYNFrame, from: 34) { bytes in
            let tcp = try #require(TCPHeader(bytes))
            #expect(tcp.sourcePort == 49152)
            #expect(tcp.destinationPort == 502)
            #expect(tcp.sequence == 0x0102_0304)
            #expect(tcp.acknowledgement == 0)
            #expect(tcp.dataOffsetWords == 10)
            #expect(tcp.headerLength == 40)
            #expect(tcp.flags == .syn)
            #expect(tcp.window == 64240)
            #expect(tcp.checksum == 0x7296)
            #expect(tcp.urgentPointer == 0)
        }
    }

    @Test func tcpOptionsInOrder() throws {
        try withBytes(tcpSYNFrame, from: 34) { bytes in
            let tcp = try #require(TCPHeader(bytes))
            let options = Array(tcp.options)
            #expect(options == [.maximumSegmentSize(1460), .noOperation, .windowScale(7), .sackPermitted,
                                .timestamps(value: 100, echo: 0)])
        }
    }

    @Test func tcpOptionLengths() {
        func parse(_ options: [UInt8]) -> [TCPOption] {
            withBytes(options) { bytes in Array(TCPOptionIterator(bytes)) }
        }
        #expect(parse([34, 2, 1, 1]) == [.fastOpen(cookieLength: 0), .noOperation, .noOperation])
        #expect(parse([34, 10, 1, 2, 3, 4, 5, 6, 7, 8]) == [.fastOpen(cookieLength: 8)])
        #expect(parse([5, 2, 1, 1]) == [.sack(blockCount: 0), .noOperation, .noOperation])
        #expect(parse([5, 10, 0, 0, 0, 1, 0, 0, 0, 2]) == [.sack(blockCount: 1)])
        #expect(parse([99, 4, 0, 0]) == [.unknown(kind: 99, length: 4)])
        #expect(parse([2, 3, 0]) == [.invalidLength(kind: 2, length: 3)])
        #expect(parse([8, 40]) == [.invalidLength(kind: 8, length: 40)])
        #expect(parse([99, 1, 0, 0]) == [.invalidLength(kind: 99, length: 1)])
        #expect(parse([3]) == [.invalidLength(kind: 3, length: 0)])
        #expect(parse([34, 3, 0]) == [.invalidLength(kind: 34, length: 3)])
        #expect(parse([0, 2, 4, 0]) == [.endOfOptionList])
    }

    @Test func udpHeaderFields() throws {
        try withBytes(vlanUDPFrame, from: 38) { bytes in
            let udp = try #require(UDPHeader(bytes))
            #expect(udp.sourcePort == 47808)
            #expect(udp.destinationPort == 47808)
            #expect(udp.length == 20)
            #expect(udp.checksum == 0xe202)
        }
    }

    @Test func icmpHeaderFields() throws {
        try withBytes(icmpWithOptionsFrame, from: 42) { bytes in
            let icmp = try #require(ICMPHeader(bytes))
            #expect(icmp.type == 8)
            #expect(icmp.code == 0)
            #expect(icmp.checksum == 0xd6e9)
            #expect(icmp.identifier == 0x4242)
            #expect(icmp.sequenceNumber == 3)
        }
    }

    @Test func icmpv6HeaderFields() throws {
        try withBytes(icmpv6EchoPacket, from: 40) { bytes in
            let icmp = try #require(ICMPHeader(bytes))
            #expect(icmp.type == 128)
            #expect(icmp.code == 0)
            #expect(icmp.checksum == 0x822d)
            #expect(icmp.identifier == 9)
            #expect(icmp.sequenceNumber == 1)
        }
    }

    @Test func greHeaderFields() throws {
        try withBytes(greFrame, from: 34) { bytes in
            let gre = try #require(GREHeader(bytes))
            #expect(gre.version == 0)
            #expect(gre.hasChecksum == false)
            #expect(gre.hasRouting == false)
            #expect(gre.hasKey)
            #expect(gre.hasSequence == false)
            #expect(gre.protocolType == 0x0800)
            #expect(gre.headerLength == 8)
        }
    }

    @Test func vxlanHeaderFields() throws {
        try withBytes(vxlanFrame, from: 42) { bytes in
            let vxlan = try #require(VXLANHeader(bytes))
            #expect(vxlan.hasValidIdentifier)
            #expect(vxlan.networkIdentifier == 4242)
        }
    }

    @Test func geneveHeaderFields() throws {
        // Version 0, 4 bytes of options, protocol 0x6558, VNI 0x00abcd, then one option.
        let wire: [UInt8] = [0x01, 0x00, 0x65, 0x58, 0x00, 0xab, 0xcd, 0x00, 0x01, 0x02, 0x03, 0x00]
        try withBytes(wire) { bytes in
            let geneve = try #require(GeneveHeader(bytes))
            #expect(geneve.version == 0)
            #expect(geneve.optionsLength == 4)
            #expect(geneve.headerLength == 12)
            #expect(geneve.isControl == false)
            #expect(geneve.protocolType == 0x6558)
            #expect(geneve.networkIdentifier == 0xabcd)
        }
    }
}
