import CSQLite

/// The findings store schema and its migrations. Times are nanoseconds since the Unix epoch (UTC)
/// so range filters compare integers; JSON columns hold compact JSON text.
enum FindingStoreSchema {
    /// `PRAGMA application_id` of every Wirecheck store ("WCHK" in ASCII), so another
    /// program's SQLite file is recognised and left alone.
    static let applicationID: Int64 = 0x5743_484B

    /// The schema version this build writes. Each step in `migrations` raises the version by one.
    static let currentVersion = 2

    /// Version 1: runs, assets, flows, operations, anomalies and alerts without host telemetry.
    static let version1 = """
        CREATE TABLE schema_version (version INTEGER NOT NULL);
        CREATE TABLE runs (
            id INTEGER PRIMARY KEY,
            started INTEGER NOT NULL,
            finished INTEGER,
            sources TEXT NOT NULL,
            packets INTEGER,
            stats TEXT
        );
        CREATE TABLE assets (
            ip TEXT PRIMARY KEY,
            mac TEXT,
            vendor TEXT,
            first_seen INTEGER NOT NULL,
            last_seen INTEGER NOT NULL,
            roles TEXT NOT NULL DEFAULT '[]'
        );
        CREATE TABLE flows (
            id INTEGER PRIMARY KEY,
            run INTEGER NOT NULL REFERENCES runs(id),
            flow_id INTEGER NOT NULL,
            community_id TEXT,
            src_ip TEXT NOT NULL,
            src_port INTEGER,
            dest_ip TEXT NOT NULL,
            dest_port INTEGER,
            proto TEXT NOT NULL,
            app_proto TEXT,
            start INTEGER NOT NULL,
            "end" INTEGER NOT NULL,
            pkts_toserver INTEGER NOT NULL DEFAULT 0,
            pkts_toclient INTEGER NOT NULL DEFAULT 0,
            bytes_toserver INTEGER NOT NULL DEFAULT 0,
            bytes_toclient INTEGER NOT NULL DEFAULT 0,
            state TEXT,
            reason TEXT,
            conn_state TEXT,
            history TEXT,
            midstream INTEGER NOT NULL DEFAULT 0,
            alerted INTEGER NOT NULL DEFAULT 0
        );
        CREATE INDEX flows_run_flow ON flows(run, flow_id);
        CREATE INDEX flows_start ON flows(start);
        CREATE INDEX flows_src ON flows(src_ip, app_proto, start);
        CREATE INDEX flows_dest ON flows(dest_ip, app_proto, start);
        CREATE INDEX flows_app_proto ON flows(app_proto, start);
        CREATE TABLE operations (
            id INTEGER PRIMARY KEY,
            run INTEGER NOT NULL REFERENCES runs(id),
            flow_id INTEGER,
            time INTEGER NOT NULL,
            protocol TEXT NOT NULL,
            src_ip TEXT,
            dest_ip TEXT,
            name TEXT,
            class TEXT,
            code INTEGER,
            unit INTEGER,
            range_start INTEGER,
            range_end INTEGER
        );
        CREATE INDEX operations_run ON operations(run, protocol, src_ip, dest_ip);
        CREATE TABLE anomalies (
            id INTEGER PRIMARY KEY,
            run INTEGER NOT NULL REFERENCES runs(id),
            time INTEGER NOT NULL,
            name TEXT NOT NULL,
            type TEXT,
            layer TEXT,
            flow_id INTEGER,
            src_ip TEXT,
            src_port INTEGER,
            dest_ip TEXT,
            dest_port INTEGER,
            app_proto TEXT,
            message TEXT,
            evidence TEXT NOT NULL DEFAULT '[]'
        );
        CREATE INDEX anomalies_time ON anomalies(time);
        CREATE INDEX anomalies_name ON anomalies(name, time);
        CREATE INDEX anomalies_src ON anomalies(src_ip, time);
        CREATE INDEX anomalies_dest ON anomalies(dest_ip, time);
        CREATE INDEX anomalies_run ON anomalies(run);
        CREATE TABLE alerts (
            id INTEGER PRIMARY KEY,
            run INTEGER NOT NULL REFERENCES runs(id),
            time INTEGER NOT NULL,
            rule TEXT,
            signature_id INTEGER NOT NULL,
            signature TEXT NOT NULL,
            category TEXT,
            severity INTEGER NOT NULL,
            technique_id TEXT,
            technique_name TEXT,
            flow_id INTEGER,
            src_ip TEXT,
            src_port INTEGER,
            dest_ip TEXT,
            dest_port INTEGER,
            app_proto TEXT,
            message TEXT,
            evidence TEXT NOT NULL DEFAULT '[]',
            suppressed INTEGER NOT NULL DEFAULT 0
        );
        CREATE INDEX alerts_time ON alerts(time);
        CREATE INDEX alerts_rule ON alerts(rule, time);
        CREATE INDEX alerts_src ON alerts(src_ip, app_proto, severity, time);
        CREATE INDEX alerts_dest ON alerts(dest_ip, app_proto, severity, time);
        CREATE INDEX alerts_run_flow ON alerts(run, flow_id);
        INSERT INTO schema_version (version) VALUES (1);
        """

