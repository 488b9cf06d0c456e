import Testing
import WirecheckCore
@testable import WirecheckProtocols

// MARK: - Fixture builders

/// CRC-16/DNP computed the textbook way, independent of the table-driven parser code: octets are
/// bit-reversed and shifted MSB-first through polynomial 0x3D65, then the result is bit-reversed
/// and complemented.
private func referenceCRC(_ bytes: [UInt8]) -> UInt16 {
    func reverse(_ value: UInt16, bits: Int) -> UInt16 {
        var result: UInt16 = 0
        for bit in 0..<bits where value & (1 << bit) != 0 { result |= 1 << (bits - 1 - bit) }
        return result
    }
    var crc: UInt16 = 0
    for byte in bytes {
        crc ^= reverse(UInt16(byte), bits: 8) << 8
        for _ in 0..<8 { crc = crc & 0x8000 != 0 ? (crc << 1) ^ 0x3D65 : crc << 1 }
    }
    return ~reverse(crc, bits: 16)
}

private func appendCRC(_ bytes: inout [UInt8], over block: [UInt8]) {
    let crc = referenceCRC(block)
    bytes += block + [UInt8(crc & 0xFF), UInt8(crc >> 8)]
}

/// Builds one link frame with its header CRC and a CRC after every 16 octets of user data.
private func linkFrame(control: UInt8, destination: UInt16, source: UInt16, userData: [UInt8]) -> [UInt8] {
    var frame: [UInt8] = []
    appendCRC(&frame, over: [0x05, 0x64, UInt8(5 + userData.count), control, UInt8(destination & 0xFF),
                             UInt8(destination >> 8), UInt8(source & 0xFF), UInt8(source >> 8)])
    var offset = 0
    while offset < userData.count {
        let end = min(offset + 16, userData.count)
        appendCRC(&frame, over: Array(userData[offset..<end]))
        offset = end
    }
    return frame
}

/// Splits an application fragment into transport segments of at most 249 octets, one link frame
/// each (unconfirmed user data, DIR set for the master).
private func frames(_ fragment: [UInt8], fromMaster: Bool = true, master: UInt16 = 1, outstation: UInt16 = 10,
                    firstSequence: UInt8 = 0) -> [[UInt8]] {
    var result: [[UInt8]] = []
    var offset = 0
    var sequence = firstSequence
    repeat {
        let end = min(offset + 249, fragment.count)
        var transport: UInt8 = sequence & 0x3F
        if offset == 0 { transport |= 0x40 }
        if end == fragment.count { transport |= 0x80 }
        let control: UInt8 = (fromMaster ? 0x80 : 0x00) | 0x44
        result.append(linkFrame(control: control, destination: fromMaster ? outstation : master,
                                source: fromMaster ? master : outstation,
                                userData: [transport] + Array(fragment[offset..<end])))
        offset = end
        sequence &+= 1
    } while offset < fragment.count
    return result
}

private func frame(_ fragment: [UInt8], fromMaster: Bool = true) -> [UInt8] {
    frames(fragment, fromMaster: fromMaster).joined().map { $0 }
}

// Application fragments from IEEE 1815: application control, function code, (IIN), objects.
private let readClass0: [UInt8] = [0xC0, 0x01, 0x3C, 0x01, 0x06]
/// Response to readClass0: IIN1 device_restart + need_time, g1v2 points 0-1 with flags.
private let responseBinaryInputs: [UInt8] = [0xC0, 0x81, 0x90, 0x00, 0x01, 0x02, 0x00, 0x00, 0x01, 0x81, 0x01]
/// direct_operate, g12v1 qualifier 0x28 (2-octet index, 2-octet count): index 3, latch_on, 100 ms on/off.
private let directOperateCROB: [UInt8] = [0xC1, 0x05, 0x0C, 0x01, 0x28, 0x01, 0x00, 0x03, 0x00,
                                          0x03, 0x01, 0x64, 0x00, 0x00, 0x00, 0x64, 0x00, 0x00, 0x00, 0x00]
