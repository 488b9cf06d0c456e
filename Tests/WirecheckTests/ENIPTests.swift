import Testing
import WirecheckCore
@testable import WirecheckProtocols

/// Drives one parser the way the application layer does and keeps what it emits.
final class ENIPHarness {
    let sink = EventCollector()
    let context: ApplicationContext
    let parser: ENIPParser
    var packetNumber: UInt64 = 0
    var buffered: [StreamDirection: [UInt8]] = [:]

    init(transport: Transport = .tcp) {
        let flow = FlowContext(flowID: 1, communityID: "1:test", srcIP: IPAddress("10.0.0.5")!, srcPort: 50_000,
                               destIP: IPAddress("10.0.0.20")!, destPort: 44818, ipProtocol: transport == .tcp ? 6 : 17)
        context = ApplicationContext(flow: flow, timestamp: .zero, packet: PacketReference(source: 0, number: 0),
                                     transport: transport, sink: sink)
        parser = ENIPProtocol.makeParser(transport: transport) as! ENIPParser
    }

    /// Offers `bytes` as one segment, keeping what the parser leaves as the caller would.
    func feed(_ bytes: [UInt8], _ direction: StreamDirection = .toServer) {
        packetNumber += 1
        context.packet = PacketReference(source: 0, number: packetNumber)
        var data = (buffered[direction] ?? []) + bytes
        let used = data.withUnsafeBytes { parser.parse($0, direction: direction, context: context) }
        data.removeFirst(min(used, data.count))
        buffered[direction] = context.transport == .tcp ? data : []
    }

    var anomalyNames: [String] { sink.events.compactMap(\.anomalyName) }
    var alertNames: [String] { sink.events.compactMap(\.alertRule) }
    var transactions: [Event] { sink.events.filter { $0.eventType == "enip" } }

    func record(_ index: Int = 0) -> JSONObject? {
        guard index < transactions.count, case .object(let record)? = transactions[index].body["enip"] else { return nil }
        return record
    }
}

/// Builds an encapsulation message around `data`; the 24 header bytes are little-endian.
func encapsulation(_ command: UInt16, session: UInt32 = 0, status: UInt32 = 0, context: UInt64 = 0,
                   options: UInt32 = 0, data: [UInt8] = []) -> [UInt8] {
    var bytes: [UInt8] = []
    func put16(_ value: UInt16) { bytes += [UInt8(value & 0xFF), UInt8(value >> 8)] }
    func put32(_ value: UInt32) { put16(UInt16(value & 0xFFFF)); put16(UInt16(value >> 16)) }
    put16(command)
    put16(UInt16(data.count))
    put32(session)
    put32(status)
    put32(UInt32(context & 0xFFFF_FFFF))
    put32(UInt32(context >> 32))
    put32(options)
    return bytes + data
}

/// SendRRData data: interface handle 0, timeout 0, null address item, unconnected data item with `cip`.
func sendRRData(_ cip: [UInt8]) -> [UInt8] {
    [0, 0, 0, 0, 0, 0, 0x02, 0x00, 0x00, 0x00, 0x00, 0x00, 0xB2, 0x00, UInt8(cip.count & 0xFF), UInt8(cip.count >> 8)] + cip
}

let registerSessionRequest: [UInt8] = [
    0x65, 0x00, 0x04, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x00, 0x00, 0x00, 0x00,
    0x01, 0x00, 0x00, 0x00,
]
let registerSessionReply: [UInt8] = [
    0x65, 0x00, 0x04, 0x00, 0x11, 0x22, 0x33, 0x44, 0x00, 0x00, 0x00, 0x00,
    0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x00, 0x00, 0x00, 0x00,
    0x01, 0x00, 0x00, 0x00,
]
/// get_attribute_single to identity (class 1) instance 1 attribute 7 (product name).
let getProductNameCIP: [UInt8] = [0x0E, 0x03, 0x20, 0x01, 0x24, 0x01, 0x30, 0x07]
let getProductNameReplyCIP: [UInt8] = [0x8E, 0x00, 0x00, 0x00, 0x04, 0x54, 0x45, 0x53, 0x54]

