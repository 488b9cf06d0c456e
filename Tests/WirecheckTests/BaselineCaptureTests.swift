import Foundation
import Testing
import WirecheckBaseline
import WirecheckCore
import WirecheckEngine
import WirecheckSynthesis

/// Learn-then-detect runs of the whole pipeline over generated plant captures: ten minutes to
/// learn from, then ten minutes that continue the same sessions, with or without one deviation.
enum PlantRuns {
    static let directory = TestPaths.temporaryDirectory()
    static let plc1 = PlantGenerator.Poller.plc1
    static let plc2 = PlantGenerator.Poller.plc2
    /// A MAC address no plant host uses.
    static let strangerMAC = MACAddress(0x0200_0000_0021)

    /// The learning capture (minutes 0-10) and the baseline learned from it, serialized as `wirecheck learn` saves it.
    static let learned: (path: String, text: String) = {
        var plant = PlantGenerator()
        let path = directory.appendingPathComponent("learn.pcap").path
        try? plant.capture(from: 0, to: 600).write(to: path)
        var options = AnalysisOptions()
        options.baseline = .learn(Baseline())
        let result = try? AnalysisHarness.analyze([path], options: options)
        return (path, result?.learnedBaseline?.serialized() ?? "")
    }()

    /// Parses a fresh copy of the learned baseline, which a test may change.
    static func baseline() throws -> Baseline {
        try Baseline.parse(learned.text, file: "learned.json")
    }

    /// Writes minutes 10-20 of the plant with `injections`, minus the polls `skip` selects.
    static func continuation(_ name: String, injections: [PlantGenerator.Injection] = [],
                             skip: @escaping (PlantGenerator.Poller, Int) -> Bool = { _, _ in false }) throws -> String {
        var plant = PlantGenerator()
        _ = plant.capture(from: 0, to: 600)
        let path = directory.appendingPathComponent(name).path
        try plant.capture(from: 600, to: 1200, injections: injections, skip: skip).write(to: path)
        return path
    }

    static func detect(_ path: String, baseline: Baseline? = nil) throws -> AnalysisResult {
        var options = AnalysisOptions()
        options.baseline = .detect(try baseline ?? PlantRuns.baseline())
        return try AnalysisHarness.analyze([path], options: options)
    }

    static func alerts(_ result: AnalysisResult) -> [Event] { result.events(ofType: "alert") }

    /// "rule: message" of each alert, for failure output.
    static func summary(_ result: AnalysisResult) -> [String] {
        alerts(result).map { "\($0.alertRule ?? "?"): \($0.message ?? "")" }
    }

    static func severity(_ event: Event) -> Int? {
        guard case .object(let alert)? = event.body["alert"], case .int(let severity)? = alert["severity"] else { return nil }
        return Int(severity)
    }

    // MARK: Injections

    /// Builds one read_holding_registers exchange on a poller's session at `time`.
    static func read(_ poller: PlantGenerator.Poller, at time: Double, unit: UInt8, address: UInt16, count: UInt16)
        -> PlantGenerator.Injection {
        .session(poller, at: time) { session, time in
            var transaction: UInt16 = 9_000
            let block = PlantGenerator.RegisterBlock(unit: unit, address: address, count: count)
            return PlantGenerator.read(block, session: &session, transactions: &transaction).map { (time + $0.0, $0.1) }
        }
    }

    /// Builds a write_single_register from the HMI to PLC 1 unit 1, register 5, and its echo.
    static func write(at time: Double) -> PlantGenerator.Injection {
        .session(plc1, at: time) { session, time in
            let request = ModbusFrames.writeSingleRegister(transaction: 9_100, unit: 1, address: 5, value: 42)
            return [(time, session.clientSends(request)), (time + 0.004, session.serverSends(request))]
        }
    }

    /// Builds a TCP connection from `client` to `server` on `port`: handshake, an optional exchange, close.
    static func connection(_ client: IPAddress, _ server: IPAddress, port: UInt16, at time: Double,
                           request: [UInt8]? = nil, response: [UInt8]? = nil) -> PlantGenerator.Injection {
        var session = ScenarioHosts.conversation(client, 50_123, server, port)
        var frames: [(Double, [UInt8])] = []
        for (index, frame) in session.handshake().enumerated() { frames.append((time + Double(index) * 0.001, frame)) }
        if let request { frames.append((time + 0.010, session.clientSends(request))) }
        if let response { frames.append((time + 0.014, session.serverSends(response))) }
        for (index, frame) in session.close().enumerated() { frames.append((time + 0.020 + Double(index) * 0.001, frame)) }
        return .frames(frames)
    }
}

