import WirecheckCore

/// The report's tables: alerts, operations per protocol, assets, baseline review and coverage.
enum ReportSections {
    /// Operation classes in the order the operations table shows them; other classes follow
    /// in alphabetical order.
    static let operationClassOrder = ["read", "write", "control", "program", "restart", "diagnostic", "discovery"]

    // MARK: Alerts

    static func writeAlerts(_ alerts: [AlertRecord], to html: inout HTMLText) {
        guard !alerts.isEmpty else {
            html.raw("<p class=\"empty\">No alerts were raised.</p>\n")
            return
        }
        html.raw("<div class=\"filters\"><input type=\"search\" data-filter=\"alerts-table\" placeholder=\"Filter alerts\" hidden> ")
        html.raw("<select data-severity-filter=\"alerts-table\" hidden><option value=\"3\">all severities</option>")
        html.raw("<option value=\"2\">medium and high</option><option value=\"1\">high only</option></select></div>\n")
        html.raw("<table id=\"alerts-table\" class=\"sortable\"><thead><tr>")
        html.raw("<th data-type=\"number\">Time</th><th data-type=\"number\">Severity</th><th>Rule</th><th>What happened</th>")
        html.raw("<th>Source</th><th>Destination</th><th>Protocol</th><th>Technique</th><th>Evidence</th><th>Process</th>")
        html.raw("</tr></thead><tbody>\n")
        for alert in alerts {
            let severityName = ReportPalette.severityNames[alert.severity] ?? String(alert.severity)
            html.raw("<tr data-severity=\"\(alert.severity)\"\(alert.suppressed ? " class=\"suppressed\"" : "")>")
            html.raw("<td class=\"time\" data-sort=\"\(alert.time.nanoseconds / 1000)\">")
            html.text(reportTime(alert.time.nanoseconds))
            html.raw("</td><td data-sort=\"\(alert.severity)\"><span class=\"sev sev\(min(max(alert.severity, 1), 3))\">")
            html.text("\(alert.severity) \(severityName)")
            html.raw("</span>\(alert.suppressed ? " <em>suppressed</em>" : "")</td><td><code class=\"rule\">")
            html.text(alert.rule ?? String(alert.signatureID))
            html.raw("</code><br>")
            html.text(alert.signature)
            html.raw("</td><td>")
            html.text(alert.message ?? alert.signature)
            html.raw("</td>")
            writeAddressCell(alert.srcIP, port: alert.srcPort, to: &html)
            writeAddressCell(alert.destIP, port: alert.destPort, to: &html)
            html.raw("<td>")
            html.text(alert.appProto ?? "")
            html.raw("</td><td>")
            if let techniqueID = alert.techniqueID {
                html.raw("<code>")
                html.text(techniqueID)
                html.raw("</code> ")
                html.text(alert.techniqueName ?? "")
            }
            html.raw("</td><td>")
            html.text(evidenceText(alert.evidence))
            html.raw("</td><td>")
            writeProcess(alert, to: &html)
            html.raw("</td></tr>\n")
        }
        html.raw("</tbody></table>\n")
    }

    private static func writeProcess(_ alert: AlertRecord, to html: inout HTMLText) {
        if let hostName = alert.hostName {
            html.raw("<span class=\"label\">host</span> ")
            html.text(hostName)
            html.raw("<br>")
        }
        if let executable = alert.processExecutable {
            html.text(executable)
            if let pid = alert.processPID { html.text(" (pid \(pid))") }
            html.raw("<br>")
        }
        if let user = alert.processUser {
            html.raw("<span class=\"label\">user</span> ")
            html.text(user)
            html.raw("<br>")
        }
        if let commandLine = alert.processCommandLine {
            html.raw("<code>")
            html.text(commandLine)
            html.raw("</code>")
        }
    }

