import CPcap
import Foundation
import Testing
import WirecheckCore
@testable import WirecheckProtocols

// Runs the DNP3 and IEC 104 parsers over the shared corpus of public captures, when it is present,
// and compares the function code and type id counts with those tshark 4.0.17 reported in the
// corpus manifest. The payload extraction here is a test-only stand-in for the flow and stream
// stages: Ethernet, Linux cooked, or raw IPv4; in-order TCP by sequence number; no IPv6.

/// `../shared/captures` beside the package root, or one level further up when the package is a
/// git worktree checked out one directory deeper than the main checkout.
private let corpusRoot: URL = {
    let packageRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    let candidates = ["../shared/captures", "../../shared/captures"].map {
        packageRoot.appendingPathComponent($0).standardizedFileURL
    }
    return candidates.first { FileManager.default.fileExists(atPath: $0.path) } ?? candidates[0]
}()

private struct CorpusEndpoint: Hashable {
    var address: UInt32
    var port: UInt16
}

private struct CorpusFlowKey: Hashable {
    var low: CorpusEndpoint
    var high: CorpusEndpoint
    var ipProtocol: UInt8
}

private final class CorpusFlow {
    let parser: ApplicationParser
    let context: ApplicationContext
    let originator: CorpusEndpoint
    let transport: Transport
    var nextSequence: [StreamDirection: UInt32] = [:]
    var pending: [StreamDirection: [UInt8]] = [:]

    init(parser: ApplicationParser, context: ApplicationContext, originator: CorpusEndpoint, transport: Transport) {
        self.parser = parser
        self.context = context
        self.originator = originator
        self.transport = transport
    }

    func deliver(_ payload: ArraySlice<UInt8>, sequence: UInt32?, syn: Bool, direction: StreamDirection) {
        guard transport == .tcp, let sequence else {
            if !payload.isEmpty {
                _ = Array(payload).withUnsafeBytes { parser.parse($0, direction: direction, context: context) }
            }
            return
        }
        if syn {
            nextSequence[direction] = sequence &+ 1
            return
        }
        var data = payload
        let expected = nextSequence[direction] ?? sequence
        let offset = Int32(bitPattern: sequence &- expected)
        if offset > 0 {
            parser.gap(direction: direction, length: Int(offset), context: context)
            pending[direction] = []
        } else if offset < 0 {
            // A retransmission: keep only bytes past what was already delivered.
            let overlap = Int(-offset)
            guard overlap < data.count else { return }
            data = data.dropFirst(overlap)
        }
        guard !data.isEmpty else { return }
        nextSequence[direction] = (offset > 0 ? sequence : expected) &+ UInt32(data.count)
        let buffer = (pending[direction] ?? []) + data
        let used = buffer.withUnsafeBytes { parser.parse($0, direction: direction, context: context) }
        pending[direction] = Array(buffer[min(used, buffer.count)...])
    }
}

