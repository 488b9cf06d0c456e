import CSQLite
import Dispatch
#if canImport(Glibc)
import Glibc
#endif
import WirecheckCore

/// The embedded findings store: a SQLite file that keeps every run's flows, protocol operations,
/// anomalies, alerts and the asset inventory, for `wirecheck query` and the HTML report.
///
/// Writes are batched: `emit` opens a transaction and commits it after `batchSize` events or
/// `batchInterval` seconds of wall time, whichever comes first, so a crash loses at most the
/// last uncommitted batch. The time is checked only when an event arrives, so a live capture
/// that goes quiet should call `flush()` from its own timer. The file uses WAL journaling, so other connections can read committed
/// batches while a run is being written. Not thread-safe: call it from one thread.
public final class FindingStore: EventSink {
    public enum AccessMode: Sendable {
        case readWrite
        case readOnly
    }

    public let path: String
    public let mode: AccessMode
    /// Events per transaction before `emit` commits.
    public var batchSize = 1000
    /// Seconds of wall time after which `emit` commits the open batch.
    public var batchInterval: Double = 1.0
    /// SQLite waits this long (milliseconds) for another connection's lock before failing.
    static let busyTimeoutMilliseconds: Int32 = 5000

    /// The run that `emit` records into, between `beginRun` and `finishRun`.
    public private(set) var currentRunID: Int?
    /// Events that could not be stored, because `emit` cannot throw.
    public private(set) var failedEventCount = 0
    /// The most recent error behind `failedEventCount`.
    public private(set) var lastError: Error?

    let connection: SQLiteConnection
    private var inserts: InsertStatements?
    private var queryStatementCache: [String: SQLiteStatement] = [:]
    private var sourceNames: [String] = []
    private var pendingEvents = 0
    private var batchStartedUptime: UInt64 = 0
    private var inTransaction = false
    private var assets: [String: AssetState] = [:]
    private var changedAssets: Set<String> = []

    /// Opens the store at `path`, creating it when missing and migrating an older schema.
    ///
    /// Throws `FindingStoreError.cannotOpen` for an unwritable path, `.notAFindingStore` for a
    /// file of another program, and `.newerSchema` for a store written by a newer Wirecheck.
    public init(path: String, mode: AccessMode = .readWrite) throws {
        self.path = path
        self.mode = mode
        connection = try SQLiteConnection(path: path, readOnly: mode == .readOnly)
        guard let handle = connection.handle else { throw FindingStoreError.cannotOpen(path: path, reason: "no handle") }
        sqlite3_busy_timeout(handle, FindingStore.busyTimeoutMilliseconds)

        if mode == .readWrite {
            try FindingStoreSchema.prepare(connection)
            try connection.execute("PRAGMA journal_mode = WAL")
            try connection.execute("PRAGMA synchronous = NORMAL")
            try connection.execute("PRAGMA foreign_keys = ON")
            inserts = try InsertStatements(connection)
        } else {
            try FindingStoreSchema.checkReadable(connection)
        }
        try loadAssets()
    }

    deinit {
        try? close()
    }

    // MARK: Runs

    /// Starts a run and returns its id; later events are recorded under it.
    /// `sources` are the capture source names, indexed by `PacketReference.source`.
    @discardableResult
    public func beginRun(sources: [String], started: Timestamp = FindingStore.wallClock()) throws -> Int {
        guard let inserts else { throw FindingStoreError.notWritable(path: path) }
        try flush()
        let statement = inserts.run
        statement.bind(1, started.nanoseconds)
        statement.bind(2, JSONWriter.serialize(.array(sources.map { .string($0) })))
        try statement.run()
        let runID = Int(connection.lastInsertRowID)
        currentRunID = runID
        sourceNames = sources
        return runID
    }

    /// Ends the current run: commits the open batch and records the finish time, the packet
    /// count (`decoder.pkts` in `stats`, when present) and the stats object.
    public func finishRun(stats: JSONObject = JSONObject(), finished: Timestamp = FindingStore.wallClock()) throws {
        guard let inserts else { throw FindingStoreError.notWritable(path: path) }
        guard let runID = currentRunID else { return }
        try beginBatchIfNeeded()
        let statement = inserts.finishRun
        statement.bind(1, finished.nanoseconds)
        statement.bind(2, EventFields.packetCount(stats: stats))
        statement.bind(3, stats.isEmpty ? nil : JSONWriter.serialize(stats))
        statement.bind(4, Int64(runID))
        try statement.run()
        try flush()
        currentRunID = nil
    }

