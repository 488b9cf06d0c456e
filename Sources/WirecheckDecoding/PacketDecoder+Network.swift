import WirecheckCore

extension PacketDecoder {
    func decodeARP(_ bytes: UnsafeRawBufferPointer, at offset: Int, end: Int) {
        let region = bytes.clampedSlice(from: offset, to: end)
        guard let arp = ARPPacket(region) else {
            reportTruncated(DecodingCatalogue.arpTruncated, header: "ARP", minimum: ARPPacket.fixedLength,
                            at: offset, end: end, in: bytes)
            return
        }
        statistics.arp += 1
        work.network = .arp
        if arp.hardwareType == 1, arp.protocolType == EtherType.ipv4, !arp.isEthernetIPv4 {
            raise(DecodingCatalogue.arpInvalid,
                  "\(describeSource()) sent an Ethernet/IPv4 ARP packet with hardware size \(arp.hardwareSize) and protocol size \(arp.protocolSize) (expected 6 and 4) in packet \(work.reference.number)",
                  details: ["hardware_size": .int(Int(arp.hardwareSize)), "protocol_size": .int(Int(arp.protocolSize))])
            return
        }
        guard arp.announcedLength <= region.count else {
            reportTruncated(DecodingCatalogue.arpTruncated, header: "ARP", minimum: arp.announcedLength,
                            at: offset, end: end, in: bytes)
            return
        }
        work.arp = arp.ethernetIPv4Fields
    }

    func decodeIPv4(_ bytes: UnsafeRawBufferPointer, at offset: Int, end: Int, depth: Int) {
        let region = bytes.clampedSlice(from: offset, to: end)
        guard let ip = IPv4Header(region) else {
            reportTruncated(DecodingCatalogue.ipv4Truncated, header: "IPv4", minimum: IPv4Header.minimumLength,
                            at: offset, end: end, in: bytes)
            return
        }
        guard ip.version == 4 else {
            raise(DecodingCatalogue.ipv4VersionMismatch,
                  "\(describeSource()) sent an IPv4 frame whose IP version field is \(ip.version) in packet \(work.reference.number)",
                  details: ["version": .int(Int(ip.version))])
            return
        }
        statistics.ipv4 += 1
        work.network = .ipv4
        work.sourceIP = .v4(ip.source)
        work.destinationIP = .v4(ip.destination)
        work.ipProtocol = ip.protocolNumber
        work.ttl = ip.ttl
        work.ipIdentification = UInt32(ip.identification)
        addressesKnown = true

        let headerLength = ip.headerLength
        guard headerLength >= IPv4Header.minimumLength else {
            raise(DecodingCatalogue.ipv4HeaderLengthInvalid,
                  "IPv4 header length \(ip.headerLengthWords) (\(headerLength) bytes) is below the 20-byte minimum in packet \(work.reference.number) from \(work.sourceIP)",
                  details: ["header_length": .int(headerLength)])
            return
        }
        guard headerLength <= region.count else {
            if offset + headerLength <= end, offset + headerLength > bytes.count {
                noteSnapshotCut()
            } else {
                raise(DecodingCatalogue.ipv4HeaderLengthInvalid,
                      "IPv4 header length \(ip.headerLengthWords) (\(headerLength) bytes) runs past the \(region.count) bytes of packet \(work.reference.number) from \(work.sourceIP)",
                      details: ["header_length": .int(headerLength)])
            }
            return
        }

        let totalLength = Int(ip.totalLength)
        guard totalLength >= headerLength else {
            raise(DecodingCatalogue.ipv4TotalLengthInvalid,
                  "IPv4 total length \(totalLength) is below the \(headerLength)-byte header in packet \(work.reference.number) from \(work.sourceIP)",
                  details: ["total_length": .int(totalLength)])
            return
        }
        // The datagram ends at its total length, and trailing bytes (Ethernet padding) are
        // ignored. A total length past the wire length is a lying field. A total length past
        // only the captured bytes means the snapshot length cut the packet.
        var datagramEnd = offset + totalLength
        if datagramEnd > end {
            raise(DecodingCatalogue.ipv4TotalLengthInvalid,
                  "IPv4 total length \(totalLength) is larger than the \(end - offset) bytes on the wire in packet \(work.reference.number) from \(work.sourceIP)",
                  details: ["total_length": .int(totalLength)])
            datagramEnd = end
            ipLengthInvalid = true
        }
        if datagramEnd > bytes.count {
            work.payloadMissing = datagramEnd - bytes.count
            noteSnapshotCut()
        }

        if verifyChecksums, !ip.isChecksumValid {
            raise(DecodingCatalogue.ipv4ChecksumInvalid,
                  "IPv4 header checksum \(hex(ip.checksum)) is wrong in packet \(work.reference.number) from \(work.sourceIP) to \(work.destinationIP)",
                  details: ["checksum": .string(hex(ip.checksum))])
        }

        let payloadStart = offset + headerLength
        if ip.isFragment {
            let key = FragmentKey(source: work.sourceIP, destination: work.destinationIP,
                                  identification: UInt32(ip.identification), protocolNumber: ip.protocolNumber, isIPv6: false)
            reassemble(key: key, fragmentOffset: ip.fragmentOffset, moreFragments: ip.moreFragments,
                       upperProtocol: ip.protocolNumber, bytes: bytes, from: payloadStart, to: datagramEnd, depth: depth)
            return
        }
        decodeTransport(ip.protocolNumber, bytes, at: payloadStart, end: datagramEnd, depth: depth)
    }

