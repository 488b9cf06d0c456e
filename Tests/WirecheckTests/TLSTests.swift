import Testing
import WirecheckCore
@testable import WirecheckProtocols

/// Handshake bytes taken from `tls12_null_cipher.pcap` (openssl s_client and s_server 3.0.19).
enum TLSTestBytes {
    /// One record holding one ClientHello: TLS 1.2, suites NULL-SHA256 and the renegotiation
    /// SCSV, SNI plc.example.test, session_ticket, encrypt_then_mac, extended_master_secret
    /// and signature_algorithms.
    static let clientHelloRecord: [UInt8] = TLSCertificateTests.hexBytes(
        "160301008a0100008603031cd7425c9881bae21b10e625799e05531afa48755cb6471c27cad4faf25411d4000004003b00ff01"
        + "000059000000150013000010706c632e6578616d706c652e74657374002300000016000000170000000d0030002e0403050306"
        + "03080708080809080a080b080408050806040105010601030302030301020103020202040205020602")

    /// A ServerHello handshake message (no record header) choosing NULL-SHA256. Its random
    /// ends in the TLS 1.3 downgrade sentinel "DOWNGRD\u{1}", as a TLS 1.3 server's does.
    static let serverHelloMessage: [UInt8] = TLSCertificateTests.hexBytes(
        "020000390303556d04103e6d341aaccb23ebf579ec2258429b0668526f75444f574e4752440100003b000011ff010001000023"
        + "0000001600000017" + "0000")

    static func record(_ contentType: UInt8, version: UInt16 = 0x0303, _ body: [UInt8]) -> [UInt8] {
        [contentType, UInt8(version >> 8), UInt8(version & 0xff), UInt8(body.count >> 8), UInt8(body.count & 0xff)] + body
    }

    /// A HelloRetryRequest asking for another key share, TLS 1.3 via supported_versions.
    static let helloRetryRequestMessage: [UInt8] = {
        let body: [UInt8] = [0x03, 0x03] + TLSServerHello.helloRetryRequestRandom + [0x00, 0x13, 0x01, 0x00, 0x00, 0x0c,
                             0x00, 0x2b, 0x00, 0x02, 0x03, 0x04, 0x00, 0x33, 0x00, 0x02, 0x00, 0x17]
        return [0x02, 0x00, 0x00, UInt8(body.count)] + body
    }()

    /// An SSLv2-compatible ClientHello (RFC 5246 appendix E.2) offering TLS 1.0 with six
    /// TLS suites and one SSLv2-only spec (0x0700c0), no session id and a 16-byte challenge.
    static let sslv2ClientHello: [UInt8] = [0x80, 0x2e, 0x01, 0x03, 0x01, 0x00, 0x15, 0x00, 0x00, 0x00, 0x10,
                                            0x00, 0x00, 0x39, 0x00, 0x00, 0x38, 0x00, 0x00, 0x35, 0x00, 0x00, 0x16,
                                            0x00, 0x00, 0x13, 0x00, 0x00, 0x0a, 0x07, 0x00, 0xc0]
        + [UInt8](repeating: 0x5a, count: 16)
}

extension TLSTestHarness {
    static func loopback() -> TLSTestHarness {
        TLSTestHarness(flow: FlowContext(flowID: 1, communityID: "", srcIP: .v4(0x0a00_0005), srcPort: 50_000,
                                         destIP: .v4(0x0a00_0014), destPort: 443, ipProtocol: 6, appProto: "tls"))
    }

    func send(_ bytes: [UInt8], _ direction: StreamDirection, packet: UInt64 = 1) {
        feed(bytes, direction: direction, packet: PacketReference(source: 0, number: packet),
             timestamp: Timestamp(seconds: 1_800_000_000, nanoseconds: 0))
    }
}

@Suite struct TLSHandshakeTests {
    @Test func clientHelloFields() throws {
        let body = Array(TLSTestBytes.clientHelloRecord[9...])
        let hello = try body.withUnsafeBytes { try TLSClientHello.parse($0) }
        #expect(hello.legacyVersion == 0x0303)
        #expect(hello.sessionIDLength == 0)
        #expect(hello.cipherSuites == [0x003b, 0x00ff])
        #expect(hello.compressionMethods == [0])
        #expect(hello.extensions == [0x0000, 0x0023, 0x0016, 0x0017, 0x000d])
        #expect(hello.serverName == Array("plc.example.test".utf8))
        #expect(hello.signatureAlgorithms.count == 23)
        #expect(hello.signatureAlgorithms.first == 0x0403)
        #expect(hello.supportedVersions.isEmpty)
        #expect(hello.alpn.isEmpty)
        #expect(hello.highestVersion == 0x0303)
        #expect(!hello.isSSLv2Format)
    }

