import WirecheckBaseline
import WirecheckCore
import WirecheckHosts

/// Adds the process and host that host telemetry names for a flow to every event of that flow,
/// and keeps the per-flow join results for the coverage report.
final class HostEnricher {
    /// Application protocols counted as industrial in the attribution share.
    static let industrialProtocols: Set<String> = [
        "modbus", "dnp3", "iec104", "enip", "s7comm", "s7comm-plus", "bacnet", "opcua",
    ]
    /// Flows remembered for the coverage report; later flows are counted in `uncountedFlows`.
    static let maxCoverageFlows = 2_000_000

    let attributor: ProcessAttributor
    let telemetry: HostTelemetryLoad
    /// Join results of flows that have not ended yet, by flow id.
    private var cache: [UInt64: JSONObject?] = [:]
    private var coverageFlows: [(client: IPAddress, server: IPAddress, attributed: Bool, isICS: Bool)] = []
    private(set) var uncountedFlows: UInt64 = 0
    private(set) var attributedFlows: UInt64 = 0

    /// A host that is the local side of some connection records: its name and the time span
    /// its records cover.
    struct TelemetryHost {
        var name: String?
        var firstRecord: Timestamp
        var lastRecord: Timestamp
    }

    /// Hosts whose telemetry logs their own connections, by local address. auditd records carry
    /// only the peer address, so hosts with only auditd telemetry are not in it.
    private let telemetryHosts: [IPAddress: TelemetryHost]

    init(telemetry: HostTelemetryLoad, clockSkewTolerance: Double) {
        self.telemetry = telemetry
        attributor = ProcessAttributor(telemetry: telemetry, clockSkewTolerance: clockSkewTolerance)
        var hosts: [IPAddress: TelemetryHost] = [:]
        for record in telemetry.connections {
            guard let local = record.localAddress else { continue }
            if var host = hosts[local] {
                if record.time < host.firstRecord { host.firstRecord = record.time }
                if record.time > host.lastRecord { host.lastRecord = record.time }
                if host.name == nil { host.name = record.hostName }
                hosts[local] = host
            } else {
                hosts[local] = TelemetryHost(name: record.hostName, firstRecord: record.time, lastRecord: record.time)
            }
        }
        telemetryHosts = hosts
    }

    /// Returns the host entry for `address` when its telemetry covers `time`, within the skew
    /// tolerance. A flow outside that span cannot show a gap, because the logs do not reach it.
    func telemetryHost(_ address: IPAddress, coveringTime time: Timestamp) -> TelemetryHost? {
        guard let host = telemetryHosts[address] else { return nil }
        let tolerance = attributor.clockSkewTolerance
        guard time.interval(since: host.firstRecord) >= -tolerance, time.interval(since: host.lastRecord) <= tolerance else {
            return nil
        }
        return host
    }

    /// Returns the process on the client end of the flow, or nil when the client host logged no
    /// matching connection.
    func clientAttribution(of flow: FlowContext) -> Attribution? {
        guard let transport = HostEnricher.transport(flow) else { return nil }
        return attributor.attributeEnds(transport: transport, clientIP: flow.srcIP, clientPort: flow.srcPort,
                                        serverIP: flow.destIP, serverPort: flow.destPort, start: flow.start).client
    }

    /// Returns the program baseline's view of an attribution, or nil when the record names no executable.
    static func processObservation(_ attribution: Attribution, flow: FlowContext) -> ProcessObservation? {
        guard let executable = attribution.executable, !executable.isEmpty else { return nil }
        return ProcessObservation(host: flow.srcIP, hostName: attribution.hostName, executable: executable,
                                  commandLine: attribution.commandLine, user: attribution.user, pid: attribution.pid)
    }

    static func transport(_ flow: FlowContext) -> TelemetryTransport? {
        switch flow.ipProtocol {
        case IPProtocolNumber.tcp: return .tcp
        case IPProtocolNumber.udp: return .udp
        default: return nil
        }
    }

    func enrich(_ event: inout Event) {
        guard let flow = event.flow else { return }
        let fields: JSONObject?
        if let cached = cache[flow.flowID] {
            fields = cached
        } else {
            fields = join(flow)
            cache[flow.flowID] = fields
        }
        if let fields {
            for (key, value) in fields.pairs { event.body.set(key, value) }
        }
        if event.eventType == "flow" {
            cache[flow.flowID] = nil
            if fields != nil { attributedFlows += 1 }
            if coverageFlows.count < HostEnricher.maxCoverageFlows {
                coverageFlows.append((flow.srcIP, flow.destIP, fields != nil,
                                      HostEnricher.industrialProtocols.contains(flow.appProto ?? "")))
            } else {
                uncountedFlows += 1
            }
        }
    }

    private func join(_ flow: FlowContext) -> JSONObject? {
        guard let transport = HostEnricher.transport(flow),
              let attribution = attributor.attribute(transport: transport, clientIP: flow.srcIP, clientPort: flow.srcPort,
                                                     serverIP: flow.destIP, serverPort: flow.destPort, start: flow.start) else {
            return nil
        }
        return attributor.eveFields(attribution)
    }

    var coverage: TelemetryCoverage {
        attributor.coverage(flows: coverageFlows)
    }
}
