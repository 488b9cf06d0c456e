import Foundation
import WirecheckCore
import WirecheckProtocols

/// The baseline file: JSON with sorted keys, entries sorted by their natural key and one
/// member per line. Derived values (period median, per-minute percentiles, vendors, roles) are
/// written for the reader and recomputed on load from the sketches and conversations.
extension Baseline {
    /// Reads a baseline file. Errors name the file, the JSON path and what is wrong.
    public static func load(path: String) throws -> Baseline {
        guard let data = FileManager.default.contents(atPath: path) else {
            throw BaselineFileError(file: path, location: "file", problem: "cannot read the file; check the path and permissions")
        }
        guard let text = String(validating: [UInt8](data), as: UTF8.self) else {
            throw BaselineFileError(file: path, location: "file", problem: "the file is not valid UTF-8")
        }
        return try parse(text, file: path)
    }

    /// Parses baseline JSON text; `file` names the source in errors.
    public static func parse(_ text: String, file: String) throws -> Baseline {
        let root = try JSONReader(file: file, path: "$", value: try JSONParser.parse(text, file: file))
        let version = try root.int("format_version")
        guard version == Int64(formatVersion) else {
            throw root.fail("format_version", "unsupported version \(version); this Wirecheck reads version \(formatVersion), so upgrade Wirecheck or learn a new baseline")
        }
        let baseline = Baseline()
        for reader in try root.objects("captures") { baseline.captures.append(try readCapture(reader)) }
        for reader in try root.objects("assets") {
            let asset = try readAsset(reader)
            guard baseline.assets[asset.ip] == nil else { throw reader.fail("ip", "duplicate asset \(asset.ip)") }
            baseline.assets[asset.ip] = asset
        }
        for reader in try root.objects("conversations") {
            let conversation = try readConversation(reader)
            guard baseline.conversations[conversation.key] == nil else {
                throw BaselineFileError(file: file, location: reader.path, problem: "duplicate conversation \(conversation.key)")
            }
            baseline.conversations[conversation.key] = conversation
        }
        for reader in try root.objects("programs") {
            let program = try readProgram(reader)
            guard baseline.programs[program.key] == nil else {
                throw BaselineFileError(file: file, location: reader.path, problem: "duplicate program \(program.key)")
            }
            baseline.programs[program.key] = program
        }
        for reader in try root.objects("allow") { baseline.allowRules.append(try readAllowRule(reader)) }
        for reader in try root.objects("maintenance_windows") { baseline.maintenanceWindows.append(try readWindow(reader)) }
        baseline.droppedEntries = try root.count("dropped_entries")
        baseline.refreshRoles()
        return baseline
    }

    /// Writes the baseline atomically, so a failed write leaves the previous file intact.
    public func save(to path: String) throws {
        let data = Data(serialized().utf8)
        do {
            do {
                try data.write(to: URL(fileURLWithPath: path), options: .atomic)
            } catch where FileManager.default.isWritableFile(atPath: path) {
                // The folder is not writable but the file is (a live capture that gave up root
                // after creating it), so the file is rewritten in place.
                try data.write(to: URL(fileURLWithPath: path))
            }
        } catch {
            throw BaselineFileError(file: path, location: "file", problem: "cannot write the baseline: \(error)")
        }
    }

    /// The file text. Saving the same baseline twice gives byte-identical text.
    public func serialized(vendors: VendorRegistry = .shared) -> String {
        refreshRoles()
        var root: JSONObject = [
            "format_version": .int(Baseline.formatVersion),
            "captures": .array(captures.sorted { $0.sha256 < $1.sha256 }.map { .object(Baseline.write($0)) }),
            "assets": .array(sortedAssets.map { .object(Baseline.write($0, vendors: vendors)) }),
            "conversations": .array(sortedConversations.map { .object(Baseline.write($0)) }),
            "programs": .array(sortedPrograms.map { .object(Baseline.write($0)) }),
            "allow": .array(allowRules.map { .object(Baseline.write($0)) }),
            "maintenance_windows": .array(maintenanceWindows.map { .object(Baseline.write($0)) }),
        ]
        if droppedEntries > 0 { root.set("dropped_entries", .int(droppedEntries)) }
        if !vendors.isAvailable {
            root.set("vendor_registry", .string("missing: \(VendorRegistry.defaultDirectory)/oui.csv not readable, so vendors are absent"))
        }
        return PrettyJSON.format(.object(root))
    }
}