    @Test func serverHelloFields() throws {
        let body = Array(TLSTestBytes.serverHelloMessage[4...])
        let hello = try body.withUnsafeBytes { try TLSServerHello.parse($0) }
        #expect(hello.legacyVersion == 0x0303)
        #expect(hello.cipherSuite == 0x003b)
        #expect(hello.compressionMethod == 0)
        #expect(hello.extensions == [0xff01, 0x0023, 0x0016, 0x0017])
        #expect(hello.selectedVersion == nil)
        #expect(hello.negotiatedVersion == 0x0303)
        #expect(!hello.isTLS13)
        #expect(!hello.isHelloRetryRequest)
    }

    @Test func helloRetryRequestRecognised() throws {
        let body = Array(TLSTestBytes.helloRetryRequestMessage[4...])
        let hello = try body.withUnsafeBytes { try TLSServerHello.parse($0) }
        #expect(hello.isHelloRetryRequest)
        #expect(hello.selectedVersion == 0x0304)
        #expect(hello.keyShareGroup == 0x0017)

        // The client replies with a compatibility ChangeCipherSpec and a second, cleartext
        // ClientHello, which must still be read.
        let harness = TLSTestHarness.loopback()
        harness.send(TLSTestBytes.clientHelloRecord, .toServer)
        harness.send(TLSTestBytes.record(22, TLSTestBytes.helloRetryRequestMessage), .toClient)
        harness.send(TLSTestBytes.record(20, [1]) + TLSTestBytes.clientHelloRecord, .toServer)
        #expect(harness.parser.helloRetryRequest != nil)
        #expect(harness.parser.statistics.clientHellos == 2)
        #expect(harness.anomalyNames.isEmpty)
    }

    @Test func sslv2ClientHello() throws {
        let body = Array(TLSTestBytes.sslv2ClientHello[3...])
        let hello = try body.withUnsafeBytes { try TLSClientHello.parseSSLv2($0) }
        #expect(hello.isSSLv2Format)
        #expect(hello.legacyVersion == 0x0301)
        #expect(hello.cipherSuites == [0x0039, 0x0038, 0x0035, 0x0016, 0x0013, 0x000a])
        #expect(hello.extensions.isEmpty)

        let harness = TLSTestHarness.loopback()
        harness.send(TLSTestBytes.sslv2ClientHello, .toServer)
        #expect(harness.parser.clientHello == hello)
        #expect(TLSFingerprints.ja3(hello).string == "769,57-56-53-22-19-10,,,")
        #expect(TLSFingerprints.ja4(hello).hasPrefix("t10i060000_"))
        #expect(TLSFingerprints.ja4(hello).hasSuffix("_000000000000"))
    }

    @Test func recordInThreeChunksEqualsOneChunk() {
        let whole = TLSTestHarness.loopback()
        whole.send(TLSTestBytes.clientHelloRecord, .toServer)
        whole.close()

        let split = TLSTestHarness.loopback()
        let bytes = TLSTestBytes.clientHelloRecord
        split.send(Array(bytes[0..<3]), .toServer, packet: 1)
        split.send(Array(bytes[3..<60]), .toServer, packet: 2)
        split.send(Array(bytes[60...]), .toServer, packet: 3)
        split.close()

        #expect(split.parser.clientHello != nil)
        #expect(split.parser.clientHello == whole.parser.clientHello)
        #expect(split.record == whole.record)
        #expect(split.parser.statistics == whole.parser.statistics)
    }

    @Test func wholeFixtureInSmallChunksEqualsSegments() throws {
        let connection = try #require(TLSTestCapture.fixture("tls12_valid_chain").first)
        let bySegment = TLSTestHarness.run(connection)
        for size in [1, 7, 100] {
            let byChunk = TLSTestHarness.run(connection, chunkSize: size)
            #expect(byChunk.record == bySegment.record, "chunk size \(size)")
            #expect(byChunk.parser.statistics == bySegment.parser.statistics, "chunk size \(size)")
        }
    }

