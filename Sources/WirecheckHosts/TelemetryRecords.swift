import WirecheckCore

/// The transport protocol of a connection record or a flow.
public enum TelemetryTransport: String, Sendable, Hashable {
    case tcp
    case udp
}

/// The side that opened the connection, seen from the host that logged it.
public enum ConnectionDirection: String, Sendable, Hashable {
    /// The logging host's process called connect (Sysmon `Initiated=true`).
    case initiated
    /// The logging host's process accepted the connection (Sysmon `Initiated=false`).
    case accepted
}

/// The origin of a record: the file and the line (text formats) or record number (EVTX).
public struct TelemetrySource: Sendable, Hashable, CustomStringConvertible {
    public var file: String
    /// `line 12`, `record 40`, `recovered record 3`, or `audit event 58` for an auditd event.
    public var location: String

    public init(file: String, location: String) {
        self.file = file
        self.location = location
    }

    public var description: String { "\(file) \(location)" }
}

/// A process as one host's telemetry describes it (Sysmon EID 1 and 5, auditd SYSCALL+EXECVE).
public struct ProcessRecord: Sendable, Hashable {
    public var hostName: String?
    public var pid: Int?
    /// Sysmon's ProcessGuid, which stays unique when the operating system reuses a pid.
    public var processGUID: String?
    public var executable: String?
    public var commandLine: String?
    public var user: String?
    public var parentPID: Int?
    public var parentExecutable: String?
    public var parentCommandLine: String?
    public var start: Timestamp?
    public var end: Timestamp?
    public var source: TelemetrySource

    public init(hostName: String? = nil, pid: Int? = nil, processGUID: String? = nil, executable: String? = nil,
                commandLine: String? = nil, user: String? = nil, parentPID: Int? = nil,
                parentExecutable: String? = nil, parentCommandLine: String? = nil,
                start: Timestamp? = nil, end: Timestamp? = nil, source: TelemetrySource) {
        self.hostName = hostName
        self.pid = pid
        self.processGUID = processGUID
        self.executable = executable
        self.commandLine = commandLine
        self.user = user
        self.parentPID = parentPID
        self.parentExecutable = parentExecutable
        self.parentCommandLine = parentCommandLine
        self.start = start
        self.end = end
        self.source = source
    }
}

/// One socket connection as a host logged it (Sysmon EID 3, auditd connect/accept).
///
/// Local and remote are seen from the logging host. auditd logs only the peer address of a
/// connect or accept, so `localAddress` and `localPort` are nil for auditd records.
public struct ConnectionRecord: Sendable, Hashable {
    public var time: Timestamp
    public var transport: TelemetryTransport
    public var localAddress: IPAddress?
    public var localPort: UInt16?
    public var remoteAddress: IPAddress
    public var remotePort: UInt16
    public var direction: ConnectionDirection
    public var hostName: String?
    public var pid: Int?
    public var processGUID: String?
    public var executable: String?
    public var user: String?
    /// The command line, when the connection record carries it (auditd EXECVE or PROCTITLE).
    public var commandLine: String?
    public var parentPID: Int?
    /// True for auditd connects that returned EINPROGRESS (`success=no exit=-115`): the SYN was sent.
    public var inProgress: Bool
    public var source: TelemetrySource

    public init(time: Timestamp, transport: TelemetryTransport, localAddress: IPAddress?, localPort: UInt16?,
                remoteAddress: IPAddress, remotePort: UInt16, direction: ConnectionDirection,
                hostName: String? = nil, pid: Int? = nil, processGUID: String? = nil, executable: String? = nil,
                user: String? = nil, commandLine: String? = nil, parentPID: Int? = nil,
                inProgress: Bool = false, source: TelemetrySource) {
        self.time = time
        self.transport = transport
        self.localAddress = localAddress
        self.localPort = localPort
        self.remoteAddress = remoteAddress
        self.remotePort = remotePort
        self.direction = direction
        self.hostName = hostName
        self.pid = pid
        self.processGUID = processGUID
        self.executable = executable
        self.user = user
        self.commandLine = commandLine
        self.parentPID = parentPID
        self.inProgress = inProgress
        self.source = source
    }
}

