import WirecheckCore

/// Every anomaly and alert the EtherNet/IP and CIP parser raises. Alert ids use 2400-2499.
public enum ENIPCatalogue: EventCatalogue {
    public static let unknownCommand = AnomalyDefinition(
        "applayer.enip.unknown_command", type: .applayer, layer: "enip",
        summary: "An encapsulation header carries a command code that EtherNet/IP does not define.")
    public static let invalidLength = AnomalyDefinition(
        "applayer.enip.invalid_length", type: .applayer, layer: "enip",
        summary: "The encapsulation length field disagrees with the bytes that follow or with the command's fixed size.")
    public static let statusInRequest = AnomalyDefinition(
        "applayer.enip.status_in_request", type: .applayer, layer: "enip",
        summary: "A request carries a non-zero encapsulation status; only replies may set it.")
    public static let sessionNotRegistered = AnomalyDefinition(
        "applayer.enip.session_not_registered", type: .applayer, layer: "enip",
        summary: "SendRRData or SendUnitData uses a session handle that was never registered on this flow.")
    public static let cpfInvalid = AnomalyDefinition(
        "applayer.enip.cpf_invalid", type: .applayer, layer: "enip",
        summary: "The Common Packet Format item count or an item length disagrees with the encapsulation data.")
    public static let pathInvalid = AnomalyDefinition(
        "applayer.cip.path_invalid", type: .applayer, layer: "cip",
        summary: "A CIP request path (EPATH) is malformed: a segment is truncated, reserved or does not fit the path size.")
    public static let unknownService = AnomalyDefinition(
        "applayer.cip.unknown_service", type: .applayer, layer: "cip",
        summary: "A CIP request uses a service code that the specification reserves.")

    public static let setAttribute = AlertDefinition(
        "cip.set_attribute", signatureID: 2400, signature: "CIP set attribute request",
        category: "Modify Parameter", severity: 2, technique: .modifyParameter,
        summary: "A client changed a CIP object attribute (set_attribute_single, set_attribute_list, set_attributes_all or set_member); check that the change was planned.")
    public static let reset = AlertDefinition(
        "cip.reset", signatureID: 2401, signature: "CIP identity object reset",
        category: "Device Restart/Shutdown", severity: 1, technique: .deviceRestartShutdown,
        summary: "A client sent a reset to the identity object, which restarts the device; check that the restart was planned.")
    public static let startStop = AlertDefinition(
        "cip.start_stop", signatureID: 2402, signature: "CIP start or stop request",
        category: "Change Operating Mode", severity: 1, technique: .changeOperatingMode,
        summary: "A client sent a CIP start or stop service to the identity object, a vendor (program) object or a symbolic path; check that the mode change was planned.")
    public static let programFileAccess = AlertDefinition(
        "cip.program_file_access", signatureID: 2403, signature: "CIP file object download",
        category: "Program Download", severity: 1, technique: .programDownload,
        summary: "A client started a download, partial write or clear on the CIP file object (class 0x37), which can replace a program or firmware image.")
    public static let programFileUpload = AlertDefinition(
        "cip.program_file_upload", signatureID: 2404, signature: "CIP file object upload",
        category: "Program Upload", severity: 1, technique: .programUpload,
        summary: "A client started an upload or partial read on the CIP file object (class 0x37), which can copy a program or configuration off the device.")
    public static let writeTag = AlertDefinition(
        "cip.write_tag", signatureID: 2405, signature: "CIP Logix tag write",
        category: "Modify Parameter", severity: 2, technique: .modifyParameter,
        summary: "A client wrote a controller tag (write_tag, write_tag_fragmented or read_modify_write); check the tag and the writer.")
    public static let listIdentity = AlertDefinition(
        "enip.list_identity", signatureID: 2406, signature: "EtherNet/IP ListIdentity discovery",
        category: "Discovery", severity: 3, technique: .deviceIdentification,
        summary: "A host asked a device for its identity (vendor, product, revision, serial number), the first step of mapping a control network.")

    public static var anomalies: [AnomalyDefinition] {
        [unknownCommand, invalidLength, statusInRequest, sessionNotRegistered, cpfInvalid, pathInvalid, unknownService]
    }

    public static var alerts: [AlertDefinition] {
        [setAttribute, reset, startStop, programFileAccess, programFileUpload, writeTag, listIdentity]
    }
}
