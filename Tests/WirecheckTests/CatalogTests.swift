import Foundation
import Testing
import WirecheckEngine

@Suite struct CatalogTests {
    @Test func eventReferenceMatchesCode() throws {
        let path = TestPaths.packageRoot.appendingPathComponent("docs/events.md")
        let committed = try String(contentsOf: path, encoding: .utf8)
        #expect(committed == CatalogDocument.markdown(),
                "docs/events.md is out of date: run `swift run wirecheck catalog --markdown > docs/events.md`")
    }

    @Test func namesAndSignatureIdsAreUnique() {
        #expect(CatalogDocument.duplicates.isEmpty, "duplicates: \(CatalogDocument.duplicates)")
    }

    @Test func everyAlertHasSummaryAndValidSeverity() {
        for alert in CatalogDocument.alerts {
            #expect((1...3).contains(alert.severity), "\(alert.name) severity \(alert.severity)")
            #expect(!alert.summary.isEmpty, "\(alert.name) has no summary")
        }
        for anomaly in CatalogDocument.anomalies {
            #expect(!anomaly.summary.isEmpty, "\(anomaly.name) has no summary")
        }
    }
}