private let coldRestart: [UInt8] = [0xC2, 0x0D]
private let disableUnsolicited: [UInt8] = [0xC3, 0x15, 0x3C, 0x02, 0x06, 0x3C, 0x03, 0x06, 0x3C, 0x04, 0x06]
private let enableUnsolicited: [UInt8] = [0xC4, 0x14, 0x3C, 0x02, 0x06]
/// Unsolicited response: g2v1 qualifier 0x17 (1-octet index, 1-octet count), index 5, flags 0x81.
private let unsolicitedEvent: [UInt8] = [0xF0, 0x82, 0x00, 0x00, 0x02, 0x01, 0x17, 0x01, 0x05, 0x81]
private let nullUnsolicited: [UInt8] = [0xF0, 0x82, 0x80, 0x00]
/// write g80v1 start 7 stop 7: clear the device_restart IIN bit.
private let writeIIN: [UInt8] = [0xC5, 0x02, 0x50, 0x01, 0x00, 0x07, 0x07, 0x00]

private func response(to request: [UInt8]) -> [UInt8] {
    [0xC0 | (request[0] & 0x0F), 0x81, 0x00, 0x00]
}

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

/// Feeds a DNP3 parser the way the application layer does. For TCP, unconsumed bytes are kept
/// and offered again with the next chunk. For UDP, each call is one datagram.
private final class DNP3Harness {
    let collector = EventCollector()
    let parser: DNP3Parser
    let context: ApplicationContext
    let transport: Transport
    private var leftover: [StreamDirection: [UInt8]] = [:]
    private var packetNumber: UInt64 = 0

    init(transport: Transport = .tcp) {
        self.transport = transport
        parser = DNP3Parser(transport: transport)
        let flow = FlowContext(flowID: 7, communityID: "1:test", srcIP: IPAddress("10.0.0.5")!, srcPort: 41000,
                               destIP: IPAddress("10.0.0.20")!, destPort: 20000,
                               ipProtocol: transport == .tcp ? 6 : 17)
        context = ApplicationContext(flow: flow, timestamp: .zero, packet: PacketReference(source: 0, number: 0),
                                     transport: transport, sink: collector)
    }

    func send(_ bytes: [UInt8], _ direction: StreamDirection = .toServer) {
        packetNumber += 1
        context.packet = PacketReference(source: 0, number: packetNumber)
        let buffer = (leftover[direction] ?? []) + bytes
        let used = buffer.withUnsafeBytes { parser.parse($0, direction: direction, context: context) }
        leftover[direction] = transport == .tcp ? Array(buffer[used...]) : []
    }

    var records: [JSONObject] {
        collector.events.compactMap { event in
            guard event.eventType == "dnp3", case .object(let record)? = event.body["dnp3"] else { return nil }
            return record
        }
    }

    var transactions: [Event] { collector.events.filter { $0.eventType == "dnp3" } }
    var anomalyNames: [String] { collector.events.compactMap(\.anomalyName) }
    var alertNames: [String] { collector.events.compactMap(\.alertRule) }
}

/// Looks up a member path such as `application.function_code` in a record.
private func member(_ object: JSONObject, _ path: String) -> JSONValue? {
    var current: JSONValue = .object(object)
    for key in path.split(separator: ".") {
        guard case .object(let inner) = current, let next = inner[String(key)] else { return nil }
        current = next
    }
    return current
}

// MARK: - Link layer

@Suite struct DNP3LinkLayerTests {
    @Test func crcCheckValue() {
        let check = Array("123456789".utf8)
        #expect(referenceCRC(check) == 0xEA82)
        #expect(check.withUnsafeBytes { DNP3CRC.compute($0) } == 0xEA82)
    }

    @Test func crcAgreesWithReference() {
        let samples: [[UInt8]] = [[], [0x05, 0x64, 0x05, 0xC0, 0x01, 0x00, 0x00, 0x04], Array(0..<16), [0xFF, 0x00, 0x7E]]
        for sample in samples {
            #expect(sample.withUnsafeBytes { DNP3CRC.compute($0) } == referenceCRC(sample))
        }
    }

    @Test func headerFields() {
        // Unconfirmed user data from master 1 to outstation 10 with 6 octets of user data.
        let bytes = frame(readClass0)
        #expect(bytes.count == 10 + 6 + 2)
        bytes.withUnsafeBytes { raw in
            let header = DNP3LinkHeader(raw)
            #expect(header?.length == 11)
            #expect(header?.control == 0xC4)
            #expect(header?.fromMaster == true)
            #expect(header?.isPrimary == true)
            #expect(header?.linkFunction == 4)
            #expect(header?.destination == 10)
            #expect(header?.source == 1)
            #expect(header?.userDataLength == 6)
            #expect(header?.frameSize == 18)
            #expect(header?.carriesUserData == true)
            #expect(DNP3CRC.check(raw, 0..<8))
        }
    }