    /// Evidence as `capture.pcap #12, #15; other.pcap #3`, in capture order.
    static func evidenceText(_ evidence: [EvidenceReference]) -> String {
        var files: [String] = []
        var packets: [String: [Int64]] = [:]
        for reference in evidence {
            if packets[reference.file] == nil { files.append(reference.file) }
            packets[reference.file, default: []].append(reference.packet)
        }
        return files.map { file in
            file + " " + (packets[file] ?? []).map { "#\($0)" }.joined(separator: ", ")
        }.joined(separator: "; ")
    }

    /// Writes an address cell whose sort key orders addresses numerically: the address bytes in
    /// hex after a `4` or `6`, so 10.0.0.5 sorts before 10.0.0.48 and IPv4 before IPv6.
    static func writeAddressCell(_ ip: String?, port: Int?, to html: inout HTMLText) {
        var sortKey = "x" + (ip ?? "")
        if let ip, let address = IPAddress(ip) {
            sortKey = (address.isV4 ? "4" : "6") + address.bytes.map { byte in
                let digits = String(byte, radix: 16)
                return byte < 16 ? "0" + digits : digits
            }.joined()
            if let port { sortKey += "-" + String(100_000 + port) }
        }
        html.raw("<td class=\"address\" data-sort=\"")
        html.text(sortKey)
        html.raw("\">")
        html.text(endpointText(ip, port))
        html.raw("</td>")
    }

    static func endpointText(_ ip: String?, _ port: Int?) -> String {
        guard let ip else { return "" }
        guard let port else { return ip }
        return ip.contains(":") ? "[\(ip)]:\(port)" : "\(ip):\(port)"
    }

    // MARK: Operations

    static func writeOperations(_ counts: [OperationCountRecord], to html: inout HTMLText) {
        guard !counts.isEmpty else {
            html.raw("<p class=\"empty\">No protocol operations were recorded.</p>\n")
            return
        }
        let protocols = Set(counts.map(\.proto)).sorted()
        for proto in protocols {
            let rows = counts.filter { $0.proto == proto }
            let seenClasses = Set(rows.map(\.operationClass))
            let classes = operationClassOrder.filter(seenClasses.contains)
                + seenClasses.subtracting(operationClassOrder).sorted()
            html.raw("<h3>")
            html.text(proto)
            html.raw("</h3>\n<table class=\"sortable operations\"><thead><tr><th>Client</th><th>Server</th>")
            for operationClass in classes {
                html.raw("<th data-type=\"number\">")
                html.text(operationClass)
                html.raw("</th>")
            }
            html.raw("<th>Operations</th></tr></thead><tbody>\n")

            var conversations: [String] = []
            var byConversation: [String: [OperationCountRecord]] = [:]
            for row in rows {
                let key = row.srcIP + "\u{0}" + row.destIP
                if byConversation[key] == nil { conversations.append(key) }
                byConversation[key, default: []].append(row)
            }
            conversations.sort { lhs, rhs in
                let left = byConversation[lhs]?.first, right = byConversation[rhs]?.first
                let leftSource = left?.srcIP ?? "", rightSource = right?.srcIP ?? ""
                if leftSource != rightSource { return CommunicationMap.addressOrder(leftSource, rightSource) }
                return CommunicationMap.addressOrder(left?.destIP ?? "", right?.destIP ?? "")
            }
            for key in conversations {
                let members = byConversation[key] ?? []
                guard let first = members.first else { continue }
                html.raw("<tr>")
                writeAddressCell(first.srcIP, port: nil, to: &html)
                writeAddressCell(first.destIP, port: nil, to: &html)
                for operationClass in classes {
                    let total = members.filter { $0.operationClass == operationClass }.reduce(0) { $0 + $1.count }
                    let emphasis = total > 0 && operationClass != "read" ? " class=\"active\"" : ""
                    html.raw("<td data-sort=\"\(total)\"\(emphasis)>\(total == 0 ? "" : String(total))</td>")
                }
                html.raw("<td>")
                html.text(members.map { "\($0.name) \u{00D7}\($0.count)" }.joined(separator: ", "))
                html.raw("</td></tr>\n")
            }
            html.raw("</tbody></table>\n")
        }
    }

    // MARK: Assets

