import WirecheckCore

extension PacketDecoder {
    /// Decodes the layer above IP. `end` is the payload end that the IP length fields give,
    /// and it may lie past the captured bytes when the snapshot length cut the packet.
    func decodeTransport(_ protocolNumber: UInt8, _ bytes: UnsafeRawBufferPointer, at offset: Int, end: Int, depth: Int) {
        work.ipProtocol = protocolNumber
        switch protocolNumber {
        case IPProtocolNumber.tcp:
            decodeTCP(bytes, at: offset, end: end)
        case IPProtocolNumber.udp:
            decodeUDP(bytes, at: offset, end: end, depth: depth)
        case IPProtocolNumber.icmp:
            decodeICMP(bytes, at: offset, end: end, isICMPv6: false)
        case IPProtocolNumber.icmpv6:
            decodeICMP(bytes, at: offset, end: end, isICMPv6: true)
        case GREHeader.ipProtocolNumber:
            decodeGRE(bytes, at: offset, end: end, depth: depth)
        case PacketDecoder.ipInIPProtocol:
            decodeTunnelPayload(EtherType.ipv4, bytes, at: offset, end: end, depth: depth)
        case PacketDecoder.ipv6InIPProtocol:
            decodeTunnelPayload(EtherType.ipv6, bytes, at: offset, end: end, depth: depth)
        default:
            statistics.otherIPProtocol += 1
        }
    }

    func setPayload(from start: Int, to end: Int, in bytes: UnsafeRawBufferPointer) {
        work.payloadOffset = start
        work.payloadLength = max(0, min(end, bytes.count) - start)
    }

    func decodeTCP(_ bytes: UnsafeRawBufferPointer, at offset: Int, end: Int) {
        let segment = bytes.clampedSlice(from: offset, to: end)
        guard let tcp = TCPHeader(segment) else {
            reportTruncated(DecodingCatalogue.tcpTruncated, header: "TCP", minimum: TCPHeader.minimumLength,
                            at: offset, end: end, in: bytes)
            return
        }
        work.sourcePort = tcp.sourcePort
        work.destinationPort = tcp.destinationPort
        portsKnown = true

        let headerLength = tcp.headerLength
        guard headerLength >= TCPHeader.minimumLength else {
            raise(DecodingCatalogue.tcpDataOffsetInvalid,
                  "TCP data offset \(tcp.dataOffsetWords) (\(headerLength) bytes) is below the 20-byte minimum in packet \(work.reference.number) from \(work.sourceIP)",
                  details: ["data_offset": .int(Int(tcp.dataOffsetWords))])
            return
        }
        guard offset + headerLength <= end else {
            raise(DecodingCatalogue.tcpDataOffsetInvalid,
                  "TCP data offset \(tcp.dataOffsetWords) (\(headerLength) bytes) runs past the \(end - offset)-byte segment in packet \(work.reference.number) from \(work.sourceIP)",
                  details: ["data_offset": .int(Int(tcp.dataOffsetWords))])
            return
        }
        guard headerLength <= segment.count else {
            noteSnapshotCut()
            return
        }
        statistics.tcp += 1

        var fields = TCPFields()
        fields.sequence = tcp.sequence
        fields.acknowledgement = tcp.acknowledgement
        fields.flags = tcp.flags
        fields.window = tcp.window
        fields.urgentPointer = tcp.urgentPointer
        fields.headerLength = headerLength
        readOptions(tcp.options, into: &fields)
        work.tcp = fields
        work.hasTransport = true
        setPayload(from: offset + headerLength, to: end, in: bytes)

        checkFlags(fields.flags)
        if tcp.sourcePort == 0 || tcp.destinationPort == 0 {
            raise(DecodingCatalogue.tcpPortZero,
                  "\(work.sourceIP) port \(tcp.sourcePort) sent a TCP segment to \(work.destinationIP) port \(tcp.destinationPort); port 0 is reserved (packet \(work.reference.number))")
        }
        if verifyChecksums, end <= bytes.count, !ipLengthInvalid {
            let sum = InternetChecksum.pseudoHeaderSum(source: work.sourceIP, destination: work.destinationIP,
                                                      protocol: IPProtocolNumber.tcp, length: segment.count)
            if InternetChecksum.finish(InternetChecksum.add(segment, to: sum)) != 0 {
                raise(DecodingCatalogue.tcpChecksumInvalid,
                      "TCP checksum \(hex(tcp.checksum)) is wrong in packet \(work.reference.number) from \(work.sourceIP) port \(tcp.sourcePort) to \(work.destinationIP) port \(tcp.destinationPort)",
                      details: ["checksum": .string(hex(tcp.checksum))])
            }
        }
    }

