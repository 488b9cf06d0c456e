import Testing
import WirecheckCore
import WirecheckFlows
@testable import WirecheckProtocols

/// A protocol for framework tests: matches "TEST" and its parser never consumes, so buffers grow.
private enum StallingProtocol: ApplicationProtocol {
    static let name = "stalling"
    static let registeredPorts: [Transport: Set<UInt16>] = [.tcp: [7777]]
    static func probe(_ bytes: UnsafeRawBufferPointer, direction: StreamDirection, transport: Transport) -> ProbeResult {
        let prefix = Array("TEST".utf8)
        for index in 0..<min(bytes.count, prefix.count) where bytes[index] != prefix[index] { return .noMatch }
        return bytes.count >= prefix.count ? .match : .needMoreData
    }
    static func makeParser(transport: Transport) -> ApplicationParser { StallingParser() }
}

private final class StallingParser: ApplicationParser {
    var maximumSize = 1 << 20
    var gaps: [Int] = []
    var maximumMessageSize: Int { maximumSize }
    func parse(_ bytes: UnsafeRawBufferPointer, direction: StreamDirection, context: ApplicationContext) -> Int { 0 }
    func gap(direction: StreamDirection, length: Int, context: ApplicationContext) { gaps.append(length) }
}

private enum SmallStallingProtocol: ApplicationProtocol {
    static let name = "stalling"
    static let registeredPorts: [Transport: Set<UInt16>] = [.tcp: [7777]]
    static func probe(_ bytes: UnsafeRawBufferPointer, direction: StreamDirection, transport: Transport) -> ProbeResult {
        StallingProtocol.probe(bytes, direction: direction, transport: transport)
    }
    static func makeParser(transport: Transport) -> ApplicationParser {
        let parser = StallingParser()
        parser.maximumSize = 100
        return parser
    }
}

private let readRequest = modbusFrame(1, [0x03, 0x00, 0x6b, 0x00, 0x03])
private let readResponse = modbusFrame(1, [0x03, 0x06, 0x02, 0x2b, 0x00, 0x00, 0x00, 0x64])

@Suite struct ApplicationLayerTests {
    @Test func identifiesModbusByContent() {
        let harness = ApplicationLayerHarness()
        harness.send(readRequest)
        #expect(harness.flow.appProto == "modbus")
        #expect(harness.layer.statistics.flowsByProtocol["modbus"] == 1)
        #expect(harness.anomalies.isEmpty)
    }

    @Test func messageSplitAcrossThreeChunks() {
        let whole = ApplicationLayerHarness()
        whole.send(readRequest)
        whole.send(readResponse, .toClient)

        let split = ApplicationLayerHarness()
        split.send(Array(readRequest[0..<3]))
        split.send(Array(readRequest[3..<9]))
        split.send(Array(readRequest[9...]))
        split.send(Array(readResponse[0..<2]), .toClient)
        split.send(Array(readResponse[2..<10]), .toClient)
        split.send(Array(readResponse[10...]), .toClient)

        #expect(split.transactions.count == 1)
        #expect(split.transactions.first?.modbusRecord == whole.transactions.first?.modbusRecord)
        // Every segment of the request and of the response is evidence.
        #expect(split.transactions.first?.packets == (1...6).map { PacketReference(source: 0, number: $0) })
        #expect(split.anomalies.isEmpty)
    }

    @Test func twoMessagesInOneChunk() {
        let harness = ApplicationLayerHarness()
        harness.send(readRequest + modbusFrame(2, [0x01, 0x00, 0x13, 0x00, 0x13]))
        harness.send(readResponse + modbusFrame(2, [0x01, 0x03, 0xcd, 0x6b, 0x05]), .toClient)
        #expect(harness.transactions.count == 2)
        #expect(harness.transactions.map { $0.modbusRecord?["transaction_id"] } == [.int(1), .int(2)])
        #expect(harness.anomalies.isEmpty)
    }

    @Test func gapThenResync() {
        let harness = ApplicationLayerHarness()
        harness.send(readRequest)
        harness.send(Array(readResponse[0..<5]), .toClient)
        harness.gap(100, .toClient)
        harness.send(modbusFrame(2, [0x01, 0x00, 0x13, 0x00, 0x13]))
        harness.send(modbusFrame(2, [0x01, 0x03, 0xcd, 0x6b, 0x05]), .toClient)
        harness.end()

        let records = harness.transactions.compactMap(\.modbusRecord)
        #expect(records.count == 2)
        #expect(records.first { $0["transaction_id"] == .int(2) }?["response"] != .null)
        #expect(records.first { $0["transaction_id"] == .int(1) }?["response"] == .null)
        #expect(harness.anomalies.isEmpty)
    }

