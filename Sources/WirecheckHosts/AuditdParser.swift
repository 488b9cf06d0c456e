import WirecheckCore

/// Reads Linux audit logs (`/var/log/audit/audit.log` lines, optionally `node=`-prefixed) into
/// connection and process records.
///
/// Records of one event share `msg=audit(seconds.millis:serial)`. They are grouped by node and
/// that whole stamp, so records arriving out of order still meet. A serial reused after the
/// 32-bit counter wraps has a different time, so it does not merge two events.
struct AuditdParser {
    /// Limit on events waiting for more records, so a log without EOE records cannot fill
    /// memory. When it is reached, the oldest event is completed. The value is an estimate:
    /// the kernel writes the records of one event together, so few events are pending at once.
    static let maxPendingEvents = 4096

    /// One audit record: its type and key=value fields.
    struct Record {
        var type: String
        var fields: [String: String]
        /// Keys whose values were written unquoted (hex-encoded when they hold strings).
        var unquoted: Set<String>
        var line: Int
    }

    struct Event {
        var node: String?
        var time: Timestamp
        var serial: UInt32
        var records: [Record] = []
    }

    /// Syscall numbers by audit `arch` value, from the kernel's syscall tables.
    static let connectSyscalls: [String: Set<Int>] = [
        "c000003e": [42], // x86_64 connect
        "c00000b7": [203], // aarch64 connect
    ]
    static let acceptSyscalls: [String: Set<Int>] = [
        "c000003e": [43, 288], // x86_64 accept, accept4
        "c00000b7": [202, 242], // aarch64 accept, accept4
    ]

    /// Failed connects that still sent a SYN: EINPROGRESS (non-blocking socket, handshake under
    /// way), ECONNREFUSED (the peer sent a reset) and ETIMEDOUT.
    static let attemptedConnectExits: Set<String> = ["-115", "-111", "-110"]

    let file: String
    private var pending: [String: Event] = [:]
    private var pendingOrder: [String] = []

    init(file: String) {
        self.file = file
    }

    /// Returns true when the text starts like an audit log.
    static func looksLikeAuditd(_ firstLine: Substring) -> Bool {
        firstLine.hasPrefix("type=") || (firstLine.hasPrefix("node=") && firstLine.contains(" type="))
    }

    mutating func parse(text: String, into load: inout HostTelemetryLoad, summary: inout TelemetryFileSummary) {
        var lineNumber = 0
        for line in text.lines() {
            lineNumber += 1
            if line.allSatisfy({ $0 == " " || $0 == "\t" }) { continue }
            switch parseLine(line, number: lineNumber) {
            case .failure(let problem):
                summary.problems += 1
                load.addProblem(TelemetryProblem(file: file, location: "line \(lineNumber)", reason: problem.reason))
            case .success(let (key, event, record)):
                if pending[key] == nil {
                    pending[key] = event
                    pendingOrder.append(key)
                }
                pending[key]?.records.append(record)
                if record.type == "EOE" {
                    complete(key, into: &load, summary: &summary)
                } else if pending.count > AuditdParser.maxPendingEvents, let oldest = pendingOrder.first {
                    complete(oldest, into: &load, summary: &summary)
                }
            }
        }
        for key in pendingOrder where pending[key] != nil {
            complete(key, into: &load, summary: &summary)
        }
        pendingOrder.removeAll()
    }

    private mutating func complete(_ key: String, into load: inout HostTelemetryLoad, summary: inout TelemetryFileSummary) {
        guard let event = pending.removeValue(forKey: key) else { return }
        if let index = pendingOrder.firstIndex(of: key) { pendingOrder.remove(at: index) }
        switch AuditdEventBuilder.build(event, file: file, into: &load) {
        case .connection: summary.connectionRecords += 1
        case .process: summary.processRecords += 1
        case .problem(let reason):
            summary.problems += 1
            let lines = event.records.map { String($0.line) }.joined(separator: ",")
            load.addProblem(TelemetryProblem(file: file, location: "audit event \(event.serial) (lines \(lines))", reason: reason))
        default: summary.otherRecords += 1
        }
    }

