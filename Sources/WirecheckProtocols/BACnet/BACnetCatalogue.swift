import WirecheckCore

/// Every anomaly and alert the BACnet/IP parser emits.
public enum BACnetCatalogue: EventCatalogue {
    public static let bvlcInvalidLength = AnomalyDefinition(
        "applayer.bacnet.bvlc_invalid_length", type: .applayer, layer: "bacnet",
        summary: "The BVLC length field disagrees with the length of the UDP datagram that carries it; reported once per flow.")
    public static let bvlcUnknownFunction = AnomalyDefinition(
        "applayer.bacnet.bvlc_unknown_function", type: .applayer, layer: "bacnet",
        summary: "A BVLC header carries a function code that Annex J does not define (above 0x0C).")
    public static let npduInvalidVersion = AnomalyDefinition(
        "applayer.bacnet.npdu_invalid_version", type: .applayer, layer: "bacnet",
        summary: "An NPDU carries a protocol version other than 1.")
    public static let apduUnknownType = AnomalyDefinition(
        "applayer.bacnet.apdu_unknown_type", type: .applayer, layer: "bacnet",
        summary: "An APDU carries a PDU type above 7, which the standard does not define.")
    public static let unknownService = AnomalyDefinition(
        "applayer.bacnet.unknown_service", type: .applayer, layer: "bacnet",
        summary: "A confirmed or unconfirmed request names a service choice that the standard does not define.")
    public static let ackWithoutRequest = AnomalyDefinition(
        "applayer.bacnet.ack_without_request", type: .applayer, layer: "bacnet",
        summary: "An ACK, Error, Reject or Abort responds to an invoke id that no request on this flow used, although the flow had already carried traffic in the request's direction.")
    public static let truncated = AnomalyDefinition(
        "applayer.bacnet.truncated", type: .applayer, layer: "bacnet",
        summary: "A BVLC, NPDU, APDU header or service parameter ends before its fields do.")

    public static let reinitializeDevice = AlertDefinition(
        "bacnet.reinitialize_device", signatureID: 2600, signature: "BACnet reinitializeDevice request",
        category: "Device Restart", severity: 1, technique: .deviceRestartShutdown,
        summary: "A host asked a BACnet device to restart or to start a backup or restore; check that the host is an engineering workstation and that the change was planned.")
    public static let deviceCommunicationControl = AlertDefinition(
        "bacnet.device_communication_control", signatureID: 2601,
        signature: "BACnet deviceCommunicationControl disable request", category: "Denial of Service",
        severity: 1, technique: .denialOfService,
        summary: "A host asked a BACnet device to stop communicating (disable or disable-initiation), which silences it to operators; check the host and the duration.")
    public static let writeProperty = AlertDefinition(
        "bacnet.write_property", signatureID: 2602, signature: "BACnet write to an object property",
        category: "Modify Parameter", severity: 2, technique: .modifyParameter,
        summary: "A host wrote a BACnet object property (writeProperty or writePropertyMultiple); raised once per flow for each object and property.")
    public static let atomicWriteFile = AlertDefinition(
        "bacnet.atomic_write_file", signatureID: 2603, signature: "BACnet atomicWriteFile request",
        category: "Program Download", severity: 1, technique: .programDownload,
        summary: "A host wrote a file object on a BACnet device, the service used to load programs and configuration; check the host and the file.")

    public static let anomalies: [AnomalyDefinition] = [
        bvlcInvalidLength, bvlcUnknownFunction, npduInvalidVersion, apduUnknownType, unknownService,
        ackWithoutRequest, truncated,
    ]
    public static let alerts: [AlertDefinition] = [
        reinitializeDevice, deviceCommunicationControl, writeProperty, atomicWriteFile,
    ]
}
