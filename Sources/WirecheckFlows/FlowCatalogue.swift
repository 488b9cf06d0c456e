import WirecheckCore

/// Flow-level findings, raised at most once per flow; `FlowAnomaly` indexes them in the flow's
/// bit set.
enum FlowAnomaly: Int, CaseIterable {
    case noHandshakeData
    case synAckWithoutSyn
    case synAckFromOriginator
    case rstOutOfWindow
    case segmentOutOfWindow
    case dataAfterFin
    case dataAfterRst
    case retransmissionDifferentData
    case reassemblyOverflow
    case handshakeInvalidAck
    case flowLimitReached

    var definition: AnomalyDefinition {
        switch self {
        case .noHandshakeData: return FlowCatalogue.noHandshakeData
        case .synAckWithoutSyn: return FlowCatalogue.synAckWithoutSyn
        case .synAckFromOriginator: return FlowCatalogue.synAckFromOriginator
        case .rstOutOfWindow: return FlowCatalogue.rstOutOfWindow
        case .segmentOutOfWindow: return FlowCatalogue.segmentOutOfWindow
        case .dataAfterFin: return FlowCatalogue.dataAfterFin
        case .dataAfterRst: return FlowCatalogue.dataAfterRst
        case .retransmissionDifferentData: return FlowCatalogue.retransmissionDifferentData
        case .reassemblyOverflow: return FlowCatalogue.reassemblyOverflow
        case .handshakeInvalidAck: return FlowCatalogue.handshakeInvalidAck
        case .flowLimitReached: return FlowCatalogue.flowLimitReached
        }
    }
}

/// The flow table's anomalies and alerts, for the event catalogue.
public enum FlowCatalogue: EventCatalogue {
    public static let noHandshakeData = AnomalyDefinition(
        "stream.no_handshake_data", type: .stream, layer: "tcp",
        summary: "Data or a bare ACK on a TCP connection that started after the capture began but never completed a three-way handshake.")
    public static let synAckWithoutSyn = AnomalyDefinition(
        "stream.synack_without_syn", type: .stream, layer: "tcp",
        summary: "A SYN-ACK arrived for a connection whose SYN was never seen, although the capture was running.")
    public static let synAckFromOriginator = AnomalyDefinition(
        "stream.synack_from_originator", type: .stream, layer: "tcp",
        summary: "The host that sent the SYN also sent a SYN-ACK, as in a split handshake or a simultaneous open.")
    public static let rstOutOfWindow = AnomalyDefinition(
        "stream.rst_out_of_window", type: .stream, layer: "tcp",
        summary: "A RST whose sequence number lies outside the receiver's window; a real endpoint would ignore it, so it was probably injected.")
    public static let segmentOutOfWindow = AnomalyDefinition(
        "stream.segment_out_of_window", type: .stream, layer: "tcp",
        summary: "A data segment that starts beyond the receiver's window or ends more than one window behind data already sent.")
    public static let dataAfterFin = AnomalyDefinition(
        "stream.data_after_fin", type: .stream, layer: "tcp",
        summary: "New data from a host after its own FIN.")
    public static let dataAfterRst = AnomalyDefinition(
        "stream.data_after_rst", type: .stream, layer: "tcp",
        summary: "New data on a TCP connection after it was reset.")
    public static let retransmissionDifferentData = AnomalyDefinition(
        "stream.retransmission_different_data", type: .stream, layer: "tcp",
        summary: "A retransmitted TCP segment carries bytes that differ from the first copy, so endpoints and monitors may see different data.")
    public static let reassemblyOverflow = AnomalyDefinition(
        "stream.reassembly_overflow", type: .stream, layer: "tcp",
        summary: "Out-of-order TCP data exceeded the reassembly limits, so some bytes were released with gaps or dropped.")
    public static let handshakeInvalidAck = AnomalyDefinition(
        "stream.handshake_invalid_ack", type: .stream, layer: "tcp",
        summary: "The ACK that should complete a three-way handshake has the wrong sequence or acknowledgement number.")
    public static let flowLimitReached = AnomalyDefinition(
        "stream.flow_limit_reached", type: .stream,
        summary: "The flow table reached its maximum number of flows and began evicting the least recently active flows.")

    /// Alert: an injected reset. ATT&CK for ICS T0803 (Block Command Message) is the closest
    /// technique because a forged RST closes one control session and stops the commands it
    /// carries; T0814 (Denial of Service) targets the device itself, which a reset does not.
    public static let rstInjection = AlertDefinition(
        "stream.rst_injection", signatureID: 1000, signature: "Possible TCP reset injection",
        category: "Potentially Bad Traffic", severity: 2, technique: .blockCommandMessage,
        summary: "A RST outside the receiver's window tried to close a TCP connection; check whether a third host forges resets to cut control sessions.")
    /// Alert: overlapping segments with different bytes, the classic way to make a monitor and
    /// an endpoint read different data. ATT&CK for ICS lists no technique for monitor evasion.
    public static let overlapEvasion = AlertDefinition(
        "stream.overlap_evasion", signatureID: 1001, signature: "TCP overlap with different data",
        category: "Potentially Bad Traffic", severity: 2, technique: nil,
        summary: "A TCP segment overlaps bytes already sent with different content; check the stream for commands hidden from the monitor.")

    /// First signature id of the flow table's range, 1000 to 1099.
    static let firstSignatureID = 1000

    public static let anomalies: [AnomalyDefinition] = FlowAnomaly.allCases.map(\.definition)
    public static let alerts: [AlertDefinition] = [rstInjection, overlapEvasion]
}
