import WirecheckCore

/// The communication map: assets as boxes in columns, one column group per subnet (/24 for
/// IPv4, /64 for IPv6), and conversations as curves coloured by application protocol.
/// The layout depends only on the sorted input, so the same store always gives the same SVG.
struct CommunicationMap {
    /// Boxes per column before a subnet continues in the next column; 24 rows keep 200 assets
    /// within about nine columns and a page height a reader can scroll.
    static let maximumRowsPerColumn = 24
    static let nodeWidth = 184.0
    static let nodeHeight = 52.0
    static let columnGap = 64.0
    static let rowGap = 14.0
    static let headerHeight = 34.0
    static let margin = 16.0
    /// Conversations drawn, those with alerts first and then by bytes. More edges than this turn
    /// the map into a solid block and make the SVG megabytes long.
    static let maximumEdges = 1500
    /// Label lines are cut to this many characters so they stay inside the box.
    static let labelLength = 30

    struct Node {
        var asset: AssetRecord
        var x: Double
        var y: Double
        var alerts: Int
    }

    let nodes: [String: Node]
    let columnHeaders: [(x: Double, label: String)]
    let conversations: [ConversationRecord]
    /// Conversations left out because of `maximumEdges`.
    let omittedConversations: Int
    let colours: [String: String]
    let width: Double
    let height: Double

    init(assets: [AssetRecord], conversations: [ConversationRecord], alertCounts: [String: Int]) {
        var byAddress: [String: AssetRecord] = [:]
        for asset in assets { byAddress[asset.ip] = asset }
        // A conversation endpoint missing from the inventory still gets a box.
        for conversation in conversations {
            for ip in [conversation.srcIP, conversation.destIP] where byAddress[ip] == nil {
                byAddress[ip] = AssetRecord(ip: ip, mac: nil, vendor: nil, firstSeen: .zero, lastSeen: .zero, roles: [])
            }
        }

        var groups: [String: [AssetRecord]] = [:]
        for asset in byAddress.values { groups[CommunicationMap.subnet(of: asset.ip), default: []].append(asset) }
        let orderedGroups = groups.map { key, members in (key, members.sorted { CommunicationMap.addressOrder($0.ip, $1.ip) }) }
            .sorted { CommunicationMap.addressOrder($0.1[0].ip, $1.1[0].ip) }

        var nodes: [String: Node] = [:]
        var headers: [(x: Double, label: String)] = []
        var column = 0
        var maximumRows = 0
        for (subnet, members) in orderedGroups {
            var start = 0
            while start < members.count {
                let chunk = members[start..<min(members.count, start + CommunicationMap.maximumRowsPerColumn)]
                let x = CommunicationMap.margin + Double(column) * (CommunicationMap.nodeWidth + CommunicationMap.columnGap)
                headers.append((x, start == 0 ? subnet : subnet + " (cont.)"))
                for (row, asset) in chunk.enumerated() {
                    let y = CommunicationMap.margin + CommunicationMap.headerHeight
                        + Double(row) * (CommunicationMap.nodeHeight + CommunicationMap.rowGap)
                    nodes[asset.ip] = Node(asset: asset, x: x, y: y, alerts: alertCounts[asset.ip] ?? 0)
                }
                maximumRows = max(maximumRows, chunk.count)
                column += 1
                start += CommunicationMap.maximumRowsPerColumn
            }
        }

        self.nodes = nodes
        self.columnHeaders = headers
        let ranked = conversations.sorted { lhs, rhs in
            if (lhs.alerts > 0) != (rhs.alerts > 0) { return lhs.alerts > 0 }
            if lhs.bytes != rhs.bytes { return lhs.bytes > rhs.bytes }
            return (lhs.srcIP, lhs.destIP, lhs.appProto ?? "") < (rhs.srcIP, rhs.destIP, rhs.appProto ?? "")
        }
        self.conversations = Array(ranked.prefix(CommunicationMap.maximumEdges))
        omittedConversations = max(0, conversations.count - CommunicationMap.maximumEdges)
        self.colours = ReportPalette.colours(for: self.conversations.compactMap(\.appProto))
        let columns = max(column, 1)
        width = CommunicationMap.margin * 2 + Double(columns) * CommunicationMap.nodeWidth
            + Double(columns - 1) * CommunicationMap.columnGap + 60
        height = CommunicationMap.margin * 2 + CommunicationMap.headerHeight
            + Double(max(maximumRows, 1)) * (CommunicationMap.nodeHeight + CommunicationMap.rowGap)
    }