    @Test func parseConsumesWholeRecordsOnly() {
        let flow = FlowContext(flowID: 1, communityID: "", srcIP: .v4(1), srcPort: 50_000, destIP: .v4(2), destPort: 443,
                               ipProtocol: 6)
        let context = ApplicationContext(flow: flow, timestamp: .zero, packet: PacketReference(source: 0, number: 1),
                                         transport: .tcp, sink: EventCollector())
        let parser = TLSParser()
        let bytes = TLSTestBytes.clientHelloRecord + [0x17, 0x03, 0x03]
        let consumed = bytes.withUnsafeBytes { parser.parse($0, direction: .toServer, context: context) }
        #expect(consumed == TLSTestBytes.clientHelloRecord.count)
        let partial = Array(TLSTestBytes.clientHelloRecord[0..<20])
        #expect(partial.withUnsafeBytes { TLSParser().parse($0, direction: .toServer, context: context) } == 0)
    }

    @Test func statisticsAdd() {
        var total = TLSStatistics()
        var flow = TLSStatistics()
        flow.records = 3
        flow.encryptedBytesToClient = 100
        flow.cleartextBytesToServer = 20
        flow.clientHellos = 1
        total.add(flow)
        total.add(flow)
        #expect(total.records == 6)
        #expect(total.encryptedBytes == 200)
        #expect(total.cleartextBytes == 40)
        #expect(total.clientHellos == 2)
    }

    @Test func handshakeMessageSplitAcrossRecords() {
        let message = Array(TLSTestBytes.clientHelloRecord[5...])
        let harness = TLSTestHarness.loopback()
        harness.send(TLSTestBytes.record(22, version: 0x0301, Array(message[0..<64])), .toServer)
        #expect(harness.parser.clientHello == nil)
        harness.send(TLSTestBytes.record(22, version: 0x0301, Array(message[64...])), .toServer)
        #expect(harness.parser.clientHello?.serverName == Array("plc.example.test".utf8))
        #expect(harness.parser.statistics.records == 2)
    }

    @Test func severalMessagesInOneRecord() {
        let harness = TLSTestHarness.loopback()
        harness.send(TLSTestBytes.clientHelloRecord, .toServer)
        let serverHelloDone: [UInt8] = [0x0e, 0x00, 0x00, 0x00]
        harness.send(TLSTestBytes.record(22, TLSTestBytes.serverHelloMessage + serverHelloDone), .toClient, packet: 2)
        #expect(harness.parser.serverHello?.cipherSuite == 0x003b)
        // ServerHelloDone ends the server's cleartext flight, so the event is out before close.
        #expect(harness.tlsEvents.count == 1)
        #expect(harness.string("version") == "TLS 1.2")
        #expect(harness.string("cipher_suite") == "TLS_RSA_WITH_NULL_SHA256")
        #expect(harness.tlsEvents.first?.packets == [PacketReference(source: 0, number: 1), PacketReference(source: 0, number: 2)])
    }

    @Test func changeCipherSpecStartsCounting() {
        let harness = TLSTestHarness.loopback()
        harness.send(TLSTestBytes.clientHelloRecord, .toServer)
        harness.send(TLSTestBytes.record(22, TLSTestBytes.serverHelloMessage), .toClient)
        harness.send(TLSTestBytes.record(20, [1]) + TLSTestBytes.record(22, [UInt8](repeating: 0x77, count: 40)), .toServer)
        harness.send(TLSTestBytes.record(23, [UInt8](repeating: 0x99, count: 100)), .toServer)
        #expect(harness.parser.statistics.encryptedBytesToServer == 140)
        #expect(harness.anomalyNames.isEmpty)
    }

    @Test func tls13HidesCertificate() throws {
        let connection = try #require(TLSTestCapture.fixture("tls13_valid_443").first)
        let harness = TLSTestHarness.run(connection)
        #expect(harness.string("version") == "TLS 1.3")
        #expect(harness.string("certificate") == "encrypted (TLS 1.3)")
        #expect(harness.record?["subject"] == nil)
        #expect(harness.string("sni") == "plc.example.test")
        #expect(harness.object("alpn")?["offered"] == .array([.wire(Array("h2".utf8)), .wire(Array("http/1.1".utf8))]))
        #expect(harness.parser.statistics.encryptedBytesToClient > 1000)
        #expect(harness.parser.statistics.encryptedBytesToServer > 0)
    }

