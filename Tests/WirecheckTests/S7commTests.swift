import Testing
import WirecheckCore
@testable import WirecheckProtocols

/// Drives one S7comm parser the way the application layer does and keeps what it emits.
final class S7Harness {
    let sink = EventCollector()
    let context: ApplicationContext
    let parser = S7commParser()
    var packetNumber: UInt64 = 0
    var buffered: [StreamDirection: [UInt8]] = [:]

    init() {
        let flow = FlowContext(flowID: 2, communityID: "1:test", srcIP: IPAddress("192.168.0.10")!, srcPort: 49_152,
                               destIP: IPAddress("192.168.0.1")!, destPort: 102, ipProtocol: 6)
        context = ApplicationContext(flow: flow, timestamp: .zero, packet: PacketReference(source: 0, number: 0),
                                     transport: .tcp, sink: sink)
    }

    func feed(_ bytes: [UInt8], _ direction: StreamDirection = .toServer) {
        packetNumber += 1
        context.packet = PacketReference(source: 0, number: packetNumber)
        var data = (buffered[direction] ?? []) + bytes
        let used = data.withUnsafeBytes { parser.parse($0, direction: direction, context: context) }
        data.removeFirst(min(used, data.count))
        buffered[direction] = data
    }

    var anomalyNames: [String] { sink.events.compactMap(\.anomalyName) }
    var alertNames: [String] { sink.events.compactMap(\.alertRule) }
    var transactions: [Event] { sink.events.filter { $0.eventType == "s7comm" || $0.eventType == "s7comm-plus" } }

    func record(_ index: Int) -> JSONObject? {
        guard index < transactions.count else { return nil }
        let event = transactions[index]
        guard case .object(let record)? = event.body[event.eventType] else { return nil }
        return record
    }
}

/// Wraps an S7 PDU in TPKT and a single COTP data unit with the end-of-TSDU mark.
func tpktData(_ pdu: [UInt8], endOfUnit: Bool = true) -> [UInt8] {
    let length = 7 + pdu.count
    return [0x03, 0x00, UInt8(length >> 8), UInt8(length & 0xFF), 0x02, 0xF0, endOfUnit ? 0x80 : 0x00] + pdu
}

/// Builds an S7 job or userdata PDU (10-byte header) with big-endian lengths.
func s7PDU(rosctr: UInt8, reference: UInt16, parameter: [UInt8], data: [UInt8] = []) -> [UInt8] {
    [0x32, rosctr, 0x00, 0x00, UInt8(reference >> 8), UInt8(reference & 0xFF),
     UInt8(parameter.count >> 8), UInt8(parameter.count & 0xFF), UInt8(data.count >> 8), UInt8(data.count & 0xFF)] + parameter + data
}

/// Builds an ack_data PDU (12-byte header with error class and code).
func s7AckData(reference: UInt16, parameter: [UInt8], data: [UInt8] = [], errorClass: UInt8 = 0, errorCode: UInt8 = 0) -> [UInt8] {
    [0x32, 0x03, 0x00, 0x00, UInt8(reference >> 8), UInt8(reference & 0xFF),
     UInt8(parameter.count >> 8), UInt8(parameter.count & 0xFF), UInt8(data.count >> 8), UInt8(data.count & 0xFF),
     errorClass, errorCode] + parameter + data
}

