import Foundation
import Testing
import WirecheckCore
import WirecheckEngine

/// Analyses every capture of the shared public corpus, when it sits beside the repository, and
/// checks what the corpus manifest and the source projects' own tools say each file shows.
@Suite(.serialized) struct CorpusTests {
    struct ManifestRow {
        var path: String
        var protocols: String
        var whatItShows: String
    }

    static func manifest() -> [ManifestRow] {
        guard let root = TestPaths.sharedCaptures,
              let text = try? String(contentsOf: root.appendingPathComponent("MANIFEST.tsv"), encoding: .utf8) else { return [] }
        return text.split(separator: "\n").dropFirst().compactMap { line in
            let columns = line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
            guard columns.count >= 9 else { return nil }
            return ManifestRow(path: columns[0], protocols: columns[7], whatItShows: columns[8])
        }
    }

    static func analyze(_ relative: String) throws -> AnalysisResult? {
        guard let root = TestPaths.sharedCaptures else { return nil }
        return try AnalysisHarness.analyze(root.appendingPathComponent(relative).path)
    }

    @Test func everyCaptureAnalysesWithoutCrash() throws {
        let rows = CorpusTests.manifest()
        guard !rows.isEmpty else { return }
        var failures: [String] = []
        for row in rows {
            do {
                let result = try CorpusTests.analyze(row.path)
                let packets = result?.summary.packets ?? 0
                if packets == 0 && !row.whatItShows.contains("0 pkts") {
                    failures.append("\(row.path): no packet analysed; warnings: \(result?.warnings ?? [])")
                }
            } catch {
                // Files damaged at the container level must still yield a clear error, not a crash.
                failures.append("\(row.path): \(error)")
            }
        }
        #expect(failures.isEmpty, "\(failures.joined(separator: "\n"))")
    }

    /// Decoder and flow anomalies the corpus files were made to show, and the ones they must not.
    @Test(arguments: [
        ("malformed-l3l4/sv-udp-len-invalid.pcap", "decoder.udp.length_invalid", true),
        ("malformed-l3l4/sv-decode-too-small.pcap", "decoder.tcp.truncated", true),
        ("malformed-l3l4/sv-decode-too-small.pcap", "decoder.udp.truncated", true),
        ("malformed-l3l4/sv-unknown-ethertype.pcap", "decoder.ethernet.unknown_ethertype", true),
        ("malformed-l3l4/sv-ipv4-truncated.pcap", "decoder.ipv4.total_length_invalid", true),
        ("tcp-anomaly/zeek-tcp-window-scale-range.pcap", "decoder.tcp.window_scale_invalid", true),
        ("tcp-anomaly/sv-tcp-tfo-option-not-invalid.pcap", "decoder.tcp.option_length_invalid", false),
        ("tcp-anomaly/sv-tcp-empty-sack.pcap", "decoder.tcp.option_length_invalid", false),
        ("tcp-anomaly/sv-tcp-overlap-different-data.pcap", "stream.retransmission_different_data", true),
        ("tcp-anomaly/sv-tcp-partial-overlap.pcap", "stream.retransmission_different_data", true),
        ("tcp-anomaly/sv-tcp-split-handshake-4whs.pcap", "stream.synack_from_originator", true),
        ("tcp-anomaly/sv-tcp-out-of-window-3whs.pcap", "stream.handshake_invalid_ack", true),
        ("tcp-anomaly/sv-tcp-no-evasion-baseline.pcap", "stream.retransmission_different_data", false),
    ])
    func corpusAnomaly(file: String, anomaly: String, expected: Bool) throws {
        guard let result = try CorpusTests.analyze(file) else { return }
        #expect(result.anomalyNames.contains(anomaly) == expected,
                "\(file): \(anomaly) expected \(expected); got \(result.anomalyNames.sorted())")
    }

    /// Every ICS capture is identified by content as its protocol.
    @Test(arguments: ["modbus", "dnp3", "iec104", "enip", "s7comm", "bacnet", "opcua"])
    func icsCapturesIdentified(folder: String) throws {
        let rows = CorpusTests.manifest().filter { $0.path.hasPrefix(folder + "/") }
        let expectedProto: String = folder
        var unidentified: [String] = []
        for row in rows {
            guard let result = try CorpusTests.analyze(row.path) else { return }
            let identified = result.summary.flowsByAppProto.keys.contains { $0.hasPrefix(expectedProto) }
            if !identified { unidentified.append("\(row.path): \(result.summary.flowsByAppProto)") }
        }
        #expect(unidentified.isEmpty, "not identified as \(expectedProto):\n\(unidentified.joined(separator: "\n"))")
    }
}

/// Modbus function-code counts through the whole pipeline against the counts tshark 4.0.17
/// reports in the corpus manifest (`func_code: Read Coils (1) x9`, frames of each code).
@Suite(.serialized) struct CorpusModbusCountTests {
    /// Parses the manifest's "func_code: NAME (CODE) xCOUNT, ..." list into code → frames.
    static func tsharkCounts(_ whatItShows: String) -> [Int: Int] {
        guard let start = whatItShows.range(of: "func_code: ") else { return [:] }
        let list = whatItShows[start.upperBound...].prefix { $0 != ";" && $0 != "|" && $0 != "]" }
        var counts: [Int: Int] = [:]
        for item in list.split(separator: ",") {
            guard let open = item.lastIndex(of: "("), let close = item.lastIndex(of: ")"),
                  let code = Int(item[item.index(after: open)..<close]),
                  let times = item.range(of: " x", options: .backwards), let count = Int(item[times.upperBound...].trimmingCharacters(in: .whitespaces)) else { continue }
            counts[code] = count
        }
        return counts
    }

    /// Frames per function code in our `modbus` events: a request and its response each count.
    static func ourCounts(_ result: AnalysisResult) -> [Int: Int] {
        var counts: [Int: Int] = [:]
        for event in result.events(ofType: "modbus") {
            guard case .object(let record)? = event.body["modbus"], case .int(let code)? = record["function_code"] else { continue }
            var frames = 0
            if let request = record["request"], request != .null { frames += 1 }
            if let response = record["response"], response != .null { frames += 1 }
            counts[Int(code), default: 0] += frames
        }
        return counts
    }

    @Test func functionCodeCountsAgreeWithTshark() throws {
        let rows = CorpusTests.manifest().filter { $0.path.hasPrefix("modbus/") }
        var disagreements: [String] = []
        var compared = 0
        for row in rows {
            let expected = CorpusModbusCountTests.tsharkCounts(row.whatItShows)
            // Fuzzed captures are decoded by port in tshark, including frames no standard
            // parser accepts, so their counts are not a reference.
            guard !expected.isEmpty, !row.path.contains("fuzz"), let result = try CorpusTests.analyze(row.path) else { continue }
            let ours = CorpusModbusCountTests.ourCounts(result)
            compared += 1
            for (code, count) in expected where ours[code, default: 0] != count {
                disagreements.append("\(row.path) fc \(code): tshark \(count), wirecheck \(ours[code, default: 0])")
            }
        }
        guard compared > 0 else { return }
        #expect(disagreements.isEmpty, "\(disagreements.joined(separator: "\n"))")
    }
}