    @Test func gapStopsDirection() {
        let harness = TLSTestHarness.loopback()
        harness.send(Array(TLSTestBytes.clientHelloRecord[0..<40]), .toServer)
        harness.gap(direction: .toServer, length: 100)
        harness.send([0x42, 0x42, 0x42, 0x42, 0x42, 0x42], .toServer)
        #expect(harness.anomalyNames.isEmpty)
        #expect(harness.parser.clientHello == nil)
    }
}

@Suite struct TLSAnomalyTests {
    @Test func invalidRecordHeader() {
        let harness = TLSTestHarness.loopback()
        harness.send(Array("GET / HTTP/1.1\r\nHost: plc\r\n\r\n".utf8), .toServer)
        #expect(harness.anomalyNames == ["applayer.tls.invalid_record"])
        #expect(harness.sink.events.first?.message?.contains("content type 71") == true)
    }

    @Test func handshakeTooLong() {
        let harness = TLSTestHarness.loopback()
        harness.send(TLSTestBytes.record(22, [0x0b, 0xff, 0xff, 0xff]), .toClient)
        #expect(harness.anomalyNames == ["applayer.tls.handshake_too_long"])
    }

    @Test func truncatedClientHello() {
        let harness = TLSTestHarness.loopback()
        harness.send(TLSTestBytes.record(22, [0x01, 0x00, 0x00, 0x04, 0x03, 0x03, 0x00, 0x00]), .toServer)
        #expect(harness.anomalyNames == ["applayer.tls.invalid_handshake"])
        #expect(harness.sink.events.first?.message?.contains("random is truncated") == true)
    }

    @Test func certificateNotDER() {
        let harness = TLSTestHarness.loopback()
        harness.send(TLSTestBytes.clientHelloRecord, .toServer)
        let certificate: [UInt8] = [0x0b, 0x00, 0x00, 0x0b, 0x00, 0x00, 0x08, 0x00, 0x00, 0x05, 1, 2, 3, 4, 5]
        harness.send(TLSTestBytes.record(22, TLSTestBytes.serverHelloMessage + certificate), .toClient)
        #expect(harness.anomalyNames == ["applayer.tls.certificate_invalid"])
        #expect(harness.parser.chainLength == 1)
    }

    @Test func validHandshakesRaiseNoAnomaly() throws {
        for name in ["tls13_valid_443", "tls12_valid_chain", "tls10_deprecated", "tls12_self_signed"] {
            let connection = try #require(TLSTestCapture.fixture(name).first)
            #expect(TLSTestHarness.run(connection).anomalyNames.isEmpty, "\(name)")
        }
    }

    @Test func hostileBytesDoNotCrash() {
        // Every prefix and a few corruptions of a real hello, in both directions.
        let bytes = TLSTestBytes.clientHelloRecord
        for length in 0...bytes.count {
            let harness = TLSTestHarness.loopback()
            harness.send(Array(bytes[0..<length]), .toServer)
            harness.send(Array(bytes[0..<length]), .toClient)
            harness.close()
        }
        for index in 5..<bytes.count {
            var corrupted = bytes
            corrupted[index] = 0xff
            let harness = TLSTestHarness.loopback()
            harness.send(corrupted, .toServer)
            harness.close()
        }
    }
}

@Suite struct TLSFindingTests {
    static let expected: [(String, Set<String>)] = [
        ("tls13_valid_443", []),
        ("tls12_valid_chain", []),
        ("tls12_wildcard", []),
        ("tls12_mutual_auth", []),
        ("tls10_deprecated", ["tls.deprecated_version"]),
        ("tls12_expired", ["tls.certificate_expired"]),
        ("tls12_not_yet_valid", ["tls.certificate_not_yet_valid"]),
        ("tls12_self_signed", ["tls.certificate_self_signed"]),
        ("tls12_short_key", ["tls.certificate_short_key"]),
        ("tls12_sha1_signature", ["tls.certificate_sha1_signature"]),
        ("tls12_sni_mismatch", ["tls.sni_mismatch"]),
        ("tls12_null_cipher", ["tls.weak_cipher_offered", "tls.weak_cipher_chosen"]),
        ("tls12_server_alert", ["tls.server_alert"]),
        ("tls12_no_server_hello", ["tls.handshake_incomplete"]),
    ]