// MARK: - Writing

extension Baseline {
    static func write(_ review: Review, into object: inout JSONObject) {
        object.set("approved", .bool(review.approved))
        if let note = review.note { object.set("note", .string(note)) }
    }

    static func write(_ observation: Observation, into object: inout JSONObject, countName: String) {
        object.set("first_seen", .string(UTCTime.format(observation.firstSeen)))
        object.set("last_seen", .string(UTCTime.format(observation.lastSeen)))
        object.set(countName, .int(observation.count))
    }

    /// Rounds derived seconds to microseconds so the text does not carry floating-point noise.
    static func seconds(_ value: Double?) -> JSONValue {
        guard let value else { return .null }
        return .double((value * 1e6).rounded() / 1e6)
    }

    static func write(_ capture: CaptureRecord) -> JSONObject {
        var object: JSONObject = ["path": .string(capture.path), "sha256": .string(capture.sha256),
                                  "packets": .int(capture.packets), "times_learned": .int(capture.timesLearned)]
        if let first = capture.firstPacket { object.set("first_packet", .string(UTCTime.format(first))) }
        if let last = capture.lastPacket { object.set("last_packet", .string(UTCTime.format(last))) }
        write(capture.review, into: &object)
        return object
    }

    static func write(_ asset: AssetEntry, vendors: VendorRegistry) -> JSONObject {
        var object: JSONObject = ["ip": .string(asset.ip.description)]
        object.set("macs", .array(asset.macs.sorted().map { mac in
            var entry: JSONObject = ["mac": .string(mac.description)]
            if let vendor = vendors.vendor(of: mac) { entry.set("vendor", .string(vendor)) }
            return .object(entry)
        }))
        object.set("ttls", .array(asset.ttls.sorted().map { .int($0) }))
        object.set("roles", .array(asset.roles.sorted().map { .string($0) }))
        write(asset.observation, into: &object, countName: "packets")
        write(asset.review, into: &object)
        return object
    }

    static func write(_ conversation: ConversationEntry) -> JSONObject {
        let key = conversation.key
        var object: JSONObject = [
            "client": .string(key.client.description), "server": .string(key.server.description),
            "transport": .string(key.transport), "port": .int(key.port),
            "protocol": key.appProto.map { .string($0) } ?? .null,
            "initiator": .string(conversation.initiator),
            "flows": .int(conversation.flows), "flows_with_handshake": .int(conversation.flowsWithHandshake),
            "flows_midstream": .int(conversation.flowsMidstream),
            "packets": .int(conversation.packets), "bytes": .int(conversation.bytes),
        ]
        object.set("operations", .array(conversation.sortedOperations.map { .object(write($0)) }))
        // Written only when a handshake was seen, so baselines without TLS keep their layout.
        if !conversation.tls.isEmpty { object.set("tls", .object(write(tls: conversation.tls))) }
        write(conversation.observation, into: &object, countName: "requests")
        write(conversation.review, into: &object)
        return object
    }

    static func write(_ operation: OperationEntry) -> JSONObject {
        var object: JSONObject = [
            "protocol": .string(operation.key.protocolName), "name": .string(operation.key.name),
            "code": .int(operation.key.code), "class": .string(operation.operationClass.rawValue),
        ]
        object.set("units", .array(operation.sortedUnits.map { unit in
            var entry: JSONObject = ["unit": unit.unit.map { .int($0) } ?? .null, "count": .int(unit.count)]
            if let low = unit.rangeMin, let high = unit.rangeMax {
                entry.set("range_min", .int(low))
                entry.set("range_max", .int(high))
            }
            entry.set("ranges", .array(unit.ranges.map { .array([.int($0.lowerBound), .int($0.upperBound)]) }))
            if unit.rangesOverflowed { entry.set("ranges_overflowed", .bool(true)) }
            return .object(entry)
        }))
        object.set("timing", .object(write(operation.timing)))
        write(operation.observation, into: &object, countName: "count")
        write(operation.review, into: &object)
        return object
    }

