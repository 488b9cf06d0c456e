import WirecheckCore

/// An IPv4 or IPv6 network in CIDR form; a bare address is a /32 or /128.
public struct IPNetwork: Equatable, Sendable, CustomStringConvertible {
    public var address: IPAddress
    public var prefixLength: Int

    public init?(_ text: String) {
        let parts = text.split(separator: "/", omittingEmptySubsequences: false)
        guard parts.count <= 2, let address = IPAddress(String(parts[0])) else { return nil }
        let maximum = address.isV4 ? 32 : 128
        if parts.count == 2 {
            guard let length = Int(parts[1]), (0...maximum).contains(length) else { return nil }
            prefixLength = length
        } else {
            prefixLength = maximum
        }
        self.address = address
    }

    public func contains(_ candidate: IPAddress) -> Bool {
        switch (address, candidate) {
        case (.v4(let network), .v4(let value)):
            guard prefixLength > 0 else { return true }
            let mask = UInt32.max << UInt32(32 - prefixLength)
            return network & mask == value & mask
        case (.v6(let networkHigh, let networkLow), .v6(let high, let low)):
            let highBits = min(prefixLength, 64), lowBits = max(prefixLength - 64, 0)
            let highMask = highBits == 0 ? 0 : UInt64.max << UInt64(64 - highBits)
            let lowMask = lowBits == 0 ? 0 : UInt64.max << UInt64(64 - lowBits)
            return networkHigh & highMask == high & highMask && networkLow & lowMask == low & lowMask
        default:
            return false
        }
    }

    public var description: String {
        prefixLength == (address.isV4 ? 32 : 128) ? address.description : "\(address)/\(prefixLength)"
    }
}

/// An operator's decision that matching alerts and anomalies are expected. Every field that is
/// set must match; a rule needs at least one of them, so no rule can silence everything.
public struct AllowRule: Equatable, Sendable {
    public var id: String
    public var reason: String
    /// The rule stops applying at this time.
    public var expires: Timestamp?
    /// Either endpoint of the event lies in this network.
    public var asset: IPNetwork?
    public var client: IPNetwork?
    public var server: IPNetwork?
    public var port: UInt16?
    /// `app_proto` of the flow or the operation's protocol.
    public var protocolName: String?
    public var operation: String?
    public var operationClass: String?
    /// Alert rule or anomaly name; a trailing `*` matches any suffix (`baseline.*`).
    public var event: String?

    public init(id: String, reason: String, expires: Timestamp? = nil, asset: IPNetwork? = nil,
                client: IPNetwork? = nil, server: IPNetwork? = nil, port: UInt16? = nil, protocolName: String? = nil,
                operation: String? = nil, operationClass: String? = nil, event: String? = nil) {
        self.id = id
        self.reason = reason
        self.expires = expires
        self.asset = asset
        self.client = client
        self.server = server
        self.port = port
        self.protocolName = protocolName
        self.operation = operation
        self.operationClass = operationClass
        self.event = event
    }

    var hasMatchField: Bool {
        asset != nil || client != nil || server != nil || port != nil || protocolName != nil
            || operation != nil || operationClass != nil || event != nil
    }

    func matches(_ facts: EventFacts) -> Bool {
        if let expires, facts.time >= expires { return false }
        if let asset, !facts.addresses.contains(where: { asset.contains($0) }) { return false }
        if let client { guard let source = facts.client, client.contains(source) else { return false } }
        if let server { guard let destination = facts.server, server.contains(destination) else { return false } }
        if let port, facts.serverPort != port { return false }
        if let protocolName, facts.protocolName != protocolName { return false }
        if let operation, facts.operationName != operation { return false }
        if let operationClass, facts.operationClass != operationClass { return false }
        if let event {
            guard let name = facts.eventName else { return false }
            if event.hasSuffix("*") {
                if !name.hasPrefix(event.dropLast()) { return false }
            } else if name != event {
                return false
            }
        }
        return true
    }
}

/// A time when alerts for some assets (or all) are expected: an absolute range, or a weekly
/// window on some days of the week. Times are UTC.
public struct MaintenanceWindow: Equatable, Sendable {
    public enum Schedule: Equatable, Sendable {
        /// From `start` (inclusive) to `end` (exclusive).
        case absolute(start: Timestamp, end: Timestamp)
        /// On the given days (0 = Monday ... 6 = Sunday), from `start` to `end` seconds after
        /// midnight. When `end` is not after `start` the window runs past midnight into the next day.
        case weekly(days: Set<Int>, start: Int, end: Int)
    }

    public var id: String
    public var reason: String
    /// Assets the window covers; empty means every asset.
    public var assets: [IPNetwork]
    public var schedule: Schedule

