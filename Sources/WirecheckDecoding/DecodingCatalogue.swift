import WirecheckCore

/// Every anomaly the decoding stage raises, with its stable name and meaning.
public enum DecodingCatalogue: EventCatalogue {
    static func truncated(_ layer: String, _ header: String) -> AnomalyDefinition {
        AnomalyDefinition("decoder.\(layer).truncated", type: .decode, layer: layer,
                          summary: "The packet ends before the \(header) header is complete, and the capture's snapshot length did not cut it.")
    }

    public static let ethernetTruncated = truncated("ethernet", "Ethernet or LLC")
    public static let vlanTruncated = truncated("vlan", "802.1Q or 802.1ad VLAN")
    public static let sllTruncated = truncated("sll", "Linux cooked-mode")
    public static let nullTruncated = truncated("null", "BSD loopback")
    public static let arpTruncated = truncated("arp", "ARP")
    public static let ipv4Truncated = truncated("ipv4", "IPv4")
    public static let ipv6Truncated = truncated("ipv6", "IPv6")
    public static let tcpTruncated = truncated("tcp", "TCP")
    public static let udpTruncated = truncated("udp", "UDP")
    public static let icmpTruncated = truncated("icmp", "ICMP")
    public static let icmpv6Truncated = truncated("icmpv6", "ICMPv6")
    public static let greTruncated = truncated("gre", "GRE")
    public static let vxlanTruncated = truncated("vxlan", "VXLAN")
    public static let geneveTruncated = truncated("geneve", "Geneve")

