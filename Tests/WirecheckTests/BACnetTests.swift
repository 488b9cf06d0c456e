import Testing
import WirecheckCore
@testable import WirecheckProtocols

/// Feeds datagrams of one BACnet/IP flow (10.0.0.5:47808 -> 10.0.0.20:47808) to a parser and
/// collects what it emits.
private final class BACnetHarness {
    let sink = EventCollector()
    let parser = BACnetParser()
    let context: ApplicationContext
    private var number: UInt64 = 0

    init() {
        let flow = FlowContext(flowID: 1, communityID: "1:test", srcIP: .v4(0x0A00_0005), srcPort: 47808,
                               destIP: .v4(0x0A00_0014), destPort: 47808, ipProtocol: IPProtocolNumber.udp,
                               appProto: "bacnet")
        context = ApplicationContext(flow: flow, timestamp: .zero, packet: PacketReference(source: 0, number: 0),
                                     transport: .udp, sink: sink)
    }

    @discardableResult
    func send(_ bytes: [UInt8], _ direction: StreamDirection = .toServer) -> Int {
        number += 1
        context.packet = PacketReference(source: 0, number: number)
        return bytes.withUnsafeBytes { parser.parse($0, direction: direction, context: context) }
    }

    var transactions: [Event] { sink.events.filter { $0.eventType == "bacnet" } }
    var anomalies: [Event] { sink.events.filter { $0.eventType == "anomaly" } }
    var alerts: [Event] { sink.events.filter { $0.eventType == "alert" } }

    func record(_ index: Int = 0) -> JSONObject? {
        guard index < transactions.count, case .object(let record)? = transactions[index].body["bacnet"] else { return nil }
        return record
    }
}

private func field(_ record: JSONObject?, _ path: String...) -> JSONValue? {
    var current: JSONValue? = record.map { .object($0) }
    for key in path {
        guard case .object(let object)? = current else { return nil }
        current = object[key]
    }
    return current
}