    @Test(arguments: expected.map(\.0))
    func fixtureRaisesItsFinding(name: String) throws {
        let expectedRules = try #require(Self.expected.first { $0.0 == name }?.1)
        let connection = try #require(TLSTestCapture.fixture(name).first)
        let harness = TLSTestHarness.run(connection)
        #expect(Set(harness.alertRules) == expectedRules)
        #expect(harness.alertRules.count == expectedRules.count, "each finding once per flow")
        #expect(harness.tlsEvents.count == 1)
        for event in harness.sink.events where event.eventType == "alert" {
            #expect(!event.packets.isEmpty)
            #expect(event.message?.contains("127.0.0.1") == true)
            guard case .object(let alert)? = event.body["alert"], case .object(let key)? = alert["repeat_key"] else {
                Issue.record("alert \(event.alertRule ?? "?") has no repeat_key")
                continue
            }
            #expect(key["server_port"] == .int(connection.flow.destPort))
        }
    }

    @Test func eventSerialisesAsJSON() throws {
        let connection = try #require(TLSTestCapture.fixture("tls12_valid_chain").first)
        let record = try #require(TLSTestHarness.run(connection).record)
        let text = JSONWriter.serialize(record)
        #expect(text.hasPrefix("{\"version\":\"TLS 1.2\",\"sni\":\"plc.example.test\""))
        #expect(text.contains("\"self_signed\":false"))
        #expect(text.contains("\"key\":{\"type\":\"RSA\",\"bits\":2048}"))
    }

    @Test func everyEventHasBaselineFields() throws {
        for (name, _) in Self.expected {
            let connection = try #require(TLSTestCapture.fixture(name).first)
            let harness = TLSTestHarness.run(connection)
            #expect(harness.object("ja3")?["hash"] != nil, "\(name)")
            #expect(harness.string("ja4") != nil, "\(name)")
            #expect(harness.string("sni") != nil, "\(name)")
        }
    }

    @Test func weakCipherListIsBounded() throws {
        // A ClientHello offering TLS_RSA_WITH_NULL_MD5 40 times and nothing else.
        let suites = [UInt8](repeating: 0, count: 80).enumerated().map { $0.offset % 2 == 1 ? UInt8(1) : UInt8(0) }
        let body: [UInt8] = [0x03, 0x03] + [UInt8](repeating: 0x11, count: 32) + [0x00, 0x00, 80] + suites + [0x01, 0x00]
        let harness = TLSTestHarness.loopback()
        harness.send(TLSTestBytes.record(22, [0x01, 0x00, 0x00, UInt8(body.count)] + body), .toServer)
        let alert = try #require(harness.sink.alerts(named: "tls.weak_cipher_offered").first)
        guard case .object(let fields)? = alert.body["alert"], case .array(let listed)? = fields["weak_ciphers"] else {
            Issue.record("weak_cipher_offered has no weak_ciphers list")
            return
        }
        #expect(listed.count == TLSParser.maxListedWeakCiphers)
        #expect(fields["weak_cipher_count"] == .int(40))
    }

    @Test func weakCipherOfferedOncePerFlow() {
        let harness = TLSTestHarness.loopback()
        harness.send(TLSTestBytes.clientHelloRecord, .toServer)
        harness.send(TLSTestBytes.clientHelloRecord, .toServer)
        #expect(harness.alertRules == ["tls.weak_cipher_offered"])
    }

    @Test func incompleteNotRaisedAfterServerAlert() {
        let harness = TLSTestHarness.loopback()
        harness.send(TLSTestBytes.clientHelloRecord, .toServer)
        harness.send(TLSTestBytes.record(21, [2, 40]), .toClient)
        harness.close()
        #expect(harness.alertRules == ["tls.weak_cipher_offered", "tls.server_alert"])
        #expect(harness.record?["alerts"] == .array([.object(["direction": "to_client", "level": "fatal",
                                                              "description": "handshake_failure"])]))
    }

    @Test func warningAlertIsNotAFinding() {
        let harness = TLSTestHarness.loopback()
        harness.send(TLSTestBytes.record(21, [1, 0]), .toClient)
        #expect(harness.alertRules.isEmpty)
    }
}

