import WirecheckCore

/// Zeek's connection states (`conn_state` in conn.log), so flow records read the same way
/// analysts read Zeek.
public enum ConnState: String, Sendable, CaseIterable {
    /// Connection attempt seen, no reply.
    case s0 = "S0"
    /// Connection established, not terminated.
    case s1 = "S1"
    /// Normal establishment and termination.
    case sf = "SF"
    /// Connection attempt rejected.
    case rej = "REJ"
    /// Established, originator aborted (sent a RST).
    case rsto = "RSTO"
    /// Established, responder aborted.
    case rstr = "RSTR"
    /// Originator sent a SYN followed by a RST; no SYN-ACK from the responder.
    case rstos0 = "RSTOS0"
    /// Responder sent a SYN-ACK followed by a RST; no SYN from the originator.
    case rstrh = "RSTRH"
    /// Originator sent a SYN followed by a FIN; no SYN-ACK from the responder (half open).
    case sh = "SH"
    /// Responder sent a SYN-ACK followed by a FIN; no SYN from the originator.
    case shr = "SHR"
    /// Established, originator attempted close, no reply from the responder.
    case s2 = "S2"
    /// Established, responder attempted close, no reply from the originator.
    case s3 = "S3"
    /// No SYN seen, just midstream traffic.
    case oth = "OTH"
}

/// One bidirectional conversation: a 5-tuple plus VLANs for TCP and UDP, or the address pair
/// plus ICMP type for ICMP. The originator is the side that sent the first packet, or the
/// SYN's sender when the handshake was seen.
public final class Flow {
    /// Identity and the fields every event of this flow carries.
    public var context: FlowContext
    public internal(set) var firstSeen: Timestamp
    public internal(set) var lastSeen: Timestamp
    /// The packet that created the flow, for evidence.
    public internal(set) var firstPacket: PacketReference
    public internal(set) var packetsToServer: UInt64 = 0
    public internal(set) var packetsToClient: UInt64 = 0
    /// IP-layer bytes (headers included) as captured on the wire.
    public internal(set) var bytesToServer: UInt64 = 0
    public internal(set) var bytesToClient: UInt64 = 0
    /// Transport payload bytes per direction.
    public internal(set) var payloadBytesToServer: UInt64 = 0
    public internal(set) var payloadBytesToClient: UInt64 = 0
    public internal(set) var connState: ConnState = .oth
    /// Zeek-style history letters (`ShADadFf`): uppercase for the originator, lowercase for the
    /// responder, each letter recorded once per direction.
    public internal(set) var history: String = ""
    /// True when the flow was already in progress when the capture began (a mid-stream pickup).
    public internal(set) var isMidstream: Bool = false
    public internal(set) var originatorMAC: MACAddress?
    public internal(set) var responderMAC: MACAddress?
    /// Per-flow state of the application layer (parser, identification), owned by the protocols stage.
    public var application: AnyObject?

    /// TCP endpoint state; nil for other protocols.
    public internal(set) var tcp: TCPConnection?
    /// The reason the flow ended; nil while it is active.
    public internal(set) var endReason: FlowEndReason?
    /// SYN segments in this flow that carried data (TCP Fast Open).
    public internal(set) var synDataPackets: UInt32 = 0

    // Bookkeeping of the flow table.
    var tableKey: FlowKey?
    /// True when the originator is endpoint A of `tableKey`.
    var originatorIsA = true
    /// History letters already recorded, one bit per letter and direction.
    var historyBits: UInt64 = 0
    /// Occurrences of the history letters Zeek repeats at powers of ten.
    var repeatedHistory = RepeatedHistoryCounts()
    /// Anomalies already raised for this flow, one bit per `FlowAnomaly`.
    var anomalyBits: UInt32 = 0
    /// Occurrences per `FlowAnomaly`, allocated at the first anomaly.
    var anomalyOccurrences: [UInt32]?
    var alertBits: UInt32 = 0
    var timeoutClass: FlowTimeoutClass = .other
    /// Links of the idle list of `timeoutClass`, ordered from least to most recently active.
    var listNext: Flow?
    unowned(unsafe) var listPrevious: Flow?
    var isListed = false

    public init(context: FlowContext, firstSeen: Timestamp, firstPacket: PacketReference) {
        self.context = context
        self.firstSeen = firstSeen
        self.lastSeen = firstSeen
        self.firstPacket = firstPacket
    }

    public var appProto: String? {
        get { context.appProto }
        set { context.appProto = newValue }
    }

    public var isTCP: Bool { context.ipProtocol == IPProtocolNumber.tcp }
    public var isUDP: Bool { context.ipProtocol == IPProtocolNumber.udp }
}
