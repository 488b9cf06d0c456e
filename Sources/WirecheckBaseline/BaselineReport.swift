import WirecheckCore

/// Plain-text tables of a baseline for `wirecheck baseline show`.
public enum BaselineReport {
    public static func show(_ baseline: Baseline, vendors: VendorRegistry = .shared) -> String {
        baseline.refreshRoles()
        let assets = baseline.sortedAssets, conversations = baseline.sortedConversations
        let operations = conversations.flatMap { conversation in conversation.sortedOperations.map { (conversation, $0) } }
        let pending = assets.filter { !$0.review.approved }.count + conversations.filter { !$0.review.approved }.count
            + operations.filter { !$0.1.review.approved }.count + baseline.programs.values.filter { !$0.review.approved }.count
            + conversations.reduce(0) { count, conversation in
                count + conversation.tls.values.reduce(0) { $0 + $1.entries.values.filter { !$0.review.approved }.count }
            }
        var lines = ["Baseline: \(assets.count) assets, \(conversations.count) conversations, \(operations.count) operations "
            + "from \(baseline.captures.count) captures; \(pending) entries pending review"]
        if !vendors.isAvailable {
            lines.append("Vendors are absent: \(VendorRegistry.defaultDirectory)/oui.csv is not readable (install Debian's ieee-data).")
        }
        if baseline.droppedEntries > 0 {
            lines.append("\(baseline.droppedEntries) observations were not learned because a baseline size limit was reached.")
        }

        lines.append("")
        lines.append("Captures")
        lines += table(["PATH", "SHA-256", "PACKETS", "FIRST PACKET", "LAST PACKET", "LEARNED"],
                       baseline.captures.sorted { $0.path < $1.path }.map { capture in
            [capture.path, String(capture.sha256.prefix(16)), "\(capture.packets)",
             capture.firstPacket.map(UTCTime.format) ?? "-", capture.lastPacket.map(UTCTime.format) ?? "-",
             "\(capture.timesLearned)x"]
        })

        lines.append("")
        lines.append("Assets")
        lines += table(["STATUS", "IP", "MAC", "VENDOR", "TTLS", "ROLES", "PACKETS", "FIRST SEEN", "LAST SEEN", "NOTE"],
                       assets.map { asset in
            let macs = asset.macs.sorted()
            return [status(asset.review), asset.ip.description, macs.map(\.description).joined(separator: " "),
                    macs.compactMap { vendors.vendor(of: $0) }.joined(separator: "; "),
                    asset.ttls.sorted().map(String.init).joined(separator: ","), asset.roles.sorted().joined(separator: ", "),
                    "\(asset.observation.count)", UTCTime.format(asset.observation.firstSeen),
                    UTCTime.format(asset.observation.lastSeen), asset.review.note ?? ""]
        })

        lines.append("")
        lines.append("Conversations")
        lines += table(["STATUS", "CLIENT", "SERVER", "SERVICE", "INITIATOR", "FLOWS", "REQUESTS", "FIRST SEEN", "LAST SEEN", "NOTE"],
                       conversations.map { conversation in
            [status(conversation.review), conversation.key.client.description, conversation.key.server.description,
             conversation.key.service, conversation.initiator, "\(conversation.flows)", "\(conversation.observation.count)",
             UTCTime.format(conversation.observation.firstSeen), UTCTime.format(conversation.observation.lastSeen),
             conversation.review.note ?? ""]
        })

        lines.append("")
        lines.append("Operations")
        lines += table(["STATUS", "CONVERSATION", "OPERATION", "CLASS", "COUNT", "UNITS AND RANGES", "PERIOD", "PER MINUTE", "NOTE"],
                       operations.map { conversation, operation in
            [status(operation.review), "\(conversation.key.client) → \(conversation.key.server)", operation.key.description,
             operation.operationClass.rawValue, "\(operation.observation.count)", unitsText(operation),
             periodText(operation.timing), rateText(operation.timing), operation.review.note ?? ""]
        })

        let tlsRows = tlsTableRows(conversations)
        if !tlsRows.isEmpty {
            lines.append("")
            lines.append("TLS")
            lines += table(["STATUS", "CONVERSATION", "KIND", "VALUE", "SUBJECT", "COUNT", "FIRST SEEN", "LAST SEEN", "NOTE"], tlsRows)
        }

        lines.append("")
        lines.append("Programs")
        lines += table(["STATUS", "HOST", "PROTOCOL", "EXECUTABLE", "FLOWS", "SERVERS", "USERS", "COMMAND LINES", "FIRST SEEN",
                        "LAST SEEN", "NOTE"],
                       baseline.sortedPrograms.map { program in
            [status(program.review), hostText(program), ProtocolNames.display(program.key.protocolName), program.key.executable,
             "\(program.observation.count)", serversText(program), program.users.sorted().joined(separator: ", "),
             commandLinesText(program), UTCTime.format(program.observation.firstSeen),
             UTCTime.format(program.observation.lastSeen), program.review.note ?? ""]
        })

        if !baseline.allowRules.isEmpty {
            lines.append("")
            lines.append("Allow rules")
            lines += table(["ID", "MATCH", "EXPIRES", "REASON"], baseline.allowRules.map { rule in
                let match = Baseline.write(rule).pairs.filter { !["id", "reason", "expires"].contains($0.0) }
                    .map { "\($0.0)=\(JSONWriter.serialize($0.1))" }.joined(separator: " ")
                return [rule.id, match, rule.expires.map(UTCTime.format) ?? "never", rule.reason]
            })
        }
        if !baseline.maintenanceWindows.isEmpty {
            lines.append("")
            lines.append("Maintenance windows")
            lines += table(["ID", "ASSETS", "WHEN", "REASON"], baseline.maintenanceWindows.map { window in
                let when: String
                switch window.schedule {
                case .absolute(let start, let end): when = "\(UTCTime.format(start)) to \(UTCTime.format(end))"
                case .weekly(let days, let start, let end):
                    when = "weekly " + days.sorted().map { Baseline.dayNames[$0] }.joined(separator: ",")
                        + " \(Baseline.clockText(start))-\(Baseline.clockText(end)) UTC"
                }
                return [window.id, window.assets.isEmpty ? "all" : window.assets.map(\.description).joined(separator: " "),
                        when, window.reason]
            })
        }
        return lines.joined(separator: "\n") + "\n"
    }