/// Parses every flow on `port` in one capture and returns the events.
private func runCapture(_ path: String, port: UInt16, makeParser: (Transport) -> ApplicationParser) -> [Event]? {
    var errorBuffer = [CChar](repeating: 0, count: Int(PCAP_ERRBUF_SIZE))
    guard let handle = pcap_open_offline(path, &errorBuffer) else { return nil }
    defer { pcap_close(handle) }
    let linkType = pcap_datalink(handle)
    let collector = EventCollector()
    var flows: [CorpusFlowKey: CorpusFlow] = [:]
    var number: UInt64 = 0
    var header: UnsafeMutablePointer<pcap_pkthdr>?
    var data: UnsafePointer<UInt8>?
    while pcap_next_ex(handle, &header, &data) == 1 {
        number += 1
        guard let header, let data else { continue }
        let bytes = Array(UnsafeBufferPointer(start: data, count: Int(header.pointee.caplen)))
        var ipOffset: Int
        switch linkType {
        case 1:
            ipOffset = 14
            var etherType = bytes.count >= 14 ? UInt16(bytes[12]) << 8 | UInt16(bytes[13]) : 0
            while etherType == 0x8100 && bytes.count >= ipOffset + 4 {
                etherType = UInt16(bytes[ipOffset + 2]) << 8 | UInt16(bytes[ipOffset + 3])
                ipOffset += 4
            }
            guard etherType == 0x0800 else { continue }
        case 113: ipOffset = 16
        case 12, 14, 101, 228: ipOffset = 0
        default: return nil
        }
        guard bytes.count >= ipOffset + 20, bytes[ipOffset] >> 4 == 4 else { continue }
        let headerLength = Int(bytes[ipOffset] & 0x0F) * 4
        let totalLength = Int(bytes[ipOffset + 2]) << 8 | Int(bytes[ipOffset + 3])
        let ipProtocol = bytes[ipOffset + 9]
        func address(_ at: Int) -> UInt32 {
            UInt32(bytes[at]) << 24 | UInt32(bytes[at + 1]) << 16 | UInt32(bytes[at + 2]) << 8 | UInt32(bytes[at + 3])
        }
        let source = address(ipOffset + 12), destination = address(ipOffset + 16)
        let transportOffset = ipOffset + headerLength
        let end = min(bytes.count, ipOffset + totalLength)
        guard transportOffset + 8 <= end else { continue }
        let sourcePort = UInt16(bytes[transportOffset]) << 8 | UInt16(bytes[transportOffset + 1])
        let destinationPort = UInt16(bytes[transportOffset + 2]) << 8 | UInt16(bytes[transportOffset + 3])
        guard sourcePort == port || destinationPort == port else { continue }

        var payload: ArraySlice<UInt8>
        var sequence: UInt32?
        var syn = false
        let transport: Transport
        if ipProtocol == 6 {
            guard transportOffset + 20 <= end else { continue }
            let dataOffset = Int(bytes[transportOffset + 12] >> 4) * 4
            guard transportOffset + dataOffset <= end else { continue }
            sequence = address(transportOffset + 4)
            syn = bytes[transportOffset + 13] & 0x02 != 0
            payload = bytes[(transportOffset + dataOffset)..<end]
            transport = .tcp
        } else if ipProtocol == 17 {
            payload = bytes[(transportOffset + 8)..<end]
            transport = .udp
        } else {
            continue
        }

        let sender = CorpusEndpoint(address: source, port: sourcePort)
        let receiver = CorpusEndpoint(address: destination, port: destinationPort)
        let key = CorpusFlowKey(low: min(sender, receiver), high: max(sender, receiver), ipProtocol: ipProtocol)
        let flow: CorpusFlow
        if let existing = flows[key] {
            flow = existing
        } else {
            // The SYN sender originates the flow; without one, the side not on the service port.
            let synOnly = syn && (bytes[transportOffset + 13] & 0x10) == 0
            let originator = synOnly || destinationPort == port ? sender : receiver
            let responder = originator == sender ? receiver : sender
            let context = ApplicationContext(
                flow: FlowContext(flowID: UInt64(flows.count + 1), communityID: "", srcIP: .v4(originator.address),
                                  srcPort: originator.port, destIP: .v4(responder.address), destPort: responder.port,
                                  ipProtocol: ipProtocol),
                timestamp: .zero, packet: PacketReference(source: 0, number: number), transport: transport, sink: collector)
            flow = CorpusFlow(parser: makeParser(transport), context: context, originator: originator, transport: transport)
            flows[key] = flow
        }
        flow.context.packet = PacketReference(source: 0, number: number)
        flow.deliver(payload, sequence: sequence, syn: syn, direction: sender == flow.originator ? .toServer : .toClient)
    }
    for flow in flows.values { flow.parser.close(context: flow.context) }
    return collector.events
}

private extension CorpusEndpoint {
    static func < (lhs: CorpusEndpoint, rhs: CorpusEndpoint) -> Bool {
        (lhs.address, lhs.port) < (rhs.address, rhs.port)
    }
}

extension CorpusEndpoint: Comparable {}