    static func write(_ timing: OperationTiming) -> JSONObject {
        func sketch(_ histogram: LogHistogram) -> JSONValue {
            .array(histogram.sortedBins.map { .array([.int($0.0), .int($0.1)]) })
        }
        return [
            "intervals": .int(timing.intervals.count),
            "period_median_s": seconds(timing.periodMedian),
            "period_mad_s": seconds(timing.periodSpread),
            "periodic": .bool(timing.isPeriodic),
            "interval_sketch": sketch(timing.intervals),
            "minutes": .int(timing.requestsPerMinute.count),
            "requests_per_minute_median": seconds(timing.requestsPerMinute.median),
            "requests_per_minute_p95": seconds(timing.requestsPerMinute.quantile(0.95)),
            "requests_per_minute_sketch": sketch(timing.requestsPerMinute),
            "points_per_minute_p95": seconds(timing.pointsPerMinute.quantile(0.95)),
            "points_per_minute_sketch": sketch(timing.pointsPerMinute),
        ]
    }

    static func write(_ program: ProgramEntry) -> JSONObject {
        var object: JSONObject = [
            "host": .string(program.key.host.description), "protocol": .string(program.key.protocolName),
            "executable": .string(program.key.executable),
            "command_lines": .array(program.sortedCommandLines.map { .string($0) }),
            "servers": .array(program.sortedServers.map { .string($0.description) }),
            "users": .array(program.users.sorted().map { .string($0) }),
            "host_names": .array(program.hostNames.sorted().map { .string($0) }),
        ]
        if program.commandLinesOverflowed { object.set("command_lines_overflowed", .bool(true)) }
        if program.serversOverflowed { object.set("servers_overflowed", .bool(true)) }
        write(program.observation, into: &object, countName: "flows")
        write(program.review, into: &object)
        return object
    }

    static func write(_ rule: AllowRule) -> JSONObject {
        var object: JSONObject = ["id": .string(rule.id), "reason": .string(rule.reason)]
        if let expires = rule.expires { object.set("expires", .string(UTCTime.format(expires))) }
        if let asset = rule.asset { object.set("asset", .string(asset.description)) }
        if let client = rule.client { object.set("client", .string(client.description)) }
        if let server = rule.server { object.set("server", .string(server.description)) }
        if let port = rule.port { object.set("port", .int(port)) }
        if let name = rule.protocolName { object.set("protocol", .string(name)) }
        if let operation = rule.operation { object.set("operation", .string(operation)) }
        if let operationClass = rule.operationClass { object.set("operation_class", .string(operationClass)) }
        if let event = rule.event { object.set("event", .string(event)) }
        return object
    }

    static let dayNames = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]

    static func clockText(_ second: Int) -> String {
        "\(UTCTime.twoDigits(second / 3600)):\(UTCTime.twoDigits(second % 3600 / 60))"
    }

    static func write(_ window: MaintenanceWindow) -> JSONObject {
        var object: JSONObject = ["id": .string(window.id), "reason": .string(window.reason),
                                  "assets": .array(window.assets.map { .string($0.description) })]
        switch window.schedule {
        case .absolute(let start, let end):
            object.set("start", .string(UTCTime.format(start)))
            object.set("end", .string(UTCTime.format(end)))
        case .weekly(let days, let start, let end):
            object.set("weekly", .object([
                "days": .array(days.sorted().map { .string(dayNames[$0]) }),
                "start": .string(clockText(start)), "end": .string(clockText(end)),
            ]))
        }
        return object
    }
}

// MARK: - Reading

