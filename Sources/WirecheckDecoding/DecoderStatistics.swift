import WirecheckCore

/// Counters the decoder keeps for the run's statistics event.
public struct DecoderStatistics {
    public var packets = 0
    /// Packets where nothing above the link layer decoded.
    public var undecoded = 0
    /// Packets whose capture was cut by the snapshot length before a header or payload ended.
    public var snapshotTruncated = 0

    // Per layer: how many packets carried the header.
    public var ethernet = 0
    public var llc = 0
    public var vlan = 0
    public var linuxCooked = 0
    public var loopback = 0
    public var arp = 0
    public var ipv4 = 0
    public var ipv6 = 0
    public var tcp = 0
    public var udp = 0
    public var icmp = 0
    public var icmpv6 = 0
    public var gre = 0
    public var vxlan = 0
    public var geneve = 0
    /// Packets whose IP protocol is not TCP, UDP, ICMP, ICMPv6, GRE or an IP-in-IP tunnel.
    public var otherIPProtocol = 0
    /// IPv6 packets that stop at ESP or "no next header".
    public var ipv6WithoutUpperLayer = 0

    /// Frames per EtherType that the decoder does not follow, known types included.
    public var undecodedEtherTypes: [UInt16: Int] = [:]
    /// Packets per link type that the decoder does not support.
    public var undecodableLinkTypes: [Int32: Int] = [:]
    /// Tunnels deeper than `PacketDecoder.maxTunnelDepth`, left undecoded.
    public var tunnelDepthExceeded = 0

    public var fragments = 0
    public var reassembledDatagrams = 0
    /// Datagrams dropped unfinished after the reassembly timeout.
    public var fragmentDatagramsExpired = 0
    /// Fragments dropped because a `FragmentLimits` bound was reached.
    public var fragmentLimitOverruns = 0
    public var fragmentOverlaps = 0

    /// Anomalies raised, by stable name.
    public var anomalies: [String: Int] = [:]

    public init() {}
}

extension DecoderStatistics {
    /// Returns what the decoder left undecoded or dropped, as (reason, count) pairs with
    /// nonzero counts, for the run summary. Each reason is a plain phrase naming the value.
    public var skippedReasons: [(String, UInt64)] {
        var reasons: [(String, UInt64)] = []
        for (linkType, count) in undecodableLinkTypes.sorted(by: { $0.key < $1.key }) {
            reasons.append(("packets with unsupported \(LinkType(rawValue: linkType))", UInt64(count)))
        }
        for (etherType, count) in undecodedEtherTypes.sorted(by: { $0.key < $1.key }) {
            let digits = String(etherType, radix: 16)
            let hex = "0x" + String(repeating: "0", count: max(0, 4 - digits.count)) + digits
            reasons.append(("frames with EtherType \(hex), which is not decoded", UInt64(count)))
        }
        let counted: [(String, Int)] = [
            ("packets cut by the snapshot length before a header or the payload ended", snapshotTruncated),
            ("IP fragments dropped because a reassembly limit was reached", fragmentLimitOverruns),
            ("IP datagrams dropped unfinished after the reassembly timeout", fragmentDatagramsExpired),
            ("packets nested in more than \(PacketDecoder.maxTunnelDepth) tunnels, decoded only to that depth", tunnelDepthExceeded),
        ]
        for (reason, count) in counted where count > 0 {
            reasons.append((reason, UInt64(count)))
        }
        return reasons
    }
}
