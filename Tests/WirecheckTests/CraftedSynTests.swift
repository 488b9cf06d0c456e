import Testing
import WirecheckCore
@testable import WirecheckFlows

/// A SYN combined with FIN or RST is crafted, not a handshake, so it does not choose the
/// flow's originator nor end a mid-stream pickup.
@Suite struct CraftedSynTests {
    @Test func synFinFromServerDoesNotMakeItClient() throws {
        let harness = FlowHarness()
        let update = try #require(harness.tcp("10.0.0.20:502", "10.0.0.5:50000", [.syn, .fin], seq: 1, at: 0))
        #expect(update.flow.context.destPort == 502)
        #expect(update.flow.context.srcIP == IPAddress("10.0.0.5"))
        #expect(update.flow.isMidstream)
    }

    @Test func plainSynStillChoosesOriginator() throws {
        let harness = FlowHarness()
        let update = try #require(harness.tcp("10.0.0.20:502", "10.0.0.5:50000", [.syn], seq: 1, at: 0))
        #expect(update.flow.context.srcPort == 502)
        #expect(!update.flow.isMidstream)
    }
}
