import Foundation

/// Reads host telemetry files into process, connection and DNS records.
public final class HostTelemetry {
    /// Limit on the size of a text file, after decompression for .gz files, because each file
    /// is read into memory whole and a gzip bomb must not exhaust it. Public Winlogbeat 6
    /// exports of attack simulations reach 57 MB uncompressed.
    public static let maxTextFileBytes = 1 << 30

    /// Reads every file in `paths`, descending into folders, and detects each file's format from
    /// its content. Unreadable files and records are listed in the result rather than thrown.
    public static func load(paths: [String]) -> HostTelemetryLoad {
        var load = HostTelemetryLoad()
        for file in expand(paths: paths, load: &load) {
            loadFile(file, into: &load)
        }
        return load
    }

    /// Reads records from text already in memory (for example a test's literal), as `load` would
    /// read a file with that content.
    public static func load(text: String, name: String) -> HostTelemetryLoad {
        var load = HostTelemetryLoad()
        var summary = TelemetryFileSummary(file: name, format: .unknown)
        readText(text, file: name, into: &load, summary: &summary)
        load.files.append(summary)
        return load
    }

    private static func expand(paths: [String], load: inout HostTelemetryLoad) -> [String] {
        let manager = FileManager.default
        var files: [String] = []
        for path in paths {
            var isDirectory: ObjCBool = false
            guard manager.fileExists(atPath: path, isDirectory: &isDirectory) else {
                var summary = TelemetryFileSummary(file: path, format: .unknown)
                summary.error = "file not found; check the path"
                load.files.append(summary)
                continue
            }
            if !isDirectory.boolValue {
                files.append(path)
                continue
            }
            guard let enumerator = manager.enumerator(atPath: path) else { continue }
            var found: [String] = []
            while let relative = enumerator.nextObject() as? String {
                let full = (path as NSString).appendingPathComponent(relative)
                var childIsDirectory: ObjCBool = false
                if manager.fileExists(atPath: full, isDirectory: &childIsDirectory), !childIsDirectory.boolValue,
                   !relative.split(separator: "/").contains(where: { $0.hasPrefix(".") }) {
                    found.append(full)
                }
            }
            files.append(contentsOf: found.sorted())
        }
        return files
    }

    private static func loadFile(_ file: String, into load: inout HostTelemetryLoad) {
        var summary = TelemetryFileSummary(file: file, format: .unknown)
        defer { load.files.append(summary) }
        guard let handle = FileHandle(forReadingAtPath: file) else {
            summary.error = "cannot open the file for reading; check its permissions"
            return
        }
        let head = [UInt8](handle.readData(ofLength: 8))
        try? handle.close()

        if head.starts(with: EvtxReader.signature) {
            summary.format = .evtx
            readEvtx(file, into: &load, summary: &summary)
            return
        }
        if isPacketCapture(head) {
            summary.error = "packet capture, not host telemetry; pass it to wirecheck as the capture to analyse"
            return
        }
        var data: Data
        if head.count >= 2, head[0] == 0x1f, head[1] == 0x8b {
            switch gunzip(file) {
            case .failure(let error):
                summary.error = error.reason
                return
            case .success(let (output, warning)):
                data = output
                if let warning {
                    // Truncated archives still yield every complete line; report and carry on.
                    summary.problems += 1
                    load.addProblem(TelemetryProblem(file: file, location: "gzip", reason: warning))
                }
            }
        } else {
            let size = (try? FileManager.default.attributesOfItem(atPath: file)[.size] as? Int) ?? 0
            if size > maxTextFileBytes {
                summary.error = "file of \(size) bytes exceeds the \(maxTextFileBytes)-byte limit; split it into smaller files"
                return
            }
            guard let contents = FileManager.default.contents(atPath: file) else {
                summary.error = "cannot read the file; check its permissions"
                return
            }
            data = contents
        }
        if data.starts(with: EvtxReader.signature) {
            summary.error = "compressed .evtx files are not read; decompress it with gunzip first"
            return
        }
        readText(String(decoding: data, as: UTF8.self), file: file, into: &load, summary: &summary)
    }

