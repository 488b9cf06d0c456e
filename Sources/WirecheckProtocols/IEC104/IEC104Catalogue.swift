import WirecheckCore

/// Every anomaly and alert the IEC 60870-5-104 parser raises.
public enum IEC104Catalogue: EventCatalogue {
    static func anomaly(_ what: String, _ summary: String) -> AnomalyDefinition {
        AnomalyDefinition("applayer.iec104.\(what)", type: .applayer, layer: "iec104", summary: summary)
    }

    static let invalidStartByte = anomaly("invalid_start_byte",
        "Bytes where an IEC 104 APDU should start do not begin with 0x68; the parser skipped to the next 0x68.")
    static let invalidLength = anomaly("invalid_length",
        "An IEC 104 APDU length is outside 4 to 253, an S- or U-frame is not 4 octets long, or an I-frame is too short for an ASDU header.")
    static let undefinedTypeID = anomaly("undefined_type_id",
        "An ASDU carries a type identification that IEC 60870-5-101/104 does not define.")
    static let undefinedCause = anomaly("undefined_cause_of_transmission",
        "An ASDU carries a cause of transmission that IEC 60870-5-101 does not define (0, 14-19, 42 or 43).")
    static let sequenceGap = anomaly("sequence_gap",
        "An I-frame's send sequence number N(S) is ahead of the next expected one, so I-frames were lost or not captured.")
    static let sequenceRepeat = anomaly("sequence_repeat",
        "An I-frame's send sequence number N(S) is one already used, so an APDU was repeated or replayed.")
    static let iFrameBeforeStartDT = anomaly("i_frame_before_startdt",
        "An I-frame was sent while data transfer was stopped: after STOPDT con, or after STARTDT act and before STARTDT con.")
    static let invalidUFrame = anomaly("invalid_u_frame",
        "A U-frame sets no function bit, several, or non-zero octets where the standard requires zero.")
    static let asduLengthMismatch = anomaly("asdu_length_mismatch",
        "The information objects an ASDU announces do not fill its APDU exactly.")

    static let controlCommand = AlertDefinition(
        "iec104.control_command", signatureID: 2300, signature: "IEC 104 control command",
        category: "Impair Process Control", severity: 2, technique: .unauthorizedCommandMessage,
        summary: "A controlling station sent a single, double, step, set-point or bitstring command (type ids 45-51, 58-64); check that the station and the objects are expected to be controlled.")
    static let resetProcess = AlertDefinition(
        "iec104.reset_process", signatureID: 2301, signature: "IEC 104 reset process command",
        category: "Inhibit Response Function", severity: 1, technique: .deviceRestartShutdown,
        summary: "A controlling station sent C_RP_NA_1, which resets the process of the controlled station.")
    static let parameterChange = AlertDefinition(
        "iec104.parameter_change", signatureID: 2302, signature: "IEC 104 parameter change",
        category: "Impair Process Control", severity: 2, technique: .modifyParameter,
        summary: "A controlling station changed measured-value parameters or parameter activation (type ids 110-113).")
    // Setting a station's clock is a command message; a wrong time corrupts event time tags.
    static let clockSync = AlertDefinition(
        "iec104.clock_sync", signatureID: 2303, signature: "IEC 104 clock synchronization command",
        category: "Impair Process Control", severity: 3, technique: .unauthorizedCommandMessage,
        summary: "A controlling station set the clock of a controlled station with C_CS_NA_1.")
    static let fileTransfer = AlertDefinition(
        "iec104.file_transfer", signatureID: 2304, signature: "IEC 104 file transfer",
        category: "Lateral Movement", severity: 2, technique: .programDownload,
        summary: "A station used the file transfer type ids (120-127); check whether files are being loaded onto the controlled station.")

    public static let anomalies: [AnomalyDefinition] = [
        invalidStartByte, invalidLength, undefinedTypeID, undefinedCause, sequenceGap, sequenceRepeat,
        iFrameBeforeStartDT, invalidUFrame, asduLengthMismatch,
    ]

    public static let alerts: [AlertDefinition] = [controlCommand, resetProcess, parameterChange, clockSync, fileTransfer]
}
