import WirecheckCore
import WirecheckOutput

extension Analyzer {
    /// Emits the run's `stats` event: packet, flow and event counters, and what was skipped.
    public func emitStatistics(summary: RunSummary) {
        router.emit(Event(eventType: "stats", timestamp: summary.lastTimestamp ?? .zero,
                          body: ["stats": .object(statisticsObject(summary: summary))]))
    }

    /// The run's counters as the `stats` member of the stats event, also kept by the store.
    public func statisticsObject(summary: RunSummary) -> JSONObject {
        let flowStatistics = flowTable.statistics
        var capture: JSONObject = ["packets": .int(summary.packets), "bytes": .int(summary.bytes)]
        if let drops = summary.kernelDrops {
            capture.set("kernel_drops", .int(drops))
            capture.set("kernel_packets", .int(summary.packets + drops))
        }
        capture.set("timestamps_backwards", .int(timestampsBackwards))
        capture.set("undecoded", .int(undecodedPackets))
        var flows: JSONObject = [
            "created": .int(flowStatistics.flowsCreated),
            "evicted": .int(flowStatistics.flowsEvicted),
            "midstream_pickups": .int(flowStatistics.midstreamPickups),
        ]
        for (name, count) in flowStatistics.flowsByProtocol.sorted(by: { $0.key < $1.key }) {
            flows.set(name.lowercased(), .int(count))
        }
        let encrypted: JSONObject = [
            "tls_flows": .int(summary.encryptedFlows),
            "encrypted_bytes": .int(summary.encryptedBytes),
            "payload_bytes": .int(summary.payloadBytes),
        ]
        var appProtocols = JSONObject()
        for (name, count) in summary.flowsByAppProto.sorted(by: { $0.key < $1.key }) {
            appProtocols.set(name, .int(count))
        }
        var anomalies = JSONObject()
        for (name, count) in tally.anomalies.sorted(by: { $0.key < $1.key }) {
            anomalies.set(name, .int(count))
        }
        var alerts = JSONObject()
        for (name, count) in tally.alerts.sorted(by: { $0.key < $1.key }) {
            alerts.set(name, .int(count.count))
        }
        var skipped = JSONObject()
        for (reason, count) in summary.skipped {
            skipped.set(reason, .int(count))
        }
        let share = summary.payloadBytes > 0 ? Double(summary.encryptedBytes) / Double(summary.payloadBytes) : 0
        let stats: JSONObject = [
            "encrypted_share": .double(share),
            "capture": .object(capture),
            "flows": .object(flows),
            "app_proto": .object(appProtocols),
            "encrypted": .object(encrypted),
            "anomalies": .object(anomalies),
            "alerts": .object(alerts),
            "skipped": .object(skipped),
            "warnings": .array(summary.warnings.map { .string($0) }),
        ]
        return stats
    }
}