extension Baseline {
    static func readObservation(_ reader: JSONReader, countName: String) throws -> Observation {
        Observation(firstSeen: try reader.time("first_seen"), lastSeen: try reader.time("last_seen"),
                    count: try reader.count(countName))
    }

    static func readCapture(_ reader: JSONReader) throws -> CaptureRecord {
        var capture = CaptureRecord(path: try reader.string("path"), sha256: try reader.string("sha256"))
        capture.packets = try reader.count("packets")
        capture.firstPacket = try reader.optionalTime("first_packet")
        capture.lastPacket = try reader.optionalTime("last_packet")
        capture.timesLearned = max(1, try reader.count("times_learned"))
        capture.review = try reader.review()
        return capture
    }

    static func readAsset(_ reader: JSONReader) throws -> AssetEntry {
        let asset = AssetEntry(ip: try reader.ip("ip"), observation: try readObservation(reader, countName: "packets"))
        for macReader in try reader.objects("macs") {
            let text = try macReader.string("mac")
            guard let mac = parseMAC(text) else { throw macReader.fail("mac", "invalid MAC address \"\(text)\"; expected 00:1d:9c:12:34:56") }
            asset.macs.insert(mac)
        }
        for (index, value) in try reader.array("ttls").enumerated() {
            guard case .int(let ttl) = value, (0...255).contains(ttl) else {
                throw BaselineFileError(file: reader.file, location: "\(reader.member("ttls"))[\(index)]",
                                        problem: "expected a TTL from 0 to 255, found \(JSONReader.kind(value))")
            }
            asset.ttls.insert(UInt8(ttl))
        }
        asset.review = try reader.review()
        return asset
    }

    static func parseMAC(_ text: String) -> MACAddress? {
        let parts = text.split(separator: ":", omittingEmptySubsequences: false)
        guard parts.count == 6 else { return nil }
        var value: UInt64 = 0
        for part in parts {
            guard part.count == 2, let byte = UInt8(part, radix: 16) else { return nil }
            value = value << 8 | UInt64(byte)
        }
        return MACAddress(value)
    }

    static func readConversation(_ reader: JSONReader) throws -> ConversationEntry {
        let transport = try reader.string("transport")
        guard let ipProtocol = ProtocolNames.ipProtocol(transport: transport) else {
            throw reader.fail("transport", "unknown transport \"\(transport)\"; expected tcp, udp, icmp or an IP protocol number")
        }
        let key = ConversationKey(client: try reader.ip("client"), server: try reader.ip("server"), ipProtocol: ipProtocol,
                                  port: UInt16(try reader.int("port", in: 0...65_535)),
                                  appProto: try reader.optionalString("protocol"))
        let conversation = ConversationEntry(key: key, observation: try readObservation(reader, countName: "requests"))
        conversation.flows = try reader.count("flows")
        conversation.flowsWithHandshake = try reader.count("flows_with_handshake")
        conversation.flowsMidstream = try reader.count("flows_midstream")
        conversation.packets = try reader.count("packets")
        conversation.bytes = try reader.count("bytes")
        conversation.review = try reader.review()
        for operationReader in try reader.objects("operations") {
            let operation = try readOperation(operationReader)
            guard conversation.operations[operation.key] == nil else {
                throw BaselineFileError(file: reader.file, location: operationReader.path, problem: "duplicate operation \(operation.key)")
            }
            conversation.operations[operation.key] = operation
        }
        if let tlsReader = try reader.optionalObject("tls") { conversation.tls = try readTLS(tlsReader) }
        return conversation
    }