    @Test func opendnp3FrameFields() throws {
        // disable_unsolicited for classes 1-3 from master 2 to outstation 1, as opendnp3 sent it
        // in Tests/Fixtures/dnp3/opendnp3-session.pcap.
        let bytes: [UInt8] = [0x05, 0x64, 0x11, 0xC4, 0x01, 0x00, 0x02, 0x00, 0xC3, 0x5A,
                              0xC0, 0xC0, 0x15, 0x3C, 0x02, 0x06, 0x3C, 0x03, 0x06, 0x3C, 0x04, 0x06, 0x1A, 0x55]
        try bytes.withUnsafeBytes { raw in
            let header = try #require(DNP3LinkHeader(raw))
            #expect(header.length == 17)
            #expect(header.fromMaster)
            #expect(header.isPrimary)
            #expect(header.linkFunction == 4)
            #expect(header.destination == 1)
            #expect(header.source == 2)
            #expect(header.frameSize == bytes.count)
            #expect(DNP3CRC.check(raw, 0..<8))
            #expect(DNP3CRC.check(raw, 10..<22))
        }
        #expect(referenceCRC(Array(bytes[0..<8])) == 0x5AC3)
        #expect(referenceCRC(Array(bytes[10..<22])) == 0x551A)
        let fragment = Array(bytes[11..<22])
        fragment.withUnsafeBytes { raw in
            let message = DNP3ApplicationMessage(raw)
            #expect(message?.functionCode == 0x15)
            #expect(message?.headers.map(\.variation) == [2, 3, 4])
            #expect(message?.walkError == nil)
        }
    }

    @Test func headerShortInput() {
        let bytes: [UInt8] = [0x05, 0x64, 0x05]
        bytes.withUnsafeBytes { #expect(DNP3LinkHeader($0) == nil) }
    }

    @Test func frameSizeCountsBlockCRCs() {
        // 33 octets of user data: blocks of 16, 16 and 1, each with a CRC.
        let bytes = linkFrame(control: 0x44, destination: 1, source: 10, userData: Array(repeating: 0, count: 33))
        bytes.withUnsafeBytes { raw in
            #expect(DNP3LinkHeader(raw)?.frameSize == 10 + 33 + 6)
        }
        #expect(bytes.count == 49)
    }

    @Test func linkStatusFrameHasNoUserData() {
        // Request link status (PRM=1, function 9): a header-only frame.
        let bytes = linkFrame(control: 0xC9, destination: 10, source: 1, userData: [])
        bytes.withUnsafeBytes { raw in
            #expect(DNP3LinkHeader(raw)?.carriesUserData == false)
            #expect(DNP3LinkHeader(raw)?.frameSize == 10)
        }
    }

    @Test func probeMatchesValidHeader() {
        let bytes = frame(readClass0)
        #expect(bytes.withUnsafeBytes { DNP3Protocol.probe($0, direction: .toServer, transport: .tcp) } == .match)
        let short = Array(bytes.prefix(4))
        #expect(short.withUnsafeBytes { DNP3Protocol.probe($0, direction: .toServer, transport: .tcp) } == .needMoreData)
        var corrupt = bytes
        corrupt[8] ^= 0xFF
        #expect(corrupt.withUnsafeBytes { DNP3Protocol.probe($0, direction: .toServer, transport: .tcp) } == .noMatch)
        let http = Array("GET / HTTP/1.1\r\n".utf8)
        #expect(http.withUnsafeBytes { DNP3Protocol.probe($0, direction: .toServer, transport: .tcp) } == .noMatch)
    }
}

// MARK: - Transport and application layer

@Suite struct DNP3ApplicationTests {
    @Test func transportHeaderBits() {
        let header = DNP3TransportHeader(octet: 0xC5)
        #expect(header.isFinal)
        #expect(header.isFirst)
        #expect(header.sequence == 5)
    }

    @Test func readRequestObjects() {
        readClass0.withUnsafeBytes { raw in
            let message = DNP3ApplicationMessage(raw)
            #expect(message?.functionCode == 1)
            #expect(message?.sequence == 0)
            #expect(message?.isFirst == true)
            #expect(message?.isFinal == true)
            #expect(message?.internalIndications == nil)
            #expect(message?.headers.count == 1)
            #expect(message?.headers.first?.group == 60)
            #expect(message?.headers.first?.variation == 1)
            #expect(message?.headers.first?.qualifier == 0x06)
            #expect(message?.walkError == nil)
        }
    }

