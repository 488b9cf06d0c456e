import WirecheckCore

/// The way a flow was matched to a connection record.
public enum AttributionMethod: String, Sendable {
    /// Same 5-tuple and the record within `ProcessAttributor.exactWindow` seconds of the flow start.
    case exact
    /// Same 5-tuple, further apart than the exact window but within the clock skew tolerance.
    case withinSkew = "within_skew"
    /// Only the remote address and port matched, because the record has no local side. auditd
    /// logs only the peer of a connect or accept, so the nearest record in time is taken.
    case remoteEndpoint = "remote_endpoint"
}

/// The process on one end of a flow, as host telemetry names it.
public struct Attribution: Sendable {
    public var pid: Int?
    public var processGUID: String?
    public var executable: String?
    public var commandLine: String?
    public var user: String?
    public var parentPID: Int?
    public var parentExecutable: String?
    public var hostName: String?
    /// Whether the process initiated or accepted the connection.
    public var direction: ConnectionDirection
    public var method: AttributionMethod
    /// Record time minus flow start, in seconds.
    public var deltaSeconds: Double
    /// The name the process looked up (Sysmon EID 22) that resolved to the remote address.
    public var dnsQuery: String?
    /// The connection record that matched, with its file and location as evidence.
    public var connection: ConnectionRecord
}

/// The processes on both ends of a flow; either may be nil.
public struct FlowAttribution: Sendable {
    public var client: Attribution?
    public var server: Attribution?
}

/// Matches flows to the processes that host telemetry records as owners of their sockets.
///
/// Records are indexed by 5-tuple (and by remote endpoint for records without a local side), so
/// each lookup costs one dictionary access plus a scan of the records that share the key.
public final class ProcessAttributor {
    /// Maximum |record time − flow start| for an `exact` match, in seconds.
    public static let exactWindow = 1.0

    public let clockSkewTolerance: Double
    private let telemetry: HostTelemetryLoad
    var telemetryConnections: [ConnectionRecord] { telemetry.connections }
    private var byTuple: [TupleKey: [Int]] = [:]
    private var byRemoteEndpoint: [EndpointKey: [Int]] = [:]
    private var processesByGUID: [String: ProcessInfo] = [:]
    private var processesByPID: [HostPID: [ProcessInfo]] = [:]
    private var dnsByProcess: [String: [Int]] = [:]

    struct TupleKey: Hashable {
        var transport: TelemetryTransport
        var local: IPAddress
        var localPort: UInt16
        var remote: IPAddress
        var remotePort: UInt16
    }

    struct EndpointKey: Hashable {
        var remote: IPAddress
        var remotePort: UInt16
    }

    struct HostPID: Hashable {
        var host: String
        var pid: Int
    }

    /// A process with EID 1 and EID 5 (or execve) records merged.
    struct ProcessInfo {
        var record: ProcessRecord

        func contains(_ time: Timestamp, tolerance: Double) -> Bool {
            if let start = record.start, time.interval(since: start) < -tolerance { return false }
            if let end = record.end, time.interval(since: end) > tolerance { return false }
            return true
        }
    }

    /// Indexes the records; `clockSkewTolerance` is the largest clock difference, in seconds,
    /// accepted between a host's telemetry and the capture.
    public init(telemetry: HostTelemetryLoad, clockSkewTolerance: Double = 5) {
        self.telemetry = telemetry
        self.clockSkewTolerance = clockSkewTolerance
        for (index, record) in telemetry.connections.enumerated() {
            if let local = record.localAddress, let localPort = record.localPort {
                let key = TupleKey(transport: record.transport, local: local, localPort: localPort,
                                   remote: record.remoteAddress, remotePort: record.remotePort)
                byTuple[key, default: []].append(index)
            } else {
                byRemoteEndpoint[EndpointKey(remote: record.remoteAddress, remotePort: record.remotePort), default: []].append(index)
            }
        }
        indexProcesses()
        for (index, query) in telemetry.dnsQueries.enumerated() {
            for key in Self.processKeys(host: query.hostName, pid: query.pid, guid: query.processGUID) {
                dnsByProcess[key, default: []].append(index)
            }
        }
    }