    private func readOptions(_ options: TCPOptionIterator, into fields: inout TCPFields) {
        for option in options {
            switch option {
            case .maximumSegmentSize(let size):
                fields.maximumSegmentSize = size
            case .windowScale(let shift):
                fields.windowScale = shift
                if shift > 14 {
                    raise(DecodingCatalogue.tcpWindowScaleInvalid,
                          "\(work.sourceIP) port \(work.sourcePort) sent TCP window scale \(shift), above the maximum of 14, in packet \(work.reference.number)",
                          details: ["window_scale": .int(Int(shift))])
                }
            case .sackPermitted:
                fields.sackPermitted = true
            case .timestamps(let value, let echo):
                fields.timestampValue = value
                fields.timestampEcho = echo
            case .invalidLength(let kind, let length):
                raise(DecodingCatalogue.tcpOptionLengthInvalid,
                      "TCP option kind \(kind) has invalid length \(length) in packet \(work.reference.number) from \(work.sourceIP) port \(work.sourcePort)",
                      details: ["option_kind": .int(Int(kind)), "option_length": .int(length)])
            case .endOfOptionList, .noOperation, .sack, .fastOpen, .unknown:
                break
            }
        }
    }

    /// Flag combinations checked on every segment, built once because an option-set array
    /// literal allocates an array each time it is evaluated.
    private static let synFin: TCPFlags = [.syn, .fin]
    private static let synRst: TCPFlags = [.syn, .rst]
    private static let finPshUrg: TCPFlags = [.fin, .psh, .urg]
    private static let synRstAck: TCPFlags = [.syn, .rst, .ack]

    private func checkFlags(_ flags: TCPFlags) {
        if flags.isSuperset(of: PacketDecoder.synFin) {
            raise(DecodingCatalogue.tcpFlagsSynFin, "TCP segment with both SYN and FIN set \(describeSegment())")
        }
        if flags.isSuperset(of: PacketDecoder.synRst) {
            raise(DecodingCatalogue.tcpFlagsSynRst, "TCP segment with both SYN and RST set \(describeSegment())")
        }
        if flags.isEmpty {
            raise(DecodingCatalogue.tcpFlagsNone, "TCP segment with no flags set (NULL scan) \(describeSegment())")
        }
        if flags.isSuperset(of: PacketDecoder.finPshUrg), flags.isDisjoint(with: PacketDecoder.synRstAck) {
            raise(DecodingCatalogue.tcpFlagsFinPshUrg, "TCP segment with FIN, PSH and URG set (Xmas scan) \(describeSegment())")
        }
    }

    private func describeSegment() -> String {
        "in packet \(work.reference.number) from \(work.sourceIP) port \(work.sourcePort) to \(work.destinationIP) port \(work.destinationPort)"
    }

