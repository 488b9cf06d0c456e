import WirecheckCore

/// One Windows event reduced to what the Sysmon record builder needs, whatever format it came in.
///
/// `fields` uses Sysmon's own EventData names (`Image`, `ProcessId`, `SourceIp`), so the JSON
/// readers translate ECS or shipper names into these before building records.
struct SysmonEvent {
    var eventID: Int
    /// Provider or channel name when the format carries one; nil when it does not.
    var provider: String?
    var computer: String?
    /// Time the event was written (System/TimeCreated or the shipper's `@timestamp`), used when
    /// the event has no `UtcTime` field.
    var systemTime: String?
    var fields: [String: String]
    var location: String
}

/// Sysmon event ids this module turns into records.
enum SysmonEventID {
    static let processCreate = 1
    static let networkConnect = 3
    static let processTerminate = 5
    static let dnsQuery = 22
}

/// The outcome of handing one event to `SysmonRecordBuilder`.
enum RecordOutcome {
    case process
    case processEnd
    case connection
    case dnsQuery
    case other
    case problem(String)
}

/// Builds process, connection and DNS records from Sysmon events.
enum SysmonRecordBuilder {
    static func add(_ event: SysmonEvent, file: String, to load: inout HostTelemetryLoad) -> RecordOutcome {
        if let provider = event.provider, !provider.lowercased().contains("sysmon") {
            return .other
        }
        let source = TelemetrySource(file: file, location: event.location)
        switch event.eventID {
        case SysmonEventID.processCreate:
            return addProcess(event, source: source, to: &load)
        case SysmonEventID.processTerminate:
            return addProcessEnd(event, source: source, to: &load)
        case SysmonEventID.networkConnect:
            return addConnection(event, source: source, to: &load)
        case SysmonEventID.dnsQuery:
            return addDNSQuery(event, source: source, to: &load)
        default:
            return .other
        }
    }

    /// Returns the field value, or nil when it is missing, empty or Sysmon's `-` placeholder.
    static func value(_ event: SysmonEvent, _ name: String) -> String? {
        guard let text = event.fields[name] else { return nil }
        let trimmed = text.trimmingWhitespace()
        if trimmed.isEmpty || trimmed == "-" { return nil }
        return trimmed
    }

    /// Returns a command line as written, keeping surrounding spaces, or nil when it is missing,
    /// empty or `-`.
    static func commandLine(_ event: SysmonEvent, _ name: String) -> String? {
        guard value(event, name) != nil else { return nil }
        return event.fields[name]
    }

    static func time(_ event: SysmonEvent) -> Timestamp? {
        if let text = value(event, "UtcTime"), let time = TimeParser.parse(text) { return time }
        if let text = event.systemTime, let time = TimeParser.parse(text) { return time }
        return nil
    }

    /// Returns the image path, or nil for Sysmon's `<unknown process>` placeholder.
    static func image(_ event: SysmonEvent, _ name: String = "Image") -> String? {
        guard let image = value(event, name), image != "<unknown process>" else { return nil }
        return image
    }

    static func pid(_ event: SysmonEvent, _ name: String) -> Int? {
        value(event, name).flatMap { Int($0) }
    }

    /// Returns the process GUID, or nil for the all-zero GUID Sysmon writes when it has none.
    static func guid(_ event: SysmonEvent, _ name: String) -> String? {
        guard let text = value(event, name) else { return nil }
        if text.allSatisfy({ $0 == "0" || $0 == "-" || $0 == "{" || $0 == "}" }) { return nil }
        return text.lowercased()
    }

    private static func addProcess(_ event: SysmonEvent, source: TelemetrySource,
                                   to load: inout HostTelemetryLoad) -> RecordOutcome {
        guard let start = time(event) else {
            return .problem("process creation without a valid UtcTime (\(event.fields["UtcTime"] ?? "missing"))")
        }
        let record = ProcessRecord(
            hostName: event.computer, pid: pid(event, "ProcessId"), processGUID: guid(event, "ProcessGuid"),
            executable: image(event), commandLine: commandLine(event, "CommandLine"), user: value(event, "User"),
            parentPID: pid(event, "ParentProcessId"), parentExecutable: image(event, "ParentImage"),
            parentCommandLine: commandLine(event, "ParentCommandLine"), start: start, end: nil, source: source)
        guard record.pid != nil || record.processGUID != nil else {
            return .problem("process creation with neither ProcessId nor ProcessGuid")
        }
        load.processes.append(record)
        return .process
    }