    @Test func httpOnModbusPortIsMisuse() {
        let harness = ApplicationLayerHarness(serverPort: 502)
        harness.send(Array("GET /index.html HTTP/1.1\r\nHost: plc\r\n\r\n".utf8))
        #expect(harness.flow.appProto == "http")
        #expect(harness.anomalyNames == ["applayer.protocol_port_mismatch"])
        #expect(harness.alerts.compactMap(\.alertRule) == ["applayer.ics_port_misuse"])
        #expect(harness.anomalies.first?.message?.contains("HTTP on TCP port 502") == true)
    }

    @Test func tlsAndSSHOnModbusPort() {
        let clientHello: [UInt8] = [0x16, 0x03, 0x01, 0x00, 0x2e, 0x01, 0x00, 0x00, 0x2a, 0x03, 0x03] + [UInt8](repeating: 0, count: 40)
        let tls = ApplicationLayerHarness()
        tls.send(clientHello)
        #expect(tls.flow.appProto == "tls")
        #expect(tls.alerts.compactMap(\.alertRule) == ["applayer.ics_port_misuse"])

        let ssh = ApplicationLayerHarness()
        ssh.send(Array("SSH-2.0-OpenSSH_9.2\r\n".utf8), .toClient)
        #expect(ssh.flow.appProto == "ssh")
        #expect(ssh.alerts.compactMap(\.alertRule) == ["applayer.ics_port_misuse"])
    }

    @Test func httpOnWebPortIsQuiet() {
        let harness = ApplicationLayerHarness(serverPort: 80)
        harness.send(Array("GET / HTTP/1.1\r\n\r\n".utf8))
        #expect(harness.flow.appProto == "http")
        #expect(harness.collector.events.isEmpty)
    }

    @Test func modbusOnNonstandardPort() {
        let harness = ApplicationLayerHarness(serverPort: 8080)
        harness.send(readRequest)
        #expect(harness.flow.appProto == "modbus")
        #expect(harness.anomalyNames == ["applayer.protocol_port_mismatch"])
        #expect(harness.alerts.compactMap(\.alertRule) == ["applayer.ics_protocol_nonstandard_port"])
        #expect(harness.anomalies.first?.message?.contains("modbus on TCP port 8080") == true)
    }

    @Test func modbusOnAnotherICSPort() {
        let harness = ApplicationLayerHarness(serverPort: 20000)
        harness.send(readRequest)
        #expect(harness.anomalyNames == ["applayer.protocol_port_mismatch"])
        #expect(harness.alerts.compactMap(\.alertRule) == ["applayer.ics_protocol_nonstandard_port"])
        #expect(harness.anomalies.first?.message?.contains("registered for dnp3") == true)
    }

    @Test func unidentifiedBytesOnModbusPort() {
        let harness = ApplicationLayerHarness()
        harness.send([UInt8](repeating: 0x41, count: 8))
        #expect(harness.anomalies.isEmpty)
        harness.send([UInt8](repeating: 0x42, count: 12))
        #expect(harness.anomalyNames == ["applayer.unidentified_on_ics_port"])
        #expect(harness.layer.statistics.unidentifiedFlowsOnICSPorts == 1)
        #expect(harness.flow.appProto == nil)
        harness.end()
        #expect(harness.anomalyNames.count == 1)
    }

    @Test func modbusAfterRejectedBytesIsIdentified() {
        let harness = ApplicationLayerHarness()
        harness.send([UInt8](repeating: 0x41, count: 40))
        harness.send(readRequest)
        harness.send(readResponse, .toClient)
        #expect(harness.flow.appProto == "modbus")
        #expect(harness.anomalyNames == ["applayer.unidentified_on_ics_port"])
        #expect(harness.transactions.count == 1)
        #expect(harness.transactions.first?.packets == [PacketReference(source: 0, number: 2), PacketReference(source: 0, number: 3)])
    }

    @Test func shortUnidentifiedBytesReportedAtEnd() {
        let harness = ApplicationLayerHarness()
        harness.send([0xde, 0xad, 0xbe, 0xef])
        #expect(harness.anomalies.isEmpty)
        harness.end()
        #expect(harness.anomalyNames == ["applayer.unidentified_on_ics_port"])
        #expect(harness.anomalies.first?.message?.contains("de ad be ef") == true)
    }

    @Test func unidentifiedOffICSPortIsQuiet() {
        let harness = ApplicationLayerHarness(serverPort: 9999)
        harness.send([UInt8](repeating: 0x41, count: 64))
        harness.end()
        #expect(harness.collector.events.isEmpty)
    }

