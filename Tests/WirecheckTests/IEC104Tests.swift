import Testing
import WirecheckCore
@testable import WirecheckProtocols

// MARK: - Fixture builders (APDU layout of IEC 60870-5-104, ASDU layout of IEC 60870-5-101)

private let startDTAct: [UInt8] = [0x68, 0x04, 0x07, 0x00, 0x00, 0x00]
private let startDTCon: [UInt8] = [0x68, 0x04, 0x0B, 0x00, 0x00, 0x00]
private let stopDTAct: [UInt8] = [0x68, 0x04, 0x13, 0x00, 0x00, 0x00]
private let stopDTCon: [UInt8] = [0x68, 0x04, 0x23, 0x00, 0x00, 0x00]
private let testFRAct: [UInt8] = [0x68, 0x04, 0x43, 0x00, 0x00, 0x00]

private func iFrame(send: UInt16, receive: UInt16 = 0, _ asdu: [UInt8]) -> [UInt8] {
    [0x68, UInt8(4 + asdu.count), UInt8((send << 1) & 0xFF), UInt8(send >> 7),
     UInt8((receive << 1) & 0xFF), UInt8(receive >> 7)] + asdu
}

private func sFrame(receive: UInt16) -> [UInt8] {
    [0x68, 0x04, 0x01, 0x00, UInt8((receive << 1) & 0xFF), UInt8(receive >> 7)]
}

/// C_IC_NA_1 station interrogation: act, originator 0, common address 1, IOA 0, QOI 20.
private let interrogation: [UInt8] = [0x64, 0x01, 0x06, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x14]
private let interrogationCon: [UInt8] = [0x64, 0x01, 0x07, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x14]
private let interrogationTerm: [UInt8] = [0x64, 0x01, 0x0A, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x14]
/// M_SP_NA_1 with SQ=1: three points from IOA 10, cause inrogen (20).
private let singlePointsSequence: [UInt8] = [0x01, 0x83, 0x14, 0x00, 0x01, 0x00, 0x0A, 0x00, 0x00, 0x01, 0x00, 0x01]
/// M_SP_NA_1 with SQ=0: IOA 100 on, IOA 101 off, cause spont (3).
private let singlePoints: [UInt8] = [0x01, 0x02, 0x03, 0x00, 0x01, 0x00, 0x64, 0x00, 0x00, 0x01, 0x65, 0x00, 0x00, 0x00]
/// C_SC_NA_1 single command on IOA 1001 (0x0003E9), SCO select + on.
private let singleCommand: [UInt8] = [0x2D, 0x01, 0x06, 0x00, 0x01, 0x00, 0xE9, 0x03, 0x00, 0x81]
private let singleCommandCon: [UInt8] = [0x2D, 0x01, 0x07, 0x00, 0x01, 0x00, 0xE9, 0x03, 0x00, 0x81]
private let doubleCommand: [UInt8] = [0x2E, 0x01, 0x06, 0x00, 0x01, 0x00, 0xEA, 0x03, 0x00, 0x02]
private let clockSync: [UInt8] = [0x67, 0x01, 0x06, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x1E, 0x0C, 0x04, 0x0C, 0x1A]
private let resetProcess: [UInt8] = [0x69, 0x01, 0x06, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x01]
private let parameter: [UInt8] = [0x6E, 0x01, 0x06, 0x00, 0x01, 0x00, 0x03, 0x00, 0x00, 0x10, 0x00, 0x01]
/// F_SG_NA_1 segment of 3 octets: name of file 1, section 1, length 3.
private let fileSegment: [UInt8] = [0x7D, 0x01, 0x0D, 0x00, 0x01, 0x00, 0x03, 0x00, 0x00, 0x01, 0x00, 0x01, 0x03, 0xAA, 0xBB, 0xCC]

/// A seeded xorshift generator, so the hostile-input tests feed the same bytes on every run.
private struct SeededGenerator: RandomNumberGenerator {
    var state: UInt64

    mutating func next() -> UInt64 {
        state ^= state << 13
        state ^= state >> 7
        state ^= state << 17
        return state
    }
}

// MARK: - Harness

private final class IEC104Harness {
    let collector = EventCollector()
    let parser = IEC104Parser()
    let context: ApplicationContext
    private var leftover: [StreamDirection: [UInt8]] = [:]
    private var packetNumber: UInt64 = 0

    init() {
        let flow = FlowContext(flowID: 9, communityID: "1:test", srcIP: IPAddress("10.0.0.5")!, srcPort: 50000,
                               destIP: IPAddress("10.0.0.30")!, destPort: 2404, ipProtocol: 6)
        context = ApplicationContext(flow: flow, timestamp: .zero, packet: PacketReference(source: 0, number: 0),
                                     transport: .tcp, sink: collector)
    }

