/// IP protocol numbers that the pipeline names.
public enum IPProtocolNumber {
    public static let icmp: UInt8 = 1
    public static let tcp: UInt8 = 6
    public static let udp: UInt8 = 17
    public static let icmpv6: UInt8 = 58

    /// The name EVE uses in `proto` (`TCP`, `UDP`, `ICMP`, `IPv6-ICMP`), or the number.
    public static func name(_ number: UInt8) -> String {
        switch number {
        case icmp: return "ICMP"
        case tcp: return "TCP"
        case udp: return "UDP"
        case icmpv6: return "IPv6-ICMP"
        case 2: return "IGMP"
        case 47: return "GRE"
        case 50: return "ESP"
        case 132: return "SCTP"
        default: return String(number)
        }
    }
}

/// The flow fields that every flow-bound event carries, oriented from the flow's originator
/// (`src`) to its responder (`dest`) unless an event says otherwise.
public struct FlowContext: Hashable, Sendable {
    public var flowID: UInt64
    public var communityID: String
    public var srcIP: IPAddress
    public var srcPort: UInt16
    public var destIP: IPAddress
    public var destPort: UInt16
    public var ipProtocol: UInt8
    /// Outer VLAN first; empty when untagged.
    public var vlans: [UInt16]
    /// The application protocol identified from the flow's content, if any (`modbus`, `tls`).
    public var appProto: String?
    /// Time of the flow's first packet, for joins with host telemetry.
    public var start: Timestamp = .zero

    public init(flowID: UInt64, communityID: String, srcIP: IPAddress, srcPort: UInt16, destIP: IPAddress,
                destPort: UInt16, ipProtocol: UInt8, vlans: [UInt16] = [], appProto: String? = nil) {
        self.flowID = flowID
        self.communityID = communityID
        self.srcIP = srcIP
        self.srcPort = srcPort
        self.destIP = destIP
        self.destPort = destPort
        self.ipProtocol = ipProtocol
        self.vlans = vlans
        self.appProto = appProto
    }

    /// The same flow seen from the other side: source and destination swapped.
    public var reversed: FlowContext {
        var copy = self
        swap(&copy.srcIP, &copy.destIP)
        swap(&copy.srcPort, &copy.destPort)
        return copy
    }
}