let cotpConnectionRequest: [UInt8] = [
    0x03, 0x00, 0x00, 0x16, 0x11, 0xE0, 0x00, 0x00, 0x00, 0x01, 0x00,
    0xC0, 0x01, 0x0A, 0xC1, 0x02, 0x01, 0x00, 0xC2, 0x02, 0x01, 0x02,
]
let cotpConnectionConfirm: [UInt8] = [
    0x03, 0x00, 0x00, 0x16, 0x11, 0xD0, 0x00, 0x01, 0x00, 0x02, 0x00,
    0xC0, 0x01, 0x0A, 0xC1, 0x02, 0x01, 0x00, 0xC2, 0x02, 0x01, 0x02,
]
let setupCommunicationJob: [UInt8] = [
    0x03, 0x00, 0x00, 0x19, 0x02, 0xF0, 0x80,
    0x32, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x08, 0x00, 0x00,
    0xF0, 0x00, 0x00, 0x01, 0x00, 0x01, 0x01, 0xE0,
]
let setupCommunicationAckData: [UInt8] = [
    0x03, 0x00, 0x00, 0x1B, 0x02, 0xF0, 0x80,
    0x32, 0x03, 0x00, 0x00, 0x00, 0x00, 0x00, 0x08, 0x00, 0x00, 0x00, 0x00,
    0xF0, 0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0xF0,
]
/// write_var of 2 bytes to DB1 byte 0, and its ack_data with return code success.
let writeDBParameter: [UInt8] = [0x05, 0x01, 0x12, 0x0A, 0x10, 0x02, 0x00, 0x02, 0x00, 0x01, 0x84, 0x00, 0x00, 0x00]
let writeDBData: [UInt8] = [0x00, 0x04, 0x00, 0x10, 0xAA, 0xBB]
/// P_PROGRAM as ASCII, the PI service that starts the program and names the CPU program in a stop.
let programServiceName: [UInt8] = [0x50, 0x5F, 0x50, 0x52, 0x4F, 0x47, 0x52, 0x41, 0x4D]
/// The block file name `_0A00001P`: DB 1 in the passive file system.
let dbOneFileName: [UInt8] = [0x5F, 0x30, 0x41, 0x30, 0x30, 0x30, 0x30, 0x31, 0x50]

func connectedSession(_ harness: S7Harness) {
    harness.feed(cotpConnectionRequest)
    harness.feed(cotpConnectionConfirm, .toClient)
    harness.feed(setupCommunicationJob)
    harness.feed(setupCommunicationAckData, .toClient)
}

@Suite struct S7HeaderTests {
    @Test func jobHeaderFields() throws {
        let pdu = Array(setupCommunicationJob.dropFirst(7))
        let message = try #require(pdu.withUnsafeBytes { S7PDUParser.parse($0) })
        #expect(message.rosctr == 1)
        #expect(message.pduReference == 0)
        #expect(message.parameterLength == 8)
        #expect(message.dataLength == 0)
        #expect(message.function == 0xF0)
        #expect(message.errorClass == nil)
        #expect(message.lengthError == nil)
    }

    @Test func ackDataHeaderFields() throws {
        let pdu = s7AckData(reference: 0x1234, parameter: [0x04, 0x01], data: [0x0A, 0x00, 0x00, 0x00], errorClass: 0x85, errorCode: 0x00)
        let message = try #require(pdu.withUnsafeBytes { S7PDUParser.parse($0) })
        #expect(message.rosctr == 3)
        #expect(message.pduReference == 0x1234)
        #expect(message.errorClass == 0x85)
        #expect(message.errorCode == 0)
        #expect(message.returnCodes == [0x0A])
    }

    @Test func writeItemFields() throws {
        let pdu = s7PDU(rosctr: 1, reference: 5, parameter: writeDBParameter, data: writeDBData)
        let message = try #require(pdu.withUnsafeBytes { S7PDUParser.parse($0) })
        let item = try #require(message.items.first)
        #expect(message.itemCount == 1)
        #expect(item.syntaxID == 0x10)
        #expect(item.transportSize == 0x02)
        #expect(item.length == 2)
        #expect(item.db == 1)
        #expect(item.area == 0x84)
        #expect(item.byteAddress == 0)
        #expect(item.bitAddress == 0)
    }

    @Test func bitAddressSplits() throws {
        // Q 5.3: bit address 5 * 8 + 3 = 43 = 0x00002B.
        let parameter: [UInt8] = [0x05, 0x01, 0x12, 0x0A, 0x10, 0x01, 0x00, 0x01, 0x00, 0x00, 0x82, 0x00, 0x00, 0x2B]
        let pdu = s7PDU(rosctr: 1, reference: 5, parameter: parameter, data: [0x00, 0x03, 0x00, 0x01, 0x01])
        let message = try #require(pdu.withUnsafeBytes { S7PDUParser.parse($0) })
        #expect(message.items.first?.address == "Q 5.3")
    }

