import Foundation

/// Reads Sysmon events from the JSON that Windows log shippers write: Winlogbeat 7+ and Elastic
/// Agent (ECS), Winlogbeat 6, NXLog and Logstash (flat Sysmon field names), and Azure Log
/// Analytics exports. The flavour is detected per record from its keys.
enum SysmonJSON {
    static func flavour(of object: [String: Any]) -> TelemetryFormat {
        if object["winlog"] is [String: Any] { return .ecsJSON }
        if object["event_data"] is [String: Any] || (object["event_id"] != nil && object["source_name"] != nil) {
            return .winlogbeat6JSON
        }
        if object["EventData"] is String, object["TimeGenerated"] != nil || object["TenantId"] != nil {
            return .logAnalyticsJSON
        }
        if object["EventID"] != nil { return .flatJSON }
        return .unknown
    }

    /// Converts one JSON object into a Sysmon event, or returns a reason it cannot be used.
    static func event(from object: [String: Any], flavour: TelemetryFormat, location: String) -> Result<SysmonEvent, TelemetryReadError> {
        switch flavour {
        case .ecsJSON: return ecsEvent(object, location: location)
        case .winlogbeat6JSON: return winlogbeat6Event(object, location: location)
        case .logAnalyticsJSON: return logAnalyticsEvent(object, location: location)
        case .flatJSON: return flatEvent(object, location: location)
        default:
            return .failure(.init(reason: "JSON record without an event id field (winlog.event_id, event_id or EventID)"))
        }
    }

    /// Returns a JSON scalar as text: strings as they are, numbers and booleans written out.
    static func text(_ value: Any?) -> String? {
        switch value {
        case let string as String: return string
        case let number as NSNumber:
            // JSONSerialization returns true and false as NSNumber with the C type `char`.
            if String(cString: number.objCType) == "c" { return number.boolValue ? "true" : "false" }
            return number.stringValue
        default: return nil
        }
    }

    static func eventID(_ value: Any?) -> Int? {
        text(value).flatMap { Int($0.trimmingWhitespace()) }
    }

    /// Returns the value at a dotted path through nested objects, accepting flattened keys too.
    static func path(_ object: [String: Any], _ dotted: String) -> Any? {
        if let direct = object[dotted] { return direct }
        var current: Any? = object
        for component in dotted.split(separator: ".") {
            guard let dictionary = current as? [String: Any] else { return nil }
            current = dictionary[String(component)]
        }
        return current
    }

    static func stringFields(_ value: Any?) -> [String: String] {
        guard let dictionary = value as? [String: Any] else { return [:] }
        var fields: [String: String] = [:]
        for (key, item) in dictionary {
            if let string = text(item) { fields[key] = string }
        }
        return fields
    }

