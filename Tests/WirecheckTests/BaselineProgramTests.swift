import Foundation
import Testing
@testable import WirecheckBaseline
import WirecheckCore
import WirecheckEngine
import WirecheckHosts
import WirecheckSynthesis

/// A program on the HMI host that opens one Modbus connection, as Sysmon records it.
private struct ProgramRun {
    var image: String
    var commandLine: String
    var pid: Int
}

/// One Modbus/TCP connection from the HMI to PLC 1 at `seconds` after the capture start, opened by
/// `program`, or by a process the telemetry does not record when `program` is nil.
private struct ModbusSession {
    var seconds: Double
    var clientPort: UInt16
    var program: ProgramRun?
}

/// Builds the capture and the Sysmon XML of a list of sessions and runs them through the engine.
private enum ProgramScenario {
    static let hmi = ScenarioHosts.hmi
    static let plc = ScenarioHosts.plc1
    static let hostName = "hmi-01"

    static let hmiExe = ProgramRun(image: "C:\\Program Files\\Plant\\HMI.exe",
                                   commandLine: "\"C:\\Program Files\\Plant\\HMI.exe\" /project line2.prj /poll 1000", pid: 2100)
    static let python = ProgramRun(image: "C:\\Python311\\python3.11.exe",
                                   commandLine: "python3 -c \"from pymodbus.client import ModbusTcpClient\"", pid: 8729)

    static func capture(_ sessions: [ModbusSession]) -> ScenarioCapture {
        var capture = ScenarioCapture()
        for (index, session) in sessions.enumerated() {
            var tcp = ScenarioHosts.conversation(hmi, session.clientPort, plc, 502,
                                                 clientSequence: 1_000 + UInt32(index) * 10_000)
            let transaction = UInt16(index + 1)
            capture.add(session.seconds, tcp.handshake())
            capture.add(session.seconds + 0.01, tcp.clientSends(
                ModbusFrames.readHoldingRegisters(transaction: transaction, unit: 1, address: 0, count: 10)))
            capture.add(session.seconds + 0.013, tcp.serverSends(
                ModbusFrames.readHoldingRegistersResponse(transaction: transaction, unit: 1, values: Array(repeating: 7, count: 10))))
            capture.add(session.seconds + 0.02, tcp.close())
        }
        return capture
    }

    /// "2025-01-06 06:00:05.000": Sysmon's UtcTime for `seconds` after the capture start.
    static func utcTime(_ seconds: Double) -> String {
        let whole = Int(seconds)
        let millis = Int(((seconds - Double(whole)) * 1000).rounded())
        return String(format: "2025-01-06 06:%02d:%02d.%03d", whole / 60, whole % 60, millis)
    }

    static func guid(_ pid: Int) -> String { String(format: "{0000aaaa-0000-0000-0000-%012d}", pid) }

    static func event(_ id: Int, _ data: [(String, String)]) -> String {
        let fields = data.map { "<Data Name='\($0.0)'>\(escape($0.1))</Data>" }.joined()
        return "<Event xmlns='http://schemas.microsoft.com/win/2004/08/events/event'><System><Provider "
            + "Name='Microsoft-Windows-Sysmon'/><EventID>\(id)</EventID><Computer>\(hostName)</Computer></System>"
            + "<EventData>\(fields)</EventData></Event>"
    }