    @Test func userdataFields() throws {
        let pdu = s7PDU(rosctr: 7, reference: 3, parameter: [0x00, 0x01, 0x12, 0x04, 0x11, 0x44, 0x01, 0x00],
                        data: [0xFF, 0x09, 0x00, 0x04, 0x00, 0x11, 0x00, 0x00])
        let message = try #require(pdu.withUnsafeBytes { S7PDUParser.parse($0) })
        let userdata = try #require(message.userdata)
        #expect(userdata.method == 0x11)
        #expect(userdata.type == 0x4)
        #expect(userdata.group == 0x4)
        #expect(userdata.subfunction == 0x01)
        #expect(userdata.subfunctionName == "read_szl")
        #expect(userdata.szlID == 0x0011)
        #expect(userdata.szlIndex == 0)
    }

    @Test func plusExploreRequest() throws {
        let pdu: [UInt8] = [0x72, 0x01, 0x00, 0x0D, 0x31, 0x00, 0x00, 0x04, 0xBB, 0x00, 0x00, 0x00, 0x07, 0x00, 0x00, 0x00, 0x00]
        let message = try #require(pdu.withUnsafeBytes { S7PlusMessage.parse($0) })
        #expect(message.version == 1)
        #expect(message.dataLength == 13)
        #expect(message.opcode == 0x31)
        #expect(message.function == 0x04BB)
        #expect(message.sequence == 7)
    }

    @Test func probesTellProtocolsApart() {
        let classic = cotpConnectionRequest + setupCommunicationJob
        classic.withUnsafeBytes { bytes in
            #expect(S7commProtocol.probe(bytes, direction: .toServer, transport: .tcp) == .match)
            #expect(S7commPlusProtocol.probe(bytes, direction: .toServer, transport: .tcp) == .noMatch)
        }
        let plus = tpktData([0x72, 0x01, 0x00, 0x04, 0x31, 0x00, 0x00, 0x04, 0xCA])
        plus.withUnsafeBytes { bytes in
            #expect(S7commProtocol.probe(bytes, direction: .toServer, transport: .tcp) == .noMatch)
            #expect(S7commPlusProtocol.probe(bytes, direction: .toServer, transport: .tcp) == .match)
        }
        // An MMS connection on the same port: the first data unit carries an ISO session SPDU (0x0D).
        let mms = tpktData([0x0D, 0x05, 0x01, 0x03, 0x00])
        mms.withUnsafeBytes { #expect(S7commProtocol.probe($0, direction: .toServer, transport: .tcp) == .noMatch) }
        cotpConnectionRequest.withUnsafeBytes {
            #expect(S7commProtocol.probe($0, direction: .toServer, transport: .tcp) == .needMoreData)
        }
    }
}

@Suite struct S7SessionTests {
    @Test func cleanSessionHasNoAnomalies() {
        let harness = S7Harness()
        connectedSession(harness)
        harness.feed(tpktData(s7PDU(rosctr: 1, reference: 1, parameter: [0x04, 0x01, 0x12, 0x0A, 0x10, 0x02, 0x00, 0x04, 0x00, 0x01, 0x84, 0x00, 0x00, 0x00])))
        harness.feed(tpktData(s7AckData(reference: 1, parameter: [0x04, 0x01], data: [0xFF, 0x04, 0x00, 0x20, 1, 2, 3, 4])), .toClient)
        harness.parser.close(context: harness.context)
        #expect(harness.anomalyNames.isEmpty)
        #expect(harness.alertNames.isEmpty)
        #expect(harness.transactions.count == 3)
    }

