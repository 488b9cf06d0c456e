import WirecheckCore

/// Decodes captured packets from the link layer to TCP, UDP and ICMP, reassembles IP
/// fragments, and raises decoder anomalies to its sink.
///
/// One decoder serves one packet stream and is not thread-safe. Decoding a packet allocates
/// nothing unless it raises an anomaly, is an IP fragment, or has an EtherType or link type
/// the statistics have not counted before.
public final class PacketDecoder {
    /// Tunnels (GRE, VXLAN, Geneve, IP-in-IP) followed inside one packet. Deeper ones stay undecoded, so
    /// a crafted packet cannot make decoding recurse without end.
    public static let maxTunnelDepth = 4
    /// IPv6 extension headers walked in one packet. Real senders use a handful at most, so a
    /// longer chain is reported as invalid.
    public static let maxIPv6ExtensionHeaders = 16

    /// DLT_RAW as libpcap's `pcap_datalink` reports it for LINKTYPE_RAW files (12 on most
    /// systems, 14 on OpenBSD), accepted in case a reader passes the DLT value unmapped.
    static let linuxRawDLT = LinkType(rawValue: 12)
    static let openBSDRawDLT = LinkType(rawValue: 14)

    /// IP protocol numbers of IPv4-in-IP (RFC 2003) and IPv6-in-IPv4 (RFC 4213) tunnels.
    static let ipInIPProtocol: UInt8 = 4
    static let ipv6InIPProtocol: UInt8 = 41

    let sink: EventSink
    let reassembler: FragmentReassembler
    /// Whether to verify IPv4 header, TCP and UDP checksums. Turn this off for captures taken
    /// on a host whose network card computes checksums after capture (checksum offload),
    /// because that host's outgoing packets carry placeholder checksums and would each raise
    /// a checksum anomaly.
    public var verifyChecksums: Bool
    public var statistics = DecoderStatistics()

    /// True once `decoder.ip.fragment_limit_reached` was raised; later overruns are only counted.
    var fragmentLimitRaised = false

    // State of the packet being decoded.
    var work = DecodedPacket()
    /// Bytes the snapshot length cut from the end of the buffer being decoded; 0 inside a
    /// reassembled datagram.
    var missingAtEnd = 0
    var addressesKnown = false
    var portsKnown = false
    var snapshotCutCounted = false
    /// True when an IP length field was larger than the packet on the wire, so the transport
    /// segment's true extent is unknown and its checksum cannot be verified.
    var ipLengthInvalid = false

    public init(sink: EventSink, limits: FragmentLimits = FragmentLimits(), verifyChecksums: Bool = true) {
        self.sink = sink
        self.reassembler = FragmentReassembler(limits: limits)
        self.verifyChecksums = verifyChecksums
    }

    /// Fills `decoded` with the layers of `packet`. Returns false when nothing above the link
    /// layer decoded (no ARP, IPv4 or IPv6 header).
    @discardableResult
    public func decode(_ packet: CapturedPacket, into decoded: inout DecodedPacket) -> Bool {
        work = DecodedPacket()
        work.timestamp = packet.timestamp
        work.reference = packet.reference
        work.wireLength = packet.originalLength
        missingAtEnd = max(0, packet.originalLength - packet.bytes.count)
        addressesKnown = false
        portsKnown = false
        snapshotCutCounted = false
        ipLengthInvalid = false
        statistics.packets += 1

        let bytes = packet.bytes
        let wireEnd = bytes.count + missingAtEnd
        switch packet.linkType {
        case .ethernet:
            decodeEthernet(bytes, at: 0, end: wireEnd, depth: 0)
        case .null, .loop:
            decodeLoopback(bytes, isAlwaysBigEndian: packet.linkType == .loop, end: wireEnd)
        case .raw, PacketDecoder.linuxRawDLT, PacketDecoder.openBSDRawDLT:
            decodeRawIP(bytes, expectedVersion: nil, end: wireEnd)
        case .ipv4:
            decodeRawIP(bytes, expectedVersion: 4, end: wireEnd)
        case .ipv6:
            decodeRawIP(bytes, expectedVersion: 6, end: wireEnd)
        case .linuxSLL:
            decodeLinuxCooked(bytes, end: wireEnd)
        case .linuxSLL2:
            decodeLinuxCookedV2(bytes, end: wireEnd)
        default:
            statistics.undecodableLinkTypes[packet.linkType.rawValue, default: 0] += 1
        }

        checkSameSourceDestination()
        decoded = work
        switch work.network {
        case .arp, .ipv4, .ipv6:
            return true
        case .none, .other:
            statistics.undecoded += 1
            return false
        }
    }

