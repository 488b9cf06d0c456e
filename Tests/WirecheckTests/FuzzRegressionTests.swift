import Testing
import WirecheckCore
import WirecheckProtocols

/// Inputs found by the libFuzzer targets in Fuzz/ (see docs/fuzzing.md), kept byte for byte so
/// the bug they found stays fixed. Each test replays its input the way its target did.
@Suite struct FuzzRegressionTests {
    /// Checks that the replay follows the protocol targets' layout: a Modbus request and its
    /// response, as two records, become one transaction.
    @Test func conversationReplayReachesParser() {
        let input: [UInt8] = [
            0x00,                                   // options: TCP
            0x00, 0x00, 0x0C,                       // client to server, 12 bytes
            0x00, 0x01, 0x00, 0x00, 0x00, 0x06, 0x01, 0x03, 0x00, 0x6B, 0x00, 0x03,
            0x05, 0x00, 0x0F,                       // server to client, cut into two chunks, 15 bytes
            0x00, 0x01, 0x00, 0x00, 0x00, 0x09, 0x01, 0x03, 0x06, 0x02, 0x2B, 0x00, 0x00, 0x00, 0x64,
        ]
        let collector = FuzzReplay.conversation("modbus", input)
        let transactions = collector.events.filter { $0.eventType == "modbus" }
        #expect(transactions.count == 1)
        #expect(collector.events.allSatisfy { $0.eventType != "anomaly" })
    }
}