@Suite struct BaselineCaptureTests {
    static let hmi = ScenarioHosts.hmi.description
    static let plc1 = ScenarioHosts.plc1.description
    static let plc2 = ScenarioHosts.plc2.description

    /// Runs a continuation with the injections and requires exactly one baseline alert, of `rule`,
    /// and no other alert but `others` (alerts that the injected content raises on its own).
    func singleAlert(_ name: String, rule: String, others: [String] = [], injections: [PlantGenerator.Injection] = [],
                     skip: @escaping (PlantGenerator.Poller, Int) -> Bool = { _, _ in false }) throws -> Event {
        let result = try PlantRuns.detect(try PlantRuns.continuation(name, injections: injections, skip: skip))
        let summary = PlantRuns.summary(result)
        let baselineAlerts = PlantRuns.alerts(result).filter { $0.alertRule?.hasPrefix("baseline.") == true }
        #expect(baselineAlerts.map { $0.alertRule ?? "" } == [rule], "\(summary)")
        #expect(PlantRuns.alerts(result).compactMap(\.alertRule).filter { !$0.hasPrefix("baseline.") } == others, "\(summary)")
        let alert = try #require(baselineAlerts.first { $0.alertRule == rule })
        #expect(!alert.packets.isEmpty)
        return alert
    }

    // MARK: Normal traffic

    @Test func learnedPlantHasEveryHost() throws {
        let baseline = try PlantRuns.baseline()
        #expect(baseline.assets.count == 5)
        #expect(baseline.conversations.count == 3)
        #expect(baseline.conversations.values.allSatisfy { $0.operations.count == 1 })
    }

    @Test func twoUnitPollKeepsCyclePeriod() throws {
        // PLC 1 reads unit 1, then unit 2 10 ms later, every second: the period is the cycle's.
        let baseline = try PlantRuns.baseline()
        let key = ConversationKey(client: ScenarioHosts.hmi, server: ScenarioHosts.plc1, ipProtocol: 6, port: 502, appProto: "modbus")
        let operation = try #require(baseline.conversations[key]?.operations.values.first)
        #expect(operation.timing.isPeriodic)
        let period = try #require(operation.timing.periodMedian)
        #expect(abs(period - 1) < 0.05, "period \(period) s")
    }

    @Test func continuationRaisesNothing() throws {
        let result = try PlantRuns.detect(try PlantRuns.continuation("normal.pcap"))
        #expect(PlantRuns.summary(result) == [])
    }

    // MARK: Assets

    @Test func newAssetFromARP() throws {
        var builder = PacketBuilder()
        let request = builder.arpRequest(senderMAC: ScenarioHosts.laptopMAC, senderIP: ScenarioHosts.laptop, targetIP: ScenarioHosts.plc1)
        let alert = try singleAlert("new-asset.pcap", rule: "baseline.new_asset", injections: [.frames([(900.5, request)])])
        #expect(alert.message == "10.40.0.66 from MAC 00:1b:21:40:00:66 is not in the baseline, which lists 5 assets")
    }

    @Test func knownAddressWithNewMAC() throws {
        let injection = PlantGenerator.Injection.session(PlantRuns.plc1, at: 900.5) { session, time in
            let usual = session.clientLink
            session.clientLink?.destination = PlantRuns.strangerMAC
            var transaction: UInt16 = 9_000
            let frames = PlantGenerator.read(PlantGenerator.plc1Blocks[0], session: &session, transactions: &transaction)
            session.clientLink = usual
            return frames.map { (time + $0.0, $0.1) }
        }
        let alert = try singleAlert("new-mac.pcap", rule: "baseline.new_mac", injections: [injection])
        #expect(alert.message?.contains("02:00:00:00:00:21") == true)
        #expect(alert.message?.contains(ScenarioHosts.plc1MAC.description) == true)
    }

