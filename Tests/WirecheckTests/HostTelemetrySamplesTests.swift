import Foundation
import Testing
@testable import WirecheckHosts

/// Reads the public telemetry samples kept outside the repository, when they are present.
@Suite struct HostTelemetrySamplesTests {
    /// The first `shared/telemetry` folder beside the package root or one of its ancestors,
    /// so the tests find the samples from the main checkout and from a worktree below it.
    static let samplesPath: String = {
        var folder = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        while folder.path != "/" {
            folder = folder.deletingLastPathComponent()
            let candidate = folder.appendingPathComponent("shared/telemetry").path
            if FileManager.default.fileExists(atPath: candidate) { return candidate }
        }
        return "/nonexistent/shared/telemetry"
    }()

    static var samplesPresent: Bool { FileManager.default.fileExists(atPath: samplesPath) }

    @Test(.enabled(if: samplesPresent)) func printSummaries() {
        let load = HostTelemetry.load(paths: [Self.samplesPath])
        for file in load.files {
            print("SUMMARY", (file.file as NSString).lastPathComponent, file.format.rawValue, "p", file.processRecords, "e", file.processEndRecords, "c", file.connectionRecords, "d", file.dnsQueryRecords, "o", file.otherRecords, "x", file.problems, "r", file.skippedRecoveredRecords, file.error ?? "")
        }
        for problem in load.problems { print("PROBLEM", problem) }
    }
}