    @Test func cotpConnectionRecord() throws {
        let harness = S7Harness()
        harness.feed(cotpConnectionRequest)
        harness.feed(cotpConnectionConfirm, .toClient)
        let record = try #require(harness.record(0))
        guard case .object(let cotp)? = record["cotp"] else { Issue.record("no cotp record"); return }
        #expect(cotp["src_tsap"] == .string("0x0100"))
        #expect(cotp["dst_tsap"] == .string("0x0102"))
        #expect(cotp["rack"] == .int(0))
        #expect(cotp["slot"] == .int(2))
        #expect(cotp["tpdu_size"] == .int(1024))
        #expect(cotp["confirmed"] == .bool(true))
        #expect(harness.transactions[0].packets.map(\.number) == [1, 2])
    }

    @Test func setupCommunicationRecord() throws {
        let harness = S7Harness()
        connectedSession(harness)
        let record = try #require(harness.record(1))
        #expect(record["rosctr"] == .string("job"))
        #expect(record["function_name"] == .string("setup_communication"))
        guard case .object(let setup)? = record["setup"] else { Issue.record("no setup"); return }
        #expect(setup["pdu_size"] == .int(240))
        #expect(setup["max_amq_calling"] == .int(1))
        #expect(record["error_class"] == .string("no_error"))
    }

    @Test func writeDataBlockAlerts() throws {
        let harness = S7Harness()
        connectedSession(harness)
        harness.feed(tpktData(s7PDU(rosctr: 1, reference: 0x100, parameter: writeDBParameter, data: writeDBData)))
        harness.feed(tpktData(s7AckData(reference: 0x100, parameter: [0x05, 0x01], data: [0xFF])), .toClient)
        harness.feed(tpktData(s7PDU(rosctr: 1, reference: 0x101, parameter: writeDBParameter, data: writeDBData)))
        #expect(harness.anomalyNames.isEmpty)
        #expect(harness.alertNames == ["s7comm.write_var"])
        #expect(harness.parser.alertCounts["s7comm.write_var|DB1"] == 2)
        let record = try #require(harness.record(2))
        #expect(record["function_name"] == .string("write_var"))
        #expect(record["return_codes"] == .array([.string("success")]))
        guard case .array(let items)? = record["items"], case .object(let item)? = items.first else { Issue.record("no items"); return }
        #expect(item["area"] == .string("data_blocks"))
        #expect(item["db"] == .int(1))
        #expect(item["address"] == .string("0.0"))
        #expect(item["length"] == .int(2))
        guard case .object(let operation)? = harness.transactions[2].body["operation"] else { return }
        #expect(operation["class"] == .string("write"))
        #expect(operation["unit"] == .int(1))
        #expect(operation["range_start"] == .int(0))
        #expect(operation["range_end"] == .int(1))
    }

    @Test func writeOutputsAlerts() {
        let harness = S7Harness()
        connectedSession(harness)
        let parameter: [UInt8] = [0x05, 0x01, 0x12, 0x0A, 0x10, 0x01, 0x00, 0x01, 0x00, 0x00, 0x82, 0x00, 0x00, 0x00]
        harness.feed(tpktData(s7PDU(rosctr: 1, reference: 2, parameter: parameter, data: [0x00, 0x03, 0x00, 0x01, 0x01])))
        #expect(harness.alertNames == ["s7comm.write_outputs"])
        #expect(harness.sink.alerts(named: "s7comm.write_outputs").first?.message?.contains("outputs Q 0.0") == true)
    }

    @Test func plcStopAlerts() {
        let harness = S7Harness()
        connectedSession(harness)
        harness.feed(tpktData(s7PDU(rosctr: 1, reference: 3, parameter: [0x29, 0x00, 0x00, 0x00, 0x00, 0x00, 0x09] + programServiceName)))
        harness.feed(tpktData(s7AckData(reference: 3, parameter: [0x29])), .toClient)
        #expect(harness.anomalyNames.isEmpty)
        #expect(harness.alertNames == ["s7comm.plc_stop"])
        #expect(harness.record(2)?["pi_service"] == .string("P_PROGRAM"))
    }