    public static let ethernetUnknownEtherType = AnomalyDefinition(
        "decoder.ethernet.unknown_ethertype", type: .decode, layer: "ethernet",
        summary: "The frame carries an EtherType that Wirecheck neither decodes nor lists as a known industrial or link protocol.")
    public static let arpInvalid = AnomalyDefinition(
        "decoder.arp.invalid", type: .decode, layer: "arp",
        summary: "An ARP packet for Ethernet/IPv4 announces hardware and protocol address sizes other than 6 and 4.")
    public static let ipv4HeaderLengthInvalid = AnomalyDefinition(
        "decoder.ipv4.header_length_invalid", type: .decode, layer: "ipv4",
        summary: "The IPv4 header length field is below 5 words (20 bytes) or points past the captured bytes.")
    public static let ipv4TotalLengthInvalid = AnomalyDefinition(
        "decoder.ipv4.total_length_invalid", type: .decode, layer: "ipv4",
        summary: "The IPv4 total length is smaller than the header, or larger than the packet on the wire.")
    public static let ipv4VersionMismatch = AnomalyDefinition(
        "decoder.ipv4.version_mismatch", type: .decode, layer: "ipv4",
        summary: "The link layer announced IPv4, or a raw IP packet has a version other than 4 and 6, but the IP version field says otherwise.")
    public static let ipv6VersionMismatch = AnomalyDefinition(
        "decoder.ipv6.version_mismatch", type: .decode, layer: "ipv6",
        summary: "The link layer announced IPv6 but the IP version field says otherwise.")
    public static let ipv4ChecksumInvalid = AnomalyDefinition(
        "decoder.ipv4.checksum_invalid", type: .decode, layer: "ipv4",
        summary: "The IPv4 header checksum is wrong; on the capturing host itself this is usually checksum offload.")
    public static let ipv4FragmentOverlapDifferentData = AnomalyDefinition(
        "decoder.ipv4.fragment_overlap_different_data", type: .decode, layer: "ipv4",
        summary: "Two IPv4 fragments of one datagram overlap and disagree on the overlapping bytes, a known evasion technique.")
    public static let ipv6PayloadLengthInvalid = AnomalyDefinition(
        "decoder.ipv6.payload_length_invalid", type: .decode, layer: "ipv6",
        summary: "The IPv6 payload length is larger than the packet on the wire.")
    public static let ipv6ExtensionHeaderInvalid = AnomalyDefinition(
        "decoder.ipv6.extension_header_invalid", type: .decode, layer: "ipv6",
        summary: "An IPv6 extension header runs past the payload, or there are more extension headers than any sender uses.")
    public static let ipv6FragmentOverlapDifferentData = AnomalyDefinition(
        "decoder.ipv6.fragment_overlap_different_data", type: .decode, layer: "ipv6",
        summary: "Two IPv6 fragments of one datagram overlap and disagree on the overlapping bytes, a known evasion technique.")
    public static let ipSameSourceDestination = AnomalyDefinition(
        "decoder.ip.same_source_destination", type: .decode, layer: "ip",
        summary: "A packet outside loopback has the same source and destination address (and port, for TCP and UDP), as in the LAND attack.")
    public static let ipFragmentLimitReached = AnomalyDefinition(
        "decoder.ip.fragment_limit_reached", type: .decode, layer: "ip",
        summary: "Fragment reassembly hit one of its memory limits and dropped fragments; raised once per run, counted in the statistics.")
    public static let tcpDataOffsetInvalid = AnomalyDefinition(
        "decoder.tcp.data_offset_invalid", type: .decode, layer: "tcp",
        summary: "The TCP data offset is below 5 words (20 bytes) or points past the segment.")
    public static let tcpOptionLengthInvalid = AnomalyDefinition(
        "decoder.tcp.option_length_invalid", type: .decode, layer: "tcp",
        summary: "A TCP option has a length below 2, past the header, or wrong for its kind.")
    public static let tcpWindowScaleInvalid = AnomalyDefinition(
        "decoder.tcp.window_scale_invalid", type: .decode, layer: "tcp",
        summary: "A TCP window scale option asks for a shift above 14, the maximum RFC 7323 allows.")
    public static let tcpFlagsSynFin = AnomalyDefinition(
        "decoder.tcp.flags_syn_fin", type: .decode, layer: "tcp",
        summary: "A TCP segment has both SYN and FIN set, which no TCP stack sends and scanners use.")
    public static let tcpFlagsSynRst = AnomalyDefinition(
        "decoder.tcp.flags_syn_rst", type: .decode, layer: "tcp",
        summary: "A TCP segment has both SYN and RST set, which no TCP stack sends.")
    public static let tcpFlagsNone = AnomalyDefinition(
        "decoder.tcp.flags_none", type: .decode, layer: "tcp",
        summary: "A TCP segment has no flags at all, as sent by a NULL scan.")
    public static let tcpFlagsFinPshUrg = AnomalyDefinition(
        "decoder.tcp.flags_fin_psh_urg", type: .decode, layer: "tcp",
        summary: "A TCP segment has FIN, PSH and URG set without SYN, RST or ACK, as sent by an Xmas scan.")
    public static let tcpPortZero = AnomalyDefinition(
        "decoder.tcp.port_zero", type: .decode, layer: "tcp",
        summary: "A TCP segment uses port 0 as source or destination, which is reserved and used for fingerprinting.")
    public static let tcpChecksumInvalid = AnomalyDefinition(
        "decoder.tcp.checksum_invalid", type: .decode, layer: "tcp",
        summary: "The TCP checksum of a completely captured segment is wrong; on the capturing host itself this is usually checksum offload.")
    public static let udpPortZero = AnomalyDefinition(
        "decoder.udp.port_zero", type: .decode, layer: "udp",
        summary: "A UDP datagram uses port 0 as source or destination, which is reserved.")
    public static let udpLengthInvalid = AnomalyDefinition(
        "decoder.udp.length_invalid", type: .decode, layer: "udp",
        summary: "The UDP length field is below 8 or larger than the bytes the IP layer carries.")
    public static let udpChecksumInvalid = AnomalyDefinition(
        "decoder.udp.checksum_invalid", type: .decode, layer: "udp",
        summary: "The UDP checksum of a completely captured datagram is wrong; on the capturing host itself this is usually checksum offload.")

    public static let anomalies: [AnomalyDefinition] = [
        ethernetTruncated, vlanTruncated, sllTruncated, nullTruncated, arpTruncated, ipv4Truncated, ipv6Truncated,
        tcpTruncated, udpTruncated, icmpTruncated, icmpv6Truncated, greTruncated, vxlanTruncated, geneveTruncated,
        ethernetUnknownEtherType, arpInvalid,
        ipv4HeaderLengthInvalid, ipv4TotalLengthInvalid, ipv4VersionMismatch, ipv4ChecksumInvalid,
        ipv4FragmentOverlapDifferentData,
        ipv6VersionMismatch, ipv6PayloadLengthInvalid, ipv6ExtensionHeaderInvalid, ipv6FragmentOverlapDifferentData,
        ipSameSourceDestination, ipFragmentLimitReached,
        tcpDataOffsetInvalid, tcpOptionLengthInvalid, tcpWindowScaleInvalid, tcpFlagsSynFin, tcpFlagsSynRst,
        tcpFlagsNone, tcpFlagsFinPshUrg, tcpPortZero, tcpChecksumInvalid,
        udpPortZero, udpLengthInvalid, udpChecksumInvalid,
    ]

    public static let alerts: [AlertDefinition] = []
}