    @Test func knownHostWithNewTTL() throws {
        let injection = PlantGenerator.Injection.session(PlantRuns.plc2, at: 900.5) { session, time in
            session.clientIP.ttl = 63
            let request = session.clientSends(ModbusFrames.readHoldingRegisters(transaction: 9_000, unit: 1, address: 0, count: 8))
            session.clientIP.ttl = 64
            let response = session.serverSends(ModbusFrames.readHoldingRegistersResponse(transaction: 9_000, unit: 1,
                                                                                          values: Array(repeating: 0, count: 8)))
            return [(time, request), (time + 0.004, response)]
        }
        let alert = try singleAlert("ttl.pcap", rule: "baseline.ttl_change", injections: [injection])
        #expect(alert.message == "\(Self.hmi) sent with TTL 63; the baseline saw only TTL 64 from it, so its path changed")
    }

    // MARK: Conversations

    @Test func newConversation() throws {
        let request = ModbusFrames.readHoldingRegisters(transaction: 1, unit: 1, address: 0, count: 8)
        let response = ModbusFrames.readHoldingRegistersResponse(transaction: 1, unit: 1, values: Array(repeating: 0, count: 8))
        let injection = PlantRuns.connection(ScenarioHosts.workstation, ScenarioHosts.plc2, port: 502, at: 900.5,
                                             request: request, response: response)
        let alert = try singleAlert("new-conversation.pcap", rule: "baseline.new_conversation", injections: [injection])
        #expect(alert.message?.hasPrefix("10.40.0.11 → \(Self.plc2)") == true)
        #expect(alert.message?.contains("these hosts never talked in the baseline") == true)
    }

    @Test func knownPairOnNewPort() throws {
        let injection = PlantRuns.connection(ScenarioHosts.hmi, ScenarioHosts.plc1, port: 80, at: 900.5)
        let alert = try singleAlert("new-port.pcap", rule: "baseline.new_protocol_or_port", injections: [injection])
        #expect(alert.message?.contains("the baseline has only \(Self.hmi) → \(Self.plc1)") == true)
    }

    @Test func serverInitiates() throws {
        let injection = PlantRuns.connection(ScenarioHosts.plc1, ScenarioHosts.hmi, port: 502, at: 900.5)
        let alert = try singleAlert("server-initiates.pcap", rule: "baseline.server_initiates", injections: [injection])
        #expect(alert.message?.hasPrefix("\(Self.plc1) opened") == true)
        #expect(alert.message?.contains("is only the server of \(Self.hmi) → \(Self.plc1)") == true)
    }

    // MARK: Operations

    @Test func writeWhereOnlyReadsWereLearned() throws {
        let alert = try singleAlert("write.pcap", rule: "baseline.new_operation", others: ["modbus.register_write_request"],
                                    injections: [PlantRuns.write(at: 900.5)])
        #expect(PlantRuns.severity(alert) == 1)
        #expect(alert.message?.contains("write_single_register") == true)
        #expect(alert.message?.contains("read_holding_registers requests") == true)
    }

    @Test func registerOutsideLearnedRange() throws {
        let injection = PlantRuns.read(PlantRuns.plc1, at: 900.5, unit: 1, address: 500, count: 2)
        let alert = try singleAlert("register-range.pcap", rule: "baseline.out_of_range", injections: [injection])
        #expect(alert.message?.contains("addressed addresses 500-501, outside the learned range 0-9") == true)
    }

    @Test func unitNeverLearned() throws {
        let injection = PlantRuns.read(PlantRuns.plc1, at: 900.5, unit: 7, address: 0, count: 10)
        let alert = try singleAlert("unit.pcap", rule: "baseline.out_of_range", injections: [injection])
        #expect(alert.message?.contains("addressed unit 7, never seen; the baseline has only") == true)
    }

    @Test func pollingPeriodChangedOnce() throws {
        // From minute 11 on, PLC 2 is polled every 5 s in place of every second.
        let alert = try singleAlert("period.pcap", rule: "baseline.polling_period_changed",
                                    skip: { poller, number in poller == .plc2 && number >= 660 && number % 5 != 0 })
        #expect(PlantRuns.severity(alert) == 3)
        #expect(alert.message?.contains("now repeats every 5") == true)
        #expect(alert.message?.contains("the baseline period is 990 ms") == true, "\(alert.message ?? "")")
    }

