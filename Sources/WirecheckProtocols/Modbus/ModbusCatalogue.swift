import WirecheckCore

/// Anomalies and alerts of the Modbus/TCP parser. Alert signature ids 2100-2199.
public enum ModbusCatalogue: EventCatalogue {
    public static let invalidProtocolID = anomaly("invalid_protocol_id", "The MBAP protocol identifier is not 0, the only value Modbus uses.")
    public static let invalidLength = anomaly("invalid_length", "The MBAP length field disagrees with the PDU the function code defines, or is shorter than a unit id and a function code.")
    public static let pduTooLong = anomaly("pdu_too_long", "The MBAP length announces a PDU longer than the 253 bytes Modbus allows.")
    public static let undefinedFunctionCode = anomaly("undefined_function_code", "The function code is not one of the public codes of the Modbus specification (user-defined codes included).")
    public static let invalidQuantity = anomaly("invalid_quantity", "A request asks for a quantity of coils or registers outside the range its function code allows (0, or over 2000 coils read, 125 registers read, 1968 coils written, 123 registers written).")
    public static let byteCountMismatch = anomaly("byte_count_mismatch", "A byte count field disagrees with the quantity it describes or with the bytes that follow it.")
    public static let invalidExceptionCode = anomaly("invalid_exception_code", "An exception response carries an exception code the specification does not define.")
    public static let unsolicitedResponse = anomaly("unsolicited_response", "A response arrived whose transaction id and unit id match no outstanding request.")
    public static let functionCodeMismatch = anomaly("function_code_mismatch", "A response carries a function code different from its request's.")
    public static let tooManyOutstandingRequests = anomaly("too_many_outstanding_requests", "More requests are waiting for a response than the per-flow limit, so the oldest was dropped.")
    public static let invalidSubfunction = anomaly("invalid_subfunction", "A diagnostics request names a sub-function the specification does not define.")
    public static let invalidCoilValue = anomaly("invalid_coil_value", "A write single coil request carries a value other than 0xFF00 (on) or 0x0000 (off).")

    public static let coilWriteRequest = AlertDefinition(
        "modbus.write_request", signatureID: 2100, signature: "Modbus coil write request", category: "ICS Process Control",
        severity: 2, technique: .unauthorizedCommandMessage,
        summary: "A client wrote coils (function code 5 or 15), which switches outputs of the process; check that the client is an expected master.")
    public static let registerWriteRequest = AlertDefinition(
        "modbus.register_write_request", signatureID: 2101, signature: "Modbus register write request", category: "ICS Process Control",
        severity: 2, technique: .modifyParameter,
        summary: "A client wrote holding registers (function code 6, 16, 22 or 23), which changes set points or parameters; check that the client is an expected master.")
    public static let diagnosticRestart = AlertDefinition(
        "modbus.diagnostic_restart", signatureID: 2102, signature: "Modbus restart communications", category: "ICS Device Control",
        severity: 1, technique: .deviceRestartShutdown,
        summary: "A client sent diagnostics sub-function 1 (restart communications option), which restarts the server's communications port; check who sent it and whether maintenance was planned.")
    public static let listenOnlyMode = AlertDefinition(
        "modbus.listen_only_mode", signatureID: 2103, signature: "Modbus force listen only mode", category: "ICS Device Control",
        severity: 1, technique: .denialOfService,
        summary: "A client sent diagnostics sub-function 4 (force listen only mode), after which the server stops answering and blocks command messages to it (also T0803); check the server still responds.")
    public static let deviceIdentification = AlertDefinition(
        "modbus.device_identification", signatureID: 2104, signature: "Modbus device identification request", category: "ICS Discovery",
        severity: 3, technique: .deviceIdentification,
        summary: "A client asked for the server's identity (function code 43/14 read device identification or 17 report server id), a common discovery step; check the client is an engineering station.")

    public static let anomalies: [AnomalyDefinition] = [
        invalidProtocolID, invalidLength, pduTooLong, undefinedFunctionCode, invalidQuantity, byteCountMismatch,
        invalidExceptionCode, unsolicitedResponse, functionCodeMismatch, tooManyOutstandingRequests, invalidSubfunction,
        invalidCoilValue,
    ]
    public static let alerts: [AlertDefinition] = [
        coilWriteRequest, registerWriteRequest, diagnosticRestart, listenOnlyMode, deviceIdentification,
    ]

    private static func anomaly(_ suffix: String, _ summary: String) -> AnomalyDefinition {
        AnomalyDefinition("applayer.modbus.\(suffix)", type: .applayer, layer: "modbus", summary: summary)
    }
}