    private func parseLine(_ line: Substring, number: Int) -> Result<(String, Event, Record), TelemetryReadError> {
        var rest = line
        var node: String?
        if rest.hasPrefix("node=") {
            guard let space = rest.firstIndex(of: " ") else {
                return .failure(.init(reason: "truncated record: only a node= field"))
            }
            node = String(rest[rest.index(rest.startIndex, offsetBy: 5)..<space])
            rest = rest[rest.index(after: space)...]
        }
        guard rest.hasPrefix("type="), let typeEnd = rest.firstIndex(of: " ") else {
            return .failure(.init(reason: "not an audit record: expected 'type=TYPE msg=audit(...)'"))
        }
        let type = String(rest[rest.index(rest.startIndex, offsetBy: 5)..<typeEnd])
        rest = rest[rest.index(after: typeEnd)...]
        guard rest.hasPrefix("msg=audit("), let close = rest.firstIndex(of: ")") else {
            return .failure(.init(reason: "\(type) record without a msg=audit(seconds:serial) stamp"))
        }

        let stamp = rest[rest.index(rest.startIndex, offsetBy: 10)..<close]
        guard let colon = stamp.firstIndex(of: ":"),
              let time = AuditdParser.parseStamp(stamp[stamp.startIndex..<colon]),
              let serial = UInt32(stamp[stamp.index(after: colon)...]) else {
            return .failure(.init(reason: "\(type) record with an invalid stamp 'audit(\(stamp))'"))
        }

        var body = rest[rest.index(after: close)...]
        if body.hasPrefix(":") { body = body.dropFirst() }
        // The ENRICHED log format appends interpreted fields (UID="root") after a 0x1D separator.
        let separated = body.contains("\u{1d}") ? Substring(String(body.map { $0 == "\u{1d}" ? " " : $0 })) : body
        let (fields, unquoted) = AuditdParser.parseFields(separated)
        let key = "\(node ?? "")|\(stamp)"
        let event = Event(node: node, time: time, serial: serial)
        return .success((key, event, Record(type: type, fields: fields, unquoted: unquoted, line: number)))
    }

    /// Parses `seconds.millis` into a timestamp.
    static func parseStamp(_ text: Substring) -> Timestamp? {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 2, let seconds = Int64(parts[0]), parts[1].count <= 9,
              let fraction = Int64(parts[1]) else { return nil }
        var nanoseconds = fraction
        for _ in parts[1].count..<9 { nanoseconds *= 10 }
        return Timestamp(seconds: seconds, nanoseconds: nanoseconds)
    }

    /// Splits `key=value key="quoted value" key='quoted'` pairs. A value cut off by a missing
    /// closing quote runs to the end of the line.
    static func parseFields(_ body: Substring) -> ([String: String], Set<String>) {
        var fields: [String: String] = [:]
        var unquoted: Set<String> = []
        var index = body.startIndex
        while index < body.endIndex {
            while index < body.endIndex, body[index] == " " { index = body.index(after: index) }
            guard index < body.endIndex, let equals = body[index...].firstIndex(of: "=") else { break }
            let key = String(body[index..<equals])
            var valueStart = body.index(after: equals)
            if key.contains(" ") {
                // A bare word without '=' (for example `user` in USER_CMD records); skip it.
                index = body[index...].firstIndex(of: " ") ?? body.endIndex
                continue
            }
            if valueStart < body.endIndex, body[valueStart] == "\"" || body[valueStart] == "'" {
                let quote = body[valueStart]
                valueStart = body.index(after: valueStart)
                let valueEnd = body[valueStart...].firstIndex(of: quote) ?? body.endIndex
                fields[key] = String(body[valueStart..<valueEnd])
                index = valueEnd < body.endIndex ? body.index(after: valueEnd) : valueEnd
            } else {
                let valueEnd = body[valueStart...].firstIndex(of: " ") ?? body.endIndex
                fields[key] = String(body[valueStart..<valueEnd])
                unquoted.insert(key)
                index = valueEnd
            }
        }
        return (fields, unquoted)
    }
}

