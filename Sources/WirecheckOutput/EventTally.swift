import WirecheckCore

/// Counts events by type, anomalies by name and alerts by rule, for the summary and the
/// `stats` event.
public final class EventTally: EventSink {
    public private(set) var byEventType: [String: UInt64] = [:]
    public private(set) var anomalies: [String: UInt64] = [:]
    public private(set) var alerts: [String: AlertCount] = [:]
    /// Alerts and anomalies an allow rule or maintenance window marked `suppressed`.
    public private(set) var suppressed: UInt64 = 0

    public struct AlertCount {
        public var count: UInt64
        public var severity: Int
        public var signature: String
    }

    public init() {}

    public func emit(_ event: Event) {
        byEventType[event.eventType, default: 0] += 1
        if event.body["suppressed"] != nil { suppressed += 1 }
        if event.eventType == "anomaly", let name = event.anomalyName {
            anomalies[name, default: 0] += 1
        } else if event.eventType == "alert", let rule = event.alertRule {
            var severity = 3
            var signature = rule
            if case .object(let alert)? = event.body["alert"] {
                if case .int(let value)? = alert["severity"] { severity = Int(value) }
                if case .string(let text)? = alert["signature"] { signature = text }
            }
            if var existing = alerts[rule] {
                existing.count += 1
                existing.severity = min(existing.severity, severity)
                alerts[rule] = existing
            } else {
                alerts[rule] = AlertCount(count: 1, severity: severity, signature: signature)
            }
        }
    }

    /// Adds another tally's counts to this one (the tallies of the workers of one run).
    public func add(_ other: EventTally) {
        for (type, count) in other.byEventType { byEventType[type, default: 0] += count }
        for (name, count) in other.anomalies { anomalies[name, default: 0] += count }
        suppressed += other.suppressed
        for (rule, count) in other.alerts {
            if var existing = alerts[rule] {
                existing.count += count.count
                existing.severity = min(existing.severity, count.severity)
                alerts[rule] = existing
            } else {
                alerts[rule] = count
            }
        }
    }

    public var anomalyTotal: UInt64 { anomalies.values.reduce(0, +) }
    public var alertTotal: UInt64 { alerts.values.reduce(0) { $0 + $1.count } }
}