    @Test func bufferOverflowDropsAndResyncs() {
        let harness = ApplicationLayerHarness(serverPort: 7777, protocols: [StallingProtocol.self],
                                              limits: ApplicationLimits(reassemblyBufferBytes: 1000))
        harness.send(Array("TEST".utf8) + [UInt8](repeating: 0, count: 400))
        #expect(harness.anomalies.isEmpty)
        harness.send([UInt8](repeating: 0, count: 700))
        #expect(harness.anomalyNames == ["applayer.buffer_overflow"])
        #expect(harness.layer.statistics.bufferOverruns == 1)
        harness.send([UInt8](repeating: 0, count: 1200))
        #expect(harness.anomalyNames == ["applayer.buffer_overflow"])
        #expect(harness.layer.statistics.bufferOverruns == 2)
        let parser = (harness.flow.application as? FlowApplicationState)?.parser as? StallingParser
        #expect(parser?.gaps == [1104, 1200])
    }

    @Test func parseErrorWhenParserStalls() {
        let harness = ApplicationLayerHarness(serverPort: 7777, protocols: [SmallStallingProtocol.self])
        harness.send(Array("TEST".utf8) + [UInt8](repeating: 0, count: 50))
        #expect(harness.anomalies.isEmpty)
        harness.send([UInt8](repeating: 0, count: 50))
        #expect(harness.anomalyNames == ["applayer.parse_error"])
        #expect(harness.layer.statistics.parseErrors == 1)
    }

    @Test func bytesBeforeIdentificationReachParser() {
        // The response arrives first (capture started late); the request identifies the flow.
        let harness = ApplicationLayerHarness()
        harness.send(Array(readRequest[0..<4]))
        harness.send(Array(readRequest[4...]))
        harness.send(readResponse, .toClient)
        #expect(harness.transactions.count == 1)
        #expect(harness.anomalies.isEmpty)
    }

    @Test func chunkLongerThanProbeBuffer() {
        // 50 requests of 12 bytes: the first 512 bytes are probed, and the rest of the chunk
        // must still reach the parser.
        let harness = ApplicationLayerHarness()
        let requests = (0..<50).flatMap { modbusFrame(UInt16($0), [0x03, 0x00, 0x00, 0x00, 0x01]) }
        harness.send(requests)
        harness.end()
        #expect(harness.transactions.count == 50)
        #expect(harness.anomalies.isEmpty)
    }

    @Test func modbusOverUDP() {
        let harness = ApplicationLayerHarness(ipProtocol: IPProtocolNumber.udp)
        harness.sendDatagram(readRequest)
        harness.sendDatagram(readResponse, .toClient)
        #expect(harness.flow.appProto == "modbus")
        #expect(harness.transactions.count == 1)
    }

    @Test func unidentifiedDatagramsOnBACnetPort() {
        let harness = ApplicationLayerHarness(serverPort: 47808, ipProtocol: IPProtocolNumber.udp, protocols: [ModbusProtocol.self])
        harness.sendDatagram([0xca, 0xfe])
        #expect(harness.anomalies.isEmpty)
        harness.end()
        #expect(harness.anomalyNames == ["applayer.unidentified_on_ics_port"])
        #expect(harness.anomalies.first?.message?.contains("begin ca fe") == true)
    }

    @Test func operationObserverReceivesOperations() {
        let harness = ApplicationLayerHarness()
        var names: [String] = []
        harness.layer.operationObserver = { operation, _, _, _ in names.append(operation?.name ?? "none") }
        harness.send(readRequest)
        harness.send(readResponse, .toClient)
        #expect(names == ["read_holding_registers"])
    }

    @Test func catalogueNamesAreUnique() {
        let anomalies = ApplicationLayerCatalogue.anomalies + ModbusCatalogue.anomalies
        let alerts = ApplicationLayerCatalogue.alerts + ModbusCatalogue.alerts
        #expect(Set(anomalies.map(\.name)).count == anomalies.count)
        #expect(Set(alerts.map(\.name)).count == alerts.count)
        #expect(Set(alerts.map(\.signatureID)).count == alerts.count)
        #expect(ApplicationLayerCatalogue.alerts.allSatisfy { (2000...2099).contains($0.signatureID) })
        #expect(ModbusCatalogue.alerts.allSatisfy { (2100...2199).contains($0.signatureID) })
    }
}

@Suite struct CommonProtocolProbeTests {
    @Test func httpResponseLine() {
        let bytes = Array("HTTP/1.0 200 OK\r\n".utf8)
        #expect(bytes.withUnsafeBytes { CommonProtocol.http.probe($0) } == .match)
    }

    @Test func httpPrefixNeedsMoreData() {
        let bytes = Array("PO".utf8)
        #expect(bytes.withUnsafeBytes { CommonProtocol.http.probe($0) } == .needMoreData)
    }

    @Test func tlsRejectsApplicationData() {
        let bytes: [UInt8] = [0x17, 0x03, 0x03, 0x00, 0x10, 0x00]
        #expect(bytes.withUnsafeBytes { CommonProtocol.tls.probe($0) } == .noMatch)
    }
}
