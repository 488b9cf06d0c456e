import WirecheckCore

/// Timeouts and limits of the flow table. Times are seconds of packet time.
public struct FlowConfiguration {
    /// Idle time after which an established or mid-stream TCP flow ends. Ten minutes keeps slow
    /// ICS polling sessions (one request every few minutes) as one flow.
    public var tcpEstablishedTimeout: Double = 600
    /// Idle time for TCP flows that never completed a handshake (S0, REJ). Short, because scans
    /// create many of them.
    public var tcpShortTimeout: Double = 30
    /// Idle time for TCP flows closed by a FIN from each side or by an RST. Long enough for a
    /// retransmitted FIN or the last ACK, short enough that a busy network's finished sessions
    /// do not pile up in the table.
    public var tcpClosedTimeout: Double = 5
    /// Idle time for UDP flows; BACnet and DNP3 over UDP poll well within two minutes.
    public var udpTimeout: Double = 120
    public var icmpTimeout: Double = 60
    /// Idle time for other IP protocols (GRE, ESP, SCTP), keyed by address pair and protocol.
    public var otherTimeout: Double = 120
    /// Hard cap on tracked flows, because each costs memory; at the cap the least recently
    /// active flow is ended early.
    public var maxFlows: Int = 1_000_000
    /// Seconds after the first IP packet of the input during which a flow that starts without a
    /// SYN counts as already in progress when the capture began (a mid-stream pickup).
    public var midstreamGrace: Double = 10
    /// Buffering limits of each TCP direction's reassembler.
    public var reassemblyLimits = ReassemblyLimits()
    /// Total bytes all reassemblers together may buffer.
    public var reassemblyMaxTotalBytes: Int = 256 << 20

    public init() {}
}

/// Counters of the flow table over the whole run.
public struct FlowStatistics {
    public internal(set) var flowsCreated: UInt64 = 0
    public internal(set) var flowsEnded: UInt64 = 0
    /// Flows ended early because the table was full.
    public internal(set) var flowsEvicted: UInt64 = 0
    public internal(set) var activeFlows: Int = 0
    public internal(set) var maxActiveFlows: Int = 0
    /// TCP flows already in progress when the capture began.
    public internal(set) var midstreamPickups: UInt64 = 0
    public internal(set) var tcpFlows: UInt64 = 0
    public internal(set) var udpFlows: UInt64 = 0
    public internal(set) var icmpFlows: UInt64 = 0
    public internal(set) var otherFlows: UInt64 = 0
    /// Ended flows per Zeek connection state.
    public internal(set) var connStates: [ConnState: UInt64] = [:]
    /// SYN segments that carried data (TCP Fast Open), which is allowed and only counted.
    public internal(set) var synWithData: UInt64 = 0

    /// Created flows per transport, keyed `TCP`, `UDP`, `ICMP` (ICMPv6 included) or `other`.
    /// Protocols with no flow are left out.
    public var flowsByProtocol: [String: UInt64] {
        var counts: [String: UInt64] = [:]
        if tcpFlows > 0 { counts["TCP"] = tcpFlows }
        if udpFlows > 0 { counts["UDP"] = udpFlows }
        if icmpFlows > 0 { counts["ICMP"] = icmpFlows }
        if otherFlows > 0 { counts["other"] = otherFlows }
        return counts
    }

    public init() {}
}

/// The flow a packet belongs to and its direction.
public struct FlowUpdate {
    public let flow: Flow
    /// True when the packet travels from the originator to the responder.
    public let toServer: Bool
}

/// The reason a flow ended, as EVE's `flow.reason`.
public enum FlowEndReason: String {
    /// Idle timeout, including closed flows after their short linger time.
    case timeout
    /// End of input.
    case shutdown
    /// Ended early: the table was full, or a new connection reused the flow's ports.
    case forced
}

/// The idle-timeout class of a flow. Each class has its own list ordered by last activity.
enum FlowTimeoutClass: Int, CaseIterable {
    case tcpEstablished
    case tcpShort
    case tcpClosed
    case udp
    case icmp
    case other
}