    static func escape(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: "\"", with: "&quot;")
    }

    /// Builds one process creation (EID 1), two seconds before the connection, and one network
    /// connection (EID 3) for each session that has a program.
    static func sysmon(_ sessions: [ModbusSession]) -> String {
        var lines: [String] = []
        for session in sessions {
            guard let program = session.program else { continue }
            lines.append(event(1, [
                ("UtcTime", utcTime(max(session.seconds - 2, 0))), ("ProcessGuid", guid(program.pid)),
                ("ProcessId", "\(program.pid)"), ("Image", program.image), ("CommandLine", program.commandLine),
                ("User", "PLANT\\operator"),
            ]))
            lines.append(event(3, [
                ("UtcTime", utcTime(session.seconds + 0.2)), ("ProcessGuid", guid(program.pid)),
                ("ProcessId", "\(program.pid)"), ("Image", program.image), ("User", "PLANT\\operator"),
                ("Protocol", "tcp"), ("Initiated", "true"), ("SourceIsIpv6", "false"), ("SourceIp", hmi.description),
                ("SourcePort", "\(session.clientPort)"), ("DestinationIsIpv6", "false"),
                ("DestinationIp", plc.description), ("DestinationPort", "502"),
            ]))
        }
        return lines.joined(separator: "\n") + "\n"
    }

    static func analyze(_ sessions: [ModbusSession], baseline mode: BaselineMode) throws -> AnalysisResult {
        let path = TestPaths.temporaryDirectory().appendingPathComponent("programs.pcap").path
        try capture(sessions).write(to: path)
        let telemetry = HostTelemetry.load(text: sysmon(sessions), name: "sysmon.xml")
        return try AnalysisHarness.analyze(path, hostTelemetry: telemetry, baseline: mode)
    }

    /// The learning run: HMI.exe alone speaks Modbus from the HMI, on two connections.
    static let learningSessions = [
        ModbusSession(seconds: 1, clientPort: 50_000, program: hmiExe),
        ModbusSession(seconds: 10, clientPort: 50_001, program: hmiExe),
    ]

    static func learnedBaseline() throws -> Baseline {
        let baseline = Baseline()
        _ = try analyze(learningSessions, baseline: .learn(baseline))
        return baseline
    }

    static let programRules: Set<String> = ["baseline.new_program", "baseline.new_command_line", "baseline.telemetry_gap"]
}

/// No OUI registry, so the text does not depend on the machine's ieee-data package.
private let noVendors = VendorRegistry(directory: "/nonexistent")

private func alertMember(_ event: Event, _ key: String) -> JSONValue? {
    guard case .object(let alert)? = event.body["alert"] else { return nil }
    return alert[key]
}

private func seenMember(_ event: Event, _ key: String) -> JSONValue? {
    guard case .object(let seen)? = alertMember(event, "seen") else { return nil }
    return seen[key]
}

@Suite struct BaselineProgramTests {
    @Test func learnsProgramPerHostAndProtocol() throws {
        let baseline = try ProgramScenario.learnedBaseline()
        #expect(baseline.programs.count == 1)
        let program = try #require(baseline.sortedPrograms.first)
        #expect(program.key.host == ProgramScenario.hmi)
        #expect(program.key.protocolName == "modbus")
        #expect(program.key.executable == ProgramScenario.hmiExe.image)
        #expect(program.observation.count == 2)
        #expect(program.sortedCommandLines == ["HMI.exe /poll /project 1000 line2.prj"])
        #expect(program.sortedServers == [ServerEndpoint(server: ProgramScenario.plc, port: 502)])
        #expect(program.users == ["PLANT\\operator"])
        #expect(program.hostNames == ["hmi-01"])
        #expect(program.review == Review())
    }

    @Test func cleanRerunRaisesNothing() throws {
        let baseline = try ProgramScenario.learnedBaseline()
        let result = try ProgramScenario.analyze(ProgramScenario.learningSessions, baseline: .detect(baseline))
        #expect(result.events(ofType: "alert").map { $0.message ?? "" } == [])
    }

