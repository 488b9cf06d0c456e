import WirecheckCore

/// Filters for listing stored alerts, flows and anomalies. Every filter is optional and they
/// combine with AND. Values are always bound as SQL parameters.
public struct FindingQuery: Sendable, Equatable {
    /// Earliest time to include (alert or anomaly time; for flows, the flow's end).
    public var since: Timestamp?
    /// Latest time to include (alert or anomaly time; for flows, the flow's start).
    public var until: Timestamp?
    /// An IP address that must be the source or the destination.
    public var host: String?
    /// The application protocol (`modbus`, `dnp3`, `tls`).
    public var appProto: String?
    /// The lowest-priority severity to include: 1 keeps only high, 2 keeps high and medium.
    /// For flows, it keeps flows with an alert of that severity or higher.
    public var maxSeverity: Int?
    /// An alert rule (`modbus.write_request`) or an anomaly name (`applayer.modbus.invalid_protocol_id`).
    /// For flows, it keeps flows that raised that alert.
    public var name: String?
    /// Restricts the result to one run.
    public var runID: Int?
    /// The maximum number of rows, newest first; nil returns every match.
    public var limit: Int?

    public init(since: Timestamp? = nil, until: Timestamp? = nil, host: String? = nil, appProto: String? = nil,
                maxSeverity: Int? = nil, name: String? = nil, runID: Int? = nil, limit: Int? = nil) {
        self.since = since
        self.until = until
        self.host = host
        self.appProto = appProto
        self.maxSeverity = maxSeverity
        self.name = name
        self.runID = runID
        self.limit = limit
    }

    /// Builds a query from command-line text: times as ISO 8601 or a duration before `now`
    /// (`24h`), a host as an IP address, a severity from 1 to 3. Throws `invalidFilter` naming
    /// the value that did not parse.
    public static func parse(since: String? = nil, until: String? = nil, host: String? = nil, appProto: String? = nil,
                             maxSeverity: String? = nil, name: String? = nil, runID: Int? = nil, limit: Int? = nil,
                             now: Timestamp = FindingStore.wallClock()) throws -> FindingQuery {
        var query = FindingQuery(appProto: appProto, name: name, runID: runID, limit: limit)
        query.since = try since.map { try TimeFilterParser.parse($0, now: now) }
        query.until = try until.map { try TimeFilterParser.parse($0, now: now) }
        if let host {
            guard let address = IPAddress(host) else {
                throw FindingStoreError.invalidFilter(name: "host", value: host, expected: "an IPv4 or IPv6 address")
            }
            // Stored addresses are in canonical text form (RFC 5952 for IPv6), so match that form.
            query.host = address.description
        }
        if let maxSeverity {
            guard let level = Int(maxSeverity), (1...3).contains(level) else {
                throw FindingStoreError.invalidFilter(name: "severity", value: maxSeverity,
                                                      expected: "1 (high), 2 (medium) or 3 (low)")
            }
            query.maxSeverity = level
        }
        return query
    }
}

/// Builds the WHERE clause of a query from fixed SQL fragments and a parameter list.
private struct WhereClause {
    var conditions: [String] = []
    var values: [SQLiteValue] = []
    /// An address that must be the source or the destination, matched by `FindingStore.querySQL`.
    var host: String?

    mutating func add(_ condition: String, _ parameters: SQLiteValue...) {
        conditions.append(condition)
        values.append(contentsOf: parameters)
    }

    /// Returns the WHERE text and its values, with `hostColumn = ?` first when a host is set.
    func sql(hostColumn: String?) -> (String, [SQLiteValue]) {
        var allConditions = conditions, allValues = values
        if let hostColumn, let host {
            allConditions.insert("\(hostColumn) = ?", at: 0)
            allValues.insert(.text(host), at: 0)
        }
        return (allConditions.isEmpty ? "" : " WHERE " + allConditions.joined(separator: " AND "), allValues)
    }
}

extension FindingStore {
    static let alertColumns = """
        run, time, rule, signature_id, signature, category, severity, technique_id, technique_name, flow_id,
        src_ip, src_port, dest_ip, dest_port, app_proto, message, evidence, process_executable,
        process_command_line, process_pid, process_user, host_name, suppressed, id
        """