@Suite struct TLSProbeTests {
    static func probe(_ bytes: [UInt8], _ direction: StreamDirection) -> ProbeResult {
        bytes.withUnsafeBytes { TLSProtocol.probe($0, direction: direction, transport: .tcp) }
    }

    @Test func recognisesHellos() {
        #expect(Self.probe(TLSTestBytes.clientHelloRecord, .toServer) == .match)
        #expect(Self.probe(TLSTestBytes.record(22, TLSTestBytes.serverHelloMessage), .toClient) == .match)
        #expect(Self.probe(TLSTestBytes.sslv2ClientHello, .toServer) == .match)
        #expect(Self.probe(TLSTestBytes.record(21, [2, 40]), .toClient) == .match)
    }

    @Test func rejectsOtherProtocols() {
        #expect(Self.probe(Array("GET / HTTP/1.1\r\n".utf8), .toServer) == .noMatch)
        // A Modbus/TCP read holding registers request.
        #expect(Self.probe([0x00, 0x01, 0x00, 0x00, 0x00, 0x06, 0x01, 0x03, 0x00, 0x00, 0x00, 0x0a], .toServer) == .noMatch)
        #expect(Self.probe(TLSTestBytes.clientHelloRecord, .toClient) == .noMatch)
        #expect(TLSTestBytes.clientHelloRecord.withUnsafeBytes { TLSProtocol.probe($0, direction: .toServer, transport: .udp) } == .noMatch)
    }

    @Test func asksForMoreBytes() {
        #expect(Self.probe([0x16, 0x03], .toServer) == .needMoreData)
        #expect(Self.probe([0x16, 0x03, 0x01, 0x00, 0x8a], .toServer) == .needMoreData)
    }

    @Test func registration() {
        #expect(ProtocolRegistry.all.contains { $0 == TLSProtocol.self })
        #expect(TLSProtocol.name == "tls")
        let ports = TLSProtocol.registeredPorts[.tcp] ?? []
        for port: UInt16 in [443, 4843, 802, 8883, 636, 993, 995, 465, 5061, 3269] {
            #expect(ports.contains(port), "port \(port)")
        }
        #expect(TLSProtocol.cleartextCheckedPorts.isSubset(of: ports))
    }

    @Test func catalogueNamesAreUnique() {
        let ids = TLSCatalogue.alerts.map(\.signatureID)
        #expect(Set(ids).count == ids.count)
        #expect(ids.allSatisfy { (3000...3099).contains($0) })
        #expect(TLSCatalogue.anomalies.allSatisfy { $0.name.hasPrefix("applayer.tls.") })
    }
}

@Suite struct TLSMutationTests {
    /// A fixed-seed generator (SplitMix64), so a failing case can be replayed.
    struct SeededGenerator: RandomNumberGenerator {
        var state: UInt64

        mutating func next() -> UInt64 {
            state &+= 0x9e37_79b9_7f4a_7c15
            var value = state
            value = (value ^ (value >> 30)) &* 0xbf58_476d_1ce4_e5b9
            value = (value ^ (value >> 27)) &* 0x94d0_49bb_1331_11eb
            return value ^ (value >> 31)
        }
    }

    /// Runs every fixture many times with random bytes overwritten and random chunk sizes.
    /// The parser must return without trapping and never consume more than it was given.
    @Test func mutatedFixturesDoNotCrash() throws {
        var generator = SeededGenerator(state: 0x5eed)
        let names = TLSFindingTests.expected.map(\.0)
        for name in names {
            let connection = try #require(TLSTestCapture.fixture(name).first)
            for _ in 0..<40 {
                var mutated = connection
                for index in mutated.segments.indices where !mutated.segments[index].payload.isEmpty {
                    let count = Int.random(in: 0...4, using: &generator)
                    for _ in 0..<count {
                        let position = Int.random(in: 0..<mutated.segments[index].payload.count, using: &generator)
                        mutated.segments[index].payload[position] = UInt8.random(in: 0...255, using: &generator)
                    }
                }
                _ = TLSTestHarness.run(mutated, chunkSize: Int.random(in: 1...600, using: &generator))
            }
        }
    }
}