    @Test func plcStartAlerts() {
        let harness = S7Harness()
        connectedSession(harness)
        let parameter: [UInt8] = [0x28, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xFD, 0x00, 0x00, 0x09] + programServiceName
        harness.feed(tpktData(s7PDU(rosctr: 1, reference: 4, parameter: parameter)))
        harness.feed(tpktData(s7AckData(reference: 4, parameter: [0x28])), .toClient)
        #expect(harness.anomalyNames.isEmpty)
        #expect(harness.alertNames == ["s7comm.plc_start"])
        guard case .object(let operation)? = harness.transactions[2].body["operation"] else { return }
        #expect(operation["name"] == .string("program_start"))
        #expect(operation["class"] == .string("control"))
    }

    @Test func downloadSequenceAlertsOnce() throws {
        let harness = S7Harness()
        connectedSession(harness)
        let header: [UInt8] = [0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x09]
        harness.feed(tpktData(s7PDU(rosctr: 1, reference: 10, parameter: [0x1A] + header + dbOneFileName + [0x00])))
        harness.feed(tpktData(s7AckData(reference: 10, parameter: [0x1A])), .toClient)
        // The PLC pulls the block: download block and download ended are jobs from the PLC.
        harness.feed(tpktData(s7PDU(rosctr: 1, reference: 0x0300, parameter: [0x1B] + header + dbOneFileName)), .toClient)
        harness.feed(tpktData(s7AckData(reference: 0x0300, parameter: [0x1B, 0x00], data: [0x00, 0x04, 0x00, 0x00])))
        harness.feed(tpktData(s7PDU(rosctr: 1, reference: 0x0301, parameter: [0x1C] + header + dbOneFileName)), .toClient)
        harness.feed(tpktData(s7AckData(reference: 0x0301, parameter: [0x1C])))
        #expect(harness.alertNames.isEmpty)
        let insert: [UInt8] = [0x28, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xFD, 0x00, 0x0A, 0x01, 0x00,
                               0x30, 0x41, 0x30, 0x30, 0x30, 0x30, 0x31, 0x50, 0x05, 0x5F, 0x49, 0x4E, 0x53, 0x45]
        harness.feed(tpktData(s7PDU(rosctr: 1, reference: 11, parameter: insert)))
        harness.feed(tpktData(s7AckData(reference: 11, parameter: [0x28])), .toClient)
        harness.parser.close(context: harness.context)
        #expect(harness.anomalyNames.isEmpty)
        #expect(harness.alertNames == ["s7comm.program_download"])
        let alert = try #require(harness.sink.alerts(named: "s7comm.program_download").first)
        #expect(alert.message == "192.168.0.10 downloaded DB 1 to 192.168.0.1 over S7comm.")
        #expect(alert.packets.count == 4)
        let record = try #require(harness.record(2))
        guard case .object(let block)? = record["block"] else { Issue.record("no block"); return }
        #expect(block["type"] == .string("DB"))
        #expect(block["number"] == .int(1))
        #expect(block["file_name"] == .string("_0A00001P"))
    }

    @Test func downloadWithoutInsertAlertsAtClose() {
        let harness = S7Harness()
        connectedSession(harness)
        let header: [UInt8] = [0x00, 0x01, 0x00, 0x00, 0x00, 0x00, 0x00, 0x09]
        harness.feed(tpktData(s7PDU(rosctr: 1, reference: 10, parameter: [0x1A] + header + dbOneFileName + [0x00])))
        #expect(harness.alertNames.isEmpty)
        harness.parser.close(context: harness.context)
        #expect(harness.alertNames == ["s7comm.program_download"])
    }

    @Test func uploadAlerts() {
        let harness = S7Harness()
        connectedSession(harness)
        let parameter: [UInt8] = [0x1D, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x09,
                                  0x5F, 0x30, 0x38, 0x30, 0x30, 0x30, 0x30, 0x31, 0x41]
        harness.feed(tpktData(s7PDU(rosctr: 1, reference: 12, parameter: parameter)))
        #expect(harness.alertNames == ["s7comm.program_upload"])
        #expect(harness.parser.alertCounts["s7comm.program_upload|OB 1"] == 1)
    }

