import Foundation
import Testing
import WirecheckCore

/// JA3 through the whole pipeline against Wireshark's `tls.handshake.ja3` on the public TLS
/// captures. Runs only when both the corpus and `tshark` are present.
@Suite(.serialized) struct CorpusTLSFingerprintTests {
    static var tsharkPath: String? {
        ["/usr/bin/tshark", "/usr/local/bin/tshark"].first { FileManager.default.isExecutableFile(atPath: $0) }
    }

    static func tsharkJA3(_ path: String, tshark: String) throws -> Set<String> {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: tshark)
        process.arguments = ["-r", path, "-Y", "tls.handshake.type == 1", "-T", "fields", "-e", "tls.handshake.ja3"]
        let output = Pipe()
        process.standardOutput = output
        process.standardError = FileHandle.nullDevice
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return Set(String(decoding: data, as: UTF8.self).split(separator: "\n").map(String.init).filter { !$0.isEmpty })
    }

    @Test func ja3AgreesWithWireshark() throws {
        guard let root = TestPaths.sharedCaptures, let tshark = CorpusTLSFingerprintTests.tsharkPath else { return }
        let rows = CorpusTests.manifest().filter { $0.path.hasPrefix("tls/") }
        var disagreements: [String] = []
        var compared = 0
        for row in rows {
            let path = root.appendingPathComponent(row.path).path
            // tshark decodes TLS only on its registered ports and has no JA3 for SSLv2-format
            // hellos, so files where it reports none are not a reference.
            let reference = try CorpusTLSFingerprintTests.tsharkJA3(path, tshark: tshark)
            guard !reference.isEmpty else { continue }
            let result = try AnalysisHarness.analyze(path)
            var ours = Set<String>()
            for event in result.events(ofType: "tls") {
                if case .object(let tls)? = event.body["tls"], case .object(let ja3)? = tls["ja3"],
                   case .string(let hash)? = ja3["hash"] { ours.insert(hash) }
            }
            compared += 1
            // Every handshake we fingerprint must carry Wireshark's JA3; a second ClientHello
            // on the same flow is not reported as its own handshake yet, so ours may be fewer.
            if ours.isEmpty || !ours.isSubset(of: reference) {
                disagreements.append("\(row.path): tshark \(reference.sorted()), wirecheck \(ours.sorted())")
            }
        }
        guard compared > 0 else { return }
        #expect(disagreements.isEmpty, "\(disagreements.joined(separator: "\n"))")
    }
}
