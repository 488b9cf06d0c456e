import Foundation
import WirecheckCore
import WirecheckOutput

/// `wirecheck query`: lists alerts, flows or anomalies kept in a findings store.
struct QueryCommand {
    static let usage = """
    Usage: wirecheck query [alerts|flows|anomalies|runs] --store PATH [FILTERS] [--format table|json]

    Lists what earlier runs kept with 'analyze --store', newest first (alerts by default);
    'runs' lists each run's id, times, packets and capture files, for --run.

    Filters:
      --since TIME       from TIME: ISO 8601 (2024-03-04T08:00:00Z) or relative (24h, 30m, 7d)
      --until TIME       up to TIME, same forms
      --host IP          flows or findings with IP as source or destination
      --protocol NAME    application protocol (modbus, dnp3, s7comm, tls, ...)
      --severity N       alerts of severity N or higher (1 high to 3 low)
      --name NAME        alert rule or anomaly name (scan.horizontal, stream.rst_out_of_window)
      --run ID           only run ID
      --limit N          at most N rows (default 1000)
      --format FORMAT    'table' (default) or 'json' for JSON lines
    """

    enum Kind: String { case alerts, flows, anomalies, runs }

    var kind = Kind.alerts
    var storePath = "wirecheck.db"
    var since: String?, until: String?, host: String?, appProto: String?, severity: String?, name: String?
    var runID: Int?
    var limit: Int? = 1000
    var format = FindingOutputFormat.table

    init(arguments: [String]) throws {
        var cursor = ArgumentCursor(arguments)
        while let option = cursor.nextOption() {
            switch option {
            case "--store": storePath = try cursor.value(for: option)
            case "--since": since = try cursor.value(for: option)
            case "--until": until = try cursor.value(for: option)
            case "--host": host = try cursor.value(for: option)
            case "--protocol": appProto = try cursor.value(for: option)
            case "--severity": severity = try cursor.value(for: option)
            case "--name": name = try cursor.value(for: option)
            case "--run": runID = try cursor.integer(for: option, range: 1...Int(Int32.max))
            case "--limit": limit = try cursor.integer(for: option, range: 1...100_000_000)
            case "--format":
                let text = try cursor.value(for: option)
                guard let parsed = FindingOutputFormat(rawValue: text) ?? (text == "jsonl" ? .jsonLines : nil) else {
                    throw UsageError("invalid value '\(text)' for --format: use 'table' or 'json'")
                }
                format = parsed
            case "-h", "--help": throw HelpRequested(text: QueryCommand.usage)
            default: throw UsageError("unknown option '\(option)' for query; run 'wirecheck query --help' for the list")
            }
        }
        if let first = cursor.positionals.first {
            guard let parsed = Kind(rawValue: first), cursor.positionals.count == 1 else {
                throw UsageError("query lists alerts, flows, anomalies or runs, got '\(cursor.positionals.joined(separator: " "))'")
            }
            kind = parsed
        }
    }

    func run() -> Int32 {
        guard FileManager.default.fileExists(atPath: storePath) else {
            printError("store '\(storePath)' not found; create it with 'wirecheck analyze --store=\(storePath) CAPTURE' or name it with --store")
            return 1
        }
        do {
            let store = try FindingStore(path: storePath, mode: .readOnly)
            let query = try FindingQuery.parse(since: since, until: until, host: host, appProto: appProto,
                                               maxSeverity: severity, name: name, runID: runID, limit: limit)
            switch kind {
            case .alerts: print(render(try store.alerts(matching: query), format: format), terminator: "")
            case .flows: print(render(try store.flows(matching: query), format: format), terminator: "")
            case .anomalies: print(render(try store.anomalies(matching: query), format: format), terminator: "")
            case .runs: print(QueryCommand.renderRuns(try store.runs(), format: format), terminator: "")
            }
            try store.close()
            return 0
        } catch let error as FindingStoreError {
            printError("\(error)")
            if case .invalidFilter = error { return 2 }
            return 1
        } catch {
            printError("\(error)")
            return 1
        }
    }
}

extension QueryCommand {
    /// Renders one line per run: id, start and finish (wall clock), packets and capture files.
    static func renderRuns(_ runs: [RunRecord], format: FindingOutputFormat) -> String {
        var text = ""
        for run in runs {
            let finished = run.finished?.iso8601 ?? "unfinished"
            switch format {
            case .jsonLines:
                let object: JSONObject = [
                    "run": .int(run.id), "started": .string(run.started.iso8601), "finished": .string(finished),
                    "packets": run.packets.map { .int($0) } ?? .null, "sources": .array(run.sources.map { .string($0) }),
                ]
                text += JSONWriter.serialize(object) + "\n"
            case .table:
                text += "\(run.id)  \(run.started.iso8601)  \(finished)  \(run.packets.map(String.init) ?? "-") packets  \(run.sources.joined(separator: ", "))\n"
            }
        }
        return text.isEmpty && format == .table ? "no runs in this store\n" : text
    }
}

/// `wirecheck report`: writes the HTML report of a findings store.
struct ReportCommand {
    static let usage = """
    Usage: wirecheck report --store PATH -o FILE [--run ID]

    Writes one self-contained HTML page (no outside scripts, fonts or requests) with the
    communication map, the alert timeline and table, operations per protocol, the asset
    inventory and the coverage panel, for every run in the store or only run ID.
    """

    var storePath = "wirecheck.db"
    var output: String?
    var runID: Int?

    init(arguments: [String]) throws {
        var cursor = ArgumentCursor(arguments)
        while let option = cursor.nextOption() {
            switch option {
            case "--store": storePath = try cursor.value(for: option)
            case "-o", "--output": output = try cursor.value(for: option)
            case "--run": runID = try cursor.integer(for: option, range: 1...Int(Int32.max))
            case "-h", "--help": throw HelpRequested(text: ReportCommand.usage)
            default: throw UsageError("unknown option '\(option)' for report; run 'wirecheck report --help' for the list")
            }
        }
        guard let output else { throw UsageError("report needs -o FILE: where to write the HTML page") }
        try AnalyzeCommand.checkWritable(output, option: "-o")
        if !cursor.positionals.isEmpty {
            throw UsageError("report takes no arguments, got '\(cursor.positionals.joined(separator: " "))'")
        }
    }

    func run() -> Int32 {
        guard FileManager.default.fileExists(atPath: storePath) else {
            printError("store '\(storePath)' not found; create it with 'wirecheck analyze --store=\(storePath) CAPTURE' or name it with --store")
            return 1
        }
        do {
            let store = try FindingStore(path: storePath, mode: .readOnly)
            let html = try HTMLReport.render(store: store, runID: runID)
            try html.write(toFile: output!, atomically: true, encoding: .utf8)
            try store.close()
            print("wrote \(output!)")
            return 0
        } catch {
            printError("\(error)")
            return 1
        }
    }
}