    static func status(_ review: Review) -> String { review.approved ? "approved" : "pending" }

    /// Builds one row per learned TLS value, in conversation and kind order, and one per kind that overflowed.
    static func tlsTableRows(_ conversations: [ConversationEntry]) -> [[String]] {
        var rows: [[String]] = []
        for conversation in conversations {
            let name = "\(conversation.key.client) → \(conversation.key.server):\(conversation.key.port)"
            for kind in TLSValueKind.allCases {
                guard let set = conversation.tls[kind] else { continue }
                for entry in set.sortedEntries {
                    rows.append([status(entry.review), name, kind.label, TLSValueEntry.printable(entry.value),
                                 entry.subject.map(TLSValueEntry.printable) ?? "",
                                 "\(entry.observation.count)", UTCTime.format(entry.observation.firstSeen),
                                 UTCTime.format(entry.observation.lastSeen), entry.review.note ?? ""])
                }
                if set.overflowed {
                    rows.append(["", name, kind.label, "(more than \(TLSValueSet.maxValues) distinct; new values are not checked)",
                                 "", "", "", "", ""])
                }
            }
        }
        return rows
    }

    /// "10.20.1.50 (eng-ws)" with the host names the telemetry gave.
    static func hostText(_ program: ProgramEntry) -> String {
        let names = program.hostNames.sorted().joined(separator: ", ")
        return names.isEmpty ? program.key.host.description : "\(program.key.host) (\(names))"
    }

    static func serversText(_ program: ProgramEntry) -> String {
        let text = program.sortedServers.map(\.description).joined(separator: " ")
        return program.serversOverflowed ? text + " (more than \(ProgramEntry.maxServers))" : text
    }

    /// Normalised command lines separated by " | ", each cut for the table.
    static func commandLinesText(_ program: ProgramEntry) -> String {
        if program.commandLinesOverflowed { return "(more than \(ProgramEntry.maxCommandLines) distinct)" }
        return program.sortedCommandLines.map { BaselineDetector.quoted($0) }.joined(separator: " | ")
    }

    /// "unit 1: 0-9 (2 ranges)"; units separated by "; ".
    static func unitsText(_ operation: OperationEntry) -> String {
        operation.sortedUnits.map { unit in
            var text = BaselineDetector.unitText(unit.unit)
            if let low = unit.rangeMin, let high = unit.rangeMax {
                text += ": \(low)-\(high)"
                if unit.rangesOverflowed {
                    text += " (more than \(UnitEntry.maxDistinctRanges) ranges)"
                } else if unit.ranges.count > 1 {
                    text += " (\(unit.ranges.count) ranges)"
                }
            }
            return text
        }.joined(separator: "; ")
    }

    static func periodText(_ timing: OperationTiming) -> String {
        guard let median = timing.periodMedian, let spread = timing.periodSpread else { return "-" }
        let text = "\(DurationText.duration(median)) ± \(DurationText.duration(spread))"
        return timing.isPeriodic ? text : text + " (irregular)"
    }

    static func rateText(_ timing: OperationTiming) -> String {
        guard let median = timing.requestsPerMinute.median, let p95 = timing.requestsPerMinute.quantile(0.95) else { return "-" }
        return "median \(DurationText.trimmed(median)), p95 \(DurationText.trimmed(p95))"
    }