    func send(_ bytes: [UInt8], _ direction: StreamDirection = .toServer) {
        packetNumber += 1
        context.packet = PacketReference(source: 0, number: packetNumber)
        let buffer = (leftover[direction] ?? []) + bytes
        let used = buffer.withUnsafeBytes { parser.parse($0, direction: direction, context: context) }
        leftover[direction] = Array(buffer[used...])
    }

    var records: [JSONObject] {
        collector.events.compactMap { event in
            guard event.eventType == "iec104", case .object(let record)? = event.body["iec104"] else { return nil }
            return record
        }
    }

    var transactions: [Event] { collector.events.filter { $0.eventType == "iec104" } }
    var anomalyNames: [String] { collector.events.compactMap(\.anomalyName) }
    var alertNames: [String] { collector.events.compactMap(\.alertRule) }
}

private func field(_ object: JSONObject, _ path: String) -> JSONValue? {
    var current: JSONValue = .object(object)
    for key in path.split(separator: ".") {
        guard case .object(let inner) = current, let next = inner[String(key)] else { return nil }
        current = next
    }
    return current
}

// MARK: - APCI and ASDU views

@Suite struct IEC104FrameTests {
    @Test func iFrameSequenceNumbers() {
        let bytes = iFrame(send: 300, receive: 16_000, interrogation)
        bytes.withUnsafeBytes { raw in
            let apci = IEC104APCI(raw)
            #expect(apci?.length == 14)
            #expect(apci?.format == .i)
            #expect(apci?.sendSequence == 300)
            #expect(apci?.receiveSequence == 16_000)
            #expect(apci?.frameSize == 16)
        }
    }

    @Test func sFrameFields() {
        sFrame(receive: 5).withUnsafeBytes { raw in
            let apci = IEC104APCI(raw)
            #expect(apci?.format == .s)
            #expect(apci?.receiveSequence == 5)
            #expect(apci?.length == 4)
        }
    }