    static func readOperation(_ reader: JSONReader) throws -> OperationEntry {
        let className = try reader.string("class")
        guard let operationClass = OperationClass(rawValue: className) else {
            throw reader.fail("class", "unknown operation class \"\(className)\"; expected one of "
                + OperationClass.allCases.map(\.rawValue).joined(separator: ", "))
        }
        let key = OperationKey(protocolName: try reader.string("protocol"), name: try reader.string("name"),
                               code: Int(try reader.int("code")))
        let operation = OperationEntry(key: key, operationClass: operationClass,
                                       observation: try readObservation(reader, countName: "count"))
        operation.review = try reader.review()
        for unitReader in try reader.objects("units") {
            var unit = UnitEntry(unit: try unitReader.optionalInt("unit").map { Int($0) })
            unit.count = try unitReader.count("count")
            let low = try unitReader.optionalInt("range_min"), high = try unitReader.optionalInt("range_max")
            if let low, let high {
                guard low <= high else { throw unitReader.fail("range_min", "range_min \(low) is above range_max \(high)") }
                unit.rangeMin = Int(low)
                unit.rangeMax = Int(high)
            }
            for (index, value) in try unitReader.array("ranges").enumerated() {
                guard case .array(let bounds) = value, bounds.count == 2, case .int(let start) = bounds[0],
                      case .int(let end) = bounds[1], start <= end else {
                    throw BaselineFileError(file: reader.file, location: "\(unitReader.member("ranges"))[\(index)]",
                                            problem: "expected [start, end] with start <= end")
                }
                unit.addRange(Int(start)...Int(end))
            }
            unit.rangesOverflowed = try unitReader.bool("ranges_overflowed", default: false)
            if unit.rangesOverflowed { unit.ranges.removeAll() }
            operation.units[unit.unit] = unit
        }
        if let timing = try reader.optionalObject("timing") {
            operation.timing.intervals = try readSketch(timing, "interval_sketch")
            operation.timing.requestsPerMinute = try readSketch(timing, "requests_per_minute_sketch")
            operation.timing.pointsPerMinute = try readSketch(timing, "points_per_minute_sketch")
        }
        return operation
    }

    static func readSketch(_ reader: JSONReader, _ key: String) throws -> LogHistogram {
        var bins: [Int: UInt64] = [:]
        for (index, value) in try reader.array(key).enumerated() {
            guard case .array(let pair) = value, pair.count == 2, case .int(let bin) = pair[0], case .int(let times) = pair[1],
                  LogHistogram.validBins.contains(Int(bin)), times >= 0 else {
                throw BaselineFileError(file: reader.file, location: "\(reader.member(key))[\(index)]",
                                        problem: "expected [bin, count] with bin in \(LogHistogram.validBins) and count >= 0")
            }
            bins[Int(bin), default: 0] &+= UInt64(times)
        }
        guard bins.count <= LogHistogram.maxBins else { throw reader.fail(key, "more than \(LogHistogram.maxBins) bins") }
        return LogHistogram(bins: bins)
    }

    static func readProgram(_ reader: JSONReader) throws -> ProgramEntry {
        let executable = try reader.string("executable")
        guard !executable.isEmpty else { throw reader.fail("executable", "empty executable; give the program's path") }
        let key = ProgramKey(host: try reader.ip("host"), protocolName: try reader.string("protocol"), executable: executable)
        let program = ProgramEntry(key: key, observation: try readObservation(reader, countName: "flows"))
        program.commandLinesOverflowed = try reader.bool("command_lines_overflowed", default: false)
        let commandLines = try reader.strings("command_lines")
        if !program.commandLinesOverflowed {
            guard commandLines.count <= ProgramEntry.maxCommandLines else {
                throw reader.fail("command_lines", "\(commandLines.count) command lines, more than the "
                    + "\(ProgramEntry.maxCommandLines) kept; remove some or set command_lines_overflowed to true")
            }
            program.commandLines = Set(commandLines)
        }
        for (index, text) in try reader.strings("servers").enumerated() {
            guard let endpoint = parseServerEndpoint(text) else {
                throw BaselineFileError(file: reader.file, location: "\(reader.member("servers"))[\(index)]",
                                        problem: "invalid server \"\(text)\"; expected 10.20.1.21:502 or [fd00::21]:502")
            }
            program.addServer(endpoint)
        }
        program.serversOverflowed = try reader.bool("servers_overflowed", default: false) || program.serversOverflowed
        for user in try reader.strings("users") { program.addUser(user) }
        for name in try reader.strings("host_names") { program.addHostName(name) }
        program.review = try reader.review()
        return program
    }