/// Byte literals of BACnet/IP messages, built field by field from ASHRAE 135 clause 20 and Annex J.
private enum BACnetBytes {
    // BVLC original-broadcast, NPDU to DNET 0xFFFF hop 255, who-Is with no range.
    static let whoIs: [UInt8] = [0x81, 0x0B, 0x00, 0x0C, 0x01, 0x20, 0xFF, 0xFF, 0x00, 0xFF, 0x10, 0x08]
    // i-Am device 1, max APDU 1476, no-segmentation, vendor 15.
    static let iAm: [UInt8] = [0x81, 0x0B, 0x00, 0x18, 0x01, 0x20, 0xFF, 0xFF, 0x00, 0xFF, 0x10, 0x00,
                               0xC4, 0x02, 0x00, 0x00, 0x01, 0x22, 0x05, 0xC4, 0x91, 0x03, 0x21, 0x0F]
    // readProperty invoke 1 of analog-input 1 present-value.
    static let readProperty: [UInt8] = [0x81, 0x0A, 0x00, 0x11, 0x01, 0x04, 0x00, 0x05, 0x01, 0x0C,
                                        0x0C, 0x00, 0x00, 0x00, 0x01, 0x19, 0x55]
    // Complex-ACK for invoke 1 with REAL 42.0.
    static let readPropertyAck: [UInt8] = [0x81, 0x0A, 0x00, 0x17, 0x01, 0x00, 0x30, 0x01, 0x0C,
                                           0x0C, 0x00, 0x00, 0x00, 0x01, 0x19, 0x55, 0x3E, 0x44, 0x42, 0x28, 0x00, 0x00, 0x3F]
    // writeProperty invoke 2 of analog-value 3 present-value = 42.0 at priority 8.
    static let writeProperty: [UInt8] = [0x81, 0x0A, 0x00, 0x1A, 0x01, 0x04, 0x00, 0x05, 0x02, 0x0F,
                                         0x0C, 0x00, 0x80, 0x00, 0x03, 0x19, 0x55, 0x3E, 0x44, 0x42, 0x28, 0x00, 0x00, 0x3F, 0x49, 0x08]
    static let writePropertyAck: [UInt8] = [0x81, 0x0A, 0x00, 0x09, 0x01, 0x00, 0x20, 0x02, 0x0F]
    // reinitializeDevice invoke 3, warmstart.
    static let reinitialize: [UInt8] = [0x81, 0x0A, 0x00, 0x0C, 0x01, 0x04, 0x00, 0x05, 0x03, 0x14, 0x09, 0x01]
    // deviceCommunicationControl invoke 4, 60 minutes, disable.
    static let communicationDisable: [UInt8] = [0x81, 0x0A, 0x00, 0x0E, 0x01, 0x04, 0x00, 0x05, 0x04, 0x11,
                                                0x09, 0x3C, 0x19, 0x01]
    static let communicationEnable: [UInt8] = [0x81, 0x0A, 0x00, 0x0C, 0x01, 0x04, 0x00, 0x05, 0x05, 0x11, 0x19, 0x00]
    // atomicWriteFile invoke 5 to file 1, stream access at 0 with two octets.
    static let atomicWriteFile: [UInt8] = [0x81, 0x0A, 0x00, 0x16, 0x01, 0x04, 0x00, 0x05, 0x05, 0x07,
                                           0xC4, 0x02, 0x80, 0x00, 0x01, 0x0E, 0x31, 0x00, 0x62, 0xAB, 0xCD, 0x0F]
    // Error for readProperty invoke 1: property / unknown-property.
    static let readPropertyError: [UInt8] = [0x81, 0x0A, 0x00, 0x0D, 0x01, 0x00, 0x50, 0x01, 0x0C, 0x91, 0x02, 0x91, 0x20]
    static let reject: [UInt8] = [0x81, 0x0A, 0x00, 0x09, 0x01, 0x00, 0x60, 0x01, 0x09]
    static let abortFromServer: [UInt8] = [0x81, 0x0A, 0x00, 0x09, 0x01, 0x00, 0x71, 0x01, 0x04]
    static let whoIsRouter: [UInt8] = [0x81, 0x0B, 0x00, 0x07, 0x01, 0x80, 0x00]
    static let registerForeignDevice: [UInt8] = [0x81, 0x05, 0x00, 0x06, 0x00, 0x3C]
    // forwarded-npdu from 192.168.1.5:47808 carrying a who-Is.
    static let forwardedWhoIs: [UInt8] = [0x81, 0x04, 0x00, 0x0E, 0xC0, 0xA8, 0x01, 0x05, 0xBA, 0xC0,
                                          0x01, 0x00, 0x10, 0x08]
    // who-Is from a remote network: SNET 5, SLEN 1, SADR 0x07, range 10-20.
    static let routedWhoIs: [UInt8] = [0x81, 0x0A, 0x00, 0x10, 0x01, 0x08, 0x00, 0x05, 0x01, 0x07,
                                       0x10, 0x08, 0x09, 0x0A, 0x19, 0x14]
}

@Suite struct BACnetHeaderTests {
    @Test func bvlcHeaderFields() {
        BACnetBytes.iAm.withUnsafeBytes { bytes in
            let header = BVLCHeader(bytes)
            #expect(header?.function == 0x0B)
            #expect(header?.declaredLength == 24)
            #expect(header?.npduOffset == 4)
        }
    }

    @Test func forwardedNPDUOffset() {
        BACnetBytes.forwardedWhoIs.withUnsafeBytes { bytes in
            #expect(BVLCHeader(bytes)?.npduOffset == 10)
        }
    }

    @Test func npduWithDestination() {
        BACnetBytes.whoIs.withUnsafeBytes { bytes in
            let npdu = NPDUHeader(UnsafeRawBufferPointer(rebasing: bytes[4...]))
            #expect(npdu?.version == 1)
            #expect(npdu?.control == 0x20)
            #expect(npdu?.destinationNetwork == 0xFFFF)
            #expect(npdu?.sourceNetwork == nil)
            #expect(npdu?.hopCount == 255)
            #expect(npdu?.payloadOffset == 6)
        }
    }