    @Test func responseIINAndRange() {
        responseBinaryInputs.withUnsafeBytes { raw in
            let message = DNP3ApplicationMessage(raw)
            #expect(message?.functionCode == 0x81)
            #expect(message?.internalIndications == 0x9000)
            #expect(message?.internalIndicationNames == ["need_time", "device_restart"])
            #expect(message?.headers.first?.start == 0)
            #expect(message?.headers.first?.stop == 1)
            #expect(message?.headers.first?.count == 2)
            #expect(message?.headers.first?.dataRange == 9..<11)
            #expect(message?.walkError == nil)
        }
    }

    @Test func crobControlPoint() {
        directOperateCROB.withUnsafeBytes { raw in
            let message = DNP3ApplicationMessage(raw)
            #expect(message?.functionCode == 5)
            #expect(message?.headers.count == 1)
            #expect(message?.headers.first?.count == 1)
            #expect(message?.controlPoints.count == 1)
            #expect(message?.controlPoints.first?.index == 3)
            #expect(message?.controlPoints.first?.controlCode == 0x03)
            #expect(message?.walkError == nil)
        }
    }

    @Test func analogOutputControlPoint() {
        // select g41v2 qualifier 0x17: index 2, value 1000 (0x03E8), status 0.
        let select: [UInt8] = [0xC0, 0x03, 0x29, 0x02, 0x17, 0x01, 0x02, 0xE8, 0x03, 0x00]
        select.withUnsafeBytes { raw in
            let message = DNP3ApplicationMessage(raw)
            #expect(message?.controlPoints.first?.index == 2)
            #expect(message?.controlPoints.first?.value == 1000)
            #expect(message?.walkError == nil)
        }
    }

    @Test func multipleHeadersWalk() {
        // Response with g30v2 points 0-1 (3 octets each), then g2v2 one event with time (index prefix).
        let fragment: [UInt8] = [0xC0, 0x81, 0x00, 0x00,
                                 0x1E, 0x02, 0x00, 0x00, 0x01, 0x01, 0x10, 0x00, 0x01, 0x20, 0x00,
                                 0x02, 0x02, 0x17, 0x01, 0x04, 0x81, 1, 2, 3, 4, 5, 6]
        fragment.withUnsafeBytes { raw in
            let message = DNP3ApplicationMessage(raw)
            #expect(message?.headers.count == 2)
            #expect(message?.headers.last?.group == 2)
            #expect(message?.headers.last?.dataRange == 19..<27)
            #expect(message?.walkError == nil)
        }
    }

    @Test func freeFormatSizePrefix() {
        // delete_file with g70v3 qualifier 0x5B: one object with a 2-octet size prefix of 4 octets.
        let fragment: [UInt8] = [0xC0, 0x1B, 0x46, 0x03, 0x5B, 0x01, 0x04, 0x00, 0xAA, 0xBB, 0xCC, 0xDD]
        fragment.withUnsafeBytes { raw in
            let message = DNP3ApplicationMessage(raw)
            #expect(message?.headers.count == 1)
            #expect(message?.headers.first?.dataRange == 6..<12)
            #expect(message?.walkError == nil)
        }
    }

    @Test func unknownVariationStopsWithoutAnomaly() {
        let fragment: [UInt8] = [0xC0, 0x81, 0x00, 0x00, 0x1E, 0x63, 0x00, 0x00, 0x00, 0x00]
        fragment.withUnsafeBytes { raw in
            #expect(DNP3ApplicationMessage(raw)?.walkError == .unknownSize(group: 30, variation: 99))
        }
    }