    @Test func uFrameFunctions() {
        #expect(IEC104Names.uFunction(startDTAct[2]) == "startdt_act")
        #expect(IEC104Names.uFunction(startDTCon[2]) == "startdt_con")
        #expect(IEC104Names.uFunction(stopDTAct[2]) == "stopdt_act")
        #expect(IEC104Names.uFunction(stopDTCon[2]) == "stopdt_con")
        #expect(IEC104Names.uFunction(testFRAct[2]) == "testfr_act")
        #expect(IEC104Names.uFunction(0x83) == "testfr_con")
        #expect(IEC104Names.uFunction(0x0F) == nil)
        startDTAct.withUnsafeBytes { #expect(IEC104APCI($0)?.format == .u) }
    }

    @Test func c104ClockSyncFields() {
        // C_CS_NA_1 act to common address 47, as c104 sent it in Tests/Fixtures/iec104/c104-session.pcap.
        let bytes: [UInt8] = [0x68, 0x14, 0x02, 0x00, 0x08, 0x00, 0x67, 0x01, 0x06, 0x00, 0x2F, 0x00,
                              0x00, 0x00, 0x00, 0x11, 0xA1, 0x12, 0x14, 0x04, 0x0C, 0x1A]
        bytes.withUnsafeBytes { raw in
            let apci = IEC104APCI(raw)
            #expect(apci?.length == 20)
            #expect(apci?.format == .i)
            #expect(apci?.sendSequence == 1)
            #expect(apci?.receiveSequence == 4)
            let asdu = IEC104ASDU(UnsafeRawBufferPointer(rebasing: raw[6...]))
            #expect(asdu?.typeID == 103)
            #expect(asdu?.cause == 6)
            #expect(asdu?.commonAddress == 47)
            #expect(asdu?.addresses == [0])
            #expect(asdu?.expectedSize == 10)
            #expect(asdu?.actualSize == 10)
        }
    }

    @Test func apciShortInput() {
        let bytes: [UInt8] = [0x68, 0x04, 0x07]
        bytes.withUnsafeBytes { #expect(IEC104APCI($0) == nil) }
    }

    @Test func interrogationASDU() {
        interrogation.withUnsafeBytes { raw in
            let asdu = IEC104ASDU(raw)
            #expect(asdu?.typeID == 100)
            #expect(asdu?.isSequence == false)
            #expect(asdu?.objectCount == 1)
            #expect(asdu?.cause == 6)
            #expect(asdu?.negative == false)
            #expect(asdu?.test == false)
            #expect(asdu?.originator == 0)
            #expect(asdu?.commonAddress == 1)
            #expect(asdu?.addresses == [0])
            #expect(asdu?.expectedSize == 4)
            #expect(asdu?.actualSize == 4)
        }
    }

    @Test func sequenceASDUAddresses() {
        singlePointsSequence.withUnsafeBytes { raw in
            let asdu = IEC104ASDU(raw)
            #expect(asdu?.isSequence == true)
            #expect(asdu?.objectCount == 3)
            #expect(asdu?.addresses == [10, 11, 12])
            #expect(asdu?.expectedSize == 6)
            #expect(asdu?.actualSize == 6)
        }
    }

    @Test func negativeTestAndOriginator() {
        let asdu: [UInt8] = [0x2D, 0x01, 0xC7, 0x05, 0x02, 0x01, 0xE9, 0x03, 0x00, 0x81]
        asdu.withUnsafeBytes { raw in
            let view = IEC104ASDU(raw)
            #expect(view?.cause == 7)
            #expect(view?.negative == true)
            #expect(view?.test == true)
            #expect(view?.originator == 5)
            #expect(view?.commonAddress == 0x0102)
        }
    }

    @Test func fileSegmentVariableSize() {
        fileSegment.withUnsafeBytes { raw in
            let asdu = IEC104ASDU(raw)
            #expect(asdu?.expectedSize == 10)
            #expect(asdu?.actualSize == 10)
        }
    }

    @Test func probeRules() {
        func probe(_ bytes: [UInt8]) -> ProbeResult {
            bytes.withUnsafeBytes { IEC104Protocol.probe($0, direction: .toServer, transport: .tcp) }
        }
        #expect(probe(startDTAct) == .match)
        #expect(probe(sFrame(receive: 3)) == .match)
        #expect(probe(iFrame(send: 0, interrogation)) == .match)
        #expect(probe([0x68, 0x04]) == .needMoreData)
        #expect(probe([0x68, 0x04, 0x0F, 0x00, 0x00, 0x00]) == .noMatch)
        #expect(probe(iFrame(send: 0, [0x18] + interrogation.dropFirst())) == .noMatch)
        #expect(probe(Array("GET / HTTP/1.1\r\n".utf8)) == .noMatch)
    }
}

// MARK: - Parser

@Suite struct IEC104ParserTests {
    private func cleanSession(_ harness: IEC104Harness) {
        harness.send(startDTAct)
        harness.send(startDTCon, .toClient)
        harness.send(iFrame(send: 0, receive: 0, interrogation))
        harness.send(iFrame(send: 0, receive: 1, interrogationCon), .toClient)
        harness.send(iFrame(send: 1, receive: 1, singlePointsSequence), .toClient)
        harness.send(iFrame(send: 2, receive: 1, interrogationTerm), .toClient)
        harness.send(sFrame(receive: 3))
        harness.send(testFRAct)
    }

    @Test func cleanSessionHasNoAnomalies() {
        let harness = IEC104Harness()
        cleanSession(harness)
        #expect(harness.anomalyNames.isEmpty)
        #expect(harness.alertNames.isEmpty)
        #expect(harness.records.count == 8)
        #expect(harness.parser.dataTransfer == .started)
    }

    @Test func commandRecordFields() {
        let harness = IEC104Harness()
        harness.send(iFrame(send: 7, receive: 3, interrogation))
        let record = harness.records[0]
        #expect(record["type"] == "command")
        #expect(field(record, "apci.type") == "I")
        #expect(field(record, "apci.tx") == 7)
        #expect(field(record, "apci.rx") == 3)
        #expect(field(record, "asdu.type_id") == 100)
        #expect(field(record, "asdu.type") == "C_IC_NA_1")
        #expect(field(record, "asdu.sq") == false)
        #expect(field(record, "asdu.num_objects") == 1)
        #expect(field(record, "asdu.cot") == 6)
        #expect(field(record, "asdu.cot_name") == "act")
        #expect(field(record, "asdu.negative") == false)
        #expect(field(record, "asdu.common_address") == 1)
        #expect(field(record, "asdu.ioas") == .array([0]))
        guard case .object(let operation)? = harness.transactions[0].body["operation"] else {
            Issue.record("the command event has no operation")
            return
        }
        #expect(operation["name"] == "C_IC_NA_1")
        #expect(operation["class"] == "read")
        #expect(operation["unit"] == 1)
        #expect(operation["range_start"] == 0)
    }

    @Test func reportAndConfirmationTypes() {
        let harness = IEC104Harness()
        harness.send(iFrame(send: 0, singlePoints), .toClient)
        harness.send(iFrame(send: 1, interrogationCon), .toClient)
        #expect(harness.records.map { $0["type"] } == ["report", "confirmation"])
        #expect(harness.transactions.allSatisfy { $0.body["operation"] == nil })
        #expect(harness.transactions[0].message
                == "10.0.0.30 sent IEC 104 M_SP_NA_1 (type 1) spont for common address 1 to 10.0.0.5, 2 objects, IOA 100-101.")
    }

    @Test func uFrameRecord() {
        let harness = IEC104Harness()
        harness.send(startDTAct)
        #expect(field(harness.records[0], "apci.type") == "U")
        #expect(field(harness.records[0], "apci.function") == "startdt_act")
    }

    @Test func threeChunksEqualOneChunk() {
        let bytes = startDTAct + iFrame(send: 0, interrogation) + sFrame(receive: 1)
        let whole = IEC104Harness()
        whole.send(bytes)
        let split = IEC104Harness()
        split.send(Array(bytes[0..<4]))
        split.send(Array(bytes[4..<11]))
        split.send(Array(bytes[11...]))
        #expect(whole.records == split.records)
        #expect(whole.records.count == 3)
        #expect(whole.anomalyNames == split.anomalyNames)
    }

    @Test func severalAPDUsInOneChunk() {
        let harness = IEC104Harness()
        harness.send(iFrame(send: 0, singlePoints) + iFrame(send: 1, singlePointsSequence) + sFrame(receive: 4), .toClient)
        #expect(harness.records.count == 3)
        #expect(harness.anomalyNames.isEmpty)
    }

    @Test func gapResynchronises() {
        let harness = IEC104Harness()
        harness.send(iFrame(send: 0, singlePoints), .toClient)
        harness.parser.gap(direction: .toClient, length: 64, context: harness.context)
        harness.send(iFrame(send: 9, singlePoints), .toClient)
        harness.send(iFrame(send: 10, singlePoints), .toClient)
        #expect(harness.anomalyNames.isEmpty)
    }

    @Test func sequenceWrapsAt32768() {
        let harness = IEC104Harness()
        harness.send(iFrame(send: 32_767, singlePoints), .toClient)
        harness.send(iFrame(send: 0, singlePoints), .toClient)
        #expect(harness.anomalyNames.isEmpty)
    }

    @Test func midstreamIFramesRaiseNothing() {
        let harness = IEC104Harness()
        harness.send(iFrame(send: 120, singlePoints), .toClient)
        harness.send(iFrame(send: 40, interrogation))
        #expect(harness.anomalyNames.isEmpty)
    }

    @Test func hostileBytesDoNotCrash() {
        let harness = IEC104Harness()
        var generator = SeededGenerator(state: 0x9E37_79B9_7F4A_7C15)
        for length in 0..<250 {
            let asdu = (0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) }
            harness.send(iFrame(send: UInt16(length), asdu))
            harness.send((0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) })
        }
        #expect(harness.transactions.count > 0)
    }
}

