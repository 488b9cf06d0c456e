import Foundation
import Testing
import WirecheckCore
@testable import WirecheckProtocols

/// Replays the optional shared capture set (absent on most machines) and prints, per file, the
/// S7comm function and EtherNet/IP command and CIP service counts next to the tshark counts that
/// MANIFEST.tsv records. The counts are printed for review rather than asserted, because tshark
/// counts every PDU while the parser reports paired transactions. The test asserts only that each
/// file replays without a crash.
@Suite struct ENIPS7SharedCaptureTests {
    static func manifest() -> [String: String] {
        guard let text = try? String(contentsOfFile: ReplayPaths.sharedCaptures + "/MANIFEST.tsv", encoding: .utf8) else { return [:] }
        var rows: [String: String] = [:]
        for line in text.split(separator: "\n") {
            let fields = line.split(separator: "\t", omittingEmptySubsequences: false)
            guard fields.count > 8 else { continue }
            rows[String(fields[0])] = String(fields[8])
        }
        return rows
    }

    /// Reads `label: Name (0xNN) xCOUNT, ...` from a manifest description into code -> count.
    static func tsharkCounts(_ description: String, label: String) -> [Int: Int] {
        guard let start = description.range(of: label + ": ") else { return [:] }
        let rest = description[start.upperBound...]
        let section = rest.prefix { $0 != ";" && $0 != "|" && $0 != "]" }
        var counts: [Int: Int] = [:]
        for entry in section.split(separator: ",") {
            guard let open = entry.range(of: "(0x"), let close = entry.range(of: ") x", range: open.upperBound ..< entry.endIndex),
                  let code = Int(entry[open.upperBound ..< close.lowerBound], radix: 16),
                  let count = Int(entry[close.upperBound...].prefix { $0.isNumber }) else { continue }
            counts[code, default: 0] += count
        }
        return counts
    }

    static func files(in folder: String) -> [String] {
        let directory = ReplayPaths.sharedCaptures + "/" + folder
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: directory) else { return [] }
        return names.filter { $0.hasSuffix(".pcap") || $0.hasSuffix(".pcapng") }.sorted().map { folder + "/" + $0 }
    }

    static func format(_ counts: [Int: Int]) -> String {
        counts.keys.sorted().map { "0x" + String($0, radix: 16) + "=\(counts[$0] ?? 0)" }.joined(separator: " ")
    }

    @Test func s7commCapturesReplay() {
        let files = Self.files(in: "s7comm")
        guard !files.isEmpty else { return }
        let manifest = Self.manifest()
        for file in files {
            let replay = ENIPS7CaptureReplay(serverPorts: [102]) { _ in S7commParser() }
            guard replay.replay(path: ReplayPaths.sharedCaptures + "/" + file) != nil else { continue }
            var functions: [Int: Int] = [:]
            for event in replay.sink.events {
                guard case .object(let record)? = event.body["s7comm"], case .int(let code)? = record["function"] else { continue }
                // tshark counts the function in the job and again in an ack_data reply.
                let replies = record["reply_rosctr"] == .string("ack_data") ? 1 : 0
                functions[Int(code), default: 0] += 1 + replies
            }
            let plus = replay.sink.events.filter { $0.eventType == "s7comm-plus" }.count
            if plus > 0 {
                var names: [String: Int] = [:]
                for event in replay.sink.events {
                    guard case .object(let record)? = event.body["s7comm-plus"] else { continue }
                    let opcode: String
                    if case .string(let name)? = record["opcode_name"] { opcode = name } else { opcode = "no_opcode" }
                    let function: String
                    if case .string(let name)? = record["function_name"] { function = name } else { function = "-" }
                    names[opcode + "/" + function, default: 0] += 1
                }
                print("[s7comm] \(file): \(plus) s7comm-plus events \(names.sorted { $0.key < $1.key })")
            }
            let anomalies = replay.sink.events.compactMap(\.anomalyName)
            let alerts = replay.sink.events.compactMap(\.alertRule)
            let expected = Self.tsharkCounts(manifest[file] ?? "", label: "param.func")
            print("[s7comm] \(file): ours \(Self.format(functions)) | tshark \(Self.format(expected)) | \(functions == expected ? "agree" : "differ")")
            print("[s7comm] \(file): anomalies \(anomalies) alerts \(alerts)")
        }
    }

    @Test func enipCapturesReplay() {
        let files = Self.files(in: "enip")
        guard !files.isEmpty else { return }
        let manifest = Self.manifest()
        for file in files {
            let replay = ENIPS7CaptureReplay(serverPorts: [44818, 2222]) { ENIPProtocol.makeParser(transport: $0) }
            guard replay.replay(path: ReplayPaths.sharedCaptures + "/" + file) != nil else { continue }
            var commands: [Int: Int] = [:]
            var services: [Int: Int] = [:]
            // A paired record stands for a request and its reply; an unpaired one for one message.
            func countServices(_ cip: JSONObject, paired: Bool) {
                guard case .int(let code)? = cip["service"] else { return }
                services[Int(code), default: 0] += paired && cip["status"] != nil ? 2 : 1
                for key in ["multiple", "embedded"] {
                    guard case .array(let list)? = cip[key] else { continue }
                    for case .object(let inner) in list { countServices(inner, paired: paired) }
                }
            }
            let commandCodes = ["list_identity": 0x63, "send_rr_data": 0x6F, "send_unit_data": 0x70, "register_session": 0x65,
                                "list_services": 0x04, "unregister_session": 0x66]
            for event in replay.sink.events {
                guard case .object(let record)? = event.body["enip"], case .string(let command)? = record["command"] else { continue }
                let paired = record["status"] != nil && record["request"] == nil
                if let code = commandCodes[command] { commands[code, default: 0] += paired ? 2 : 1 }
                if case .object(let cip)? = record["cip"] { countServices(cip, paired: record["request"] == nil) }
            }
            let description = manifest[file] ?? ""
            let expectedCommands = Self.tsharkCounts(description, label: "command")
            let expectedServices = Self.tsharkCounts(description, label: "sc")
            print("[enip] \(file): commands ours \(Self.format(commands)) | tshark \(Self.format(expectedCommands)) | \(commands == expectedCommands ? "agree" : "differ")")
            print("[enip] \(file): services ours \(Self.format(services)) | tshark \(Self.format(expectedServices)) | \(services == expectedServices ? "agree" : "differ")")
            print("[enip] \(file): anomalies \(replay.sink.events.compactMap(\.anomalyName)) alerts \(replay.sink.events.compactMap(\.alertRule))")
        }
    }
}
