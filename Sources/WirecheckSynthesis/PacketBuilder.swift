import WirecheckCore

/// Builds complete frames with correct lengths and checksums, for tests, the demo capture and
/// the benchmark workload.
///
/// Every build method clears one internal buffer, writes the frame into it and returns it.
/// The returned array shares storage with the builder: drop it before the next call and the
/// builder reuses its memory, keep it and the next call allocates a fresh buffer.
/// Pass `link: nil` for a raw IP packet without an Ethernet header.
public struct PacketBuilder {
    public static let etherTypeIPv4: UInt16 = 0x0800
    public static let etherTypeIPv6: UInt16 = 0x86DD
    public static let etherTypeARP: UInt16 = 0x0806
    static let tpidCustomerVLAN: UInt16 = 0x8100
    static let tpidServiceVLAN: UInt16 = 0x88A8

    var buffer: [UInt8] = []

    public init(capacity: Int = 2048) {
        buffer.reserveCapacity(capacity)
    }

    // MARK: Link layer and ARP

    /// Builds an Ethernet frame carrying `payload` as `etherType`.
    public mutating func ethernetFrame(_ link: EthernetSpec, etherType: UInt16, payload: [UInt8]) -> [UInt8] {
        buffer.removeAll(keepingCapacity: true)
        writeEthernet(link, etherType: etherType)
        buffer.append(contentsOf: payload)
        return buffer
    }

    /// Builds an Ethernet/IPv4 ARP packet. `operation` is 1 for a request and 2 for a reply.
    public mutating func arp(_ link: EthernetSpec, operation: UInt16, senderMAC: MACAddress, senderIP: IPAddress,
                             targetMAC: MACAddress, targetIP: IPAddress) -> [UInt8] {
        buffer.removeAll(keepingCapacity: true)
        writeEthernet(link, etherType: PacketBuilder.etherTypeARP)
        appendUInt16(1)
        appendUInt16(PacketBuilder.etherTypeIPv4)
        buffer.append(6)
        buffer.append(4)
        appendUInt16(operation)
        appendMAC(senderMAC)
        appendAddress(senderIP)
        appendMAC(targetMAC)
        appendAddress(targetIP)
        return buffer
    }

    /// Builds a broadcast "who has `targetIP`" request.
    public mutating func arpRequest(senderMAC: MACAddress, senderIP: IPAddress, targetIP: IPAddress) -> [UInt8] {
        arp(EthernetSpec(source: senderMAC, destination: .broadcast), operation: 1, senderMAC: senderMAC,
            senderIP: senderIP, targetMAC: .zero, targetIP: targetIP)
    }

    /// Builds a unicast reply "`senderIP` is at `senderMAC`" to the requester.
    public mutating func arpReply(senderMAC: MACAddress, senderIP: IPAddress, targetMAC: MACAddress,
                                  targetIP: IPAddress) -> [UInt8] {
        arp(EthernetSpec(source: senderMAC, destination: targetMAC), operation: 2, senderMAC: senderMAC,
            senderIP: senderIP, targetMAC: targetMAC, targetIP: targetIP)
    }

    /// Builds a gratuitous ARP: a broadcast request in which a host announces its own address.
    public mutating func gratuitousARP(senderMAC: MACAddress, senderIP: IPAddress) -> [UInt8] {
        arp(EthernetSpec(source: senderMAC, destination: .broadcast), operation: 1, senderMAC: senderMAC,
            senderIP: senderIP, targetMAC: .zero, targetIP: senderIP)
    }

    // MARK: IP and transport

    /// Builds an IP packet carrying `payload` as IP protocol `protocolNumber`, with no
    /// transport checksum.
    public mutating func ipPacket(_ link: EthernetSpec?, ip: IPSpec, protocolNumber: UInt8, payload: [UInt8]) -> [UInt8] {
        buffer.removeAll(keepingCapacity: true)
        _ = writeIP(link, ip, protocolNumber: protocolNumber, upperLength: payload.count)
        buffer.append(contentsOf: payload)
        return buffer
    }

