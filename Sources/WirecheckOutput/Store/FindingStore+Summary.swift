import WirecheckCore

/// One recorded run.
public struct RunRecord: Equatable, Sendable {
    public var id: Int
    public var started: Timestamp
    public var finished: Timestamp?
    /// Capture source names, indexed by `PacketReference.source`.
    public var sources: [String]
    public var packets: Int64?
    /// The run's stats object, empty when none was recorded.
    public var stats: JSONObject
}

/// One host of the asset inventory.
public struct AssetRecord: Hashable, Sendable {
    public var ip: String
    public var mac: String?
    public var vendor: String?
    public var firstSeen: Timestamp
    public var lastSeen: Timestamp
    /// Roles learned from flows, such as `modbus server` or `dnp3 client`, sorted.
    public var roles: [String]
}

/// Traffic between two hosts over one application protocol, summed over flows.
public struct ConversationRecord: Hashable, Sendable {
    public var srcIP: String
    public var destIP: String
    /// The application protocol, or nil when none was identified.
    public var appProto: String?
    public var flows: Int
    public var bytes: Int64
    /// Alerts raised on this pair of hosts with this protocol.
    public var alerts: Int
}

/// How often one operation was seen on one conversation.
public struct OperationCountRecord: Hashable, Sendable {
    public var proto: String
    public var srcIP: String
    public var destIP: String
    public var operationClass: String
    public var name: String
    public var count: Int
}

/// Flow counts that show how much of the traffic the sensor could see and read.
public struct FlowCoverageRecord: Hashable, Sendable {
    public var flows: Int
    /// Flows whose history has letters of one side only (all uppercase or all lowercase).
    public var oneSidedFlows: Int
    /// Flows picked up after their TCP handshake.
    public var midstreamFlows: Int
    public var totalBytes: Int64
    /// Bytes of flows whose application protocol is in `FindingStore.encryptedProtocols`.
    public var encryptedBytes: Int64
}

extension FindingStore {
    /// Application protocols whose payload the sensor cannot read.
    public static let encryptedProtocols = ["tls", "dtls", "ssh", "ikev2", "quic"]

    /// Lists the recorded runs, oldest first.
    public func runs() throws -> [RunRecord] {
        let statement = try cachedStatement("SELECT id, started, finished, sources, packets, stats FROM runs ORDER BY id")
        var rows: [RunRecord] = []
        while try statement.step() {
            var stats = JSONObject()
            if let text = statement.text(5) {
                var parser = MiniJSONParser(text)
                stats = JSONText.object(parser.parseValue()) ?? JSONObject()
            }
            rows.append(RunRecord(id: Int(statement.int(0)), started: Timestamp(nanoseconds: statement.int(1)),
                                  finished: statement.optionalInt(2).map(Timestamp.init(nanoseconds:)),
                                  sources: JSONText.stringArray(statement.text(3) ?? "[]"),
                                  packets: statement.optionalInt(4), stats: stats))
        }
        statement.reset()
        return rows
    }

    /// Lists assets sorted by address; with `runID`, only hosts seen in that run's flows, alerts or anomalies.
    public func assets(runID: Int? = nil) throws -> [AssetRecord] {
        // The writer keeps asset changes in memory until a batch commits, so write them first.
        if mode == .readWrite { try writeChangedAssets() }
        let sql: String
        if runID == nil {
            sql = "SELECT ip, mac, vendor, first_seen, last_seen, roles FROM assets"
        } else {
            sql = """
                SELECT ip, mac, vendor, first_seen, last_seen, roles FROM assets WHERE ip IN (
                    SELECT src_ip FROM flows WHERE run = ?1 UNION SELECT dest_ip FROM flows WHERE run = ?1
                    UNION SELECT src_ip FROM alerts WHERE run = ?1 UNION SELECT dest_ip FROM alerts WHERE run = ?1
                    UNION SELECT src_ip FROM anomalies WHERE run = ?1 UNION SELECT dest_ip FROM anomalies WHERE run = ?1)
                """
        }
        let statement = try cachedStatement(sql)
        if let runID { statement.bind(1, Int64(runID)) }
        var rows: [AssetRecord] = []
        while try statement.step() {
            rows.append(AssetRecord(ip: statement.text(0) ?? "", mac: statement.text(1), vendor: statement.text(2),
                                    firstSeen: Timestamp(nanoseconds: statement.int(3)),
                                    lastSeen: Timestamp(nanoseconds: statement.int(4)),
                                    roles: JSONText.stringArray(statement.text(5) ?? "[]").sorted()))
        }
        statement.reset()
        return rows.sorted { lhs, rhs in
            switch (IPAddress(lhs.ip), IPAddress(rhs.ip)) {
            case let (left?, right?): return left < right
            default: return lhs.ip < rhs.ip
            }
        }
    }