// MARK: - Anomalies

@Suite struct IEC104AnomalyTests {
    @Test func invalidStartByte() {
        let harness = IEC104Harness()
        harness.send([0x01, 0x02, 0x03] + startDTAct)
        #expect(harness.anomalyNames == ["applayer.iec104.invalid_start_byte"])
        #expect(harness.records.count == 1)
    }

    @Test func invalidLengthTooSmall() {
        let harness = IEC104Harness()
        harness.send([0x68, 0x02, 0x07, 0x00] + startDTAct)
        #expect(harness.anomalyNames == ["applayer.iec104.invalid_length"])
        #expect(harness.records.count == 1)
    }

    @Test func invalidLengthTooLarge() {
        let harness = IEC104Harness()
        harness.send([0x68, 0xFE, 0x00, 0x00, 0x00, 0x00])
        #expect(harness.anomalyNames.first == "applayer.iec104.invalid_length")
    }

    @Test func invalidLengthShortIFrame() {
        let harness = IEC104Harness()
        harness.send([0x68, 0x06, 0x00, 0x00, 0x00, 0x00, 0x64, 0x01])
        #expect(harness.anomalyNames == ["applayer.iec104.invalid_length"])
    }

    @Test func undefinedTypeID() {
        let harness = IEC104Harness()
        harness.send(iFrame(send: 0, [0x18, 0x01, 0x03, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x00]), .toClient)
        #expect(harness.anomalyNames == ["applayer.iec104.undefined_type_id"])
        #expect(field(harness.records[0], "asdu.type") == "undefined_24")
    }