    private static func addProcessEnd(_ event: SysmonEvent, source: TelemetrySource,
                                      to load: inout HostTelemetryLoad) -> RecordOutcome {
        guard let end = time(event) else {
            return .problem("process termination without a valid UtcTime (\(event.fields["UtcTime"] ?? "missing"))")
        }
        let record = ProcessRecord(
            hostName: event.computer, pid: pid(event, "ProcessId"), processGUID: guid(event, "ProcessGuid"),
            executable: image(event), start: nil, end: end, source: source)
        guard record.pid != nil || record.processGUID != nil else {
            return .problem("process termination with neither ProcessId nor ProcessGuid")
        }
        load.processes.append(record)
        return .processEnd
    }

    private static func addConnection(_ event: SysmonEvent, source: TelemetrySource,
                                      to load: inout HostTelemetryLoad) -> RecordOutcome {
        guard let time = time(event) else {
            return .problem("network connection without a valid UtcTime (\(event.fields["UtcTime"] ?? "missing"))")
        }
        let transportText = (value(event, "Protocol") ?? "").lowercased()
        guard let transport = TelemetryTransport(rawValue: transportText) else {
            return .problem("network connection with unsupported Protocol '\(transportText)'; expected tcp or udp")
        }
        guard let sourceIP = address(event, "SourceIp", ipv6Flag: "SourceIsIpv6") else {
            return .problem("network connection with invalid SourceIp '\(event.fields["SourceIp"] ?? "missing")'")
        }
        guard let destinationIP = address(event, "DestinationIp", ipv6Flag: "DestinationIsIpv6") else {
            return .problem("network connection with invalid DestinationIp '\(event.fields["DestinationIp"] ?? "missing")'")
        }
        guard let sourcePort = value(event, "SourcePort").flatMap({ UInt16($0) }) else {
            return .problem("network connection with invalid SourcePort '\(event.fields["SourcePort"] ?? "missing")'")
        }
        guard let destinationPort = value(event, "DestinationPort").flatMap({ UInt16($0) }) else {
            return .problem("network connection with invalid DestinationPort '\(event.fields["DestinationPort"] ?? "missing")'")
        }
        // Sysmon fills Source with the remote side when the logging process did not initiate.
        let initiated = (value(event, "Initiated") ?? "true").lowercased() != "false"
        let record = ConnectionRecord(
            time: time, transport: transport,
            localAddress: initiated ? sourceIP : destinationIP,
            localPort: initiated ? sourcePort : destinationPort,
            remoteAddress: initiated ? destinationIP : sourceIP,
            remotePort: initiated ? destinationPort : sourcePort,
            direction: initiated ? .initiated : .accepted,
            hostName: event.computer, pid: pid(event, "ProcessId"), processGUID: guid(event, "ProcessGuid"),
            executable: image(event), user: value(event, "User"), source: source)
        load.connections.append(record)
        return .connection
    }

    private static func addDNSQuery(_ event: SysmonEvent, source: TelemetrySource,
                                    to load: inout HostTelemetryLoad) -> RecordOutcome {
        guard let time = time(event) else {
            return .problem("DNS query without a valid UtcTime (\(event.fields["UtcTime"] ?? "missing"))")
        }
        guard let name = value(event, "QueryName") else {
            return .problem("DNS query without a QueryName")
        }
        let (addresses, canonicalNames) = parseQueryResults(event.fields["QueryResults"] ?? "")
        load.dnsQueries.append(DNSQueryRecord(
            time: time, hostName: event.computer, pid: pid(event, "ProcessId"), processGUID: guid(event, "ProcessGuid"),
            executable: image(event), queryName: name, addresses: addresses, canonicalNames: canonicalNames,
            source: source))
        return .dnsQuery
    }

    /// Parses Sysmon's QueryResults: `;`-separated addresses and `type:  N value` entries for
    /// other record types, of which CNAME (type 5) is kept.
    static func parseQueryResults(_ text: String) -> ([IPAddress], [String]) {
        var addresses: [IPAddress] = []
        var names: [String] = []
        for piece in text.split(separator: ";") {
            let entry = String(piece).trimmingWhitespace()
            if entry.isEmpty || entry == "-" { continue }
            if entry.hasPrefix("type:") {
                let parts = entry.dropFirst(5).split(separator: " ", omittingEmptySubsequences: true)
                if parts.count >= 2, parts[0] == "5" { names.append(String(parts[1])) }
                continue
            }
            if let address = IPAddress(entry) { addresses.append(address.unmappingIPv4()) }
        }
        return (addresses, names)
    }

    /// Parses an address field, repairing Sysmon 9.01's IPv4 written as malformed IPv6.
    static func address(_ event: SysmonEvent, _ name: String, ipv6Flag: String) -> IPAddress? {
        guard let text = value(event, name), let parsed = IPAddress(text) else { return nil }
        let flaggedIPv6 = (value(event, ipv6Flag) ?? "").lowercased() == "true"
        if flaggedIPv6, let repaired = parsed.repairedSysmonIPv4() { return repaired }
        return parsed.unmappingIPv4()
    }
}

