import WirecheckCore

/// The learned programs in the form the detector looks them up, and the per-host count of
/// telemetry-gap alerts.
final class ProgramTracker {
    /// Telemetry-gap alerts per host. A host whose telemetry filters out some connections would
    /// otherwise raise one per flow; the last alert states that the rest are not reported.
    static let maxGapAlertsPerHost = 20

    struct HostProtocol: Hashable {
        var host: IPAddress
        var protocolName: String
    }

    /// Normalised command lines per learned program. The value is nil when the baseline kept no
    /// complete list, because it overflowed or the telemetry had no command lines. Such a program
    /// accepts any command line.
    var commandLines: [ProgramKey: Set<String>?]
    /// File names of the learned programs per host and protocol, sorted, for messages.
    var programNames: [HostProtocol: [String]]
    var gapAlertsByHost: [IPAddress: Int] = [:]

    init(baseline: Baseline) {
        var commandLines: [ProgramKey: Set<String>?] = [:]
        var names: [HostProtocol: Set<String>] = [:]
        for (key, entry) in baseline.programs {
            let complete = !entry.commandLinesOverflowed && !entry.commandLines.isEmpty
            // `.some(nil)` keeps the key: a plain nil would remove the program from the dictionary.
            let lines: Set<String>? = complete ? entry.commandLines : nil
            commandLines[key] = .some(lines)
            names[HostProtocol(host: key.host, protocolName: key.protocolName), default: []].insert(entry.displayName)
        }
        self.commandLines = commandLines
        programNames = names.mapValues { $0.sorted() }
    }

    /// Adds a program of the learning period that `LearnThenDetect` saw only after the cut-off,
    /// up to `BaselineLearner.maxPrograms` programs.
    func add(_ process: ProcessObservation, key: ProgramKey) {
        let normalized = process.commandLine.map(CommandLineNormalizer.normalize)
        if let existing = commandLines[key] {
            // A program learned without command lines accepts any, so it stays that way.
            guard var lines = existing, let normalized else { return }
            lines.insert(normalized)
            commandLines[key] = lines.count > ProgramEntry.maxCommandLines ? .some(nil) : lines
            return
        }
        guard commandLines.count < BaselineLearner.maxPrograms else { return }
        let lines: Set<String>? = normalized.map { [$0] }
        commandLines[key] = .some(lines)
        let hostProtocol = HostProtocol(host: key.host, protocolName: key.protocolName)
        let name = CommandLineNormalizer.fileName(key.executable)
        var names = programNames[hostProtocol] ?? []
        if !names.contains(name) {
            names.append(name)
            names.sort()
            programNames[hostProtocol] = names
        }
    }
}

extension BaselineDetector {
    /// Maximum length of a command line quoted in a message. The full one is in `alert.seen`.
    static let maxQuotedCommandLine = 80

    // MARK: Programs

    /// Checks the program that initiated a finished flow against the programs learned for its
    /// host and protocol. Raises `new_program` once per (host, protocol, executable) and
    /// `new_command_line` once per (host, protocol, executable) for a known program with an
    /// argument set never learned. Flows without `app_proto` are ignored.
    public func observe(process: ProcessObservation, flow: FlowContext, packets: [PacketReference] = []) {
        start(at: flow.start)
        guard let protocolName = flow.appProto else { return }
        let key = ProgramKey(host: process.host, protocolName: protocolName, executable: process.executable)
        guard let learnedLines = programTracker.commandLines[key] else {
            if markAlerted(.program(key)) { emitNewProgram(process, key: key, flow: flow, packets: packets) }
            return
        }
        guard let learnedLines, let commandLine = process.commandLine else { return }
        let normalized = CommandLineNormalizer.normalize(commandLine)
        if !learnedLines.contains(normalized), markAlerted(.commandLine(key)) {
            emitNewCommandLine(process, key: key, normalized: normalized, learned: learnedLines.sorted(), flow: flow,
                               packets: packets)
        }
    }

    /// Adds the program of a flow from the learning period to the known programs without checking it.
    func addLearnedProgram(_ process: ProcessObservation, flow: FlowContext) {
        guard let protocolName = flow.appProto else { return }
        programTracker.add(process, key: ProgramKey(host: process.host, protocolName: protocolName, executable: process.executable))
    }

    /// Raises `telemetry_gap` for a finished industrial-protocol flow whose client host has host
    /// telemetry (it is the local side of some connection records) but no record for this flow.
    /// `hostName` is the name the telemetry gives that host, if any. At most
    /// `ProgramTracker.maxGapAlertsPerHost` alerts are raised per host.
    public func observeTelemetryGap(flow: FlowContext, hostName: String?, packets: [PacketReference] = []) {
        start(at: flow.start)
        let host = flow.srcIP
        let sent = programTracker.gapAlertsByHost[host, default: 0]
        guard sent < ProgramTracker.maxGapAlertsPerHost else { return }
        guard programTracker.gapAlertsByHost[host] != nil
                || programTracker.gapAlertsByHost.count < BaselineDetector.maxAlertedEntries else {
            alertsDropped &+= 1
            return
        }
        programTracker.gapAlertsByHost[host] = sent + 1
        let isLastReported = sent + 1 == ProgramTracker.maxGapAlertsPerHost
        emitTelemetryGap(flow: flow, hostName: hostName, isLastReported: isLastReported, packets: packets)
    }