    func decodeIPv6(_ bytes: UnsafeRawBufferPointer, at offset: Int, end: Int, depth: Int) {
        let region = bytes.clampedSlice(from: offset, to: end)
        guard let ip = IPv6Header(region) else {
            reportTruncated(DecodingCatalogue.ipv6Truncated, header: "IPv6", minimum: IPv6Header.length,
                            at: offset, end: end, in: bytes)
            return
        }
        guard ip.version == 6 else {
            raise(DecodingCatalogue.ipv6VersionMismatch,
                  "\(describeSource()) sent an IPv6 frame whose IP version field is \(ip.version) in packet \(work.reference.number)",
                  details: ["version": .int(Int(ip.version))])
            return
        }
        statistics.ipv6 += 1
        work.network = .ipv6
        work.sourceIP = ip.source
        work.destinationIP = ip.destination
        work.ipProtocol = ip.nextHeader
        work.ttl = ip.hopLimit
        addressesKnown = true

        var datagramEnd = offset + IPv6Header.length + Int(ip.payloadLength)
        if ip.payloadLength == 0, ip.nextHeader == IPv6ExtensionHeaderNumber.hopByHop {
            // A jumbogram (RFC 2675) carries its length in a hop-by-hop option; take the frame's.
            datagramEnd = end
        } else if datagramEnd > end {
            raise(DecodingCatalogue.ipv6PayloadLengthInvalid,
                  "IPv6 payload length \(ip.payloadLength) is larger than the \(end - offset - IPv6Header.length) bytes on the wire in packet \(work.reference.number) from \(work.sourceIP)",
                  details: ["payload_length": .int(Int(ip.payloadLength))])
            datagramEnd = end
            ipLengthInvalid = true
        }
        if datagramEnd > bytes.count {
            work.payloadMissing = datagramEnd - bytes.count
            noteSnapshotCut()
        }
        decodeIPv6Chain(ip.nextHeader, bytes, at: offset + IPv6Header.length, end: datagramEnd, depth: depth,
                        headersWalked: 0)
    }

    /// Walks IPv6 extension headers from `offset`, then decodes the upper layer.
    func decodeIPv6Chain(_ firstHeader: UInt8, _ bytes: UnsafeRawBufferPointer, at offset: Int, end: Int, depth: Int,
                         headersWalked: Int) {
        var next = firstHeader
        var cursor = offset
        var walked = headersWalked
        while true {
            switch next {
            case IPv6ExtensionHeaderNumber.hopByHop, IPv6ExtensionHeaderNumber.routing,
                 IPv6ExtensionHeaderNumber.destinationOptions, IPv6ExtensionHeaderNumber.authentication:
                walked += 1
                guard walked <= PacketDecoder.maxIPv6ExtensionHeaders else {
                    raise(DecodingCatalogue.ipv6ExtensionHeaderInvalid,
                          "IPv6 packet \(work.reference.number) from \(work.sourceIP) chains more than \(PacketDecoder.maxIPv6ExtensionHeaders) extension headers",
                          details: ["header": .int(Int(next))])
                    return
                }
                let header = IPv6ExtensionHeader(bytes.clampedSlice(from: cursor, to: end), headerNumber: next)
                let length = header?.length ?? 2
                guard let header, cursor + length <= end else {
                    raise(DecodingCatalogue.ipv6ExtensionHeaderInvalid,
                          "IPv6 extension header \(next) (\(length) bytes at offset \(cursor)) runs past the payload in packet \(work.reference.number) from \(work.sourceIP)",
                          details: ["header": .int(Int(next))])
                    return
                }
                guard cursor + length <= bytes.count else {
                    noteSnapshotCut()
                    return
                }
                next = header.nextHeader
                cursor += length
            case IPv6ExtensionHeaderNumber.fragment:
                guard cursor + IPv6FragmentHeader.length <= end else {
                    raise(DecodingCatalogue.ipv6ExtensionHeaderInvalid,
                          "IPv6 fragment header at offset \(cursor) runs past the payload in packet \(work.reference.number) from \(work.sourceIP)",
                          details: ["header": .int(Int(next))])
                    return
                }
                guard let fragment = IPv6FragmentHeader(bytes.clampedSlice(from: cursor, to: end)) else {
                    noteSnapshotCut()
                    return
                }
                walked += 1
                cursor += IPv6FragmentHeader.length
                work.ipIdentification = fragment.identification
                if fragment.fragmentOffset == 0, !fragment.moreFragments {
                    // An atomic fragment (RFC 6946) is a whole datagram; decode straight on.
                    next = fragment.nextHeader
                    continue
                }
                let key = FragmentKey(source: work.sourceIP, destination: work.destinationIP,
                                      identification: fragment.identification, protocolNumber: 0, isIPv6: true)
                reassemble(key: key, fragmentOffset: fragment.fragmentOffset, moreFragments: fragment.moreFragments,
                           upperProtocol: fragment.nextHeader, bytes: bytes, from: cursor, to: end, depth: depth)
                return
            case IPv6ExtensionHeaderNumber.encapsulatingSecurityPayload, IPv6ExtensionHeaderNumber.noNextHeader:
                work.ipProtocol = next
                statistics.ipv6WithoutUpperLayer += 1
                return
            default:
                decodeTransport(next, bytes, at: cursor, end: end, depth: depth)
                return
            }
        }
    }