    @Test func deleteAlerts() {
        let harness = S7Harness()
        connectedSession(harness)
        let parameter: [UInt8] = [0x28, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0xFD, 0x00, 0x0A, 0x01, 0x00,
                                  0x30, 0x43, 0x30, 0x30, 0x30, 0x30, 0x35, 0x42, 0x05, 0x5F, 0x44, 0x45, 0x4C, 0x45]
        harness.feed(tpktData(s7PDU(rosctr: 1, reference: 13, parameter: parameter)))
        #expect(harness.alertNames == ["s7comm.block_delete"])
        #expect(harness.parser.alertCounts["s7comm.block_delete|FC 5"] == 1)
    }

    @Test func setClockAndPasswordAlert() {
        let harness = S7Harness()
        connectedSession(harness)
        harness.feed(tpktData(s7PDU(rosctr: 7, reference: 20, parameter: [0x00, 0x01, 0x12, 0x04, 0x11, 0x47, 0x02, 0x00],
                                    data: [0xFF, 0x09, 0x00, 0x0A, 0x00, 0x19, 0x26, 0x12, 0x04, 0x20, 0x15, 0x00, 0x00, 0x05])))
        harness.feed(tpktData(s7PDU(rosctr: 7, reference: 21, parameter: [0x00, 0x01, 0x12, 0x04, 0x11, 0x45, 0x01, 0x00],
                                    data: [0xFF, 0x09, 0x00, 0x08, 1, 2, 3, 4, 5, 6, 7, 8])))
        #expect(harness.anomalyNames.isEmpty)
        #expect(harness.alertNames == ["s7comm.set_clock", "s7comm.password"])
    }

    @Test func readSZLPairsUserdata() throws {
        let harness = S7Harness()
        connectedSession(harness)
        harness.feed(tpktData(s7PDU(rosctr: 7, reference: 30, parameter: [0x00, 0x01, 0x12, 0x04, 0x11, 0x44, 0x01, 0x00],
                                    data: [0xFF, 0x09, 0x00, 0x04, 0x00, 0x11, 0x00, 0x00])))
        harness.feed(tpktData(s7PDU(rosctr: 7, reference: 30, parameter: [0x00, 0x01, 0x12, 0x08, 0x12, 0x84, 0x01, 0x01, 0x00, 0x00, 0x00, 0x00],
                                    data: [0xFF, 0x09, 0x00, 0x04, 0x00, 0x11, 0x00, 0x00])), .toClient)
        #expect(harness.anomalyNames.isEmpty)
        #expect(harness.transactions.count == 3)
        let record = try #require(harness.record(2))
        guard case .object(let userdata)? = record["userdata"] else { Issue.record("no userdata"); return }
        #expect(userdata["group_name"] == .string("cpu_functions"))
        #expect(userdata["subfunction_name"] == .string("read_szl"))
        #expect(userdata["szl_id"] == .string("0x0011"))
        #expect(userdata["error_code"] == .int(0))
        #expect(harness.transactions[2].packets.map(\.number) == [5, 6])
    }

    @Test func fragmentedDataUnitReassembles() throws {
        let pdu = s7PDU(rosctr: 1, reference: 0x100, parameter: writeDBParameter, data: writeDBData)
        let whole = S7Harness()
        connectedSession(whole)
        whole.feed(tpktData(pdu))
        let split = S7Harness()
        connectedSession(split)
        split.feed(tpktData(Array(pdu[0 ..< 9]), endOfUnit: false))
        split.feed(tpktData(Array(pdu[9...])))
        whole.parser.close(context: whole.context)
        split.parser.close(context: split.context)
        #expect(split.anomalyNames.isEmpty)
        #expect(split.record(2) == whole.record(2))
        #expect(split.alertNames == whole.alertNames)
    }