    // MARK: Events

    /// Records one event. Starts a run with no sources when `beginRun` was not called, so no
    /// event is dropped. Errors are counted in `failedEventCount` because `EventSink` cannot throw.
    public func emit(_ event: Event) {
        do {
            try record(event)
        } catch {
            failedEventCount += 1
            lastError = error
        }
    }

    /// Records one event, throwing on failure.
    public func record(_ event: Event) throws {
        guard let inserts else { throw FindingStoreError.notWritable(path: path) }
        if currentRunID == nil { try beginRun(sources: []) }
        guard let runID = currentRunID.map(Int64.init) else { return }
        try beginBatchIfNeeded()

        let fields = EventFields(event, sources: sourceNames)
        noteAssets(of: event, fields: fields)
        switch event.eventType {
        case "alert": try fields.insertAlert(using: inserts.alert, run: runID)
        case "anomaly": try fields.insertAnomaly(using: inserts.anomaly, run: runID)
        case "flow": try fields.insertFlow(using: inserts.flow, run: runID)
        case "stats":
            let statsValue = event.body["stats"] ?? .object(event.body)
            if case .object(let stats) = statsValue {
                inserts.runStats.bind(1, JSONWriter.serialize(stats))
                inserts.runStats.bind(2, runID)
                try inserts.runStats.run()
            }
        default:
            try fields.insertOperation(using: inserts.operation, run: runID)
        }

        pendingEvents += 1
        if pendingEvents >= batchSize || secondsSinceBatchStarted() >= batchInterval {
            try flush()
        }
    }

    /// Commits the open batch, with the asset inventory changes it made.
    public func flush() throws {
        guard inTransaction else { return }
        try writeChangedAssets()
        try connection.execute("COMMIT")
        inTransaction = false
        pendingEvents = 0
    }

    /// Sets an asset's vendor, for callers that learn it outside the event stream.
    public func setVendor(_ vendor: String, forAsset ip: String) {
        guard var asset = assets[ip], asset.vendor != vendor else { return }
        asset.vendor = vendor
        assets[ip] = asset
        changedAssets.insert(ip)
    }

    /// Commits the open batch and closes the file. Later calls throw `notWritable`.
    public func close() throws {
        defer {
            inserts = nil
            queryStatementCache.removeAll()
            connection.close()
        }
        if inserts != nil { try flush() }
    }

    /// Drops the connection without committing the open batch, as a killed process would.
    func abandonWithoutCommit() {
        inserts = nil
        queryStatementCache.removeAll()
        connection.close()
    }

    /// Returns the current wall-clock time.
    public static func wallClock() -> Timestamp {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        return Timestamp(seconds: Int64(now.tv_sec), nanoseconds: Int64(now.tv_nsec))
    }

    // MARK: Batches

    private func beginBatchIfNeeded() throws {
        guard !inTransaction else { return }
        try connection.execute("BEGIN")
        inTransaction = true
        pendingEvents = 0
        batchStartedUptime = DispatchTime.now().uptimeNanoseconds
    }

    private func secondsSinceBatchStarted() -> Double {
        Double(DispatchTime.now().uptimeNanoseconds &- batchStartedUptime) / 1e9
    }

    /// Returns a statement prepared once per distinct SQL text (query shapes repeat).
    func cachedStatement(_ sql: String) throws -> SQLiteStatement {
        if let statement = queryStatementCache[sql] {
            statement.reset()
            return statement
        }
        let statement = try connection.prepare(sql)
        queryStatementCache[sql] = statement
        return statement
    }

    // MARK: Assets

    private func loadAssets() throws {
        let statement = try connection.prepare("SELECT ip, mac, vendor, first_seen, last_seen, roles FROM assets")
        defer { statement.finalize() }
        while try statement.step() {
            guard let ip = statement.text(0) else { continue }
            assets[ip] = AssetState(mac: statement.text(1), vendor: statement.text(2),
                                    firstSeen: statement.int(3), lastSeen: statement.int(4),
                                    roles: Set(JSONText.stringArray(statement.text(5) ?? "[]")))
        }
    }