    /// Returns the transport payload of `decoded`: bytes of `packet`, or of the reassembled
    /// datagram when `decoded.isReassembled` is set. The buffer is valid until the next
    /// `decode` call and until `packet.bytes` is released.
    public func payload(of decoded: DecodedPacket, packet: CapturedPacket) -> UnsafeRawBufferPointer {
        let base = decoded.isReassembled ? UnsafeRawBufferPointer(reassembler.output) : packet.bytes
        return base.clampedSlice(from: decoded.payloadOffset, to: decoded.payloadOffset + decoded.payloadLength)
    }

    /// Drops fragments of datagrams whose first fragment arrived more than
    /// `FragmentLimits.timeoutSeconds` before `now`. Call it about once a second of capture time.
    public func expireFragments(now: Timestamp) {
        statistics.fragmentDatagramsExpired += reassembler.expire(now: now)
    }

    /// Datagrams waiting for more fragments.
    public var fragmentDatagramsInProgress: Int { reassembler.datagramsInProgress }

    // MARK: Link layer

    func decodeEthernet(_ bytes: UnsafeRawBufferPointer, at offset: Int, end: Int, depth: Int) {
        guard let ethernet = EthernetHeader(bytes.clampedSlice(from: offset, to: end)) else {
            reportTruncated(DecodingCatalogue.ethernetTruncated, header: "Ethernet", minimum: EthernetHeader.length,
                            at: offset, end: end, in: bytes)
            return
        }
        statistics.ethernet += 1
        work.sourceMAC = ethernet.source
        work.destinationMAC = ethernet.destination
        var next = offset + EthernetHeader.length
        var type = ethernet.etherType

        if ethernet.isLengthField {
            // IEEE 802.3: the type field is a length and an LLC header follows. Only SNAP with
            // an EtherType (organization code 0) leads to a network layer.
            guard let llc = LLCHeader(bytes.clampedSlice(from: next, to: end)) else {
                reportTruncated(DecodingCatalogue.ethernetTruncated, header: "802.2 LLC", minimum: LLCHeader.length,
                                at: next, end: end, in: bytes)
                return
            }
            statistics.llc += 1
            guard let snapType = llc.etherType, llc.organizationCode == 0 else {
                work.etherType = 0
                work.network = .other(0)
                return
            }
            type = snapType
            next += LLCHeader.snapLength
        }
        decodeEtherType(type, bytes, at: next, end: end, depth: depth)
    }

    /// Follows VLAN tags, then decodes the network layer named by `type`.
    func decodeEtherType(_ type: UInt16, _ bytes: UnsafeRawBufferPointer, at offset: Int, end: Int, depth: Int,
                         flagUnknown: Bool = true) {
        var type = type
        var offset = offset
        while type == EtherType.vlan || type == EtherType.serviceVLAN || type == EtherType.legacyServiceVLAN {
            guard let tag = VLANHeader(bytes.clampedSlice(from: offset, to: end)) else {
                reportTruncated(DecodingCatalogue.vlanTruncated, header: "VLAN tag", minimum: VLANHeader.length,
                                at: offset, end: end, in: bytes)
                return
            }
            statistics.vlan += 1
            if work.vlanCount == 0 {
                work.vlan0 = tag.identifier
            } else if work.vlanCount == 1 {
                work.vlan1 = tag.identifier
            }
            work.vlanCount += 1
            type = tag.etherType
            offset += VLANHeader.length
        }
        work.etherType = type

        switch type {
        case EtherType.ipv4:
            decodeIPv4(bytes, at: offset, end: end, depth: depth)
        case EtherType.ipv6:
            decodeIPv6(bytes, at: offset, end: end, depth: depth)
        case EtherType.arp:
            decodeARP(bytes, at: offset, end: end)
        default:
            work.network = .other(type)
            statistics.undecodedEtherTypes[type, default: 0] += 1
            if flagUnknown, !EtherType.knownUndecoded.contains(type) {
                raise(DecodingCatalogue.ethernetUnknownEtherType,
                      "\(describeSource()) sent a frame with unknown EtherType \(hex(type)) in packet \(work.reference.number)",
                      details: ["ethertype": .string(hex(type))])
            }
        }
    }