    @Test func pythonBesideHMIRaisesNewProgram() throws {
        let baseline = try ProgramScenario.learnedBaseline()
        let sessions = [
            ModbusSession(seconds: 1, clientPort: 50_010, program: ProgramScenario.hmiExe),
            ModbusSession(seconds: 5, clientPort: 50_011, program: ProgramScenario.python),
            ModbusSession(seconds: 9, clientPort: 50_012, program: ProgramScenario.python),
        ]
        let result = try ProgramScenario.analyze(sessions, baseline: .detect(baseline))
        let alerts = result.alerts("baseline.new_program")
        #expect(alerts.count == 1)
        #expect(result.alertRules == ["baseline.new_program"])
        let alert = try #require(alerts.first)
        let message = alert.message ?? ""
        #expect(message.hasPrefix("python3.11.exe (pid 8729, `python3 -c \"from pymodbus.client import ModbusTcpClient\"`), an interpreter, on 10.40.0.10 (hmi-01) opened Modbus to 10.40.0.21:502"))
        #expect(message.hasSuffix("; the baseline has only HMI.exe speaking Modbus from this host"))
        #expect(alertMember(alert, "severity") == .int(1))
        #expect(alertMember(alert, "signature_id") == .int(4012))
        #expect(seenMember(alert, "kind") == .string("interpreter"))
        #expect(seenMember(alert, "pid") == .int(8729))
        #expect(alert.flow?.srcPort == 50_011)
    }

    @Test func unlistedProgramHasSeverityTwo() throws {
        let baseline = try ProgramScenario.learnedBaseline()
        let historian = ProgramRun(image: "C:\\Historian\\collector.exe", commandLine: "collector.exe --plc 10.40.0.21", pid: 3300)
        let result = try ProgramScenario.analyze([ModbusSession(seconds: 2, clientPort: 50_020, program: historian)],
                                                 baseline: .detect(baseline))
        let alert = try #require(result.alerts("baseline.new_program").first)
        #expect(alertMember(alert, "severity") == .int(2))
        #expect(seenMember(alert, "kind") == nil)
    }

