import Foundation
import Testing
import WirecheckCapture
import WirecheckCore
import WirecheckDecoding
import WirecheckDetection
@testable import WirecheckEngine
import WirecheckOutput
import WirecheckProtocols
import WirecheckSynthesis

/// Drives each resource limit of the pipeline past its bound with a flood capture and checks the
/// bound holds, the overrun is counted in the summary and the `stats` event, and the limit's
/// anomaly is raised once.
@Suite struct ResourceLimitTests {
    static let link = EthernetSpec(source: MACAddress(0x0200_0000_0001), destination: MACAddress(0x0200_0000_0002))
    static let server = IPAddress("10.0.0.20")!

    /// Writes `frames` as an Ethernet pcap, one every `step` seconds from t = 1000 s, and returns its path.
    static func capture(_ frames: [[UInt8]], step: Double = 0.001, name: String = "limits") throws -> String {
        let path = TestPaths.temporaryDirectory().appendingPathComponent("\(name).pcap").path
        let writer = try CaptureFileWriter(path: path, linkType: .ethernet)
        for (index, frame) in frames.enumerated() {
            writer.write(frame, timestamp: Timestamp(nanoseconds: 1_000_000_000_000 + Int64(Double(index) * step * 1e9)))
        }
        writer.close()
        return path
    }

    /// Returns a pseudo-random IPv4 source in 172.16.0.0/12 for flood index `index`, distinct per index.
    static func floodSource(_ index: Int) -> IPAddress {
        .v4(0xAC10_0000 | UInt32(truncatingIfNeeded: (index &* 2_654_435_761) & 0x000F_FFFF))
    }

    static func limit(_ result: AnalysisResult, _ name: String) -> UInt64? {
        result.summary.limitOverruns.first { $0.0 == name }?.1
    }