    /// Returns the column group of an address: its /24 (IPv4) or /64 (IPv6) network.
    static func subnet(of ip: String) -> String {
        switch IPAddress(ip) {
        case .v4(let value)?:
            return IPAddress.v4(value & 0xFFFF_FF00).description + "/24"
        case .v6(let high, _)?:
            return IPAddress.v6(high, 0).description + "/64"
        case nil:
            return "other"
        }
    }

    static func addressOrder(_ lhs: String, _ rhs: String) -> Bool {
        switch (IPAddress(lhs), IPAddress(rhs)) {
        case let (left?, right?): return left < right
        case (.some, nil): return true
        case (nil, .some): return false
        case (nil, nil): return lhs < rhs
        }
    }

    func colour(of appProto: String?) -> String {
        appProto.flatMap { colours[$0] } ?? ReportPalette.unidentified
    }

    /// Writes the map as inline SVG, edges first so boxes stay readable on top of them.
    func write(to html: inout HTMLText) {
        guard !nodes.isEmpty else {
            html.raw("<p class=\"empty\">No flows or assets were recorded.</p>\n")
            return
        }
        html.raw("<div class=\"map-scroll\"><svg class=\"map\" xmlns=\"http://www.w3.org/2000/svg\" role=\"img\" ")
        html.raw("aria-label=\"Communication map\" width=\"\(Int(width))\" height=\"\(Int(height))\" ")
        html.raw("viewBox=\"0 0 \(Int(width)) \(Int(height))\">\n")

        for header in columnHeaders {
            html.raw("<text class=\"subnet\" x=\"\(format(header.x))\" y=\"\(format(CommunicationMap.margin + 16))\">")
            html.text(header.label)
            html.raw("</text>\n")
        }

        var pairIndex: [String: Int] = [:]
        var labels = HTMLText()
        for conversation in conversations {
            guard let source = nodes[conversation.srcIP], let destination = nodes[conversation.destIP],
                  conversation.srcIP != conversation.destIP else { continue }
            let pairKey = min(conversation.srcIP, conversation.destIP) + "|" + max(conversation.srcIP, conversation.destIP)
            let offset = Double(pairIndex[pairKey, default: 0]) * 10
            pairIndex[pairKey, default: 0] += 1
            let (path, middle) = edgePath(from: source, to: destination, offset: offset)
            let alerted = conversation.alerts > 0
            html.raw("<path class=\"edge\(alerted ? " alerted" : "")\" d=\"\(path)\" stroke=\"\(colour(of: conversation.appProto))\" ")
            html.raw("stroke-width=\"\(alerted ? "4" : "1.6")\"><title>")
            html.text("\(conversation.srcIP) \u{2192} \(conversation.destIP) \(conversation.appProto ?? "unidentified"): "
                      + "\(conversation.flows) flows, \(conversation.bytes) bytes, \(conversation.alerts) alerts")
            html.raw("</title></path>\n")
            if alerted {
                labels.raw("<g class=\"edge-count\"><circle cx=\"\(format(middle.x))\" cy=\"\(format(middle.y))\" r=\"10\"/>")
                labels.raw("<text x=\"\(format(middle.x))\" y=\"\(format(middle.y + 4))\">\(conversation.alerts)</text></g>\n")
            }
        }

        for node in nodes.values.sorted(by: { CommunicationMap.addressOrder($0.asset.ip, $1.asset.ip) }) {
            writeNode(node, to: &html)
        }
        html.raw(labels.output)
        html.raw("</svg></div>\n")
        if omittedConversations > 0 {
            html.raw("<p class=\"note\">\(omittedConversations) conversations without alerts and with the fewest bytes ")
            html.raw("are not drawn.</p>\n")
        }
        writeLegend(to: &html)
    }

    private func writeNode(_ node: Node, to html: inout HTMLText) {
        let alerted = node.alerts > 0
        html.raw("<g class=\"node\(alerted ? " alerted" : "")\"><title>")
        html.text(node.asset.ip + (node.asset.roles.isEmpty ? "" : " (" + node.asset.roles.joined(separator: ", ") + ")")
                  + (alerted ? ", \(node.alerts) alerts" : ""))
        html.raw("</title><rect x=\"\(format(node.x))\" y=\"\(format(node.y))\" width=\"\(Int(CommunicationMap.nodeWidth))\" ")
        html.raw("height=\"\(Int(CommunicationMap.nodeHeight))\" rx=\"5\"/>")
        let lines = [
            node.asset.ip,
            node.asset.vendor ?? node.asset.mac ?? "",
            node.asset.roles.joined(separator: ", "),
        ]
        for (index, line) in lines.enumerated() where !line.isEmpty {
            html.raw("<text class=\"\(index == 0 ? "address" : "detail")\" x=\"\(format(node.x + 8))\" ")
            html.raw("y=\"\(format(node.y + 16 + Double(index) * 14))\">")
            html.text(HTMLText.truncated(line, to: CommunicationMap.labelLength))
            html.raw("</text>")
        }
        if alerted {
            let badgeX = node.x + CommunicationMap.nodeWidth - 4
            html.raw("<circle class=\"badge\" cx=\"\(format(badgeX))\" cy=\"\(format(node.y + 4))\" r=\"10\"/>")
            html.raw("<text class=\"badge-text\" x=\"\(format(badgeX))\" y=\"\(format(node.y + 8))\">\(node.alerts)</text>")
        }
        html.raw("</g>\n")
    }

