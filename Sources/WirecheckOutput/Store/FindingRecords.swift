import WirecheckCore

/// One packet shown as evidence: the capture source name and the 1-based packet number.
public struct EvidenceReference: Hashable, Sendable {
    public var file: String
    public var packet: Int64

    static func parseList(_ text: String?) -> [EvidenceReference] {
        guard let text else { return [] }
        var parser = MiniJSONParser(text)
        guard case .array(let items)? = parser.parseValue() else { return [] }
        return items.compactMap { item in
            guard let object = JSONText.object(item), let file = JSONText.string(object["file"]),
                  let packet = JSONText.int(object["packet"]) else { return nil }
            return EvidenceReference(file: file, packet: packet)
        }
    }

    static func jsonValue(_ list: [EvidenceReference]) -> JSONValue {
        .array(list.map { .object(["file": .string($0.file), "packet": .int($0.packet)]) })
    }
}

/// A stored row that `render(_:format:)` can print as a table line or a JSON line.
public protocol FindingRecord: Sendable {
    /// Column titles of the text table.
    static var tableHeader: [String] { get }
    /// Cells of the text table, in `tableHeader` order.
    var tableCells: [String] { get }
    /// Every stored field, as one JSON object.
    var jsonObject: JSONObject { get }
}

/// A stored alert.
public struct AlertRecord: FindingRecord, Hashable {
    public var run: Int
    public var time: Timestamp
    public var rule: String?
    public var signatureID: Int
    public var signature: String
    public var category: String?
    /// 1 (high) to 3 (low).
    public var severity: Int
    public var techniqueID: String?
    public var techniqueName: String?
    public var flowID: UInt64?
    public var srcIP: String?
    public var srcPort: Int?
    public var destIP: String?
    public var destPort: Int?
    public var appProto: String?
    public var message: String?
    public var evidence: [EvidenceReference]
    public var processExecutable: String?
    public var processCommandLine: String?
    public var processPID: Int64?
    public var processUser: String?
    public var hostName: String?
    public var suppressed: Bool

    public static let tableHeader = ["time", "sev", "rule", "src", "dest", "proto", "technique", "message"]

    public var tableCells: [String] {
        [time.iso8601, String(severity), rule ?? String(signatureID), endpoint(srcIP, srcPort), endpoint(destIP, destPort),
         appProto ?? "", techniqueID ?? "", message ?? signature]
    }

    public var jsonObject: JSONObject {
        var object: JSONObject = ["timestamp": .string(time.iso8601), "run": .int(run)]
        object.set("rule", optional(rule))
        object.set("signature_id", .int(signatureID))
        object.set("signature", .string(signature))
        object.set("category", optional(category))
        object.set("severity", .int(severity))
        object.set("mitre_technique_id", optional(techniqueID))
        object.set("mitre_technique_name", optional(techniqueName))
        object.set("flow_id", flowID.map { .int(Int64(bitPattern: $0)) } ?? .null)
        object.set("src_ip", optional(srcIP))
        object.set("src_port", srcPort.map { .int($0) } ?? .null)
        object.set("dest_ip", optional(destIP))
        object.set("dest_port", destPort.map { .int($0) } ?? .null)
        object.set("app_proto", optional(appProto))
        object.set("message", optional(message))
        object.set("evidence", EvidenceReference.jsonValue(evidence))
        if processExecutable != nil || processCommandLine != nil || processPID != nil || processUser != nil {
            object.set("process", .object([
                "pid": processPID.map { .int($0) } ?? .null,
                "executable": optional(processExecutable),
                "command_line": optional(processCommandLine),
                "user": optional(processUser),
            ]))
        }
        if let hostName { object.set("host", .object(["name": .string(hostName)])) }
        object.set("suppressed", .bool(suppressed))
        return object
    }
}

/// A stored flow.
public struct FlowRecord: FindingRecord, Hashable {
    public var run: Int
    public var flowID: UInt64
    public var communityID: String?
    public var srcIP: String
    public var srcPort: Int?
    public var destIP: String
    public var destPort: Int?
    public var proto: String
    public var appProto: String?
    public var start: Timestamp
    public var end: Timestamp
    public var packetsToServer: Int64
    public var packetsToClient: Int64
    public var bytesToServer: Int64
    public var bytesToClient: Int64
    public var state: String?
    public var reason: String?
    public var connState: String?
    public var history: String?
    public var midstream: Bool
    public var alerted: Bool

    public static let tableHeader = ["start", "src", "dest", "proto", "app", "pkts", "bytes", "conn", "history", "alerted"]