    /// Left-aligned columns separated by two spaces, with a header row.
    static func table(_ header: [String], _ rows: [[String]]) -> [String] {
        guard !rows.isEmpty else { return ["  (none)"] }
        var widths = header.map(\.count)
        for row in rows {
            for (index, cell) in row.enumerated() where index < widths.count { widths[index] = max(widths[index], cell.count) }
        }
        func line(_ cells: [String]) -> String {
            var text = " "
            for (index, cell) in cells.enumerated() {
                text += " " + cell
                if index < cells.count - 1 { text += String(repeating: " ", count: widths[index] - cell.count + 1) }
            }
            while text.last == " " { text.removeLast() }
            return text
        }
        return [line(header)] + rows.map(line)
    }
}

/// A change list between two baselines for `wirecheck baseline diff`.
public enum BaselineDiff {
    /// Added, removed and changed entries by section, each change as `field: old → new`.
    /// Sketch bins are left out; their summaries (period, percentiles) are compared instead.
    public static func diff(old: Baseline, new: Baseline, vendors: VendorRegistry = .shared) -> String {
        old.refreshRoles()
        new.refreshRoles()
        let oldSections = sections(old, vendors: vendors), newSections = sections(new, vendors: vendors)
        var lines: [String] = []
        for (name, oldEntries) in oldSections {
            let newEntries = newSections.first { $0.0 == name }?.1 ?? [:]
            var sectionLines: [String] = []
            for key in Set(oldEntries.keys).union(newEntries.keys).sorted() {
                switch (oldEntries[key], newEntries[key]) {
                case (nil, .some):
                    sectionLines.append("  + \(key)")
                case (.some, nil):
                    sectionLines.append("  - \(key)")
                case (.some(let before), .some(let after)):
                    let changes = Set(before.keys).union(after.keys).sorted().compactMap { field -> String? in
                        let was = before[field] ?? "(none)", now = after[field] ?? "(none)"
                        return was == now ? nil : "\(field): \(was) → \(now)"
                    }
                    if !changes.isEmpty { sectionLines.append("  ~ \(key): " + changes.joined(separator: "; ")) }
                default:
                    break
                }
            }
            if !sectionLines.isEmpty { lines.append(name); lines += sectionLines }
        }
        return lines.isEmpty ? "No changes.\n" : lines.joined(separator: "\n") + "\n"
    }

    typealias Fields = [String: String]

    static func sections(_ baseline: Baseline, vendors: VendorRegistry) -> [(String, [String: Fields])] {
        var captures: [String: Fields] = [:], assets: [String: Fields] = [:], conversations: [String: Fields] = [:]
        var operations: [String: Fields] = [:], tls: [String: Fields] = [:], programs: [String: Fields] = [:], rules: [String: Fields] = [:], windows: [String: Fields] = [:]
        for capture in baseline.captures { captures["\(capture.path) (\(capture.sha256.prefix(16)))"] = flatten(Baseline.write(capture)) }
        for asset in baseline.sortedAssets { assets[asset.ip.description] = flatten(Baseline.write(asset, vendors: vendors)) }
        for conversation in baseline.sortedConversations {
            var object = Baseline.write(conversation)
            object["operations"] = nil
            object["tls"] = nil
            conversations[conversation.key.description] = flatten(object)
            for kind in TLSValueKind.allCases {
                guard let set = conversation.tls[kind] else { continue }
                for entry in set.sortedEntries {
                    var item: JSONObject = [:]
                    if let subject = entry.subject { item.set("subject", .string(subject)) }
                    Baseline.write(entry.observation, into: &item, countName: "count")
                    Baseline.write(entry.review, into: &item)
                    tls["\(conversation.key): \(kind.label) \(entry.value)"] = flatten(item)
                }
                if set.overflowed { tls["\(conversation.key): \(kind.label) values"] = ["overflowed": "true"] }
            }
            for operation in conversation.sortedOperations {
                operations["\(conversation.key): \(operation.key)"] = flatten(Baseline.write(operation))
            }
        }
        for program in baseline.sortedPrograms { programs[program.key.description] = flatten(Baseline.write(program)) }
        for (index, rule) in baseline.allowRules.enumerated() { rules[rule.id.isEmpty ? "allow[\(index)]" : rule.id] = flatten(Baseline.write(rule)) }
        for (index, window) in baseline.maintenanceWindows.enumerated() {
            windows[window.id.isEmpty ? "maintenance_windows[\(index)]" : window.id] = flatten(Baseline.write(window))
        }
        return [("captures", captures), ("assets", assets), ("conversations", conversations), ("operations", operations),
                ("tls", tls), ("programs", programs), ("allow", rules), ("maintenance_windows", windows)]
    }

    /// Scalars and arrays as compact JSON under dotted names; sketches are skipped.
    static func flatten(_ object: JSONObject, prefix: String = "") -> Fields {
        var fields: Fields = [:]
        for (key, value) in object.pairs where !key.hasSuffix("_sketch") {
            if case .object(let inner) = value {
                fields.merge(flatten(inner, prefix: prefix + key + "."), uniquingKeysWith: { first, _ in first })
            } else {
                fields[prefix + key] = JSONWriter.serialize(value)
            }
        }
        return fields
    }
}
