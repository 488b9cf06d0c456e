import Foundation
import Testing
@testable import WirecheckBaseline
import WirecheckCore
import WirecheckProtocols

@Suite struct BaselineFileTests {
    static func temporaryPath(_ name: String) -> String {
        FileManager.default.temporaryDirectory.appendingPathComponent("baseline-\(getpid())-\(name).json").path
    }

    static func parseError(_ text: String) -> String? {
        do {
            _ = try Baseline.parse(text, file: "plant.json")
            return nil
        } catch {
            return "\(error)"
        }
    }

    static let minimal = """
        {"format_version": 1, "assets": [{"ip": "10.20.1.10", "first_seen": "2026-12-04T08:00:00Z",
         "last_seen": "2026-12-04T08:10:00Z", "packets": 5}]}
        """

    @Test func saveTwiceIsByteIdentical() throws {
        let baseline = BaselinePlant.learnedBaseline()
        let first = Self.temporaryPath("first"), second = Self.temporaryPath("second")
        defer {
            try? FileManager.default.removeItem(atPath: first)
            try? FileManager.default.removeItem(atPath: second)
        }
        try baseline.save(to: first)
        try baseline.save(to: second)
        #expect(FileManager.default.contents(atPath: first) == FileManager.default.contents(atPath: second))
        // Loading and saving again gives the same bytes, so a file in git does not churn.
        let reloaded = try Baseline.load(path: first)
        try reloaded.save(to: second)
        #expect(FileManager.default.contents(atPath: first) == FileManager.default.contents(atPath: second))
    }

    @Test func fileIsSortedAndOneMemberPerLine() throws {
        let text = BaselinePlant.learnedBaseline().serialized()
        let lines = text.split(separator: "\n")
        #expect(lines.first == "{")
        #expect(text.contains("\n  \"format_version\": 1,\n"))
        #expect(lines.contains("      \"ip\": \"10.20.1.10\","))
        #expect(lines.contains("          \"name\": \"read_holding_registers\","))
        #expect(lines.contains("              \"ranges\": [[0, 9]],"))
        let assets = lines.filter { $0.hasPrefix("      \"ip\": ") }
        #expect(assets == ["      \"ip\": \"10.20.1.10\",", "      \"ip\": \"10.20.1.21\",", "      \"ip\": \"10.20.1.22\","])
        let topLevel = lines.filter { $0.hasPrefix("  \"") }.map { $0.split(separator: "\"")[1] }
        #expect(topLevel == topLevel.sorted())
    }

    @Test func reviewSurvivesRelearning() throws {
        let text = BaselinePlant.learnedBaseline().serialized()
        // An operator approves the HMI and writes a note, by hand, in the file.
        let edited = text.replacingOccurrences(
            of: "\"approved\": false,\n      \"first_seen\": \"2026-12-04T08:00:00Z\",\n      \"ip\": \"10.20.1.10\",",
            with: "\"approved\": true,\n      \"first_seen\": \"2026-12-04T08:00:00Z\",\n      \"ip\": \"10.20.1.10\",\n      \"note\": \"HMI in the control room\",")
        #expect(edited != text)
        let learner = BaselineLearner(baseline: try Baseline.parse(edited, file: "plant.json"))
        var plant = BaselinePlant()
        plant.run(learner, offset: 3600, seconds: 60)
        let relearned = learner.finish()
        let hmi = try #require(relearned.assets[BaselinePlant.hmi])
        #expect(hmi.review.approved)
        #expect(hmi.review.note == "HMI in the control room")
        #expect(relearned.assets[BaselinePlant.plcs[0]]?.review.approved == false)
        #expect(relearned.serialized().contains("\"note\": \"HMI in the control room\""))
    }