    public var tableCells: [String] {
        [start.iso8601, endpoint(srcIP, srcPort), endpoint(destIP, destPort), proto, appProto ?? "",
         "\(packetsToServer)/\(packetsToClient)", "\(bytesToServer)/\(bytesToClient)", connState ?? "",
         history ?? "", alerted ? "yes" : "no"]
    }

    public var jsonObject: JSONObject {
        [
            "run": .int(run), "flow_id": .int(Int64(bitPattern: flowID)), "community_id": optional(communityID),
            "src_ip": .string(srcIP), "src_port": srcPort.map { .int($0) } ?? .null,
            "dest_ip": .string(destIP), "dest_port": destPort.map { .int($0) } ?? .null,
            "proto": .string(proto), "app_proto": optional(appProto),
            "start": .string(start.iso8601), "end": .string(end.iso8601),
            "pkts_toserver": .int(packetsToServer), "pkts_toclient": .int(packetsToClient),
            "bytes_toserver": .int(bytesToServer), "bytes_toclient": .int(bytesToClient),
            "state": optional(state), "reason": optional(reason), "conn_state": optional(connState),
            "history": optional(history), "midstream": .bool(midstream), "alerted": .bool(alerted),
        ]
    }
}

/// A stored anomaly.
public struct AnomalyRecord: FindingRecord, Hashable {
    public var run: Int
    public var time: Timestamp
    public var name: String
    public var type: String?
    public var layer: String?
    public var flowID: UInt64?
    public var srcIP: String?
    public var srcPort: Int?
    public var destIP: String?
    public var destPort: Int?
    public var appProto: String?
    public var message: String?
    public var evidence: [EvidenceReference]

    public static let tableHeader = ["time", "anomaly", "src", "dest", "proto", "message"]

    public var tableCells: [String] {
        [time.iso8601, name, endpoint(srcIP, srcPort), endpoint(destIP, destPort), appProto ?? "", message ?? ""]
    }

    public var jsonObject: JSONObject {
        [
            "timestamp": .string(time.iso8601), "run": .int(run), "event": .string(name), "type": optional(type),
            "layer": optional(layer), "flow_id": flowID.map { .int(Int64(bitPattern: $0)) } ?? .null,
            "src_ip": optional(srcIP), "src_port": srcPort.map { .int($0) } ?? .null,
            "dest_ip": optional(destIP), "dest_port": destPort.map { .int($0) } ?? .null,
            "app_proto": optional(appProto), "message": optional(message),
            "evidence": EvidenceReference.jsonValue(evidence),
        ]
    }
}

/// Output format of `render(_:format:)`.
public enum FindingOutputFormat: String, Sendable, CaseIterable {
    /// Aligned columns for a terminal, one row per line, with a header.
    case table
    /// One JSON object per line with every stored field.
    case jsonLines = "json"
}

/// Text table cells longer than this are cut with "...", so one long message does not push
/// every other column off the screen. JSON lines keep the full text.
let maximumTableCellLength = 80

/// Prints rows as a text table or as JSON lines. Control characters from the wire are shown as
/// `?` in the table, so a crafted value cannot move the terminal's cursor or change its colours.
public func render<Record: FindingRecord>(_ rows: [Record], format: FindingOutputFormat) -> String {
    switch format {
    case .jsonLines:
        var output = ""
        for row in rows {
            output += JSONWriter.serialize(row.jsonObject)
            output += "\n"
        }
        return output
    case .table:
        let header = Record.tableHeader
        let body = rows.map { $0.tableCells.map(tableCell) }
        var widths = header.map(\.count)
        for cells in body {
            for (column, cell) in cells.enumerated() where column < widths.count {
                widths[column] = max(widths[column], cell.count)
            }
        }
        func line(_ cells: [String]) -> String {
            var text = ""
            for (column, cell) in cells.enumerated() {
                let isLast = column == cells.count - 1
                text += isLast ? cell : cell + String(repeating: " ", count: widths[column] - cell.count + 2)
            }
            return text + "\n"
        }
        return body.reduce(line(header)) { $0 + line($1) }
    }
}

private func tableCell(_ text: String) -> String {
    var cleaned = String(text.unicodeScalars.map { scalar -> Character in
        scalar.value < 0x20 || (0x7F...0x9F).contains(scalar.value) ? "?" : Character(scalar)
    })
    if cleaned.count > maximumTableCellLength {
        cleaned = String(cleaned.prefix(maximumTableCellLength - 3)) + "..."
    }
    return cleaned
}

private func endpoint(_ ip: String?, _ port: Int?) -> String {
    guard let ip else { return "" }
    guard let port else { return ip }
    return ip.contains(":") ? "[\(ip)]:\(port)" : "\(ip):\(port)"
}

private func optional(_ text: String?) -> JSONValue {
    text.map { .string($0) } ?? .null
}