    @Test func shortFragmentIsNil() {
        let fragment: [UInt8] = [0xC0]
        fragment.withUnsafeBytes { #expect(DNP3ApplicationMessage($0) == nil) }
        let response: [UInt8] = [0xC0, 0x81, 0x00]
        response.withUnsafeBytes { #expect(DNP3ApplicationMessage($0) == nil) }
    }

    @Test func reassemblyAcrossSegments() {
        // A response with g30v1 points 0-59: 300 octets of data, so two transport segments.
        var fragment: [UInt8] = [0xC0, 0x81, 0x00, 0x00, 0x1E, 0x01, 0x00, 0x00, 0x3B]
        fragment += Array(repeating: 0x01, count: 300)
        let harness = DNP3Harness()
        harness.send(frame(readClass0))
        let segments = frames(fragment, fromMaster: false)
        #expect(segments.count == 2)
        harness.send(segments[0], .toClient)
        #expect(harness.records.count == 1)
        harness.send(segments[1], .toClient)
        #expect(harness.records.count == 2)
        #expect(member(harness.records[1], "application.objects") == .array([.object([
            "group": 30, "variation": 1, "name": "Analog Input", "qualifier": 0, "prefix_code": 0, "range_code": 0,
            "start": 0, "stop": 59, "count": 60,
        ])]))
        #expect(harness.transactions[1].packets.map(\.number) == [1, 2, 3])
        #expect(harness.anomalyNames.isEmpty)
    }
}

// MARK: - Parser: transactions and stream handling

@Suite struct DNP3ParserTests {
    @Test func cleanExchangeHasNoAnomalies() {
        let harness = DNP3Harness()
        harness.send(frame(readClass0))
        harness.send(frame(responseBinaryInputs, fromMaster: false), .toClient)
        harness.send(frame(enableUnsolicited))
        harness.send(frame(response(to: enableUnsolicited), fromMaster: false), .toClient)
        harness.send(frame(unsolicitedEvent, fromMaster: false), .toClient)
        harness.send(frame([0xD0, 0x00]))
        #expect(harness.anomalyNames.isEmpty)
        #expect(harness.alertNames.isEmpty)
        // The confirm of the unsolicited response is not logged.
        #expect(harness.records.count == 5)
    }

    @Test func requestRecordFields() {
        let harness = DNP3Harness()
        harness.send(frame(readClass0))
        let record = harness.records[0]
        #expect(record["type"] == "request")
        #expect(record["src"] == 1)
        #expect(record["dst"] == 10)
        #expect(member(record, "control.dir") == true)
        #expect(member(record, "application.function_code") == 1)
        #expect(member(record, "application.function") == "read")
        #expect(member(record, "application.control.sequence") == 0)
        #expect(member(record, "application.complete") == true)
        let event = harness.transactions[0]
        #expect(event.message == "10.0.0.5 sent a DNP3 read (fc 1) to outstation 10 at 10.0.0.20: g60v1 all.")
        guard case .object(let operation)? = event.body["operation"] else {
            Issue.record("the request event has no operation")
            return
        }
        #expect(operation["name"] == "read")
        #expect(operation["class"] == "read")
        #expect(operation["unit"] == 10)
    }

    @Test func responsePairedWithRequest() {
        let harness = DNP3Harness()
        harness.send(frame(readClass0))
        harness.send(frame(responseBinaryInputs, fromMaster: false), .toClient)
        let record = harness.records[1]
        #expect(record["type"] == "response")
        #expect(member(record, "request.function") == "read")
        #expect(member(record, "iin.indicators") == .array(["need_time", "device_restart"]))
        #expect(harness.transactions[1].packets.map(\.number) == [1, 2])
        #expect(harness.transactions[1].message == "10.0.0.20 (outstation 10) sent a DNP3 response to master 1 at 10.0.0.5 for its read request (IIN need_time, device_restart): g1v2 0-1.")
    }

    @Test func unsolicitedResponseRecord() {
        let harness = DNP3Harness()
        harness.send(frame(unsolicitedEvent, fromMaster: false), .toClient)
        #expect(harness.records[0]["type"] == "unsolicited_response")
        #expect(member(harness.records[0], "application.control.uns") == true)
    }

    @Test func threeChunksEqualOneChunk() {
        let bytes = frame(directOperateCROB) + frame(readClass0)
        let whole = DNP3Harness()
        whole.send(bytes)
        let split = DNP3Harness()
        split.send(Array(bytes[0..<3]))
        split.send(Array(bytes[3..<17]))
        split.send(Array(bytes[17...]))
        #expect(whole.records == split.records)
        #expect(whole.records.count == 2)
        #expect(whole.anomalyNames == split.anomalyNames)
    }

    @Test func severalFramesInOneChunk() {
        let harness = DNP3Harness()
        harness.send(frame(readClass0) + frame(coldRestart) + frame(writeIIN))
        let functions = harness.records.compactMap { member($0, "application.function") }
        #expect(functions == ["read", "cold_restart", "write"])
    }