    /// Returns true for the pcap magic numbers (both byte orders, micro- and nanosecond) and the
    /// pcapng section header block type.
    static func isPacketCapture(_ head: [UInt8]) -> Bool {
        guard head.count >= 4 else { return false }
        let magics: [[UInt8]] = [
            [0xd4, 0xc3, 0xb2, 0xa1], [0xa1, 0xb2, 0xc3, 0xd4], [0x4d, 0x3c, 0xb2, 0xa1], [0xa1, 0xb2, 0x3c, 0x4d],
            [0x0a, 0x0d, 0x0d, 0x0a],
        ]
        return magics.contains { Array(head.prefix(4)) == $0 }
    }

    static func readText(_ text: String, file: String, into load: inout HostTelemetryLoad, summary: inout TelemetryFileSummary) {
        guard let first = text.firstIndex(where: { !$0.isWhitespace && $0 != "\u{FEFF}" }) else {
            summary.error = "the file is empty"
            return
        }
        let firstLine = text[first...].prefix { $0 != "\n" && $0 != "\r\n" }
        switch text[first] {
        case "<":
            summary.format = .sysmonXML
            readXML(text, file: file, into: &load, summary: &summary)
        case "[", "{":
            readJSON(text, file: file, into: &load, summary: &summary)
        default:
            if AuditdParser.looksLikeAuditd(firstLine) {
                summary.format = .auditd
                var parser = AuditdParser(file: file)
                parser.parse(text: text, into: &load, summary: &summary)
            } else {
                summary.error = "not a recognised telemetry format (expected .evtx, event XML, JSON records or audit.log lines); starts with '\(firstLine.prefix(40))'"
            }
        }
    }

    /// Counts one builder outcome in the summary and the problem list.
    static func count(_ outcome: RecordOutcome, file: String, location: String,
                      into load: inout HostTelemetryLoad, summary: inout TelemetryFileSummary) {
        switch outcome {
        case .process: summary.processRecords += 1
        case .processEnd: summary.processEndRecords += 1
        case .connection: summary.connectionRecords += 1
        case .dnsQuery: summary.dnsQueryRecords += 1
        case .other: summary.otherRecords += 1
        case .problem(let reason):
            summary.problems += 1
            load.addProblem(TelemetryProblem(file: file, location: location, reason: reason))
        }
    }

    private static func readEvtx(_ file: String, into load: inout HostTelemetryLoad, summary: inout TelemetryFileSummary) {
        let records: [EvtxReader.Record]
        switch EvtxReader.read(path: file) {
        case .failure(let error):
            summary.error = error.reason
            return
        case .success(let contents):
            records = contents.records
            if contents.corrupted {
                // libevtx still returns the records it can read from a corrupted file.
                count(.problem("libevtx reports the file as corrupted; records may be missing"), file: file,
                      location: "header", into: &load, summary: &summary)
            }
        }
        if records.isEmpty {
            summary.error = "libevtx found no event records; the file is empty or not a valid .evtx file"
            return
        }
        var liveRecordIDs: Set<String> = []
        for record in records where !record.recovered {
            guard let xml = record.xml else {
                count(.problem(record.error ?? "record without XML"), file: file, location: record.location,
                      into: &load, summary: &summary)
                continue
            }
            if let id = SysmonXML.elementText(named: "EventRecordID", in: Array(xml.utf8)) { liveRecordIDs.insert(id) }
            switch SysmonXML.parse(xml, location: record.location) {
            case .failure(let error):
                count(.problem(error.reason), file: file, location: record.location, into: &load, summary: &summary)
            case .success(let event):
                count(SysmonRecordBuilder.add(event, file: file, to: &load), file: file,
                      location: record.location, into: &load, summary: &summary)
            }
        }
        // Recovered records are fragments from free space: many are copies of live records or
        // cut short, so failures are counted apart from problems and copies are skipped.
        for record in records where record.recovered {
            guard let xml = record.xml else {
                summary.skippedRecoveredRecords += 1
                continue
            }
            if let id = SysmonXML.elementText(named: "EventRecordID", in: Array(xml.utf8)), liveRecordIDs.contains(id) {
                summary.skippedRecoveredRecords += 1
                continue
            }
            guard case .success(let event) = SysmonXML.parse(xml, location: record.location) else {
                summary.skippedRecoveredRecords += 1
                continue
            }
            var scratch = load
            let outcome = SysmonRecordBuilder.add(event, file: file, to: &scratch)
            if case .problem = outcome {
                summary.skippedRecoveredRecords += 1
                continue
            }
            load = scratch
            if case .other = outcome {} else { summary.recoveredRecordsUsed += 1 }
            count(outcome, file: file, location: record.location, into: &load, summary: &summary)
        }
    }