    @Test func undefinedCause() {
        let harness = IEC104Harness()
        harness.send(iFrame(send: 0, [0x01, 0x01, 0x0E, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x00]), .toClient)
        harness.send(iFrame(send: 1, [0x01, 0x01, 0x30, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x00]), .toClient)
        #expect(harness.anomalyNames == ["applayer.iec104.undefined_cause_of_transmission"])
    }

    @Test func sequenceGap() {
        let harness = IEC104Harness()
        harness.send(iFrame(send: 0, singlePoints), .toClient)
        harness.send(iFrame(send: 3, singlePoints), .toClient)
        harness.send(iFrame(send: 4, singlePoints), .toClient)
        #expect(harness.anomalyNames == ["applayer.iec104.sequence_gap"])
    }

    @Test func sequenceRepeat() {
        let harness = IEC104Harness()
        harness.send(iFrame(send: 5, singlePoints), .toClient)
        harness.send(iFrame(send: 6, singlePoints), .toClient)
        harness.send(iFrame(send: 6, singlePoints), .toClient)
        harness.send(iFrame(send: 7, singlePoints), .toClient)
        #expect(harness.anomalyNames == ["applayer.iec104.sequence_repeat"])
    }

    @Test func iFrameBeforeStartDTCon() {
        let harness = IEC104Harness()
        harness.send(startDTAct)
        harness.send(iFrame(send: 0, interrogation))
        #expect(harness.anomalyNames == ["applayer.iec104.i_frame_before_startdt"])
    }

    @Test func iFrameAfterStopDT() {
        let harness = IEC104Harness()
        harness.send(stopDTAct)
        harness.send(stopDTCon, .toClient)
        harness.send(iFrame(send: 0, singlePoints), .toClient)
        #expect(harness.anomalyNames == ["applayer.iec104.i_frame_before_startdt"])
    }

    @Test func invalidUFrameTwoFunctions() {
        let harness = IEC104Harness()
        harness.send([0x68, 0x04, 0x0F, 0x00, 0x00, 0x00])
        #expect(harness.anomalyNames == ["applayer.iec104.invalid_u_frame"])
    }

    @Test func invalidUFrameNonZeroOctets() {
        let harness = IEC104Harness()
        harness.send([0x68, 0x04, 0x43, 0x00, 0x01, 0x00])
        #expect(harness.anomalyNames == ["applayer.iec104.invalid_u_frame"])
    }

    @Test func asduLengthMismatch() {
        // Two M_SP_NA_1 objects announced, one present.
        let harness = IEC104Harness()
        harness.send(iFrame(send: 0, Array(singlePoints.prefix(10))), .toClient)
        #expect(harness.anomalyNames == ["applayer.iec104.asdu_length_mismatch"])
    }
}

// MARK: - Alerts

@Suite struct IEC104AlertTests {
    @Test func controlCommandOncePerTypeAndAddress() {
        let harness = IEC104Harness()
        harness.send(iFrame(send: 0, singleCommand))
        harness.send(iFrame(send: 0, singleCommandCon), .toClient)
        harness.send(iFrame(send: 1, singleCommand))
        harness.send(iFrame(send: 2, doubleCommand))
        #expect(harness.alertNames == ["iec104.control_command", "iec104.control_command"])
        let key = IEC104Parser.AlertKey(rule: "iec104.control_command", typeID: 45, commonAddress: 1)
        #expect(harness.parser.alertCounts[key] == 2)
        #expect(harness.collector.alerts(named: "iec104.control_command")[0].message
                == "10.0.0.5 sent IEC 104 C_SC_NA_1 (type 45) to common address 1 at 10.0.0.30, IOA 1001.")
    }

    @Test func systemAndParameterCommands() {
        let harness = IEC104Harness()
        harness.send(iFrame(send: 0, clockSync))
        harness.send(iFrame(send: 1, resetProcess))
        harness.send(iFrame(send: 2, parameter))
        harness.send(iFrame(send: 3, fileSegment))
        #expect(harness.alertNames == ["iec104.clock_sync", "iec104.reset_process", "iec104.parameter_change",
                                       "iec104.file_transfer"])
        #expect(harness.anomalyNames.isEmpty)
    }

    @Test func interrogationRaisesNoAlert() {
        let harness = IEC104Harness()
        harness.send(iFrame(send: 0, interrogation))
        #expect(harness.alertNames.isEmpty)
    }

    @Test func catalogueIDsInRange() {
        let ids = IEC104Catalogue.alerts.map(\.signatureID)
        #expect(Set(ids).count == ids.count)
        #expect(ids.allSatisfy { (2300...2399).contains($0) })
        let names = IEC104Catalogue.anomalies.map(\.name)
        #expect(Set(names).count == names.count)
    }
}
