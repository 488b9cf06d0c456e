import Foundation
import WirecheckCore
import WirecheckHosts

/// The summary's host telemetry section: what was read, how much of the traffic it explains,
/// and where the blind spots are.
enum HostTelemetryReport {
    /// Hosts listed by name in each coverage line before the rest are only counted.
    static let maxListedHosts = 10

    static func lines(enricher: HostEnricher) -> [String] {
        var lines: [String] = []
        let telemetry = enricher.telemetry
        for file in telemetry.files {
            if let error = file.error {
                lines.append("\(file.file): not read: \(error)")
            } else {
                lines.append("\(file.file): \(file.format), \(file.processRecords) process, \(file.connectionRecords) connection and \(file.dnsQueryRecords) DNS records, \(file.problems) unparseable")
            }
        }
        for problem in telemetry.problems.prefix(5) {
            lines.append("unparseable record: \(problem)")
        }
        if telemetry.problemCount > 5 {
            lines.append("... and \(telemetry.problemCount - 5) more unparseable records")
        }

        let coverage = enricher.coverage
        if let share = coverage.attributedICSShare {
            let percent = String(format: "%.1f", share * 100)
            lines.append("ICS flows attributed to a process: \(coverage.attributedICSFlows) of \(coverage.icsFlows) (\(percent) %)")
        } else {
            lines.append("ICS flows attributed to a process: no ICS flows in this run")
        }
        lines.append("Flows attributed to a process: \(enricher.attributedFlows)")
        lines.append("Hosts with telemetry: \(list(coverage.hostsWithTelemetry))")
        lines.append("Hosts seen without telemetry (unmanaged or not logging): \(list(coverage.hostsWithoutTelemetry))")
        for host in coverage.poorlyJoinedHosts {
            lines.append("\(host.address) has telemetry but only \(host.attributedFlows) of \(host.flows) flows joined; check its clock and logging")
        }
        return lines
    }

    static func list(_ hosts: [IPAddress]) -> String {
        if hosts.isEmpty { return "none" }
        let shown = hosts.prefix(maxListedHosts).map(\.description).joined(separator: ", ")
        return hosts.count > maxListedHosts ? "\(shown) and \(hosts.count - maxListedHosts) more (\(hosts.count) in all)" : shown
    }
}
