import WirecheckBaseline
import WirecheckCore
import WirecheckOutput

/// Turns a baseline into the report's review rows: each asset, conversation and operation in
/// words, what backs it, and whether an engineer approved it.
enum BaselineReviewView {
    static func entries(_ baseline: Baseline) -> [BaselineEntryView] {
        let sources = baseline.captures.map { "\($0.path) (SHA-256 \($0.sha256.prefix(16)))" }.joined(separator: ", ")
        func evidence(_ observation: Observation) -> String {
            "\(observation.count) observations from \(observation.firstSeen.iso8601) to \(observation.lastSeen.iso8601)"
                + (sources.isEmpty ? "" : " in \(sources)")
        }

        var views: [BaselineEntryView] = []
        for address in baseline.assets.keys.sorted() {
            guard let asset = baseline.assets[address] else { continue }
            let macs = asset.macs.sorted().map(\.description).joined(separator: ", ")
            let roles = asset.roles.sorted().joined(separator: ", ")
            views.append(BaselineEntryView(entry: "Asset \(address)" + (macs.isEmpty ? "" : " (\(macs))") + (roles.isEmpty ? "" : ": \(roles)"),
                                           evidence: evidence(asset.observation), approved: asset.review.approved))
        }
        for key in baseline.conversations.keys.sorted() {
            guard let conversation = baseline.conversations[key] else { continue }
            views.append(BaselineEntryView(entry: "Conversation \(key.description), \(conversation.flows) flows",
                                           evidence: evidence(conversation.observation), approved: conversation.review.approved))
            for operation in conversation.sortedOperations {
                views.append(BaselineEntryView(entry: "\(key.client) → \(key.server) may send \(operation.key.description), class \(operation.operationClass.rawValue)",
                                               evidence: evidence(operation.observation), approved: operation.review.approved))
            }
        }
        return views
    }
}