    /// Migration steps: `migrations[n]` takes a store from version n + 1 to n + 2.
    static let migrations: [String] = [
        // 1 -> 2: host telemetry on alerts (the process that sent the traffic and the host name).
        """
        ALTER TABLE alerts ADD COLUMN process_executable TEXT;
        ALTER TABLE alerts ADD COLUMN process_command_line TEXT;
        ALTER TABLE alerts ADD COLUMN process_pid INTEGER;
        ALTER TABLE alerts ADD COLUMN process_user TEXT;
        ALTER TABLE alerts ADD COLUMN host_name TEXT;
        UPDATE schema_version SET version = 2;
        """,
    ]

    /// Creates the schema in an empty database or migrates an older one, in one transaction.
    static func prepare(_ connection: SQLiteConnection) throws {
        // A file that is not SQLite at all fails here with SQLITE_NOTADB.
        let applicationID: Int64
        do {
            applicationID = try connection.scalarInt("PRAGMA application_id") ?? 0
        } catch FindingStoreError.sqlite(let code, _, _) where code == SQLITE_NOTADB {
            throw FindingStoreError.notAFindingStore(path: connection.path)
        }
        let hasVersionTable = try connection.scalarInt(
            "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'") ?? 0
        let tableCount = try connection.scalarInt("SELECT count(*) FROM sqlite_master") ?? 0

        if tableCount == 0 {
            try connection.execute("BEGIN IMMEDIATE")
            do {
                try connection.execute("PRAGMA application_id = \(FindingStoreSchema.applicationID)")
                try connection.execute(version1)
                for step in migrations { try connection.execute(step) }
                try connection.execute("COMMIT")
            } catch {
                try? connection.execute("ROLLBACK")
                throw error
            }
            return
        }

        guard applicationID == FindingStoreSchema.applicationID, hasVersionTable == 1 else {
            throw FindingStoreError.notAFindingStore(path: connection.path)
        }
        guard let version = try connection.scalarInt("SELECT max(version) FROM schema_version").map(Int.init) else {
            throw FindingStoreError.notAFindingStore(path: connection.path)
        }
        if version > currentVersion {
            throw FindingStoreError.newerSchema(path: connection.path, found: version, supported: currentVersion)
        }
        guard version < currentVersion else { return }

        try connection.execute("BEGIN IMMEDIATE")
        do {
            for step in migrations[(version - 1)...] { try connection.execute(step) }
            try connection.execute("COMMIT")
        } catch {
            try? connection.execute("ROLLBACK")
            throw error
        }
    }

    /// Checks a store opened read-only: it must be a Wirecheck store at the current version,
    /// because a read-only connection cannot migrate it.
    static func checkReadable(_ connection: SQLiteConnection) throws {
        let applicationID: Int64
        do {
            applicationID = try connection.scalarInt("PRAGMA application_id") ?? 0
        } catch FindingStoreError.sqlite(let code, _, _) where code == SQLITE_NOTADB {
            throw FindingStoreError.notAFindingStore(path: connection.path)
        }
        guard applicationID == FindingStoreSchema.applicationID,
              let version = try connection.scalarInt("SELECT max(version) FROM schema_version").map(Int.init) else {
            throw FindingStoreError.notAFindingStore(path: connection.path)
        }
        if version > currentVersion {
            throw FindingStoreError.newerSchema(path: connection.path, found: version, supported: currentVersion)
        }
        if version < currentVersion {
            throw FindingStoreError.cannotOpen(path: connection.path,
                reason: "schema version \(version) needs a migration; open the store read-write once")
        }
    }
}