    /// Lists conversations (source, destination, application protocol) with their alert counts.
    public func conversations(runID: Int? = nil) throws -> [ConversationRecord] {
        let runFilter = runID == nil ? "" : "WHERE run = ?1"
        let statement = try cachedStatement("""
            SELECT f.src_ip, f.dest_ip, f.app_proto, f.flows, f.bytes,
                (SELECT count(*) FROM alerts a WHERE a.src_ip = f.src_ip AND a.dest_ip = f.dest_ip
                    AND a.app_proto IS f.app_proto \(runID == nil ? "" : "AND a.run = ?1"))
            FROM (SELECT src_ip, dest_ip, app_proto, count(*) AS flows,
                      sum(bytes_toserver + bytes_toclient) AS bytes
                  FROM flows \(runFilter) GROUP BY src_ip, dest_ip, app_proto) AS f
            ORDER BY f.src_ip, f.dest_ip, f.app_proto
            """)
        if let runID { statement.bind(1, Int64(runID)) }
        var rows: [ConversationRecord] = []
        while try statement.step() {
            rows.append(ConversationRecord(srcIP: statement.text(0) ?? "", destIP: statement.text(1) ?? "",
                                           appProto: statement.text(2), flows: Int(statement.int(3)),
                                           bytes: statement.int(4), alerts: Int(statement.int(5))))
        }
        statement.reset()
        return rows
    }

    /// Counts operations by protocol, conversation, class and name.
    public func operationCounts(runID: Int? = nil) throws -> [OperationCountRecord] {
        let statement = try cachedStatement("""
            SELECT protocol, coalesce(src_ip, ''), coalesce(dest_ip, ''), coalesce(class, 'other'),
                coalesce(name, 'unknown'), count(*)
            FROM operations \(runID == nil ? "" : "WHERE run = ?1")
            GROUP BY 1, 2, 3, 4, 5 ORDER BY 1, 2, 3, 4, 5
            """)
        if let runID { statement.bind(1, Int64(runID)) }
        var rows: [OperationCountRecord] = []
        while try statement.step() {
            rows.append(OperationCountRecord(proto: statement.text(0) ?? "", srcIP: statement.text(1) ?? "",
                                             destIP: statement.text(2) ?? "", operationClass: statement.text(3) ?? "",
                                             name: statement.text(4) ?? "", count: Int(statement.int(5))))
        }
        statement.reset()
        return rows
    }

    /// Counts flows by what the sensor could see of them.
    public func flowCoverage(runID: Int? = nil) throws -> FlowCoverageRecord {
        let encrypted = FindingStore.encryptedProtocols.map { "'\($0)'" }.joined(separator: ", ")
        let statement = try cachedStatement("""
            SELECT count(*),
                coalesce(sum(CASE WHEN (history GLOB '*[A-Z]*' AND history NOT GLOB '*[a-z]*')
                    OR (history GLOB '*[a-z]*' AND history NOT GLOB '*[A-Z]*') THEN 1 ELSE 0 END), 0),
                coalesce(sum(midstream), 0),
                coalesce(sum(bytes_toserver + bytes_toclient), 0),
                coalesce(sum(CASE WHEN app_proto IN (\(encrypted)) THEN bytes_toserver + bytes_toclient ELSE 0 END), 0)
            FROM flows \(runID == nil ? "" : "WHERE run = ?1")
            """)
        if let runID { statement.bind(1, Int64(runID)) }
        defer { statement.reset() }
        guard try statement.step() else {
            return FlowCoverageRecord(flows: 0, oneSidedFlows: 0, midstreamFlows: 0, totalBytes: 0, encryptedBytes: 0)
        }
        return FlowCoverageRecord(flows: Int(statement.int(0)), oneSidedFlows: Int(statement.int(1)),
                                  midstreamFlows: Int(statement.int(2)), totalBytes: statement.int(3),
                                  encryptedBytes: statement.int(4))
    }
}