    @Test func threeChunksEqualOneChunk() {
        let stream = cotpConnectionRequest + setupCommunicationJob + tpktData(s7PDU(rosctr: 1, reference: 0x100, parameter: writeDBParameter, data: writeDBData))
        let whole = S7Harness()
        whole.feed(stream)
        let split = S7Harness()
        split.feed(Array(stream[0 ..< 3]))
        split.feed(Array(stream[3 ..< 30]))
        split.feed(Array(stream[30...]))
        whole.parser.close(context: whole.context)
        split.parser.close(context: split.context)
        #expect(whole.transactions.count == 3)
        #expect(split.transactions.count == whole.transactions.count)
        #expect(split.record(2) == whole.record(2))
        #expect(split.alertNames == whole.alertNames)
    }

    @Test func plusConnectionReportsAsPlus() throws {
        let harness = S7Harness()
        harness.feed(tpktData([0x72, 0x01, 0x00, 0x0D, 0x31, 0x00, 0x00, 0x04, 0xCA, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x00]))
        #expect(harness.transactions.first?.eventType == "s7comm-plus")
        let record = try #require(harness.record(0))
        #expect(record["function_name"] == .string("create_object"))
        #expect(record["opcode_name"] == .string("request"))
    }
}

@Suite struct S7AnomalyTests {
    @Test func tpktInvalidVersion() {
        let harness = S7Harness()
        harness.feed([0x04, 0x00, 0x00, 0x07, 0x02, 0xF0, 0x80])
        #expect(harness.anomalyNames == ["applayer.s7comm.tpkt_invalid_version"])
    }

    @Test func gapResumesAfterBadVersion() {
        let harness = S7Harness()
        harness.feed([0x04, 0x00, 0x00, 0x07, 0x02, 0xF0, 0x80])
        harness.feed(setupCommunicationJob)
        #expect(harness.transactions.isEmpty)
        harness.parser.gap(direction: .toServer, length: 100, context: harness.context)
        harness.feed(setupCommunicationJob)
        harness.parser.close(context: harness.context)
        #expect(harness.anomalyNames == ["applayer.s7comm.tpkt_invalid_version"])
        #expect(harness.record(0)?["function_name"] == .string("setup_communication"))
    }

    @Test func tpktInvalidLength() {
        let harness = S7Harness()
        harness.feed([0x03, 0x00, 0x00, 0x05, 0x02, 0xF0, 0x80])
        #expect(harness.anomalyNames == ["applayer.s7comm.tpkt_invalid_length"])
    }

    @Test func cotpUnknownType() {
        let harness = S7Harness()
        harness.feed([0x03, 0x00, 0x00, 0x07, 0x02, 0x30, 0x00])
        #expect(harness.anomalyNames == ["applayer.s7comm.cotp_unknown_type"])
    }

    @Test func cotpDisconnectIsKnown() {
        let harness = S7Harness()
        harness.feed([0x03, 0x00, 0x00, 0x0B, 0x06, 0x80, 0x00, 0x01, 0x00, 0x02, 0x00])
        #expect(harness.anomalyNames.isEmpty)
    }

    @Test func lengthMismatch() {
        let harness = S7Harness()
        var pdu = s7PDU(rosctr: 1, reference: 1, parameter: writeDBParameter, data: writeDBData)
        pdu[9] = 0x09
        harness.feed(tpktData(pdu))
        #expect(harness.anomalyNames == ["applayer.s7comm.length_mismatch"])
    }

    @Test func unknownFunction() {
        let harness = S7Harness()
        harness.feed(tpktData(s7PDU(rosctr: 1, reference: 1, parameter: [0x99, 0x00])))
        #expect(harness.anomalyNames == ["applayer.s7comm.unknown_function"])
    }

    @Test func ackWithoutJob() {
        let harness = S7Harness()
        connectedSession(harness)
        harness.feed(tpktData(s7AckData(reference: 0x4444, parameter: [0x04, 0x01], data: [0xFF, 0x04, 0x00, 0x08, 0x01, 0x00])), .toClient)
        #expect(harness.anomalyNames == ["applayer.s7comm.ack_without_job"])
    }

