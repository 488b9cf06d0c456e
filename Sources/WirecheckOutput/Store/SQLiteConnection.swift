import CSQLite

/// A failure reported by SQLite or by the findings store, with the store path and the fix.
public enum FindingStoreError: Error, CustomStringConvertible, Equatable {
    /// The file could not be opened or created (missing directory, no permission).
    case cannotOpen(path: String, reason: String)
    /// The file exists but is not a SQLite database, or it contains tables of another program.
    case notAFindingStore(path: String)
    /// The store was written by a newer Wirecheck whose schema this build does not know.
    case newerSchema(path: String, found: Int, supported: Int)
    /// A statement failed; `sql` is the statement text (never values).
    case sqlite(code: Int32, message: String, sql: String)
    /// The store was closed or opened read-only and cannot take this call.
    case notWritable(path: String)
    /// The requested run is not in the store.
    case runNotFound(path: String, runID: Int)
    /// A query filter could not be parsed.
    case invalidFilter(name: String, value: String, expected: String)

    public var description: String {
        switch self {
        case .cannotOpen(let path, let reason):
            return "cannot open findings store \(path): \(reason); check that the directory exists and is writable"
        case .notAFindingStore(let path):
            return "\(path) is not a Wirecheck findings store; choose a new file name or remove the file"
        case .newerSchema(let path, let found, let supported):
            return "findings store \(path) has schema version \(found) but this Wirecheck supports up to \(supported); "
                + "upgrade Wirecheck or use a new store"
        case .sqlite(let code, let message, let sql):
            return "SQLite error \(code) (\(message)) in statement: \(sql)"
        case .notWritable(let path):
            return "findings store \(path) is closed or read-only; open it read-write to record a run"
        case .runNotFound(let path, let runID):
            return "run \(runID) not found in findings store \(path); list its runs with 'wirecheck query runs --store \(path)' and choose an existing id"
        case .invalidFilter(let name, let value, let expected):
            return "invalid \(name) filter \"\(value)\": expected \(expected)"
        }
    }
}

/// SQLite's `SQLITE_TRANSIENT`, which makes SQLite copy bound text before the bind call returns.
let sqliteTransient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)

/// One SQLite connection. Not thread-safe: a store owns its connection.
final class SQLiteConnection {
    private(set) var handle: OpaquePointer?
    let path: String

    init(path: String, readOnly: Bool) throws {
        self.path = path
        var database: OpaquePointer?
        let flags = readOnly ? SQLITE_OPEN_READONLY : (SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE)
        let code = sqlite3_open_v2(path, &database, flags | SQLITE_OPEN_NOMUTEX, nil)
        guard code == SQLITE_OK, let database else {
            let reason = database.map { String(cString: sqlite3_errmsg($0)) } ?? String(cString: sqlite3_errstr(code))
            sqlite3_close_v2(database)
            throw FindingStoreError.cannotOpen(path: path, reason: reason)
        }
        handle = database
    }

    deinit { close() }

    func close() {
        guard let handle else { return }
        sqlite3_close_v2(handle)
        self.handle = nil
    }

    var lastErrorMessage: String {
        handle.map { String(cString: sqlite3_errmsg($0)) } ?? "connection closed"
    }

    /// Runs one or more statements that take no parameters (schema, pragmas, BEGIN/COMMIT).
    func execute(_ sql: String) throws {
        guard let handle else { throw FindingStoreError.notWritable(path: path) }
        let code = sqlite3_exec(handle, sql, nil, nil, nil)
        guard code == SQLITE_OK else {
            throw FindingStoreError.sqlite(code: code, message: lastErrorMessage, sql: sql)
        }
    }

    func prepare(_ sql: String) throws -> SQLiteStatement {
        guard let handle else { throw FindingStoreError.notWritable(path: path) }
        var statement: OpaquePointer?
        let code = sqlite3_prepare_v3(handle, sql, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &statement, nil)
        guard code == SQLITE_OK, let statement else {
            throw FindingStoreError.sqlite(code: code, message: lastErrorMessage, sql: sql)
        }
        return SQLiteStatement(statement: statement, connection: self, sql: sql)
    }