    /// Parses `10.20.1.21:502` or `[fd00::21]:502`.
    static func parseServerEndpoint(_ text: String) -> ServerEndpoint? {
        guard let colon = text.lastIndex(of: ":"), let port = UInt16(text[text.index(after: colon)...]) else { return nil }
        var host = text[..<colon]
        if host.hasPrefix("[") && host.hasSuffix("]") { host = host.dropFirst().dropLast() }
        guard let address = IPAddress(String(host)) else { return nil }
        return ServerEndpoint(server: address, port: port)
    }

    static func readAllowRule(_ reader: JSONReader) throws -> AllowRule {
        var rule = AllowRule(id: try reader.string("id"), reason: try reader.string("reason"))
        rule.expires = try reader.optionalTime("expires")
        rule.asset = try reader.optionalNetwork("asset")
        rule.client = try reader.optionalNetwork("client")
        rule.server = try reader.optionalNetwork("server")
        rule.port = try reader.optionalInt("port", in: 0...65_535).map { UInt16($0) }
        rule.protocolName = try reader.optionalString("protocol")
        rule.operation = try reader.optionalString("operation")
        rule.operationClass = try reader.optionalString("operation_class")
        if let name = rule.operationClass, OperationClass(rawValue: name) == nil {
            throw reader.fail("operation_class", "unknown operation class \"\(name)\"; expected one of "
                + OperationClass.allCases.map(\.rawValue).joined(separator: ", "))
        }
        rule.event = try reader.optionalString("event")
        guard rule.hasMatchField else {
            throw BaselineFileError(file: reader.file, location: reader.path, problem: "allow rule \"\(rule.id)\" matches "
                + "everything; add at least one of asset, client, server, port, protocol, operation, operation_class, event")
        }
        return rule
    }

    static func readWindow(_ reader: JSONReader) throws -> MaintenanceWindow {
        var assets: [IPNetwork] = []
        for (index, value) in try reader.array("assets").enumerated() {
            guard case .string(let text) = value, let network = IPNetwork(text) else {
                throw BaselineFileError(file: reader.file, location: "\(reader.member("assets"))[\(index)]",
                                        problem: "expected an address or network such as 10.0.0.0/24, found \(JSONReader.kind(value))")
            }
            assets.append(network)
        }
        let schedule: MaintenanceWindow.Schedule
        if let weekly = try reader.optionalObject("weekly") {
            var days: Set<Int> = []
            for (index, value) in try weekly.array("days").enumerated() {
                guard case .string(let name) = value, let day = dayNames.firstIndex(of: name.lowercased().prefix(3).description) else {
                    throw BaselineFileError(file: reader.file, location: "\(weekly.member("days"))[\(index)]",
                                            problem: "expected a day name (mon, tue, wed, thu, fri, sat, sun), found \(JSONReader.kind(value))")
                }
                days.insert(day)
            }
            guard !days.isEmpty else { throw weekly.fail("days", "missing; list at least one day such as [\"sun\"]") }
            let startText = try weekly.string("start"), endText = try weekly.string("end")
            guard let start = UTCTime.parseClock(startText, allowSeconds: false), start < 86_400 else {
                throw weekly.fail("start", "invalid time of day \"\(startText)\"; expected HH:MM in UTC")
            }
            guard let end = UTCTime.parseClock(endText, allowSeconds: false) else {
                throw weekly.fail("end", "invalid time of day \"\(endText)\"; expected HH:MM in UTC")
            }
            schedule = .weekly(days: days, start: start, end: end)
        } else {
            let start = try reader.time("start"), end = try reader.time("end")
            guard start < end else { throw reader.fail("end", "end \(UTCTime.format(end)) is not after start \(UTCTime.format(start))") }
            schedule = .absolute(start: start, end: end)
        }
        return MaintenanceWindow(id: try reader.string("id"), reason: try reader.string("reason"), assets: assets, schedule: schedule)
    }
}