    @Test func newArgumentsRaiseNewCommandLine() throws {
        let baseline = try ProgramScenario.learnedBaseline()
        var changed = ProgramScenario.hmiExe
        changed.commandLine = "\"C:\\Program Files\\Plant\\HMI.exe\" /project line2.prj /poll 1000 /write-enable"
        changed.pid = 2200
        // Reordered arguments are the same set, so only the session with /write-enable counts.
        var reordered = ProgramScenario.hmiExe
        reordered.commandLine = "\"C:\\Program Files\\Plant\\HMI.exe\" /poll 1000 /project line2.prj"
        let sessions = [
            ModbusSession(seconds: 1, clientPort: 50_030, program: reordered),
            ModbusSession(seconds: 4, clientPort: 50_031, program: changed),
            ModbusSession(seconds: 8, clientPort: 50_032, program: changed),
        ]
        let result = try ProgramScenario.analyze(sessions, baseline: .detect(baseline))
        #expect(result.alertRules == ["baseline.new_command_line"])
        let alerts = result.alerts("baseline.new_command_line")
        #expect(alerts.count == 1)
        let alert = try #require(alerts.first)
        #expect(alert.message == "HMI.exe (pid 2200, `\"C:\\Program Files\\Plant\\HMI.exe\" /project line2.prj /poll 1000 /write-enable`) "
            + "on 10.40.0.10 (hmi-01) opened Modbus to 10.40.0.21:502 with arguments never learned for HMI.exe; "
            + "the baseline has 1 argument set for it: `HMI.exe /poll /project 1000 line2.prj`")
        #expect(alertMember(alert, "severity") == .int(2))
        #expect(seenMember(alert, "normalized_command_line") == .string("HMI.exe /poll /project /write-enable 1000 line2.prj"))
    }

    @Test func flowWithoutRecordRaisesTelemetryGap() throws {
        let baseline = try ProgramScenario.learnedBaseline()
        let sessions = [
            ModbusSession(seconds: 1, clientPort: 50_040, program: ProgramScenario.hmiExe),
            ModbusSession(seconds: 6, clientPort: 50_041, program: nil),
            ModbusSession(seconds: 12, clientPort: 50_042, program: ProgramScenario.hmiExe),
        ]
        let result = try ProgramScenario.analyze(sessions, baseline: .detect(baseline))
        #expect(result.alertRules == ["baseline.telemetry_gap"])
        let alerts = result.alerts("baseline.telemetry_gap")
        #expect(alerts.count == 1)
        let alert = try #require(alerts.first)
        #expect(alert.flow?.srcPort == 50_041)
        #expect(alert.message == "10.40.0.10 (hmi-01) opened Modbus to 10.40.0.21:502 from port 50041, but its host "
            + "telemetry, which logs other connections of this host, has no record of this one: a telemetry gap or tampering")
        #expect(alertMember(alert, "signature_id") == .int(4014))
    }

    @Test func recordWithoutImageIsNoGap() throws {
        let baseline = try ProgramScenario.learnedBaseline()
        let unnamed = ProgramRun(image: "", commandLine: "", pid: 4400)
        let sessions = [
            ModbusSession(seconds: 1, clientPort: 50_045, program: ProgramScenario.hmiExe),
            ModbusSession(seconds: 6, clientPort: 50_046, program: unnamed),
        ]
        let result = try ProgramScenario.analyze(sessions, baseline: .detect(baseline))
        #expect(result.alertRules.isDisjoint(with: ProgramScenario.programRules))
    }

    @Test func flowOutsideTelemetrySpanIsNoGap() throws {
        let baseline = try ProgramScenario.learnedBaseline()
        // The unrecorded connection comes 40 s after the host's last record, beyond the 5 s skew
        // tolerance, so the telemetry does not reach that far and no gap can be claimed.
        let sessions = [
            ModbusSession(seconds: 1, clientPort: 50_050, program: ProgramScenario.hmiExe),
            ModbusSession(seconds: 41, clientPort: 50_051, program: nil),
        ]
        let result = try ProgramScenario.analyze(sessions, baseline: .detect(baseline))
        #expect(result.alerts("baseline.telemetry_gap").isEmpty)
    }

    @Test func learnModeRaisesNoProgramAlerts() throws {
        let sessions = ProgramScenario.learningSessions + [ModbusSession(seconds: 20, clientPort: 50_060, program: nil)]
        let result = try ProgramScenario.analyze(sessions, baseline: .learn(Baseline()))
        #expect(result.alertRules.isDisjoint(with: ProgramScenario.programRules))
    }

    @Test func learnFirstDetectsAfterCutoff() throws {
        let sessions = ProgramScenario.learningSessions + [
            ModbusSession(seconds: 30, clientPort: 50_070, program: ProgramScenario.hmiExe),
            ModbusSession(seconds: 35, clientPort: 50_071, program: ProgramScenario.python),
        ]
        let result = try ProgramScenario.analyze(sessions, baseline: .learnFirst(duration: 20, baseline: Baseline()))
        let alerts = result.alerts("baseline.new_program")
        #expect(alerts.count == 1)
        #expect(alerts.first?.flow?.srcPort == 50_071)
        #expect(result.alerts("baseline.new_command_line").isEmpty)
    }

    @Test func relearningKeepsReviewAndAddsProgram() throws {
        let baseline = try ProgramScenario.learnedBaseline()
        let program = try #require(baseline.sortedPrograms.first)
        program.review = Review(approved: true, note: "HMI runtime")
        let reloaded = try Baseline.parse(baseline.serialized(vendors: noVendors), file: "plant.json")
        let sessions = [ModbusSession(seconds: 3, clientPort: 50_080, program: ProgramScenario.python)]
        _ = try ProgramScenario.analyze(sessions, baseline: .learn(reloaded))
        #expect(reloaded.programs.count == 2)
        let hmi = try #require(reloaded.programs[program.key])
        #expect(hmi.review == Review(approved: true, note: "HMI runtime"))
        #expect(hmi.observation.count == 2)
        let pythonKey = ProgramKey(host: ProgramScenario.hmi, protocolName: "modbus", executable: ProgramScenario.python.image)
        #expect(reloaded.programs[pythonKey]?.review.approved == false)
    }

    @Test func fileRoundTripIsStable() throws {
        let baseline = try ProgramScenario.learnedBaseline()
        let text = baseline.serialized(vendors: noVendors)
        #expect(text.contains("\"programs\": ["))
        #expect(text.contains("\"command_lines\": [\"HMI.exe /poll /project 1000 line2.prj\"]"))
        #expect(text.contains("\"servers\": [\"10.40.0.21:502\"]"))
        let reloaded = try Baseline.parse(text, file: "plant.json")
        #expect(reloaded.serialized(vendors: noVendors) == text)
    }

    @Test func fileErrorsNameProgramPath() throws {
        let text = """
        {"format_version": 1, "programs": [{"host": "10.0.0.5", "protocol": "modbus", "executable": "a.exe",
         "servers": ["10.0.0.20"], "first_seen": "2025-01-06T06:00:00Z", "last_seen": "2025-01-06T06:00:00Z"}]}
        """
        #expect(throws: BaselineFileError(file: "plant.json", location: "$.programs[0].servers[0]",
                                          problem: "invalid server \"10.0.0.20\"; expected 10.20.1.21:502 or [fd00::21]:502")) {
            try Baseline.parse(text, file: "plant.json")
        }
    }

    @Test func showAndDiffListPrograms() throws {
        let old = try ProgramScenario.learnedBaseline()
        let shown = BaselineReport.show(old, vendors: noVendors)
        #expect(shown.contains("\nPrograms\n"))
        #expect(shown.contains("10.40.0.10 (hmi-01)  Modbus"))
        #expect(shown.contains("HMI.exe /poll /project 1000 line2.prj"))
        let new = try Baseline.parse(old.serialized(vendors: noVendors), file: "new.json")
        new.sortedPrograms.first?.review.approved = true
        let diff = BaselineDiff.diff(old: old, new: new, vendors: noVendors)
        #expect(diff.contains("programs\n  ~ 10.40.0.10 modbus C:\\Program Files\\Plant\\HMI.exe: approved: false → true"))
    }

    @Test func mergeJoinsCommandLines() {
        let key = ProgramKey(host: ProgramScenario.hmi, protocolName: "modbus", executable: "/usr/bin/modpoll")
        let time = Timestamp(seconds: 1_736_143_200, nanoseconds: 0)
        let ours = Baseline(), theirs = Baseline()
        ours.programs[key] = ProgramEntry(key: key, observation: Observation(firstSeen: time, lastSeen: time, count: 1))
        ours.programs[key]?.commandLines = ["modpoll -r 1"]
        theirs.programs[key] = ProgramEntry(key: key, observation: Observation(firstSeen: time, lastSeen: time.adding(seconds: 60), count: 2))
        theirs.programs[key]?.commandLines = ["modpoll -r 2"]
        ours.merge(theirs)
        #expect(ours.programs[key]?.sortedCommandLines == ["modpoll -r 1", "modpoll -r 2"])
        #expect(ours.programs[key]?.observation.count == 3)
    }
}

