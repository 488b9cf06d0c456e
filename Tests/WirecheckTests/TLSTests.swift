import Testing
import Foundation
import WirecheckCore
@testable import WirecheckProtocols

@Suite struct TLSFixtureTests {
    @Test func dumpShared() throws {
        let files = try FileManager.default.contentsOfDirectory(atPath: URL(fileURLWithPath: "/work/shared/captures/tls").path).filter { $0.hasSuffix(".pcap") }.sorted()
        for file in files {
            for connection in TLSTestCapture.connections(path: URL(fileURLWithPath: "/work/shared/captures/tls").appendingPathComponent(file).path) {
                let harness = TLSTestHarness.run(connection)
                print("==", file, connection.flow.destPort, harness.string("version") ?? "-", harness.object("ja3")?["hash"] ?? "-", harness.string("ja4") ?? "-", harness.string("sni") ?? "-", harness.string("subject") ?? "-", harness.string("notbefore") ?? "-", harness.alertRules, harness.anomalyNames)
                for event in harness.sink.events where event.eventType == "anomaly" { print("   ", event.message ?? "") }
            }
        }
    }
}