    func decodeLoopback(_ bytes: UnsafeRawBufferPointer, isAlwaysBigEndian: Bool, end: Int) {
        guard let header = LoopbackHeader(bytes, isAlwaysBigEndian: isAlwaysBigEndian) else {
            reportTruncated(DecodingCatalogue.nullTruncated, header: "loopback", minimum: LoopbackHeader.length,
                            at: 0, end: end, in: bytes)
            return
        }
        statistics.loopback += 1
        switch header.family {
        case .ipv4:
            work.etherType = EtherType.ipv4
            decodeIPv4(bytes, at: LoopbackHeader.length, end: end, depth: 0)
        case .ipv6:
            work.etherType = EtherType.ipv6
            decodeIPv6(bytes, at: LoopbackHeader.length, end: end, depth: 0)
        case .other(let family):
            work.network = .other(UInt16(truncatingIfNeeded: family))
        }
    }

    func decodeRawIP(_ bytes: UnsafeRawBufferPointer, expectedVersion: UInt8?, end: Int) {
        guard let first = bytes.byte(at: 0) else {
            reportTruncated(DecodingCatalogue.ipv4Truncated, header: "IP", minimum: 1, at: 0, end: end, in: bytes)
            return
        }
        let version = expectedVersion ?? (first >> 4)
        switch version {
        case 6:
            work.etherType = EtherType.ipv6
            decodeIPv6(bytes, at: 0, end: end, depth: 0)
        case 4:
            work.etherType = EtherType.ipv4
            decodeIPv4(bytes, at: 0, end: end, depth: 0)
        default:
            raise(DecodingCatalogue.ipv4VersionMismatch,
                  "Raw IP packet \(work.reference.number) has IP version \(first >> 4); only 4 and 6 exist",
                  details: ["version": .int(Int(first >> 4))])
        }
    }

    func decodeLinuxCooked(_ bytes: UnsafeRawBufferPointer, end: Int) {
        guard let header = LinuxCookedHeader(bytes) else {
            reportTruncated(DecodingCatalogue.sllTruncated, header: "Linux cooked-mode", minimum: LinuxCookedHeader.length,
                            at: 0, end: end, in: bytes)
            return
        }
        statistics.linuxCooked += 1
        work.sourceMAC = header.sourceMAC
        decodeCookedProtocol(header.protocolType, bytes, at: LinuxCookedHeader.length, end: end)
    }

    func decodeLinuxCookedV2(_ bytes: UnsafeRawBufferPointer, end: Int) {
        guard let header = LinuxCookedV2Header(bytes) else {
            reportTruncated(DecodingCatalogue.sllTruncated, header: "Linux cooked-mode v2", minimum: LinuxCookedV2Header.length,
                            at: 0, end: end, in: bytes)
            return
        }
        statistics.linuxCooked += 1
        work.sourceMAC = header.sourceMAC
        decodeCookedProtocol(header.protocolType, bytes, at: LinuxCookedV2Header.length, end: end)
    }

    /// Linux cooked captures use protocol values below 0x0600 for pseudo-protocols (802.2 LLC,
    /// CAN, raw 802.3) that carry no EtherType, so those end decoding without an anomaly.
    private func decodeCookedProtocol(_ type: UInt16, _ bytes: UnsafeRawBufferPointer, at offset: Int, end: Int) {
        guard type > EthernetHeader.maxPayloadLength else {
            work.network = .other(type)
            return
        }
        decodeEtherType(type, bytes, at: offset, end: end, depth: 0)
    }
}