    private static func readXML(_ text: String, file: String, into load: inout HostTelemetryLoad, summary: inout TelemetryFileSummary) {
        let events = SysmonXML.events(in: text)
        if events.isEmpty {
            summary.error = "XML without any <Event> element"
            return
        }
        for element in events {
            let location = "line \(element.line)"
            switch SysmonXML.parse(element.text, location: location) {
            case .failure(let error):
                count(.problem(error.reason), file: file, location: location, into: &load, summary: &summary)
            case .success(let event):
                count(SysmonRecordBuilder.add(event, file: file, to: &load), file: file,
                      location: location, into: &load, summary: &summary)
            }
        }
    }

    private static func readJSON(_ text: String, file: String, into load: inout HostTelemetryLoad, summary: inout TelemetryFileSummary) {
        var objects: [(Any?, String)] = []
        let trimmed = text.drop { $0.isWhitespace || $0 == "\u{FEFF}" }
        if trimmed.first == "[" {
            // One JSON array document, as Winlogbeat's golden files and some exports are written.
            guard let array = try? JSONSerialization.jsonObject(with: Data(trimmed.utf8)) as? [Any] else {
                summary.error = "the file starts with '[' but is not a valid JSON array"
                return
            }
            objects = array.enumerated().map { ($0.element, "element \($0.offset)") }
        } else {
            var lineNumber = 0
            for line in text.lines() {
                lineNumber += 1
                if line.allSatisfy({ $0.isWhitespace }) { continue }
                let parsed = try? JSONSerialization.jsonObject(with: Data(line.utf8))
                objects.append((parsed ?? NSNull(), "line \(lineNumber)"))
            }
        }
        var formatCounts: [TelemetryFormat: Int] = [:]
        for (index, (value, location)) in objects.enumerated() {
            guard let object = value as? [String: Any] else {
                count(.problem("not a JSON object; the line may be truncated"), file: file, location: location,
                      into: &load, summary: &summary)
                continue
            }
            let flavour = SysmonJSON.flavour(of: object)
            if index == 0, flavour == .unknown {
                summary.error = "JSON records without Windows event fields (winlog.event_id, event_id or EventID); not a supported telemetry format"
                return
            }
            formatCounts[flavour, default: 0] += 1
            switch SysmonJSON.event(from: object, flavour: flavour, location: location) {
            case .failure(let error):
                count(.problem(error.reason), file: file, location: location, into: &load, summary: &summary)
            case .success(let event):
                count(SysmonRecordBuilder.add(event, file: file, to: &load), file: file,
                      location: location, into: &load, summary: &summary)
            }
        }
        summary.format = formatCounts.filter { $0.key != .unknown }.max { $0.value < $1.value }?.key ?? .unknown
    }

    /// Decompresses with `gzip -dc`, since the package does not link zlib. Returns the output and
    /// a warning when gzip failed after producing output (a truncated archive).
    private static func gunzip(_ file: String) -> Result<(Data, String?), TelemetryReadError> {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/gzip")
        process.arguments = ["-dc", "--", file]

        let output = Pipe()
        let errors = Pipe()
        process.standardOutput = output
        process.standardError = errors
        do {
            try process.run()
        } catch {
            return .failure(.init(reason: "cannot run /bin/gzip to decompress the file (\(error)); decompress it with gunzip first"))
        }

        var data = Data()
        let handle = output.fileHandleForReading
        while true {
            let chunk = handle.availableData
            if chunk.isEmpty { break }
            data.append(chunk)
            if data.count > maxTextFileBytes {
                process.terminate()
                process.waitUntilExit()
                return .failure(.init(reason: "decompressed size exceeds the \(maxTextFileBytes)-byte limit; split the file before compressing it"))
            }
        }

        let message = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            .trimmingWhitespace().replacingNewlines()
        process.waitUntilExit()
        if process.terminationStatus != 0 {
            if data.isEmpty {
                return .failure(.init(reason: "gzip failed (exit \(process.terminationStatus)): \(message)"))
            }
            return .success((data, "gzip reported '\(message)' (exit \(process.terminationStatus)); read the \(data.count) bytes it produced"))
        }
        return .success((data, nil))
    }
}