    // MARK: Messages

    /// "python3.11 (pid 8729, `python3 -c ...`)".
    static func programText(_ process: ProcessObservation) -> String {
        var details: [String] = []
        if let pid = process.pid { details.append("pid \(pid)") }
        if let commandLine = process.commandLine { details.append("`\(quoted(commandLine))`") }
        let name = CommandLineNormalizer.fileName(process.executable)
        return details.isEmpty ? name : "\(name) (\(details.joined(separator: ", ")))"
    }

    /// Returns the command line on one line, cut to `maxQuotedCommandLine` characters.
    static func quoted(_ commandLine: String) -> String {
        let oneLine = commandLine.split(whereSeparator: \.isNewline).joined(separator: " ")
        guard oneLine.count > maxQuotedCommandLine else { return oneLine }
        return oneLine.prefix(maxQuotedCommandLine - 3) + "..."
    }

    /// "10.20.1.50 (eng-ws)" or "10.20.1.50".
    static func hostText(_ address: IPAddress, name: String?) -> String {
        name.map { "\(address) (\($0))" } ?? address.description
    }

    static func serverText(_ flow: FlowContext) -> String {
        ServerEndpoint(server: flow.destIP, port: flow.destPort).description
    }

    static func processObject(_ process: ProcessObservation) -> JSONObject {
        var object: JSONObject = ["host": .string(process.host.description), "executable": .string(process.executable)]
        if let name = process.hostName { object.set("host_name", .string(name)) }
        if let pid = process.pid { object.set("pid", .int(pid)) }
        if let commandLine = process.commandLine { object.set("command_line", .string(commandLine)) }
        if let user = process.user { object.set("user", .string(user)) }
        return object
    }

    func emitNewProgram(_ process: ProcessObservation, key: ProgramKey, flow: FlowContext, packets: [PacketReference]) {
        let display = ProtocolNames.display(key.protocolName)
        let known = programTracker.programNames[ProgramTracker.HostProtocol(host: key.host, protocolName: key.protocolName)] ?? []
        let kind = ProgramKind.of(executable: process.executable)
        let kindText = kind.map { ", \($0.article)," } ?? ""
        let history = known.isEmpty
            ? "the baseline has no program speaking \(display) from this host"
            : "the baseline has only \(known.joined(separator: ", ")) speaking \(display) from this host"
        var seen = BaselineDetector.processObject(process)
        if let kind { seen.set("kind", .string(kind.rawValue)) }
        seen.set("server", .string(BaselineDetector.serverText(flow)))
        emit(BaselineCatalogue.newProgram, time: flow.start, flow: flow, packets: packets,
             message: "\(BaselineDetector.programText(process))\(kindText) on \(BaselineDetector.hostText(process.host, name: process.hostName)) "
                + "opened \(display) to \(BaselineDetector.serverText(flow)); \(history)",
             severity: kind == nil ? 2 : 1,
             learned: ["programs": .array(known.map { .string($0) })], seen: seen)
    }

    func emitNewCommandLine(_ process: ProcessObservation, key: ProgramKey, normalized: String, learned: [String],
                            flow: FlowContext, packets: [PacketReference]) {
        let display = ProtocolNames.display(key.protocolName)
        let name = CommandLineNormalizer.fileName(process.executable)
        let learnedText = learned.map { "`\(BaselineDetector.quoted($0))`" }.joined(separator: ", ")
        let plural = learned.count == 1 ? "argument set" : "argument sets"
        var seen = BaselineDetector.processObject(process)
        seen.set("normalized_command_line", .string(normalized))
        seen.set("server", .string(BaselineDetector.serverText(flow)))
        emit(BaselineCatalogue.newCommandLine, time: flow.start, flow: flow, packets: packets,
             message: "\(BaselineDetector.programText(process)) on \(BaselineDetector.hostText(process.host, name: process.hostName)) "
                + "opened \(display) to \(BaselineDetector.serverText(flow)) with arguments never learned for \(name); "
                + "the baseline has \(learned.count) \(plural) for it: \(learnedText)",
             learned: ["command_lines": .array(learned.map { .string($0) })], seen: seen)
    }

    func emitTelemetryGap(flow: FlowContext, hostName: String?, isLastReported: Bool, packets: [PacketReference]) {
        let display = ProtocolNames.display(flow.appProto)
        var message = "\(BaselineDetector.hostText(flow.srcIP, name: hostName)) opened \(display) to "
            + "\(BaselineDetector.serverText(flow)) from port \(flow.srcPort), but its host telemetry, which logs other "
            + "connections of this host, has no record of this one: a telemetry gap or tampering"
        if isLastReported {
            message += "; this is the last of \(ProgramTracker.maxGapAlertsPerHost) such alerts for this host, later ones are not reported"
        }
        var seen: JSONObject = ["host": .string(flow.srcIP.description), "client_port": .int(flow.srcPort),
                                "server": .string(BaselineDetector.serverText(flow))]
        if let hostName { seen.set("host_name", .string(hostName)) }
        emit(BaselineCatalogue.telemetryGap, time: flow.start, flow: flow, packets: packets, message: message,
             learned: [:], seen: seen)
    }
}