    private static func ecsEvent(_ object: [String: Any], location: String) -> Result<SysmonEvent, TelemetryReadError> {
        guard let id = eventID(path(object, "winlog.event_id")) else {
            return .failure(.init(reason: "ECS record with a missing or invalid winlog.event_id"))
        }

        var fields = stringFields(path(object, "winlog.event_data"))
        // ECS moves most Sysmon fields out of event_data; map them back to Sysmon's names.
        let mapping: [(String, String)] = [
            ("process.pid", "ProcessId"), ("process.entity_id", "ProcessGuid"),
            ("process.executable", "Image"), ("process.command_line", "CommandLine"),
            ("process.parent.pid", "ParentProcessId"), ("process.parent.entity_id", "ParentProcessGuid"),
            ("process.parent.executable", "ParentImage"), ("process.parent.command_line", "ParentCommandLine"),
            ("source.ip", "SourceIp"), ("source.port", "SourcePort"),
            ("destination.ip", "DestinationIp"), ("destination.port", "DestinationPort"),
            ("network.transport", "Protocol"), ("dns.question.name", "QueryName"),
        ]
        for (ecsName, sysmonName) in mapping where fields[sysmonName] == nil {
            if let value = text(path(object, ecsName)) { fields[sysmonName] = value }
        }

        if fields["User"] == nil, let name = text(path(object, "user.name")) {
            fields["User"] = text(path(object, "user.domain")).map { "\($0)\\\(name)" } ?? name
        }
        if fields["Initiated"] == nil, let direction = text(path(object, "network.direction")) {
            // Winlogbeat's sysmon module writes egress/ingress (older: outbound/inbound) from Initiated.
            switch direction {
            case "egress", "outbound": fields["Initiated"] = "true"
            case "ingress", "inbound": fields["Initiated"] = "false"
            default: break
            }
        }
        if fields["SourceIsIpv6"] == nil, text(path(object, "network.type")) == "ipv6" {
            // ECS drops Sysmon's per-side IPv6 flags; network.type keeps the address family.
            fields["SourceIsIpv6"] = "true"
            fields["DestinationIsIpv6"] = "true"
        }
        if fields["QueryResults"] == nil, let resolved = path(object, "dns.resolved_ip") as? [Any] {
            fields["QueryResults"] = resolved.compactMap { text($0) }.joined(separator: ";")
        }

        let provider = text(path(object, "winlog.provider_name")) ?? text(path(object, "event.provider"))
        let computer = text(path(object, "winlog.computer_name")) ?? text(path(object, "host.name"))
        return .success(SysmonEvent(eventID: id, provider: provider, computer: computer,
                                    systemTime: text(object["@timestamp"]), fields: fields, location: location))
    }

    private static func winlogbeat6Event(_ object: [String: Any], location: String) -> Result<SysmonEvent, TelemetryReadError> {
        guard let id = eventID(object["event_id"]) else {
            return .failure(.init(reason: "Winlogbeat 6 record with a missing or invalid event_id"))
        }
        let provider = text(object["source_name"]) ?? text(object["log_name"])
        return .success(SysmonEvent(eventID: id, provider: provider, computer: text(object["computer_name"]),
                                    systemTime: text(object["@timestamp"]), fields: stringFields(object["event_data"]),
                                    location: location))
    }

    private static func flatEvent(_ object: [String: Any], location: String) -> Result<SysmonEvent, TelemetryReadError> {
        guard let id = eventID(object["EventID"]) else {
            return .failure(.init(reason: "record with an invalid EventID '\(text(object["EventID"]) ?? "?")'"))
        }
        let provider = text(object["SourceName"]) ?? text(object["Channel"]) ?? text(object["ProviderName"])
        let computer = text(object["Hostname"]) ?? text(object["Computer"]) ?? text(object["computer_name"])
        return .success(SysmonEvent(eventID: id, provider: provider, computer: computer,
                                    systemTime: text(object["@timestamp"]), fields: stringFields(object),
                                    location: location))
    }

    private static func logAnalyticsEvent(_ object: [String: Any], location: String) -> Result<SysmonEvent, TelemetryReadError> {
        guard let id = eventID(object["EventID"]) else {
            return .failure(.init(reason: "Log Analytics record with a missing or invalid EventID"))
        }
        let provider = text(object["Provider"]) ?? text(object["Channel"])
        let base = SysmonEvent(eventID: id, provider: provider, computer: text(object["Computer"]),
                               systemTime: text(object["TimeGenerated"]), fields: [:], location: location)
        if let provider, !provider.lowercased().contains("sysmon") {
            // Security-channel exports carry EventData as XML; they are not read (see `HostTelemetry`).
            return .success(base)
        }
        guard let embedded = object["EventData"] as? String,
              let data = embedded.data(using: .utf8),
              let parsed = try? JSONSerialization.jsonObject(with: data) as? [String: Any] else {
            return .failure(.init(reason: "Log Analytics Sysmon record whose EventData is not a JSON object"))
        }
        var event = base
        event.fields = stringFields(parsed)
        return .success(event)
    }
}