    /// Lists alerts matching `query`, newest first.
    public func alerts(matching query: FindingQuery) throws -> [AlertRecord] {
        var clause = WhereClause()
        addCommonFilters(query, timeColumn: "time", to: &clause)
        if let severity = query.maxSeverity { clause.add("severity <= ?", .int(Int64(severity))) }
        if let name = query.name { clause.add("rule = ?", .text(name)) }
        let statement = try prepareQuery("SELECT \(FindingStore.alertColumns) FROM alerts", clause,
                                         order: "time DESC, id DESC", limit: query.limit)
        var rows: [AlertRecord] = []
        while try statement.step() { rows.append(FindingStore.alertRecord(statement)) }
        statement.reset()
        return rows
    }

    static func alertRecord(_ row: SQLiteStatement) -> AlertRecord {
        AlertRecord(run: Int(row.int(0)), time: Timestamp(nanoseconds: row.int(1)), rule: row.text(2),
                    signatureID: Int(row.int(3)), signature: row.text(4) ?? "", category: row.text(5),
                    severity: Int(row.int(6)), techniqueID: row.text(7), techniqueName: row.text(8),
                    flowID: row.optionalInt(9).map { UInt64(bitPattern: $0) }, srcIP: row.text(10),
                    srcPort: row.optionalInt(11).map(Int.init), destIP: row.text(12),
                    destPort: row.optionalInt(13).map(Int.init), appProto: row.text(14), message: row.text(15),
                    evidence: EvidenceReference.parseList(row.text(16)), processExecutable: row.text(17),
                    processCommandLine: row.text(18), processPID: row.optionalInt(19), processUser: row.text(20),
                    hostName: row.text(21), suppressed: row.int(22) != 0)
    }

    /// Lists flows matching `query`, newest first. A time range keeps flows that overlap it.
    public func flows(matching query: FindingQuery) throws -> [FlowRecord] {
        var clause = WhereClause()
        addCommonFilters(query, timeColumn: nil, to: &clause)
        if let since = query.since { clause.add("\"end\" >= ?", .int(since.nanoseconds)) }
        if let until = query.until { clause.add("start <= ?", .int(until.nanoseconds)) }
        if let severity = query.maxSeverity {
            clause.add("""
                EXISTS (SELECT 1 FROM alerts WHERE alerts.run = flows.run AND alerts.flow_id = flows.flow_id \
                AND alerts.severity <= ?)
                """, .int(Int64(severity)))
        }
        if let name = query.name {
            clause.add("""
                EXISTS (SELECT 1 FROM alerts WHERE alerts.run = flows.run AND alerts.flow_id = flows.flow_id \
                AND alerts.rule = ?)
                """, .text(name))
        }
        let statement = try prepareQuery("""
            SELECT run, flow_id, community_id, src_ip, src_port, dest_ip, dest_port, proto, app_proto, start, "end",
                pkts_toserver, pkts_toclient, bytes_toserver, bytes_toclient, state, reason, conn_state, history,
                midstream, alerted, id FROM flows
            """, clause, order: "start DESC, id DESC", limit: query.limit)
        var rows: [FlowRecord] = []
        while try statement.step() {
            rows.append(FlowRecord(
                run: Int(statement.int(0)), flowID: UInt64(bitPattern: statement.int(1)), communityID: statement.text(2),
                srcIP: statement.text(3) ?? "", srcPort: statement.optionalInt(4).map(Int.init),
                destIP: statement.text(5) ?? "", destPort: statement.optionalInt(6).map(Int.init),
                proto: statement.text(7) ?? "", appProto: statement.text(8),
                start: Timestamp(nanoseconds: statement.int(9)), end: Timestamp(nanoseconds: statement.int(10)),
                packetsToServer: statement.int(11), packetsToClient: statement.int(12),
                bytesToServer: statement.int(13), bytesToClient: statement.int(14), state: statement.text(15),
                reason: statement.text(16), connState: statement.text(17), history: statement.text(18),
                midstream: statement.int(19) != 0, alerted: statement.int(20) != 0))
        }
        statement.reset()
        return rows
    }