    @Test func npduWithSource() {
        BACnetBytes.routedWhoIs.withUnsafeBytes { bytes in
            let npdu = NPDUHeader(UnsafeRawBufferPointer(rebasing: bytes[4...]))
            #expect(npdu?.sourceNetwork == 5)
            #expect(npdu?.destinationNetwork == nil)
            #expect(npdu?.hopCount == nil)
            #expect(npdu?.payloadOffset == 6)
        }
    }

    @Test func npduNetworkMessage() {
        BACnetBytes.whoIsRouter.withUnsafeBytes { bytes in
            let npdu = NPDUHeader(UnsafeRawBufferPointer(rebasing: bytes[4...]))
            #expect(npdu?.isNetworkMessage == true)
            #expect(npdu?.messageType == 0x00)
        }
    }

    @Test func npduCutShort() {
        let bytes: [UInt8] = [0x01, 0x20, 0xFF]
        bytes.withUnsafeBytes { #expect(NPDUHeader($0) == nil) }
    }

    @Test func confirmedRequestHeader() {
        BACnetBytes.readProperty.withUnsafeBytes { bytes in
            let apdu = APDUHeader(UnsafeRawBufferPointer(rebasing: bytes[6...]))
            #expect(apdu?.type == 0)
            #expect(apdu?.invokeID == 1)
            #expect(apdu?.serviceChoice == 12)
            #expect(apdu?.segmented == false)
            #expect(apdu?.parametersOffset == 4)
        }
    }

    @Test func segmentedComplexAckHeader() {
        let bytes: [UInt8] = [0x3C, 0x07, 0x02, 0x04, 0x0C, 0x0C]
        bytes.withUnsafeBytes { raw in
            let apdu = APDUHeader(raw)
            #expect(apdu?.type == 3)
            #expect(apdu?.segmented == true)
            #expect(apdu?.moreFollows == true)
            #expect(apdu?.invokeID == 7)
            #expect(apdu?.sequenceNumber == 2)
            #expect(apdu?.serviceChoice == 12)
            #expect(apdu?.parametersOffset == 5)
        }
    }

    @Test func segmentAckHeader() {
        let bytes: [UInt8] = [0x40, 0x07, 0x02, 0x04]
        bytes.withUnsafeBytes { raw in
            let apdu = APDUHeader(raw)
            #expect(apdu?.type == 4)
            #expect(apdu?.invokeID == 7)
            #expect(apdu?.sequenceNumber == 2)
        }
    }

    @Test func rejectAndAbortReasons() {
        BACnetBytes.reject.withUnsafeBytes { bytes in
            #expect(APDUHeader(UnsafeRawBufferPointer(rebasing: bytes[6...]))?.reason == 9)
        }
        BACnetBytes.abortFromServer.withUnsafeBytes { bytes in
            #expect(APDUHeader(UnsafeRawBufferPointer(rebasing: bytes[6...]))?.reason == 4)
        }
    }

    @Test func tagWithExtendedLength() {
        // Application character string (tag 7) with extended length 6.
        let bytes: [UInt8] = [0x75, 0x06, 0x00, 0x41, 0x42, 0x43, 0x44, 0x45]
        bytes.withUnsafeBytes { raw in
            let tag = BACnetTag(raw, at: 0)
            #expect(tag?.number == 7)
            #expect(tag?.kind == .application)
            #expect(tag?.length == 6)
            #expect(tag?.contentOffset == 2)
        }
    }

    @Test func tagRunningPastEnd() {
        let bytes: [UInt8] = [0x0C, 0x00, 0x00]
        bytes.withUnsafeBytes { #expect(BACnetTag($0, at: 0) == nil) }
    }

    @Test func objectIdentifierSplit() {
        let object = BACnetObjectIdentifier(0x0200_0001)
        #expect(object.type == 8)
        #expect(object.instance == 1)
        #expect(object.typeName == "device")
    }
}

@Suite struct BACnetProbeTests {
    @Test func matchesWhoIs() {
        BACnetBytes.whoIs.withUnsafeBytes { #expect(BACnetProtocol.probe($0, direction: .toServer, transport: .udp) == .match) }
    }

    @Test func acceptsWrongLength() {
        var bytes = BACnetBytes.whoIs
        bytes[3] = 0x20
        bytes.withUnsafeBytes { #expect(BACnetProtocol.probe($0, direction: .toServer, transport: .udp) == .match) }
    }

    @Test func rejectsWrongNPDUVersion() {
        var bytes = BACnetBytes.whoIs
        bytes[4] = 0x45
        bytes.withUnsafeBytes { #expect(BACnetProtocol.probe($0, direction: .toServer, transport: .udp) == .noMatch) }
    }

    @Test func rejectsTCPAndOtherBytes() {
        BACnetBytes.whoIs.withUnsafeBytes { #expect(BACnetProtocol.probe($0, direction: .toServer, transport: .tcp) == .noMatch) }
        let dns: [UInt8] = [0x12, 0x34, 0x01, 0x00, 0x00, 0x01, 0x00, 0x00]
        dns.withUnsafeBytes { #expect(BACnetProtocol.probe($0, direction: .toServer, transport: .udp) == .noMatch) }
    }
}

@Suite struct BACnetParserTests {
    @Test func whoIsRecord() {
        let harness = BACnetHarness()
        harness.send(BACnetBytes.whoIs)
        let record = harness.record()
        #expect(harness.transactions.count == 1)
        #expect(field(record, "bvlc_function") == .string("original-broadcast-npdu"))
        #expect(field(record, "npdu", "dnet") == .int(0xFFFF))
        #expect(field(record, "npdu", "hop") == .int(255))
        #expect(field(record, "apdu_type") == .string("unconfirmed-request"))
        #expect(field(record, "service") == .int(8))
        #expect(field(record, "service_name") == .string("who-Is"))
        #expect(field(harness.transactions.first?.body, "operation", "name") == .string("who_is"))
        #expect(harness.anomalies.isEmpty)
        #expect(harness.alerts.isEmpty)
    }

    @Test func routedWhoIsRange() {
        let harness = BACnetHarness()
        harness.send(BACnetBytes.routedWhoIs)
        let record = harness.record()
        #expect(field(record, "npdu", "snet") == .int(5))
        #expect(field(record, "low_limit") == .int(10))
        #expect(field(record, "high_limit") == .int(20))
        #expect(field(harness.transactions.first?.body, "operation", "range_start") == .int(10))
        #expect(field(harness.transactions.first?.body, "operation", "range_end") == .int(20))
    }

    @Test func iAmRecord() {
        let harness = BACnetHarness()
        harness.send(BACnetBytes.iAm, .toClient)
        let record = harness.record()
        #expect(field(record, "service_name") == .string("i-Am"))
        #expect(field(record, "object", "type") == .string("device"))
        #expect(field(record, "object", "instance") == .int(1))
        #expect(field(record, "vendor_id") == .int(15))
        #expect(harness.transactions.first?.message == "10.0.0.20 sent a BACnet i-Am for device 1 (vendor id 15) to 10.0.0.5.")
        #expect(harness.anomalies.isEmpty)
    }

    @Test func readPropertyPairedWithAck() {
        let harness = BACnetHarness()
        harness.send(BACnetBytes.readProperty)
        #expect(harness.transactions.isEmpty)
        harness.send(BACnetBytes.readPropertyAck, .toClient)
        let record = harness.record()
        #expect(harness.transactions.count == 1)
        #expect(field(record, "apdu_type") == .string("confirmed-request"))
        #expect(field(record, "invoke_id") == .int(1))
        #expect(field(record, "service_name") == .string("readProperty"))
        #expect(field(record, "object", "type") == .string("analog-input"))
        #expect(field(record, "object", "instance") == .int(1))
        #expect(field(record, "property", "name") == .string("present-value"))
        #expect(field(record, "property", "id") == .int(85))
        #expect(field(record, "result") == .string("complex-ack"))
        #expect(field(record, "npdu", "expecting_reply") == .bool(true))
        #expect(harness.transactions.first?.packets.count == 2)
        #expect(field(harness.transactions.first?.body, "operation", "class") == .string("read"))
        #expect(harness.transactions.first?.message == "10.0.0.5 sent a BACnet readProperty of present-value of analog-input 1 to 10.0.0.20; the device responded with complex-ack.")
        #expect(harness.anomalies.isEmpty)
        #expect(harness.alerts.isEmpty)
    }

    @Test func readPropertyError() {
        let harness = BACnetHarness()
        harness.send(BACnetBytes.readProperty)
        harness.send(BACnetBytes.readPropertyError, .toClient)
        let record = harness.record()
        #expect(field(record, "result") == .string("error"))
        #expect(field(record, "error", "class") == .string("property"))
        #expect(field(record, "error", "code") == .string("unknown-property"))
        #expect(harness.anomalies.isEmpty)
    }

    @Test func rejectReason() {
        let harness = BACnetHarness()
        harness.send(BACnetBytes.readProperty)
        harness.send(BACnetBytes.reject, .toClient)
        #expect(field(harness.record(), "reject_reason") == .string("unrecognized-service"))
    }

    @Test func abortReason() {
        let harness = BACnetHarness()
        harness.send(BACnetBytes.readProperty)
        harness.send(BACnetBytes.abortFromServer, .toClient)
        #expect(field(harness.record(), "abort_reason") == .string("segmentation-not-supported"))
        #expect(harness.anomalies.isEmpty)
    }

    @Test func writePropertyAlertOncePerProperty() {
        let harness = BACnetHarness()
        harness.send(BACnetBytes.writeProperty)
        harness.send(BACnetBytes.writePropertyAck, .toClient)
        harness.send(BACnetBytes.writeProperty)
        harness.send(BACnetBytes.writePropertyAck, .toClient)
        let alerts = harness.sink.alerts(named: "bacnet.write_property")
        #expect(alerts.count == 1)
        #expect(alerts.first?.message == "10.0.0.5 wrote present-value of analog-value 3 on BACnet device 10.0.0.20 (writeProperty).")
        #expect(harness.transactions.count == 2)
        #expect(field(harness.record(), "result") == .string("simple-ack"))
        #expect(field(harness.transactions.first?.body, "operation", "class") == .string("write"))
    }

    @Test func reinitializeDeviceAlert() {
        let harness = BACnetHarness()
        harness.send(BACnetBytes.reinitialize)
        let alerts = harness.sink.alerts(named: "bacnet.reinitialize_device")
        #expect(alerts.count == 1)
        #expect(alerts.first?.message == "10.0.0.5 sent BACnet device 10.0.0.20 a reinitializeDevice request (warmstart).")
        harness.parser.close(context: harness.context)
        #expect(field(harness.record(), "reinitialized_state") == .string("warmstart"))
        #expect(field(harness.record(), "result") == .string("no response seen"))
        #expect(field(harness.transactions.first?.body, "operation", "class") == .string("restart"))
    }

    @Test func communicationDisableAlert() {
        let harness = BACnetHarness()
        harness.send(BACnetBytes.communicationDisable)
        let alerts = harness.sink.alerts(named: "bacnet.device_communication_control")
        #expect(alerts.count == 1)
        #expect(alerts.first?.message == "10.0.0.5 sent BACnet device 10.0.0.20 a deviceCommunicationControl request to disable communication for 60 minutes.")
    }

    @Test func communicationEnableNoAlert() {
        let harness = BACnetHarness()
        harness.send(BACnetBytes.communicationEnable)
        #expect(harness.alerts.isEmpty)
        harness.parser.close(context: harness.context)
        #expect(field(harness.record(), "enable_disable") == .string("enable"))
    }

    @Test func atomicWriteFileAlert() {
        let harness = BACnetHarness()
        harness.send(BACnetBytes.atomicWriteFile)
        let alerts = harness.sink.alerts(named: "bacnet.atomic_write_file")
        #expect(alerts.count == 1)
        #expect(alerts.first?.message == "10.0.0.5 wrote file 1 on BACnet device 10.0.0.20 (atomicWriteFile).")
    }

    @Test func networkLayerMessage() {
        let harness = BACnetHarness()
        harness.send(BACnetBytes.whoIsRouter)
        #expect(field(harness.record(), "network_message") == .string("who-is-router-to-network"))
        #expect(harness.anomalies.isEmpty)
    }

    @Test func linkControlMessage() {
        let harness = BACnetHarness()
        harness.send(BACnetBytes.registerForeignDevice)
        #expect(field(harness.record(), "bvlc_function") == .string("register-foreign-device"))
        #expect(field(harness.record(), "time_to_live") == .int(60))
        #expect(harness.anomalies.isEmpty)
    }

    @Test func bvlcResultNak() {
        let harness = BACnetHarness()
        harness.send([0x81, 0x00, 0x00, 0x06, 0x00, 0x30], .toClient)
        #expect(field(harness.record(), "bvlc_function") == .string("bvlc-result"))
        #expect(field(harness.record(), "bvlc_result") == .string("register-foreign-device-nak"))
    }

    @Test func forwardedNPDU() {
        let harness = BACnetHarness()
        harness.send(BACnetBytes.forwardedWhoIs)
        #expect(field(harness.record(), "bvlc_function") == .string("forwarded-npdu"))
        #expect(field(harness.record(), "service_name") == .string("who-Is"))
        #expect(harness.anomalies.isEmpty)
    }

    @Test func segmentedAckCompletesOnLastSegment() {
        let harness = BACnetHarness()
        harness.send([0x81, 0x0A, 0x00, 0x11, 0x01, 0x04, 0x02, 0x05, 0x07, 0x0C,
                      0x0C, 0x02, 0x00, 0x00, 0x01, 0x19, 0x4C])
        harness.send([0x81, 0x0A, 0x00, 0x0E, 0x01, 0x00, 0x3C, 0x07, 0x00, 0x04, 0x0C, 0x0C, 0x02, 0x00], .toClient)
        harness.send([0x81, 0x0A, 0x00, 0x0A, 0x01, 0x00, 0x40, 0x07, 0x00, 0x04])
        #expect(harness.transactions.count == 1)
        harness.send([0x81, 0x0A, 0x00, 0x0C, 0x01, 0x00, 0x38, 0x07, 0x01, 0x04, 0x0C, 0x3F], .toClient)
        #expect(harness.transactions.count == 2)
        #expect(field(harness.record(1), "property", "name") == .string("object-list"))
        #expect(field(harness.record(1), "result") == .string("complex-ack"))
        #expect(harness.anomalies.isEmpty)
    }
}

@Suite struct BACnetServiceTests {
    @Test func readPropertyMultipleFirstReference() {
        let harness = BACnetHarness()
        // readPropertyMultiple invoke 6: analog-input 1, list [present-value].
        harness.send([0x81, 0x0A, 0x00, 0x13, 0x01, 0x04, 0x00, 0x05, 0x06, 0x0E,
                      0x0C, 0x00, 0x00, 0x00, 0x01, 0x1E, 0x09, 0x55, 0x1F])
        harness.parser.close(context: harness.context)
        let record = harness.record()
        #expect(field(record, "service_name") == .string("readPropertyMultiple"))
        #expect(field(record, "object", "type") == .string("analog-input"))
        #expect(field(record, "property", "name") == .string("present-value"))
        #expect(field(harness.transactions.first?.body, "operation", "class") == .string("read"))
        #expect(harness.alerts.isEmpty)
    }

    @Test func writePropertyMultipleAlert() {
        let harness = BACnetHarness()
        // writePropertyMultiple invoke 7: analog-output 2, present-value = 42.0.
        harness.send([0x81, 0x0A, 0x00, 0x1A, 0x01, 0x04, 0x00, 0x05, 0x07, 0x10,
                      0x0C, 0x00, 0x40, 0x00, 0x02, 0x1E, 0x09, 0x55, 0x2E, 0x44, 0x42, 0x28, 0x00, 0x00, 0x2F, 0x1F])
        let alerts = harness.sink.alerts(named: "bacnet.write_property")
        #expect(alerts.count == 1)
        #expect(alerts.first?.message == "10.0.0.5 wrote present-value of analog-output 2 on BACnet device 10.0.0.20 (writePropertyMultiple).")
    }

    @Test func createObjectByType() {
        let harness = BACnetHarness()
        // createObject invoke 8: object-specifier [0] object type analog-value.
        harness.send([0x81, 0x0A, 0x00, 0x0E, 0x01, 0x04, 0x00, 0x05, 0x08, 0x0A, 0x0E, 0x09, 0x02, 0x0F])
        harness.parser.close(context: harness.context)
        let record = harness.record()
        #expect(field(record, "service_name") == .string("createObject"))
        #expect(field(record, "object", "type") == .string("analog-value"))
        // 4194303 is the instance BACnet uses for "not specified".
        #expect(field(record, "object", "instance") == .int(4_194_303))
        #expect(field(harness.transactions.first?.body, "operation", "class") == .string("write"))
    }

    @Test func deleteObjectTarget() {
        let harness = BACnetHarness()
        // deleteObject invoke 9: analog-value 5.
        harness.send([0x81, 0x0A, 0x00, 0x0F, 0x01, 0x04, 0x00, 0x05, 0x09, 0x0B, 0xC4, 0x00, 0x80, 0x00, 0x05])
        harness.parser.close(context: harness.context)
        let record = harness.record()
        #expect(field(record, "service_name") == .string("deleteObject"))
        #expect(field(record, "object", "instance") == .int(5))
        #expect(field(harness.transactions.first?.body, "operation", "name") == .string("delete_object"))
        #expect(field(harness.transactions.first?.body, "operation", "range_start") == .int(5))
    }

    @Test func iHaveNamesService() {
        let harness = BACnetHarness()
        // i-Have: device 1, analog-value 5, object name "ABC".
        harness.send([0x81, 0x0B, 0x00, 0x17, 0x01, 0x00, 0x10, 0x01, 0xC4, 0x02, 0x00, 0x00, 0x01,
                      0xC4, 0x00, 0x80, 0x00, 0x05, 0x74, 0x00, 0x41, 0x42, 0x43], .toClient)
        #expect(field(harness.record(), "service_name") == .string("i-Have"))
        #expect(harness.anomalies.isEmpty)
    }

    @Test func clientAbortEndsRequest() {
        let harness = BACnetHarness()
        harness.send(BACnetBytes.readProperty)
        // Abort from the client (SRV bit clear), invoke 1, reason other.
        harness.send([0x81, 0x0A, 0x00, 0x09, 0x01, 0x00, 0x70, 0x01, 0x00])
        #expect(field(harness.record(), "result") == .string("abort"))
        #expect(field(harness.record(), "abort_reason") == .string("other"))
        #expect(harness.anomalies.isEmpty)
    }
}

@Suite struct BACnetAnomalyTests {
    @Test func bvlcInvalidLength() {
        let harness = BACnetHarness()
        var bytes = BACnetBytes.whoIs
        bytes[3] = 0x20
        harness.send(bytes)
        harness.send(bytes)
        let anomalies = harness.sink.anomalies(named: "applayer.bacnet.bvlc_invalid_length")
        #expect(anomalies.count == 1)
        #expect(anomalies.first?.message == "10.0.0.5 sent a BVLC original-broadcast-npdu declaring 32 bytes in a 12-byte datagram.")
        #expect(harness.transactions.count == 2)
    }

    @Test func bvlcUnknownFunction() {
        let harness = BACnetHarness()
        harness.send([0x81, 0x0D, 0x00, 0x04])
        let anomalies = harness.sink.anomalies(named: "applayer.bacnet.bvlc_unknown_function")
        #expect(anomalies.count == 1)
        #expect(anomalies.first?.message == "10.0.0.5 sent a BVLC header with unknown function 0x0D.")
    }

    @Test func npduInvalidVersion() {
        let harness = BACnetHarness()
        harness.send([0x81, 0x0A, 0x00, 0x08, 0x02, 0x00, 0x10, 0x08])
        #expect(harness.sink.anomalies(named: "applayer.bacnet.npdu_invalid_version").count == 1)
    }

    @Test func apduUnknownType() {
        let harness = BACnetHarness()
        harness.send([0x81, 0x0A, 0x00, 0x08, 0x01, 0x00, 0x90, 0x00])
        let anomalies = harness.sink.anomalies(named: "applayer.bacnet.apdu_unknown_type")
        #expect(anomalies.count == 1)
        #expect(anomalies.first?.message == "10.0.0.5 sent a BACnet APDU of unknown PDU type 9.")
    }

    @Test func unknownUnconfirmedService() {
        let harness = BACnetHarness()
        harness.send([0x81, 0x0A, 0x00, 0x08, 0x01, 0x00, 0x10, 0x3F])
        #expect(harness.sink.anomalies(named: "applayer.bacnet.unknown_service").count == 1)
    }

    @Test func unknownConfirmedService() {
        let harness = BACnetHarness()
        harness.send([0x81, 0x0A, 0x00, 0x0A, 0x01, 0x04, 0x00, 0x05, 0x09, 0x3F])
        #expect(harness.sink.anomalies(named: "applayer.bacnet.unknown_service").count == 1)
    }

    @Test func ackWithoutRequestAfterTraffic() {
        let harness = BACnetHarness()
        harness.send(BACnetBytes.readProperty)
        harness.send(BACnetBytes.readPropertyAck, .toClient)
        harness.send(BACnetBytes.writePropertyAck, .toClient)
        let anomalies = harness.sink.anomalies(named: "applayer.bacnet.ack_without_request")
        #expect(anomalies.count == 1)
        #expect(anomalies.first?.message == "10.0.0.20 sent a BACnet simple-ack for invoke id 2, but 10.0.0.5 sent no request with that invoke id on this flow.")
    }

    @Test func ackFirstOnFlowIsNormal() {
        let harness = BACnetHarness()
        harness.send(BACnetBytes.writePropertyAck, .toClient)
        #expect(harness.anomalies.isEmpty)
        #expect(harness.transactions.count == 1)
    }

    @Test func truncatedReadProperty() {
        let harness = BACnetHarness()
        harness.send([0x81, 0x0A, 0x00, 0x0F, 0x01, 0x04, 0x00, 0x05, 0x01, 0x0C, 0x0C, 0x00, 0x00, 0x00, 0x01])
        #expect(harness.sink.anomalies(named: "applayer.bacnet.truncated").count == 1)
    }

    @Test func truncatedDatagram() {
        let harness = BACnetHarness()
        harness.send([0x81, 0x0A])
        #expect(harness.sink.anomalies(named: "applayer.bacnet.truncated").count == 1)
    }

    @Test func truncatedNPDU() {
        let harness = BACnetHarness()
        harness.send([0x81, 0x0B, 0x00, 0x07, 0x01, 0x20, 0xFF])
        #expect(harness.sink.anomalies(named: "applayer.bacnet.truncated").count == 1)
    }

    @Test func cleanSessionHasNoAnomalies() {
        let harness = BACnetHarness()
        for (bytes, direction) in [(BACnetBytes.whoIs, StreamDirection.toServer), (BACnetBytes.iAm, .toClient),
                                   (BACnetBytes.readProperty, .toServer), (BACnetBytes.readPropertyAck, .toClient),
                                   (BACnetBytes.writeProperty, .toServer), (BACnetBytes.writePropertyAck, .toClient)] {
            harness.send(bytes, direction)
        }
        harness.parser.close(context: harness.context)
        #expect(harness.anomalies.isEmpty)
        #expect(harness.transactions.count == 4)
    }

    @Test func hostileBytesDoNotCrash() {
        var generator = SeededGenerator(state: 0xBAC0)
        let harness = BACnetHarness()
        for _ in 0..<2000 {
            let length = Int.random(in: 0..<40, using: &generator)
            var bytes = (0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) }
            if length >= 4 {
                bytes[0] = 0x81
                bytes[1] = UInt8.random(in: 0...0x0C, using: &generator)
                bytes[2] = 0
                bytes[3] = UInt8(length)
            }
            harness.send(bytes, Bool.random(using: &generator) ? .toServer : .toClient)
        }
        harness.parser.close(context: harness.context)
        #expect(harness.sink.events.count > 0)
    }
}

/// SplitMix64, so the hostile-input tests replay the same bytes on every run.
private struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var mixed = state
        mixed = (mixed ^ (mixed >> 30)) &* 0xBF58_476D_1CE4_E5B9
        mixed = (mixed ^ (mixed >> 27)) &* 0x94D0_49BB_1331_11EB
        return mixed ^ (mixed >> 31)
    }
}