    public init(id: String, reason: String, assets: [IPNetwork] = [], schedule: Schedule) {
        self.id = id
        self.reason = reason
        self.assets = assets
        self.schedule = schedule
    }

    func matches(_ facts: EventFacts) -> Bool {
        if !assets.isEmpty && !facts.addresses.contains(where: { address in assets.contains { $0.contains(address) } }) {
            return false
        }
        switch schedule {
        case .absolute(let start, let end):
            return facts.time >= start && facts.time < end
        case .weekly(let days, let start, let end):
            let day = UTCTime.weekday(facts.time), second = UTCTime.secondOfDay(facts.time)
            if start < end { return days.contains(day) && second >= start && second < end }
            // Past midnight: the evening part belongs to the listed day, the morning part to the day after.
            let previousDay = (day + 6) % 7
            return (days.contains(day) && second >= start) || (days.contains(previousDay) && second < end)
        }
    }
}

/// The fields of an event that suppression rules match on, read once.
struct EventFacts {
    var time: Timestamp
    var eventName: String?
    var client: IPAddress?
    var server: IPAddress?
    var serverPort: UInt16?
    var protocolName: String?
    var operationName: String?
    var operationClass: String?

    var addresses: [IPAddress] { [client, server].compactMap { $0 } }

    init(_ event: Event) {
        time = event.timestamp
        eventName = event.alertRule ?? event.anomalyName
        if let flow = event.flow {
            client = flow.srcIP
            server = flow.destIP
            serverPort = flow.destPort
            protocolName = flow.appProto
        } else if let endpoints = event.endpoints {
            client = endpoints.srcIP
            server = endpoints.destIP
            serverPort = endpoints.destPort
        }
        // Operations sit at the top of transaction events and inside `alert` for baseline alerts.
        var operation: JSONObject?
        if case .object(let object)? = event.body["operation"] { operation = object }
        if case .object(let alert)? = event.body["alert"], case .object(let object)? = alert["operation"] {
            operation = object
        }
        if let operation {
            if case .string(let name)? = operation["name"] { operationName = name }
            if case .string(let name)? = operation["class"] { operationClass = name }
            if case .string(let name)? = operation["protocol"] { protocolName = protocolName ?? name }
        }
    }
}

/// Marks alert and anomaly events that an allow rule or a maintenance window covers. Marked
/// events keep their `event_type` and are still written, so a SIEM filter on `alert` still matches
/// them, and they gain a top-level member
/// `"suppressed": {"by": "allow" | "maintenance_window", "rule": ID, "reason": TEXT}`.
public final class Suppressor {
    public let allowRules: [AllowRule]
    public let maintenanceWindows: [MaintenanceWindow]

    public init(allowRules: [AllowRule], maintenanceWindows: [MaintenanceWindow]) {
        self.allowRules = allowRules
        self.maintenanceWindows = maintenanceWindows
    }

    public convenience init(baseline: Baseline) {
        self.init(allowRules: baseline.allowRules, maintenanceWindows: baseline.maintenanceWindows)
    }

    /// Returns the event unchanged, or marked `suppressed` when a rule or window covers it.
    /// Events other than alerts and anomalies pass through unchanged.
    public func filter(_ event: Event) -> Event {
        guard event.eventType == "alert" || event.eventType == "anomaly" else { return event }
        guard !allowRules.isEmpty || !maintenanceWindows.isEmpty else { return event }
        let facts = EventFacts(event)
        var marked = event
        if let rule = allowRules.first(where: { $0.matches(facts) }) {
            marked.body.set("suppressed", .object(["by": "allow", "rule": .string(rule.id), "reason": .string(rule.reason)]))
            return marked
        }
        if let window = maintenanceWindows.first(where: { $0.matches(facts) }) {
            marked.body.set("suppressed", .object([
                "by": "maintenance_window", "rule": .string(window.id), "reason": .string(window.reason),
            ]))
            return marked
        }
        return event
    }
}

/// An event sink that passes every event through a `Suppressor` before the next sink.
public final class SuppressingSink: EventSink {
    public let suppressor: Suppressor
    public let next: EventSink

    public init(suppressor: Suppressor, next: EventSink) {
        self.suppressor = suppressor
        self.next = next
    }

    public func emit(_ event: Event) { next.emit(suppressor.filter(event)) }
}

extension Event {
    /// The `suppressed.rule` of an event a `Suppressor` marked, or nil.
    public var suppressedBy: String? {
        guard case .object(let suppressed)? = body["suppressed"], case .string(let rule)? = suppressed["rule"] else {
            return nil
        }
        return rule
    }
}