    /// Builds the curve between two boxes and the point for its alert count. Boxes in one column
    /// are joined by a bow to the right, and boxes in different columns by an S-curve between their sides.
    private func edgePath(from source: Node, to destination: Node, offset: Double) -> (String, (x: Double, y: Double)) {
        let halfHeight = CommunicationMap.nodeHeight / 2
        if source.x == destination.x {
            let x = source.x + CommunicationMap.nodeWidth
            let y1 = source.y + halfHeight, y2 = destination.y + halfHeight
            let bow = 24 + abs(y2 - y1) / 8 + offset
            let path = "M\(format(x)) \(format(y1)) C\(format(x + bow)) \(format(y1)) \(format(x + bow)) \(format(y2)) \(format(x)) \(format(y2))"
            return (path, (x + bow * 0.75, (y1 + y2) / 2))
        }
        let leftToRight = source.x < destination.x
        let x1 = leftToRight ? source.x + CommunicationMap.nodeWidth : source.x
        let x2 = leftToRight ? destination.x : destination.x + CommunicationMap.nodeWidth
        let y1 = source.y + halfHeight + offset / 2, y2 = destination.y + halfHeight + offset / 2
        let pull = max(30, abs(x2 - x1) / 2) + offset
        let c1 = leftToRight ? x1 + pull : x1 - pull
        let c2 = leftToRight ? x2 - pull : x2 + pull
        let path = "M\(format(x1)) \(format(y1)) C\(format(c1)) \(format(y1)) \(format(c2)) \(format(y2)) \(format(x2)) \(format(y2))"
        return (path, labelPoint(x1: x1, y1: y1, c1: c1, c2: c2, x2: x2, y2: y2))
    }

    /// Finds the point of the curve nearest its middle that lies in a gap between columns, so the
    /// alert count does not cover a box the curve passes behind. Falls back to the middle.
    private func labelPoint(x1: Double, y1: Double, c1: Double, c2: Double, x2: Double, y2: Double) -> (x: Double, y: Double) {
        func point(_ t: Double) -> (x: Double, y: Double) {
            let u = 1 - t
            let x = u * u * u * x1 + 3 * u * u * t * c1 + 3 * u * t * t * c2 + t * t * t * x2
            let y = u * u * u * y1 + 3 * u * u * t * y1 + 3 * u * t * t * y2 + t * t * t * y2
            return (x, y)
        }
        let columnStarts = Set(columnHeaders.map(\.x))
        func inGap(_ x: Double) -> Bool {
            !columnStarts.contains { x > $0 - 12 && x < $0 + CommunicationMap.nodeWidth + 12 }
        }
        for step in 0...36 {
            let distance = Double((step + 1) / 2) * 0.025
            let t = step % 2 == 0 ? 0.5 + distance : 0.5 - distance
            let candidate = point(t)
            if inGap(candidate.x) { return candidate }
        }
        return point(0.5)
    }

    private func writeLegend(to html: inout HTMLText) {
        html.raw("<ul class=\"legend\">")
        var entries = colours.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
        if conversations.contains(where: { $0.appProto == nil }) { entries.append(("unidentified", ReportPalette.unidentified)) }
        for (name, colour) in entries {
            html.raw("<li><span class=\"swatch\" style=\"background:\(colour)\"></span>")
            html.text(name)
            html.raw("</li>")
        }
        html.raw("<li><span class=\"swatch alerted\"></span>alerts (red outline, thick edge with count)</li></ul>\n")
    }
}

/// Writes a coordinate with one decimal, so SVG stays short and deterministic.
func format(_ value: Double) -> String {
    let tenths = (value * 10).rounded()
    let whole = Int(tenths / 10)
    let fraction = Int(abs(tenths.truncatingRemainder(dividingBy: 10)))
    if fraction == 0 { return String(whole) }
    return (tenths < 0 && whole == 0 ? "-" : "") + "\(whole).\(fraction)"
}