/// Reads "Name (CODE) xCOUNT, ..." after `label` in a manifest row into code -> count.
private func manifestCounts(_ row: String, label: String) -> [Int: Int] {
    guard let start = row.range(of: label) else { return [:] }
    let rest = row[start.upperBound...]
    let section = rest.prefix { $0 != "|" && $0 != "]" && $0 != ";" }
    var counts: [Int: Int] = [:]
    for item in section.split(separator: ",") {
        guard let open = item.lastIndex(of: "("), let close = item.lastIndex(of: ")"),
              let times = item.range(of: " x", options: .backwards) else { continue }
        let codeText = item[item.index(after: open)..<close]
        let code = codeText.hasPrefix("0x") ? Int(codeText.dropFirst(2), radix: 16) : Int(codeText)
        if let code, let count = Int(item[times.upperBound...].trimmingCharacters(in: .whitespaces)) {
            counts[code] = count
        }
    }
    return counts
}

private func recordValue(_ event: Event, _ name: String, _ path: [String]) -> Int? {
    guard case .object(var object)? = event.body[name] else { return nil }
    for key in path.dropLast() {
        guard case .object(let inner)? = object[key] else { return nil }
        object = inner
    }
    guard let last = path.last, case .int(let value)? = object[last] else { return nil }
    return Int(value)
}

private func manifestRows(topic: String) -> [(path: String, row: String)] {
    guard let text = try? String(contentsOf: corpusRoot.appendingPathComponent("MANIFEST.tsv"), encoding: .utf8) else {
        return []
    }
    return text.split(separator: "\n").compactMap { line in
        let path = line.prefix { $0 != "\t" }
        return path.hasPrefix("\(topic)/") ? (String(path), String(line)) : nil
    }
}

@Suite struct DNP3IEC104CorpusTests {
    @Test(.enabled(if: FileManager.default.fileExists(atPath: corpusRoot.appendingPathComponent("dnp3").path)))
    func dnp3FunctionCodesMatchManifest() {
        var disagreements: [String] = []
        for (path, row) in manifestRows(topic: "dnp3") {
            guard let events = runCapture(corpusRoot.appendingPathComponent(path).path, port: DNP3Protocol.port,
                                          makeParser: DNP3Protocol.makeParser) else {
                Issue.record("\(path) could not be read")
                continue
            }
            var counts: [Int: Int] = [:]
            for event in events where event.eventType == "dnp3" {
                if let code = recordValue(event, "dnp3", ["application", "function_code"]) { counts[code, default: 0] += 1 }
            }
            // Confirms are not logged as transactions, so tshark's confirm count is left out.
            var expected = manifestCounts(row, label: "al.func: ")
            expected[0] = nil
            let anomalies = events.compactMap(\.anomalyName)
            let alerts = events.compactMap(\.alertRule)
            let agrees = counts == expected
            print("corpus \(path): \(agrees ? "agrees" : "DIFFERS") wirecheck \(counts.sorted { $0.key < $1.key }) tshark \(expected.sorted { $0.key < $1.key }) anomalies \(Dictionary(anomalies.map { ($0, 1) }, uniquingKeysWith: +)) alerts \(Dictionary(alerts.map { ($0, 1) }, uniquingKeysWith: +))")
            if !agrees { disagreements.append(path) }
            if !expected.isEmpty && counts.isEmpty { Issue.record("\(path): tshark decoded DNP3 functions but the parser emitted none") }
            for event in events where event.eventType == "anomaly" { print("corpus   \(path) #\(event.packets.first?.number ?? 0): \(event.message ?? "")") }
        }
        print("corpus dnp3 disagreements: \(disagreements)")
    }