    static func writeAssets(_ assets: [AssetRecord], alertCounts: [String: Int], to html: inout HTMLText) {
        guard !assets.isEmpty else {
            html.raw("<p class=\"empty\">No assets were recorded.</p>\n")
            return
        }
        html.raw("<table class=\"sortable\"><thead><tr><th>Address</th><th>MAC</th><th>Vendor or device</th><th>Roles</th>")
        html.raw("<th data-type=\"number\">First seen</th><th data-type=\"number\">Last seen</th>")
        html.raw("<th data-type=\"number\">Alerts</th></tr></thead><tbody>\n")
        for asset in assets {
            let alerts = alertCounts[asset.ip] ?? 0
            html.raw("<tr\(alerts > 0 ? " class=\"alerted\"" : "")>")
            writeAddressCell(asset.ip, port: nil, to: &html)
            html.raw("<td>")
            html.text(asset.mac ?? "")
            html.raw("</td><td>")
            html.text(asset.vendor ?? "")
            html.raw("</td><td>")
            html.text(asset.roles.joined(separator: ", "))
            html.raw("</td><td class=\"time\" data-sort=\"\(asset.firstSeen.nanoseconds / 1000)\">")
            html.text(reportTime(asset.firstSeen.nanoseconds))
            html.raw("</td><td class=\"time\" data-sort=\"\(asset.lastSeen.nanoseconds / 1000)\">")
            html.text(reportTime(asset.lastSeen.nanoseconds))
            html.raw("</td><td data-sort=\"\(alerts)\">\(alerts)</td></tr>\n")
        }
        html.raw("</tbody></table>\n")
    }

    // MARK: Baseline

    static func writeBaseline(_ entries: [BaselineEntryView], to html: inout HTMLText) {
        guard !entries.isEmpty else {
            html.raw("<p class=\"empty\">No baseline entries were supplied for review.</p>\n")
            return
        }
        html.raw("<table class=\"sortable\"><thead><tr><th>Entry</th><th>Evidence</th><th>Approved</th></tr></thead><tbody>\n")
        for entry in entries {
            html.raw("<tr><td>")
            html.text(entry.entry)
            html.raw("</td><td>")
            html.text(entry.evidence)
            html.raw("</td><td class=\"\(entry.approved ? "approved" : "pending")\">\(entry.approved ? "yes" : "no")</td></tr>\n")
        }
        html.raw("</tbody></table>\n")
    }

    // MARK: Coverage

    static func writeCoverage(_ coverage: ReportCoverage, to html: inout HTMLText) {
        html.raw("<dl class=\"coverage\">\n")
        func item(_ term: String, _ value: String) {
            html.raw("<dt>")
            html.text(term)
            html.raw("</dt><dd>")
            html.text(value)
            html.raw("</dd>\n")
        }
        item("Encrypted share", coverage.encryptedShareText)
        item("One-sided flows", coverage.share(coverage.flows.oneSidedFlows, of: coverage.flows.flows, unit: "flows")
             + " (only one direction seen: check for asymmetric routing or a SPAN port that copies one side)")
        item("Mid-stream pickups", coverage.share(coverage.flows.midstreamFlows, of: coverage.flows.flows, unit: "flows")
             + " (the TCP handshake was not captured)")
        item("Capture loss", coverage.captureLossText)
        item("Hosts without host telemetry", coverage.hostTelemetryText)
        html.raw("</dl>\n")
    }
}

/// One baseline entry waiting for review, shown in the report's baseline section.
public struct BaselineEntryView: Hashable, Sendable {
    /// The allowed behaviour in words (`10.0.0.5 may write Modbus registers 40-49 on 10.0.0.20`).
    public var entry: String
    /// The source of the entry: capture file and packets, or the flows it was learned from.
    public var evidence: String
    /// Whether an engineer has approved the entry.
    public var approved: Bool

    public init(entry: String, evidence: String, approved: Bool) {
        self.entry = entry
        self.evidence = evidence
        self.approved = approved
    }
}
