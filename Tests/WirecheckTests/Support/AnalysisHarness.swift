import Foundation
import WirecheckBaseline
import WirecheckCapture
import WirecheckCore
import WirecheckEngine
import WirecheckHosts
import WirecheckOutput

/// Runs the whole pipeline over capture files in-process, the way `wirecheck analyze` does,
/// and returns every event with the run's summary.
struct AnalysisResult {
    var events: [Event]
    var summary: RunSummary
    var tally: EventTally
    var sources: CaptureSourceTable
    var warnings: [String]
    /// The baseline a `.learn` run built, or nil in other modes.
    var learnedBaseline: Baseline?

    func anomalies(_ name: String) -> [Event] { events.filter { $0.eventType == "anomaly" && $0.anomalyName == name } }
    func alerts(_ rule: String) -> [Event] { events.filter { $0.eventType == "alert" && $0.alertRule == rule } }
    func events(ofType type: String) -> [Event] { events.filter { $0.eventType == type } }
    var anomalyNames: Set<String> { Set(events.compactMap { $0.eventType == "anomaly" ? $0.anomalyName : nil }) }
    var alertRules: Set<String> { Set(events.compactMap { $0.eventType == "alert" ? $0.alertRule : nil }) }

    /// The EVE lines exactly as `--eve` would write them.
    var eveLines: [String] {
        events.map { JSONWriter.serialize(EveRecord.object(for: $0, sources: sources)) }
    }
}

enum AnalysisHarness {
    static func analyze(_ paths: [String], options: AnalysisOptions = AnalysisOptions(),
                        captureOptions: CaptureOptions = CaptureOptions()) throws -> AnalysisResult {
        let sources = CaptureSourceTable()
        let input = try CaptureInput.openFiles(paths, options: captureOptions, sources: sources)
        let collector = EventCollector()
        let analyzer = Analyzer(options: options, sources: sources, outputs: [collector])
        for path in paths { try analyzer.addBaselineCapture(path: path) }
        input.run({ analyzer.process($0) }, idle: nil)
        analyzer.finish()
        var summary = RunSummary()
        analyzer.summarize(into: &summary)
        analyzer.emitStatistics(summary: summary)
        return AnalysisResult(events: collector.events, summary: summary, tally: analyzer.tally, sources: sources,
                              warnings: input.warnings, learnedBaseline: analyzer.learnedBaseline())
    }

    static func analyze(_ path: String, options: AnalysisOptions = AnalysisOptions()) throws -> AnalysisResult {
        try analyze([path], options: options)
    }

    /// Runs one capture with host telemetry joined to its flows and a baseline mode, as
    /// `wirecheck analyze --host-events ... --baseline ...` (or `wirecheck learn`) does.
    static func analyze(_ path: String, hostTelemetry: HostTelemetryLoad?, baseline: BaselineMode) throws -> AnalysisResult {
        var options = AnalysisOptions()
        options.hostTelemetry = hostTelemetry
        options.baseline = baseline
        return try analyze([path], options: options)
    }
}

/// Paths of test material: the shared corpus beside the repository and the fixtures inside it.
enum TestPaths {
    static let packageRoot: URL = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// `../shared/captures` from the package root, or nil when it is not there.
    static var sharedCaptures: URL? {
        let url = packageRoot.deletingLastPathComponent().appendingPathComponent("shared/captures")
        return FileManager.default.fileExists(atPath: url.appendingPathComponent("MANIFEST.tsv").path) ? url : nil
    }

    static func fixture(_ relative: String) -> String {
        packageRoot.appendingPathComponent("Tests/Fixtures").appendingPathComponent(relative).path
    }

    static func temporaryDirectory() -> URL {
        let url = FileManager.default.temporaryDirectory.appendingPathComponent("wirecheck-tests-\(UUID().uuidString)")
        try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }
}
