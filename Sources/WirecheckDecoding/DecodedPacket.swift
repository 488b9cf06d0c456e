import WirecheckCore

/// The layers the decoder found in one packet, as offsets and parsed fields over the captured
/// bytes. It is a plain value with no heap storage, filled in place for every packet; the bytes
/// themselves stay in the capture buffer (`payload` ranges index into `CapturedPacket.bytes`,
/// or into the reassembled datagram when `isReassembled` is set).
public struct DecodedPacket {
    public enum Network: Equatable {
        case none
        case arp
        case ipv4
        case ipv6
        /// An Ethernet type or link-layer protocol that Wirecheck does not decode.
        case other(UInt16)
    }

    public var timestamp: Timestamp = .zero
    public var reference = PacketReference(source: 0, number: 0)
    public var wireLength: Int = 0

    // Link layer.
    public var sourceMAC: MACAddress?
    public var destinationMAC: MACAddress?
    /// 802.1Q / 802.1ad tags, outer first; at most two are kept, `vlanCount` counts all.
    public var vlan0: UInt16 = 0
    public var vlan1: UInt16 = 0
    public var vlanCount: Int = 0
    public var etherType: UInt16 = 0

    // Network layer.
    public var network: Network = .none
    public var sourceIP: IPAddress = .v4(0)
    public var destinationIP: IPAddress = .v4(0)
    /// IPv4 protocol or the IPv6 upper-layer header after the extension headers.
    public var ipProtocol: UInt8 = 0
    /// IPv4 TTL or IPv6 hop limit.
    public var ttl: UInt8 = 0
    public var ipIdentification: UInt32 = 0
    /// True when this packet is a fragment (first or later) that was not reassembled yet.
    public var isFragment: Bool = false
    /// True when the transport fields below come from a reassembled IPv4 or IPv6 datagram.
    public var isReassembled: Bool = false
    /// How many GRE, VXLAN, Geneve or IP-in-IP tunnels enclose the packet these fields describe; 0 when
    /// the packet was not tunnelled.
    public var tunnelDepth: Int = 0

    // ARP (Ethernet/IPv4 only).
    public var arp: ARPFields?

    // Transport layer.
    public var sourcePort: UInt16 = 0
    public var destinationPort: UInt16 = 0
    public var tcp: TCPFields?
    public var icmpType: UInt8 = 0
    public var icmpCode: UInt8 = 0
    /// ICMP or ICMPv6 echo identifier and sequence number (zero for other message types).
    public var icmpIdentifier: UInt16 = 0
    public var icmpSequence: UInt16 = 0
    /// True when a TCP, UDP or ICMP header was decoded completely.
    public var hasTransport: Bool = false

    /// Offset and length of the transport payload within the packet bytes (or the reassembled
    /// datagram). The length is what was captured, bounded by the IP and UDP length fields.
    public var payloadOffset: Int = 0
    public var payloadLength: Int = 0
    /// Payload bytes the headers announce but the capture does not contain (snapshot length).
    public var payloadMissing: Int = 0

    public init() {}

    public var vlans: [UInt16] {
        switch vlanCount {
        case 0: return []
        case 1: return [vlan0]
        default: return [vlan0, vlan1]
        }
    }

    public var isTCP: Bool { hasTransport && ipProtocol == IPProtocolNumber.tcp }
    public var isUDP: Bool { hasTransport && ipProtocol == IPProtocolNumber.udp }
}

/// TCP header fields the flow tracker needs.
public struct TCPFields: Equatable {
    public var sequence: UInt32 = 0
    public var acknowledgement: UInt32 = 0
    public var flags: TCPFlags = []
    public var window: UInt16 = 0
    public var urgentPointer: UInt16 = 0
    public var headerLength: Int = 20
    /// Window scale shift from a SYN's option, if present (raw value, may exceed 14).
    public var windowScale: UInt8?
    public var maximumSegmentSize: UInt16?
    public var sackPermitted: Bool = false
    public var timestampValue: UInt32?
    public var timestampEcho: UInt32?

    public init() {}
}

public struct TCPFlags: OptionSet, Hashable {
    public let rawValue: UInt16
    public init(rawValue: UInt16) { self.rawValue = rawValue }

    public static let fin = TCPFlags(rawValue: 0x001)
    public static let syn = TCPFlags(rawValue: 0x002)
    public static let rst = TCPFlags(rawValue: 0x004)
    public static let psh = TCPFlags(rawValue: 0x008)
    public static let ack = TCPFlags(rawValue: 0x010)
    public static let urg = TCPFlags(rawValue: 0x020)
    public static let ece = TCPFlags(rawValue: 0x040)
    public static let cwr = TCPFlags(rawValue: 0x080)
    public static let ns = TCPFlags(rawValue: 0x100)
}

public struct ARPFields: Equatable {
    public var operation: UInt16
    public var senderMAC: MACAddress
    public var senderIP: UInt32
    public var targetMAC: MACAddress
    public var targetIP: UInt32

    public init(operation: UInt16, senderMAC: MACAddress, senderIP: UInt32, targetMAC: MACAddress, targetIP: UInt32) {
        self.operation = operation
        self.senderMAC = senderMAC
        self.senderIP = senderIP
        self.targetMAC = targetMAC
        self.targetIP = targetIP
    }
}