/// The paired loopback fixture: pymodbus clients (python3.11) polling a pymodbus server on port
/// 5020, with the Sysmon XML recorded alongside.
@Suite struct BaselineProgramFixtureTests {
    static let capture = TestPaths.fixture("hosts/paired_loopback.pcap")
    static let sysmon = TestPaths.fixture("hosts/paired_sysmon.xml")
    static let loopback = IPAddress("127.0.0.1")!

    static func learn() throws -> Baseline {
        let baseline = Baseline()
        _ = try AnalysisHarness.analyze(capture, hostTelemetry: HostTelemetry.load(paths: [sysmon]), baseline: .learn(baseline))
        return baseline
    }

    @Test func learnsPythonClients() throws {
        let baseline = try Self.learn()
        #expect(baseline.programs.count == 1)
        let program = try #require(baseline.sortedPrograms.first)
        #expect(program.key.host == Self.loopback)
        #expect(program.key.protocolName == "modbus")
        #expect(program.displayName == "python3.11")
        #expect(program.observation.count == 4)
        #expect(program.sortedServers == [ServerEndpoint(server: Self.loopback, port: 5020)])
        #expect(program.users == ["root"])
        // The pymodbus client and two raw-socket clients whose scripts differ in the request bytes.
        #expect(program.commandLines.count == 3)
    }

