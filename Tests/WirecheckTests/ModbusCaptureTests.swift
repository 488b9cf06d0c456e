import Foundation
import Testing
import WirecheckCore
@testable import WirecheckProtocols

private let packageRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent()
private let fixturePath = packageRoot.appendingPathComponent("Tests/Fixtures/modbus/pymodbus-session.pcap").path
/// Public Modbus captures beside the repository, or where WIRECHECK_SHARED_CAPTURES points.
private let sharedModbusDirectory: String? = {
    let candidates: [String?] = [ProcessInfo.processInfo.environment["WIRECHECK_SHARED_CAPTURES"],
                                 packageRoot.deletingLastPathComponent().appendingPathComponent("shared/captures").path]
    for case let directory? in candidates where FileManager.default.fileExists(atPath: directory + "/modbus") {
        return directory
    }
    return nil
}()

@Suite struct ModbusCaptureTests {
    @Test func pymodbusFixtureSession() {
        let replay = CaptureReplay()
        #expect(replay.replay(path: fixturePath) == nil)
        let counts = replay.functionCodeCounts
        // Each request kind the fixture script sends, once per server port (5020 and 502),
        // with its response.
        for code in [1, 2, 4, 5, 6, 15, 16, 22, 23, 17, 43] {
            #expect(counts[code] == 4, "function code \(code)")
        }
        #expect(counts[3] == 8)
        #expect(counts[8] == 8)
        #expect(counts[11] == 4)

        let events = replay.collector.events
        let exceptions = events.filter { jsonObject($0.modbusRecord?["response"])?["exception"] == .string("illegal_data_address") }
        #expect(exceptions.count == 2)
        #expect(replay.collector.anomalies(named: "applayer.protocol_port_mismatch").count == 1)
        #expect(replay.collector.alerts(named: "applayer.ics_protocol_nonstandard_port").count == 1)
        let otherAnomalies = events.filter { $0.eventType == "anomaly" && $0.anomalyName != "applayer.protocol_port_mismatch" }
        #expect(otherAnomalies.isEmpty, "\(otherAnomalies.compactMap(\.message))")
        let identities = events.compactMap { jsonObject(jsonObject($0.modbusRecord?["response"])?["objects"]) }
        #expect(identities.first?["vendor_name"] == .wire(Array("Wirecheck Fixtures".utf8)))
    }

    /// Compares function-code counts with the tshark counts in the shared captures' manifest and
    /// prints the comparison per file. Only crashes and unreadable files fail the test, because
    /// the replay skips out-of-order segments that tshark reassembles.
    @Test(.enabled(if: sharedModbusDirectory != nil)) func sharedCapturesAgainstManifest() throws {
        let directory = try #require(sharedModbusDirectory)
        let manifest = try String(contentsOfFile: directory + "/MANIFEST.tsv", encoding: .utf8)
        for line in manifest.split(separator: "\n") where line.hasPrefix("modbus/") {
            let columns = line.split(separator: "\t", omittingEmptySubsequences: false)
            guard let name = columns.first else { continue }
            let replay = CaptureReplay()
            #expect(replay.replay(path: directory + "/" + name) == nil, "\(name)")
            let expected = tsharkFunctionCodeCounts(String(line))
            let actual = replay.functionCodeCounts
            let codes = Set(expected.keys).union(actual.keys).sorted()
            let rows = codes.map { "fc \($0): tshark \(expected[$0] ?? 0), wirecheck \(actual[$0] ?? 0)" }
            let agrees = codes.allSatisfy { expected[$0] == actual[$0] }
            print("\(name): \(agrees ? "agrees" : "differs") | \(rows.joined(separator: "; "))")
        }
    }

    /// Reads "func_code: Read Coils (1) x9, ..." from a manifest line.
    private func tsharkFunctionCodeCounts(_ line: String) -> [Int: Int] {
        guard let start = line.range(of: "func_code: ") else { return [:] }
        let rest = line[start.upperBound...]
        let end = rest.firstIndex { $0 == ";" || $0 == "|" || $0 == "]" } ?? rest.endIndex
        var counts: [Int: Int] = [:]
        for entry in rest[..<end].split(separator: ",") {
            guard let open = entry.lastIndex(of: "("), let close = entry.lastIndex(of: ")"),
                  let code = Int(entry[entry.index(after: open)..<close]),
                  let times = entry.range(of: " x"), let count = Int(entry[times.upperBound...].trimmingCharacters(in: .whitespaces))
            else { continue }
            counts[code, default: 0] += count
        }
        return counts
    }
}

