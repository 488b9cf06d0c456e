import Testing
@testable import WirecheckBaseline
import WirecheckCore
import WirecheckDecoding
@testable import WirecheckFlows
import WirecheckProtocols

/// Runs ten minutes of learning, then detection on the next ten minutes of the same plant.
struct BaselineDetectionRun {
    let baseline: Baseline
    let detector: BaselineDetector
    let collector = EventCollector()
    var plant = BaselinePlant()

    init() {
        baseline = BaselinePlant.learnedBaseline()
        detector = BaselineDetector(baseline: baseline, sink: collector)
        plant.packetNumber = 100_000
    }

    var alerts: [Event] { collector.events.filter { $0.eventType == "alert" } }

    /// The plant's next ten minutes, with `expire` called every second of packet time.
    mutating func runNormal(seconds: Int = 600, period: Double = 1.0, offset: Double = 600, skipPLC: Int? = nil,
                            mutePLC: Int? = nil) {
        let detector = self.detector
        plant.run(detector, offset: offset, seconds: seconds, period: period, clientPortBase: 41000, skipPLC: skipPLC,
                  mutePLC: mutePLC, tick: { detector.expire(now: $0) })
    }

    static func baselineEvidence(_ event: Event) -> JSONObject? {
        guard case .object(let alert)? = event.body["alert"], case .object(let evidence)? = alert["baseline"] else { return nil }
        return evidence
    }

    static func member(_ event: Event, _ key: String) -> JSONValue? {
        guard case .object(let alert)? = event.body["alert"] else { return nil }
        return alert[key]
    }

    static func techniqueID(_ event: Event) -> String? {
        guard case .object(let metadata)? = member(event, "metadata"), case .array(let ids)? = metadata["mitre_technique_id"],
              case .string(let id)? = ids.first else { return nil }
        return id
    }
}

@Suite struct BaselineDetectTests {
    static let later = BaselinePlant.start.adding(seconds: 700)
    static let plc = BaselinePlant.plcs[0]

    @Test func normalTrafficRaisesNothing() {
        var run = BaselineDetectionRun()
        run.runNormal()
        run.detector.finish(at: BaselinePlant.start.adding(seconds: 1200))
        #expect(run.alerts.map { $0.message ?? "" } == [])
    }

    @Test func newAssetOncePerHost() throws {
        var run = BaselineDetectionRun()
        let stranger = IPAddress("10.20.1.99")!
        for number in 1...3 {
            run.detector.observe(packet: BaselinePlant.packet(from: stranger, to: Self.plc, mac: MACAddress(0x0200_0000_0099), ttl: 64,
                                                              time: Self.later, reference: PacketReference(source: 0, number: UInt64(number))))
        }
        let alerts = run.collector.alerts(named: "baseline.new_asset")
        #expect(alerts.count == 1)
        #expect(run.alerts.count == 1)
        let alert = try #require(alerts.first)
        #expect(alert.message == "10.20.1.99 from MAC 02:00:00:00:00:99 is not in the baseline, which lists 3 assets")
        #expect(alert.packets == [PacketReference(source: 0, number: 1)])
        #expect(alert.endpoints?.srcIP == stranger)
        #expect(BaselineDetectionRun.baselineEvidence(alert)?["assets"] == .int(3))
    }

    @Test func newMACOnKnownIP() throws {
        var run = BaselineDetectionRun()
        run.detector.observe(packet: BaselinePlant.packet(from: Self.plc, to: BaselinePlant.hmi, mac: MACAddress(0x0200_0000_0001),
                                                          ttl: 64, time: Self.later, reference: PacketReference(source: 0, number: 7)))
        let alert = try #require(run.collector.alerts(named: "baseline.new_mac").first)
        #expect(run.alerts.count == 1)
        #expect(alert.message?.hasPrefix("10.20.1.21 sent from MAC 02:00:00:00:00:01; the baseline knows it only as 08:61:95:00:00:21 (") == true)
        #expect(BaselineDetectionRun.techniqueID(alert) == "T0830")
        #expect(BaselineDetectionRun.member(alert, "severity") == .int(2))
        #expect(BaselineDetectionRun.baselineEvidence(alert)?["macs"] == .array(["08:61:95:00:00:21"]))
    }

    @Test func ttlChangeOnKnownHost() throws {
        var run = BaselineDetectionRun()
        for number in 1...5 {
            run.detector.observe(packet: BaselinePlant.packet(from: Self.plc, to: BaselinePlant.hmi, mac: BaselinePlant.plcMACs[0],
                                                              ttl: 63, time: Self.later, reference: PacketReference(source: 0, number: UInt64(number))))
        }
        let alerts = run.collector.alerts(named: "baseline.ttl_change")
        #expect(alerts.count == 1)
        #expect(run.alerts.count == 1)
        #expect(alerts.first?.message == "10.20.1.21 sent with TTL 63; the baseline saw only TTL 64 from it, so its path changed")
        #expect(alerts.first.map { BaselineDetectionRun.member($0, "severity") } == .int(3))
    }

