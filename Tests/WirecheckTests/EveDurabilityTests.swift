import Foundation
import Testing
import WirecheckCore
import WirecheckOutput

/// The EVE writer under append, a full disk, SIGTERM and kill -9: readers must never see a
/// torn line, and a failed write must end the run with a message and status 1.
@Suite struct EveDurabilityTests {
    static func write(_ text: String) throws -> String {
        let path = TestPaths.temporaryDirectory().appendingPathComponent("eve.json").path
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
        return path
    }

    static func contents(_ path: String) -> String {
        (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
    }

    static func event(_ index: Int) -> Event {
        Event(eventType: "test", timestamp: Timestamp(nanoseconds: Int64(index)), body: ["index": .int(index)])
    }

    /// Returns true when every newline-terminated line parses as a JSON object.
    static func allLinesParse(_ text: String) -> Bool {
        text.split(separator: "\n").allSatisfy { line in
            (try? JSONSerialization.jsonObject(with: Data(line.utf8))) is [String: Any]
        }
    }

    // MARK: - Append

    @Test func appendRemovesTornLine() throws {
        let path = try Self.write("{\"a\":1}\n{\"b\":")
        let writer = try EveWriter(path: path, sources: CaptureSourceTable(), append: true)
        #expect(writer.repairedBytes == 5)
        writer.emit(Self.event(1))
        writer.close()
        let text = Self.contents(path)
        #expect(text.hasPrefix("{\"a\":1}\n{"))
        #expect(text.hasSuffix("\n"))
        #expect(text.split(separator: "\n").count == 2)
        #expect(Self.allLinesParse(text))
    }

    @Test func appendKeepsWholeFile() throws {
        let path = try Self.write("{\"a\":1}\n")
        let writer = try EveWriter(path: path, sources: CaptureSourceTable(), append: true)
        #expect(writer.repairedBytes == 0)
        writer.emit(Self.event(1))
        writer.close()
        #expect(Self.contents(path).split(separator: "\n").count == 2)
    }

    @Test func appendWithoutAnyNewlineEmptiesFile() throws {
        let path = try Self.write("{\"torn\":")
        let writer = try EveWriter(path: path, sources: CaptureSourceTable(), append: true)
        #expect(writer.repairedBytes == 8)
        writer.close()
        #expect(Self.contents(path).isEmpty)
    }

    @Test func appendFindsNewlineBeyondOneReadChunk() throws {
        // A torn line longer than the 64 KiB read-back chunk.
        let path = try Self.write("{\"a\":1}\n{\"b\":\"" + String(repeating: "x", count: 100_000))
        let writer = try EveWriter(path: path, sources: CaptureSourceTable(), append: true)
        #expect(writer.repairedBytes == 100_006)
        writer.close()
        #expect(Self.contents(path) == "{\"a\":1}\n")
    }

    @Test func appendCreatesMissingFile() throws {
        let path = TestPaths.temporaryDirectory().appendingPathComponent("new.json").path
        let writer = try EveWriter(path: path, sources: CaptureSourceTable(), append: true)
        writer.emit(Self.event(1))
        writer.close()
        #expect(writer.repairedBytes == 0)
        #expect(Self.contents(path).split(separator: "\n").count == 1)
    }

    @Test func replaceModeTruncates() throws {
        let path = try Self.write("{\"old\":1}\n{\"torn\":")
        let writer = try EveWriter(path: path, sources: CaptureSourceTable())
        writer.emit(Self.event(1))
        writer.close()
        #expect(!Self.contents(path).contains("old"))
    }

    // MARK: - Full disk

    @Test(.enabled(if: FileManager.default.fileExists(atPath: "/dev/full"), "/dev/full is absent"))
    func fullDeviceSetsFailure() throws {
        let writer = try EveWriter(path: "/dev/full", sources: CaptureSourceTable(), flushThreshold: 256)
        for index in 0..<100 { writer.emit(Self.event(index)) }
        writer.close()
        #expect(writer.failure?.description.contains("No space left on device") == true)
        #expect(writer.eventsLost > 0)
    }

    @Test(.enabled(if: CLIRunner.isBuilt && FileManager.default.fileExists(atPath: "/dev/full"), "needs the binary and /dev/full"))
    func fullDeviceExitsOne() throws {
        let capture = try ResourceLimitTests.unansweredModbus(requests: 200)
        let run = try CLIRunner.run(["analyze", "--quiet", "--eve", "/dev/full", capture])
        #expect(run.status == 1)
        #expect(run.error.contains("writing EVE output '/dev/full' failed: No space left on device"))
        #expect(run.error.contains("events were not written"))
    }

    // MARK: - Signals

    /// Starts the binary on a large capture, waits until the EVE file has data, sends `signal`
    /// and returns the exit status and the EVE file's text.
    static func interrupt(with signal: Int32, requests: Int) throws -> (status: Int32, reason: Process.TerminationReason, text: String, path: String) {
        let capture = try ResourceLimitTests.unansweredModbus(requests: requests)
        let evePath = TestPaths.temporaryDirectory().appendingPathComponent("eve.json").path
        let process = Process()
        process.executableURL = URL(fileURLWithPath: CLIRunner.binary)
        process.arguments = ["analyze", "--quiet", "--eve", evePath, capture]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        let deadline = Date().addingTimeInterval(60)
        while Date() < deadline && process.isRunning {
            let size = (try? FileManager.default.attributesOfItem(atPath: evePath)[.size] as? Int) ?? 0
            if size > 200_000 { break }
            usleep(5_000)
        }
        if process.isRunning { kill(process.processIdentifier, signal) }
        process.waitUntilExit()
        return (process.terminationStatus, process.terminationReason, contents(evePath), evePath)
    }

    @Test(.enabled(if: CLIRunner.isBuilt, "build the wirecheck binary first"), .timeLimit(.minutes(2)))
    func sigtermFlushesWholeLines() throws {
        let run = try Self.interrupt(with: SIGTERM, requests: 300_000)
        #expect(run.status == 0)
        #expect(run.text.hasSuffix("\n"))
        #expect(Self.allLinesParse(run.text))
        // The stop path still ends the flows and writes the stats event last.
        #expect(run.text.split(separator: "\n").last?.contains("\"event_type\":\"stats\"") == true)
    }

    @Test(.enabled(if: CLIRunner.isBuilt, "build the wirecheck binary first"), .timeLimit(.minutes(2)))
    func killNineLeavesParsableLines() throws {
        let run = try Self.interrupt(with: SIGKILL, requests: 300_000)
        #expect(!run.text.isEmpty)
        // Whole lines parse; a kill inside a write call can leave one torn last line, which
        // --eve-append removes.
        var lines = run.text.split(separator: "\n", omittingEmptySubsequences: false)
        if run.text.hasSuffix("\n") { lines.removeLast() } else { lines.removeLast() }
        for line in lines {
            #expect((try? JSONSerialization.jsonObject(with: Data(line.utf8))) is [String: Any])
        }
        let writer = try EveWriter(path: run.path, sources: CaptureSourceTable(), append: true)
        writer.close()
        let repaired = Self.contents(run.path)
        #expect(repaired.isEmpty || repaired.hasSuffix("\n"))
        #expect(Self.allLinesParse(repaired))
    }

    // MARK: - --user

    @Test(.enabled(if: CLIRunner.isBuilt, "build the wirecheck binary first"))
    func unknownUserIsClearError() throws {
        let run = try CLIRunner.run(["analyze", "--user", "no-such-user-wirecheck", "-i", "lo"])
        #expect(run.status == 2)
        #expect(run.error.contains("user 'no-such-user-wirecheck' given with --user not found"))
    }

    @Test(.enabled(if: CLIRunner.isBuilt, "build the wirecheck binary first"))
    func userNeedsLiveCapture() throws {
        let run = try CLIRunner.run(["analyze", "--user", "nobody", "capture.pcap"])
        #expect(run.status == 2)
        #expect(run.error.contains("--user applies only to live capture"))
    }

    @Test(.enabled(if: CLIRunner.isBuilt, "build the wirecheck binary first"))
    func helpListsLimitOptions() throws {
        let run = try CLIRunner.run(["analyze", "--help"])
        for option in ["--eve-append", "--max-reassembly-bytes", "--max-reassembly-total", "--max-outstanding-requests",
                       "--max-fragments", "--max-arp-bindings", "--anomaly-repeats", "--user"] {
            #expect((run.output + run.error).contains(option), "help lacks \(option)")
        }
    }
}