    private func indexProcesses() {
        // Merge termination records into creation records of the same process GUID.
        var merged: [ProcessInfo] = []
        var indexByGUID: [String: Int] = [:]
        for record in telemetry.processes {
            if let guid = record.processGUID, let existing = indexByGUID[guid] {
                var info = merged[existing]
                info.record.end = info.record.end ?? record.end
                info.record.start = info.record.start ?? record.start
                info.record.pid = info.record.pid ?? record.pid
                info.record.executable = info.record.executable ?? record.executable
                merged[existing] = info
                continue
            }
            if let guid = record.processGUID { indexByGUID[guid] = merged.count }
            merged.append(ProcessInfo(record: record))
        }
        for info in merged {
            if let guid = info.record.processGUID { processesByGUID[guid] = info }
            if let pid = info.record.pid {
                processesByPID[HostPID(host: Self.normalizedHost(info.record.hostName), pid: pid), default: []].append(info)
            }
        }
    }

    static func normalizedHost(_ name: String?) -> String {
        (name ?? "").lowercased()
    }

    /// Keys that identify a process for the DNS index: its GUID, else host and pid.
    static func processKeys(host: String?, pid: Int?, guid: String?) -> [String] {
        if let guid { return ["guid:" + guid] }
        if let pid { return ["pid:\(normalizedHost(host)):\(pid)"] }
        return []
    }

    /// Returns the process on the client end of the flow when the client host logged it, else
    /// the process on the server end, else nil.
    public func attribute(transport: TelemetryTransport, clientIP: IPAddress, clientPort: UInt16,
                          serverIP: IPAddress, serverPort: UInt16, start: Timestamp) -> Attribution? {
        let ends = attributeEnds(transport: transport, clientIP: clientIP, clientPort: clientPort,
                                 serverIP: serverIP, serverPort: serverPort, start: start)
        return ends.client ?? ends.server
    }

    /// Returns the processes on both ends of the flow. Both can be set when both hosts run
    /// telemetry, and for loopback flows, where one host logs both sockets.
    public func attributeEnds(transport: TelemetryTransport, clientIP: IPAddress, clientPort: UInt16,
                              serverIP: IPAddress, serverPort: UInt16, start: Timestamp) -> FlowAttribution {
        let clientKey = TupleKey(transport: transport, local: clientIP, localPort: clientPort, remote: serverIP, remotePort: serverPort)
        let serverKey = TupleKey(transport: transport, local: serverIP, localPort: serverPort, remote: clientIP, remotePort: clientPort)
        var client = bestMatch(byTuple[clientKey] ?? [], start: start, method: nil)
        var server = bestMatch(byTuple[serverKey] ?? [], start: start, method: nil)
        if client == nil {
            // Connect records without a local side name the server as their remote end.
            let candidates = (byRemoteEndpoint[EndpointKey(remote: serverIP, remotePort: serverPort)] ?? [])
                .filter { telemetry.connections[$0].direction == .initiated && telemetry.connections[$0].transport == transport }
            client = bestMatch(candidates, start: start, method: .remoteEndpoint)
        }
        if server == nil {
            let candidates = (byRemoteEndpoint[EndpointKey(remote: clientIP, remotePort: clientPort)] ?? [])
                .filter { telemetry.connections[$0].direction == .accepted && telemetry.connections[$0].transport == transport }
            server = bestMatch(candidates, start: start, method: .remoteEndpoint)
        }
        return FlowAttribution(client: client, server: server)
    }

    /// Picks the record nearest the flow start within the skew tolerance. When the process
    /// lifetime is known, the process must have been alive at the flow start. A non-nil
    /// `method` replaces the exact/within-skew choice, for remote-endpoint matches.
    private func bestMatch(_ candidates: [Int], start: Timestamp, method: AttributionMethod?) -> Attribution? {
        var best: (index: Int, delta: Double, process: ProcessInfo?)?
        for index in candidates {
            let record = telemetry.connections[index]
            let delta = record.time.interval(since: start)
            guard abs(delta) <= clockSkewTolerance else { continue }
            let process = findProcess(host: record.hostName, pid: record.pid, guid: record.processGUID, at: record.time)
            if let process, !process.contains(start, tolerance: clockSkewTolerance) { continue }
            if best == nil || abs(delta) < abs(best!.delta) {
                best = (index, delta, process)
            }
        }
        guard let best else { return nil }
        let record = telemetry.connections[best.index]
        let resolvedMethod = method ?? (abs(best.delta) <= Self.exactWindow ? .exact : .withinSkew)
        return makeAttribution(record, process: best.process, method: resolvedMethod, delta: best.delta)
    }