    @Test func diffListsExactlyTheEdit() throws {
        let text = BaselinePlant.learnedBaseline().serialized()
        let old = try Baseline.parse(text, file: "old.json")
        let new = try Baseline.parse(text, file: "new.json")
        #expect(BaselineDiff.diff(old: old, new: new) == "No changes.\n")
        new.assets[BaselinePlant.hmi]?.review = Review(approved: true, note: "HMI")
        let key = ConversationKey(client: BaselinePlant.hmi, server: BaselinePlant.plcs[1], ipProtocol: 6, port: 502, appProto: "modbus")
        new.conversations[key] = nil
        #expect(BaselineDiff.diff(old: old, new: new) == """
            assets
              ~ 10.20.1.10: approved: false → true; note: (none) → "HMI"
              ~ 10.20.1.22: roles: ["modbus server"] → []
            conversations
              - 10.20.1.10 → 10.20.1.22 tcp/502 modbus
            operations
              - 10.20.1.10 → 10.20.1.22 tcp/502 modbus: read_holding_registers (fc 3)

            """)
    }

    @Test func diffShowsNewOperationAndChangedCounts() throws {
        let old = BaselinePlant.learnedBaseline()
        let learner = BaselineLearner(baseline: try Baseline.parse(old.serialized(), file: "old.json"))
        let write = BaselineOperation(protocolName: "modbus", name: "write_single_register", operationClass: .write, code: 6,
                                      unit: 1, rangeStart: 40, rangeEnd: 40)
        learner.observe(operation: write, flow: BaselinePlant.context(client: BaselinePlant.hmi, clientPort: 41000, server: BaselinePlant.plcs[0]),
                        timestamp: BaselinePlant.start.adding(seconds: 900), packets: [])
        let diff = BaselineDiff.diff(old: old, new: learner.finish())
        #expect(diff.contains("operations\n  + 10.20.1.10 → 10.20.1.21 tcp/502 modbus: write_single_register (fc 6)\n"))
        #expect(diff.contains("  ~ 10.20.1.10 → 10.20.1.21 tcp/502 modbus: last_seen: \"2026-12-04T08:10:0"))
        #expect(!diff.contains("assets"))
    }

    @Test func syntaxErrorNamesLineAndColumn() {
        #expect(Self.parseError("{\n  \"format_version\": 1,\n  \"assets\": [}\n}") == "plant.json: line 3, column 14: unexpected character '}', expected a value")
        #expect(Self.parseError("{\"a\": 1, \"a\": 2}") == "plant.json: line 1, column 10: duplicate member \"a\"")
        #expect(Self.parseError("") == "plant.json: line 1, column 1: unexpected end of file, expected a value")
    }

    @Test func wrongValueNamesJSONPath() {
        #expect(Self.parseError(Self.minimal.replacingOccurrences(of: "\"10.20.1.10\"", with: "12"))
            == "plant.json: $.assets[0].ip: expected a string, found a number")
        #expect(Self.parseError(Self.minimal.replacingOccurrences(of: "\"10.20.1.10\"", with: "\"10.20.1.300\""))
            == "plant.json: $.assets[0].ip: invalid IP address \"10.20.1.300\"")
        #expect(Self.parseError(Self.minimal.replacingOccurrences(of: "2026-12-04T08:00:00Z", with: "yesterday"))
            == "plant.json: $.assets[0].first_seen: invalid time \"yesterday\"; expected UTC such as 2026-12-04T08:00:00Z")
        #expect(Self.parseError("{\"assets\": []}") == "plant.json: $.format_version: missing; add this required member")
        #expect(Self.parseError("{\"format_version\": 9}") == "plant.json: $.format_version: unsupported version 9; this Wirecheck reads version 1, so upgrade Wirecheck or learn a new baseline")
        #expect(Self.parseError(Self.minimal.replacingOccurrences(of: "\"packets\": 5", with: "\"packets\": 5, \"approved\": \"yes\""))
            == "plant.json: $.assets[0].approved: expected true or false, found the string \"yes\"")
    }

    @Test func badOperationClassAndAllowRule() {
        let operation = """
            {"format_version": 1, "conversations": [{"client": "10.0.0.1", "server": "10.0.0.2", "transport": "tcp", "port": 502,
             "first_seen": "2026-12-04T08:00:00Z", "last_seen": "2026-12-04T08:00:00Z",
             "operations": [{"protocol": "modbus", "name": "x", "code": 1, "class": "writes",
             "first_seen": "2026-12-04T08:00:00Z", "last_seen": "2026-12-04T08:00:00Z"}]}]}
            """
        #expect(Self.parseError(operation)?.hasPrefix("plant.json: $.conversations[0].operations[0].class: unknown operation class \"writes\"") == true)
        #expect(Self.parseError("{\"format_version\": 1, \"allow\": [{\"id\": \"all\", \"reason\": \"quiet\"}]}")
            == "plant.json: $.allow[0]: allow rule \"all\" matches everything; add at least one of asset, client, server, port, "
            + "protocol, operation, operation_class, event")
        #expect(Self.parseError("{\"format_version\": 1, \"allow\": [{\"id\": \"a\", \"reason\": \"r\", \"client\": \"10.0.0.0/33\"}]}")
            == "plant.json: $.allow[0].client: invalid address or network \"10.0.0.0/33\"; expected 10.0.0.5 or 10.0.0.0/24")
        #expect(Self.parseError("{\"format_version\": 1, \"maintenance_windows\": [{\"id\": \"w\", \"reason\": \"r\", "
            + "\"weekly\": {\"days\": [\"someday\"], \"start\": \"02:00\", \"end\": \"04:00\"}}]}")?
            .hasPrefix("plant.json: $.maintenance_windows[0].weekly.days[0]: expected a day name") == true)
    }

    @Test func missingFileError() {
        #expect(throws: BaselineFileError.self) { try Baseline.load(path: "/nonexistent/plant.json") }
    }

    @Test func showListsTablesAndPending() throws {
        let baseline = BaselinePlant.learnedBaseline()
        baseline.assets[BaselinePlant.hmi]?.review = Review(approved: true, note: "HMI")
        let text = BaselineReport.show(baseline)
        #expect(text.hasPrefix("Baseline: 3 assets, 2 conversations, 2 operations from 0 captures; 6 entries pending review\n"))
        #expect(text.contains("\nAssets\n  STATUS    IP"))
        #expect(text.contains("approved  10.20.1.10"))
        #expect(text.contains("pending   10.20.1.21"))
        #expect(text.contains("modbus server"))
        #expect(text.contains("unit 1: 0-9"))
        #expect(text.contains("1 s ± "))
        #expect(!text.contains(" \n"))
        if VendorRegistry.shared.isAvailable {
            #expect(text.contains("Rockwell Automation"))
        }
    }

    @Test func vendorRegistryLookupAndAbsence() {
        let missing = VendorRegistry(directory: "/nonexistent")
        #expect(!missing.isAvailable)
        #expect(missing.vendor(of: MACAddress(0x0861_9500_0001)) == nil)
        let baseline = BaselinePlant.learnedBaseline()
        #expect(baseline.serialized(vendors: missing).contains("\"vendor_registry\": \"missing: /usr/share/ieee-data/oui.csv not readable"))
        #expect(BaselineReport.show(baseline, vendors: missing).contains("Vendors are absent"))
        guard VendorRegistry.shared.isAvailable else { return }
        #expect(VendorRegistry.shared.vendor(of: MACAddress(0x0861_9500_0001)) == "Rockwell Automation")
    }

    @Test func utcTimeParsingAndWeekday() {
        #expect(UTCTime.parse("2026-12-04T08:00:00Z") == Timestamp(seconds: 1_796_371_200, nanoseconds: 0))
        #expect(UTCTime.parse("2026-12-04T08:00:00.5+0000") == Timestamp(seconds: 1_796_371_200, nanoseconds: 500_000_000))
        #expect(UTCTime.parse("2026-12-04") == Timestamp(seconds: 1_796_342_400, nanoseconds: 0))
        #expect(UTCTime.parse("2026-12-04T08:00:00+0100") == nil)
        #expect(UTCTime.parse("2026-13-04") == nil)
        #expect(UTCTime.format(Timestamp(seconds: 1_796_371_200, nanoseconds: 0)) == "2026-12-04T08:00:00Z")
        #expect(UTCTime.weekday(UTCTime.parse("2026-12-04T08:00:00Z")!) == 4)
        #expect(UTCTime.weekday(UTCTime.parse("2026-12-06T23:59:59Z")!) == 6)
    }
}

@Suite struct BaselineSuppressionTests {
    static func newWriteAlert(at time: Timestamp) -> Event {
        let run = BaselineDetectionRun()
        let write = BaselineOperation(protocolName: "modbus", name: "write_single_register", operationClass: .write, code: 6,
                                      unit: 1, rangeStart: 40, rangeEnd: 40)
        run.detector.observe(operation: write, flow: BaselinePlant.context(client: BaselinePlant.hmi, clientPort: 41000, server: BaselinePlant.plcs[0]),
                             timestamp: time, packets: [])
        return run.alerts[0]
    }

    static let friday = UTCTime.parse("2026-12-04T08:20:00Z")!

    static func suppressed(_ event: Event) -> JSONObject? {
        guard case .object(let object)? = event.body["suppressed"] else { return nil }
        return object
    }

    @Test func allowRuleMarksMatchingAlert() throws {
        let rule = AllowRule(id: "hmi-setpoints", reason: "HMI writes setpoints during commissioning",
                             client: IPNetwork("10.20.1.0/24"), operation: "write_single_register", event: "baseline.*")
        let suppressor = Suppressor(allowRules: [rule], maintenanceWindows: [])
        let event = suppressor.filter(Self.newWriteAlert(at: Self.friday))
        #expect(event.eventType == "alert")
        #expect(event.suppressedBy == "hmi-setpoints")
        #expect(Self.suppressed(event)?["by"] == .string("allow"))
        #expect(Self.suppressed(event)?["reason"] == .string("HMI writes setpoints during commissioning"))
    }

    @Test func allowRuleThatDoesNotMatchLeavesAlert() {
        let rules = [
            AllowRule(id: "other-client", reason: "r", client: IPNetwork("10.99.0.0/16")),
            AllowRule(id: "reads-only", reason: "r", operationClass: "read"),
            AllowRule(id: "other-event", reason: "r", event: "baseline.new_asset"),
            AllowRule(id: "expired", reason: "r", expires: UTCTime.parse("2026-12-01T00:00:00Z"), operation: "write_single_register"),
        ]
        let event = Suppressor(allowRules: rules, maintenanceWindows: []).filter(Self.newWriteAlert(at: Self.friday))
        #expect(event.suppressedBy == nil)
        #expect(event.body["suppressed"] == nil)
    }

    @Test func absoluteMaintenanceWindow() {
        let window = MaintenanceWindow(id: "plc-firmware", reason: "PLC firmware update", assets: [IPNetwork("10.20.1.21")!],
                                       schedule: .absolute(start: UTCTime.parse("2026-12-04T08:00:00Z")!, end: UTCTime.parse("2026-12-04T09:00:00Z")!))
        let suppressor = Suppressor(allowRules: [], maintenanceWindows: [window])
        #expect(suppressor.filter(Self.newWriteAlert(at: Self.friday)).suppressedBy == "plc-firmware")
        #expect(suppressor.filter(Self.newWriteAlert(at: UTCTime.parse("2026-12-04T09:00:00Z")!)).suppressedBy == nil)
        let elsewhere = MaintenanceWindow(id: "other", reason: "r", assets: [IPNetwork("10.30.0.0/16")!],
                                          schedule: .absolute(start: .zero, end: UTCTime.parse("2030-01-01")!))
        #expect(Suppressor(allowRules: [], maintenanceWindows: [elsewhere]).filter(Self.newWriteAlert(at: Self.friday)).suppressedBy == nil)
    }

    @Test func weeklyMaintenanceWindow() {
        // Fridays 08:00-09:00 UTC, every asset.
        let window = MaintenanceWindow(id: "friday-tests", reason: "weekly interlock tests",
                                       schedule: .weekly(days: [4], start: 8 * 3600, end: 9 * 3600))
        let suppressor = Suppressor(allowRules: [], maintenanceWindows: [window])
        #expect(suppressor.filter(Self.newWriteAlert(at: Self.friday)).suppressedBy == "friday-tests")
        #expect(suppressor.filter(Self.newWriteAlert(at: UTCTime.parse("2026-12-11T08:59:00Z")!)).suppressedBy == "friday-tests")
        #expect(suppressor.filter(Self.newWriteAlert(at: UTCTime.parse("2026-12-05T08:20:00Z")!)).suppressedBy == nil)
        #expect(suppressor.filter(Self.newWriteAlert(at: UTCTime.parse("2026-12-04T09:00:00Z")!)).suppressedBy == nil)
    }

    @Test func weeklyWindowPastMidnight() {
        // Sundays 22:00 to Monday 02:00 UTC.
        let window = MaintenanceWindow(id: "sunday-night", reason: "backups", schedule: .weekly(days: [6], start: 22 * 3600, end: 2 * 3600))
        let suppressor = Suppressor(allowRules: [], maintenanceWindows: [window])
        #expect(suppressor.filter(Self.newWriteAlert(at: UTCTime.parse("2026-12-06T23:00:00Z")!)).suppressedBy == "sunday-night")
        #expect(suppressor.filter(Self.newWriteAlert(at: UTCTime.parse("2026-12-07T01:30:00Z")!)).suppressedBy == "sunday-night")
        #expect(suppressor.filter(Self.newWriteAlert(at: UTCTime.parse("2026-12-07T02:00:00Z")!)).suppressedBy == nil)
        #expect(suppressor.filter(Self.newWriteAlert(at: UTCTime.parse("2026-12-06T21:59:00Z")!)).suppressedBy == nil)
    }

    @Test func anomaliesFromOtherStagesAreFiltered() {
        let definition = AnomalyDefinition("applayer.modbus.invalid_protocol_id", type: .applayer, layer: "modbus", summary: "test")
        let flow = BaselinePlant.context(client: BaselinePlant.hmi, clientPort: 41000, server: BaselinePlant.plcs[0])
        let anomaly = Event.anomaly(definition, timestamp: Self.friday, flow: flow, packets: [], message: "bad protocol id")
        let rule = AllowRule(id: "known-bad-gateway", reason: "vendor bug", server: IPNetwork("10.20.1.21"), event: "applayer.modbus.*")
        let suppressor = Suppressor(allowRules: [rule], maintenanceWindows: [])
        #expect(suppressor.filter(anomaly).suppressedBy == "known-bad-gateway")
        let transaction = Event(eventType: "modbus", timestamp: Self.friday, flow: flow)
        #expect(suppressor.filter(transaction).body.isEmpty)
    }

    @Test func rulesRoundTripThroughFile() throws {
        let baseline = BaselinePlant.learnedBaseline()
        baseline.allowRules = [AllowRule(id: "hmi", reason: "commissioning", expires: UTCTime.parse("2027-01-01"),
                                         client: IPNetwork("10.20.1.10"), port: 502, protocolName: "modbus", operationClass: "write")]
        baseline.maintenanceWindows = [
            MaintenanceWindow(id: "weekly", reason: "tests", assets: [IPNetwork("10.20.1.0/24")!],
                              schedule: .weekly(days: [0, 4], start: 8 * 3600, end: 9 * 3600 + 1800)),
            MaintenanceWindow(id: "once", reason: "upgrade", schedule: .absolute(start: Self.friday, end: Self.friday.adding(seconds: 3600))),
        ]
        let text = baseline.serialized()
        let loaded = try Baseline.parse(text, file: "plant.json")
        #expect(loaded.allowRules == baseline.allowRules)
        #expect(loaded.maintenanceWindows == baseline.maintenanceWindows)
        #expect(loaded.serialized() == text)
        let sink = EventCollector()
        let detector = BaselineDetector(baseline: loaded, sink: SuppressingSink(suppressor: Suppressor(baseline: loaded), next: sink))
        let write = BaselineOperation(protocolName: "modbus", name: "write_single_register", operationClass: .write, code: 6)
        detector.observe(operation: write, flow: BaselinePlant.context(client: BaselinePlant.hmi, clientPort: 41000, server: BaselinePlant.plcs[0]),
                         timestamp: Self.friday.adding(seconds: 86_400), packets: [])
        #expect(sink.events.count == 1)
        #expect(sink.events.first?.suppressedBy == "hmi")
    }
}

@Suite struct BaselineHostileInputTests {
    @Test func extremeSketchBinIsRejected() {
        let text = """
            {"format_version": 1, "conversations": [{"client": "10.0.0.1", "server": "10.0.0.2", "transport": "tcp", "port": 502,
             "first_seen": "2026-12-04T08:00:00Z", "last_seen": "2026-12-04T08:00:00Z",
             "operations": [{"protocol": "modbus", "name": "x", "code": 1, "class": "read",
             "first_seen": "2026-12-04T08:00:00Z", "last_seen": "2026-12-04T08:00:00Z",
             "timing": {"interval_sketch": [[-9223372036854775808, 1]]}}]}]}
            """
        #expect(BaselineFileTests.parseError(text)?.hasPrefix("plant.json: $.conversations[0].operations[0].timing.interval_sketch[0]: expected [bin, count]") == true)
    }

    @Test func deepNestingIsRejected() {
        let text = String(repeating: "[", count: 100) + String(repeating: "]", count: 100)
        #expect(BaselineFileTests.parseError(text)?.contains("nesting deeper than 64 levels") == true)
    }

    @Test func extremeRangesDoNotTrap() {
        let operation = BaselineOperation(protocolName: "modbus", name: "read_coils", operationClass: .read, code: 1,
                                          unit: Int.min, rangeStart: Int.min, rangeEnd: Int.max)
        #expect(operation.pointCount == Int(UInt32.max))
        let learner = BaselineLearner()
        learner.observe(operation: operation, flow: BaselinePlant.context(client: BaselinePlant.hmi, clientPort: 1, server: BaselinePlant.plcs[0]),
                        timestamp: BaselinePlant.start, packets: [])
        #expect(learner.finish().serialized().contains("\"range_max\": 9223372036854775807"))
        #expect(DurationText.duration(.infinity) == "inf s")
        #expect(DurationText.trimmed(1e300) == "1e+300")
    }

    @Test func hugeLearningDurationIsClamped() {
        let combined = LearnThenDetect(duration: 1e300, sink: EventCollector())
        #expect(combined.duration == LearnThenDetect.maxDuration)
        var plant = BaselinePlant()
        plant.run(combined, offset: 0, seconds: 5)
        #expect(combined.isLearning)
    }
}

@Suite struct BaselineGoldenFileTests {
    /// `Tests/Fixtures/baseline/small-plant.json`, found from this file's path.
    static let goldenPath = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/baseline/small-plant.json").path

    /// Learns a baseline in which an HMI polls one PLC twelve times, one second apart, on one flow.
    static func smallPlant() -> Baseline {
        let learner = BaselineLearner()
        let plc = BaselinePlant.plcs[0]
        let context = BaselinePlant.context(client: BaselinePlant.hmi, clientPort: 40000, server: plc)
        for index in 0..<12 {
            let time = BaselinePlant.start.adding(seconds: Double(index))
            let reference = PacketReference(source: 0, number: UInt64(2 * index + 1))
            learner.observe(packet: BaselinePlant.packet(from: BaselinePlant.hmi, to: plc, mac: BaselinePlant.hmiMAC, ttl: 64,
                                                         time: time, reference: reference))
            learner.observe(operation: BaselinePlant.read, flow: context, timestamp: time, packets: [reference])
            learner.observe(packet: BaselinePlant.packet(from: plc, to: BaselinePlant.hmi, mac: BaselinePlant.plcMACs[0], ttl: 64,
                                                         time: time.adding(seconds: 0.004),
                                                         reference: PacketReference(source: 0, number: UInt64(2 * index + 2)),
                                                         sourcePort: 502, destinationPort: 40000))
        }
        learner.flowEnded(BaselinePlant.flow(context, from: BaselinePlant.start, to: BaselinePlant.start.adding(seconds: 12)))
        let baseline = learner.finish()
        baseline.allowRules = [AllowRule(id: "hmi-setpoints", reason: "HMI writes setpoints during commissioning",
                                         expires: UTCTime.parse("2027-01-31"), client: IPNetwork("10.20.1.10"),
                                         operationClass: "write")]
        baseline.maintenanceWindows = [MaintenanceWindow(id: "sunday-backups", reason: "weekly backups",
                                                         schedule: .weekly(days: [6], start: 22 * 3600, end: 2 * 3600))]
        return baseline
    }

    @Test func smallPlantMatchesGoldenFile() throws {
        // Vendors are left out so the file does not depend on the installed ieee-data version.
        let text = Self.smallPlant().serialized(vendors: VendorRegistry(directory: "/nonexistent"))
        let golden = try #require(FileManager.default.contents(atPath: Self.goldenPath), "missing \(Self.goldenPath)")
        let expected = String(decoding: golden, as: UTF8.self)
        let firstDifference = zip(text.split(separator: "\n"), expected.split(separator: "\n")).enumerated()
            .first { $0.element.0 != $0.element.1 }
            .map { "line \($0.offset + 1): got \($0.element.0), expected \($0.element.1)" }
        #expect(text == expected, "\(firstDifference ?? "files differ in length")")
    }

    @Test func goldenFileLoads() throws {
        let baseline = try Baseline.load(path: Self.goldenPath)
        #expect(baseline.conversations.count == 1)
        #expect(baseline.allowRules.count == 1)
        #expect(baseline.maintenanceWindows.count == 1)
        #expect(baseline.sortedConversations.first?.sortedOperations.first?.timing.intervals.count == 11)
    }
}