    private func noteAssets(of event: Event, fields: EventFields) {
        let time = event.timestamp.nanoseconds
        if let flow = event.flow {
            let appProto = fields.appProto
            noteAsset(flow.srcIP.description, mac: event.endpoints?.srcMAC, time: time,
                      role: appProto.map { "\($0) client" })
            noteAsset(flow.destIP.description, mac: event.endpoints?.destMAC, time: time,
                      role: appProto.map { "\($0) server" })
        } else if let endpoints = event.endpoints {
            if let source = endpoints.srcIP { noteAsset(source.description, mac: endpoints.srcMAC, time: time, role: nil) }
            if let destination = endpoints.destIP {
                noteAsset(destination.description, mac: endpoints.destMAC, time: time, role: nil)
            }
        }
        if let vendor = fields.vendor, let server = fields.destIP {
            setVendor(vendor, forAsset: server)
        }
    }

    private func noteAsset(_ ip: String, mac: MACAddress?, time: Int64, role: String?) {
        var asset = assets[ip] ?? AssetState(mac: nil, vendor: nil, firstSeen: time, lastSeen: time, roles: [])
        let before = asset
        if let mac, mac != .broadcast, mac != .zero { asset.mac = mac.description }
        asset.firstSeen = min(asset.firstSeen, time)
        asset.lastSeen = max(asset.lastSeen, time)
        if let role { asset.roles.insert(role) }
        if assets[ip] == nil || asset != before {
            assets[ip] = asset
            changedAssets.insert(ip)
        }
    }

    /// Writes assets changed since the last write, inside the open batch when there is one.
    func writeChangedAssets() throws {
        guard let inserts, !changedAssets.isEmpty else { return }
        let statement = inserts.asset
        for ip in changedAssets.sorted() {
            guard let asset = assets[ip] else { continue }
            statement.bind(1, ip)
            statement.bind(2, asset.mac)
            statement.bind(3, asset.vendor)
            statement.bind(4, asset.firstSeen)
            statement.bind(5, asset.lastSeen)
            statement.bind(6, JSONWriter.serialize(.array(asset.roles.sorted().map { .string($0) })))
            try statement.run()
        }
        changedAssets.removeAll()
    }
}

/// One asset as the writer tracks it. The writer's copy is authoritative while the store is open.
// NOTE: two processes writing one store would overwrite each other's asset rows, because each
// writes its whole in-memory copy. Run one writer per store.
struct AssetState: Equatable {
    var mac: String?
    var vendor: String?
    var firstSeen: Int64
    var lastSeen: Int64
    var roles: Set<String>
}

/// The insert statements, prepared once when the store opens.
private struct InsertStatements {
    let run: SQLiteStatement
    let finishRun: SQLiteStatement
    let runStats: SQLiteStatement
    let asset: SQLiteStatement
    let flow: SQLiteStatement
    let operation: SQLiteStatement
    let anomaly: SQLiteStatement
    let alert: SQLiteStatement

    init(_ connection: SQLiteConnection) throws {
        run = try connection.prepare("INSERT INTO runs (started, sources) VALUES (?1, ?2)")
        finishRun = try connection.prepare(
            "UPDATE runs SET finished = ?1, packets = coalesce(?2, packets), stats = coalesce(?3, stats) WHERE id = ?4")
        runStats = try connection.prepare("UPDATE runs SET stats = ?1 WHERE id = ?2")
        asset = try connection.prepare("""
            INSERT INTO assets (ip, mac, vendor, first_seen, last_seen, roles) VALUES (?1, ?2, ?3, ?4, ?5, ?6)
            ON CONFLICT (ip) DO UPDATE SET mac = excluded.mac, vendor = excluded.vendor,
                first_seen = excluded.first_seen, last_seen = excluded.last_seen, roles = excluded.roles
            """)
        flow = try connection.prepare("""
            INSERT INTO flows (run, flow_id, community_id, src_ip, src_port, dest_ip, dest_port, proto, app_proto,
                start, "end", pkts_toserver, pkts_toclient, bytes_toserver, bytes_toclient, state, reason,
                conn_state, history, midstream, alerted)
            VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21)
            """)
        operation = try connection.prepare("""
            INSERT INTO operations (run, flow_id, time, protocol, src_ip, dest_ip, name, class, code, unit,
                range_start, range_end)
            VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)
            """)
        anomaly = try connection.prepare("""
            INSERT INTO anomalies (run, time, name, type, layer, flow_id, src_ip, src_port, dest_ip, dest_port,
                app_proto, message, evidence)
            VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)
            """)
        alert = try connection.prepare("""
            INSERT INTO alerts (run, time, rule, signature_id, signature, category, severity, technique_id,
                technique_name, flow_id, src_ip, src_port, dest_ip, dest_port, app_proto, message, evidence,
                suppressed, process_executable, process_command_line, process_pid, process_user, host_name)
            VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20,
                ?21, ?22, ?23)
            """)
    }
}