    @Test func requestBurstExceedsRate() throws {
        // 500 extra single-register reads within minute 15, sweeping unit 1 registers 0-9, which
        // were all learned. Repeating one request 500 times would also change its polling period.
        let burst = (0..<500).map {
            PlantRuns.read(PlantRuns.plc1, at: 900.45 + Double($0) * 0.1, unit: 1, address: UInt16($0 % 10), count: 1)
        }
        let alert = try singleAlert("burst.pcap", rule: "baseline.rate_exceeded", injections: burst)
        #expect(alert.message?.contains("the baseline's 95th percentile is") == true)
    }

    @Test func silentThenResumedOnce() throws {
        // PLC 2 is not polled for two minutes, from 800 s to 920 s after the plant starts.
        let path = try PlantRuns.continuation("silent.pcap", skip: { poller, number in poller == .plc2 && (800..<920).contains(number) })
        let result = try PlantRuns.detect(path)
        let summary = PlantRuns.summary(result)
        #expect(PlantRuns.alerts(result).count == 2, "\(summary)")
        let silent = result.alerts("baseline.conversation_silent")
        let resumed = result.alerts("baseline.conversation_resumed")
        #expect(silent.count == 1, "\(summary)")
        #expect(resumed.count == 1, "\(summary)")
        #expect(silent.first?.message?.hasPrefix("\(Self.hmi) → \(Self.plc2)") == true)
        #expect(resumed.first?.message?.hasPrefix("\(Self.hmi) → \(Self.plc2)") == true)
        #expect(silent.first?.message?.contains("it polls about once a second in the baseline") == true)
        #expect(resumed.first?.message?.contains("resumed after 2 min without requests") == true)
        #expect(resumed.first?.packets.isEmpty == false)
    }

    // MARK: Learn first

    @Test func learnFirstOnTwentyMinutes() throws {
        var plant = PlantGenerator()
        let path = PlantRuns.directory.appendingPathComponent("learn-first.pcap").path
        try plant.capture(from: 0, to: 1200).write(to: path)
        var options = AnalysisOptions()
        options.baseline = .learnFirst(duration: 600, baseline: Baseline())
        let result = try AnalysisHarness.analyze([path], options: options)
        #expect(PlantRuns.summary(result) == [])
    }