extension IPAddress {
    /// Returns the IPv4 address for an IPv4-mapped IPv6 address (`::ffff:a.b.c.d`), else self.
    func unmappingIPv4() -> IPAddress {
        if case .v6(let high, let low) = self, high == 0, low >> 32 == 0xffff {
            return .v4(UInt32(truncatingIfNeeded: low))
        }
        return self
    }

    /// Returns the IPv4 address hidden in an address Sysmon 9.01 wrote as IPv6, or nil for a
    /// plausible IPv6 address. Sysmon 9.01 printed the bytes of an IPv4 socket address as IPv6,
    /// so the first four bytes are the IPv4 address and the rest is garbage: for example
    /// `a00:20f:0:0:18a2:6e00:e0:ffff` is 10.0.2.15.
    ///
    /// NOTE: only addresses outside every assigned IPv6 block are repaired (not 2000::/3,
    /// fc00::/7, fe80::/10, ff00::/8 or ::/64), so an IPv4 address from 32.0.0.0 to 63.255.255.255
    /// written this way stays unrepaired.
    func repairedSysmonIPv4() -> IPAddress? {
        guard case .v6(let high, _) = self else { return nil }
        let firstByte = UInt8(high >> 56)
        let firstGroup = UInt16(high >> 48)
        let assigned = (firstByte & 0xe0) == 0x20 || (firstByte & 0xfe) == 0xfc
            || (firstGroup & 0xffc0) == 0xfe80 || firstByte == 0xff || high == 0
        if assigned { return nil }
        return .v4(UInt32(truncatingIfNeeded: high >> 32))
    }
}

extension String {
    /// Splits on LF bytes and drops a trailing CR. Splitting on the Character "\n" would miss
    /// CRLF line ends, because Swift treats "\r\n" as one Character.
    func lines() -> [Substring] {
        utf8.split(separator: 0x0a, omittingEmptySubsequences: false).map { slice in
            var line = Substring(slice)
            if line.utf8.last == 0x0d { line = Substring(line.utf8.dropLast()) }
            return line
        }
    }

    func trimmingWhitespace() -> String {
        var scalars = Substring(self)
        while let first = scalars.first, first.isWhitespace { scalars.removeFirst() }
        while let last = scalars.last, last.isWhitespace { scalars.removeLast() }
        return String(scalars)
    }
}

/// Parses the UTC times the telemetry formats write into timestamps without Foundation's slow
/// date formatters.
enum TimeParser {
    /// Parses `YYYY-MM-DD hh:mm:ss[.fraction][Z]` with a space or `T` separator, as UTC.
    /// Returns nil for anything else, including explicit offsets other than `Z`.
    static func parse(_ text: String) -> Timestamp? {
        let bytes = Array(text.utf8)
        guard bytes.count >= 19 else { return nil }
        func number(_ start: Int, _ count: Int) -> Int? {
            var value = 0
            for index in start..<(start + count) {
                let byte = bytes[index]
                guard byte >= 0x30, byte <= 0x39 else { return nil }
                value = value * 10 + Int(byte - 0x30)
            }
            return value
        }
        guard bytes[4] == 0x2d, bytes[7] == 0x2d, bytes[10] == 0x20 || bytes[10] == 0x54,
              bytes[13] == 0x3a, bytes[16] == 0x3a,
              let year = number(0, 4), let month = number(5, 2), let day = number(8, 2),
              let hour = number(11, 2), let minute = number(14, 2), let second = number(17, 2),
              (1...12).contains(month), (1...31).contains(day), hour < 24, minute < 60, second < 61
        else { return nil }
        var nanoseconds: Int64 = 0
        var index = 19
        if index < bytes.count, bytes[index] == 0x2e {
            index += 1
            var scale: Int64 = 100_000_000
            while index < bytes.count, bytes[index] >= 0x30, bytes[index] <= 0x39 {
                nanoseconds += Int64(bytes[index] - 0x30) * scale
                scale /= 10
                index += 1
            }
        }
        if index < bytes.count, bytes[index] == 0x5a { index += 1 }
        guard index == bytes.count else { return nil }
        let days = daysFromCivil(year: year, month: month, day: day)
        let seconds = Int64(days) * 86_400 + Int64(hour * 3600 + minute * 60 + second)
        return Timestamp(seconds: seconds, nanoseconds: nanoseconds)
    }

    /// Days since 1970-01-01 for a proleptic Gregorian date (Howard Hinnant's `days_from_civil`).
    static func daysFromCivil(year: Int, month: Int, day: Int) -> Int {
        let shiftedYear = month <= 2 ? year - 1 : year
        let era = (shiftedYear >= 0 ? shiftedYear : shiftedYear - 399) / 400
        let yearOfEra = shiftedYear - era * 400
        let dayOfYear = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }
}