@Suite struct ENIPHeaderTests {
    @Test func registerSessionFields() {
        registerSessionReply.withUnsafeBytes { bytes in
            let header = ENIPHeader(bytes)
            #expect(header?.command == 0x0065)
            #expect(header?.length == 4)
            #expect(header?.session == 0x4433_2211)
            #expect(header?.status == 0)
            #expect(header?.senderContext == 0x0807_0605_0403_0201)
            #expect(header?.options == 0)
        }
    }

    @Test func shortHeaderIsNil() {
        let bytes: [UInt8] = Array(registerSessionReply.prefix(23))
        bytes.withUnsafeBytes { #expect(ENIPHeader($0) == nil) }
    }

    @Test func probeMatchesRegisterSession() {
        registerSessionRequest.withUnsafeBytes { bytes in
            #expect(ENIPProtocol.probe(bytes, direction: .toServer, transport: .tcp) == .match)
        }
    }

    @Test func probeRejectsHTTP() {
        let bytes = Array("GET / HTTP/1.1\r\nHost: plc\r\n\r\n".utf8)
        bytes.withUnsafeBytes { #expect(ENIPProtocol.probe($0, direction: .toServer, transport: .tcp) == .noMatch) }
    }

    @Test func probeWaitsForHeader() {
        let bytes: [UInt8] = [0x65, 0x00]
        bytes.withUnsafeBytes { #expect(ENIPProtocol.probe($0, direction: .toServer, transport: .tcp) == .needMoreData) }
    }

    @Test func probeMatchesClassOneIO() {
        let io: [UInt8] = [0x02, 0x00, 0x02, 0x80, 0x08, 0x00, 0x01, 0x00, 0x00, 0x00, 0x05, 0x00, 0x00, 0x00,
                           0xB1, 0x00, 0x04, 0x00, 0x05, 0x00, 0xAA, 0xBB]
        io.withUnsafeBytes { #expect(ENIPProtocol.probe($0, direction: .toServer, transport: .udp) == .match) }
    }
}

@Suite struct CIPPathTests {
    func parse(_ bytes: [UInt8]) -> (CIPPath, String?) {
        bytes.withUnsafeBytes { let result = EPATH.parse($0, start: 0, length: bytes.count); return (result.path, result.error) }
    }

    @Test func eightBitLogicalSegments() {
        let (path, error) = parse([0x20, 0x01, 0x24, 0x01, 0x30, 0x07])
        #expect(error == nil)
        #expect(path.classID == 1)
        #expect(path.instance == 1)
        #expect(path.attribute == 7)
    }

    @Test func sixteenAndThirtyTwoBitSegments() {
        let (path, error) = parse([0x21, 0x00, 0x04, 0x01, 0x25, 0x00, 0x96, 0x00, 0x32, 0x00, 0x78, 0x56, 0x34, 0x12])
        #expect(error == nil)
        #expect(path.classID == 0x0104)
        #expect(path.instance == 150)
        #expect(path.attribute == 0x1234_5678)
    }

    @Test func symbolicSegmentsJoin() {
        let (path, error) = parse([0x91, 0x05, 0x4D, 0x6F, 0x74, 0x6F, 0x72, 0x00, 0x91, 0x04, 0x52, 0x75, 0x6E, 0x31, 0x28, 0x02])
        #expect(error == nil)
        #expect(path.symbol == Array("Motor.Run1".utf8))
        #expect(path.member == 2)
    }

    @Test func portSegmentBackplaneSlot() {
        let (path, error) = parse([0x01, 0x00, 0x20, 0x02, 0x24, 0x01])
        #expect(error == nil)
        #expect(path.port == 1)
        #expect(path.linkAddress == [0])
        #expect(path.classID == 2)
    }

    @Test func truncatedSegmentIsInvalid() {
        let (_, error) = parse([0x20, 0x01, 0x25, 0x00])
        #expect(error != nil)
    }

    @Test func reservedFormatIsInvalid() {
        let (_, error) = parse([0x23, 0x01])
        #expect(error != nil)
    }

    @Test func symbolLongerThanPathIsInvalid() {
        let (_, error) = parse([0x91, 0x09, 0x41, 0x42])
        #expect(error != nil)
    }
}

@Suite struct ENIPSessionTests {
    @Test func registeredSessionIsClean() {
        let harness = ENIPHarness()
        harness.feed(registerSessionRequest)
        harness.feed(registerSessionReply, .toClient)
        harness.feed(encapsulation(0x6F, session: 0x4433_2211, context: 9, data: sendRRData(getProductNameCIP)))
        harness.feed(encapsulation(0x6F, session: 0x4433_2211, context: 9, data: sendRRData(getProductNameReplyCIP)), .toClient)
        harness.feed(encapsulation(0x66, session: 0x4433_2211))
        harness.parser.close(context: harness.context)
        #expect(harness.anomalyNames.isEmpty)
        #expect(harness.alertNames.isEmpty)
        #expect(harness.transactions.count == 3)
    }

    @Test func getAttributeSingleRecord() throws {
        let harness = ENIPHarness()
        harness.feed(registerSessionRequest)
        harness.feed(registerSessionReply, .toClient)
        harness.feed(encapsulation(0x6F, session: 0x4433_2211, context: 9, data: sendRRData(getProductNameCIP)))
        harness.feed(encapsulation(0x6F, session: 0x4433_2211, context: 9, data: sendRRData(getProductNameReplyCIP)), .toClient)
        let record = try #require(harness.record(1))
        #expect(record["command"] == .string("send_rr_data"))
        #expect(record["session"] == .int(0x4433_2211))
        #expect(record["status"] == .string("success"))
        guard case .object(let cip)? = record["cip"] else { Issue.record("no cip record"); return }
        #expect(cip["service"] == .int(0x0E))
        #expect(cip["service_name"] == .string("get_attribute_single"))
        #expect(cip["class"] == .int(1))
        #expect(cip["class_name"] == .string("identity"))
        #expect(cip["instance"] == .int(1))
        #expect(cip["attribute"] == .int(7))
        #expect(cip["status"] == .int(0))
        let event = harness.transactions[1]
        #expect(event.packets.map(\.number) == [3, 4])
        guard case .object(let operation)? = event.body["operation"] else { Issue.record("no operation"); return }
        #expect(operation["class"] == .string("read"))
        #expect(operation["range_start"] == .int(7))
        #expect(event.message?.contains("10.0.0.5 sent CIP get_attribute_single to 10.0.0.20") == true)
    }

    @Test func unregisteredSessionIsAnomaly() {
        let harness = ENIPHarness()
        harness.feed(registerSessionRequest)
        harness.feed(registerSessionReply, .toClient)
        harness.feed(encapsulation(0x6F, session: 0xDEAD_BEEF, data: sendRRData(getProductNameCIP)))
        #expect(harness.anomalyNames == ["applayer.enip.session_not_registered"])
    }

    @Test func midStreamHandleIsAdopted() {
        let harness = ENIPHarness()
        harness.feed(encapsulation(0x6F, session: 0x0102_0304, data: sendRRData(getProductNameCIP)))
        harness.feed(encapsulation(0x6F, session: 0x0102_0304, data: sendRRData(getProductNameCIP)))
        #expect(harness.anomalyNames.isEmpty)
        harness.feed(encapsulation(0x6F, session: 0x0505_0505, data: sendRRData(getProductNameCIP)))
        #expect(harness.anomalyNames == ["applayer.enip.session_not_registered"])
    }

    @Test func threeChunksEqualOneChunk() {
        let stream = registerSessionRequest + encapsulation(0x6F, session: 0x4433_2211, context: 9, data: sendRRData(getProductNameCIP))
        let whole = ENIPHarness()
        whole.feed(stream)
        let split = ENIPHarness()
        split.feed(Array(stream[0 ..< 10]))
        split.feed(Array(stream[10 ..< 37]))
        split.feed(Array(stream[37...]))
        whole.parser.close(context: whole.context)
        split.parser.close(context: split.context)
        #expect(whole.transactions.count == 2)
        #expect(split.transactions.count == whole.transactions.count)
        #expect(split.record(1) == whole.record(1))
        #expect(split.anomalyNames == whole.anomalyNames)
    }
}

@Suite struct ENIPAnomalyTests {
    @Test func unknownCommand() {
        let harness = ENIPHarness()
        harness.feed(encapsulation(0x0042, data: [1, 2]))
        #expect(harness.anomalyNames == ["applayer.enip.unknown_command"])
    }

    @Test func unknownCommandErrorReplyIsQuiet() {
        let harness = ENIPHarness()
        harness.feed(encapsulation(0x0042, data: [1, 2]))
        harness.feed(encapsulation(0x0042, status: 0x01), .toClient)
        #expect(harness.anomalyNames == ["applayer.enip.unknown_command"])
    }

    @Test func emptyErrorReplyIsNormal() {
        let harness = ENIPHarness()
        harness.feed(encapsulation(0x6F, session: 7, data: sendRRData(getProductNameCIP)))
        harness.feed(encapsulation(0x6F, session: 7, status: 0x64), .toClient)
        #expect(harness.anomalyNames.isEmpty)
        #expect(harness.record()?["status"] == .string("invalid_session_handle"))
    }

    @Test func sendRRDataTooShort() {
        let harness = ENIPHarness()
        harness.feed(encapsulation(0x6F, session: 7, data: [0, 0, 0, 0]))
        #expect(harness.anomalyNames == ["applayer.enip.invalid_length"])
    }

    @Test func registerSessionWrongLength() {
        let harness = ENIPHarness()
        harness.feed(encapsulation(0x65, data: [1, 0, 0, 0, 0, 0]))
        #expect(harness.anomalyNames == ["applayer.enip.invalid_length"])
    }

    @Test func udpLengthDisagrees() {
        let harness = ENIPHarness(transport: .udp)
        harness.feed(encapsulation(0x63) + [0, 0])
        #expect(harness.anomalyNames == ["applayer.enip.invalid_length"])
    }

    @Test func statusInRequest() {
        let harness = ENIPHarness()
        harness.feed(encapsulation(0x65, status: 1, data: [1, 0, 0, 0]))
        #expect(harness.anomalyNames == ["applayer.enip.status_in_request"])
    }

    @Test func statusInReplyIsNormal() {
        let harness = ENIPHarness()
        harness.feed(encapsulation(0x65, data: [1, 0, 0, 0]))
        harness.feed(encapsulation(0x65, status: 0x69, data: [1, 0, 0, 0]), .toClient)
        #expect(harness.anomalyNames.isEmpty)
    }

    @Test func cpfItemLengthTooLong() {
        let harness = ENIPHarness()
        var data = sendRRData(getProductNameCIP)
        data[14] = 0x40
        harness.feed(encapsulation(0x6F, session: 7, data: data))
        #expect(harness.anomalyNames == ["applayer.enip.cpf_invalid"])
    }

    @Test func cpfTrailingBytes() {
        let harness = ENIPHarness()
        harness.feed(encapsulation(0x6F, session: 7, data: sendRRData(getProductNameCIP) + [0, 0]))
        #expect(harness.anomalyNames == ["applayer.enip.cpf_invalid"])
    }

    @Test func pathInvalid() {
        let harness = ENIPHarness()
        // The path is 2 words: the 8-bit class segment fits, but the 16-bit instance segment is cut after its pad byte.
        harness.feed(encapsulation(0x6F, session: 7, data: sendRRData([0x0E, 0x02, 0x20, 0x01, 0x25, 0x00])))
        #expect(harness.anomalyNames == ["applayer.cip.path_invalid"])
    }

    @Test func unknownService() {
        let harness = ENIPHarness()
        harness.feed(encapsulation(0x6F, session: 7, data: sendRRData([0x30, 0x02, 0x20, 0x01, 0x24, 0x01])))
        #expect(harness.anomalyNames == ["applayer.cip.unknown_service"])
    }

    @Test func vendorServiceIsNotAnomaly() {
        let harness = ENIPHarness()
        harness.feed(encapsulation(0x6F, session: 7, data: sendRRData([0x4B, 0x02, 0x20, 0x64, 0x24, 0x01])))
        #expect(harness.anomalyNames.isEmpty)
    }

    @Test func gapResumesAfterGarbage() {
        let harness = ENIPHarness()
        harness.feed(Array(repeating: 0xFF, count: 30))
        harness.parser.gap(direction: .toServer, length: 100, context: harness.context)
        harness.buffered[.toServer] = []
        harness.feed(registerSessionRequest)
        harness.parser.close(context: harness.context)
        #expect(harness.anomalyNames == ["applayer.enip.unknown_command"])
        #expect(harness.record()?["command"] == .string("register_session"))
    }

    @Test func garbageStopsDirection() {
        let harness = ENIPHarness()
        harness.feed(Array(repeating: 0xFF, count: 60))
        harness.feed(registerSessionRequest)
        #expect(harness.anomalyNames == ["applayer.enip.unknown_command"])
        #expect(harness.transactions.isEmpty)
    }
}

@Suite struct CIPServiceTests {
    @Test func multipleServicePacketWalksEmbedded() throws {
        // Two requests: get_attribute_single class 1/1/1 and set_attribute_single class 4/100/3 (2 bytes).
        let cip: [UInt8] = [
            0x0A, 0x02, 0x20, 0x02, 0x24, 0x01,
            0x02, 0x00, 0x06, 0x00, 0x0E, 0x00,
            0x0E, 0x03, 0x20, 0x01, 0x24, 0x01, 0x30, 0x01,
            0x10, 0x03, 0x20, 0x04, 0x24, 0x64, 0x30, 0x03, 0x01, 0x00,
        ]
        let harness = ENIPHarness()
        harness.feed(encapsulation(0x6F, session: 7, data: sendRRData(cip)))
        harness.parser.close(context: harness.context)
        #expect(harness.anomalyNames.isEmpty)
        #expect(harness.alertNames == ["cip.set_attribute"])
        let record = try #require(harness.record())
        guard case .object(let outer)? = record["cip"], case .array(let multiple)? = outer["multiple"] else {
            Issue.record("no multiple list"); return
        }
        #expect(outer["service_name"] == .string("multiple_service_packet"))
        #expect(multiple.count == 2)
        guard case .object(let second)? = multiple.last else { return }
        #expect(second["service_name"] == .string("set_attribute_single"))
        #expect(second["class"] == .int(4))
        #expect(second["instance"] == .int(100))
        #expect(second["attribute"] == .int(3))
        guard case .object(let operation)? = harness.transactions[0].body["operation"] else { return }
        #expect(operation["name"] == .string("set_attribute_single"))
        #expect(operation["class"] == .string("write"))
    }

    @Test func multipleServiceBadOffset() {
        let cip: [UInt8] = [0x0A, 0x02, 0x20, 0x02, 0x24, 0x01, 0x01, 0x00, 0x40, 0x00, 0x0E, 0x00]
        let harness = ENIPHarness()
        harness.feed(encapsulation(0x6F, session: 7, data: sendRRData(cip)))
        #expect(harness.anomalyNames == ["applayer.enip.cpf_invalid"])
    }

    @Test func unconnectedSendUnwrapsWriteTag() throws {
        // Unconnected Send to the Connection Manager carrying write_tag "Speed" (DINT 1 element), route to slot 0.
        let inner: [UInt8] = [0x4D, 0x04, 0x91, 0x05, 0x53, 0x70, 0x65, 0x65, 0x64, 0x00, 0xC4, 0x00, 0x01, 0x00, 0x2A, 0x00, 0x00, 0x00]
        let cip: [UInt8] = [0x52, 0x02, 0x20, 0x06, 0x24, 0x01, 0x0A, 0x0E, UInt8(inner.count), 0x00] + inner
            + [0x01, 0x00, 0x01, 0x00]
        let harness = ENIPHarness()
        harness.feed(encapsulation(0x6F, session: 7, data: sendRRData(cip)))
        harness.feed(encapsulation(0x6F, session: 7, data: sendRRData([0xCD, 0x00, 0x00, 0x00])), .toClient)
        #expect(harness.anomalyNames.isEmpty)
        #expect(harness.alertNames == ["cip.write_tag"])
        let record = try #require(harness.record())
        guard case .object(let outer)? = record["cip"], case .array(let embedded)? = outer["embedded"],
              case .object(let write)? = embedded.first else { Issue.record("no embedded request"); return }
        #expect(outer["service_name"] == .string("unconnected_send"))
        #expect(write["service_name"] == .string("write_tag"))
        #expect(write["symbol"] == .wire(Array("Speed".utf8)))
        #expect(outer["status"] == .int(0))
    }

    @Test func forwardOpenRecord() throws {
        var cip: [UInt8] = [0x54, 0x02, 0x20, 0x06, 0x24, 0x01, 0x0A, 0x0E]
        cip += [0x01, 0x00, 0x00, 0x80, 0x02, 0x00, 0xFE, 0x80, 0x34, 0x12, 0x4D, 0x00, 0x78, 0x56, 0x34, 0x12]
        cip += [0x02, 0x00, 0x00, 0x00, 0x40, 0x42, 0x0F, 0x00, 0xF8, 0x43, 0x40, 0x42, 0x0F, 0x00, 0xF8, 0x43, 0xA3]
        cip += [0x03, 0x01, 0x00, 0x20, 0x02, 0x24, 0x01]
        let harness = ENIPHarness()
        harness.feed(encapsulation(0x6F, session: 7, data: sendRRData(cip)))
        harness.parser.close(context: harness.context)
        #expect(harness.anomalyNames.isEmpty)
        let record = try #require(harness.record())
        guard case .object(let outer)? = record["cip"], case .object(let connection)? = outer["connection"] else {
            Issue.record("no connection record"); return
        }
        #expect(outer["service_name"] == .string("forward_open"))
        #expect(connection["o_t_connection_id"] == .int(0x8000_0001))
        #expect(connection["t_o_connection_id"] == .int(0x80FE_0002))
        #expect(connection["connection_serial"] == .int(0x1234))
        #expect(connection["vendor_id"] == .int(0x4D))
        #expect(connection["originator_serial"] == .int(0x1234_5678))
        #expect(connection["o_t_rpi_us"] == .int(1_000_000))
        #expect(connection["connection_path"] == .string("class 0x02 (message_router) instance 1"))
        guard case .object(let operation)? = harness.transactions[0].body["operation"] else { return }
        #expect(operation["class"] == .string("session"))
    }

    @Test func identityResetAlerts() {
        let harness = ENIPHarness()
        harness.feed(encapsulation(0x6F, session: 7, data: sendRRData([0x05, 0x02, 0x20, 0x01, 0x24, 0x01])))
        harness.feed(encapsulation(0x6F, session: 7, data: sendRRData([0x05, 0x02, 0x20, 0x01, 0x24, 0x01])))
        #expect(harness.alertNames == ["cip.reset"])
        #expect(harness.parser.alertCounts["cip.reset|class 0x01 (identity) instance 1"] == 2)
    }

    @Test func connectionResetDoesNotAlert() {
        let harness = ENIPHarness()
        harness.feed(encapsulation(0x6F, session: 7, data: sendRRData([0x05, 0x02, 0x20, 0x05, 0x24, 0x01])))
        #expect(harness.alertNames.isEmpty)
    }

    @Test func stopOnVendorClassAlerts() {
        let harness = ENIPHarness()
        harness.feed(encapsulation(0x6F, session: 7, data: sendRRData([0x07, 0x02, 0x20, 0x8E, 0x24, 0x01])))
        #expect(harness.alertNames == ["cip.start_stop"])
    }

    @Test func fileDownloadAndUpload() {
        let harness = ENIPHarness()
        harness.feed(encapsulation(0x6F, session: 7, data: sendRRData([0x4C, 0x02, 0x20, 0x37, 0x24, 0xC8, 0x00, 0x10, 0x00, 0x00])))
        harness.feed(encapsulation(0x6F, session: 7, data: sendRRData([0x4B, 0x02, 0x20, 0x37, 0x24, 0xC8, 0x80])))
        #expect(harness.alertNames == ["cip.program_file_access", "cip.program_file_upload"])
        guard case .object(let operation)? = harness.sink.events.last(where: { $0.eventType == "enip" })?.body["operation"] else {
            // The transactions are emitted when the replies arrive or at close.
            harness.parser.close(context: harness.context)
            #expect(harness.transactions.count == 2)
            return
        }
        #expect(operation["class"] == .string("program"))
    }

    @Test func listIdentityDiscovery() throws {
        let harness = ENIPHarness(transport: .udp)
        harness.feed(encapsulation(0x63, context: 1))
        // Identity item for a 1756-L61 at 10.0.0.20:44818, serial 0x00C0FFEE.
        var item: [UInt8] = [0x01, 0x00, 0x00, 0x02, 0xAF, 0x12, 0x0A, 0x00, 0x00, 0x14, 0, 0, 0, 0, 0, 0, 0, 0]
        item += [0x01, 0x00, 0x0E, 0x00, 0x36, 0x00, 0x14, 0x0B, 0x60, 0x30, 0xEE, 0xFF, 0xC0, 0x00]
        let name = Array("1756-L61/B LOGIX5561".utf8)
        item += [UInt8(name.count)] + name + [0x03]
        let reply = encapsulation(0x63, context: 1, data: [0x01, 0x00, 0x0C, 0x00, UInt8(item.count), 0x00] + item)
        harness.feed(reply, .toClient)
        #expect(harness.anomalyNames.isEmpty)
        #expect(harness.alertNames == ["enip.list_identity"])
        let record = try #require(harness.record())
        guard case .object(let identity)? = record["identity"] else { Issue.record("no identity"); return }
        #expect(identity["vendor_id"] == .int(1))
        #expect(identity["device_type"] == .int(14))
        #expect(identity["product_code"] == .int(54))
        #expect(identity["revision"] == .string("20.11"))
        #expect(identity["status"] == .int(0x3060))
        #expect(identity["serial_number"] == .string("0x00c0ffee"))
        #expect(identity["product_name"] == .wire(name))
        #expect(identity["socket_address"] == .string("10.0.0.20"))
        #expect(identity["socket_port"] == .int(44818))
        #expect(identity["state"] == .int(3))
    }

    @Test func sendUnitDataPairsBySequence() throws {
        let request: [UInt8] = [0, 0, 0, 0, 0, 0, 0x02, 0x00, 0xA1, 0x00, 0x04, 0x00, 0x01, 0x00, 0x00, 0x80,
                                0xB1, 0x00, 0x0A, 0x00, 0x05, 0x00] + getProductNameCIP
        let reply: [UInt8] = [0, 0, 0, 0, 0, 0, 0x02, 0x00, 0xA1, 0x00, 0x04, 0x00, 0x02, 0x00, 0xFE, 0x80,
                              0xB1, 0x00, 0x0B, 0x00, 0x05, 0x00] + getProductNameReplyCIP
        let harness = ENIPHarness()
        harness.feed(encapsulation(0x70, session: 7, data: request))
        harness.feed(encapsulation(0x70, session: 7, data: reply), .toClient)
        #expect(harness.anomalyNames.isEmpty)
        #expect(harness.transactions.count == 1)
        let record = try #require(harness.record())
        guard case .object(let cip)? = record["cip"] else { Issue.record("no cip"); return }
        #expect(cip["attribute"] == .int(7))
        #expect(cip["status_name"] == .string("success"))
    }

    @Test func hostileBytesDoNotCrash() {
        var generator = SystemRandomNumberGenerator()
        for _ in 0 ..< 300 {
            let length = Int.random(in: 0 ..< 120, using: &generator)
            var cip = (0 ..< length).map { _ in UInt8.random(in: 0 ... 255, using: &generator) }
            if !cip.isEmpty { cip[0] = [0x0A, 0x52, 0x54, 0x0E, 0x8A][Int.random(in: 0 ..< 5, using: &generator)] }
            if cip.count > 3, cip[0] == 0x52 || cip[0] == 0x54 { cip[2] = 0x20; cip[3] = 0x06 }
            let harness = ENIPHarness()
            harness.feed(encapsulation(0x6F, session: 7, data: sendRRData(cip)))
            harness.feed(encapsulation(0x6F, session: 7, data: sendRRData(cip)), .toClient)
            harness.parser.close(context: harness.context)
        }
    }
}

@Suite struct ENIPFixtureTests {
    /// The cpppo session of Scripts/fixtures/enip_cpppo.sh: discovery, tag reads and writes through
    /// Unconnected Send, a Multiple Service Packet, and identity and TCP/IP object attributes.
    @Test func cpppoSessionReplay() throws {
        let replay = ENIPS7CaptureReplay(serverPorts: [44818, 2222]) { ENIPProtocol.makeParser(transport: $0) }
        let packets = try #require(replay.replay(path: ReplayPaths.fixture("enip/cpppo-session.pcap")))
        #expect(packets > 0)
        #expect(replay.sink.events.compactMap(\.anomalyName).isEmpty)
        #expect(replay.sink.events.compactMap(\.alertRule) == ["enip.list_identity", "cip.write_tag", "cip.write_tag", "cip.set_attribute"])
        let operations = replay.sink.events.compactMap { event -> String? in
            guard case .object(let operation)? = event.body["operation"], case .string(let name)? = operation["name"] else { return nil }
            return name
        }
        #expect(operations == [
            "register_session", "list_services", "list_identity", "read_tag", "write_tag", "register_session", "write_tag",
            "register_session", "get_attribute_single", "get_attribute_single", "register_session", "set_attribute_single",
        ])
        let identity = replay.sink.events.compactMap { event -> JSONObject? in
            guard case .object(let record)? = event.body["enip"], case .object(let identity)? = record["identity"] else { return nil }
            return identity
        }.first
        #expect(identity?["product_name"] == .wire(Array("1756-L61/B LOGIX5561".utf8)))
        let setAttribute = replay.sink.events.last { $0.eventType == "enip" }
        guard case .object(let record)? = setAttribute?.body["enip"], case .object(let cip)? = record["cip"],
              case .array(let embedded)? = cip["embedded"], case .object(let inner)? = embedded.first else {
            Issue.record("no embedded set_attribute_single"); return
        }
        #expect(inner["class"] == .int(0xF5))
        #expect(inner["attribute"] == .int(6))
        #expect(inner["status_name"] == .string("service_not_supported"))
    }
}