/// Turns one grouped audit event into records.
enum AuditdEventBuilder {
    enum Outcome {
        case connection
        case process
        case other
        case problem(String)
    }

    /// Limit on EXECVE arguments joined into a command line, so a forged `argc` cannot make
    /// the reader loop for billions of missing fields.
    static let maxExecveArguments = 4096

    /// execve on the architectures in `AuditdParser.connectSyscalls`.
    static let execveSyscalls: [String: Int] = ["c000003e": 59, "c00000b7": 221]

    static func build(_ event: AuditdParser.Event, file: String, into load: inout HostTelemetryLoad) -> Outcome {
        guard let syscall = event.records.first(where: { $0.type == "SYSCALL" }) else { return .other }
        let arch = (syscall.fields["arch"] ?? "").lowercased()
        let syscallText = syscall.fields["syscall"] ?? ""
        let number = Int(syscallText)
        let isConnect = syscallText == "connect" || number.map { AuditdParser.connectSyscalls[arch]?.contains($0) ?? false } ?? false
        let isAccept = syscallText == "accept" || syscallText == "accept4"
            || (number.map { AuditdParser.acceptSyscalls[arch]?.contains($0) ?? false } ?? false)
        let isExecve = syscallText == "execve" || (number != nil && number == execveSyscalls[arch])
        let source = TelemetrySource(file: file, location: "line \(syscall.line)")
        let process = processDetails(event, syscall: syscall)

        if isExecve {
            guard syscall.fields["success"] == "yes" else { return .other }
            load.processes.append(ProcessRecord(
                hostName: event.node, pid: process.pid, executable: process.executable, commandLine: process.commandLine,
                user: process.user, parentPID: process.parentPID, start: event.time, source: source))
            return .process
        }
        guard isConnect || isAccept else { return .other }

        let success = syscall.fields["success"] ?? ""
        let exit = syscall.fields["exit"] ?? ""
        let attempted = success == "yes" || (isConnect && AuditdParser.attemptedConnectExits.contains(exit))
        guard attempted else { return .other }
        guard let sockaddr = event.records.first(where: { $0.type == "SOCKADDR" })?.fields["saddr"] else {
            // accept(fd, NULL, NULL) logs no peer address; a connect always carries one unless it was lost.
            return isConnect ? .problem("connect by pid \(process.pid.map(String.init) ?? "?") without a SOCKADDR record; the peer address is unknown") : .other
        }
        switch SocketAddress.decode(hex: sockaddr) {
        case .failure(let error):
            return .problem(error.reason)
        case .success(nil):
            return .other
        case .success(let peer?):
            // NOTE: auditd does not record the socket type, so a connected UDP socket is logged as tcp here.
            load.connections.append(ConnectionRecord(
                time: event.time, transport: .tcp, localAddress: nil, localPort: nil,
                remoteAddress: peer.address, remotePort: peer.port,
                direction: isConnect ? .initiated : .accepted, hostName: event.node, pid: process.pid,
                executable: process.executable, user: process.user, commandLine: process.commandLine,
                parentPID: process.parentPID, inProgress: exit == "-115", source: source))
            return .connection
        }
    }

    struct ProcessDetails {
        var pid: Int?
        var parentPID: Int?
        var executable: String?
        var commandLine: String?
        var user: String?
    }

    static func processDetails(_ event: AuditdParser.Event, syscall: AuditdParser.Record) -> ProcessDetails {
        var details = ProcessDetails()
        details.pid = syscall.fields["pid"].flatMap { Int($0) }
        details.parentPID = syscall.fields["ppid"].flatMap { Int($0) }
        details.executable = decodedString(syscall, "exe")
        if let uid = syscall.fields["UID"] ?? syscall.fields["uid"] {
            details.user = uid
        }
        if let execve = event.records.first(where: { $0.type == "EXECVE" }) {
            let count = execve.fields["argc"].flatMap { Int($0) } ?? 0
            var arguments: [String] = []
            for index in 0..<min(count, AuditdEventBuilder.maxExecveArguments) {
                guard let argument = decodedString(execve, "a\(index)") else { break }
                arguments.append(argument)
            }
            if !arguments.isEmpty { details.commandLine = arguments.joined(separator: " ") }
        }
        if details.commandLine == nil, let title = event.records.first(where: { $0.type == "PROCTITLE" }),
           let raw = title.fields["proctitle"] {
            if title.unquoted.contains("proctitle"), let bytes = hexBytes(raw) {
                // The kernel separates arguments with NUL bytes.
                details.commandLine = String(wireBytes: bytes.map { $0 == 0 ? 0x20 : $0 }).trimmingWhitespace()
            } else {
                details.commandLine = raw
            }
        }
        return details
    }

