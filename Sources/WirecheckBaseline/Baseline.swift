import WirecheckCore
import WirecheckProtocols

/// Review state that an operator edits by hand in the baseline file. Learning never changes it.
public struct Review: Equatable, Sendable {
    /// False until someone approves the entry. Unapproved entries still count as known traffic
    /// (they are under review), and `baseline show` lists them as pending.
    public var approved: Bool = false
    public var note: String?

    public init(approved: Bool = false, note: String? = nil) {
        self.approved = approved
        self.note = note
    }
}

/// When an entry was seen and how often.
public struct Observation: Equatable, Sendable {
    public var firstSeen: Timestamp
    public var lastSeen: Timestamp
    public var count: UInt64

    public init(firstSeen: Timestamp, lastSeen: Timestamp, count: UInt64) {
        self.firstSeen = firstSeen
        self.lastSeen = lastSeen
        self.count = count
    }

    init(at time: Timestamp) {
        self.init(firstSeen: time, lastSeen: time, count: 0)
    }

    mutating func record(_ time: Timestamp, times: UInt64 = 1) {
        if time < firstSeen { firstSeen = time }
        if time > lastSeen { lastSeen = time }
        count &+= times
    }

    mutating func merge(_ other: Observation) {
        if other.firstSeen < firstSeen { firstSeen = other.firstSeen }
        if other.lastSeen > lastSeen { lastSeen = other.lastSeen }
        count &+= other.count
    }
}

/// One host, keyed by IP address, learned from the packets it sent.
public final class AssetEntry {
    public let ip: IPAddress
    /// Source MAC addresses seen with this IP address. A routed host shows its router's MAC.
    public var macs: Set<MACAddress> = []
    /// IPv4 TTLs or IPv6 hop limits seen. A new value means the path to the host changed.
    public var ttls: Set<UInt8> = []
    /// Roles per protocol, derived from the conversations (`modbus client`, `dnp3 outstation`).
    public var roles: Set<String> = []
    /// Packets sent by this host.
    public var observation: Observation
    public var review = Review()

    public init(ip: IPAddress, observation: Observation) {
        self.ip = ip
        self.observation = observation
    }
}

/// A client, server, transport, service port and application protocol: the identity of a
/// conversation, with the client port left out because it changes with every connection.
public struct ConversationKey: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var client: IPAddress
    public var server: IPAddress
    public var ipProtocol: UInt8
    public var port: UInt16
    /// `app_proto`, or nil when the flow's content was not identified.
    public var appProto: String?

    public init(client: IPAddress, server: IPAddress, ipProtocol: UInt8, port: UInt16, appProto: String?) {
        self.client = client
        self.server = server
        self.ipProtocol = ipProtocol
        self.port = port
        self.appProto = appProto
    }

    /// The conversation a flow belongs to, oriented from its originator to its responder.
    public init(flow: FlowContext, appProto: String?) {
        self.init(client: flow.srcIP, server: flow.destIP, ipProtocol: flow.ipProtocol, port: flow.destPort,
                  appProto: appProto)
    }

    public var transport: String { ProtocolNames.transport(ipProtocol) }

    /// `tcp/502 modbus` or `udp/47808`.
    public var service: String {
        "\(transport)/\(port)" + (appProto.map { " " + $0 } ?? "")
    }

    /// `10.20.1.10 → 10.20.1.21 tcp/502 modbus`: the natural key used in reports and diffs.
    public var description: String { "\(client) → \(server) \(service)" }

    public static func < (lhs: ConversationKey, rhs: ConversationKey) -> Bool {
        if lhs.client != rhs.client { return lhs.client < rhs.client }
        if lhs.server != rhs.server { return lhs.server < rhs.server }
        if lhs.ipProtocol != rhs.ipProtocol { return lhs.ipProtocol < rhs.ipProtocol }
        if lhs.port != rhs.port { return lhs.port < rhs.port }
        return (lhs.appProto ?? "") < (rhs.appProto ?? "")
    }
}

/// The address pair of a conversation without its direction, to ask "have these two hosts
/// talked before, on anything?".
struct HostPair: Hashable {
    let low: IPAddress
    let high: IPAddress

    init(_ a: IPAddress, _ b: IPAddress) {
        if a < b { low = a; high = b } else { low = b; high = a }
    }
}

