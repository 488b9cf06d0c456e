import WirecheckCore
import WirecheckOutput

extension Analyzer {
    /// Emits the run's `stats` event: packet, flow and event counters, and what was skipped.
    public func emitStatistics(summary: RunSummary) {
        router.emit(Event(eventType: "stats", timestamp: summary.lastTimestamp ?? .zero,
                          body: ["stats": .object(statisticsObject(summary: summary))]))
    }

    /// Builds the run's counters: the `stats` member of the stats event, which the store also keeps.
    public func statisticsObject(summary: RunSummary) -> JSONObject {
        let flowStatistics = flowTable.statistics
        return Analyzer.statisticsObject(
            summary: summary, flowsCreated: flowStatistics.flowsCreated, flowsEvicted: flowStatistics.flowsEvicted,
            midstreamPickups: flowStatistics.midstreamPickups, flowsByProtocol: flowStatistics.flowsByProtocol,
            backwards: timestampsBackwards, undecoded: undecodedPackets, tally: tally, limitCounts: limitOverruns(),
            anomaliesHeld: anomalyLimiter.heldByName)
    }

    /// Builds the `stats` member from counts that a `ParallelAnalyzer` adds over its workers.
    static func statisticsObject(summary: RunSummary, flowsCreated: UInt64, flowsEvicted: UInt64,
                                 midstreamPickups: UInt64, flowsByProtocol: [String: UInt64], backwards: UInt64,
                                 undecoded: UInt64, tally: EventTally, limitCounts: [(String, UInt64)],
                                 anomaliesHeld: [String: UInt64]) -> JSONObject {
        var capture: JSONObject = ["packets": .int(summary.packets), "bytes": .int(summary.bytes)]
        if let drops = summary.kernelDrops {
            capture.set("kernel_drops", .int(drops))
            capture.set("kernel_packets", .int(summary.packets + drops))
        }
        capture.set("timestamps_backwards", .int(backwards))
        capture.set("undecoded", .int(undecoded))
        capture.set("stream_gaps", .int(summary.streamGaps))
        capture.set("stream_gap_bytes", .int(summary.streamGapBytes))
        var flows: JSONObject = [
            "created": .int(flowsCreated),
            "evicted": .int(flowsEvicted),
            "midstream_pickups": .int(midstreamPickups),
        ]
        for (name, count) in flowsByProtocol.sorted(by: { $0.key < $1.key }) {
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
        // Each named limit and how often it was reached; 0 means the run stayed within it.
        var limits = JSONObject()
        for (name, count) in limitCounts {
            limits.set(name, .int(count))
        }
        var heldAnomalies = JSONObject()
        for (name, count) in anomaliesHeld.sorted(by: { $0.key < $1.key }) {
            heldAnomalies.set(name, .int(count))
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
            "anomalies_held": .object(heldAnomalies),
            "limits": .object(limits),
            "skipped": .object(skipped),
            "warnings": .array(summary.warnings.map { .string($0) }),
        ]
        return stats
    }
}
