import WirecheckCore

/// Anomalies and alerts of the application-layer framework: identification by content and the
/// protocol/port checks. Alert signature ids 2000-2099.
public enum ApplicationLayerCatalogue: EventCatalogue {
    public static let protocolPortMismatch = AnomalyDefinition(
        "applayer.protocol_port_mismatch", type: .applayer,
        summary: "A flow carries a protocol other than the one registered for its port: another protocol on an ICS port, or an ICS protocol on a port not registered for it.")
    public static let unidentifiedOnICSPort = AnomalyDefinition(
        "applayer.unidentified_on_ics_port", type: .applayer,
        summary: "Bytes on an ICS port that no protocol probe recognised.")
    public static let bufferOverflow = AnomalyDefinition(
        "applayer.buffer_overflow", type: .applayer,
        summary: "A message split across segments grew past the reassembly limit, so the buffered bytes were dropped and the parser resynchronised.")
    public static let parseError = AnomalyDefinition(
        "applayer.parse_error", type: .applayer,
        summary: "A parser could not consume buffered bytes longer than its maximum message size, so they were dropped and the parser resynchronised.")

    public static let icsPortMisuse = AlertDefinition(
        "applayer.ics_port_misuse", signatureID: 2000,
        signature: "Non-ICS protocol on an ICS port", category: "Potentially Bad Traffic", severity: 2,
        technique: .commonlyUsedPort,
        summary: "HTTP, TLS or SSH on a port registered for an ICS protocol, which can hide a tunnel or remote access; check which host runs that service and why.")
    public static let icsProtocolNonstandardPort = AlertDefinition(
        "applayer.ics_protocol_nonstandard_port", signatureID: 2001,
        signature: "ICS protocol on a non-standard port", category: "Potentially Bad Traffic", severity: 3,
        technique: .commonlyUsedPort,
        summary: "An ICS protocol on a port not registered for it, which can be a gateway, a test tool or traffic avoiding port-based rules; check whether the port is configured on purpose.")

    public static let anomalies: [AnomalyDefinition] = [protocolPortMismatch, unidentifiedOnICSPort, bufferOverflow, parseError]
    public static let alerts: [AlertDefinition] = [icsPortMisuse, icsProtocolNonstandardPort]
}