/// One conversation and the requests made on it.
public final class ConversationEntry {
    public let key: ConversationKey
    /// Flows that ended, of which `flowsWithHandshake` began with a TCP handshake seen from the
    /// client (so the client is known to initiate) and `flowsMidstream` were already open when
    /// the capture began.
    public var flows: UInt64 = 0
    public var flowsWithHandshake: UInt64 = 0
    public var flowsMidstream: UInt64 = 0
    public var packets: UInt64 = 0
    public var bytes: UInt64 = 0
    public var observation: Observation
    public var operations: [OperationKey: OperationEntry] = [:]
    /// JA3, JA4, JA3S, certificate and SNI values seen in the conversation's TLS handshakes.
    public var tls: [TLSValueKind: TLSValueSet] = [:]
    public var review = Review()

    public init(key: ConversationKey, observation: Observation) {
        self.key = key
        self.observation = observation
    }

    /// The side that opens the conversation: `client` when at least one flow began with a TCP
    /// handshake from the client, `unknown` when no flow start was seen.
    public var initiator: String { flowsWithHandshake > 0 ? "client" : "unknown" }

    public var sortedOperations: [OperationEntry] { operations.keys.sorted().compactMap { operations[$0] } }
}

/// An operation's identity within its conversation: protocol, name and code.
public struct OperationKey: Hashable, Comparable, Sendable, CustomStringConvertible {
    public var protocolName: String
    public var name: String
    public var code: Int

    public init(protocolName: String, name: String, code: Int) {
        self.protocolName = protocolName
        self.name = name
        self.code = code
    }

    public init(_ operation: Operation) {
        self.init(protocolName: operation.protocolName, name: operation.name, code: operation.code)
    }

    /// `write_single_register (fc 6)`.
    public var description: String { "\(name) (\(ProtocolNames.codeLabel(protocolName)) \(code))" }

    public static func < (lhs: OperationKey, rhs: OperationKey) -> Bool {
        if lhs.protocolName != rhs.protocolName { return lhs.protocolName < rhs.protocolName }
        if lhs.code != rhs.code { return lhs.code < rhs.code }
        return lhs.name < rhs.name
    }
}

/// Addresses seen for one unit (Modbus unit id, DNP3 outstation address, IEC 104 common address).
public struct UnitEntry: Equatable, Sendable {
    /// Maximum distinct ranges kept per unit. Beyond it, only the overall minimum and maximum remain.
    static let maxDistinctRanges = 16

    public var unit: Int?
    public var count: UInt64 = 0
    public var rangeMin: Int?
    public var rangeMax: Int?
    /// Distinct ranges in order, while there are at most `maxDistinctRanges` of them.
    public var ranges: [ClosedRange<Int>] = []
    /// True once more distinct ranges were seen than are kept.
    public var rangesOverflowed = false

    public init(unit: Int?) { self.unit = unit }

    mutating func record(start: Int?, end: Int?, times: UInt64 = 1) {
        count &+= times
        guard let start else { return }
        let last = max(start, end ?? start)
        addRange(start...last)
    }

    mutating func addRange(_ range: ClosedRange<Int>) {
        rangeMin = min(rangeMin ?? range.lowerBound, range.lowerBound)
        rangeMax = max(rangeMax ?? range.upperBound, range.upperBound)
        guard !rangesOverflowed, !ranges.contains(range) else { return }
        if ranges.count >= UnitEntry.maxDistinctRanges {
            rangesOverflowed = true
            ranges.removeAll()
        } else {
            ranges.append(range)
            ranges.sort { $0.lowerBound != $1.lowerBound ? $0.lowerBound < $1.lowerBound : $0.upperBound < $1.upperBound }
        }
    }

    mutating func merge(_ other: UnitEntry) {
        count &+= other.count
        if other.rangesOverflowed, let low = other.rangeMin, let high = other.rangeMax {
            rangeMin = min(rangeMin ?? low, low)
            rangeMax = max(rangeMax ?? high, high)
            rangesOverflowed = true
            ranges.removeAll()
        }
        for range in other.ranges { addRange(range) }
    }

    /// True when `start...end` lies within the learned min/max.
    func covers(start: Int, end: Int) -> Bool {
        guard let rangeMin, let rangeMax else { return false }
        return start >= rangeMin && end <= rangeMax
    }
}