    @Test func gapResynchronises() {
        var fragment: [UInt8] = [0xC0, 0x81, 0x00, 0x00, 0x1E, 0x01, 0x00, 0x00, 0x3B]
        fragment += Array(repeating: 0x01, count: 300)
        let segments = frames(fragment, fromMaster: false)
        let harness = DNP3Harness()
        harness.send(segments[0], .toClient)
        harness.parser.gap(direction: .toClient, length: 100, context: harness.context)
        harness.send(segments[1], .toClient)
        harness.send(frame(unsolicitedEvent, fromMaster: false), .toClient)
        #expect(harness.anomalyNames.isEmpty)
        #expect(harness.records.count == 1)
        #expect(harness.records[0]["type"] == "unsolicited_response")
    }

    @Test func udpDatagram() {
        let harness = DNP3Harness(transport: .udp)
        harness.send(frame(readClass0))
        #expect(harness.records.count == 1)
        #expect(harness.anomalyNames.isEmpty)
    }
}

// MARK: - Anomalies

@Suite struct DNP3AnomalyTests {
    @Test func invalidStartBytes() {
        let harness = DNP3Harness()
        harness.send([0x00, 0x11, 0x22] + frame(readClass0))
        #expect(harness.anomalyNames == ["applayer.dnp3.invalid_start_bytes"])
        #expect(harness.records.count == 1)
    }

    @Test func headerCRCInvalid() {
        var bytes = frame(readClass0)
        bytes[8] ^= 0x01
        let harness = DNP3Harness()
        harness.send(bytes + frame(coldRestart))
        #expect(harness.anomalyNames == ["applayer.dnp3.header_crc_invalid"])
        #expect(harness.records.compactMap { member($0, "application.function") } == ["cold_restart"])
    }

    @Test func dataCRCInvalid() {
        var bytes = frame(readClass0)
        bytes[bytes.count - 1] ^= 0x01
        let harness = DNP3Harness()
        harness.send(bytes)
        #expect(harness.anomalyNames == ["applayer.dnp3.data_crc_invalid"])
        #expect(harness.records.isEmpty)
    }

    @Test func invalidLengthBelowFive() {
        var header: [UInt8] = []
        appendCRC(&header, over: [0x05, 0x64, 0x03, 0xC4, 0x0A, 0x00, 0x01, 0x00])
        let harness = DNP3Harness()
        harness.send(header + frame(readClass0))
        #expect(harness.anomalyNames == ["applayer.dnp3.invalid_length"])
        #expect(harness.records.count == 1)
    }

    @Test func invalidLengthTruncatedDatagram() {
        let harness = DNP3Harness(transport: .udp)
        harness.send(Array(frame(readClass0).dropLast(3)))
        #expect(harness.anomalyNames == ["applayer.dnp3.invalid_length"])
    }

    @Test func transportSequenceGap() {
        var fragment: [UInt8] = [0xC0, 0x81, 0x00, 0x00, 0x1E, 0x01, 0x00, 0x00, 0x3B]
        fragment += Array(repeating: 0x01, count: 300)
        let first = frames(fragment, fromMaster: false)[0]
        let late = frames(fragment, fromMaster: false, firstSequence: 1)[1]
        let harness = DNP3Harness()
        harness.send(first, .toClient)
        harness.send(late, .toClient)
        #expect(harness.anomalyNames == ["applayer.dnp3.transport_sequence_gap"])
        #expect(harness.records.isEmpty)
    }

    @Test func reassemblyTooLong() {
        // 65 full segments with no FIN: one more than the 6-bit sequence allows.
        let harness = DNP3Harness()
        let segments = frames([0xC0, 0x02] + Array(repeating: 0, count: 249 * 65), fromMaster: true)
        for segment in segments.prefix(65) { harness.send(segment) }
        #expect(harness.anomalyNames == ["applayer.dnp3.reassembly_too_long"])
        #expect(harness.records.isEmpty)
    }

    @Test func undefinedFunctionCode() {
        let harness = DNP3Harness()
        harness.send(frame([0xC0, 0x50]))
        #expect(harness.anomalyNames == ["applayer.dnp3.undefined_function_code"])
        #expect(harness.records.count == 1)
    }