    /// Lists anomalies matching `query`, newest first. Anomalies have no severity, so a
    /// severity filter is rejected.
    public func anomalies(matching query: FindingQuery) throws -> [AnomalyRecord] {
        if let severity = query.maxSeverity {
            throw FindingStoreError.invalidFilter(name: "severity", value: String(severity),
                                                  expected: "no severity filter, because anomalies have no severity")
        }
        var clause = WhereClause()
        addCommonFilters(query, timeColumn: "time", to: &clause)
        if let name = query.name { clause.add("name = ?", .text(name)) }
        let statement = try prepareQuery("""
            SELECT run, time, name, type, layer, flow_id, src_ip, src_port, dest_ip, dest_port, app_proto, message,
                evidence, id FROM anomalies
            """, clause, order: "time DESC, id DESC", limit: query.limit)
        var rows: [AnomalyRecord] = []
        while try statement.step() {
            rows.append(AnomalyRecord(
                run: Int(statement.int(0)), time: Timestamp(nanoseconds: statement.int(1)),
                name: statement.text(2) ?? "", type: statement.text(3), layer: statement.text(4),
                flowID: statement.optionalInt(5).map { UInt64(bitPattern: $0) }, srcIP: statement.text(6),
                srcPort: statement.optionalInt(7).map(Int.init), destIP: statement.text(8),
                destPort: statement.optionalInt(9).map(Int.init), appProto: statement.text(10),
                message: statement.text(11), evidence: EvidenceReference.parseList(statement.text(12))))
        }
        statement.reset()
        return rows
    }

    /// Adds the run, host, protocol and (when `timeColumn` is set) time filters.
    private func addCommonFilters(_ query: FindingQuery, timeColumn: String?, to clause: inout WhereClause) {
        if let runID = query.runID { clause.add("run = ?", .int(Int64(runID))) }
        clause.host = query.host
        if let appProto = query.appProto { clause.add("app_proto = ?", .text(appProto)) }
        if let timeColumn {
            if let since = query.since { clause.add("\(timeColumn) >= ?", .int(since.nanoseconds)) }
            if let until = query.until { clause.add("\(timeColumn) <= ?", .int(until.nanoseconds)) }
        }
    }

    /// Builds the SQL text and values of a query. A host filter becomes the UNION of a
    /// `src_ip = ?` and a `dest_ip = ?` query, so SQLite looks up each side in its own
    /// (address, app_proto, ...) index. With `src_ip = ? OR dest_ip = ?`, SQLite 3.40 chose
    /// the app_proto index to avoid sorting and read every flow of the protocol (0.17 s for
    /// 1M flows), which the UNION form avoids.
    private func querySQL(_ select: String, _ clause: WhereClause, order: String, limit: Int?) -> (String, [SQLiteValue]) {
        var sql: String
        var values: [SQLiteValue]
        if clause.host != nil {
            let (sourceWhere, sourceValues) = clause.sql(hostColumn: "src_ip")
            let (destinationWhere, destinationValues) = clause.sql(hostColumn: "dest_ip")
            sql = select + sourceWhere + " UNION " + select + destinationWhere
            values = sourceValues + destinationValues
        } else {
            let (whereText, whereValues) = clause.sql(hostColumn: nil)
            sql = select + whereText
            values = whereValues
        }
        sql += " ORDER BY " + order
        if let limit {
            sql += " LIMIT ?"
            values.append(.int(Int64(max(0, limit))))
        }
        return (sql, values)
    }

    private func prepareQuery(_ select: String, _ clause: WhereClause, order: String, limit: Int?) throws -> SQLiteStatement {
        let (sql, values) = querySQL(select, clause, order: order, limit: limit)
        let statement = try cachedStatement(sql)
        statement.bind(all: values)
        return statement
    }

    /// Returns the query plan SQLite chooses for an alert query, for checking index use.
    func alertQueryPlan(_ query: FindingQuery) throws -> [String] {
        var clause = WhereClause()
        addCommonFilters(query, timeColumn: "time", to: &clause)
        if let severity = query.maxSeverity { clause.add("severity <= ?", .int(Int64(severity))) }
        if let name = query.name { clause.add("rule = ?", .text(name)) }
        let (sql, values) = querySQL("SELECT \(FindingStore.alertColumns) FROM alerts", clause,
                                     order: "time DESC, id DESC", limit: nil)
        let statement = try connection.prepare("EXPLAIN QUERY PLAN " + sql)
        defer { statement.finalize() }
        statement.bind(all: values)
        var plan: [String] = []
        while try statement.step() { plan.append(statement.text(3) ?? "") }
        return plan
    }
}