    @Test func midStreamAckIsNotAnomaly() {
        let harness = S7Harness()
        harness.feed(tpktData(s7AckData(reference: 0x4444, parameter: [0x04, 0x01], data: [0xFF, 0x04, 0x00, 0x08, 0x01, 0x00])), .toClient)
        #expect(harness.anomalyNames.isEmpty)
        #expect(harness.transactions.count == 1)
    }

    @Test func unknownROSCTR() {
        let harness = S7Harness()
        harness.feed(tpktData(s7PDU(rosctr: 5, reference: 1, parameter: [0x04, 0x00])))
        #expect(harness.anomalyNames == ["applayer.s7comm.unknown_rosctr"])
    }

    @Test func unknownProtocolID() {
        let harness = S7Harness()
        harness.feed(tpktData([0x0D, 0x05, 0x01, 0x03, 0x00]))
        #expect(harness.anomalyNames == ["applayer.s7comm.unknown_protocol_id"])
    }

    @Test func reassemblyOverflow() {
        let harness = S7Harness()
        let fragment = tpktData(Array(repeating: 0x32, count: 8_000), endOfUnit: false)
        for _ in 0 ..< 9 { harness.feed(fragment) }
        #expect(harness.anomalyNames == ["applayer.s7comm.cotp_reassembly_overflow"])
    }

    @Test func hostileBytesDoNotCrash() {
        var generator = SystemRandomNumberGenerator()
        for _ in 0 ..< 300 {
            let length = Int.random(in: 0 ..< 80, using: &generator)
            var pdu = (0 ..< length).map { _ in UInt8.random(in: 0 ... 255, using: &generator) }
            if !pdu.isEmpty { pdu[0] = Bool.random(using: &generator) ? 0x32 : 0x72 }
            if pdu.count > 10 { pdu[1] = [1, 3, 7][Int.random(in: 0 ..< 3, using: &generator)] }
            if pdu.count > 11 { pdu[10] = [0x04, 0x05, 0x28, 0x29, 0x1A, 0x00][Int.random(in: 0 ..< 6, using: &generator)] }
            let harness = S7Harness()
            harness.feed(tpktData(pdu))
            harness.feed(tpktData(pdu), .toClient)
            harness.parser.close(context: harness.context)
        }
    }
}

@Suite struct S7FixtureTests {
    /// The python-snap7 session of Scripts/fixtures/s7comm_snap7.py: every alerting operation once.
    @Test func snap7SessionReplay() throws {
        let replay = ENIPS7CaptureReplay(serverPorts: [102]) { _ in S7commParser() }
        let packets = try #require(replay.replay(path: ReplayPaths.fixture("s7comm/snap7-session.pcap")))
        #expect(packets > 0)
        #expect(replay.sink.events.compactMap(\.anomalyName).isEmpty)
        let alerts = replay.sink.events.compactMap(\.alertRule)
        #expect(alerts.sorted() == [
            "s7comm.password", "s7comm.plc_start", "s7comm.plc_stop", "s7comm.program_download", "s7comm.program_upload",
            "s7comm.set_clock", "s7comm.write_outputs", "s7comm.write_var", "s7comm.write_var",
        ])
        let download = replay.sink.alerts(named: "s7comm.program_download").first
        #expect(download?.message == "127.0.0.1 downloaded DB 1 to 127.0.0.1 over S7comm.")
        let functions = replay.sink.events.compactMap { event -> String? in
            guard case .object(let record)? = event.body["s7comm"], case .string(let name)? = record["function_name"] else { return nil }
            return name
        }
        #expect(functions == [
            "setup_communication", "read_var", "write_var", "write_var", "write_var", "start_upload", "upload", "end_upload",
            "request_download", "download_block", "download_ended", "plc_stop", "pi_service",
        ])
    }
}
