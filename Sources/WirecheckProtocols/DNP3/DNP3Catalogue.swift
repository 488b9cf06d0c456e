import WirecheckCore

/// Every anomaly and alert the DNP3 parser raises.
public enum DNP3Catalogue: EventCatalogue {
    static func anomaly(_ what: String, _ summary: String) -> AnomalyDefinition {
        AnomalyDefinition("applayer.dnp3.\(what)", type: .applayer, layer: "dnp3", summary: summary)
    }

    static let invalidStartBytes = anomaly("invalid_start_bytes",
        "Bytes where a DNP3 link frame should start do not begin with 0x05 0x64; the parser skipped to the next start octets.")
    static let headerCRCInvalid = anomaly("header_crc_invalid",
        "The CRC of a DNP3 link header does not match its first 8 octets; the frame was dropped.")
    static let dataCRCInvalid = anomaly("data_crc_invalid",
        "The CRC of a DNP3 user data block does not match; the frame's data was dropped.")
    static let invalidLength = anomaly("invalid_length",
        "A DNP3 link LENGTH is below 5, or the frame it announces is longer than the datagram carrying it.")
    static let transportSequenceGap = anomaly("transport_sequence_gap",
        "A DNP3 transport segment does not follow the previous one's sequence number; the partial fragment was dropped.")
    static let reassemblyTooLong = anomaly("reassembly_too_long",
        "A DNP3 application fragment grew past the reassembly bound (64 segments of 249 octets); it was dropped.")
    static let undefinedFunctionCode = anomaly("undefined_function_code",
        "A DNP3 application function code is not defined by IEEE 1815.")
    static let undefinedObjectGroup = anomaly("undefined_object_group",
        "A DNP3 object header names a group that IEEE 1815 does not define; the remaining objects were not read.")
    static let qualifierRangeInvalid = anomaly("qualifier_range_invalid",
        "A DNP3 object header has a reserved qualifier, a start after its stop, or more objects than the fragment holds.")
    static let directionMismatch = anomaly("direction_mismatch",
        "A DNP3 frame's DIR bit disagrees with its sender: a request without DIR=1, a response with DIR=1, or a request from the outstation side.")
    static let unsolicitedResponse = anomaly("unsolicited_response",
        "An outstation sent an unsolicited response with data after the master disabled unsolicited responses on this flow.")
    static let requestFlood = anomaly("request_flood",
        "More DNP3 requests are unanswered on one flow than the flood limit (32).")
    static let tooManyObjects = anomaly("too_many_objects",
        "A DNP3 message has more objects (2048) or object headers (256) than the parser walks.")

    static let controlOperation = AlertDefinition(
        "dnp3.control_operation", signatureID: 2200, signature: "DNP3 control operation on an output point",
        category: "Impair Process Control", severity: 2, technique: .unauthorizedCommandMessage,
        summary: "A master sent select, operate or direct operate on a CROB (g12) or analog output block (g41); check that the master and the points are expected to be controlled.")
    static let restart = AlertDefinition(
        "dnp3.restart", signatureID: 2201, signature: "DNP3 cold or warm restart request",
        category: "Inhibit Response Function", severity: 1, technique: .deviceRestartShutdown,
        summary: "A master asked an outstation to restart; the outstation stops reporting while it restarts.")
    // T0858 rather than T0816: these functions start, stop or reset the outstation's
    // applications and data, changing what it runs, without restarting the device itself.
    static let applicationControl = AlertDefinition(
        "dnp3.application_control", signatureID: 2202, signature: "DNP3 application start, stop or initialize request",
        category: "Inhibit Response Function", severity: 2, technique: .changeOperatingMode,
        summary: "A master sent initialize_data, initialize_application, start_application or stop_application; stop and initialize_data are raised at severity 1.")
    static let fileOperation = AlertDefinition(
        "dnp3.file_operation", signatureID: 2203, signature: "DNP3 file transfer operation",
        category: "Lateral Movement", severity: 2, technique: .programDownload,
        summary: "A master opened a file on an outstation or wrote file data (g70); check whether configuration or firmware is being loaded.")
    static let fileDelete = AlertDefinition(
        "dnp3.file_delete", signatureID: 2204, signature: "DNP3 file delete request",
        category: "Inhibit Response Function", severity: 1, technique: .dataDestruction,
        summary: "A master asked an outstation to delete a file.")
    static let disableUnsolicited = AlertDefinition(
        "dnp3.disable_unsolicited", signatureID: 2205, signature: "DNP3 disable unsolicited responses",
        category: "Inhibit Response Function", severity: 2, technique: .blockReportingMessage,
        summary: "A master told an outstation to stop sending unsolicited responses, so events reach the master only when it polls.")
    static let write = AlertDefinition(
        "dnp3.write", signatureID: 2206, signature: "DNP3 write request",
        category: "Impair Process Control", severity: 3, technique: .modifyParameter,
        summary: "A master wrote objects (time g50, IIN g80, deadbands g34, strings g110 and others) to an outstation.")

    public static let anomalies: [AnomalyDefinition] = [
        invalidStartBytes, headerCRCInvalid, dataCRCInvalid, invalidLength, transportSequenceGap, reassemblyTooLong,
        undefinedFunctionCode, undefinedObjectGroup, qualifierRangeInvalid, directionMismatch, unsolicitedResponse,
        requestFlood, tooManyObjects,
    ]

    public static let alerts: [AlertDefinition] = [
        controlOperation, restart, applicationControl, fileOperation, fileDelete, disableUnsolicited, write,
    ]
}