    @Test func rerunAgainstOwnBaselineIsClean() throws {
        let baseline = try Self.learn()
        let result = try AnalysisHarness.analyze(Self.capture, hostTelemetry: HostTelemetry.load(paths: [Self.sysmon]),
                                                 baseline: .detect(baseline))
        #expect(result.alertRules.isDisjoint(with: ProgramScenario.programRules))
    }

    @Test func pythonAgainstHMIBaseline() throws {
        let baseline = try Self.learn()
        let learnedKey = try #require(baseline.sortedPrograms.first?.key)
        let hmiKey = ProgramKey(host: Self.loopback, protocolName: "modbus", executable: "C:\\Plant\\HMI.exe")
        let hmi = ProgramEntry(key: hmiKey, observation: try #require(baseline.programs[learnedKey]?.observation))
        hmi.commandLines = ["HMI.exe /poll"]
        baseline.programs = [hmiKey: hmi]
        let result = try AnalysisHarness.analyze(Self.capture, hostTelemetry: HostTelemetry.load(paths: [Self.sysmon]),
                                                 baseline: .detect(baseline))
        let alerts = result.alerts("baseline.new_program")
        #expect(alerts.count == 1)
        let message = try #require(alerts.first?.message)
        #expect(message.hasPrefix("python3.11 (pid 8729, `python3 -c  import time from pymodbus.client import"))
        #expect(message.contains(", an interpreter, on 127.0.0.1 (wirecheck-lab) opened Modbus to 127.0.0.1:5020;"))
        #expect(message.hasSuffix("the baseline has only HMI.exe speaking Modbus from this host"))
        #expect(result.alerts("baseline.new_command_line").isEmpty)
        #expect(result.alerts("baseline.telemetry_gap").isEmpty)
    }
}

@Suite struct ProgramTableTests {
    @Test func commandLineNormalization() {
        #expect(CommandLineNormalizer.normalize("/usr/bin/modpoll -r 40 -c 2 10.0.0.20") == "modpoll -c -r 10.0.0.20 2 40")
        #expect(CommandLineNormalizer.normalize("modpoll -c 2 -r 40 10.0.0.20") == "modpoll -c -r 10.0.0.20 2 40")
        #expect(CommandLineNormalizer.normalize("tool --a --a") == "tool --a")
        #expect(CommandLineNormalizer.normalize("\"C:\\My Tools\\t.exe\" 'two words'") == "t.exe \"two words\"")
        #expect(CommandLineNormalizer.normalize("") == "")
        #expect(CommandLineNormalizer.normalize("   ") == "")
        #expect(CommandLineNormalizer.normalize("x \"unterminated") == "x unterminated")
    }

    @Test func longCommandLineIsBounded() {
        let arguments = (0..<1000).map { "-a\($0)" }.joined(separator: " ")
        let normalized = CommandLineNormalizer.normalize("tool " + arguments + " " + String(repeating: "x", count: 5000))
        #expect(normalized.split(separator: " ").count == CommandLineNormalizer.maxArguments + 1)
        #expect(normalized.count < 2000)
    }

