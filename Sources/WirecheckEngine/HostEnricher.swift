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

    init(telemetry: HostTelemetryLoad, clockSkewTolerance: Double) {
        self.telemetry = telemetry
        attributor = ProcessAttributor(telemetry: telemetry, clockSkewTolerance: clockSkewTolerance)
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
        let transport: TelemetryTransport
        switch flow.ipProtocol {
        case IPProtocolNumber.tcp: transport = .tcp
        case IPProtocolNumber.udp: transport = .udp
        default: return nil
        }
        guard let attribution = attributor.attribute(transport: transport, clientIP: flow.srcIP, clientPort: flow.srcPort,
                                                     serverIP: flow.destIP, serverPort: flow.destPort, start: flow.start) else {
            return nil
        }
        return attributor.eveFields(attribution)
    }

    var coverage: TelemetryCoverage {
        attributor.coverage(flows: coverageFlows)
    }
}
