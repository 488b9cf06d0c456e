import Foundation
import Testing
import WirecheckCapture
import WirecheckCore
import WirecheckOutput
import WirecheckSynthesis

/// Golden-output tests: the EVE lines of known captures, compared line by line with files under
/// `Tests/Golden`. Run with `WIRECHECK_UPDATE_GOLDEN=1` to rewrite the golden files (and the
/// scenario captures) after an intended change, then review the diff before committing it.
@Suite("Golden output")
struct GoldenTests {
    static let goldenDirectory = TestPaths.packageRoot.appendingPathComponent("Tests/Golden")
    static let demoCapture = TestPaths.packageRoot.appendingPathComponent("demo/plant-demo.pcap")

    static var updating: Bool { ProcessInfo.processInfo.environment["WIRECHECK_UPDATE_GOLDEN"] == "1" }

    /// Writes frames as a pcap file the way `wirecheck-synth` does and returns the file's bytes.
    static func pcapBytes(_ frames: [(timestamp: Timestamp, bytes: [UInt8])]) throws -> Data {
        let path = TestPaths.temporaryDirectory().appendingPathComponent("generated.pcap").path
        let writer = try CaptureFileWriter(path: path, linkType: .ethernet)
        for frame in frames {
            writer.write(frame.bytes, timestamp: frame.timestamp)
        }
        try writer.flush()
        writer.close()
        return try Data(contentsOf: URL(fileURLWithPath: path))
    }

    /// Returns the EVE lines of a capture, each with `capture.file` reduced to the file's base
    /// name so the golden file does not depend on where the repository is checked out.
    static func eveLines(of path: String) throws -> [String] {
        let result = try AnalysisHarness.analyze(path)
        let baseNames = CaptureSourceTable()
        for name in result.sources.names {
            baseNames.add(URL(fileURLWithPath: name).lastPathComponent)
        }
        return result.events.map { JSONWriter.serialize(EveRecord.object(for: $0, sources: baseNames)) }
    }

    /// Compares the EVE lines of `capture` with `golden`, or rewrites `golden` when updating.
    static func compareWithGolden(capture: URL, golden: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let lines = try eveLines(of: capture.path)
        let goldenURL = goldenDirectory.appendingPathComponent(golden)
        if updating {
            try FileManager.default.createDirectory(at: goldenDirectory, withIntermediateDirectories: true)
            try Data((lines.joined(separator: "\n") + "\n").utf8).write(to: goldenURL)
            return
        }
        guard let text = try? String(contentsOf: goldenURL, encoding: .utf8) else {
            Issue.record("Golden file \(goldenURL.path) is missing; run the tests with WIRECHECK_UPDATE_GOLDEN=1 to create it.",
                         sourceLocation: sourceLocation)
            return
        }
        let expected = text.split(separator: "\n", omittingEmptySubsequences: true).map(String.init)
        let hint = "if the change is intended, run the tests with WIRECHECK_UPDATE_GOLDEN=1 and review the diff of \(golden)"
        for index in 0..<min(lines.count, expected.count) where lines[index] != expected[index] {
            Issue.record("""
                EVE line \(index + 1) of \(capture.lastPathComponent) differs from \(golden) (\(hint)).
                expected: \(expected[index])
                actual:   \(lines[index])
                """, sourceLocation: sourceLocation)
            return
        }
        #expect(lines.count == expected.count,
                "\(capture.lastPathComponent) produced \(lines.count) EVE lines, \(golden) has \(expected.count) (\(hint))",
                sourceLocation: sourceLocation)
    }

    /// Checks that the committed scenario capture `name` equals what its generator writes now,
    /// or rewrites it when updating. Returns the committed file.
    static func scenarioCapture(_ name: String, _ capture: ScenarioCapture,
                                sourceLocation: SourceLocation = #_sourceLocation) throws -> URL {
        let url = goldenDirectory.appendingPathComponent(name)
        let generated = try pcapBytes(capture.frames)
        if updating {
            try FileManager.default.createDirectory(at: goldenDirectory, withIntermediateDirectories: true)
            try generated.write(to: url)
        }
        // Kept small because the file is committed.
        #expect(generated.count < 10_000, "\(name) is \(generated.count) bytes", sourceLocation: sourceLocation)
        let committed = try? Data(contentsOf: url)
        #expect(committed == generated,
                "Tests/Golden/\(name) differs from what its generator in ScenarioTests.swift writes; run the tests with WIRECHECK_UPDATE_GOLDEN=1 to rewrite it",
                sourceLocation: sourceLocation)
        return url
    }

    @Test("demo capture matches its builder")
    func demoCaptureIsCurrent() throws {
        let generated = try Self.pcapBytes(DemoPlant.frames().map { ($0.timestamp, $0.bytes) })
        let committed = try Data(contentsOf: Self.demoCapture)
        #expect(committed == generated,
                "demo/plant-demo.pcap is older than DemoPlant.swift; run `.build/debug/wirecheck-synth demo demo/plant-demo.pcap` and commit the file")
    }

    @Test("demo capture EVE output")
    func demoOutput() throws {
        try Self.compareWithGolden(capture: Self.demoCapture, golden: "plant-demo.eve.jsonl")
    }

    @Test("RST injection scenario EVE output")
    func resetInjectionOutput() throws {
        let url = try Self.scenarioCapture("rst-injection.pcap", ScenarioStreamTests.resetInjectionCapture().capture)
        try Self.compareWithGolden(capture: url, golden: "rst-injection.eve.jsonl")
    }

    @Test("no-handshake scenario EVE output")
    func noHandshakeOutput() throws {
        let url = try Self.scenarioCapture("no-handshake.pcap", ScenarioHandshakeTests.noHandshakeCapture().capture)
        try Self.compareWithGolden(capture: url, golden: "no-handshake.eve.jsonl")
    }

    @Test("ARP rebinding scenario EVE output")
    func macChangeOutput() throws {
        let url = try Self.scenarioCapture("arp-mac-change.pcap", ScenarioARPTests.macChangeCapture().capture)
        try Self.compareWithGolden(capture: url, golden: "arp-mac-change.eve.jsonl")
    }
}
