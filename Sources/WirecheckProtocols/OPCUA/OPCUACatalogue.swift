import WirecheckCore

/// Every anomaly and alert the OPC UA binary parser emits.
public enum OPCUACatalogue: EventCatalogue {
    public static let unknownMessageType = AnomalyDefinition(
        "applayer.opcua.unknown_message_type", type: .applayer, layer: "opcua",
        summary: "A chunk header names a message type other than HEL, ACK, ERR, RHE, OPN, MSG or CLO; the parser skips to the next valid header.")
    public static let invalidSize = AnomalyDefinition(
        "applayer.opcua.invalid_size", type: .applayer, layer: "opcua",
        summary: "A chunk's size is below the 8-byte header, above 16 MiB or the buffer size the peers negotiated, or too small for the fields the chunk contains.")
    public static let invalidChunkType = AnomalyDefinition(
        "applayer.opcua.invalid_chunk_type", type: .applayer, layer: "opcua",
        summary: "A chunk type is not F, C or A, or a HEL, ACK, ERR or RHE message is not a single final (F) chunk.")
    public static let messageBeforeHello = AnomalyDefinition(
        "applayer.opcua.message_before_hello", type: .applayer, layer: "opcua",
        summary: "A client issued a new secure channel (OPN with secure channel id 0) on a connection where no Hello was seen.")
    public static let errorMessage = AnomalyDefinition(
        "applayer.opcua.error_message", type: .applayer, layer: "opcua",
        summary: "An Error (ERR) message is too short for its status code and reason; well-formed Error messages are reported as opcua events only.")

    /// Technique: a channel without signing or encryption lets anyone on the path read and
    /// change the process data it carries, which is what Adversary-in-the-Middle (T0830) needs.
    /// T0869 describes command-and-control traffic, which a plain OPC UA channel is not.
    public static let securityModeNone = AlertDefinition(
        "opcua.security_mode_none", signatureID: 2700, signature: "OPC UA session over a channel without security",
        category: "Insecure Channel", severity: 2, technique: .adversaryInTheMiddle,
        summary: "A client used a secure channel opened with security policy None for services beyond discovery (GetEndpoints, FindServers), so its traffic is neither signed nor encrypted; raised once per flow.")
    public static let deprecatedSecurityPolicy = AlertDefinition(
        "opcua.deprecated_security_policy", signatureID: 2701, signature: "OPC UA deprecated security policy",
        category: "Insecure Channel", severity: 2, technique: .adversaryInTheMiddle,
        summary: "A client opened a secure channel with Basic128Rsa15 or Basic256, which OPC UA 1.04 deprecates because they rely on SHA-1; raised once per flow.")
    public static let writeRequest = AlertDefinition(
        "opcua.write_request", signatureID: 2702, signature: "OPC UA Write request",
        category: "Modify Parameter", severity: 2, technique: .modifyParameter,
        summary: "A client wrote node attributes with the Write service; raised once per flow for each first node written.")
    public static let callRequest = AlertDefinition(
        "opcua.call_request", signatureID: 2703, signature: "OPC UA method Call request",
        category: "Command Message", severity: 2, technique: .unauthorizedCommandMessage,
        summary: "A client called a method on the server with the Call service; methods run server-side actions, often on the process; raised once per flow for each method.")
    public static let addDeleteNodes = AlertDefinition(
        "opcua.add_delete_nodes", signatureID: 2704, signature: "OPC UA AddNodes or DeleteNodes request",
        category: "Modify Address Space", severity: 2, technique: .unauthorizedCommandMessage,
        summary: "A client added or deleted nodes in the server's address space, which changes what other clients see and control; raised for every request.")

    public static let anomalies: [AnomalyDefinition] = [
        unknownMessageType, invalidSize, invalidChunkType, messageBeforeHello, errorMessage,
    ]
    public static let alerts: [AlertDefinition] = [
        securityModeNone, deprecatedSecurityPolicy, writeRequest, callRequest, addDeleteNodes,
    ]
}
