import WirecheckCore

/// How much of the network the host telemetry covers.
public struct TelemetryCoverage: Sendable {
    /// A host with telemetry and how many of its flows were attributed.
    public struct HostJoinRate: Sendable, Hashable {
        public var address: IPAddress
        public var flows: Int
        public var attributedFlows: Int
    }

    /// Addresses seen as the local side of connection records, sorted.
    public var hostsWithTelemetry: [IPAddress]
    /// Addresses seen in flows with no connection record naming them as the local side, sorted.
    public var hostsWithoutTelemetry: [IPAddress]
    /// Hosts with telemetry where fewer than `ProcessAttributor.poorJoinShare` of at least
    /// `ProcessAttributor.poorJoinMinimumFlows` flows were attributed: their clock, address or
    /// logging configuration probably differs from what the join expects.
    public var poorlyJoinedHosts: [HostJoinRate]
    public var icsFlows: Int
    public var attributedICSFlows: Int

    /// Share of ICS flows attributed to a process, or nil when there were no ICS flows.
    public var attributedICSShare: Double? {
        icsFlows == 0 ? nil : Double(attributedICSFlows) / Double(icsFlows)
    }
}

extension ProcessAttributor {
    /// Flows a host needs before its join rate is judged, so one unmatched flow is not reported.
    public static let poorJoinMinimumFlows = 5
    /// Join rate under which a host with telemetry is listed as poorly joined.
    public static let poorJoinShare = 0.5

    /// Summarises which hosts have telemetry, which do not, and how well the join worked.
    ///
    /// NOTE: auditd records carry no local address, so Linux hosts known only from auditd are
    /// counted as hosts without telemetry.
    public func coverage(flows: [(client: IPAddress, server: IPAddress, attributed: Bool, isICS: Bool)]) -> TelemetryCoverage {
        var withTelemetry: Set<IPAddress> = []
        for record in telemetryConnections {
            if let local = record.localAddress, !local.isUnspecified { withTelemetry.insert(local) }
        }
        var seen: Set<IPAddress> = []
        var totals: [IPAddress: (flows: Int, attributed: Int)] = [:]
        var icsFlows = 0
        var attributedICS = 0
        for flow in flows {
            seen.insert(flow.client)
            seen.insert(flow.server)
            for address in Set([flow.client, flow.server]) where withTelemetry.contains(address) {
                totals[address, default: (0, 0)].flows += 1
                if flow.attributed { totals[address, default: (0, 0)].attributed += 1 }
            }
            if flow.isICS {
                icsFlows += 1
                if flow.attributed { attributedICS += 1 }
            }
        }
        let poorlyJoined = totals
            .filter { $0.value.flows >= Self.poorJoinMinimumFlows
                && Double($0.value.attributed) < Self.poorJoinShare * Double($0.value.flows) }
            .map { TelemetryCoverage.HostJoinRate(address: $0.key, flows: $0.value.flows, attributedFlows: $0.value.attributed) }
            .sorted { $0.address < $1.address }
        return TelemetryCoverage(
            hostsWithTelemetry: withTelemetry.sorted(),
            hostsWithoutTelemetry: seen.subtracting(withTelemetry).sorted(),
            poorlyJoinedHosts: poorlyJoined, icsFlows: icsFlows, attributedICSFlows: attributedICS)
    }
}

extension IPAddress {
    /// True for 0.0.0.0 and ::, which Sysmon writes when it has no address.
    var isUnspecified: Bool {
        switch self {
        case .v4(let value): return value == 0
        case .v6(let high, let low): return high == 0 && low == 0
        }
    }
}