    /// Adds one fragment to its datagram and, when that completes it, decodes the upper layer
    /// from the reassembled payload.
    func reassemble(key: FragmentKey, fragmentOffset: Int, moreFragments: Bool, upperProtocol: UInt8,
                    bytes: UnsafeRawBufferPointer, from start: Int, to end: Int, depth: Int) {
        statistics.fragments += 1
        work.isFragment = true
        work.ipProtocol = upperProtocol
        guard end <= bytes.count else {
            // The snapshot length cut this fragment, so its datagram can never be completed.
            return
        }
        let result = reassembler.insert(key: key, offset: fragmentOffset, payload: bytes.clampedSlice(from: start, to: end),
                                        moreFragments: moreFragments, upperProtocol: upperProtocol, now: work.timestamp)
        if result.overlapped { statistics.fragmentOverlaps += 1 }
        if result.overlapDifferentData {
            let definition = key.isIPv6 ? DecodingCatalogue.ipv6FragmentOverlapDifferentData
                                        : DecodingCatalogue.ipv4FragmentOverlapDifferentData
            raise(definition,
                  "\(work.sourceIP) sent a fragment (identification \(key.identification), offset \(fragmentOffset)) to \(work.destinationIP) that overlaps earlier fragments with different bytes in packet \(work.reference.number)",
                  details: ["identification": .int(Int(key.identification)), "fragment_offset": .int(fragmentOffset)])
        }
        switch result.outcome {
        case .incomplete:
            return
        case .limitReached(let reason):
            statistics.fragmentLimitOverruns += 1
            if !fragmentLimitRaised {
                fragmentLimitRaised = true
                raise(DecodingCatalogue.ipFragmentLimitReached,
                      "Fragment reassembly dropped a fragment from \(work.sourceIP) to \(work.destinationIP) in packet \(work.reference.number) because \(reason); later drops are only counted in the statistics")
            }
        case .complete(let protocolNumber, let length):
            statistics.reassembledDatagrams += 1
            work.isFragment = false
            work.isReassembled = true
            work.payloadMissing = 0
            missingAtEnd = 0
            let datagram = UnsafeRawBufferPointer(reassembler.output)
            if key.isIPv6 {
                decodeIPv6Chain(protocolNumber, datagram, at: 0, end: length, depth: depth, headersWalked: 1)
            } else {
                decodeTransport(protocolNumber, datagram, at: 0, end: length, depth: depth)
            }
        }
    }

    /// Raises `decoder.ip.same_source_destination` for a LAND-style packet: source and
    /// destination address equal and, for TCP and UDP, the ports equal too. Hosts reach their
    /// own addresses over the loopback interface, so loopback and unspecified addresses, and
    /// frames with all-zero MAC addresses (how Linux presents loopback traffic), are exempt.
    func checkSameSourceDestination() {
        guard addressesKnown, work.sourceIP == work.destinationIP else { return }
        if work.sourceMAC == MACAddress.zero && work.destinationMAC == MACAddress.zero { return }
        switch work.sourceIP {
        case .v4(let address):
            if address >> 24 == 127 || address == 0 { return }
        case .v6(let high, let low):
            if high == 0 && (low == 1 || low == 0) { return }
        }
        if portsKnown, work.ipProtocol == IPProtocolNumber.tcp || work.ipProtocol == IPProtocolNumber.udp,
           work.sourcePort != work.destinationPort {
            return
        }
        raise(DecodingCatalogue.ipSameSourceDestination,
              "\(work.sourceIP) sent a packet with itself as the destination address\(portsKnown ? " and port \(work.sourcePort)" : "") in packet \(work.reference.number)")
    }
}
