import Foundation
import WirecheckCore

/// Everything the end-of-run summary reports, gathered by the engine from each stage.
public struct RunSummary {
    public struct Source {
        public var name: String
        public var packets: UInt64
        public var linkType: String
        public init(name: String, packets: UInt64, linkType: String) {
            self.name = name
            self.packets = packets
            self.linkType = linkType
        }
    }

    public struct Talker {
        public var address: IPAddress
        public var bytes: UInt64
        public var packets: UInt64
        public var flows: UInt64
        public init(address: IPAddress, bytes: UInt64, packets: UInt64, flows: UInt64) {
            self.address = address
            self.bytes = bytes
            self.packets = packets
            self.flows = flows
        }
    }

    public var sources: [Source] = []
    public var packets: UInt64 = 0
    public var bytes: UInt64 = 0
    public var firstTimestamp: Timestamp?
    public var lastTimestamp: Timestamp?
    public var flows: UInt64 = 0
    public var flowsByProtocol: [String: UInt64] = [:]
    public var flowsByAppProto: [String: UInt64] = [:]
    public var midstreamPickups: UInt64 = 0
    /// Flows parsed as TLS, and the bytes of their encrypted records, which could not be inspected.
    public var encryptedFlows: UInt64 = 0
    public var encryptedBytes: UInt64 = 0
    /// Transport payload bytes of all flows, the base of the encrypted share.
    public var payloadBytes: UInt64 = 0
    /// Holes in TCP streams: bytes the endpoints exchanged but the capture never saw.
    public var streamGaps: UInt64 = 0
    public var streamGapBytes: UInt64 = 0
    public var evictedFlows: UInt64 = 0
    public var topTalkers: [Talker] = []
    /// Host telemetry coverage: files read, attribution share, hosts without telemetry.
    public var hostTelemetry: [String] = []
    /// Reasons packets or inputs were not analysed, with counts ("unsupported link type", ...).
    public var skipped: [(String, UInt64)] = []
    public var warnings: [String] = []
    public var errors: [String] = []
    public var kernelDrops: UInt64?
    public var eveOutput: String?
    public var eveEvents: UInt64 = 0
    public var reportOutput: String?
    /// Times each resource limit was reached, keyed by the limit's name (`max_flows`, ...).
    public var limitOverruns: [(String, UInt64)] = []

    public init() {}
}

/// Renders the human summary printed on standard output at the end of a run.
public enum SummaryFormatter {
    /// "1 packet", "2 packets": a count with its noun in the matching number.
    static func counted<Count: BinaryInteger>(_ count: Count, _ noun: String) -> String {
        count == 1 ? "1 \(noun)" : "\(count) \(noun)s"
    }