    @Test(.enabled(if: FileManager.default.fileExists(atPath: corpusRoot.appendingPathComponent("iec104").path)))
    func iec104TypeIDsMatchManifest() {
        for (path, row) in manifestRows(topic: "iec104") {
            guard let events = runCapture(corpusRoot.appendingPathComponent(path).path, port: IEC104Protocol.port,
                                          makeParser: IEC104Protocol.makeParser) else {
                Issue.record("\(path) could not be read")
                continue
            }
            var typeIDs: [Int: Int] = [:]
            var formats: [String: Int] = [:]
            for event in events where event.eventType == "iec104" {
                if let type = recordValue(event, "iec104", ["asdu", "type_id"]) { typeIDs[type, default: 0] += 1 }
                if case .object(let record)? = event.body["iec104"], case .object(let apci)? = record["apci"],
                   case .string(let format)? = apci["type"] {
                    formats[format, default: 0] += 1
                }
            }
            let expected = manifestCounts(row, label: "typeid: ")
            if !expected.isEmpty && typeIDs.isEmpty { Issue.record("\(path): tshark decoded ASDUs but the parser emitted none") }
            for event in events where event.eventType == "anomaly" { print("corpus   \(path) #\(event.packets.first?.number ?? 0): \(event.message ?? "")") }
            let anomalies = events.compactMap(\.anomalyName)
            let alerts = events.compactMap(\.alertRule)
            print("corpus \(path): \(typeIDs == expected ? "agrees" : "DIFFERS") wirecheck \(typeIDs.sorted { $0.key < $1.key }) tshark \(expected.sorted { $0.key < $1.key }) formats \(formats) tshark formats \(manifestCounts(row, label: "; type: ")) anomalies \(Dictionary(anomalies.map { ($0, 1) }, uniquingKeysWith: +)) alerts \(Dictionary(alerts.map { ($0, 1) }, uniquingKeysWith: +))")
        }
    }
}

// MARK: - Fixtures recorded from real peers (Scripts/fixtures)

private let fixtureRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
    .deletingLastPathComponent().appendingPathComponent("Fixtures")

private func counts(_ events: [Event], _ name: String, _ path: [String]) -> [Int: Int] {
    var result: [Int: Int] = [:]
    for event in events where event.eventType == name {
        if let value = recordValue(event, name, path) { result[value, default: 0] += 1 }
    }
    return result
}

@Suite struct DNP3IEC104FixtureTests {
    /// opendnp3 master and outstation start-up, recorded by Scripts/fixtures/dnp3_session.py.
    @Test func opendnp3StartupIsClean() throws {
        let path = fixtureRoot.appendingPathComponent("dnp3/opendnp3-session.pcap").path
        let events = try #require(runCapture(path, port: DNP3Protocol.port, makeParser: DNP3Protocol.makeParser))
        #expect(events.compactMap(\.anomalyName).isEmpty)
        let functions = counts(events, "dnp3", ["application", "function_code"])
        #expect(functions[0x15] == 1)
        #expect(functions[0x02] == 1)
        #expect(functions[0x14] == 1)
        #expect(functions[0x82] == 1)
        #expect((functions[0x01] ?? 0) >= 2)
        // Every request except the confirm gets a response.
        #expect(functions[0x81] == functions.filter { $0.key < 0x80 }.values.reduce(0, +))
        #expect(events.compactMap(\.alertRule) == ["dnp3.disable_unsolicited", "dnp3.write"])
    }

    /// c104 client and server session, recorded by Scripts/fixtures/iec104_session.py.
    @Test func c104SessionIsClean() throws {
        let path = fixtureRoot.appendingPathComponent("iec104/c104-session.pcap").path
        let events = try #require(runCapture(path, port: IEC104Protocol.port, makeParser: IEC104Protocol.makeParser))
        #expect(events.compactMap(\.anomalyName).isEmpty)
        let typeIDs = counts(events, "iec104", ["asdu", "type_id"])
        #expect(typeIDs == [100: 3, 1: 2, 13: 1, 103: 2, 45: 2])
        #expect(events.compactMap(\.alertRule) == ["iec104.clock_sync", "iec104.control_command"])
        let commands = events.filter {
            guard case .object(let record)? = $0.body["iec104"] else { return false }
            return record["type"] == "command"
        }
        #expect(commands.count == 3)
    }
}