/// A DNS lookup by a process (Sysmon EID 22), used to name the remote address of its connections.
public struct DNSQueryRecord: Sendable, Hashable {
    public var time: Timestamp
    public var hostName: String?
    public var pid: Int?
    public var processGUID: String?
    public var executable: String?
    public var queryName: String
    /// Addresses from QueryResults, with `::ffff:` IPv4-mapped results turned into IPv4.
    public var addresses: [IPAddress]
    /// CNAME targets from QueryResults entries written `type:  5 name`.
    public var canonicalNames: [String]
    public var source: TelemetrySource

    public init(time: Timestamp, hostName: String?, pid: Int?, processGUID: String?, executable: String?,
                queryName: String, addresses: [IPAddress], canonicalNames: [String], source: TelemetrySource) {
        self.time = time
        self.hostName = hostName
        self.pid = pid
        self.processGUID = processGUID
        self.executable = executable
        self.queryName = queryName
        self.addresses = addresses
        self.canonicalNames = canonicalNames
        self.source = source
    }
}

/// The reason one record or file could not be read, kept for the problem list.
struct TelemetryReadError: Error {
    var reason: String
}

/// A record that could not be used, and why.
public struct TelemetryProblem: Sendable, Hashable, CustomStringConvertible {
    public var file: String
    public var location: String
    public var reason: String

    public init(file: String, location: String, reason: String) {
        self.file = file
        self.location = location
        self.reason = reason
    }

    public var description: String { "\(file) \(location): \(reason)" }
}

/// The content format of a telemetry file, detected from its bytes.
public enum TelemetryFormat: String, Sendable, Hashable {
    case evtx
    case sysmonXML = "sysmon-xml"
    /// JSON written by Winlogbeat 7+ or Elastic Agent with ECS fields.
    case ecsJSON = "ecs-json"
    /// JSON written by Winlogbeat 6 (`event_id`, `event_data`).
    case winlogbeat6JSON = "winlogbeat6-json"
    /// Flat JSON with Sysmon field names at the top level (NXLog, Logstash).
    case flatJSON = "flat-json"
    /// Azure Log Analytics export with `EventData` as an embedded JSON or XML string.
    case logAnalyticsJSON = "loganalytics-json"
    case auditd
    case unknown
}

/// Per-file outcome of a load: the format, what was read, and what could not be used.
public struct TelemetryFileSummary: Sendable {
    public var file: String
    /// The format of most records; JSON files can mix flavours record by record.
    public var format: TelemetryFormat
    public var processRecords = 0
    public var processEndRecords = 0
    public var connectionRecords = 0
    public var dnsQueryRecords = 0
    /// Records of other kinds (other event ids, auditd record types) that were read and skipped.
    public var otherRecords = 0
    public var problems = 0
    /// EVTX records recovered from free space that were unreadable, incomplete or copies of live records.
    public var skippedRecoveredRecords = 0
    /// EVTX records recovered from free space that were read into records (included in the counts above).
    public var recoveredRecordsUsed = 0
    /// Set when the whole file could not be read (not found, gzip failed, not a known format).
    public var error: String?

    public init(file: String, format: TelemetryFormat) {
        self.file = file
        self.format = format
    }
}

/// Everything read from a set of telemetry files.
public struct HostTelemetryLoad: Sendable {
    /// Limit on stored problem examples, so a file of garbage cannot fill memory; `problemCount` keeps the total.
    public static let maxStoredProblems = 200

    public var processes: [ProcessRecord] = []
    public var connections: [ConnectionRecord] = []
    public var dnsQueries: [DNSQueryRecord] = []
    public var files: [TelemetryFileSummary] = []
    /// The first `maxStoredProblems` problems, in the order they were found.
    public var problems: [TelemetryProblem] = []
    public var problemCount = 0

    public init() {}

    mutating func addProblem(_ problem: TelemetryProblem) {
        problemCount += 1
        if problems.count < HostTelemetryLoad.maxStoredProblems {
            problems.append(problem)
        }
    }
}

/// The hosts module emits no events itself: the engine adds attribution fields to flow events.
public enum HostsCatalogue: EventCatalogue {
    public static let anomalies: [AnomalyDefinition] = []
    public static let alerts: [AlertDefinition] = []
}