    /// Returns the first column of the first row of a parameterless query, or nil when no row.
    func scalarInt(_ sql: String) throws -> Int64? {
        let statement = try prepare(sql)
        defer { statement.finalize() }
        guard try statement.step() else { return nil }
        return statement.isNull(0) ? nil : statement.int(0)
    }

    var lastInsertRowID: Int64 { handle.map { sqlite3_last_insert_rowid($0) } ?? 0 }
}

/// A prepared statement, reused across calls: bind, step, then `reset`.
final class SQLiteStatement {
    private var statement: OpaquePointer?
    private unowned let connection: SQLiteConnection
    let sql: String

    fileprivate init(statement: OpaquePointer, connection: SQLiteConnection, sql: String) {
        self.statement = statement
        self.connection = connection
        self.sql = sql
    }

    deinit { finalize() }

    func finalize() {
        if let statement { sqlite3_finalize(statement) }
        statement = nil
    }

    /// Clears the previous bindings and rewinds, so the statement can run again.
    func reset() {
        guard let statement else { return }
        sqlite3_reset(statement)
        sqlite3_clear_bindings(statement)
    }

    func bind(_ index: Int32, _ value: Int64?) {
        guard let statement else { return }
        if let value { sqlite3_bind_int64(statement, index, value) } else { sqlite3_bind_null(statement, index) }
    }

    func bind(_ index: Int32, _ value: Int?) { bind(index, value.map(Int64.init)) }

    func bind(_ index: Int32, _ value: Bool?) { bind(index, value.map { $0 ? Int64(1) : Int64(0) }) }

    func bind(_ index: Int32, _ value: String?) {
        guard let statement else { return }
        if let value { sqlite3_bind_text(statement, index, value, -1, sqliteTransient) } else { sqlite3_bind_null(statement, index) }
    }

    /// Binds values in order to parameters 1, 2, ... (used by the query builder).
    func bind(all values: [SQLiteValue]) {
        for (offset, value) in values.enumerated() {
            let index = Int32(offset + 1)
            switch value {
            case .int(let number): bind(index, number)
            case .text(let text): bind(index, text)
            }
        }
    }

    /// Advances to the next row. Returns false when the statement is done.
    @discardableResult
    func step() throws -> Bool {
        guard let statement else { throw FindingStoreError.notWritable(path: connection.path) }
        let code = sqlite3_step(statement)
        switch code {
        case SQLITE_ROW: return true
        case SQLITE_DONE: return false
        default:
            let message = connection.lastErrorMessage
            sqlite3_reset(statement)
            throw FindingStoreError.sqlite(code: code, message: message, sql: sql)
        }
    }

    /// Runs a statement that returns no rows, then resets it for reuse.
    func run() throws {
        defer { reset() }
        try step()
    }

    func isNull(_ column: Int32) -> Bool {
        guard let statement else { return true }
        return sqlite3_column_type(statement, column) == SQLITE_NULL
    }

    func int(_ column: Int32) -> Int64 {
        guard let statement else { return 0 }
        return sqlite3_column_int64(statement, column)
    }

    func optionalInt(_ column: Int32) -> Int64? { isNull(column) ? nil : int(column) }

    func double(_ column: Int32) -> Double {
        guard let statement else { return 0 }
        return sqlite3_column_double(statement, column)
    }

    func text(_ column: Int32) -> String? {
        guard let statement, let pointer = sqlite3_column_text(statement, column) else { return nil }
        let count = Int(sqlite3_column_bytes(statement, column))
        return String(decoding: UnsafeBufferPointer(start: pointer, count: count), as: UTF8.self)
    }
}

/// A value bound to a query parameter.
enum SQLiteValue: Equatable {
    case int(Int64)
    case text(String)
}