    @Test func undefinedObjectGroup() {
        let harness = DNP3Harness()
        harness.send(frame([0xC0, 0x01, 0x63, 0x01, 0x06]))
        #expect(harness.anomalyNames == ["applayer.dnp3.undefined_object_group"])
        #expect(member(harness.records[0], "application.complete") == false)
    }

    @Test func qualifierStartAfterStop() {
        let harness = DNP3Harness()
        harness.send(frame([0xC0, 0x01, 0x01, 0x02, 0x00, 0x09, 0x02]))
        #expect(harness.anomalyNames == ["applayer.dnp3.qualifier_range_invalid"])
    }

    @Test func qualifierUndefinedRangeCode() {
        let harness = DNP3Harness()
        harness.send(frame([0xC0, 0x01, 0x01, 0x02, 0x0A]))
        #expect(harness.anomalyNames == ["applayer.dnp3.qualifier_range_invalid"])
    }

    @Test func qualifierCountBeyondFragment() {
        // select g12v1 with a count of 200 CROBs but data for none.
        let harness = DNP3Harness()
        harness.send(frame([0xC0, 0x03, 0x0C, 0x01, 0x17, 0xC8, 0x00]))
        #expect(harness.anomalyNames == ["applayer.dnp3.qualifier_range_invalid"])
    }

    @Test func directionMismatchDIRBit() {
        // A read request with DIR=0 from the master side.
        let harness = DNP3Harness()
        harness.send(linkFrame(control: 0x44, destination: 10, source: 1, userData: [0xC0] + readClass0))
        #expect(harness.anomalyNames == ["applayer.dnp3.direction_mismatch"])
    }

    @Test func directionMismatchRequestFromOutstation() {
        let harness = DNP3Harness()
        harness.send(frame(readClass0))
        harness.send(linkFrame(control: 0xC4, destination: 1, source: 10, userData: [0xC0] + coldRestart), .toClient)
        #expect(harness.anomalyNames == ["applayer.dnp3.direction_mismatch"])
    }

    @Test func unsolicitedAfterDisable() {
        let harness = DNP3Harness()
        harness.send(frame(disableUnsolicited))
        harness.send(frame(response(to: disableUnsolicited), fromMaster: false), .toClient)
        harness.send(frame(nullUnsolicited, fromMaster: false), .toClient)
        #expect(harness.anomalyNames.isEmpty)
        harness.send(frame(unsolicitedEvent, fromMaster: false), .toClient)
        #expect(harness.anomalyNames == ["applayer.dnp3.unsolicited_response"])
    }

    @Test func unsolicitedAfterReenable() {
        let harness = DNP3Harness()
        harness.send(frame(disableUnsolicited))
        harness.send(frame(enableUnsolicited))
        harness.send(frame(unsolicitedEvent, fromMaster: false), .toClient)
        #expect(harness.anomalyNames.isEmpty)
    }

    @Test func requestFlood() {
        let harness = DNP3Harness()
        for index in 0..<33 {
            harness.send(frame([0xC0 | UInt8(index % 16), 0x01, 0x3C, 0x01, 0x06]))
        }
        #expect(harness.anomalyNames == ["applayer.dnp3.request_flood"])
        #expect(harness.records.count == 33)
    }

    @Test func noFloodWhenAnswered() {
        let harness = DNP3Harness()
        for index in 0..<40 {
            let request: [UInt8] = [0xC0 | UInt8(index % 16), 0x01, 0x3C, 0x01, 0x06]
            harness.send(frame(request))
            harness.send(frame(response(to: request), fromMaster: false), .toClient)
        }
        #expect(harness.anomalyNames.isEmpty)
    }

    @Test func tooManyObjects() {
        // A response with 2049 g30v4 points (2 octets each): 17 transport segments.
        var fragment: [UInt8] = [0xC0, 0x81, 0x00, 0x00, 0x1E, 0x04, 0x08, 0x01, 0x08]
        fragment += Array(repeating: 0, count: 2049 * 2)
        let harness = DNP3Harness()
        for segment in frames(fragment, fromMaster: false) { harness.send(segment, .toClient) }
        #expect(harness.anomalyNames == ["applayer.dnp3.too_many_objects"])
    }