    @Test func fileNameOfPaths() {
        #expect(CommandLineNormalizer.fileName("/usr/bin/python3.11") == "python3.11")
        #expect(CommandLineNormalizer.fileName("C:\\Windows\\System32\\cmd.exe") == "cmd.exe")
        #expect(CommandLineNormalizer.fileName("plain") == "plain")
        #expect(CommandLineNormalizer.fileName("trailing/") == "trailing/")
    }

    @Test func programKinds() {
        #expect(ProgramKind.of(executable: "/usr/bin/python3.11") == .interpreter)
        #expect(ProgramKind.of(executable: "C:\\Python311\\python.exe") == .interpreter)
        #expect(ProgramKind.of(executable: "C:\\Windows\\System32\\WindowsPowerShell\\v1.0\\powershell.exe") == .shell)
        #expect(ProgramKind.of(executable: "C:\\Windows\\System32\\cmd.exe") == .shell)
        #expect(ProgramKind.of(executable: "/bin/sh") == .shell)
        #expect(ProgramKind.of(executable: "C:\\Sysinternals\\PsExec64.exe") == .remoteAccess)
        #expect(ProgramKind.of(executable: "/usr/bin/ncat") == .remoteAccess)
        #expect(ProgramKind.of(executable: "C:\\Program Files\\TeamViewer\\TeamViewer_Service.exe") == .remoteAccess)
        #expect(ProgramKind.of(executable: "C:\\Windows\\System32\\mstsc.exe") == .remoteAccess)
        #expect(ProgramKind.of(executable: "C:\\Program Files\\Plant\\HMI.exe") == nil)
        #expect(ProgramKind.of(executable: "/usr/sbin/nodemanager") == nil)
    }

    @Test func programWithoutCommandLinesIsKnown() {
        let key = ProgramKey(host: ProgramScenario.hmi, protocolName: "modbus", executable: "/usr/bin/modpoll")
        let time = Timestamp(seconds: 1_736_143_200, nanoseconds: 0)
        let baseline = Baseline()
        baseline.programs[key] = ProgramEntry(key: key, observation: Observation(firstSeen: time, lastSeen: time, count: 1))
        let collector = EventCollector()
        let detector = BaselineDetector(baseline: baseline, sink: collector)
        var flow = FlowContext(flowID: 1, communityID: "", srcIP: key.host, srcPort: 50_000, destIP: ProgramScenario.plc,
                               destPort: 502, ipProtocol: 6, appProto: "modbus")
        flow.start = time
        detector.observe(process: ProcessObservation(host: key.host, executable: key.executable, commandLine: "modpoll -r 1"),
                         flow: flow)
        #expect(collector.events.isEmpty)
    }

    @Test func commandLinesOverflowStopsChecks() throws {
        let key = ProgramKey(host: ProgramScenario.hmi, protocolName: "modbus", executable: "/usr/bin/modpoll")
        let time = Timestamp(seconds: 1_736_143_200, nanoseconds: 0)
        let entry = ProgramEntry(key: key, observation: Observation(firstSeen: time, lastSeen: time, count: 0))
        for index in 0...ProgramEntry.maxCommandLines {
            entry.record(ProcessObservation(host: key.host, executable: key.executable, commandLine: "modpoll -r \(index)"),
                         server: ServerEndpoint(server: ProgramScenario.plc, port: 502), at: time)
        }
        #expect(entry.commandLinesOverflowed)
        #expect(entry.commandLines.isEmpty)
        let baseline = Baseline()
        baseline.programs[key] = entry
        let collector = EventCollector()
        let detector = BaselineDetector(baseline: baseline, sink: collector)
        var flow = FlowContext(flowID: 1, communityID: "", srcIP: key.host, srcPort: 50_000, destIP: ProgramScenario.plc,
                               destPort: 502, ipProtocol: 6, vlans: [])
        flow.appProto = "modbus"
        flow.start = time
        detector.observe(process: ProcessObservation(host: key.host, executable: key.executable, commandLine: "modpoll --new"),
                         flow: flow)
        #expect(collector.events.isEmpty)
    }
}