    /// Returns the `limits` member of the run's stats event, parsed back from its EVE line.
    static func statsLimits(_ result: AnalysisResult) -> [String: Any]? {
        guard let line = result.eveLines.last(where: { $0.contains("\"event_type\":\"stats\"") }),
              let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any],
              let stats = object["stats"] as? [String: Any] else { return nil }
        return stats["limits"] as? [String: Any]
    }

    // MARK: - Decoder anomaly repeats

    static func synFinScan(ports: Int, from source: IPAddress) throws -> String {
        var builder = PacketBuilder()
        var frames: [[UInt8]] = []
        for port in 0..<ports {
            frames.append(builder.tcp(link, ip: IPSpec(source: source, destination: server),
                                      tcp: TCPSpec(sourcePort: 40_000, destinationPort: UInt16(1 + port), sequence: 7,
                                                   flags: [.syn, .fin])))
        }
        return try capture(frames, name: "synfin")
    }

    @Test func synFinScanWritesFirstTenThenRepeats() throws {
        let result = try AnalysisHarness.analyze(Self.synFinScan(ports: 1000, from: IPAddress("10.0.0.66")!))
        let events = result.anomalies("decoder.tcp.flags_syn_fin")
        #expect(events.count == 11)
        let repeats = events.compactMap { event -> Int64? in
            guard case .object(let anomaly)? = event.body["anomaly"], case .int(let count)? = anomaly["repeats"] else { return nil }
            return count
        }
        #expect(repeats == [990])
        #expect(events.last?.message?.contains("10.0.0.66") == true)
        #expect(Self.limit(result, "anomaly_repeats") == 990)
        let skipped = result.summary.skipped.first { $0.0.hasPrefix("decoder.tcp.flags_syn_fin") }
        #expect(skipped?.1 == 990)
        #expect(Self.statsLimits(result)?["anomaly_repeats"] as? Int == 990)
    }

    @Test func fewSynFinPacketsAllWritten() throws {
        let result = try AnalysisHarness.analyze(Self.synFinScan(ports: 5, from: IPAddress("10.0.0.66")!))
        let events = result.anomalies("decoder.tcp.flags_syn_fin")
        #expect(events.count == 5)
        for event in events {
            guard case .object(let anomaly)? = event.body["anomaly"] else { continue }
            #expect(anomaly["repeats"] == nil)
        }
        #expect(Self.limit(result, "anomaly_repeats") == 0)
    }

    @Test func anomalyRepeatsOptionChangesLimit() throws {
        var options = AnalysisOptions()
        options.anomaliesPerSourcePerMinute = 3
        let result = try AnalysisHarness.analyze(Self.synFinScan(ports: 50, from: IPAddress("10.0.0.66")!), options: options)
        #expect(result.anomalies("decoder.tcp.flags_syn_fin").count == 4)
        #expect(Self.limit(result, "anomaly_repeats") == 47)
    }

    @Test func repeatLimitIsPerSource() throws {
        var builder = PacketBuilder()
        var frames: [[UInt8]] = []
        for index in 0..<40 {
            let source = IPAddress.v4(0x0A00_0040 + UInt32(index % 2))
            frames.append(builder.tcp(Self.link, ip: IPSpec(source: source, destination: Self.server),
                                      tcp: TCPSpec(sourcePort: 40_000, destinationPort: UInt16(1 + index), flags: [.syn, .fin])))
        }
        let result = try AnalysisHarness.analyze(Self.capture(frames, name: "synfin-two"))
        // Ten written per source, then one repeats event per source.
        #expect(result.anomalies("decoder.tcp.flags_syn_fin").count == 22)
        #expect(Self.limit(result, "anomaly_repeats") == 20)
    }

    @Test func repeatWindowRestartsAfterOneMinute() throws {
        var builder = PacketBuilder()
        var frames: [[UInt8]] = []
        for port in 0..<30 {
            frames.append(builder.tcp(Self.link, ip: IPSpec(source: IPAddress("10.0.0.66")!, destination: Self.server),
                                      tcp: TCPSpec(sourcePort: 40_000, destinationPort: UInt16(1 + port), flags: [.syn, .fin])))
        }
        // One packet every 5 s: 12 per minute, so 2 of every 12 are held back.
        let result = try AnalysisHarness.analyze(Self.capture(frames, step: 5, name: "synfin-slow"))
        let held = Self.limit(result, "anomaly_repeats") ?? 0
        #expect(held > 0)
        #expect(held < 10)
        #expect(result.anomalies("decoder.tcp.flags_syn_fin").count == 30 - Int(held) + 1)
    }

    @Test func limiterMemoryIsBounded() throws {
        // Direct check of the key cap: past it, new sources share one key per anomaly name.
        let collector = EventCollector()
        let limiter = AnomalyRateLimiter(downstream: collector, maxKeys: 4)
        let definition = DecodingCatalogue.anomalies.first { $0.name == "decoder.tcp.flags_syn_fin" }!
        for index in 0..<100 {
            let event = Event.anomaly(definition, timestamp: Timestamp(nanoseconds: Int64(index)),
                                      endpoints: Endpoints(srcIP: .v4(UInt32(index))), packets: [], message: "m")
            limiter.emit(event)
        }
        limiter.finish()
        // 4 tracked sources write 1 each, and the shared key writes 10 of the other 96 and counts 86.
        #expect(collector.events.count == 4 + 10 + 1)
        #expect(limiter.sourcesPastKeyLimit == 96)
    }

    // MARK: - Flows

    @Test func synFloodEvictsAtMaxFlows() throws {
        var builder = PacketBuilder()
        var frames: [[UInt8]] = []
        for index in 0..<1000 {
            frames.append(builder.tcp(Self.link, ip: IPSpec(source: Self.floodSource(index), destination: Self.server),
                                      tcp: TCPSpec(sourcePort: UInt16(1024 + index), destinationPort: 502,
                                                   sequence: UInt32(index), flags: .syn)))
        }
        var options = AnalysisOptions()
        options.flows.maxFlows = 100
        let result = try AnalysisHarness.analyze(Self.capture(frames, name: "synflood"), options: options)
        #expect(result.summary.flows == 1000)
        #expect(result.summary.evictedFlows == 900)
        #expect(result.anomalies("stream.flow_limit_reached").count == 1)
        #expect(Self.limit(result, "max_flows") == 900)
        #expect(Self.statsLimits(result)?["max_flows"] as? Int == 900)
    }

    @Test func fewFlowsReachNoLimit() throws {
        var builder = PacketBuilder()
        let frames = (0..<10).map { index in
            builder.tcp(Self.link, ip: IPSpec(source: Self.floodSource(index), destination: Self.server),
                        tcp: TCPSpec(sourcePort: UInt16(1024 + index), destinationPort: 502, flags: .syn))
        }
        var options = AnalysisOptions()
        options.flows.maxFlows = 100
        let result = try AnalysisHarness.analyze(Self.capture(frames, name: "fewflows"), options: options)
        #expect(result.anomalies("stream.flow_limit_reached").isEmpty)
        #expect(result.summary.limitOverruns.allSatisfy { $0.1 == 0 })
        let limits = Self.statsLimits(result)
        for name in ["max_flows", "reassembly_bytes", "outstanding_requests", "fragments", "arp_bindings", "anomaly_repeats"] {
            #expect(limits?[name] as? Int == 0, "limit \(name)")
        }
    }

    // MARK: - Reassembly

    /// Writes one connection whose client sends `segments` segments of 100 bytes, each after a
    /// 100-byte hole, so nothing can be delivered in order.
    static func outOfOrderFlood(segments: Int, flows: Int = 1) throws -> String {
        var frames: [[UInt8]] = []
        for flow in 0..<flows {
            var session = TCPConversation(link: link, client: IPAddress.v4(0x0A00_0100 + UInt32(flow)), clientPort: 50_000,
                                          server: server, serverPort: 502)
            frames += session.handshake()
            var builder = PacketBuilder()
            for index in 0..<segments {
                let sequence = session.clientSequence &+ UInt32(200 * index + 100)
                frames.append(builder.tcp(link, ip: session.clientIP,
                                          tcp: TCPSpec(sourcePort: 50_000, destinationPort: 502, sequence: sequence,
                                                       acknowledgement: session.serverSequence, flags: [.ack, .psh]),
                                          payload: [UInt8](repeating: 0x41, count: 100)))
            }
        }
        return try capture(frames, name: "outoforder")
    }

    @Test func outOfOrderFloodHitsPerFlowLimit() throws {
        var options = AnalysisOptions()
        options.flows.reassemblyLimits.maxBufferedBytesPerDirection = 1000
        options.flows.reassemblyLimits.gapAfterHeldSegments = 1_000_000
        options.flows.reassemblyLimits.gapAfterHeldBytes = 1 << 30
        let result = try AnalysisHarness.analyze(Self.outOfOrderFlood(segments: 2000), options: options)
        #expect((Self.limit(result, "reassembly_bytes") ?? 0) > 0)
        #expect(result.anomalies("stream.reassembly_overflow").count == 1)
    }

    @Test func outOfOrderFloodHitsTotalLimit() throws {
        var options = AnalysisOptions()
        options.flows.reassemblyMaxTotalBytes = 4000
        options.flows.reassemblyLimits.gapAfterHeldSegments = 1_000_000
        options.flows.reassemblyLimits.gapAfterHeldBytes = 1 << 30
        let result = try AnalysisHarness.analyze(Self.outOfOrderFlood(segments: 30, flows: 5), options: options)
        #expect((Self.limit(result, "reassembly_bytes") ?? 0) > 0)
        // At most once per flow, never once per segment.
        #expect(result.anomalies("stream.reassembly_overflow").count <= 5)
    }

    @Test func shortReorderReachesNoReassemblyLimit() throws {
        let result = try AnalysisHarness.analyze(Self.outOfOrderFlood(segments: 3))
        #expect(Self.limit(result, "reassembly_bytes") == 0)
        #expect(result.anomalies("stream.reassembly_overflow").isEmpty)
    }

    // MARK: - Fragments

    static func fragmentFlood(datagrams: Int) throws -> String {
        var builder = PacketBuilder()
        var frames: [[UInt8]] = []
        for index in 0..<datagrams {
            let ip = IPSpec(source: floodSource(index), destination: server, identification: UInt16(truncatingIfNeeded: index))
            let frame = builder.udp(link, ip: ip, sourcePort: 40_000, destinationPort: 47_808,
                                    payload: [UInt8](repeating: 0x42, count: 200))
            // Keep only the first fragment, so every datagram stays in progress.
            let fragments = Fragmenter.fragmentIPv4(Array(frame[14...]), maxPayloadPerFragment: 64)
            frames.append(Array(frame[..<14]) + fragments[0])
        }
        return try capture(frames, name: "fragments")
    }

    @Test func fragmentFloodHitsDatagramLimit() throws {
        var options = AnalysisOptions()
        options.fragmentLimits.maxDatagramsInProgress = 50
        let result = try AnalysisHarness.analyze(Self.fragmentFlood(datagrams: 500), options: options)
        #expect(Self.limit(result, "fragments") == 450)
        #expect(result.anomalies("decoder.ip.fragment_limit_reached").count == 1)
    }

    @Test func fewFragmentsReachNoLimit() throws {
        var options = AnalysisOptions()
        options.fragmentLimits.maxDatagramsInProgress = 50
        let result = try AnalysisHarness.analyze(Self.fragmentFlood(datagrams: 20), options: options)
        #expect(Self.limit(result, "fragments") == 0)
        #expect(result.anomalies("decoder.ip.fragment_limit_reached").isEmpty)
    }

    // MARK: - ARP

    static func arpFlood(senders: Int) throws -> String {
        var builder = PacketBuilder()
        var frames: [[UInt8]] = []
        for index in 0..<senders {
            frames.append(builder.arpRequest(senderMAC: MACAddress(0x0200_0001_0000 + UInt64(index)),
                                             senderIP: floodSource(index), targetIP: server))
        }
        return try capture(frames, name: "arp")
    }

    @Test func arpFloodHitsBindingLimit() throws {
        var options = AnalysisOptions()
        options.arp = ARPConfiguration(maxBindings: 100)
        let result = try AnalysisHarness.analyze(Self.arpFlood(senders: 2000), options: options)
        #expect(Self.limit(result, "arp_bindings") == 1900)
        #expect(result.anomalies("arp.binding_limit_reached").count == 1)
    }

    @Test func fewArpSendersReachNoLimit() throws {
        var options = AnalysisOptions()
        options.arp = ARPConfiguration(maxBindings: 100)
        let result = try AnalysisHarness.analyze(Self.arpFlood(senders: 50), options: options)
        #expect(Self.limit(result, "arp_bindings") == 0)
        #expect(result.anomalies("arp.binding_limit_reached").isEmpty)
    }

    // MARK: - Outstanding requests

    /// Writes one Modbus/TCP connection carrying `requests` read requests and no response, 100 to a segment.
    static func unansweredModbus(requests: Int) throws -> String {
        var session = TCPConversation(link: link, client: IPAddress("10.0.0.5")!, clientPort: 50_000,
                                      server: server, serverPort: 502)
        var frames = session.handshake()
        var index = 0
        while index < requests {
            var payload: [UInt8] = []
            for transaction in index..<min(requests, index + 100) {
                payload += ModbusFrames.readHoldingRegisters(transaction: UInt16(truncatingIfNeeded: transaction), unit: 1,
                                                             address: 0, count: 1)
            }
            frames.append(session.clientSends(payload))
            index += 100
        }
        return try capture(frames, step: 0.0001, name: "modbus")
    }

    /// Runs the pipeline keeping only non-Modbus events, so a run with 100k transactions does
    /// not hold them all in memory.
    final class ModbusCountingSink: EventSink {
        var modbusEvents = 0
        var kept: [Event] = []
        func emit(_ event: Event) {
            if event.eventType == "modbus" { modbusEvents += 1 } else { kept.append(event) }
        }
    }

    static func analyzeCounting(_ path: String, options: AnalysisOptions) throws -> (ModbusCountingSink, RunSummary) {
        let sources = CaptureSourceTable()
        let input = try CaptureInput.openFiles([path], options: CaptureOptions(), sources: sources)
        let sink = ModbusCountingSink()
        let analyzer = Analyzer(options: options, sources: sources, outputs: [sink])
        input.run({ analyzer.process($0) }, idle: nil)
        analyzer.finish()
        var summary = RunSummary()
        analyzer.summarize(into: &summary)
        return (sink, summary)
    }

    // 100k requests in a debug build; every dropped request is still written as an unanswered
    // transaction, so nothing is lost from the output.
    @Test func unansweredModbusFloodKeepsLimit() throws {
        let requests = 100_000
        let (sink, summary) = try Self.analyzeCounting(Self.unansweredModbus(requests: requests), options: AnalysisOptions())
        let overruns = summary.limitOverruns.first { $0.0 == "outstanding_requests" }?.1
        #expect(overruns == UInt64(requests - 64))
        #expect(sink.kept.filter { $0.anomalyName == "applayer.modbus.too_many_outstanding_requests" }.count == 1)
        #expect(sink.modbusEvents == requests)
    }

    @Test func outstandingRequestOptionChangesLimit() throws {
        var options = AnalysisOptions()
        options.application.maxOutstandingRequests = 10
        let (sink, summary) = try Self.analyzeCounting(Self.unansweredModbus(requests: 500), options: options)
        #expect(summary.limitOverruns.first { $0.0 == "outstanding_requests" }?.1 == 490)
        let anomaly = sink.kept.first { $0.anomalyName == "applayer.modbus.too_many_outstanding_requests" }
        guard case .object(let fields)? = anomaly?.body["anomaly"] else {
            Issue.record("no too_many_outstanding_requests anomaly")
            return
        }
        let expectedLimit: JSONValue = .int(10)
        #expect(fields["limit"] == expectedLimit)
    }

    @Test func fewModbusRequestsReachNoLimit() throws {
        let (sink, summary) = try Self.analyzeCounting(Self.unansweredModbus(requests: 60), options: AnalysisOptions())
        #expect(summary.limitOverruns.first { $0.0 == "outstanding_requests" }?.1 == 0)
        #expect(sink.kept.allSatisfy { $0.anomalyName != "applayer.modbus.too_many_outstanding_requests" })
    }
}