    @Test func packedBitsDoNotCountAsObjects() {
        // An integrity poll response with 4096 g1v1 points packed in 512 octets.
        var fragment: [UInt8] = [0xC0, 0x81, 0x00, 0x00, 0x01, 0x01, 0x01, 0x00, 0x00, 0xFF, 0x0F]
        fragment += Array(repeating: 0, count: 512)
        let harness = DNP3Harness()
        for segment in frames(fragment, fromMaster: false) { harness.send(segment, .toClient) }
        #expect(harness.anomalyNames.isEmpty)
        #expect(harness.records.count == 1)
    }

    @Test func hostileBytesDoNotCrash() {
        // Valid link frames around random application data of 1 to 199 octets, each followed by random raw bytes.
        let harness = DNP3Harness()
        var generator = SeededGenerator(state: 0x9E37_79B9_7F4A_7C15)
        for length in 1..<200 {
            let fragment = (0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) }
            harness.send(frame(fragment))
            harness.send((0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) })
        }
        #expect(harness.transactions.count > 0)
    }
}

// MARK: - Alerts

@Suite struct DNP3AlertTests {
    @Test func controlOperationOncePerUnit() {
        let harness = DNP3Harness()
        harness.send(frame(directOperateCROB))
        harness.send(frame(directOperateCROB))
        #expect(harness.alertNames == ["dnp3.control_operation"])
        #expect(harness.parser.alertCounts[.init(rule: "dnp3.control_operation", unit: 10)] == 2)
        let alert = harness.collector.alerts(named: "dnp3.control_operation")[0]
        #expect(alert.message == "10.0.0.5 sent DNP3 direct_operate to outstation 10 at 10.0.0.20: CROB index 3 latch_on.")
        guard case .object(let body)? = alert.body["alert"], case .array(let points)? = body["points"],
              case .object(let point)? = points.first else {
            Issue.record("the alert has no points")
            return
        }
        #expect(point["index"] == 3)
        #expect(point["operation"] == "latch_on")
        #expect(body["signature_id"] == 2200)
    }

    @Test func controlOperationOperationRange() {
        let harness = DNP3Harness()
        harness.send(frame(directOperateCROB))
        guard case .object(let operation)? = harness.transactions[0].body["operation"] else {
            Issue.record("no operation")
            return
        }
        #expect(operation["class"] == "control")
        #expect(operation["range_start"] == 3)
        #expect(operation["range_end"] == 3)
    }

    @Test func restartAndApplicationControl() {
        let harness = DNP3Harness()
        harness.send(frame(coldRestart))
        harness.send(frame([0xC6, 0x12, 0x5A, 0x01, 0x5B, 0x01, 0x03, 0x00, 0x61, 0x62, 0x63]))
        #expect(harness.alertNames == ["dnp3.restart", "dnp3.application_control"])
        let stop = harness.collector.alerts(named: "dnp3.application_control")[0]
        guard case .object(let body)? = stop.body["alert"] else { return }
        #expect(body["severity"] == 1)
    }

    @Test func fileOperations() {
        let harness = DNP3Harness()
        harness.send(frame([0xC0, 0x1B, 0x46, 0x03, 0x5B, 0x01, 0x04, 0x00, 0xAA, 0xBB, 0xCC, 0xDD]))
        harness.send(frame([0xC1, 0x19, 0x46, 0x03, 0x5B, 0x01, 0x04, 0x00, 0xAA, 0xBB, 0xCC, 0xDD]))
        #expect(harness.alertNames == ["dnp3.file_delete", "dnp3.file_operation"])
    }

    @Test func disableUnsolicitedAndWrite() {
        let harness = DNP3Harness()
        harness.send(frame(disableUnsolicited))
        harness.send(frame(writeIIN))
        #expect(harness.alertNames == ["dnp3.disable_unsolicited", "dnp3.write"])
        #expect(harness.collector.alerts(named: "dnp3.write")[0].message
                == "10.0.0.5 sent DNP3 write of g80v1 to outstation 10 at 10.0.0.20.")
    }

    @Test func readRaisesNoAlert() {
        let harness = DNP3Harness()
        harness.send(frame(readClass0))
        #expect(harness.alertNames.isEmpty)
    }

    @Test func catalogueNamesAreUnique() {
        let names = DNP3Catalogue.anomalies.map(\.name)
        #expect(Set(names).count == names.count)
        let ids = DNP3Catalogue.alerts.map(\.signatureID)
        #expect(Set(ids).count == ids.count)
        #expect(ids.allSatisfy { (2200...2299).contains($0) })
    }
}
