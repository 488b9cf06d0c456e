import Foundation
import Testing
import WirecheckBaseline
import WirecheckCore
import WirecheckEngine

/// `--operations` chooses which protocol transactions become events; alerts, anomalies, flow
/// records and what the baseline learns must not depend on it.
@Suite struct OperationLoggingTests {
    static let demo = TestPaths.packageRoot.appendingPathComponent("demo/plant-demo.pcap").path
    static let transactionTypes: Set<String> = ["modbus", "dnp3", "iec104", "enip", "s7comm", "s7comm-plus", "bacnet", "opcua"]

    static func run(_ level: OperationLogging, baseline: BaselineMode = .none) throws -> AnalysisResult {
        var options = AnalysisOptions()
        options.operationLogging = level
        options.baseline = baseline
        return try AnalysisHarness.analyze(demo, options: options)
    }

    /// Alert rules, anomaly names and flow ids with their packets, in output order.
    static func findings(_ result: AnalysisResult) -> [String] {
        result.events.filter { ["alert", "anomaly", "flow"].contains($0.eventType) }.map { event in
            let name = event.alertRule ?? event.anomalyName ?? "flow"
            return "\(event.eventType) \(name) \(event.flow?.flowID ?? 0) \(event.packets.map(\.number))"
        }
    }

    @Test func noneWritesNoTransactionsAndKeepsFindings() throws {
        let all = try Self.run(.all)
        let none = try Self.run(.none)
        #expect(all.events.contains { Self.transactionTypes.contains($0.eventType) })
        #expect(!none.events.contains { Self.transactionTypes.contains($0.eventType) })
        #expect(Self.findings(none) == Self.findings(all))
    }

    @Test func changesWritesOnlyStateChangingOperations() throws {
        let all = try Self.run(.all)
        let changes = try Self.run(.changes)
        let written = changes.events.filter { Self.transactionTypes.contains($0.eventType) }
        let expected = all.events.filter { event in
            guard Self.transactionTypes.contains(event.eventType),
                  case .object(let operation)? = event.body["operation"],
                  case .string(let operationClass)? = operation["class"] else { return false }
            return ["write", "control", "program", "restart"].contains(operationClass)
        }
        #expect(!written.isEmpty)
        #expect(written.count == expected.count)
        #expect(written.map(\.packets) == expected.map(\.packets))
        #expect(Self.findings(changes) == Self.findings(all))
    }

    @Test func baselineLearnsTheSameWithoutTransactionEvents() throws {
        let all = try Self.run(.all, baseline: .learn(Baseline()))
        let none = try Self.run(.none, baseline: .learn(Baseline()))
        let allConversations = all.learnedBaseline?.conversations.map { "\($0)" }.sorted()
        let noneConversations = none.learnedBaseline?.conversations.map { "\($0)" }.sorted()
        #expect(allConversations != nil)
        #expect(allConversations == noneConversations)
    }
}