    /// Returns a string field, hex-decoded when auditd wrote it unquoted as hex (it does so for
    /// values with spaces, quotes or control characters). `(null)` and `?` give nil.
    static func decodedString(_ record: AuditdParser.Record, _ key: String) -> String? {
        guard let value = record.fields[key] else { return nil }
        if value == "(null)" || value == "?" { return nil }
        if record.unquoted.contains(key), let bytes = hexBytes(value) {
            return String(wireBytes: bytes)
        }
        return value
    }

    static func hexBytes(_ text: String) -> [UInt8]? {
        let digits = Array(text.utf8)
        guard !digits.isEmpty, digits.count % 2 == 0 else { return nil }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(digits.count / 2)
        var index = 0
        while index < digits.count {
            guard let high = hexValue(digits[index]), let low = hexValue(digits[index + 1]) else { return nil }
            bytes.append(high << 4 | low)
            index += 2
        }
        return bytes
    }

    static func hexValue(_ digit: UInt8) -> UInt8? {
        switch digit {
        case 0x30...0x39: return digit - 0x30
        case 0x41...0x46: return digit - 0x41 + 10
        case 0x61...0x66: return digit - 0x61 + 10
        default: return nil
        }
    }
}

/// A decoded `struct sockaddr` from a SOCKADDR record.
struct SocketAddress: Equatable {
    var address: IPAddress
    var port: UInt16

    static let familyUnix: UInt16 = 1
    static let familyIPv4: UInt16 = 2
    static let familyIPv6: UInt16 = 10

    /// Decodes the hex `saddr`. Returns nil for families without an IP peer (AF_UNIX, AF_NETLINK),
    /// or an error naming the family or length that is wrong.
    static func decode(hex: String) -> Result<SocketAddress?, TelemetryReadError> {
        guard let bytes = AuditdEventBuilder.hexBytes(hex) else {
            return .failure(.init(reason: "SOCKADDR saddr '\(hex.prefix(40))' is not hex"))
        }
        guard bytes.count >= 2 else {
            return .failure(.init(reason: "SOCKADDR saddr of \(bytes.count) bytes is too short for an address family"))
        }
        // sa_family is in host byte order; audit logs come from little-endian hosts here.
        // NOTE: logs from big-endian hosts (s390x) would need the family read big-endian.
        let family = UInt16(bytes[0]) | UInt16(bytes[1]) << 8
        let port = bytes.count >= 4 ? UInt16(bytes[2]) << 8 | UInt16(bytes[3]) : 0
        switch family {
        case familyIPv4:
            guard bytes.count >= 8 else {
                return .failure(.init(reason: "AF_INET SOCKADDR of \(bytes.count) bytes; expected at least 8"))
            }
            let value = UInt32(bytes[4]) << 24 | UInt32(bytes[5]) << 16 | UInt32(bytes[6]) << 8 | UInt32(bytes[7])
            return .success(SocketAddress(address: .v4(value), port: port))
        case familyIPv6:
            guard bytes.count >= 24 else {
                return .failure(.init(reason: "AF_INET6 SOCKADDR of \(bytes.count) bytes; expected at least 24"))
            }
            var high: UInt64 = 0, low: UInt64 = 0
            for index in 8..<16 { high = high << 8 | UInt64(bytes[index]) }
            for index in 16..<24 { low = low << 8 | UInt64(bytes[index]) }
            return .success(SocketAddress(address: IPAddress.v6(high, low).unmappingIPv4(), port: port))
        default:
            return .success(nil)
        }
    }
}