    public static func render(_ summary: RunSummary, tally: EventTally) -> String {
        var lines: [String] = []
        lines.append("Wirecheck analysis summary")
        lines.append("==========================")
        for source in summary.sources {
            lines.append("Input      \(source.name): \(counted(source.packets, "packet")), \(source.linkType)")
        }
        var span = ""
        if let first = summary.firstTimestamp, let last = summary.lastTimestamp {
            let seconds = String(format: "%.1f", last.interval(since: first))
            span = " over \(seconds) s (\(first.iso8601) to \(last.iso8601))"
        }
        lines.append("Packets    \(summary.packets) (\(formatBytes(summary.bytes)))\(span)")
        if let drops = summary.kernelDrops {
            lines.append("Dropped    \(drops) packets dropped by the kernel or interface")
        }
        let byProtocol = summary.flowsByProtocol.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }
        lines.append("Flows      \(summary.flows)" + (byProtocol.isEmpty ? "" : " (" + byProtocol.joined(separator: ", ") + ")"))
        if !summary.flowsByAppProto.isEmpty {
            let apps = summary.flowsByAppProto.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }
            lines.append("Protocols  " + apps.map { "\($0.key) \($0.value)" }.joined(separator: ", "))
        }
        let pickups = summary.midstreamPickups == 1 ? "1 flow was" : "\(summary.midstreamPickups) flows were"
        lines.append("Mid-stream \(pickups) already in progress when the capture started")
        if summary.encryptedFlows > 0 {
            let share = summary.payloadBytes > 0 ? Double(summary.encryptedBytes) / Double(summary.payloadBytes) * 100 : 0
            lines.append("Encrypted  \(summary.encryptedFlows) TLS flows; \(formatBytes(summary.encryptedBytes)) of encrypted records (" + String(format: "%.1f", share) + " % of payload) could not be inspected")
        }
        if summary.streamGaps > 0 {
            lines.append("Gaps       \(summary.streamGaps) holes in TCP streams (\(formatBytes(summary.streamGapBytes)) the capture never saw); messages across a hole cannot be parsed")
        }
        if summary.evictedFlows > 0 {
            lines.append("Evicted    \(summary.evictedFlows) flows were ended early because the flow table was full")
        }

        lines.append("")
        let suppressedNote = tally.suppressed > 0
            ? " (\(tally.suppressed) alerts and anomalies marked suppressed by allow rules or maintenance windows)" : ""
        lines.append("Alerts: \(tally.alertTotal)" + suppressedNote)
        let alerts = tally.alerts.sorted { $0.value.severity != $1.value.severity ? $0.value.severity < $1.value.severity : $0.key < $1.key }
        for (rule, count) in alerts {
            lines.append("  \(pad(String(count.count), 6)) sev \(count.severity)  \(pad(rule, 38)) \(count.signature)")
        }
        lines.append("Anomalies: \(tally.anomalyTotal)")
        for (name, count) in tally.anomalies.sorted(by: { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }) {
            lines.append("  \(pad(String(count), 6)) \(name)")
        }

        if !summary.topTalkers.isEmpty {
            lines.append("")
            lines.append("Top talkers by bytes:")
            for talker in summary.topTalkers {
                lines.append("  \(pad(talker.address.description, 40)) \(pad(formatBytes(talker.bytes), 10)) \(counted(talker.packets, "packet")), \(counted(talker.flows, "flow"))")
            }
        }

        if !summary.hostTelemetry.isEmpty {
            lines.append("")
            lines.append("Host telemetry:")
            for line in summary.hostTelemetry { lines.append("  " + line) }
        }

        let reachedLimits = summary.limitOverruns.filter { $0.1 > 0 }
        if !reachedLimits.isEmpty {
            lines.append("")
            lines.append("Limits reached (raise them with the matching analyze option):")
            for (name, count) in reachedLimits { lines.append("  \(pad(String(count), 6)) \(name)") }
        }

        if !summary.skipped.isEmpty || !summary.warnings.isEmpty || !summary.errors.isEmpty {
            lines.append("")
            lines.append("Skipped and warnings:")
            for (reason, count) in summary.skipped { lines.append("  \(pad(String(count), 6)) \(reason)") }
            for warning in summary.warnings { lines.append("  warning: \(warning)") }
            for error in summary.errors { lines.append("  error: \(error)") }
        }
        if let eve = summary.eveOutput {
            lines.append("")
            lines.append("EVE output: \(eve) (\(counted(summary.eveEvents, "event")))")
        }
        if let report = summary.reportOutput {
            lines.append("HTML report: \(report)")
        }
        return lines.joined(separator: "\n") + "\n"
    }

    static func pad(_ text: String, _ width: Int) -> String {
        text.count >= width ? text : text + String(repeating: " ", count: width - text.count)
    }

    public static func formatBytes(_ bytes: UInt64) -> String {
        let units = ["B", "KiB", "MiB", "GiB", "TiB"]
        var value = Double(bytes)
        var unit = 0
        while value >= 1024 && unit < units.count - 1 {
            value /= 1024
            unit += 1
        }
        return unit == 0 ? "\(bytes) B" : String(format: "%.1f", value) + " " + units[unit]
    }
}
