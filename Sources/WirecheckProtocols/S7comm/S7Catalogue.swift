import WirecheckCore

/// Every anomaly and alert the S7comm and S7comm-plus parser raises. Alert ids use 2500-2599.
public enum S7Catalogue: EventCatalogue {
    public static let tpktInvalidVersion = AnomalyDefinition(
        "applayer.s7comm.tpkt_invalid_version", type: .applayer, layer: "s7comm",
        summary: "A TPKT header (RFC 1006) carries a version other than 3, so the stream is not ISO-on-TCP or lost its message boundary.")
    public static let tpktInvalidLength = AnomalyDefinition(
        "applayer.s7comm.tpkt_invalid_length", type: .applayer, layer: "s7comm",
        summary: "A TPKT length is below the 7-byte minimum, or the COTP header does not fit in it.")
    public static let cotpUnknownType = AnomalyDefinition(
        "applayer.s7comm.cotp_unknown_type", type: .applayer, layer: "s7comm",
        summary: "A COTP TPDU (ISO 8073) has a type code that the standard does not define.")
    public static let cotpReassemblyOverflow = AnomalyDefinition(
        "applayer.s7comm.cotp_reassembly_overflow", type: .applayer, layer: "s7comm",
        summary: "COTP data fragments without an end-of-TSDU mark grew past the reassembly limit and were dropped.")
    public static let unknownProtocolID = AnomalyDefinition(
        "applayer.s7comm.unknown_protocol_id", type: .applayer, layer: "s7comm",
        summary: "A COTP data unit on an S7 connection starts with neither 0x32 (S7comm) nor 0x72 (S7comm-plus).")
    public static let lengthMismatch = AnomalyDefinition(
        "applayer.s7comm.length_mismatch", type: .applayer, layer: "s7comm",
        summary: "The S7 header's parameter and data lengths do not add up to the size of the PDU.")
    public static let unknownFunction = AnomalyDefinition(
        "applayer.s7comm.unknown_function", type: .applayer, layer: "s7comm",
        summary: "An S7comm job uses a function code that no known CPU implements.")
    public static let ackWithoutJob = AnomalyDefinition(
        "applayer.s7comm.ack_without_job", type: .applayer, layer: "s7comm",
        summary: "An ack or ack_data carries a PDU reference that matches no job seen on the connection.")
    public static let unknownROSCTR = AnomalyDefinition(
        "applayer.s7comm.unknown_rosctr", type: .applayer, layer: "s7comm",
        summary: "An S7 header has a ROSCTR (PDU type) other than job, ack, ack_data or userdata.")

    public static let plcStop = AlertDefinition(
        "s7comm.plc_stop", signatureID: 2500, signature: "S7comm PLC stop",
        category: "Change Operating Mode", severity: 1, technique: .changeOperatingMode,
        summary: "A client sent the S7 PLC stop function (0x29), which halts the control program; check that the stop was planned.")
    public static let plcStart = AlertDefinition(
        "s7comm.plc_start", signatureID: 2501, signature: "S7comm PLC start",
        category: "Change Operating Mode", severity: 1, technique: .changeOperatingMode,
        summary: "A client started the PLC program with the P_PROGRAM PI service (warm or hot restart); check that the start was planned.")
    public static let programDownload = AlertDefinition(
        "s7comm.program_download", signatureID: 2502, signature: "S7comm program download",
        category: "Program Download", severity: 1, technique: .programDownload,
        summary: "A client downloaded or activated program blocks (request download, download block, download ended or the _INSE PI service); the alert names the blocks.")
    public static let programUpload = AlertDefinition(
        "s7comm.program_upload", signatureID: 2503, signature: "S7comm program upload",
        category: "Program Upload", severity: 2, technique: .programUpload,
        summary: "A client started uploading a program block from the PLC, which copies its logic off the device.")
    public static let blockDelete = AlertDefinition(
        "s7comm.block_delete", signatureID: 2504, signature: "S7comm block delete",
        category: "Data Destruction", severity: 1, technique: .dataDestruction,
        summary: "A client deleted program blocks with the _DELE PI service; the alert names the blocks.")
    public static let writeOutputs = AlertDefinition(
        "s7comm.write_outputs", signatureID: 2505, signature: "S7comm write to process outputs",
        category: "Unauthorized Command Message", severity: 2, technique: .unauthorizedCommandMessage,
        summary: "A client wrote the process output image (area Q) directly, which drives actuators without the program's logic.")
    public static let writeVar = AlertDefinition(
        "s7comm.write_var", signatureID: 2506, signature: "S7comm write to data blocks or memory",
        category: "Modify Parameter", severity: 2, technique: .modifyParameter,
        summary: "A client wrote data blocks, flags (merkers), inputs, timers or counters with write_var; check the addresses and the writer.")
    // The PLC clock stamps the diagnostic buffer and drives time-of-day logic, so setting it is
    // treated as a parameter change (T0836); ATT&CK for ICS has no technique for clock changes.
    public static let setClock = AlertDefinition(
        "s7comm.set_clock", signatureID: 2507, signature: "S7comm set PLC clock",
        category: "Modify Parameter", severity: 3, technique: .modifyParameter,
        summary: "A client set the PLC's real-time clock, which changes time-based logic and the timestamps of the PLC's diagnostic buffer.")
    public static let password = AlertDefinition(
        "s7comm.password", signatureID: 2508, signature: "S7comm PLC password",
        category: "Credential Access", severity: 3, technique: nil,
        summary: "A client sent or cleared the PLC protection password, which unlocks protected functions such as download and stop.")

    public static var anomalies: [AnomalyDefinition] {
        [tpktInvalidVersion, tpktInvalidLength, cotpUnknownType, cotpReassemblyOverflow, unknownProtocolID,
         lengthMismatch, unknownFunction, ackWithoutJob, unknownROSCTR]
    }

    public static var alerts: [AlertDefinition] {
        [plcStop, plcStart, programDownload, programUpload, blockDelete, writeOutputs, writeVar, setClock, password]
    }
}