    private func makeAttribution(_ record: ConnectionRecord, process: ProcessInfo?, method: AttributionMethod,
                                 delta: Double) -> Attribution {
        let details = process?.record
        var attribution = Attribution(
            pid: record.pid ?? details?.pid, processGUID: record.processGUID ?? details?.processGUID,
            executable: record.executable ?? details?.executable,
            commandLine: record.commandLine ?? details?.commandLine,
            user: record.user ?? details?.user,
            parentPID: record.parentPID ?? details?.parentPID,
            parentExecutable: details?.parentExecutable,
            hostName: record.hostName ?? details?.hostName,
            direction: record.direction, method: method, deltaSeconds: delta, dnsQuery: nil, connection: record)
        if attribution.parentExecutable == nil, let parentPID = attribution.parentPID {
            attribution.parentExecutable = findProcess(host: record.hostName, pid: parentPID, guid: nil, at: record.time)?.record.executable
        }
        attribution.dnsQuery = dnsName(for: record)
        return attribution
    }

    /// Returns the process by GUID, else the process with that pid on that host alive at `time`,
    /// else the latest one started before `time`.
    private func findProcess(host: String?, pid: Int?, guid: String?, at time: Timestamp) -> ProcessInfo? {
        if let guid, let info = processesByGUID[guid] { return info }
        guard let pid, let infos = processesByPID[HostPID(host: Self.normalizedHost(host), pid: pid)] else { return nil }
        if let alive = infos.first(where: { $0.contains(time, tolerance: 0) && $0.record.start != nil }) { return alive }
        return infos.filter { ($0.record.start ?? time) <= time }.max { ($0.record.start ?? .zero) < ($1.record.start ?? .zero) }
    }

    /// Returns the latest name this process looked up that resolved to the record's remote
    /// address, no later than the connection plus the skew tolerance.
    private func dnsName(for record: ConnectionRecord) -> String? {
        var best: DNSQueryRecord?
        for key in Self.processKeys(host: record.hostName, pid: record.pid, guid: record.processGUID) {
            for index in dnsByProcess[key] ?? [] {
                let query = telemetry.dnsQueries[index]
                guard query.addresses.contains(record.remoteAddress),
                      query.time.interval(since: record.time) <= clockSkewTolerance else { continue }
                if best == nil || query.time > best!.time { best = query }
            }
        }
        return best?.queryName
    }

    /// Returns ECS-style fields for a flow event: `process`, `host` and `dns` objects.
    public func eveFields(_ attribution: Attribution) -> JSONObject {
        var process = JSONObject()
        if let pid = attribution.pid { process.set("pid", .int(pid)) }
        if let guid = attribution.processGUID { process.set("entity_id", .string(guid)) }
        if let executable = attribution.executable { process.set("executable", .wire(Array(executable.utf8))) }
        if let commandLine = attribution.commandLine { process.set("command_line", .wire(Array(commandLine.utf8))) }
        if let user = attribution.user { process.set("user", .string(user)) }
        var parent = JSONObject()
        if let parentPID = attribution.parentPID { parent.set("pid", .int(parentPID)) }
        if let parentExecutable = attribution.parentExecutable { parent.set("executable", .wire(Array(parentExecutable.utf8))) }
        if !parent.isEmpty { process.set("parent", .object(parent)) }
        let roundedDelta = (attribution.deltaSeconds * 1000).rounded() / 1000
        process.set("match", .object([
            "method": .string(attribution.method.rawValue),
            "delta_seconds": .double(roundedDelta),
            "direction": .string(attribution.direction.rawValue),
            "record": .string(attribution.connection.source.description),
        ]))
        var fields = JSONObject()
        fields.set("process", .object(process))
        if let host = attribution.hostName { fields.set("host", .object(["name": .string(host)])) }
        if let query = attribution.dnsQuery { fields.set("dns", .object(["query": .string(query)])) }
        return fields
    }
}