    func decodeUDP(_ bytes: UnsafeRawBufferPointer, at offset: Int, end: Int, depth: Int) {
        let region = bytes.clampedSlice(from: offset, to: end)
        guard let udp = UDPHeader(region) else {
            reportTruncated(DecodingCatalogue.udpTruncated, header: "UDP", minimum: UDPHeader.length,
                            at: offset, end: end, in: bytes)
            return
        }
        work.sourcePort = udp.sourcePort
        work.destinationPort = udp.destinationPort
        portsKnown = true

        let length = Int(udp.length)
        guard length >= UDPHeader.length else {
            raise(DecodingCatalogue.udpLengthInvalid,
                  "UDP length \(length) is below the 8-byte header in packet \(work.reference.number) from \(work.sourceIP) port \(udp.sourcePort)",
                  details: ["length": .int(length)])
            return
        }
        guard offset + length <= end else {
            raise(DecodingCatalogue.udpLengthInvalid,
                  "UDP length \(length) is larger than the \(end - offset) bytes the IP layer carries in packet \(work.reference.number) from \(work.sourceIP) port \(udp.sourcePort)",
                  details: ["length": .int(length)])
            return
        }
        statistics.udp += 1
        let datagramEnd = offset + length
        work.hasTransport = true
        setPayload(from: offset + UDPHeader.length, to: datagramEnd, in: bytes)

        if udp.sourcePort == 0 || udp.destinationPort == 0 {
            raise(DecodingCatalogue.udpPortZero,
                  "\(work.sourceIP) port \(udp.sourcePort) sent a UDP datagram to \(work.destinationIP) port \(udp.destinationPort); port 0 is reserved (packet \(work.reference.number))")
        }
        // A zero checksum means "none" over IPv4, and RFC 6935 allows it over IPv6 for tunnels.
        if verifyChecksums, udp.checksum != 0, datagramEnd <= bytes.count, !ipLengthInvalid {
            let datagram = bytes.clampedSlice(from: offset, to: datagramEnd)
            let sum = InternetChecksum.pseudoHeaderSum(source: work.sourceIP, destination: work.destinationIP,
                                                      protocol: IPProtocolNumber.udp, length: length)
            if InternetChecksum.finish(InternetChecksum.add(datagram, to: sum)) != 0 {
                raise(DecodingCatalogue.udpChecksumInvalid,
                      "UDP checksum \(hex(udp.checksum)) is wrong in packet \(work.reference.number) from \(work.sourceIP) port \(udp.sourcePort) to \(work.destinationIP) port \(udp.destinationPort)",
                      details: ["checksum": .string(hex(udp.checksum))])
            }
        }

        switch udp.destinationPort {
        case VXLANHeader.udpPort:
            decodeVXLAN(bytes, at: offset + UDPHeader.length, end: datagramEnd, depth: depth)
        case GeneveHeader.udpPort:
            decodeGeneve(bytes, at: offset + UDPHeader.length, end: datagramEnd, depth: depth)
        default:
            break
        }
    }

    func decodeICMP(_ bytes: UnsafeRawBufferPointer, at offset: Int, end: Int, isICMPv6: Bool) {
        guard let icmp = ICMPHeader(bytes.clampedSlice(from: offset, to: end)) else {
            reportTruncated(isICMPv6 ? DecodingCatalogue.icmpv6Truncated : DecodingCatalogue.icmpTruncated,
                            header: isICMPv6 ? "ICMPv6" : "ICMP", minimum: ICMPHeader.length, at: offset, end: end, in: bytes)
            return
        }
        if isICMPv6 { statistics.icmpv6 += 1 } else { statistics.icmp += 1 }
        work.icmpType = icmp.type
        work.icmpCode = icmp.code
        let isEcho = isICMPv6 ? (icmp.type == 128 || icmp.type == 129) : (icmp.type == 8 || icmp.type == 0)
        if isEcho {
            work.icmpIdentifier = icmp.identifier
            work.icmpSequence = icmp.sequenceNumber
        }
        work.hasTransport = true
        setPayload(from: offset + ICMPHeader.length, to: end, in: bytes)
    }

    // MARK: Tunnels

