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

    /// The `opcua` target's CI smoke run found this: a WriteRequest whose NodeId is a GUID made
    /// `OPCUAReader.copy` add `Int.max` to the read offset, an arithmetic overflow trap.
    @Test func opcuaWriteToGUIDNode() {
        let input: [UInt8] = [
            0x00,                                   // options: TCP
            0x00, 0x00, 0x5E,                       // client to server, 94 bytes
            0x4D, 0x53, 0x47, 0x46,                 // "MSG", final chunk
            0x5E, 0x00, 0x00, 0x00,                 // MessageSize 94
            0x05, 0x00, 0x00, 0x00,                 // SecureChannelId 5
            0x01, 0x00, 0x00, 0x00,                 // TokenId 1
            0x04, 0x00, 0x00, 0x00,                 // SequenceNumber 4
            0x03, 0x00, 0x00, 0x00,                 // RequestId 3
            0x01, 0x00, 0xA1, 0x02,                 // TypeId: four-byte NodeId i=673 (WriteRequest)
            0x00, 0x00,                             // RequestHeader: AuthenticationToken i=0
            0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, // Timestamp
            0x03, 0x00, 0x00, 0x00,                 // RequestHandle 3
            0x00, 0x00, 0x00, 0x00,                 // ReturnDiagnostics
            0xFF, 0xFF, 0xFF, 0xFF,                 // AuditEntryId: null
            0x10, 0x27, 0x00, 0x00,                 // TimeoutHint 10000
            0x00, 0x00, 0x00,                       // AdditionalHeader: null ExtensionObject
            0x01, 0x00, 0x00, 0x00,                 // NodesToWrite: one WriteValue
            0x04, 0x02, 0x00,                       // NodeId: GUID form, namespace 2
            0x72, 0x96, 0x2B, 0x91, 0xFA, 0x75, 0x4A, 0xE6,
            0x8D, 0x28, 0xB4, 0x04, 0xDC, 0x7D, 0xAF, 0x63, // the GUID's 16 bytes
            0x0D, 0x00, 0x00, 0x00,                 // AttributeId 13 (Value)
            0xFF, 0xFF, 0xFF, 0xFF,                 // IndexRange: null
            0x01, 0x06, 0x2A, 0x00, 0x00, 0x00,     // DataValue: Int32 42
        ]
        let collector = FuzzReplay.conversation("opcua", input)
        let transactions = collector.events.filter { $0.eventType == "opcua" }
        #expect(transactions.count == 1)
        #expect(collector.alerts(named: "opcua.write_request").count == 1)
    }
}