    @Test func newConversationBetweenStrangers() throws {
        var run = BaselineDetectionRun()
        let context = BaselinePlant.context(client: BaselinePlant.plcs[0], clientPort: 50000, server: BaselinePlant.plcs[1], port: 20000,
                                            appProto: "dnp3")
        run.detector.flowEnded(BaselinePlant.flow(context, from: Self.later, to: Self.later.adding(seconds: 5)))
        let alert = try #require(run.collector.alerts(named: "baseline.new_conversation").first)
        #expect(run.alerts.count == 1)
        #expect(alert.message?.hasPrefix("10.20.1.21 → 10.20.1.22 on tcp/20000 dnp3 is a new conversation") == true)
        #expect(alert.flow == context)
        #expect(BaselineDetectionRun.baselineEvidence(alert)?["client_known"] == .bool(true))
    }

    @Test func knownPairOnNewPort() throws {
        var run = BaselineDetectionRun()
        let context = BaselinePlant.context(client: BaselinePlant.hmi, clientPort: 50000, server: Self.plc, port: 102, appProto: "s7comm")
        run.detector.flowEnded(BaselinePlant.flow(context, from: Self.later, to: Self.later.adding(seconds: 5)))
        let alert = try #require(run.collector.alerts(named: "baseline.new_protocol_or_port").first)
        #expect(run.alerts.count == 1)
        #expect(alert.message == "10.20.1.10 → 10.20.1.21 used tcp/102 s7comm, never seen for this pair; the baseline has only "
            + "10.20.1.10 → 10.20.1.21 tcp/502 modbus")
    }

    @Test func unidentifiedFlowOnKnownServiceIsKnown() {
        var run = BaselineDetectionRun()
        let context = BaselinePlant.context(client: BaselinePlant.hmi, clientPort: 50000, server: Self.plc, appProto: nil)
        run.detector.flowEnded(BaselinePlant.flow(context, from: Self.later, to: Self.later.adding(seconds: 1)))
        #expect(run.alerts.isEmpty)
    }

    @Test func serverInitiatesToItsClient() throws {
        var run = BaselineDetectionRun()
        let context = BaselinePlant.context(client: Self.plc, clientPort: 50000, server: BaselinePlant.hmi, port: 502)
        run.detector.flowEnded(BaselinePlant.flow(context, from: Self.later, to: Self.later.adding(seconds: 5)))
        let alert = try #require(run.collector.alerts(named: "baseline.server_initiates").first)
        #expect(run.alerts.count == 1)
        #expect(alert.message?.hasPrefix("10.20.1.21 opened tcp/502 modbus to 10.20.1.10; in the baseline 10.20.1.21 is only the server") == true)
    }

    @Test func midstreamReverseFlowIsNotServerInitiated() {
        var run = BaselineDetectionRun()
        let context = BaselinePlant.context(client: Self.plc, clientPort: 50000, server: BaselinePlant.hmi, port: 502)
        run.detector.flowEnded(BaselinePlant.flow(context, from: Self.later, to: Self.later.adding(seconds: 5), handshake: false))
        #expect(run.collector.alerts(named: "baseline.server_initiates").isEmpty)
        #expect(run.collector.alerts(named: "baseline.new_protocol_or_port").count == 1)
    }

    @Test func newWriteOnReadOnlyConversation() throws {
        var run = BaselineDetectionRun()
        let write = BaselineOperation(protocolName: "modbus", name: "write_single_register", operationClass: .write, code: 6,
                                      unit: 1, rangeStart: 40, rangeEnd: 40)
        let context = BaselinePlant.context(client: BaselinePlant.hmi, clientPort: 41000, server: Self.plc)
        for number in 1...3 {
            run.detector.observe(operation: write, flow: context, timestamp: Self.later, packets: [PacketReference(source: 0, number: UInt64(number))])
        }
        let alerts = run.collector.alerts(named: "baseline.new_operation")
        #expect(alerts.count == 1)
        #expect(run.alerts.count == 1)
        let alert = try #require(alerts.first)
        let message = try #require(alert.message)
        #expect(message.hasPrefix("10.20.1.10 → 10.20.1.21 Modbus write_single_register (fc 6) never seen (write, unit 1, address 40); "
            + "this pair made "))
        #expect(message.contains("read_holding_registers requests between 2026-12-04 08:00 and 08:10 UTC, about once a second"))
        #expect(BaselineDetectionRun.member(alert, "severity") == .int(1))
        #expect(BaselineDetectionRun.techniqueID(alert) == "T0836")
        #expect(BaselineDetectionRun.baselineEvidence(alert)?["only_reads"] == .bool(true))
        #expect(alert.packets == [PacketReference(source: 0, number: 1)])
    }

    @Test func newReadIsLowSeverity() throws {
        var run = BaselineDetectionRun()
        let read = BaselineOperation(protocolName: "modbus", name: "read_coils", operationClass: .read, code: 1, unit: 1,
                                     rangeStart: 0, rangeEnd: 15)
        let context = BaselinePlant.context(client: BaselinePlant.hmi, clientPort: 41000, server: Self.plc)
        run.detector.observe(operation: read, flow: context, timestamp: Self.later, packets: [])
        let alert = try #require(run.collector.alerts(named: "baseline.new_operation").first)
        #expect(BaselineDetectionRun.member(alert, "severity") == .int(3))
        #expect(BaselineDetectionRun.techniqueID(alert) == "T0861")
    }

    @Test func outOfRangeAddressAndUnit() throws {
        var run = BaselineDetectionRun()
        let context = BaselinePlant.context(client: BaselinePlant.hmi, clientPort: 41000, server: Self.plc)
        let wide = BaselineOperation(protocolName: "modbus", name: "read_holding_registers", operationClass: .read, code: 3,
                                     unit: 1, rangeStart: 0, rangeEnd: 99)
        run.detector.observe(operation: wide, flow: context, timestamp: Self.later, packets: [])
        run.detector.observe(operation: wide, flow: context, timestamp: Self.later, packets: [])
        let otherUnit = BaselineOperation(protocolName: "modbus", name: "read_holding_registers", operationClass: .read, code: 3,
                                          unit: 7, rangeStart: 0, rangeEnd: 9)
        run.detector.observe(operation: otherUnit, flow: context, timestamp: Self.later, packets: [])
        let alerts = run.collector.alerts(named: "baseline.out_of_range")
        #expect(alerts.count == 2)
        #expect(run.alerts.count == 2)
        #expect(alerts.first?.message?.hasPrefix("10.20.1.10 → 10.20.1.21 Modbus read_holding_registers (fc 3) on unit 1 addressed "
            + "addresses 0-99, outside the learned range 0-9") == true)
        #expect(alerts.last?.message == "10.20.1.10 → 10.20.1.21 Modbus read_holding_registers (fc 3) addressed unit 7, never seen; "
            + "the baseline has only unit 1")
        #expect(alerts.first.flatMap { BaselineDetectionRun.baselineEvidence($0)?["range_max"] } == .int(9))
    }

    @Test func changedPollingPeriodAlertsOncePerConversation() throws {
        var run = BaselineDetectionRun()
        run.runNormal(seconds: 300, period: 2.0)
        let alerts = run.collector.alerts(named: "baseline.polling_period_changed")
        #expect(alerts.count == 2)
        #expect(run.alerts.count == 2)
        #expect(Set(alerts.compactMap { $0.flow?.destIP }) == Set(BaselinePlant.plcs))
        let alert = try #require(alerts.first)
        #expect(BaselineDetectionRun.member(alert, "severity") == .int(3))
        #expect(alert.message?.contains("now repeats every 2 s (median of the last 10 requests); the baseline period is 1 s") == true)
    }

    @Test func slightlySlowerPollingStaysQuiet() {
        var run = BaselineDetectionRun()
        run.runNormal(seconds: 300, period: 1.05)
        #expect(run.alerts.isEmpty)
    }

    @Test func burstExceedsRate() throws {
        var run = BaselineDetectionRun()
        let context = BaselinePlant.context(client: BaselinePlant.hmi, clientPort: 41000, server: Self.plc)
        for index in 0..<300 {
            run.detector.observe(operation: BaselinePlant.read, flow: context,
                                 timestamp: Self.later.adding(seconds: Double(index) * 0.1), packets: [])
        }
        let alerts = run.collector.alerts(named: "baseline.rate_exceeded")
        #expect(alerts.count == 1)
        let alert = try #require(alerts.first)
        #expect(alert.message?.contains("requests in the minute from 2026-12-04 08:11 UTC; the baseline's 95th percentile is") == true)
        #expect(BaselineDetectionRun.technique(alert) == "T0806")
        #expect(run.collector.alerts(named: "baseline.polling_period_changed").count == 1)
    }

    @Test func silenceThenResumption() throws {
        var run = BaselineDetectionRun()
        run.runNormal(seconds: 60)
        // PLC 2 stops being polled for two minutes.
        run.runNormal(seconds: 120, offset: 661, skipPLC: 1)
        let silent = run.collector.alerts(named: "baseline.conversation_silent")
        #expect(silent.count == 1)
        #expect(silent.first?.endpoints?.destIP == BaselinePlant.plcs[1])
        #expect(silent.first?.message?.hasPrefix("10.20.1.10 → 10.20.1.22 tcp/502 modbus sent no request for 3") == true)
        #expect(silent.first?.message?.hasSuffix("it polls about once a second in the baseline") == true)
        #expect(run.collector.alerts(named: "baseline.conversation_resumed").isEmpty)
        run.runNormal(seconds: 30, offset: 782)
        let resumed = run.collector.alerts(named: "baseline.conversation_resumed")
        #expect(resumed.count == 1)
        #expect(resumed.first?.flow?.destIP == BaselinePlant.plcs[1])
        #expect(run.collector.alerts(named: "baseline.conversation_silent").count == 1)
        #expect(run.alerts.count == 2)
    }

    @Test func unansweredRequestsThenResponses() throws {
        var run = BaselineDetectionRun()
        run.runNormal(seconds: 60)
        // PLC 1 keeps receiving requests but sends no response for two minutes.
        run.runNormal(seconds: 120, offset: 661, mutePLC: 0)
        let silent = run.collector.alerts(named: "baseline.conversation_silent")
        #expect(silent.count == 1)
        #expect(silent.first?.message?.hasPrefix("10.20.1.21 stopped responding to 10.20.1.10 on tcp/502 modbus: requests continue but no response for 3") == true)
        #expect(silent.first.flatMap { BaselineDetectionRun.member($0, "seen") }.map { value -> Bool in
            if case .object(let seen) = value { return seen["silent_side"] == .string("server") }
            return false
        } == true)
        run.runNormal(seconds: 30, offset: 782)
        let resumed = run.collector.alerts(named: "baseline.conversation_resumed")
        #expect(resumed.count == 1)
        #expect(resumed.first?.message?.hasPrefix("10.20.1.21 responds to 10.20.1.10 on tcp/502 modbus again after 2") == true)
        #expect(run.alerts.count == 2)
    }

    @Test func learnThenDetectSwitchesAtCutoff() throws {
        let collector = EventCollector()
        let combined = LearnThenDetect(duration: 600, sink: collector)
        var plant = BaselinePlant()
        plant.run(combined, offset: 0, seconds: 600)
        // The learning flows end at the cut-off, which starts detection, so they are not checked.
        #expect(!combined.isLearning)
        plant.run(combined, offset: 600.5, seconds: 600, clientPortBase: 41000, tick: { combined.expire(now: $0) })
        #expect(collector.events.isEmpty)
        let write = BaselineOperation(protocolName: "modbus", name: "write_single_register", operationClass: .write, code: 6,
                                      unit: 1, rangeStart: 40, rangeEnd: 40)
        combined.observe(operation: write, flow: BaselinePlant.context(client: BaselinePlant.hmi, clientPort: 41000, server: Self.plc),
                         timestamp: BaselinePlant.start.adding(seconds: 1300), packets: [])
        #expect(collector.alerts(named: "baseline.new_operation").count == 1)
        #expect(combined.baseline.conversations.count == 2)
    }

    @Test func learnFirstDurationParsing() {
        #expect(LearnThenDetect.parseDuration("600") == 600)
        #expect(LearnThenDetect.parseDuration("90s") == 90)
        #expect(LearnThenDetect.parseDuration("10m") == 600)
        #expect(LearnThenDetect.parseDuration("1.5h") == 5400)
        #expect(LearnThenDetect.parseDuration("1d") == 86_400)
        #expect(LearnThenDetect.parseDuration("0") == nil)
        #expect(LearnThenDetect.parseDuration("-5m") == nil)
        #expect(LearnThenDetect.parseDuration("ten minutes") == nil)
        #expect(LearnThenDetect.parseDuration("") == nil)
    }

    @Test func scanFromOneClientIsCapped() {
        var run = BaselineDetectionRun()
        let scanner = IPAddress("10.20.1.66")!
        for port in 1...100 {
            let context = BaselinePlant.context(client: scanner, clientPort: 50000, server: Self.plc, port: UInt16(port), appProto: nil)
            run.detector.flowEnded(BaselinePlant.flow(context, from: Self.later, to: Self.later))
        }
        let alerts = run.collector.alerts(named: "baseline.new_conversation")
        #expect(alerts.count == BaselineDetector.maxNoveltyAlertsPerClient)
        #expect(alerts.last?.message?.hasSuffix("further new conversations from 10.20.1.66 are not reported individually") == true)
    }

    @Test func catalogueIdsAreUniqueAndInRange() {
        let ids = BaselineCatalogue.alerts.map(\.signatureID)
        #expect(Set(ids).count == ids.count)
        #expect(ids.allSatisfy { (4000...4099).contains($0) })
        #expect(BaselineCatalogue.alerts.allSatisfy { $0.name.hasPrefix("baseline.") })
    }
}

extension BaselineDetectionRun {
    static func technique(_ event: Event) -> String? { techniqueID(event) }
}