    /// Clears the transport fields of the outer packet before decoding the inner one, so the
    /// result describes the innermost packet only. Returns false when the tunnel is too deep.
    private func enterTunnel(depth: Int) -> Bool {
        guard depth < PacketDecoder.maxTunnelDepth else {
            statistics.tunnelDepthExceeded += 1
            return false
        }
        work.tunnelDepth = depth + 1
        work.hasTransport = false
        work.tcp = nil
        work.sourcePort = 0
        work.destinationPort = 0
        work.payloadOffset = 0
        work.payloadLength = 0
        portsKnown = false
        return true
    }

    func decodeGRE(_ bytes: UnsafeRawBufferPointer, at offset: Int, end: Int, depth: Int) {
        guard let gre = GREHeader(bytes.clampedSlice(from: offset, to: end)) else {
            reportTruncated(DecodingCatalogue.greTruncated, header: "GRE", minimum: GREHeader.minimumLength,
                            at: offset, end: end, in: bytes)
            return
        }
        statistics.gre += 1
        // Version 1 carries PPP for PPTP, and RFC 1701 source routing is obsolete, so neither
        // leads to a packet Wirecheck decodes.
        guard gre.version == 0, !gre.hasRouting else { return }
        let inner = offset + gre.headerLength
        guard inner <= min(end, bytes.count) else {
            reportTruncated(DecodingCatalogue.greTruncated, header: "GRE", minimum: gre.headerLength,
                            at: offset, end: end, in: bytes)
            return
        }
        decodeTunnelPayload(gre.protocolType, bytes, at: inner, end: end, depth: depth)
    }

    func decodeVXLAN(_ bytes: UnsafeRawBufferPointer, at offset: Int, end: Int, depth: Int) {
        guard let vxlan = VXLANHeader(bytes.clampedSlice(from: offset, to: end)) else {
            reportTruncated(DecodingCatalogue.vxlanTruncated, header: "VXLAN", minimum: VXLANHeader.length,
                            at: offset, end: end, in: bytes)
            return
        }
        // Without the I flag the datagram is some other protocol on port 4789, and decoding
        // its bytes as Ethernet would only raise false anomalies.
        guard vxlan.hasValidIdentifier else { return }
        statistics.vxlan += 1
        decodeTunnelPayload(EtherType.transparentEthernetBridging, bytes, at: offset + VXLANHeader.length, end: end,
                            depth: depth)
    }

    func decodeGeneve(_ bytes: UnsafeRawBufferPointer, at offset: Int, end: Int, depth: Int) {
        guard let geneve = GeneveHeader(bytes.clampedSlice(from: offset, to: end)) else {
            reportTruncated(DecodingCatalogue.geneveTruncated, header: "Geneve", minimum: GeneveHeader.minimumLength,
                            at: offset, end: end, in: bytes)
            return
        }
        statistics.geneve += 1
        guard geneve.version == 0 else { return }
        let inner = offset + geneve.headerLength
        guard inner <= min(end, bytes.count) else {
            reportTruncated(DecodingCatalogue.geneveTruncated, header: "Geneve", minimum: geneve.headerLength,
                            at: offset, end: end, in: bytes)
            return
        }
        decodeTunnelPayload(geneve.protocolType, bytes, at: inner, end: end, depth: depth)
    }

    /// Decodes the packet a tunnel carries: an Ethernet frame, or an IP packet named by EtherType.
    private func decodeTunnelPayload(_ type: UInt16, _ bytes: UnsafeRawBufferPointer, at offset: Int, end: Int,
                                     depth: Int) {
        switch type {
        case EtherType.transparentEthernetBridging:
            guard enterTunnel(depth: depth) else { return }
            decodeEthernet(bytes, at: offset, end: end, depth: depth + 1)
        case EtherType.ipv4, EtherType.ipv6, EtherType.vlan, EtherType.serviceVLAN, EtherType.arp:
            guard enterTunnel(depth: depth) else { return }
            decodeEtherType(type, bytes, at: offset, end: end, depth: depth + 1)
        default:
            // PPP, MPLS and others inside a tunnel are counted, not flagged, because the outer
            // packet is valid.
            statistics.undecodedEtherTypes[type, default: 0] += 1
        }
    }
}
