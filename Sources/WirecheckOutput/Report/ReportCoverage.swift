import WirecheckCore

/// Figures for the report's coverage panel: the traffic the sensor could not see or read.
struct ReportCoverage {
    /// Hosts listed by name in the panel before the rest are only counted.
    static let maximumListedHosts = 20

    let flows: FlowCoverageRecord
    /// Stats objects of the runs in the report.
    let stats: [JSONObject]
    let assetAddresses: [String]
    /// Addresses of hosts that send host telemetry; nil when no telemetry source was given.
    let hostsWithTelemetry: Set<String>?

    func share(_ part: Int, of total: Int, unit: String) -> String {
        guard total > 0 else { return "no \(unit) recorded" }
        return "\(part) of \(total) \(unit) (\(percent(Double(part) / Double(total))))"
    }

    /// The encrypted share: a stats member `encrypted_share` (a fraction from 0 to 1) when a run
    /// reports one, otherwise the bytes of flows whose protocol the sensor cannot read.
    // NOTE: no pipeline stage writes `encrypted_share` yet; the name is this report's proposal.
    var encryptedShareText: String {
        if let reported = stats.lazy.compactMap({ JSONText.double($0["encrypted_share"]) }).last {
            return "\(percent(reported)) of traffic (from capture stats)"
        }
        guard flows.totalBytes > 0 else { return "no flow bytes recorded" }
        let fraction = Double(flows.encryptedBytes) / Double(flows.totalBytes)
        return "\(percent(fraction)) of \(flows.totalBytes) flow bytes, in flows identified as "
            + FindingStore.encryptedProtocols.joined(separator: ", ")
    }

    /// Kernel drops from Suricata-style stats (`capture.kernel_drops` of `capture.kernel_packets`),
    /// summed over the runs in the report.
    var captureLossText: String {
        var drops: Int64 = 0, packets: Int64 = 0, reported = false
        for object in stats {
            guard let capture = JSONText.object(object["capture"]) else { continue }
            if let value = JSONText.int(capture["kernel_drops"]) {
                drops += value
                reported = true
            }
            packets += JSONText.int(capture["kernel_packets"]) ?? 0
        }
        guard reported else { return "not reported (no capture stats with kernel_drops)" }
        guard packets > 0 else { return "\(drops) packets dropped by the kernel" }
        return "\(drops) of \(packets) packets dropped by the kernel (\(percent(Double(drops) / Double(packets))))"
    }

    var hostTelemetryText: String {
        guard let hostsWithTelemetry else { return "not checked: no host telemetry source was given" }
        let missing = assetAddresses.filter { !hostsWithTelemetry.contains($0) }
        guard !missing.isEmpty else { return "none: every asset sends host telemetry" }
        var text = "\(missing.count) of \(assetAddresses.count) hosts: "
        text += missing.prefix(ReportCoverage.maximumListedHosts).joined(separator: ", ")
        if missing.count > ReportCoverage.maximumListedHosts {
            text += " and \(missing.count - ReportCoverage.maximumListedHosts) more"
        }
        return text
    }

    private func percent(_ fraction: Double) -> String {
        guard fraction.isFinite else { return "n/a" }
        let tenths = Int((fraction * 1000).rounded())
        return "\(tenths / 10).\(tenths % 10)%"
    }
}