    /// Builds a TCP segment with its checksum.
    public mutating func tcp(_ link: EthernetSpec?, ip: IPSpec, tcp: TCPSpec, payload: [UInt8] = []) -> [UInt8] {
        buffer.removeAll(keepingCapacity: true)
        let optionsLength = PacketBuilder.paddedLength(of: tcp.options)
        let segmentLength = 20 + optionsLength + payload.count
        _ = writeIP(link, ip, protocolNumber: IPProtocolNumber.tcp, upperLength: segmentLength)
        let start = buffer.count
        appendUInt16(tcp.sourcePort)
        appendUInt16(tcp.destinationPort)
        appendUInt32(tcp.sequence)
        appendUInt32(tcp.acknowledgement)
        let dataOffset = UInt16((20 + optionsLength) / 4)
        appendUInt16(dataOffset << 12 | (tcp.flags.rawValue & 0x01ff))
        appendUInt16(tcp.window)
        appendUInt16(0)
        appendUInt16(tcp.urgentPointer)
        writeOptions(tcp.options, paddedTo: optionsLength)
        buffer.append(contentsOf: payload)
        storeTransportChecksum(ip, protocolNumber: IPProtocolNumber.tcp, start: start, checksumOffset: 16)
        return buffer
    }

    /// Builds a UDP datagram with its checksum.
    public mutating func udp(_ link: EthernetSpec?, ip: IPSpec, sourcePort: UInt16, destinationPort: UInt16,
                             payload: [UInt8] = []) -> [UInt8] {
        buffer.removeAll(keepingCapacity: true)
        let length = 8 + payload.count
        _ = writeIP(link, ip, protocolNumber: IPProtocolNumber.udp, upperLength: length)
        let start = buffer.count
        appendUInt16(sourcePort)
        appendUInt16(destinationPort)
        appendUInt16(UInt16(truncatingIfNeeded: length))
        appendUInt16(0)
        buffer.append(contentsOf: payload)
        storeTransportChecksum(ip, protocolNumber: IPProtocolNumber.udp, start: start, checksumOffset: 6)
        // RFC 768: a computed checksum of zero is sent as all ones, because zero means "none".
        if buffer[start + 6] == 0 && buffer[start + 7] == 0 {
            buffer[start + 6] = 0xff
            buffer[start + 7] = 0xff
        }
        return buffer
    }

    /// Builds an ICMP message (ICMPv6 when `ip` is IPv6) with its checksum. `rest` is the
    /// 4-byte type-specific field, which holds identifier and sequence number for echo messages.
    public mutating func icmp(_ link: EthernetSpec?, ip: IPSpec, type: UInt8, code: UInt8, rest: UInt32 = 0,
                              payload: [UInt8] = []) -> [UInt8] {
        buffer.removeAll(keepingCapacity: true)
        let isV6 = !ip.source.isV4
        let protocolNumber = isV6 ? IPProtocolNumber.icmpv6 : IPProtocolNumber.icmp
        _ = writeIP(link, ip, protocolNumber: protocolNumber, upperLength: 8 + payload.count)
        let start = buffer.count
        buffer.append(type)
        buffer.append(code)
        appendUInt16(0)
        appendUInt32(rest)
        buffer.append(contentsOf: payload)
        if isV6 {
            storeTransportChecksum(ip, protocolNumber: protocolNumber, start: start, checksumOffset: 2)
        } else {
            storeChecksum(at: start + 2, over: start..<buffer.count, initial: 0)
        }
        return buffer
    }

    /// Builds an ICMP or ICMPv6 echo request, or a reply when `reply` is true.
    public mutating func icmpEcho(_ link: EthernetSpec?, ip: IPSpec, identifier: UInt16, sequence: UInt16,
                                  reply: Bool = false, payload: [UInt8] = []) -> [UInt8] {
        let type: UInt8
        if ip.source.isV4 {
            type = reply ? 0 : 8
        } else {
            type = reply ? 129 : 128
        }
        return icmp(link, ip: ip, type: type, code: 0, rest: UInt32(identifier) << 16 | UInt32(sequence), payload: payload)
    }
}