/// Timing of one operation on one conversation. Intervals are measured between repeats of the
/// same request (unit and start address) and pooled, so a poll cycle that reads several units or
/// register blocks back to back keeps the cycle's period.
public struct OperationTiming: Equatable, Sendable {
    /// Intervals between consecutive repeats of a request, in seconds. Gaps longer than
    /// `BaselineLearner.maxPollingInterval` are left out because they are outages or capture
    /// boundaries, not a polling period.
    public var intervals = LogHistogram()
    /// Requests per minute, one value per minute in which the operation was seen.
    public var requestsPerMinute = LogHistogram()
    /// Registers, points or objects addressed per minute (the sum of range sizes).
    public var pointsPerMinute = LogHistogram()

    public init() {}

    public var periodMedian: Double? { intervals.median }
    public var periodSpread: Double? { intervals.medianAbsoluteDeviation }

    /// True when the operation repeats regularly enough to expect a period: at least
    /// `minimumIntervals` intervals whose median absolute deviation is under a quarter of the median.
    public var isPeriodic: Bool {
        guard intervals.count >= OperationTiming.minimumIntervals, let median = periodMedian,
              let spread = periodSpread else { return false }
        return spread <= median / 4
    }

    /// Intervals needed before a period counts as learned.
    static let minimumIntervals: UInt64 = 10

    mutating func merge(_ other: OperationTiming) {
        intervals.merge(other.intervals)
        requestsPerMinute.merge(other.requestsPerMinute)
        pointsPerMinute.merge(other.pointsPerMinute)
    }
}

/// One operation seen on one conversation.
public final class OperationEntry {
    public let key: OperationKey
    public var operationClass: OperationClass
    public var observation: Observation
    public var units: [Int?: UnitEntry] = [:]
    public var timing = OperationTiming()
    public var review = Review()

    public init(key: OperationKey, operationClass: OperationClass, observation: Observation) {
        self.key = key
        self.operationClass = operationClass
        self.observation = observation
    }

    public var sortedUnits: [UnitEntry] {
        units.values.sorted { ($0.unit ?? Int.min) < ($1.unit ?? Int.min) }
    }
}

/// A capture file the baseline was learned from.
public struct CaptureRecord: Equatable, Sendable {
    public var path: String
    /// Lowercase hex SHA-256 of the file; the natural key, so a renamed file is still recognised.
    public var sha256: String
    /// Packets learned from this capture (with `LearnThenDetect`, only those before the cut-off).
    public var packets: UInt64 = 0
    public var firstPacket: Timestamp?
    public var lastPacket: Timestamp?
    /// How many times this file was learned; above 1, its counts are in the baseline more than once.
    public var timesLearned: UInt64 = 1
    public var review = Review()

    public init(path: String, sha256: String) {
        self.path = path
        self.sha256 = sha256
    }
}

/// The approved communication baseline: which hosts exist, who talks to whom on what, which
/// operations they use on which addresses and how often, plus the operator's review state,
/// allow rules and maintenance windows. Saved as a JSON file meant to be kept in git.
public final class Baseline {
    public static let formatVersion = 1

    public var assets: [IPAddress: AssetEntry] = [:]
    public var conversations: [ConversationKey: ConversationEntry] = [:]
    /// Programs that initiated industrial-protocol flows, per host and protocol, from host telemetry.
    public var programs: [ProgramKey: ProgramEntry] = [:]
    public var captures: [CaptureRecord] = []
    public var allowRules: [AllowRule] = []
    public var maintenanceWindows: [MaintenanceWindow] = []
    /// Entries the learner could not add because a limit was reached.
    public var droppedEntries: UInt64 = 0
    /// True when the IEEE OUI registry was not readable when vendors were looked up.
    public var vendorRegistryMissing = false

    public init() {}

    public var sortedAssets: [AssetEntry] { assets.keys.sorted().compactMap { assets[$0] } }
    public var sortedConversations: [ConversationEntry] { conversations.keys.sorted().compactMap { conversations[$0] } }
    public var sortedPrograms: [ProgramEntry] { programs.keys.sorted().compactMap { programs[$0] } }

    /// Recomputes each asset's roles from the conversations it takes part in.
    public func refreshRoles() {
        for asset in assets.values { asset.roles.removeAll() }
        for conversation in conversations.values {
            guard let proto = conversation.key.appProto, let roles = ProtocolNames.roles[proto] else { continue }
            assets[conversation.key.client]?.roles.insert("\(proto) \(roles.client)")
            assets[conversation.key.server]?.roles.insert("\(proto) \(roles.server)")
        }
    }
}