    @Test func learnFirstRaisesLateWrite() throws {
        var plant = PlantGenerator()
        let path = PlantRuns.directory.appendingPathComponent("learn-first-write.pcap").path
        try plant.capture(from: 0, to: 1200, injections: [PlantRuns.write(at: 960.5)]).write(to: path)
        var options = AnalysisOptions()
        options.baseline = .learnFirst(duration: 600, baseline: Baseline())
        let result = try AnalysisHarness.analyze([path], options: options)
        #expect(PlantRuns.alerts(result).compactMap(\.alertRule) == ["modbus.register_write_request", "baseline.new_operation"],
                "\(PlantRuns.summary(result))")
    }

    // MARK: Baseline files

    @Test func savedBaselineDetectsLikeMemory() throws {
        var options = AnalysisOptions()
        options.baseline = .learn(Baseline())
        let learned = try #require(try AnalysisHarness.analyze([PlantRuns.learned.path], options: options).learnedBaseline)
        let file = PlantRuns.directory.appendingPathComponent("round-trip.json").path
        try learned.save(to: file)
        let loaded = try Baseline.load(path: file)

        let path = try PlantRuns.continuation("round-trip.pcap", injections: [PlantRuns.write(at: 900.5)])
        let fromMemory = try PlantRuns.detect(path, baseline: learned)
        let fromFile = try PlantRuns.detect(path, baseline: loaded)
        #expect(PlantRuns.alerts(fromMemory).compactMap(\.alertRule) == ["modbus.register_write_request", "baseline.new_operation"],
                "\(PlantRuns.summary(fromMemory))")
        #expect(PlantRuns.summary(fromFile) == PlantRuns.summary(fromMemory))
        #expect(PlantRuns.alerts(fromFile).map(\.packets) == PlantRuns.alerts(fromMemory).map(\.packets))
    }

    @Test func diffOfSecondDayListsNewConversation() throws {
        let firstDay = try PlantRuns.baseline()
        let file = PlantRuns.directory.appendingPathComponent("first-day.json").path
        try firstDay.save(to: file)

        // The next day, the workstation also reads PLC 2 once.
        var plant = PlantGenerator(dayOffset: 86_400)
        let request = ModbusFrames.readHoldingRegisters(transaction: 1, unit: 1, address: 0, count: 8)
        let response = ModbusFrames.readHoldingRegistersResponse(transaction: 1, unit: 1, values: Array(repeating: 0, count: 8))
        let newConversation = PlantRuns.connection(ScenarioHosts.workstation, ScenarioHosts.plc2, port: 502, at: 300.5,
                                                   request: request, response: response)
        let path = PlantRuns.directory.appendingPathComponent("second-day.pcap").path
        try plant.capture(from: 0, to: 600, injections: [newConversation]).write(to: path)
        var options = AnalysisOptions()
        options.baseline = .learn(try Baseline.load(path: file))
        let secondDay = try #require(try AnalysisHarness.analyze([path], options: options).learnedBaseline)

        let diff = BaselineDiff.diff(old: try Baseline.load(path: file), new: secondDay)
        let key = ConversationKey(client: ScenarioHosts.workstation, server: ScenarioHosts.plc2, ipProtocol: 6, port: 502,
                                  appProto: "modbus")
        let sections = Self.sections(diff)
        #expect(sections["conversations"]?.filter { $0.hasPrefix("  + ") } == ["  + \(key)"], "\(diff)")
        #expect(sections["assets"]?.filter { $0.hasPrefix("  + ") } ?? [] == [], "\(diff)")
        #expect(!diff.contains("\n  - "), "\(diff)")
        #expect(sections["operations"]?.filter { $0.hasPrefix("  + ") }.allSatisfy { $0.hasPrefix("  + \(key): ") } == true, "\(diff)")
    }

    /// Splits `BaselineDiff` output into its sections: a name line, then indented entries.
    static func sections(_ diff: String) -> [String: [String]] {
        var sections: [String: [String]] = [:]
        var current = ""
        for line in diff.split(separator: "\n").map(String.init) {
            if line.hasPrefix(" ") { sections[current, default: []].append(line) } else { current = line }
        }
        return sections
    }

    // MARK: Suppression

    @Test func allowRuleMarksWriteSuppressed() throws {
        let baseline = try PlantRuns.baseline()
        baseline.allowRules.append(AllowRule(id: "hmi-setpoint-writes", reason: "The HMI writes set points during commissioning",
                                             client: IPNetwork(Self.hmi), operation: "write_single_register"))
        let file = PlantRuns.directory.appendingPathComponent("allow.json").path
        try baseline.save(to: file)
        let path = try PlantRuns.continuation("allow.pcap", injections: [PlantRuns.write(at: 900.5)])
        let result = try PlantRuns.detect(path, baseline: try Baseline.load(path: file))
        #expect(PlantRuns.alerts(result).compactMap(\.alertRule) == ["modbus.register_write_request", "baseline.new_operation"],
                "\(PlantRuns.summary(result))")
        #expect(result.alerts("baseline.new_operation").first?.suppressedBy == "hmi-setpoint-writes")
    }

    @Test func maintenanceWindowMarksWriteSuppressed() throws {
        let baseline = try PlantRuns.baseline()
        let window = MaintenanceWindow.Schedule.absolute(start: ScenarioCapture.start.adding(seconds: 890),
                                                         end: ScenarioCapture.start.adding(seconds: 910))
        baseline.maintenanceWindows.append(MaintenanceWindow(id: "plc1-tuning", reason: "Loop tuning on PLC 1",
                                                             assets: [IPNetwork(Self.plc1)].compactMap { $0 }, schedule: window))
        let file = PlantRuns.directory.appendingPathComponent("window.json").path
        try baseline.save(to: file)
        let path = try PlantRuns.continuation("window.pcap", injections: [PlantRuns.write(at: 900.5)])
        let result = try PlantRuns.detect(path, baseline: try Baseline.load(path: file))
        #expect(PlantRuns.alerts(result).compactMap(\.alertRule) == ["modbus.register_write_request", "baseline.new_operation"],
                "\(PlantRuns.summary(result))")
        #expect(result.alerts("baseline.new_operation").first?.suppressedBy == "plc1-tuning")
    }
}
